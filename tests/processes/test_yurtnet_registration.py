"""SEK 08-04-35 YurtNet registration: the MAC helper, and every path through the engine."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import conversation, forms, runtime, tasks, users, workdays
from engine.errors import ValidationError
from engine.models import AuditEvent, HumanTask, InstanceStatus, Job, utcnow
from processes.yurtnet_registration.mac import MacError, normalize_mac

# BPMN mails go to group:<slug> / lead:<slug>: the groups need their addresses.
pytestmark = pytest.mark.usefixtures("group_directory")

ROOT = Path(__file__).resolve().parents[2]
BPMN = ROOT / "bpmn"
KEY = "yurtnet_registration"
STUDENT = "zeynep.kaya@ogr.example.edu.tr"


# -- the MAC helper ------------------------------------------------------------------------


@pytest.mark.parametrize("typed", [
    "a4:5e:60:c2:19:0b", "A4-5E-60-C2-19-0B", "a45e.60c2.190b", "a45e60c2190b", "  A4:5E:60:c2:19:0B ",
])
def test_every_usual_notation_is_written_upper_case_with_colons(typed):
    assert normalize_mac(typed) == "A4:5E:60:C2:19:0B"


@pytest.mark.parametrize(("typed", "reason"), [
    ("", "boş"),
    (None, "boş"),
    ("a4:5e:60:c2:19", "geçerli bir MAC adresi değil"),
    ("a4:5e:60:c2:19:0g", "geçerli bir MAC adresi değil"),
    ("a4:5e-60:c2:19:0b", "geçerli bir MAC adresi değil"),      # mixed separators
    ("a45e60c2190b00", "geçerli bir MAC adresi değil"),
    ("00:00:00:00:00:00", "sıfırlardan oluşan"),
    ("ff-ff-ff-ff-ff-ff", "yayın (broadcast)"),
    ("01:00:5e:00:00:fb", "çoklu yayın (multicast)"),
    ("3333.0000.0001", "çoklu yayın (multicast)"),
])
def test_unusable_addresses_are_refused_with_a_reason(typed, reason):
    with pytest.raises(MacError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        normalize_mac(typed)


def test_the_start_form_wants_a_real_student_number():
    schema = json.loads((BPMN / f"{KEY}.start.schema.json").read_text(encoding="utf-8"))
    forms.validate_form_data(schema, _request_data())
    with pytest.raises(ValidationError) as caught:
        forms.validate_form_data(schema, _request_data(student_number="12ab", dorm="Başka Yurt",
                                                       mac_address="a4:5e-60:c2:19:0b"))
    assert {p.location for p in caught.value.problems} == {"student_number", "dorm", "mac_address"}
    for typed in ("a4:5e:60:c2:19:0b", "A4-5E-60-C2-19-0B", "a45e.60c2.190b", "a45e60c2190b"):
        forms.validate_form_data(schema, _request_data(mac_address=typed))


# -- helpers -------------------------------------------------------------------------------


def _request_data(**changes) -> dict:
    data = {
        "requester": "Zeynep Kaya", "requester_email": STUDENT, "subject": "YurtNet kaydı", "student_number": "402512345",
        "dorm": "Kanuni Erkek Öğrenci Yurdu", "block": "B", "room": "214",
        "device_type": "Dizüstü bilgisayar", "mac_address": "a4-5e-60-c2-19-0b",
    }
    return {**data, **changes}


@pytest.fixture
def site(db, deploy, make_user):
    make_user("mert.ag", groups=("network",))
    deploy(*sorted(BPMN.glob(f"{KEY}.*")))
    return db


def _start(db, *, locale: str | None = None, **changes) -> int:
    """Start as the portal does (the start form checked first, as at every door), then run
    the MAC check; with ``locale`` the student's contact is recorded in that language first."""
    if not locale:
        return db.start(KEY, _request_data(**changes))
    data = _request_data(**changes)
    with db.tx() as session:
        instance_id = runtime.start_instance(session, KEY, data=data, actor="portal").id
        conversation.record_contact(session, instance_id, name=data["requester"], email=data["requester_email"],
                                    locale=locale)
    db.work()
    return instance_id


def _student_subject(db, instance_id: int, mail, template: str, language: str = "tr", to: str = STUDENT) -> str:
    return db.requester_subject(instance_id, mail, template, language, to=to)


def _complete(db, instance_id: int, data: dict, username: str = "mert.ag") -> None:
    db.complete(instance_id, "register_device", username, data, claim=False)


def _services(db, instance_id: int) -> list[tuple[str, dict]]:
    with db.tx() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance_id,
                                                          AuditEvent.action == "service.completed")
                                 .order_by(AuditEvent.id))
        return [(e.data["bpmn_id"], e.data["result"]) for e in events]


