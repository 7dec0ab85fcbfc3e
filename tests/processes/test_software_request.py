"""SEK 08-04-04 software_request through the engine: evaluation, the department head's
decision (approve, reject, defer with the timer bringing the request back), the
reminder after five working days, and the separate software_development instance."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import clock, conversation, forms, runtime, tasks, users, workdays
from engine.errors import ValidationError
from engine.models import HumanTask, InstanceStatus, Job, ProcessInstance

# BPMN mails go to group:<slug> / lead:<slug>: the groups need their addresses.
pytestmark = pytest.mark.usefixtures("group_directory")

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
REQUESTER = "aylin.kara@example.edu.tr"
START = {
    "requester": "Aylin Kara", "requester_email": REQUESTER, "unit": "Öğrenci İşleri Daire Başkanlığı",
    "subject": "Mezuniyet anketi", "software_name": "Mezuniyet anketi", "need_description": "Mezun olan öğrencilere çevrim içi anket.",
    "user_group": "öğrenci", "user_count": 4000, "desired_date": "2027-03-01",
    "existing_system_could_serve": False,
}
EVALUATION = {"effort_days": 12.5, "priority": "orta", "technical_note": "BYS'den mezun listesi alınır.",
              "recommendation": "onay"}


@pytest.fixture
def deployed(db, deploy, make_user):
    make_user("yazilimci", groups=("software",))
    make_user("baskan", groups=("management",))
    deploy(*sorted(BPMN.glob("software_request.*")), *sorted(BPMN.glob("software_development.*")))
    return db


def start(db, data=None, *, locale: str | None = None) -> int:
    """Start as the portal does; with ``locale`` the requester's contact is recorded in that language."""
    with db.tx() as session:
        instance_id = runtime.start_instance(session, "software_request", data=data or START, actor="portal").id
        if locale:
            conversation.record_contact(session, instance_id, name="Aylin Kara", email=REQUESTER, locale=locale)
        return instance_id


def requester_subject(db, instance_id: int, mail, template: str, language: str = "tr") -> str:
    return db.requester_subject(instance_id, mail, template, language, to=REQUESTER)


def open_task(db, instance_id: int, bpmn_id: str) -> HumanTask:
    with db.tx() as session:
        return session.scalar(select(HumanTask).where(
            HumanTask.instance_id == instance_id, HumanTask.bpmn_id == bpmn_id,
            HumanTask.state.in_(("ready", "claimed"))))


def complete(db, instance_id: int, bpmn_id: str, username: str, data: dict) -> None:
    row = open_task(db, instance_id, bpmn_id)
    assert row is not None, f"no open {bpmn_id} in instance {instance_id}"
    with db.tx() as session:
        user = users.acting_user(session, username)
        tasks.claim_task(session, row.id, user)
        tasks.complete_task(session, row.id, user, data)


def data(db, instance_id: int) -> dict:
    with db.tx() as session:
        return dict(runtime.load_instance(session, instance_id).workflow.data)


def last_task_data(db, instance_id: int, bpmn_id: str) -> dict:
    with db.tx() as session:
        return dict(runtime.load_instance(session, instance_id).workflow.get_tasks(spec_name=bpmn_id)[-1].data)


def pending_timers(db, instance_id: int) -> list[Job]:
    with db.tx() as session:
        return list(session.scalars(select(Job).where(Job.instance_id == instance_id, Job.kind == "timer",
                                                      Job.state == "pending")))


def evaluated(db) -> int:
    instance_id = start(db)
    assert db.human_tasks(instance_id) == [("evaluate", "software", "ready")]
    assert open_task(db, instance_id, "evaluate").due_at is not None
    complete(db, instance_id, "evaluate", "yazilimci", EVALUATION)
    assert db.human_tasks(instance_id)[-1] == ("decide", "management", "ready")
    return instance_id


def in_days(days: int) -> str:
    """The ISO date ``days`` after today by the engine's (pinned) clock, in Istanbul."""
    return (clock.now().astimezone(workdays.ZONE).date() + timedelta(days=days)).isoformat()


