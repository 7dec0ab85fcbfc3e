"""7/24 KLU Hat (seed 002): every path of ``message_routing`` through the engine.

Forward to a unit, the unit answers through its signed link, the officer accepts or
sends back; the reminder (3 working days) and officer alert (7 working days) timers;
one timer through a real ``sek worker --once`` with SEK_CLOCK_SHIFT.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import clock, conversation, links, runtime, tasks, users, workdays
from engine.errors import ValidationError
from engine.models import HumanTask, InstanceStatus, MailMessage, ReplyLink

# BPMN mails go to group:<slug> / lead:<slug>: the groups need their addresses.
pytestmark = pytest.mark.usefixtures("group_directory")

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
SECRET = "test-secret"

START = {"requester": "Deniz Yıldız", "requester_email": "deniz@example.com", "subject": "Kütüphane",
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


def _start(db, *, locale: str | None = None) -> int:
    """Start as the portal does; with ``locale`` the sender's contact is recorded in that language."""
    with db.tx() as session:
        instance_id = runtime.start_instance(session, "message_routing", data=dict(START), actor="portal").id
        if locale:
            conversation.record_contact(session, instance_id, name=START["requester"],
                                        email=START["requester_email"], locale=locale)
        return instance_id


def _answer_mail(db, instance_id: int, language: str) -> MailMessage:
    """The requester's answer mail (the instance's last), checked: its template, language,
    tracking code (subject and body) and the link to the request's tracking page."""
    mail, code = db.mails(instance_id)[-1], db.instance(instance_id).tracking_code
    assert (mail.recipients, mail.template, mail.language) == (START["requester_email"], "routing_answer", language)
    assert mail.subject.startswith(f"[{code}] "), mail.subject
    footer = "Takip kodunuz" if language == "tr" else "Your tracking code"
    assert f"{footer}: {code}" in mail.body and links.tracking_url(code, START["requester_email"]) in mail.body
    return mail


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


def _answer(db, token: str, text: str = "Hafta sonu 10-18 arası açığız.") -> None:
    with db.tx() as session:
        links.use(session, token, {"answer": text, "answered_by": "Selin Ak"}, actor_label="Selin Ak")


def _working_days_timer(db, instance_id: int, since, days: int):
    """The pending timer due ``days`` working days after ``since``: on a working day, not earlier."""
    due = db.timer_due(instance_id, workdays.add_working_days(since, days))
    assert workdays.is_working_day(due.astimezone(workdays.ZONE).date())
    assert due - since >= timedelta(days=days)
    return due


def _forwarded(db) -> int:
    instance_id = _start(db)
    _complete(db, instance_id, "forward", FORWARD)
    assert db.work() >= 2   # the link service, then its mail
    return instance_id


def test_forward_answer_accept(db):
    instance_id = _forwarded(db)
    assert db.status(instance_id) == InstanceStatus.WAITING
    unit_mail = db.mail_headers(instance_id)
    assert unit_mail == [(FORWARD["unit_email"], "7/24 KLU Hat: biriminize yönlendirilen mesaj")]
    with db.tx() as session:
        body = session.scalar(select(MailMessage.body).where(MailMessage.instance_id == instance_id))
        link = session.scalar(select(ReplyLink).where(ReplyLink.instance_id == instance_id))
        data = runtime.load_instance(session, instance_id).workflow.data
    assert START["message"] in body and FORWARD["unit_note"] in body
    assert START["requester_email"] not in body and START["requester"] not in link.purpose
    token = db.reply_token(instance_id)
    assert token not in str(data)   # only the mail carries the token

    _answer(db, token)
    assert _open_task(db, instance_id).bpmn_id == "review"
    _complete(db, instance_id, "review", {"review_result": "accept"})
    db.work()
    assert db.status(instance_id) == InstanceStatus.COMPLETED
    answer = _answer_mail(db, instance_id, "tr")
    assert answer.subject.endswith("] 7/24 KLU Hat: mesajınıza yanıt")
    assert "mesaja Kütüphane ve Dokümantasyon yanıtı:\n\nHafta sonu 10-18 arası açığız." in answer.body
    actions = db.actions(instance_id)
    for action in ("instance.started", "task.claimed", "task.completed", "link.created",
                   "message.delivered", "link.used", "service.completed"):
        assert action in actions, action


