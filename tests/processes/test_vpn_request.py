"""SEK 08-04-34 VPN Hizmeti Alma: every path of ``vpn_request`` through the engine.

Dates sent back, the unit head's rejection and approval, the unit head's reminder after
two working days, the set-up, the end-date timer (17:00 Istanbul) and the revocation;
the end-date timer once through a real ``sek worker --once`` with SEK_CLOCK_SHIFT.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import clock, conversation, forms, runtime, users
from engine.errors import ValidationError
from engine.models import AuditEvent, InstanceStatus, utcnow
from engine.workdays import ZONE, add_working_days, is_working_day
from processes import portal, rules

ROOT = Path(__file__).resolve().parents[2]
BPMN = ROOT / "bpmn"
KEY = "vpn_request"
REQUESTER = "elif.sahin@example.edu.tr"
KIMYA_HEADS = "unithead-kimya"                 # the head group of the requester's unit
KIMYA_HEAD_EMAIL = "kimya.baskan@example.edu.tr"
SETUP = {"vpn_username": "elif.sahin-vpn",
         "setup_notes": "FortiClient ile vpn.example.edu.tr adresine bağlanın; yalnızca BYS sunucusuna erişim açıktır."}


def _today() -> date:
    """Today by the engine's (pinned) clock, in Istanbul."""
    return clock.now().astimezone(ZONE).date()


def _day(offset: int):
    """The ISO date ``offset`` days from the pinned today, read when the test runs (not at collection)."""
    return lambda: (_today() + timedelta(days=offset)).isoformat()


