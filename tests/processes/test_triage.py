"""Triage of user_support requests: priority moves due dates, duplicates follow their main
request's answer (each requester in their own language), a reopened request goes back to
whoever answered it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import conversation, instances, priority, runtime, tasks, users
from engine.errors import ConflictError, NotFoundError, ValidationError
from engine.models import AuditEvent, HumanTask, InstanceStatus, ProcessInstance, RequestFact, User
from engine.workdays import ZONE
from processes import duplicates

ROOT = Path(__file__).resolve().parents[2]
BPMN = ROOT / "bpmn"
KEY = "user_support"
ANSWER = "Kampüs ağındaki kesinti giderildi; yeniden bağlanabilirsiniz."


@pytest.fixture
def site(db, deploy, make_user):
    make_user("hakan.yardim", groups=("helpdesk",))
    make_user("selin.sistem", groups=("systems",))
    make_user("mert.ag", groups=("network",))
    make_user("deniz.ag", groups=("network",))
    deploy(*sorted(BPMN.glob(f"{KEY}.*")))
    return db


def _start(db, email: str, locale: str = "tr", category: str = "Kablosuz Ağ (eduroam)") -> int:
    instance_id = db.start(KEY, {"requester": email.split("@")[0], "requester_email": email, "category": category,
                                 "subject": "eduroam bağlanmıyor", "message": "Kampüste eduroam'a bağlanamıyorum."})
    with db.tx() as session:   # as the portal does: who asked, in which language
        conversation.record_contact(session, instance_id, name=email.split("@")[0], email=email, locale=locale)
    return instance_id


def _open(db, instance_id: int) -> HumanTask | None:
    with db.tx() as session:
        row = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                     HumanTask.state.in_(("ready", "claimed"))))
        if row is not None:
            session.expunge(row)
        return row


def _fact(db, instance_id: int) -> RequestFact:
    with db.tx() as session:
        fact = session.get(RequestFact, instance_id)
        session.expunge(fact)
        return fact


def _answer(db, instance_id: int, username: str, data: dict) -> None:
    row = _open(db, instance_id)
    with db.tx() as session:
        tasks.complete_task(session, row.id, users.acting_user(session, username), data)
    db.work()


def _local(moment):
    return moment.astimezone(ZONE).replace(tzinfo=None).isoformat(" ", "minutes")


# -- priority ------------------------------------------------------------------------------


def test_priority_moves_the_due_date_of_open_tasks_and_is_in_the_history(site):
    db = site
    instance_id = _start(db, "elif@ktu.edu.tr")          # Monday 2 November 2026, 10:00
    assert _local(_open(db, instance_id).due_at) == "2026-11-04 10:00"   # network: 2 working days
    assert _fact(db, instance_id).priority == "normal"

    for level, due in [("urgent", "2026-11-02 14:00"),   # four working hours
                       ("high", "2026-11-03 10:00"),     # one working day
                       ("low", "2026-11-06 10:00"),      # twice the process's two days
                       ("normal", "2026-11-04 10:00")]:
        with db.tx() as session:
            priority.set_priority(session, instance_id, level, actor="hakan.yardim")
        assert _local(_open(db, instance_id).due_at) == due, level
        fact = _fact(db, instance_id)
        assert (fact.priority, _local(fact.due_at)) == (level, due)   # still the first team's task

    with db.tx() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance_id,
                                                          AuditEvent.action == "request.priority")).all()
        assert [(e.actor, e.data["before"], e.data["after"]) for e in events] == [
            ("hakan.yardim", "normal", "urgent"), ("hakan.yardim", "urgent", "high"),
            ("hakan.yardim", "high", "low"), ("hakan.yardim", "low", "normal")]
        assert events[0].data["tasks"][0]["after"].startswith("2026-11-02T14:00")
    with db.tx() as session, pytest.raises(ValidationError):
        priority.set_priority(session, instance_id, "asap", actor="hakan.yardim")


def test_working_hours_run_over_to_the_next_working_day():
    from datetime import datetime

    from engine.workdays import add_working_hours
    friday_late = datetime(2026, 11, 6, 16, 0, tzinfo=ZONE)
    assert _local(add_working_hours(friday_late, 4)) == "2026-11-09 11:00"   # 1.5 h Friday, 2.5 h Monday
    saturday = datetime(2026, 11, 7, 12, 0, tzinfo=ZONE)
    assert _local(add_working_hours(saturday, 4)) == "2026-11-09 12:30"


def test_an_urgent_category_of_the_routing_table_starts_urgent(db, deploy, make_user, tmp_path):
    make_user("mert.ag", groups=("network",))
    table = (BPMN / f"{KEY}.routing.dmn").read_text(encoding="utf-8")
    marker = '<outputEntry id="rule_vpn_priority"><text>"normal"</text>'
    assert marker in table
    (tmp_path / f"{KEY}.routing.dmn").write_text(table.replace(marker, marker.replace("normal", "urgent")),
                                                 encoding="utf-8")
    deploy(*[p for p in sorted(BPMN.glob(f"{KEY}.*")) if not p.name.endswith(".dmn")],
           tmp_path / f"{KEY}.routing.dmn")
    instance_id = _start(db, "elif@ktu.edu.tr", category="VPN Bağlantısı")
    assert _fact(db, instance_id).priority == "urgent"
    assert _local(_open(db, instance_id).due_at) == "2026-11-02 14:00"
    assert db.actions(instance_id)[:2] == ["instance.started", "request.priority"]


# -- duplicates ----------------------------------------------------------------------------


def test_one_answer_reaches_every_linked_requester_in_their_own_language(site):
    db = site
    main = _start(db, "elif@ktu.edu.tr", "tr")
    copy = _start(db, "john@ktu.edu.tr", "en")
    code = db.instance(main).tracking_code
    with db.tx() as session:
        duplicates.link_request(session, copy, code.lower(), by="hakan.yardim")

    assert db.human_tasks(copy) == [("resolve", "network", "cancelled")]     # its team's work stopped
    assert _fact(db, copy).duplicate_of == main
    with db.tx() as session:
        [note] = conversation.messages_of(session, copy)
        assert note.author_kind == "system"
        assert note.body.startswith(f"This request was merged with request #{main}")

    _answer(db, main, "mert.ag", {"action": "answer", "answer": ANSWER})

    [main_mail] = db.mails(main)
    assert (main_mail.recipients, main_mail.template, main_mail.language) == ("elif@ktu.edu.tr", "answer", "tr")
    [copy_mail] = db.mails(copy)
    subject = db.requester_subject(copy, copy_mail, "answer", "en", to="john@ktu.edu.tr")
    assert subject.startswith("Your request has been answered")
    assert ANSWER in copy_mail.body and "reopen" in copy_mail.body
    assert db.status(copy) == InstanceStatus.WAITING                          # may be reopened, like any answer
    with db.tx() as session:
        bodies = [m.body for m in conversation.messages_of(session, copy)]
        assert bodies[-1] == ANSWER                                         # on its tracking page too
    assert "request.duplicate_linked" in db.actions(copy)
    assert "request.duplicate_added" in db.actions(main)
    assert _fact(db, copy).resolved_at is not None


def test_link_guards(site):
    db = site
    main, copy, other = (_start(db, f"u{n}@ktu.edu.tr") for n in range(3))
    code = {i: db.instance(i).tracking_code for i in (main, copy, other)}

    def link(instance_id, main_code):
        with db.tx() as session:
            duplicates.link_request(session, instance_id, main_code, by="hakan.yardim")

    with pytest.raises(ValidationError, match="itself"):
        link(main, code[main])
    with pytest.raises(NotFoundError):
        link(main, "NOSUCHCODE")
    link(copy, code[main])
    with pytest.raises(ValidationError, match=f"duplicate of #{main}: link to #{main}"):
        link(other, code[copy])                     # no chains: the main of a main
    with pytest.raises(ValidationError, match="has duplicates of its own"):
        link(main, code[other])
    with pytest.raises(ValidationError, match="already a duplicate"):
        link(copy, code[other])
    _answer(db, other, "mert.ag", {"action": "answer", "answer": ANSWER})
    fresh = _start(db, "u9@ktu.edu.tr")
    with pytest.raises(ValidationError, match="already answered"):
        link(fresh, code[other])
    assert _fact(db, fresh).duplicate_of is None and db.human_tasks(fresh) == [("resolve", "network", "ready")]


def test_unlinking_sends_the_request_back_to_its_team(site):
    db = site
    main, copy = _start(db, "elif@ktu.edu.tr"), _start(db, "john@ktu.edu.tr", "en")
    with db.tx() as session:
        duplicates.link_request(session, copy, db.instance(main).tracking_code, by="hakan.yardim")
    with db.tx() as session:
        assert duplicates.unlink_request(session, copy, by="hakan.yardim") == main
    assert db.human_tasks(copy) == [("resolve", "network", "cancelled"), ("resolve", "network", "ready")]
    assert _fact(db, copy).duplicate_of is None
    assert db.actions(main)[-1] == "request.duplicate_removed"
    with db.tx() as session:
        assert conversation.messages_of(session, copy)[-1].body.startswith(
            f"This request is no longer merged with request #{main}")
        with pytest.raises(ConflictError):
            duplicates.unlink_request(session, copy, by="hakan.yardim")


def test_a_main_request_routed_elsewhere_sends_its_duplicates_back(site):
    db = site
    main, copy = _start(db, "elif@ktu.edu.tr"), _start(db, "john@ktu.edu.tr")
    with db.tx() as session:
        duplicates.link_request(session, copy, db.instance(main).tracking_code, by="hakan.yardim")
    _answer(db, main, "mert.ag", {"action": "outside", "outside_unit": "Yapı İşleri",
                                  "outside_note": "Binadaki kablolama Yapı İşlerinin işidir."})
    assert db.status(main) == InstanceStatus.COMPLETED
    assert db.human_tasks(copy)[-1] == ("resolve", "network", "ready")
    assert _fact(db, copy).duplicate_of is None
    with db.tx() as session:
        [unlinked] = session.scalars(select(AuditEvent).where(
            AuditEvent.instance_id == copy, AuditEvent.action == "request.duplicate_unlinked")).all()
        assert (unlinked.actor, unlinked.data["reason"]) == (None, "outside")


def test_a_cancelled_main_request_sends_its_duplicates_back(site):
    db = site
    main, copy = _start(db, "elif@ktu.edu.tr"), _start(db, "john@ktu.edu.tr", "en")
    with db.tx() as session:
        duplicates.link_request(session, copy, db.instance(main).tracking_code, by="hakan.yardim")
    with db.tx() as session:   # as `sek cancel` does
        runtime.cancel_instance(session, main, actor="admin", reason="yanlışlıkla açıldı")
        assert duplicates.release_duplicates(session, main, "cancelled") == [copy]
    assert db.human_tasks(copy)[-1] == ("resolve", "network", "ready")
    assert _fact(db, copy).duplicate_of is None


# -- reopened: back to who answered --------------------------------------------------------


def test_a_reopened_request_goes_to_who_answered_it_while_still_in_the_group(site):
    db = site
    kept, left = _start(db, "elif@ktu.edu.tr"), _start(db, "john@ktu.edu.tr")
    _answer(db, kept, "deniz.ag", {"action": "answer", "answer": ANSWER})
    _answer(db, left, "mert.ag", {"action": "answer", "answer": ANSWER})
    with db.tx() as session:   # mert leaves the network team
        user = session.scalar(select(User).where(User.username == "mert.ag"))
        user.groups = [g for g in user.groups if g.slug != "network"]
    db.work_at(db.instance(kept).created_at + timedelta(days=1))
    for instance_id, email in ((kept, "elif@ktu.edu.tr"), (left, "john@ktu.edu.tr")):
        with db.tx() as session:
            conversation.reopen(session, session.get(ProcessInstance, instance_id), "Hâlâ bağlanamıyorum.",
                                email=email)
        db.work()

    reopened = _open(db, kept)
    assert (reopened.state, reopened.assignee) == ("claimed", "deniz.ag")
    with db.tx() as session:
        [returned] = session.scalars(select(AuditEvent).where(AuditEvent.instance_id == kept,
                                                              AuditEvent.action == "task.returned")).all()
        assert (returned.actor, returned.data["assignee"], returned.data["task_id"]) == (None, "deniz.ag", reopened.id)
    unclaimed = _open(db, left)                     # mert left the team: the group's queue
    assert (unclaimed.state, unclaimed.assignee) == ("ready", None)


def test_a_request_back_with_its_team_opens_a_form_with_no_decision_in_it(site):
    """The last answer or question is history (the conversation keeps it): the returned
    task's form, filled from the process data, must not offer it again, chosen and written."""
    db = site
    decision = ("action", "answer", "question", "unit_name", "unit_email", "route_note", "outside_unit",
                "outside_note")
    answered, asked = _start(db, "elif@ktu.edu.tr"), _start(db, "john@ktu.edu.tr")
    _answer(db, answered, "deniz.ag", {"action": "answer", "answer": ANSWER})
    _answer(db, asked, "deniz.ag", {"action": "ask", "question": "Hangi binadasınız?"})
    with db.tx() as session:
        conversation.reopen(session, session.get(ProcessInstance, answered), "Hâlâ bağlanamıyorum.",
                            email="elif@ktu.edu.tr")
        conversation.requester_reply(session, session.get(ProcessInstance, asked), "B blokta.",
                                     email="john@ktu.edu.tr")
    db.work()
    for instance_id in (answered, asked):
        row = _open(db, instance_id)
        assert (row.bpmn_id, row.assignee) == ("resolve", "deniz.ag")
        with db.tx() as session:
            data = instances.task_data(session, row)
        assert {key: data[key] for key in decision if data.get(key)} == {}, instance_id