def _timer_due(db, instance_id: int):
    with db.tx() as session:
        return session.scalar(select(Job.due_at).where(Job.instance_id == instance_id, Job.kind == "timer",
                                                       Job.state == "pending"))


# -- the paths -----------------------------------------------------------------------------


def test_registered_device_the_student_gets_the_instructions(site):
    db = site
    instance_id = _start(db)

    assert _services(db, instance_id) == [("check_mac", {"status": "ok", "mac": "A4:5E:60:C2:19:0B", "reason": ""})]
    assert db.human_tasks(instance_id) == [("register_device", "network", "ready")]
    assert db.status(instance_id) == InstanceStatus.RUNNING
    with db.tx() as session:
        task = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id))
        assert task.due_at > utcnow() + timedelta(days=1)          # two working days
    assert db.mails(instance_id) == []

    _complete(db, instance_id, {"registered": True, "network_note": "VLAN 214, IP 10.42.14.77 (DHCP)"})

    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert db.human_tasks(instance_id) == [("register_device", "network", "completed")]
    [mail] = db.mails(instance_id)
    assert _student_subject(db, instance_id, mail, "yurtnet_registered") == "YurtNet kaydınız tamamlandı"
    assert "A4:5E:60:C2:19:0B" in mail.body and "VLAN 214, IP 10.42.14.77" in mail.body
    assert "Kanuni Erkek Öğrenci Yurdu B-214" in mail.body and mail.body.startswith("Sayın Zeynep Kaya,")
    assert db.actions(instance_id) == [
        "instance.started", "service.completed", "task.completed", "service.completed"]


def test_the_network_team_refuses_the_student_gets_the_reason(site):
    db = site
    instance_id = _start(db, device_type="Oyun konsolu")
    with db.tx() as session, pytest.raises(ValidationError) as caught:
        row = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id))
        tasks.complete_task(session, row.id, users.acting_user(session, "mert.ag"), {"registered": False})
    assert [p.location for p in caught.value.problems] == ["reason"]   # a refusal says why

    _complete(db, instance_id, {"registered": False, "reason": "Yurt listesinde kaydınız görünmüyor."})

    assert db.status(instance_id) == InstanceStatus.COMPLETED
    [mail] = db.mails(instance_id)
    assert _student_subject(db, instance_id, mail, "yurtnet_not_registered") == "YurtNet kaydınız yapılamadı"
    assert "Yurt listesinde kaydınız görünmüyor." in mail.body
    assert db.actions(instance_id)[-2:] == ["task.completed", "service.completed"]


@pytest.mark.parametrize(("mac", "reason"), [
    ("01-00-5E-00-00-FB", "çoklu yayın (multicast)"),
    ("00:00:00:00:00:00", "sıfırlardan oluşan"),
    ("FF:FF:FF:FF:FF:FF", "yayın (broadcast)"),
])
def test_an_unusable_mac_is_refused_without_bothering_the_team(site, mac, reason):
    db = site
    instance_id = _start(db, mac_address=mac)

    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert db.human_tasks(instance_id) == []
    [(_, check)] = _services(db, instance_id)[:1]
    assert check["status"] == "invalid" and reason in check["reason"]
    [mail] = db.mails(instance_id)
    assert _student_subject(db, instance_id, mail, "yurtnet_refused") == "YurtNet başvurunuz kabul edilemedi"
    assert reason in mail.body
    assert db.actions(instance_id) == ["instance.started", "service.completed", "service.completed"]


def test_a_malformed_mac_never_starts(site):
    """The start form refuses it at every door (portal, API, CLI): no request, no mail."""
    assert site.refused_start(KEY, _request_data(mac_address="benim laptopum")) == ["mac_address"]


def test_a_registered_or_pending_mac_is_refused_a_refused_or_cancelled_one_is_free(site):
    db = site
    first = _start(db)

    # still with the network team: a second request for the device waits for nothing
    pending = _start(db, mac_address="a45e.60c2.190b", requester_email="baska@ogr.example.edu.tr")
    [check] = [r for b, r in _services(db, pending) if b == "check_mac"]
    assert check["status"] == "duplicate" and "sonuçlanmamış" in check["reason"]
    [mail] = db.mails(pending)
    assert _student_subject(db, pending, mail, "yurtnet_refused", to="baska@ogr.example.edu.tr") == (
        "YurtNet başvurunuz kabul edilemedi")

    # registered: refused in any notation
    _complete(db, first, {"registered": True, "network_note": "VLAN 214"})
    again = _start(db, mac_address="A45E60C2190B")
    [check] = [r for b, r in _services(db, again) if b == "check_mac"]
    assert check["status"] == "duplicate" and "zaten kayıtlı" in check["reason"]
    assert "zaten kayıtlı" in db.mails(again)[0].body
    assert db.human_tasks(again) == []

    # refused by the team, or cancelled: the address may be asked for again
    other = _start(db, mac_address="3c:22:fb:10:20:30")
    _complete(db, other, {"registered": False, "reason": "Oda numarası yanlış."})
    retry = _start(db, mac_address="3C-22-FB-10-20-30", room="241")
    assert db.human_tasks(retry) == [("register_device", "network", "ready")]
    with db.tx() as session:
        runtime.cancel_instance(session, retry, actor="mert.ag", reason="öğrenci vazgeçti")
    last = _start(db, mac_address="3c22.fb10.2030", room="241")
    assert db.human_tasks(last) == [("register_device", "network", "ready")]


