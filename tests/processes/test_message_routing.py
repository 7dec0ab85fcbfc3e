"""7/24 KLU Hat (seed 002): every path of ``message_routing`` through the engine.

Forward to a unit, the unit answers through its signed link, the officer accepts or
sends back; the reminder (3 working days) and officer alert (7 working days) timers;
one timer through a real ``sek worker --once`` with SEK_CLOCK_SHIFT.
"""

from __future__ import annotations

import os
import re
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import clock, links, runtime, tasks, users, workdays
from engine.errors import ValidationError
from engine.jobs import WorkerSettings
from engine.models import AuditEvent, HumanTask, InstanceStatus, MailMessage, ProcessInstance, ReplyLink
from engine.worker import run_due_jobs

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
SEK = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "sek"
FAST = WorkerSettings(backoff_seconds=0.01, poll_seconds=0.01)
SECRET = "test-secret"
LINK = re.compile(r"http://sek\.test/yanit/(\S+)")

START = {"requester": "Deniz Yıldız", "requester_email": "deniz@example.com",
         "message": "Kütüphane hafta sonu neden kapalı?", "message_type": "şikâyet"}
FORWARD = {"unit_name": "Kütüphane ve Dokümantasyon", "unit_email": "kutuphane@example.edu.tr",
           "unit_note": "Lütfen çalışma saatlerini açıklayın."}


@pytest.fixture(autouse=True)
def _setup(db, deploy, make_user):
    links.configure(SECRET, "http://sek.test")
    deploy(BPMN / "message_routing.bpmn", BPMN / "message_routing.start.schema.json",
           BPMN / "message_routing.forward.schema.json", BPMN / "message_routing.forward.ui.json",
           BPMN / "message_routing.review.schema.json", BPMN / "message_routing.review.ui.json")
    make_user("hat", groups=("helpdesk",))
    yield
    clock.set_shift(timedelta(0))


def _start(db) -> int:
    with db.tx() as session:
        return runtime.start_instance(session, "message_routing", data=dict(START), actor="portal").id


def _open_task(db, instance_id: int) -> HumanTask:
    with db.tx() as session:
        rows = list(session.scalars(select(HumanTask).where(
            HumanTask.instance_id == instance_id, HumanTask.state.in_(("ready", "claimed")))))
    assert len(rows) == 1, rows
    return rows[0]


def _complete(db, instance_id: int, bpmn_id: str, data: dict) -> HumanTask:
    task = _open_task(db, instance_id)
    assert task.bpmn_id == bpmn_id
    assert task.group_name == "helpdesk"
    with db.tx() as session:
        user = users.acting_user(session, "hat")
        tasks.claim_task(session, task.id, user)
        tasks.complete_task(session, task.id, user, data)
    return task


def _work(db) -> int:
    return run_due_jobs(db.factory, FAST)


def _mails(db, instance_id: int) -> list[tuple[str, str]]:
    with db.tx() as session:
        return [(m.recipients, m.subject) for m in session.scalars(
            select(MailMessage).where(MailMessage.instance_id == instance_id).order_by(MailMessage.id))]


def _last_token(db, instance_id: int) -> str:
    with db.tx() as session:
        bodies = list(session.scalars(select(MailMessage.body).where(
            MailMessage.instance_id == instance_id).order_by(MailMessage.id.desc())))
    return next(LINK.search(b).group(1) for b in bodies if LINK.search(b))


def _status(db, instance_id: int) -> str:
    with db.tx() as session:
        return session.get(ProcessInstance, instance_id).status


def _actions(db, instance_id: int) -> list[str]:
    with db.tx() as session:
        return list(session.scalars(select(AuditEvent.action).where(
            AuditEvent.instance_id == instance_id).order_by(AuditEvent.id)))


def _answer(db, token: str, text: str = "Hafta sonu 10-18 arası açığız.") -> None:
    with db.tx() as session:
        links.use(session, token, {"answer": text, "answered_by": "Selin Ak"}, actor_label="Selin Ak")


def _shift_to(days: int) -> None:
    """Move the engine's clock just past ``days`` working days from the real now."""
    now = clock.now()
    clock.set_shift(workdays.add_working_days(now, days) - now + timedelta(minutes=5))


def _forwarded(db) -> int:
    instance_id = _start(db)
    _complete(db, instance_id, "forward", FORWARD)
    assert _work(db) >= 2   # the link service, then its mail
    return instance_id


