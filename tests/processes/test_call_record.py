"""Call centre (seed 004): every path of ``call_record`` through the engine.

Solved, out of remit (art. 6(5)), lost and dropped calls with a call-back due in one
working day and its escalation, and a call routed to a unit through a signed link with
the reminder and alert timers; one timer through a real ``sek worker --once``. The
working-day timers run from every day of a week and from a holiday's eve (``every_start``).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import clock, links, runtime, tasks, users, workdays
from engine.models import HumanTask, InstanceStatus

# BPMN mails go to group:<slug> / lead:<slug>: the groups need their addresses.
pytestmark = pytest.mark.usefixtures("group_directory")

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
SECRET = "test-secret"
CALLER = {"requester": "Mert Aydın", "phone": "0532 000 00 00",
          "topic": "Yatay geçiş başvurusu", "call_summary": "Başvuru son tarihi soruluyor."}
UNIT = {"unit_name": "Öğrenci İşleri", "unit_email": "ogrenci@example.edu.tr"}


@pytest.fixture(autouse=True)
def _setup(db, deploy, make_user):
    links.configure(SECRET, "http://sek.test")
    deploy(*sorted(BPMN.glob("call_record.*")))
    make_user("cagri", groups=("callcenter",))


def _start(db, outcome: str) -> int:
    with db.tx() as session:
        return runtime.start_instance(session, "call_record", data={**CALLER, "outcome": outcome},
                                      actor="cagri").id


def _open_task(db, instance_id: int) -> HumanTask | None:
    with db.tx() as session:
        rows = list(session.scalars(select(HumanTask).where(
            HumanTask.instance_id == instance_id, HumanTask.state.in_(("ready", "claimed")))))
    assert len(rows) <= 1, rows
    return rows[0] if rows else None


def _complete(db, instance_id: int, bpmn_id: str, data: dict) -> None:
    task = _open_task(db, instance_id)
    assert (task.bpmn_id, task.group_name) == (bpmn_id, "callcenter")
    with db.tx() as session:
        user = users.acting_user(session, "cagri")
        tasks.claim_task(session, task.id, user)
        tasks.complete_task(session, task.id, user, data)


def _shift(days: int) -> timedelta:
    """From the engine's now to just past ``days`` working days later."""
    now = clock.now()
    return workdays.add_working_days(now, days) - now + timedelta(minutes=5)


def _working_days_timer(db, instance_id: int, since, days: int):
    """The pending timer due ``days`` working days after ``since``: on a working day, not earlier."""
    due = db.timer_due(instance_id, workdays.add_working_days(since, days))
    assert workdays.is_working_day(due.astimezone(workdays.ZONE).date())
    assert due - since >= timedelta(days=days)
    return due


def test_answered_and_solved_ends_at_once(db):
    instance_id = _start(db, "solved")
    assert db.instance(instance_id).status == InstanceStatus.COMPLETED
    assert _open_task(db, instance_id) is None and db.mail_headers(instance_id) == []
    assert db.actions(instance_id) == ["instance.started"]


def test_out_of_remit_ends_with_the_article_6_5_note(db):
    instance_id = _start(db, "not_our_remit")
    assert db.instance(instance_id).status == InstanceStatus.COMPLETED
    with db.tx() as session:
        workflow = runtime.load_instance(session, instance_id).workflow
        note = workflow.get_tasks(spec_name="closed_out_of_remit")[0].data["closing_note"]
    assert "madde 6(5)" in note


@pytest.mark.parametrize("outcome", ["lost", "dropped"])
def test_lost_or_dropped_call_is_called_back_within_a_working_day(db, outcome):
    instance_id = _start(db, outcome)
    task = _open_task(db, instance_id)
    assert (task.bpmn_id, task.group_name) == ("call_back", "callcenter")
    assert task.due_at is not None
    assert task.due_at <= workdays.add_working_days(clock.now(), 1) + timedelta(seconds=5)
    _complete(db, instance_id, "call_back", {"callback_result": "reached", "callback_note": "Arandı."})
    assert db.instance(instance_id).status == InstanceStatus.COMPLETED
    assert db.mail_headers(instance_id) == []