def test_approval_starts_software_development_as_a_separate_instance(deployed):
    db = deployed
    instance_id = evaluated(db)
    decide = open_task(db, instance_id, "decide")
    assert decide.due_at is not None and decide.name == "Daire Başkanı kararı"
    complete(db, instance_id, "decide", "baskan", {"decision": "onay", "decision_note": "Bahar dönemine yetişsin."})
    assert db.instance(instance_id).status == InstanceStatus.WAITING

    db.work()

    request = db.instance(instance_id)
    assert request.status == InstanceStatus.COMPLETED
    development = data(db, instance_id)["development"]
    with db.tx() as session:
        [dev] = session.scalars(select(ProcessInstance).where(ProcessInstance.process_key == "software_development"))
    assert development == {"instance_id": dev.id, "tracking_code": dev.tracking_code}
    assert dev.status == InstanceStatus.RUNNING and dev.started_by is None
    dev_data = last_task_data(db, dev.id, "analysis")
    for name, value in {**START, **EVALUATION, "decision_note": "Bahar dönemine yetişsin.",
                        "request_instance_id": instance_id, "request_tracking_code": request.tracking_code}.items():
        assert dev_data[name] == value, name
    assert "decision" not in dev_data
    assert db.human_tasks(dev.id) == [("analysis", "software", "ready")]
    assert db.actions(dev.id) == ["instance.started"]

    [approved] = db.mails(instance_id)
    assert requester_subject(db, instance_id, approved, "software_approved") == (
        f"Yazılım talebiniz onaylandı: Mezuniyet anketi (takip kodu {dev.tracking_code})")
    assert dev.tracking_code in approved.body and "SEK 08-04-05" in approved.body
    assert db.actions(instance_id) == ["instance.started", "task.claimed", "task.completed", "task.claimed",
                                       "task.completed", "service.completed", "service.completed"]
    assert db.human_tasks(instance_id) == [("evaluate", "software", "completed"),
                                           ("decide", "management", "completed")]
    assert pending_timers(db, instance_id) == []


def test_rejection_mails_the_reason_and_starts_nothing(deployed):
    db = deployed
    instance_id = evaluated(db)
    complete(db, instance_id, "decide", "baskan",
             {"decision": "ret", "rejection_reason": "EBYS'nin anket modülü bu ihtiyacı karşılıyor."})
    db.work()

    assert db.instance(instance_id).status == InstanceStatus.COMPLETED
    [rejected] = db.mails(instance_id)
    assert requester_subject(db, instance_id, rejected, "software_rejected") == (
        "Yazılım talebiniz reddedildi: Mezuniyet anketi")
    assert "EBYS'nin anket modülü bu ihtiyacı karşılıyor." in rejected.body
    with db.tx() as session:
        assert session.scalar(select(ProcessInstance.id).where(
            ProcessInstance.process_key == "software_development")) is None
    assert db.actions(instance_id)[-1] == "service.completed"
    assert db.actions(instance_id).count("service.completed") == 1


@pytest.mark.parametrize("decision, field", [
    ({"decision": "ret"}, "rejection_reason"),
    ({"decision": "ret", "rejection_reason": ""}, "rejection_reason"),
    ({"decision": "erteleme"}, "reconsider_date"),
    ({"decision": "belki"}, "decision"),
])
def test_a_decision_needs_its_reason_or_date(deployed, decision, field):
    db = deployed
    instance_id = evaluated(db)
    with pytest.raises(ValidationError) as caught:
        complete(db, instance_id, "decide", "baskan", decision)
    assert field in {problem.location for problem in caught.value.problems}
    assert open_task(db, instance_id, "decide") is not None


@pytest.mark.parametrize("change, field", [
    ({}, None),
    ({"user_count": 0}, "user_count"),
    ({"user_group": "misafir"}, "user_group"),
    ({"desired_date": "01.03.2027"}, "desired_date"),
    ({"need_description": ""}, "need_description"),
])
def test_start_form(change, field):
    """The start form (portal and staff start page) takes the requests these tests start."""
    schema = json.loads((BPMN / "software_request.start.schema.json").read_text(encoding="utf-8"))
    own = {name: value for name, value in {**START, **change}.items() if name in schema["properties"]}
    if field is None:
        forms.validate_form_data(schema, own)
        return
    with pytest.raises(ValidationError) as caught:
        forms.validate_form_data(schema, own)
    assert {problem.location for problem in caught.value.problems} == {field}


def test_evaluation_form_refuses_zero_effort(deployed):
    db = deployed
    instance_id = start(db)
    with pytest.raises(ValidationError) as caught:
        complete(db, instance_id, "evaluate", "yazilimci", {**EVALUATION, "effort_days": 0})
    assert {problem.location for problem in caught.value.problems} == {"effort_days"}


def test_deferral_until_today_is_refused(deployed):
    db = deployed
    instance_id = evaluated(db)
    assert db.refused_fields(instance_id, "decide", "baskan",
                             {"decision": "erteleme", "reconsider_date": in_days(0)}) == ["reconsider_date"]
    assert open_task(db, instance_id, "decide").state == "ready"     # nothing was saved
    assert db.mails(instance_id) == []