def test_forward_answer_accept(db):
    instance_id = _forwarded(db)
    assert _status(db, instance_id) == InstanceStatus.WAITING
    unit_mail = _mails(db, instance_id)
    assert unit_mail == [(FORWARD["unit_email"], "7/24 KLU Hat: biriminize yönlendirilen mesaj")]
    with db.tx() as session:
        body = session.scalar(select(MailMessage.body).where(MailMessage.instance_id == instance_id))
        link = session.scalar(select(ReplyLink).where(ReplyLink.instance_id == instance_id))
        data = runtime.load_instance(session, instance_id).workflow.data
    assert START["message"] in body and FORWARD["unit_note"] in body
    assert START["requester_email"] not in body and START["requester"] not in link.purpose
    token = _last_token(db, instance_id)
    assert token not in str(data)   # only the mail carries the token

    _answer(db, token)
    assert _open_task(db, instance_id).bpmn_id == "review"
    _complete(db, instance_id, "review", {"review_result": "accept"})
    _work(db)
    assert _status(db, instance_id) == InstanceStatus.COMPLETED
    assert _mails(db, instance_id)[-1] == (START["requester_email"], "7/24 KLU Hat: mesajınıza yanıt")
    with db.tx() as session:
        answer_body = session.scalars(select(MailMessage.body).where(
            MailMessage.instance_id == instance_id).order_by(MailMessage.id.desc())).first()
    assert "Hafta sonu 10-18 arası açığız." in answer_body
    actions = _actions(db, instance_id)
    for action in ("instance.started", "task.claimed", "task.completed", "link.created",
                   "message.delivered", "link.used", "service.completed"):
        assert action in actions, action


def test_send_back_gives_the_unit_a_new_link(db):
    instance_id = _forwarded(db)
    first = _last_token(db, instance_id)
    _answer(db, first, "Bilmiyoruz.")
    _complete(db, instance_id, "review", {"review_result": "send_back",
                                          "review_note": "Lütfen saatleri yazın."})
    _work(db)
    assert _status(db, instance_id) == InstanceStatus.WAITING
    mails = _mails(db, instance_id)
    assert [m[0] for m in mails] == [FORWARD["unit_email"]] * 2
    second = _last_token(db, instance_id)
    assert second != first
    with db.tx() as session:
        assert "Lütfen saatleri yazın." in links.resolve(session, second).purpose
    _answer(db, second)
    _complete(db, instance_id, "review", {"review_result": "accept"})
    _work(db)
    assert _status(db, instance_id) == InstanceStatus.COMPLETED
    assert _actions(db, instance_id).count("link.used") == 2


def test_reminder_after_three_working_days_replaces_the_link(db):
    instance_id = _forwarded(db)
    first = _last_token(db, instance_id)
    _shift_to(3)
    _work(db)
    mails = _mails(db, instance_id)
    assert mails[-1] == (FORWARD["unit_email"], "Hatırlatma: 7/24 KLU Hat: biriminize yönlendirilen mesaj")
    assert len(mails) == 2
    assert "timer.fired" in _actions(db, instance_id)
    with db.tx() as session, pytest.raises(ValidationError):
        links.resolve(session, first)   # the reminder's link replaces it
    _answer(db, _last_token(db, instance_id))
    assert _open_task(db, instance_id).bpmn_id == "review"


def test_officer_alert_after_seven_working_days(db):
    instance_id = _forwarded(db)
    _shift_to(7)
    _work(db)
    mails = _mails(db, instance_id)
    assert ("bidb-helpdesk@example.edu.tr",
            "7/24 KLU Hat: Kütüphane ve Dokümantasyon 7 iş günüdür yanıt vermedi") in mails
    assert sum(1 for m in mails if m[1].startswith("Hatırlatma")) == 1
    assert _status(db, instance_id) == InstanceStatus.WAITING   # still waits for the unit
    _answer(db, _last_token(db, instance_id))
    _complete(db, instance_id, "review", {"review_result": "accept"})
    _work(db)
    assert _status(db, instance_id) == InstanceStatus.COMPLETED


def test_reminder_fired_by_sek_worker_once_with_a_shifted_clock(db, tmp_path):
    instance_id = _forwarded(db)
    now = clock.now()
    shift = workdays.add_working_days(now, 3) - now + timedelta(minutes=5)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SEK_DATA_DIR")}
    env.update(SEK_DATA_DIR=str(tmp_path), DATABASE_URL=db.url, PYTHONUTF8="1", SECRET_KEY=SECRET,
               SEK_BASE_URL="http://sek.test", SEK_CLOCK_SHIFT=f"PT{int(shift.total_seconds())}S")
    proc = subprocess.run([str(SEK), "worker", "--once"], env=env, capture_output=True,
                          encoding="utf-8", timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert _mails(db, instance_id)[-1][1].startswith("Hatırlatma: ")
    _answer(db, _last_token(db, instance_id))   # the worker signed with the same secret
    assert _open_task(db, instance_id).bpmn_id == "review"
