"""SEK 08-04-07 Atölye Hizmeti: every path of ``workshop_service`` through the engine.

A device not brought; received, diagnosed and repaired without parts; paid parts the unit
head approves (and is reminded of) or rejects (returned unrepaired); beyond repair at the
diagnosis or at the repair (recorded for disposal); the late diagnosis told to the
workshop's lead; the pickup reminders every third working day and the 30-day abandonment
(the unit's head told), once through a real ``sek worker --once``.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from engine import assets, conversation, directory, forms, instances, linked, runtime, users
from engine.errors import ValidationError
from engine.models import InstanceStatus, utcnow
from engine.workdays import ZONE, add_working_days, is_working_day
from processes import portal

ROOT = Path(__file__).resolve().parents[2]
BPMN = ROOT / "bpmn"
KEY = "workshop_service"
REQUESTER = "murat.aydin@example.edu.tr"
KIMYA_HEADS = "unithead-kimya"
KIMYA_HEAD_EMAIL = "kimya.baskan@example.edu.tr"
WORKSHOP_LEAD_EMAIL = "atolye.sefi@bidb.example.edu.tr"
INVENTORY_NO = "253.02.01-2021-000145"
LINK_SECRET = "process-test-secret"          # the tracking links' secret of tests/processes/conftest.py
RECEIVED = {"device_received": "received", "received_condition": "Kasa sağlam, sol menteşe gevşek.",
            "accessories": ["Güç adaptörü / kablosu", "Çanta"]}
REPAIRED = {"repair_result": "repaired", "repair_note": "Güç soketi yenilendi, şarj testi yapıldı."}
HANDED = {"received_by": "Murat Aydın", "requester_confirmed": True}


def _request_data(**changes) -> dict:
    data = {
        "requester": "Murat Aydın", "requester_email": REQUESTER, "unit": "Kimya Bölümü",
        "subject": "Dizüstü bilgisayar şarj olmuyor",
        "device_type": "laptop", "inventory_no": INVENTORY_NO, "brand_model": "Lenovo ThinkPad E14",
        "serial_no": "PF3X9K2", "fault_description": "Adaptör takılıyken şarj olmuyor, pil göstergesi yanmıyor.",
        "data_notice": True,
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
    make_user("teknisyen", groups=("workshop",))
    with db.tx() as session:
        users.add_user(session, "atolye.sefi", groups=("workshop",), email=WORKSHOP_LEAD_EMAIL)
        directory.set_contact(session, "workshop", "atolye@bidb.example.edu.tr", "atolye.sefi", actor="test")
        assets.register(session, {"inventory_no": INVENTORY_NO, "kind": "computer", "model": "Lenovo ThinkPad E14",
                                  "status": "in_use", "owner_unit": "Kimya Bölümü"}, actor="test")


def _asset(db) -> tuple[str, list[tuple[str, str, int | None]]]:
    """The device's status in the registry, and its status changes, oldest first, as
    ``(before, after, the request that made it)``."""
    with db.tx() as session:
        asset = assets.get(session, INVENTORY_NO)
        changes = sorted(assets.history(session, asset), key=lambda change: change.id)
        return asset.status, [(c.before.get("status"), c.after.get("status"), c.instance_id) for c in changes
                              if c.action == "status"]


def _start(db, **changes) -> int:
    return db.start(KEY, _request_data(**changes))


def _subject(db, instance_id: int, mail, template: str, language: str = "tr") -> str:
    return db.requester_subject(instance_id, mail, template, language, to=REQUESTER)


def _received(db, **changes) -> int:
    instance_id = _start(db, **changes)
    db.complete(instance_id, "receive_device", "teknisyen", dict(RECEIVED))
    return instance_id


def _ready_for_pickup(db) -> int:
    instance_id = _received(db)
    db.complete(instance_id, "diagnose", "teknisyen", {"diagnosis": "Güç soketi kırık.", "verdict": "repair"})
    db.complete(instance_id, "repair", "teknisyen", dict(REPAIRED))
    return instance_id


# -- the request ---------------------------------------------------------------------------


def test_the_start_form_asks_for_the_device_its_inventory_number_and_the_backup_statement(db):
    schema = json.loads((BPMN / f"{KEY}.start.schema.json").read_text(encoding="utf-8"))
    forms.validate_form_data(schema, _request_data())
    with pytest.raises(ValidationError) as caught:
        forms.validate_form_data(schema, _request_data(inventory_no=None, fault_description="bozuk",
                                                       data_notice=False))
    assert sorted(p.location for p in caught.value.problems) == ["data_notice", "fault_description", "inventory_no"]
    assert db.refused_start(KEY, _request_data(device_type="tablet")) == ["device_type"]


def test_an_inventory_number_not_in_the_registry_is_refused_under_its_field(db):
    with db.tx() as session, pytest.raises(ValidationError) as caught:
        runtime.start_instance(session, KEY, data=_request_data(inventory_no="253.02.01-2021-999999"), actor="portal")
    assert [p.location for p in caught.value.problems] == ["inventory_no"]
    assert db.refused_start(KEY, _request_data(inventory_no="253.02.01-2021-999999")) == ["inventory_no"]


def test_a_request_waits_for_the_device_at_the_workshop(db):
    before = utcnow()
    instance_id = _start(db)

    assert db.status(instance_id) == InstanceStatus.RUNNING
    assert db.human_tasks(instance_id) == [("receive_device", "workshop", "ready")]
    task = db.task(instance_id, "receive_device")
    assert abs((task.due_at - add_working_days(before, 5)).total_seconds()) < 60
    assert db.mails(instance_id) == []


def test_a_device_never_brought_closes_the_request_with_the_reason(db):
    instance_id = _start(db)
    assert db.refused_fields(instance_id, "receive_device", "teknisyen",
                             {"device_received": "not_brought"}) == ["receive_note"]

    db.complete(instance_id, "receive_device", "teknisyen",
                {"device_received": "not_brought", "receive_note": "Birim cihazı yenisiyle değiştirdi."})

    assert db.status(instance_id) == InstanceStatus.COMPLETED
    [mail] = db.mails(instance_id)
    assert _subject(db, instance_id, mail, "workshop_not_brought") == "Onarım talebiniz kapatıldı"
    assert "Not: Birim cihazı yenisiyle değiştirdi." in mail.body


# -- received, diagnosed, repaired, handed over ---------------------------------------------


def test_a_repair_without_parts_is_handed_over_against_a_signature(db):
    instance_id = _start(db)
    assert db.refused_fields(instance_id, "receive_device", "teknisyen",
                             {"device_received": "received"}) == ["received_condition"]
    db.complete(instance_id, "receive_device", "teknisyen", dict(RECEIVED))

    [received] = db.mails(instance_id)
    assert _subject(db, instance_id, received, "workshop_received") == "Cihazınız atölyede teslim alındı"
    assert "Lenovo ThinkPad E14 cihazınız (demirbaş no 253.02.01-2021-000145)" in received.body
    assert "Cihazla gelenler: Güç adaptörü / kablosu, Çanta" in received.body
    assert db.human_tasks(instance_id)[-1] == ("diagnose", "workshop", "ready")
    assert _asset(db) == ("in_repair", [("in_use", "in_repair", instance_id)])    # the registry knows where it is

    db.complete(instance_id, "diagnose", "teknisyen", {"diagnosis": "Güç soketi kırık.", "verdict": "repair"})
    assert db.human_tasks(instance_id)[-1] == ("repair", "workshop", "ready")
    assert db.refused_fields(instance_id, "repair", "teknisyen", {"repair_result": "repaired"}) == ["repair_note"]
    db.complete(instance_id, "repair", "teknisyen", dict(REPAIRED))

    ready = db.mails(instance_id)[-1]
    assert _subject(db, instance_id, ready, "workshop_ready") == "Cihazınız teslim almaya hazır"
    assert "onarıldı ve test edildi" in ready.body and "Güç soketi yenilendi" in ready.body
    assert db.human_tasks(instance_id)[-1] == ("hand_over", "workshop", "ready")
    assert db.task(instance_id, "hand_over").due_at is None
    assert db.refused_fields(instance_id, "hand_over", "teknisyen",
                             {"received_by": "Murat Aydın", "requester_confirmed": False}) == ["requester_confirmed"]

    db.complete(instance_id, "hand_over", "teknisyen", dict(HANDED))

    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert _asset(db) == ("in_use", [("in_use", "in_repair", instance_id), ("in_repair", "in_use", instance_id)])
    assert db.timer_dues(instance_id) == []                  # the reminders went with the hand-over
    assert [m.template for m in db.mails(instance_id)] == ["workshop_received", "workshop_ready"]
    with db.tx() as session:
        shown = conversation.stage_of(session, db.instance(instance_id))
    assert shown == conversation.Stage.CLOSED


def test_a_late_diagnosis_is_told_to_the_workshop_lead_once(db, clock_at, every_start):
    instance_id = _received(db)
    due = db.timer_due(instance_id, add_working_days(every_start, 3))
    assert abs(db.task(instance_id, "diagnose").due_at - due) < timedelta(minutes=1)
    clock_at(due - timedelta(hours=1))
    assert db.work() == 0
    clock_at(due + timedelta(minutes=1))
    assert db.work() == 3                                     # the timer, the mail task, the mail

    mail = db.mails(instance_id)[-1]
    assert mail.recipients == WORKSHOP_LEAD_EMAIL                # lead:workshop, from the group directory
    assert mail.subject == f"Gecikme: arıza tespiti bekleyen cihaz ({INVENTORY_NO})"
    assert "üç iş günüdür" in mail.body
    assert db.human_tasks(instance_id)[-1] == ("diagnose", "workshop", "ready")
    clock_at(due + timedelta(days=5))
    assert db.work() == 0


# -- paid parts ----------------------------------------------------------------------------


def _parts_needed(db) -> int:
    instance_id = _received(db)
    assert db.refused_fields(instance_id, "diagnose", "teknisyen",
                             {"diagnosis": "Anakart şarj devresi arızalı.", "verdict": "parts"}) == [
        "parts_list", "parts_cost"]
    db.complete(instance_id, "diagnose", "teknisyen", {
        "diagnosis": "Anakart şarj devresi arızalı.", "verdict": "parts",
        "parts_list": "1 adet şarj entegresi (BQ24780S), 1 adet DC soket", "parts_cost": 1450.5})
    return instance_id


def test_paid_parts_go_to_the_unit_head_who_approves_then_the_parts_arrive(db):
    instance_id = _parts_needed(db)
    assert db.human_tasks(instance_id)[-1] == ("approve_parts", KIMYA_HEADS, "ready")

    db.complete(instance_id, "approve_parts", "kimya.baskan", {"parts_approval": "approve",
                                                               "budget_note": "2026 BAP 03.5"})
    assert db.human_tasks(instance_id)[-1] == ("order_parts", "workshop", "ready")
    assert db.refused_fields(instance_id, "order_parts", "teknisyen",
                             {"parts_source": "purchase", "parts_arrived": False}) == ["parts_arrived"]
    db.complete(instance_id, "order_parts", "teknisyen", {"parts_source": "purchase", "purchase_reference": "TİF-2026/88",
                                                         "parts_arrived": True})
    db.complete(instance_id, "repair", "teknisyen", dict(REPAIRED))
    db.complete(instance_id, "hand_over", "teknisyen", dict(HANDED))

    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert [task[0] for task in db.human_tasks(instance_id)] == [
        "receive_device", "diagnose", "approve_parts", "order_parts", "repair", "hand_over"]


def test_the_unit_head_is_reminded_once_and_a_rejection_returns_the_device_unrepaired(db, clock_at):
    instance_id = _parts_needed(db)
    [due] = db.timer_dues(instance_id)[:1]
    clock_at(due + timedelta(minutes=1))
    db.work()
    reminder = db.mails(instance_id)[-1]
    assert (reminder.recipients, reminder.subject) == (
        KIMYA_HEAD_EMAIL, f"Hatırlatma: onay bekleyen parça masrafı ({INVENTORY_NO})")
    assert "şarj entegresi" in reminder.body

    assert db.refused_fields(instance_id, "approve_parts", "kimya.baskan",
                             {"parts_approval": "reject"}) == ["parts_rejection_reason"]
    db.complete(instance_id, "approve_parts", "kimya.baskan",
                {"parts_approval": "reject", "parts_rejection_reason": "Cihaz yenilenecek, bütçe yok."})

    ready = db.mails(instance_id)[-1]
    assert _subject(db, instance_id, ready, "workshop_ready") == "Cihazınız teslim almaya hazır"
    assert "onarılmadan iade edilecek" in ready.body and "Gerekçe: Cihaz yenilenecek, bütçe yok." in ready.body
    db.complete(instance_id, "hand_over", "teknisyen", dict(HANDED))
    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert "repair" not in [task[0] for task in db.human_tasks(instance_id)]


# -- beyond repair -------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["diagnose", "repair"])
def test_a_device_beyond_repair_is_recorded_for_disposal(db, where):
    instance_id = _received(db)
    report = "Anakart sıvı teması nedeniyle korozyonlu; onarım maliyeti cihaz değerini aşıyor."
    if where == "diagnose":
        assert db.refused_fields(instance_id, "diagnose", "teknisyen",
                                 {"diagnosis": "Sıvı teması.", "verdict": "beyond_repair"}) == ["technical_report"]
        db.complete(instance_id, "diagnose", "teknisyen",
                    {"diagnosis": "Sıvı teması.", "verdict": "beyond_repair", "technical_report": report})
    else:
        db.complete(instance_id, "diagnose", "teknisyen", {"diagnosis": "Güç soketi kırık.", "verdict": "repair"})
        db.complete(instance_id, "repair", "teknisyen", {"repair_result": "beyond_repair", "technical_report": report})

    mail = db.mails(instance_id)[-1]
    assert _subject(db, instance_id, mail, "workshop_beyond_repair") == "Cihazınız onarılamıyor"
    assert f"Teknik rapor: {report}" in mail.body
    assert _asset(db)[0] == "retired"
    # SEK 08-04-24 is not deployed: the workshop records the device for disposal by hand
    assert db.human_tasks(instance_id)[-1] == ("record_disposal", "workshop", "ready")
    assert "linked.not_started" in db.actions(instance_id)
    db.complete(instance_id, "record_disposal", "teknisyen", {"disposal_reference": "KDT-2026/14"})
    assert db.status(instance_id) == InstanceStatus.COMPLETED


# -- waiting for pickup ----------------------------------------------------------------------


def _working_days_from(start, count: int):
    """The day of the ``count``-th working day after ``start``'s day, at ``start``'s time."""
    return add_working_days(start, count)


def test_the_requester_is_reminded_every_third_working_day_until_collected(db, clock_at, every_start):
    instance_id = _ready_for_pickup(db)
    ready_mails = len(db.mails(instance_id))
    moment = every_start
    reminders = []
    for _day in range(14):                              # two weeks of daily timer firings
        moment = moment + timedelta(days=1, minutes=1)
        clock_at(moment)
        db.work()
        for mail in db.mails(instance_id)[ready_mails + len(reminders):]:
            reminders.append((moment.astimezone(ZONE).date(), mail))

    start_day = every_start.astimezone(ZONE).date()
    expected = []
    count, day = 0, start_day
    while day < moment.astimezone(ZONE).date():
        day += timedelta(days=1)
        if is_working_day(day):
            count += 1
            if count % 3 == 0:
                expected.append(day)
    assert [day for day, _mail in reminders] == expected
    first = reminders[0][1]
    assert _subject(db, instance_id, first, "workshop_pickup_reminder") == (
        "Hatırlatma: cihazınız atölyede sizi bekliyor")
    assert "3 iş günüdür" in first.body
    assert db.human_tasks(instance_id)[-1] == ("hand_over", "workshop", "ready")

    db.complete(instance_id, "hand_over", "teknisyen", dict(HANDED))
    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert db.timer_dues(instance_id) == []


def test_a_device_not_collected_in_30_days_is_recorded_abandoned_through_sek_worker(db, sek_worker):
    instance_id = _ready_for_pickup(db)
    abandon_at = utcnow() + timedelta(days=30)
    assert db.timer_due(instance_id, abandon_at)

    sek_worker(abandon_at - utcnow() + timedelta(minutes=2), SECRET_KEY=LINK_SECRET, SEK_BASE_URL="http://sek.test")

    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert db.human_tasks(instance_id)[-1] == ("hand_over", "workshop", "cancelled")
    requester_mails = [m for m in db.mails(instance_id) if m.recipients == REQUESTER]
    assert requester_mails[-1].template == "workshop_abandoned"
    assert _subject(db, instance_id, requester_mails[-1], "workshop_abandoned") == (
        "Cihazınız terk edilmiş olarak kaydedildi")
    [unit_head] = [m for m in db.mails(instance_id) if m.recipients == KIMYA_HEAD_EMAIL]
    assert unit_head.subject == f"Teslim alınmayan cihaz: demirbaş no {INVENTORY_NO}"
    assert "terk edilmiş olarak kaydedildi" in unit_head.body and "Murat Aydın" in unit_head.body
    assert _asset(db)[0] == "in_stock"                             # in the workshop's store, still the unit's


# -- a requester who chose English ---------------------------------------------------------


def test_a_requester_who_chose_english_gets_the_workshop_mails_in_english(db):
    with db.tx() as session:
        instance_id = runtime.start_instance(session, KEY, data=_request_data(), actor="portal").id
        conversation.record_contact(session, instance_id, name="Murat Aydın", email=REQUESTER, locale="en")
    db.work()
    db.complete(instance_id, "receive_device", "teknisyen", dict(RECEIVED))
    db.complete(instance_id, "diagnose", "teknisyen", {"diagnosis": "Güç soketi kırık.", "verdict": "repair"})
    db.complete(instance_id, "repair", "teknisyen", dict(REPAIRED))
    received, ready = db.mails(instance_id)
    assert _subject(db, instance_id, received, "workshop_received", "en") == "The workshop has received your device"
    assert _subject(db, instance_id, ready, "workshop_ready", "en") == "Your device is ready for collection"
    assert "has been repaired and tested" in ready.body


def test_once_disposal_runs_a_device_beyond_repair_starts_it_as_a_linked_request(db, deploy):
    """SEK 08-04-24 deployed (a stand-in here): the disposal request starts as this request's
    child with the device, its technical report and the requester; no hand-made record."""
    deploy(ROOT / "tests" / "data" / "disposal_stub" / "disposal.bpmn")
    instance_id = _received(db)
    report = "Anakart sıvı teması nedeniyle korozyonlu; onarım maliyeti cihaz değerini aşıyor."
    db.complete(instance_id, "diagnose", "teknisyen",
                {"diagnosis": "Sıvı teması.", "verdict": "beyond_repair", "technical_report": report})

    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert "record_disposal" not in [task[0] for task in db.human_tasks(instance_id)]
    with db.tx() as session:
        [child] = linked.children_of(session, instance_id)
        child_id = child.instance.id
        assert child.instance.process_key == "disposal"
    assert db.human_tasks(child_id) == [("commission", "systems", "ready")]
    with db.tx() as session:
        started = instances.current_data(session, child_id)
    assert {k: started.get(k) for k in ("requester", "requester_email", "inventory_no", "technical_report")} == {
        "requester": "Murat Aydın", "requester_email": REQUESTER, "inventory_no": INVENTORY_NO,
        "technical_report": report}
    assert started["subject"] == f"Hurdaya ayırma: Lenovo ThinkPad E14 ({INVENTORY_NO})"
    assert _asset(db)[0] == "retired"