def test_send_back_gives_the_unit_a_new_link(db):
    instance_id = _forwarded(db)
    first = db.reply_token(instance_id)
    _answer(db, first, "Bilmiyoruz.")
    _complete(db, instance_id, "review", {"review_result": "send_back",
                                          "review_note": "Lütfen saatleri yazın."})
    db.work()
    assert db.status(instance_id) == InstanceStatus.WAITING
    mails = db.mail_headers(instance_id)
    assert [m[0] for m in mails] == [FORWARD["unit_email"]] * 2
    second = db.reply_token(instance_id)
    assert second != first
    with db.tx() as session:
        assert "Lütfen saatleri yazın." in links.resolve(session, second).purpose
    _answer(db, second)
    _complete(db, instance_id, "review", {"review_result": "accept"})
    db.work()
    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert db.actions(instance_id).count("link.used") == 2


def test_reminder_after_three_working_days_replaces_the_link(db, every_start):
    instance_id = _forwarded(db)
    first = db.reply_token(instance_id)
    due = _working_days_timer(db, instance_id, every_start, 3)
    assert db.work_at(due - timedelta(minutes=5)) == 0
    db.work_at(due + timedelta(minutes=5))
    mails = db.mail_headers(instance_id)
    assert mails[-1] == (FORWARD["unit_email"], "Hatırlatma: 7/24 KLU Hat: biriminize yönlendirilen mesaj")
    assert len(mails) == 2
    assert "timer.fired" in db.actions(instance_id)
    with db.tx() as session, pytest.raises(ValidationError):
        links.resolve(session, first)   # the reminder's link replaces it
    _answer(db, db.reply_token(instance_id))
    assert _open_task(db, instance_id).bpmn_id == "review"


def test_officer_alert_after_seven_working_days(db, every_start):
    instance_id = _forwarded(db)
    due = _working_days_timer(db, instance_id, every_start, 7)
    db.work_at(due - timedelta(minutes=5))
    assert len(db.mail_headers(instance_id)) == 2         # the unit's mail and its reminder, no alert yet
    db.work_at(due + timedelta(minutes=5))
    mails = db.mail_headers(instance_id)
    assert ("helpdesk@bidb.example.edu.tr",
            "7/24 KLU Hat: Kütüphane ve Dokümantasyon 7 iş günüdür yanıt vermedi") in mails
    assert sum(1 for m in mails if m[1].startswith("Hatırlatma")) == 1
    assert db.status(instance_id) == InstanceStatus.WAITING   # still waits for the unit
    _answer(db, db.reply_token(instance_id))
    _complete(db, instance_id, "review", {"review_result": "accept"})
    db.work()
    assert db.status(instance_id) == InstanceStatus.COMPLETED


def test_reminder_fired_by_sek_worker_once_with_a_shifted_clock(db, sek_worker):
    instance_id = _forwarded(db)
    now = clock.now()
    shift = workdays.add_working_days(now, 3) - now + timedelta(minutes=5)
    sek_worker(shift, SECRET_KEY=SECRET, SEK_BASE_URL="http://sek.test")
    assert db.mail_headers(instance_id)[-1][1].startswith("Hatırlatma: ")
    _answer(db, db.reply_token(instance_id))   # the worker signed with the same secret
    assert _open_task(db, instance_id).bpmn_id == "review"


def test_a_requester_who_chose_english_gets_the_answer_in_english(db):
    instance_id = _start(db, locale="en")
    _complete(db, instance_id, "forward", FORWARD)
    db.work()
    assert db.mail_headers(instance_id) == [(FORWARD["unit_email"], "7/24 KLU Hat: biriminize yönlendirilen mesaj")]
    _answer(db, db.reply_token(instance_id))
    _complete(db, instance_id, "review", {"review_result": "accept"})
    db.work()

    answer = _answer_mail(db, instance_id, "en")
    assert answer.subject.endswith("] 24/7 KLU Line: an answer to your message")
    assert answer.body.startswith("Dear Deniz Yıldız,")
    assert ("The answer of Kütüphane ve Dokümantasyon to the message you sent through the 24/7 KLU Line:\n\n"
            "Hafta sonu 10-18 arası açığız.") in answer.body