def _request_data(**changes) -> dict:
    data = {
        "requester": "Elif Şahin", "requester_email": REQUESTER, "unit": "Kimya Bölümü", "subject": "VPN erişimi",
        "purpose": "Evden BYS not girişi ve laboratuvar sunucusunun yönetimi",
        "target_systems": ["bys.example.edu.tr", "10.12.4.20"],
        "start_date": _today().isoformat(), "end_date": (_today() + timedelta(days=14)).isoformat(),
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture(autouse=True)
def _setup(db, deploy, make_user):
    deploy(*sorted(BPMN.glob(f"{KEY}.*")))
    with db.tx() as session:
        users.add_user(session, "kimya.baskan", groups=(KIMYA_HEADS,), email=KIMYA_HEAD_EMAIL)
        unit = portal.add_unit(session, "Kimya Bölümü", actor="admin")
        portal.set_unit_head_group(session, unit.id, KIMYA_HEADS, actor="admin")
    make_user("ag.uzmani", groups=("network",))


def _start(db, **changes) -> int:
    return db.start(KEY, _request_data(**changes))


def _start_in_english(db, **changes) -> int:
    """Start as the portal does for a requester who chose English: their contact says ``en``."""
    with db.tx() as session:
        instance_id = runtime.start_instance(session, KEY, data=_request_data(**changes), actor="portal").id
        conversation.record_contact(session, instance_id, name="Elif Şahin", email=REQUESTER, locale="en")
    db.work()
    return instance_id


def _requester_subject(db, instance_id: int, mail, template: str, language: str = "tr") -> str:
    return db.requester_subject(instance_id, mail, template, language, to=REQUESTER)


def _approved_and_set_up(db) -> int:
    instance_id = _start(db)
    db.complete(instance_id, "approve_request", "kimya.baskan", {"approval": "approve"})
    db.complete(instance_id, "set_up_vpn", "ag.uzmani", dict(SETUP))
    return instance_id


# -- the start data ------------------------------------------------------------------------


def _one_year_after(day: date) -> date:
    return day.replace(year=day.year + 1, day=28 if (day.month, day.day) == (2, 29) else day.day)


def test_the_start_form_asks_for_purpose_systems_and_real_dates():
    schema = json.loads((BPMN / f"{KEY}.start.schema.json").read_text(encoding="utf-8"))
    forms.validate_form_data(schema, _request_data())
    with pytest.raises(ValidationError) as caught:
        forms.validate_form_data(schema, _request_data(purpose=None, target_systems=[], end_date="2026-13-01"))
    assert sorted(p.location for p in caught.value.problems) == ["end_date", "purpose", "target_systems"]


@pytest.mark.parametrize(("changes", "field", "reason"), [
    ({"start_date": _day(-1)}, "start_date", "Başlangıç tarihi geçmiş bir gün olamaz."),
    ({"end_date": _day(0)}, "end_date", "Bitiş tarihi başlangıç tarihinden sonra olmalıdır."),
    ({"start_date": _day(5), "end_date": _day(2)}, "end_date", "Bitiş tarihi başlangıç tarihinden sonra olmalıdır."),
    ({"end_date": lambda: (_one_year_after(_today()) + timedelta(days=1)).isoformat()}, "end_date",
     lambda: f"VPN erişimi en fazla bir yıl için verilir: bitiş tarihi en geç {_one_year_after(_today()):%d.%m.%Y} "
             "olabilir."),
])
def test_an_impossible_period_is_refused_under_its_field(db, changes, field, reason):
    """The date rules of processes/vpn_request/validate.py: nothing starts, nobody is mailed."""
    changes = {key: value() if callable(value) else value for key, value in changes.items()}
    reason = reason() if callable(reason) else reason
    with db.tx() as session, pytest.raises(ValidationError) as caught:
        runtime.start_instance(session, KEY, data=_request_data(**changes), actor="portal")
    [problem] = caught.value.problems
    assert (problem.location, rules.worded(problem, "tr")) == (field, reason)
    assert rules.worded(problem, "en") == problem.message != reason     # the API and the CLI say it in English
    assert db.refused_start(KEY, _request_data(**changes)) == [field]


@pytest.mark.parametrize(("changes", "fields"), [
    ({"end_date": "2027-02-30"}, ["end_date"]),
    ({"start_date": "yarın"}, ["start_date"]),
    ({"end_date": None}, ["end_date"]),
])
def test_dates_that_are_no_dates_never_start(db, changes, fields):
    """The start form is checked at every door (portal, API, CLI) before anything starts."""
    assert db.refused_start(KEY, _request_data(**changes)) == fields


def test_a_period_of_exactly_one_year_goes_to_the_unit_head(db):
    end = _one_year_after(_today())
    before = utcnow()
    instance_id = _start(db, end_date=end.isoformat())

    assert db.status(instance_id) == InstanceStatus.RUNNING
    assert db.human_tasks(instance_id) == [("approve_request", KIMYA_HEADS, "ready")]
    task = db.task(instance_id, "approve_request")
    assert abs((task.due_at - add_working_days(before, 2)).total_seconds()) < 60
    # the reminder is the only timer while the unit head decides
    [reminder] = db.timer_dues(instance_id)
    assert abs((reminder - add_working_days(before, 2)).total_seconds()) < 60
    assert db.mails(instance_id) == []


# -- the unit head -------------------------------------------------------------------------


def test_the_unit_head_rejects_and_the_requester_gets_the_reason(db):
    instance_id = _start(db)
    assert db.refused_fields(instance_id, "approve_request", "kimya.baskan", {"approval": "reject"}) == [
        "rejection_reason"]                                       # a rejection says why

    db.complete(instance_id, "approve_request", "kimya.baskan",
                {"approval": "reject", "rejection_reason": "Bu iş için kampüs içinden çalışılabilir."})

    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert db.human_tasks(instance_id) == [("approve_request", KIMYA_HEADS, "completed")]
    assert db.timer_dues(instance_id) == []                 # the reminder went with the task
    [mail] = db.mails(instance_id)
    assert _requester_subject(db, instance_id, mail, "vpn_rejected") == "VPN talebiniz onaylanmadı"
    assert "Gerekçe: Bu iş için kampüs içinden çalışılabilir." in mail.body
    assert db.actions(instance_id) == [
        "instance.started", "task.claimed", "task.completed", "service.completed"]


def test_the_unit_head_is_reminded_after_two_working_days_and_can_still_decide(db, clock_at, every_start):
    instance_id = _start(db)
    [due] = db.timer_dues(instance_id)
    assert due == db.timer_due(instance_id, add_working_days(every_start, 2))
    assert is_working_day(due.astimezone(ZONE).date()) and due - every_start >= timedelta(days=2)
    clock_at(due - timedelta(hours=1))
    assert db.work() == 0                                         # not yet

    clock_at(due + timedelta(minutes=1))
    assert db.work() == 3                                         # the timer, the mail task, the mail

    [mail] = db.mails(instance_id)
    assert (mail.recipients, mail.subject) == (KIMYA_HEAD_EMAIL, "Hatırlatma: onay bekleyen VPN talebi (Elif Şahin)")
    assert "iki iş günüdür" in mail.body and "Evden BYS not girişi" in mail.body
    assert db.human_tasks(instance_id) == [("approve_request", KIMYA_HEADS, "ready")]
    assert db.status(instance_id) == InstanceStatus.RUNNING
    clock_at(due + timedelta(days=3))
    assert db.work() == 0                                         # one reminder, not one a day

    db.complete(instance_id, "approve_request", "kimya.baskan", {"approval": "approve"})
    assert db.human_tasks(instance_id)[-1] == ("set_up_vpn", "network", "ready")
    assert db.actions(instance_id) == [
        "instance.started", "timer.fired", "service.completed", "task.claimed", "task.completed"]


def test_a_request_naming_no_unit_goes_to_every_unit_head_who_is_reminded(db, clock_at):
    """Started by the API or the CLI without a unit: the fallback group decides, the history says why."""
    with db.tx() as session:
        users.add_user(session, "birim", groups=("unitheads",), email="birim@example.edu.tr")
    instance_id = _start(db, unit=None)

    assert db.human_tasks(instance_id) == [("approve_request", "unitheads", "ready")]
    assert db.actions(instance_id) == ["instance.started", "task.unit_head_fallback"]
    with db.tx() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "task.unit_head_fallback"))
        assert {k: event.data[k] for k in ("bpmn_id", "unit", "reason", "group")} == {
            "bpmn_id": "approve_request", "unit": None, "reason": "no_unit", "group": "unitheads"}
    [due] = db.timer_dues(instance_id)
    clock_at(due + timedelta(minutes=1))
    db.work()
    [mail] = db.mails(instance_id)
    assert mail.recipients == "birim@example.edu.tr"          # the group that has the task, not the unit's heads


