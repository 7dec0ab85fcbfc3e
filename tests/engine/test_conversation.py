"""The requester's side of a request (engine.conversation): finding it by code and e-mail,
their open requests, replies that answer the team's question, reopening, rating."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from engine import conversation, instances, runtime, tasks, users
from engine.conversation import Stage
from engine.errors import ConflictError, ValidationError
from engine.jobs import WorkerSettings
from engine.models import HumanTask, InstanceStatus, ProcessInstance, ServiceRating
from engine.worker import run_due_jobs

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
EMAIL = "Elif.Demir@ktu.edu.tr"
FAST = WorkerSettings(backoff_seconds=0.01, poll_seconds=0.01)


@pytest.fixture
def support(db, deploy, make_user):
    make_user("selin.sistem", groups=("systems",))
    deploy(*sorted(BPMN.glob("user_support.*")))

    def start(email: str = EMAIL, subject: str = "E-posta kotam doldu") -> ProcessInstance:
        with db.tx() as session:
            instance = runtime.start_instance(session, "user_support", actor="portal", data={
                "requester": "Elif Demir", "requester_email": email, "category": "Personel E-posta",
                "subject": subject, "message": "Kotam doldu."})
            conversation.record_contact(session, instance.id, name="Elif Demir", email=email, locale="tr")
            conversation.add_message(session, instance.id, "Kotam doldu.", author_kind="requester", author=email)
        run_due_jobs(db.factory, FAST)
        return instance

    return start


def _resolve(db, instance_id: int, data: dict) -> None:
    with db.tx() as session:
        row = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                     HumanTask.bpmn_id == "resolve",
                                                     HumanTask.state.in_(("ready", "claimed"))))
        tasks.complete_task(session, row.id, users.acting_user(session, "selin.sistem"), data)
    run_due_jobs(db.factory, FAST)


def _open_resolve_tasks(db, instance_id: int) -> int:
    with db.tx() as session:
        return len(session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                           HumanTask.bpmn_id == "resolve",
                                                           HumanTask.state.in_(("ready", "claimed")))).all())


def test_find_request_needs_the_code_and_the_e_mail_together(db, support):
    mine = support()
    support(email="baska@ktu.edu.tr")
    with db.tx() as session:
        assert conversation.find_request(session, mine.tracking_code.lower(), " elif.demir@KTU.edu.tr ").id == mine.id
        assert conversation.find_request(session, mine.tracking_code, "baska@ktu.edu.tr") is None
        assert conversation.find_request(session, "ABCDEFGHJK", EMAIL) is None
        assert conversation.find_request(session, "", EMAIL) is None
        assert conversation.find_request(session, mine.tracking_code, "") is None


def test_open_requests_of_an_address_leave_out_finished_and_foreign_ones(db, support):
    first, second = support(subject="Birinci"), support(subject="İkinci")
    support(email="baska@ktu.edu.tr")
    with db.tx() as session:
        runtime.cancel_instance(session, first.id, actor="selin.sistem")
    with db.tx() as session:
        assert [r.id for r in conversation.open_requests_of(session, "ELIF.DEMIR@ktu.edu.tr")] == [second.id]
        assert conversation.open_requests_of(session, "nobody@ktu.edu.tr") == []


def test_a_reply_to_the_teams_question_goes_back_to_the_team(db, support):
    instance = support()
    _resolve(db, instance.id, {"action": "ask", "question": "Hangi hesabınız?"})
    assert _open_resolve_tasks(db, instance.id) == 0
    with db.tx() as session:
        assert conversation.stage_of(session, session.get(ProcessInstance, instance.id)) == Stage.WAITING_FOR_YOU
        conversation.requester_reply(session, session.get(ProcessInstance, instance.id), "elif.demir hesabım",
                                     email=EMAIL)
    run_due_jobs(db.factory, FAST)

    assert _open_resolve_tasks(db, instance.id) == 1
    with db.tx() as session:
        stored = session.get(ProcessInstance, instance.id)
        assert conversation.stage_of(session, stored) == Stage.IN_PROGRESS
        mine = [m.body for m in conversation.messages_of(session, instance.id) if m.author_kind == "requester"]
        assert mine == ["Kotam doldu.", "elif.demir hesabım"]
        assert "message.delivered" in [e.action for e in instances.events_of(session, instance.id)]


def test_a_reply_nobody_asked_for_waits_for_staff_and_a_finished_request_takes_none(db, support):
    instance = support()
    with db.tx() as session:
        conversation.requester_reply(session, session.get(ProcessInstance, instance.id), "Ek bilgi", email=EMAIL)
    assert _open_resolve_tasks(db, instance.id) == 1      # the team's task simply stays
    with db.tx() as session:
        runtime.cancel_instance(session, instance.id, actor="selin.sistem")
    with db.tx() as session, pytest.raises(ConflictError):
        conversation.requester_reply(session, session.get(ProcessInstance, instance.id), "Hâlâ?", email=EMAIL)
    with db.tx() as session:
        assert conversation.stage_of(session, session.get(ProcessInstance, instance.id)) == Stage.CLOSED
        assert [m.body for m in conversation.messages_of(session, instance.id)
                if m.author_kind == "requester"] == ["Kotam doldu.", "Ek bilgi"]


def test_reopen_is_refused_until_the_request_is_resolved_then_goes_back_to_the_team(db, support):
    instance = support()
    with db.tx() as session, pytest.raises(ConflictError):
        conversation.reopen(session, session.get(ProcessInstance, instance.id), "Olmadı", email=EMAIL)
    _resolve(db, instance.id, {"action": "answer", "answer": "Kotanızı artırdık."})
    with db.tx() as session:
        stored = session.get(ProcessInstance, instance.id)
        assert conversation.stage_of(session, stored) == Stage.RESOLVED
        assert conversation.reopen_deadline(session, instance.id) is not None
        with pytest.raises(ValidationError):
            conversation.reopen(session, stored, "   ", email=EMAIL)
    with db.tx() as session:
        conversation.reopen(session, session.get(ProcessInstance, instance.id), "Hâlâ posta alamıyorum",
                            email=EMAIL)
    run_due_jobs(db.factory, FAST)
    assert _open_resolve_tasks(db, instance.id) == 1
    with db.tx() as session:
        assert conversation.reopen_deadline(session, instance.id) is None


def test_rating_takes_1_to_5_only_once_resolved_and_rating_again_replaces_it(db, support):
    instance = support()
    with db.tx() as session:
        stored = session.get(ProcessInstance, instance.id)
        with pytest.raises(ConflictError):
            conversation.rate(session, stored, 5, email=EMAIL)
        for wrong in (0, 6, "5"):
            with pytest.raises(ValidationError) as caught:
                conversation.rate(session, stored, wrong, email=EMAIL)
            assert [p.location for p in caught.value.problems] == ["score"]
        with pytest.raises(ValidationError) as caught:
            conversation.rate(session, stored, 3, "x" * 2001, email=EMAIL)
        assert [p.location for p in caught.value.problems] == ["comment"]
    _resolve(db, instance.id, {"action": "answer", "answer": "Kotanızı artırdık."})
    with db.tx() as session:
        stored = session.get(ProcessInstance, instance.id)
        assert conversation.can_rate(session, stored)
        conversation.rate(session, stored, 2, "Yavaş", email=EMAIL)
    with db.tx() as session:
        conversation.rate(session, session.get(ProcessInstance, instance.id), 5, " Teşekkürler ", email=EMAIL)
    with db.tx() as session:
        rows = session.scalars(select(ServiceRating)).all()
        assert [(r.instance_id, r.score, r.comment) for r in rows] == [(instance.id, 5, "Teşekkürler")]
        assert session.get(ProcessInstance, instance.id).status == InstanceStatus.WAITING