def test_an_overdue_call_back_is_escalated_and_stays_open(db, every_start):
    instance_id = _start(db, "lost")
    due = _working_days_timer(db, instance_id, every_start, 1)
    assert db.work_at(due - timedelta(minutes=5)) == 0
    db.work_at(due + timedelta(minutes=1))
    assert db.mail_headers(instance_id) == [("callcenter@bidb.example.edu.tr",
                                             "Çağrı Merkezi: geri arama gecikti (Yatay geçiş başvurusu)")]
    assert "timer.fired" in db.actions(instance_id)
    _complete(db, instance_id, "call_back", {"callback_result": "not_reached"})
    assert db.instance(instance_id).status == InstanceStatus.COMPLETED


def _routed(db) -> int:
    instance_id = _start(db, "needs_unit")
    _complete(db, instance_id, "route", {**UNIT, "unit_note": "Son tarih nedir?"})
    db.work()
    return instance_id


def test_needs_a_unit_routes_through_a_signed_link_then_calls_back(db):
    instance_id = _routed(db)
    assert db.instance(instance_id).status == InstanceStatus.WAITING
    assert db.mail_headers(instance_id) == [(UNIT["unit_email"], "Çağrı Merkezi: biriminize yönlendirilen mesaj")]
    token = db.reply_token(instance_id)
    with db.tx() as session:
        purpose = links.resolve(session, token).purpose
    assert "Yatay geçiş başvurusu" in purpose and "Son tarih nedir?" in purpose
    assert CALLER["phone"] not in purpose and CALLER["requester"] not in purpose
    with db.tx() as session:
        links.use(session, token, {"answer": "15 Ağustos.", "answered_by": "Ece"}, actor_label="Ece")
    task = _open_task(db, instance_id)
    assert (task.bpmn_id, task.group_name) == ("give_answer", "callcenter")
    _complete(db, instance_id, "give_answer", {"callback_result": "reached"})
    assert db.instance(instance_id).status == InstanceStatus.COMPLETED
    actions = db.actions(instance_id)
    for action in ("link.created", "message.delivered", "link.used", "task.completed"):
        assert action in actions


def test_unit_reminded_after_3_and_agents_alerted_after_7_working_days(db, every_start):
    instance_id = _routed(db)
    reminder = _working_days_timer(db, instance_id, every_start, 3)
    alert = _working_days_timer(db, instance_id, every_start, 7)
    assert db.work_at(reminder - timedelta(minutes=5)) == 0
    db.work_at(reminder + timedelta(minutes=1))
    assert db.mail_headers(instance_id)[-1] == (UNIT["unit_email"],
                                                "Hatırlatma: Çağrı Merkezi: biriminize yönlendirilen mesaj")
    assert db.work_at(alert - timedelta(minutes=5)) == 0
    db.work_at(alert + timedelta(minutes=1))
    assert db.mail_headers(instance_id)[-1] == ("callcenter@bidb.example.edu.tr",
                                                "Çağrı Merkezi: Öğrenci İşleri 7 iş günüdür yanıt vermedi")
    assert len(db.mail_headers(instance_id)) == 3
    with db.tx() as session:
        links.use(session, db.reply_token(instance_id), {"answer": "Tamam", "answered_by": "Ece"},
                  actor_label="Ece")
    assert _open_task(db, instance_id).bpmn_id == "give_answer"


def test_call_back_escalation_fired_by_sek_worker_once(db, sek_worker):
    instance_id = _start(db, "dropped")
    sek_worker(_shift(1), SECRET_KEY=SECRET)
    assert [m[0] for m in db.mail_headers(instance_id)] == ["callcenter@bidb.example.edu.tr"]
    assert _open_task(db, instance_id).bpmn_id == "call_back"