def test_deferral_tells_the_requester_and_the_timer_brings_the_request_back(deployed, clock_at):
    db = deployed
    instance_id = evaluated(db)
    reconsider = in_days(10)
    complete(db, instance_id, "decide", "baskan", {"decision": "erteleme", "reconsider_date": reconsider})
    db.work()

    assert db.instance(instance_id).status == InstanceStatus.WAITING
    [deferred] = db.mails(instance_id)
    assert requester_subject(db, instance_id, deferred, "software_deferred") == (
        "Yazılım talebiniz ertelendi: Mezuniyet anketi")
    assert date.fromisoformat(reconsider).strftime("%d.%m.%Y") in deferred.body
    [timer] = pending_timers(db, instance_id)     # the reminder's timer went with the decision
    due = datetime.fromisoformat(reconsider + "T08:30:00+03:00")
    assert timer.due_at == due

    clock_at(due - timedelta(hours=1))
    assert db.work() == 0
    clock_at(due + timedelta(minutes=1))
    assert db.work() == 1
    assert db.actions(instance_id)[-1] == "timer.fired"
    assert db.human_tasks(instance_id) == [("evaluate", "software", "completed"),
                                           ("decide", "management", "completed"),
                                           ("decide", "management", "ready")]
    assert db.instance(instance_id).status == InstanceStatus.RUNNING
    [reminder] = pending_timers(db, instance_id)     # the returned decision is reminded again
    assert abs((reminder.due_at - workdays.add_working_days(clock.now(), 5)).total_seconds()) < 60

    complete(db, instance_id, "decide", "baskan", {"decision": "onay"})
    db.work()
    assert db.instance(instance_id).status == InstanceStatus.COMPLETED
    assert [requester_subject(db, instance_id, m, m.template).split(":")[0] for m in db.mails(instance_id)] == [
        "Yazılım talebiniz ertelendi", "Yazılım talebiniz onaylandı"]


def test_reminder_after_five_working_days_keeps_the_decision_open(deployed, clock_at, every_start):
    db = deployed
    instance_id = evaluated(db)
    [timer] = pending_timers(db, instance_id)
    expected = workdays.add_working_days(every_start, 5)
    assert abs((timer.due_at - expected).total_seconds()) < 60
    assert workdays.is_working_day(timer.due_at.astimezone(workdays.ZONE).date())

    clock_at(timer.due_at - timedelta(hours=1))
    assert db.work() == 0
    clock_at(timer.due_at + timedelta(minutes=1))
    assert db.work() == 3          # timer, reminder service, its mail

    [reminder] = db.mails(instance_id)
    assert reminder.recipients == "management@bidb.example.edu.tr"
    assert reminder.subject == "Hatırlatma: karar bekleyen yazılım talebi: Mezuniyet anketi"
    assert "12.5 kişi-gün" in reminder.body and "Aylin Kara" in reminder.body
    assert open_task(db, instance_id, "decide").state == "ready"
    assert db.instance(instance_id).status == InstanceStatus.RUNNING
    assert db.actions(instance_id)[-2:] == ["timer.fired", "service.completed"]

    complete(db, instance_id, "decide", "baskan", {"decision": "ret", "rejection_reason": "Bütçe yok."})
    db.work()
    assert db.instance(instance_id).status == InstanceStatus.COMPLETED
    assert len(db.mails(instance_id)) == 2


def test_sek_worker_with_a_shifted_clock_returns_a_deferred_request(deployed, sek_worker):
    db = deployed
    instance_id = evaluated(db)
    complete(db, instance_id, "decide", "baskan", {"decision": "erteleme", "reconsider_date": in_days(3)})

    def worker(shift: str) -> str:
        return sek_worker(shift).stdout

    worker("PT0S")                                   # the deferral mail only
    [deferred], code = db.mails(instance_id), db.instance(instance_id).tracking_code
    assert (deferred.template, deferred.subject) == (
        "software_deferred", f"[{code}] Yazılım talebiniz ertelendi: Mezuniyet anketi")
    assert f"/takip/{code}?k=" in deferred.body       # signed with the worker's own secret
    assert open_task(db, instance_id, "decide") is None
    worker("P1D")
    assert open_task(db, instance_id, "decide") is None
    assert "1 job(s) run" in worker("P4D")
    again = open_task(db, instance_id, "decide")
    assert (again.group_name, again.state) == ("management", "ready")
    assert db.actions(instance_id)[-1] == "timer.fired"


def test_a_requester_who_chose_english_gets_every_mail_in_english(deployed):
    db = deployed
    subjects = {}
    for decision in ({"decision": "erteleme", "reconsider_date": in_days(10)},
                     {"decision": "ret", "rejection_reason": "Bütçe yok."}, {"decision": "onay"}):
        instance_id = start(db, locale="en")
        complete(db, instance_id, "evaluate", "yazilimci", EVALUATION)
        complete(db, instance_id, "decide", "baskan", decision)
        db.work()
        [mail] = db.mails(instance_id)
        subjects[mail.template] = (requester_subject(db, instance_id, mail, mail.template, "en"), mail.body)

    deferred, rejected, approved = subjects["software_deferred"], subjects["software_rejected"], subjects[
        "software_approved"]
    assert deferred[0] == "Your software request has been deferred: Mezuniyet anketi"
    assert f"deferred by the Department until {date.fromisoformat(in_days(10)):%d.%m.%Y}" in deferred[1]
    assert rejected[0] == "Your software request has been rejected: Mezuniyet anketi"
    assert "Reason: Bütçe yok." in rejected[1]
    with db.tx() as session:
        [dev] = session.scalars(select(ProcessInstance).where(ProcessInstance.process_key == "software_development"))
    assert approved[0] == f"Your software request has been approved: Mezuniyet anketi (tracking code {dev.tracking_code})"
    assert f"follow the development with the tracking code {dev.tracking_code}" in approved[1]
