"""Staff notices through the real worker: a new task mails the group's "immediate"
members (not the one who caused it, nobody inactive or without an address), the daily
digest lists the unclaimed tasks of "digest" users' groups and comes back tomorrow, and
a task past its due date is mailed once to its assignee or its group."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from engine import clock, links, notices, runtime, tasks, users
from engine.jobs import WorkerSettings
from engine.models import HumanTask, Job, JobKind, JobState, MailMessage, ProcessInstance
from engine.worker import ensure_periodic_jobs, run_due_jobs, run_worker

SUPPORT = Path(__file__).resolve().parents[1] / "data" / "support"
FAST = WorkerSettings(backoff_seconds=0.01, poll_seconds=0.01, digest_hour=8, timezone="Europe/Istanbul",
                      overdue_minutes=15)
ISTANBUL = ZoneInfo("Europe/Istanbul")


@pytest.fixture(autouse=True)
def _setup():
    links.configure("notice-secret", "http://sek.test")
    yield
    clock.set_shift(timedelta(0))


@pytest.fixture
def desk(db, deploy):
    """The help desk: one member per notice mode, plus an inactive one and one without e-mail."""
    deploy(SUPPORT)
    with db.tx() as session:
        for name, mode, email in [("ayse", "immediate", "ayse@ktu.edu.tr"), ("bora", "digest", "bora@ktu.edu.tr"),
                                  ("cem", "off", "cem@ktu.edu.tr"), ("deniz", "immediate", "deniz@ktu.edu.tr"),
                                  ("ece", "immediate", None), ("fatma", "immediate", "fatma@ktu.edu.tr")]:
            users.add_user(session, name, groups=("helpdesk",), password="parola123", email=email)
            notices.set_notify_mode(session, name, mode, actor="admin")
        users.add_user(session, "gul", groups=("network",), password="parola123", email="gul@ktu.edu.tr")
        users.set_active(session, "deniz", False, actor="admin")
    return db


def _start(db, actor="fatma") -> int:
    with db.tx() as session:
        return runtime.start_instance(session, "support_ticket", data={"subject": "Yazıcı çalışmıyor"},
                                      actor=actor).id


def _mails(db) -> list[MailMessage]:
    with db.tx() as session:
        return list(session.scalars(select(MailMessage).order_by(MailMessage.id)))


def _task(db, instance_id) -> HumanTask:
    with db.tx() as session:
        return session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id))


def _code(db, instance_id) -> str:
    with db.tx() as session:
        return session.get(ProcessInstance, instance_id).tracking_code


def _shift_to(when: datetime) -> None:
    clock.set_shift(timedelta(0))
    clock.set_shift(max(when - clock.now(), timedelta(0)))


def test_a_new_task_mails_the_groups_immediate_members_but_not_its_cause(desk):
    db = desk
    instance_id = _start(db, actor="fatma")
    task = _task(db, instance_id)
    with db.tx() as session:     # one notice job, written with the task
        [job] = session.scalars(select(Job).where(Job.kind == JobKind.NOTICE))
        assert job.task_uuid == task.task_uuid

    assert run_due_jobs(db.factory, FAST) == 0          # the notice and its mail ran, but are not the request's
    with db.tx() as session:
        assert session.get(Job, job.id).state == JobState.DONE
    [mail] = _mails(db)
    assert mail.recipients == "ayse@ktu.edu.tr"          # not bora (digest), cem (off), deniz (inactive),
    assert (mail.template, mail.language, mail.instance_id) == ("task_new", "tr", None)   # ece, fatma (the cause)
    assert mail.subject.startswith("Yeni iş: Talebi değerlendir ve yönlendir")
    assert f"http://sek.test/tasks/{task.id}" in mail.body and "Destek Masası ve 7/24 Hat grubunuza" in mail.body
    assert mail.state == "outbox"                        # no SMTP configured: kept for admins


def test_a_new_task_is_mailed_in_the_members_language_and_not_once_claimed(desk):
    db = desk
    with db.tx() as session:
        users.get_user(session, "ayse").locale = "en"
    _start(db, actor="portal")
    run_due_jobs(db.factory, FAST)
    [to_ayse, to_fatma] = sorted(_mails(db), key=lambda m: m.recipients)
    assert (to_ayse.recipients, to_ayse.language) == ("ayse@ktu.edu.tr", "en")
    assert to_ayse.subject.startswith("New task: ") and "A new task arrived in your group Help Desk and 24/7 Hotline:" in to_ayse.body
    assert (to_fatma.recipients, to_fatma.language) == ("fatma@ktu.edu.tr", "tr")

    # claimed before the worker came round: nobody is told any more
    second = _start(db, actor="portal")
    with db.tx() as session:
        tasks.claim_task(session, _task(db, second).id, users.acting_user(session, "ayse"))
    run_due_jobs(db.factory, FAST)
    assert len(_mails(db)) == 2


def test_a_group_without_immediate_members_gets_no_notice_job(desk):
    db = desk
    with db.tx() as session:
        for name in ("ayse", "fatma", "ece"):
            notices.set_notify_mode(session, name, "digest", actor="admin")
    _start(db)
    with db.tx() as session:
        assert session.scalars(select(Job).where(Job.kind == JobKind.NOTICE)).all() == []
    assert run_due_jobs(db.factory, FAST) == 0


def test_the_daily_digest_lists_unclaimed_tasks_and_comes_back_tomorrow(desk):
    db = desk
    first = _start(db)
    second = _start(db)
    run_due_jobs(db.factory, FAST)
    with db.tx() as session:
        tasks.claim_task(session, _task(db, second).id, users.acting_user(session, "ayse"))
    before = len(_mails(db))

    assert ensure_periodic_jobs(db.factory, FAST) == 2
    assert ensure_periodic_jobs(db.factory, FAST) == 0        # one of each, whatever runs it again
    with db.tx() as session:
        digest = session.scalar(select(Job).where(Job.kind == JobKind.DIGEST))
    due = digest.due_at.astimezone(ISTANBUL)
    assert (due.hour, due.minute) == (8, 0) and digest.due_at > clock.now()

    _shift_to(digest.due_at + timedelta(minutes=1))
    run_due_jobs(db.factory, FAST)
    digests = [m for m in _mails(db)[before:] if m.template == "digest"]
    [mail] = digests
    assert mail.recipients == "bora@ktu.edu.tr"
    assert mail.subject == "Günlük özet: gruplarınızda 1 sahipsiz iş"
    assert f"/tasks/{_task(db, first).id}" in mail.body and f"/tasks/{_task(db, second).id}" not in mail.body
    with db.tx() as session:
        again = session.get(Job, digest.id)
        assert again.state == JobState.PENDING
        assert again.due_at - digest.due_at == timedelta(days=1)

    assert run_due_jobs(db.factory, FAST) == 0              # once a day


def test_an_overdue_task_is_mailed_once_to_its_assignee_or_else_its_group(desk):
    db = desk
    claimed = _start(db)
    unclaimed = _start(db)
    run_due_jobs(db.factory, FAST)
    with db.tx() as session:
        tasks.claim_task(session, _task(db, claimed).id, users.acting_user(session, "bora"))
    ensure_periodic_jobs(db.factory, FAST)
    before = len(_mails(db))
    due = _task(db, claimed).due_at                          # PT8H from the start

    _shift_to(due - timedelta(hours=1))
    run_due_jobs(db.factory, FAST)
    assert [m for m in _mails(db)[before:] if m.template == "overdue"] == []

    _shift_to(due + timedelta(minutes=20))
    run_due_jobs(db.factory, FAST)
    overdue = sorted((m.recipients, m.subject) for m in _mails(db)[before:] if m.template == "overdue")
    subject = "Süresi geçen iş: Talebi değerlendir ve yönlendir [{}]"
    assert overdue == [("ayse@ktu.edu.tr", subject.format(_code(db, unclaimed))),      # the group's "immediate"
                       ("bora@ktu.edu.tr", subject.format(_code(db, claimed))),        # its assignee (digest)
                       ("fatma@ktu.edu.tr", subject.format(_code(db, unclaimed)))]
    _shift_to(due + timedelta(hours=2))
    run_due_jobs(db.factory, FAST)
    assert len([m for m in _mails(db)[before:] if m.template == "overdue"]) == 3    # told once


def test_sek_worker_makes_sure_the_periodic_jobs_exist(desk):
    db = desk
    run_worker(db.factory, FAST, once=True)
    with db.tx() as session:
        kinds = sorted(session.scalars(select(Job.kind).where(Job.state == JobState.PENDING)))
    assert kinds == ["digest", "overdue"]


def test_the_next_digest_hour_is_local_time():
    now = datetime(2026, 3, 10, 4, 59, tzinfo=UTC)           # 07:59 in Istanbul
    assert notices.next_digest_at(now, 8, "Europe/Istanbul") == datetime(2026, 3, 10, 5, 0, tzinfo=UTC)
    assert notices.next_digest_at(now + timedelta(minutes=1), 8, "Europe/Istanbul") == datetime(
        2026, 3, 11, 5, 0, tzinfo=UTC)