def test_two_working_days_without_a_decision_remind_the_network_team(site, clock_at, every_start):
    db = site
    instance_id = _start(db)
    due = _timer_due(db, instance_id)
    assert due == db.timer_due(instance_id, workdays.add_working_days(every_start, 2))
    assert workdays.is_working_day(due.astimezone(workdays.ZONE).date()) and due - every_start >= timedelta(days=2)

    clock_at(due - timedelta(minutes=5))
    assert db.work() == 0                       # not yet
    clock_at(due + timedelta(minutes=1))
    assert db.work() == 3                       # timer, reminder service, its mail

    [reminder] = db.mails(instance_id)
    assert reminder.recipients == "network@bidb.example.edu.tr"
    assert reminder.subject == "Hatırlatma: YurtNet kaydı bekliyor A4:5E:60:C2:19:0B"
    assert "öğrenci 402512345" in reminder.body
    assert db.human_tasks(instance_id) == [("register_device", "network", "ready")]   # still theirs
    assert db.status(instance_id) == InstanceStatus.RUNNING
    assert db.work() == 0                       # reminded once

    _complete(db, instance_id, {"registered": True, "network_note": "VLAN 214"})
    assert db.status(instance_id) == InstanceStatus.COMPLETED
    reminder, done = db.mails(instance_id)
    assert reminder.subject == "Hatırlatma: YurtNet kaydı bekliyor A4:5E:60:C2:19:0B"
    assert _student_subject(db, instance_id, done, "yurtnet_registered") == "YurtNet kaydınız tamamlandı"
    assert db.actions(instance_id).count("timer.fired") == 1


def test_sek_worker_once_with_a_shifted_clock_sends_the_reminder(site, sek_worker):
    db = site
    instance_id = _start(db)
    due = _timer_due(db, instance_id)

    proc = sek_worker(due - utcnow() + timedelta(minutes=2))

    assert "3 job(s) run" in proc.stdout
    assert [(m.recipients, m.subject) for m in db.mails(instance_id)] == [
        ("network@bidb.example.edu.tr", "Hatırlatma: YurtNet kaydı bekliyor A4:5E:60:C2:19:0B")]
    assert db.human_tasks(instance_id) == [("register_device", "network", "ready")]
    assert "timer.fired" in db.actions(instance_id)


def test_a_student_who_chose_english_gets_every_mail_in_english(site):
    db = site
    refused = _start(db, locale="en", mac_address="00:00:00:00:00:00")
    [mail] = db.mails(refused)
    assert _student_subject(db, refused, mail, "yurtnet_refused", "en") == (
        "Your YurtNet application could not be accepted")
    assert "could not be accepted:" in mail.body and "with the correct MAC address" in mail.body

    registered = _start(db, locale="en")
    _complete(db, registered, {"registered": True, "network_note": "VLAN 214, IP 10.42.14.77 (DHCP)"})
    [mail] = db.mails(registered)
    assert _student_subject(db, registered, mail, "yurtnet_registered", "en") == "Your YurtNet registration is complete"
    assert mail.body.startswith("Dear Zeynep Kaya,")
    assert ("Your device (Dizüstü bilgisayar) with the MAC address A4:5E:60:C2:19:0B has been registered "
            "on the YurtNet network for Kanuni Erkek Öğrenci Yurdu B-214.") in mail.body
    assert "Network information: VLAN 214, IP 10.42.14.77 (DHCP)" in mail.body

    not_registered = _start(db, locale="en", mac_address="3c:22:fb:10:20:30")
    _complete(db, not_registered, {"registered": False, "reason": "Oda numarası yanlış."})
    [mail] = db.mails(not_registered)
    assert _student_subject(db, not_registered, mail, "yurtnet_not_registered", "en") == (
        "Your YurtNet registration could not be done")
    assert "3C:22:FB:10:20:30 could not be registered on the YurtNet network: Oda numarası yanlış." in mail.body