# -- approved: set up, then revoked at the end date ----------------------------------------


def test_approved_access_is_set_up_and_revoked_at_17_on_the_end_date(db, clock_at):
    instance_id = _start(db)
    db.complete(instance_id, "approve_request", "kimya.baskan", {"approval": "approve"})
    assert db.human_tasks(instance_id) == [("approve_request", KIMYA_HEADS, "completed"),
                                           ("set_up_vpn", "network", "ready")]
    assert db.refused_fields(instance_id, "set_up_vpn", "ag.uzmani", {"vpn_username": "x"}) == ["setup_notes"]

    db.complete(instance_id, "set_up_vpn", "ag.uzmani", dict(SETUP))

    [instructions] = db.mails(instance_id)
    assert _requester_subject(db, instance_id, instructions, "vpn_instructions") == "VPN erişiminiz tanımlandı"
    end = _today() + timedelta(days=14)
    assert "VPN profili / kullanıcı adı: elif.sahin-vpn" in instructions.body
    assert f"Geçerlilik: {_today():%d.%m.%Y} - {end:%d.%m.%Y}" in instructions.body
    assert "bys.example.edu.tr, 10.12.4.20" in instructions.body and "FortiClient" in instructions.body
    assert db.status(instance_id) == InstanceStatus.WAITING

    ends_at = datetime.combine(end, time(17, 0), ZONE)
    assert db.timer_dues(instance_id) == [ends_at.astimezone(UTC)]
    clock_at(ends_at - timedelta(minutes=5))
    assert db.work() == 0                                         # access lasts the whole last day
    clock_at(ends_at + timedelta(minutes=1))
    assert db.work() == 1

    assert db.human_tasks(instance_id)[-1] == ("revoke_vpn", "network", "ready")
    revoke = db.task(instance_id, "revoke_vpn")
    assert abs((revoke.due_at - add_working_days(utcnow(), 1)).total_seconds()) < 60
    assert db.refused_fields(instance_id, "revoke_vpn", "ag.uzmani", {"revoked": False}) == ["revoked"]
    db.complete(instance_id, "revoke_vpn", "ag.uzmani", {"revoked": True, "revoke_note": "Profil silindi."})

    assert db.status(instance_id) == InstanceStatus.COMPLETED
    instructions, ended = db.mails(instance_id)
    assert _requester_subject(db, instance_id, ended, "vpn_access_ended") == "VPN erişiminiz sona erdi"
    assert "(elif.sahin-vpn) kaldırıldı" in ended.body
    assert db.human_tasks(instance_id) == [("approve_request", KIMYA_HEADS, "completed"),
                                           ("set_up_vpn", "network", "completed"),
                                           ("revoke_vpn", "network", "completed")]
    assert db.actions(instance_id) == [
        "instance.started", "task.claimed", "task.completed", "task.claimed", "task.completed",
        "service.completed", "timer.fired", "task.claimed", "task.completed", "service.completed"]


def test_the_end_date_timer_fires_through_sek_worker_once(db, sek_worker):
    instance_id = _approved_and_set_up(db)
    [ends_at] = db.timer_dues(instance_id)

    def worker(shift: timedelta) -> str:
        return sek_worker(shift).stdout.strip()

    assert worker(ends_at - utcnow() - timedelta(hours=2)) == "0 job(s) run"
    assert db.human_tasks(instance_id)[-1] == ("set_up_vpn", "network", "completed")
    assert worker(ends_at - utcnow() + timedelta(minutes=2)) == "1 job(s) run"

    assert db.human_tasks(instance_id)[-1] == ("revoke_vpn", "network", "ready")
    assert db.status(instance_id) == InstanceStatus.RUNNING
    assert db.actions(instance_id)[-1] == "timer.fired"


# -- a requester who chose English ---------------------------------------------------------


def test_a_requester_who_chose_english_gets_every_mail_in_english(db, clock_at):
    rejected = _start_in_english(db)
    db.complete(rejected, "approve_request", "kimya.baskan",
                {"approval": "reject", "rejection_reason": "Bu iş için kampüs içinden çalışılabilir."})
    [mail] = db.mails(rejected)
    assert _requester_subject(db, rejected, mail, "vpn_rejected", "en") == "Your VPN request was not approved"
    assert "Reason: Bu iş için kampüs içinden çalışılabilir." in mail.body

    approved = _start_in_english(db)
    db.complete(approved, "approve_request", "kimya.baskan", {"approval": "approve"})
    db.complete(approved, "set_up_vpn", "ag.uzmani", dict(SETUP))
    [mail] = db.mails(approved)
    assert _requester_subject(db, approved, mail, "vpn_instructions", "en") == "Your VPN access has been set up"
    today = _today()
    end = today + timedelta(days=14)
    assert "VPN profile / user name: elif.sahin-vpn" in mail.body
    assert f"Valid: {today:%d.%m.%Y} - {end:%d.%m.%Y}" in mail.body
    assert "Systems you can reach: bys.example.edu.tr, 10.12.4.20" in mail.body

    [ends_at] = db.timer_dues(approved)
    clock_at(ends_at + timedelta(minutes=1))
    db.work()
    db.complete(approved, "revoke_vpn", "ag.uzmani", {"revoked": True})
    mail = db.mails(approved)[-1]
    assert _requester_subject(db, approved, mail, "vpn_access_ended", "en") == "Your VPN access has ended"
    assert f"The VPN access (elif.sahin-vpn) set up for {today:%d.%m.%Y} - {end:%d.%m.%Y} has been removed" in mail.body
