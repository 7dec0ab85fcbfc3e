"""SEK 08-04-03 infrastructure faults and maintenance: every path through the engine, on both databases.

A fault is triaged by the DMN table (kind x urgency: team and due time), diagnosed by that
team, repaired in-house or by the contractor, confirmed by the reporter (or taken as
confirmed after three working days), and escalated to the team's lead (and for a critical
fault to the management) when its due time passes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import assets, requester_status, runtime, workdays
from engine.errors import NotFoundError, ValidationError
from engine.models import HumanTask, InstanceStatus, ProcessInstance, utcnow
from engine.workdays import ZONE

ROOT = Path(__file__).resolve().parents[2]
BPMN = ROOT / "bpmn"
KEY = "infrastructure_maintenance"
REPORTER = "ayse.kaya@example.edu.tr"
STAFF = {"network": "ag.ariza", "systems": "sistem.ariza", "general": "genel.ariza", "workshop": "atolye.ariza",
         "management": "mudur.ariza"}
SWITCH = "253.02.03-2020-0040"      # the floor switch in the asset registry (C5)
REPAIRED = {"work_done": "Arızalı SFP modülü değiştirildi, bağlantı 10 Gbit/s ile geri geldi."}


LEAD = "ag.lider@bidb.example.edu.tr"    # the network team's lead; the other groups have none


@pytest.fixture
def site(db, deploy, make_user, group_lead):
    for group, username in STAFF.items():
        make_user(username, groups=(group,))
    group_lead("network", "ag.lider", LEAD)   # the directory the group:/lead: mails go through
    with db.tx() as session:
        assets.register(session, {"inventory_no": SWITCH, "kind": "network_device", "model": "HPE Aruba 2930F-48G",
                                  "site": "Fen Fakültesi", "room": "B blok 3. kat", "status": "in_use"}, actor="test")
    deploy(*sorted(BPMN.glob(f"{KEY}.*")))
    return db


def _data(**changes) -> dict:
    data = {"requester": "Ayşe Kaya", "requester_email": REPORTER, "unit": "Fen Fakültesi",
            "subject": "Kat anahtarı kapandı", "message": "3. kattaki odalarda ağ yok.",
            "kind": "network", "urgency": "normal", "location": "Fen Fakültesi B blok, 3. kat dağıtım dolabı",
            "inventory_no": SWITCH}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _open(db, instance_id: int, bpmn_id: str) -> HumanTask:
    with db.tx() as session:
        return session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                      HumanTask.bpmn_id == bpmn_id,
                                                      HumanTask.state.in_(("ready", "claimed"))))


def _do(db, instance_id: int, bpmn_id: str, data: dict) -> None:
    task = _open(db, instance_id, bpmn_id)
    assert task is not None, f"no open {bpmn_id}"
    username = STAFF.get(task.group_name) or STAFF["network"]
    db.complete(instance_id, bpmn_id, username, data, claim=task.assignee is None)


def _confirm(db, instance_id: int, payload: dict) -> None:
    with db.tx() as session:
        code = session.get(ProcessInstance, instance_id).tracking_code
        assert runtime.deliver_message(session, "repair_confirmed", payload, actor="portal",
                                       correlation_key=code) == [instance_id]
    db.work()


def _requester_mails(db, instance_id: int) -> list[str]:
    return [mail.template for mail in db.mails(instance_id) if mail.recipients == REPORTER]


def _shown(db, instance_id: int) -> list[tuple[str, str]]:
    with db.tx() as session:
        return [(row.kind, row.text) for row in requester_status.history(session, instance_id)]


def _repaired_and_waiting(db) -> int:
    instance_id = db.start(KEY, _data())
    _do(db, instance_id, "diagnose", {"diagnosis": "SFP modülü arızalı.", "action": "inhouse"})
    _do(db, instance_id, "repair", REPAIRED)
    return instance_id


# -- the start form and the triage table ---------------------------------------------------


def test_a_critical_or_high_fault_needs_what_it_stops(site):
    db = site
    assert db.refused_start(KEY, _data(urgency="critical")) == ["impact"]
    assert db.refused_start(KEY, _data(kind="printer", location="")) == ["kind", "location"]
    instance_id = db.start(KEY, _data(urgency="high", impact="Fen Fakültesi B blokta 40 oda ağsız."))
    assert db.human_tasks(instance_id) == [("diagnose", "network", "ready")]


@pytest.mark.parametrize(("kind", "urgency", "team", "due"), [
    ("network", "normal", "network", workdays.add_working_days(datetime(2026, 11, 2, 10, 0, tzinfo=ZONE), 3)),
    ("cabling", "low", "network", workdays.add_working_days(datetime(2026, 11, 2, 10, 0, tzinfo=ZONE), 10)),
    ("server", "high", "systems", datetime(2026, 11, 3, 10, 0, tzinfo=ZONE)),
    ("power", "critical", "general", datetime(2026, 11, 2, 14, 0, tzinfo=ZONE)),
    ("cooling", "normal", "general", datetime(2026, 11, 5, 10, 0, tzinfo=ZONE)),
    ("device", "critical", "workshop", datetime(2026, 11, 3, 10, 0, tzinfo=ZONE)),
])
def test_the_table_gives_the_team_that_owns_the_device_and_the_time_for_its_urgency(site, kind, urgency, team,
                                                                                 due):
    db = site
    instance_id = db.start(KEY, _data(kind=kind, urgency=urgency, impact="Sistem odası"))
    task = _open(db, instance_id, "diagnose")
    assert task.group_name == team
    assert db.timer_due(instance_id, due)                    # the escalation at the table's due time
    assert task.due_at is not None and task.due_at <= due + timedelta(minutes=1)
    assert _shown(db, instance_id) == [("status", "Arıza inceleniyor")]


# -- the paths -------------------------------------------------------------------------------


def test_repaired_in_house_and_confirmed_by_the_reporter(site):
    db = site
    instance_id = _repaired_and_waiting(db)

    assert db.status(instance_id) == InstanceStatus.WAITING
    assert _requester_mails(db, instance_id) == ["fault_repaired"]
    subject = db.requester_subject(instance_id, db.mails(instance_id)[0], "fault_repaired", to=REPORTER)
    assert subject == "Bildirdiğiniz arıza giderildi"
    assert "Arızalı SFP modülü değiştirildi" in db.mail_bodies(instance_id)[0]
    assert _shown(db, instance_id)[-1] == ("status", "Onayınızı bekliyoruz")

    _confirm(db, instance_id, {"ok": True, "note": ""})

    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert db.human_tasks(instance_id) == [("diagnose", "network", "completed"), ("repair", "network", "completed")]
    assert db.timer_dues(instance_id) == []
    assert _shown(db, instance_id)[-1] == ("outcome", "Onarıldı")
    assert db.actions(instance_id) == [
        "instance.started", "task.claimed", "task.completed", "asset.updated", "service.completed",
        "task.claimed", "task.completed", "asset.updated", "service.completed", "service.completed",
        "message.delivered"]


def test_not_fixed_goes_back_to_the_team_with_the_reporters_note_and_a_new_due_time(site, clock_at):
    db = site
    instance_id = _repaired_and_waiting(db)
    clock_at(datetime(2026, 11, 5, 11, 0, tzinfo=ZONE))       # after the first due time

    _confirm(db, instance_id, {"ok": False, "note": "Odalarda hâlâ ağ yok."})

    task = _open(db, instance_id, "diagnose")
    assert (task.group_name, task.assignee) == ("network", "ag.ariza")     # who worked it gets it back
    [due] = db.timer_dues(instance_id)
    assert due == db.timer_due(instance_id, workdays.add_working_days(datetime(2026, 11, 5, 11, 0, tzinfo=ZONE), 3))
    with db.tx() as session:
        assert runtime.load_instance(session, instance_id).workflow.data.get("requester_note") in (
            None, "Odalarda hâlâ ağ yok.")
    _do(db, instance_id, "diagnose", {"diagnosis": "Uplink kablosu da kopuk.", "action": "inhouse"})
    _do(db, instance_id, "repair", {"work_done": "Uplink kablosu değiştirildi."})
    _confirm(db, instance_id, {"ok": True, "note": "Şimdi çalışıyor."})
    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert _requester_mails(db, instance_id) == ["fault_repaired", "fault_repaired"]


def test_three_working_days_of_silence_confirm_the_repair(site, clock_at, every_start):
    db = site
    instance_id = _repaired_and_waiting(db)
    [due] = db.timer_dues(instance_id)
    assert due == db.timer_due(instance_id, workdays.add_working_days(every_start, 3))

    clock_at(due - timedelta(minutes=5))
    assert db.work() == 0
    clock_at(due + timedelta(minutes=1))
    db.work()

    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert _requester_mails(db, instance_id) == ["fault_repaired", "fault_auto_closed"]
    assert "onarım onaylanmış sayılır" in db.mail_bodies(instance_id)[0]
    assert _shown(db, instance_id)[-1] == ("outcome", "Onaylanmış sayıldı")
    with db.tx() as session, pytest.raises(NotFoundError):         # too late to answer
        runtime.deliver_message(session, "repair_confirmed", {"ok": False}, instance_id=instance_id)


def test_sek_worker_once_with_a_shifted_clock_closes_the_silent_report(site, sek_worker):
    db = site
    instance_id = _repaired_and_waiting(db)
    [due] = db.timer_dues(instance_id)

    proc = sek_worker(due - utcnow() + timedelta(minutes=2))

    assert "job(s) run" in proc.stdout
    assert db.status(instance_id) == InstanceStatus.COMPLETED
    last = db.mails(instance_id)[-1]
    code = db.instance(instance_id).tracking_code
    assert (last.recipients, last.template, last.subject) == (
        REPORTER, "fault_auto_closed", f"[{code}] Arıza kaydınız kapatıldı")
    assert "timer.fired" in db.actions(instance_id)


def test_the_contractor_repairs_and_a_late_promise_is_told_to_the_lead(site, clock_at):
    db = site
    instance_id = db.start(KEY, _data(kind="server", urgency="normal", subject="Depolama ünitesi disk hatası"))
    _do(db, instance_id, "diagnose", {"diagnosis": "Depolama ünitesinde iki disk arızalı.", "action": "vendor"})
    assert _open(db, instance_id, "vendor_call").group_name == "systems"
    assert _shown(db, instance_id)[-1] == ("status", "Yüklenici firmaya bildiriliyor")

    call = {"vendor_name": "Örnek Bilişim A.Ş.", "contract_no": "2026/114", "vendor_ticket_no": "TCK-88231",
            "vendor_promised_date": "2026-11-01", "vendor_promised_time": "17:00"}
    assert db.refused_fields(instance_id, "vendor_call", "sistem.ariza", call) == ["vendor_promised_date"]
    assert db.refused_fields(instance_id, "vendor_call", "sistem.ariza",
                             {**call, "vendor_promised_date": "2026-11-02", "vendor_promised_time": "09:00"}) == [
        "vendor_promised_time"]
    _do(db, instance_id, "vendor_call", {**call, "vendor_promised_date": "2026-11-04"})

    follow = _open(db, instance_id, "vendor_follow")
    promised = datetime(2026, 11, 4, 17, 0, tzinfo=ZONE)
    assert follow.group_name == "systems" and follow.due_at == promised
    assert db.timer_due(instance_id, promised)
    clock_at(promised + timedelta(minutes=1))
    db.work()
    [late] = [m for m in db.mails(instance_id) if m.recipients == "systems@bidb.example.edu.tr"]
    assert late.subject == "Yüklenici sözünü tutmadı: Depolama ünitesi disk hatası"
    assert "Örnek Bilişim A.Ş. firması 2026/114 sayılı sözleşme" in late.body and "TCK-88231" in late.body
    assert _open(db, instance_id, "vendor_follow") is not None          # still the team's to follow

    _do(db, instance_id, "vendor_follow", {"vendor_work": "İki disk değiştirildi, RAID yeniden kuruldu.",
                                           "service_report_no": "SF-5521"})
    assert _requester_mails(db, instance_id) == ["fault_repaired"]
    assert "Örnek Bilişim A.Ş.: İki disk değiştirildi" in db.mails(instance_id)[-1].body
    _confirm(db, instance_id, {"ok": True, "note": ""})
    assert db.status(instance_id) == InstanceStatus.COMPLETED


def test_past_its_due_time_the_lead_is_told_and_a_critical_fault_reaches_the_management(site, clock_at):
    db = site
    critical = db.start(KEY, _data(kind="power", urgency="critical", subject="UPS devre dışı",
                                   impact="Sistem odası tek besleme ile çalışıyor."))
    normal = db.start(KEY, _data(kind="cabling", urgency="normal", subject="Priz çalışmıyor"))
    assert _open(db, critical, "diagnose").group_name == "general"

    clock_at(datetime(2026, 11, 2, 14, 1, tzinfo=ZONE))        # four hours on: the critical one is late
    db.work()
    assert [(m.recipients, m.subject) for m in db.mails(critical)] == [
        ("general@bidb.example.edu.tr", "Süresi geçen arıza kaydı (kritik): UPS devre dışı")]
    assert db.human_tasks(critical) == [("diagnose", "general", "ready"), ("management_review", "management", "ready")]
    assert db.mails(normal) == []
    db.complete(critical, "management_review", "mudur.ariza", {"management_note": "Kiralık UPS getirildi."})
    assert _open(db, critical, "diagnose") is not None              # the team keeps its work

    clock_at(workdays.add_working_days(datetime(2026, 11, 2, 10, 0, tzinfo=ZONE), 3) + timedelta(minutes=1))
    db.work()
    assert [(m.recipients, m.subject) for m in db.mails(normal)] == [
        (LEAD, "Süresi geçen arıza kaydı (normal): Priz çalışmıyor")]
    assert [row[0] for row in db.human_tasks(normal)] == ["diagnose"]      # no management task


def test_a_repair_past_its_due_time_is_escalated_too(site, clock_at):
    db = site
    instance_id = db.start(KEY, _data())
    _do(db, instance_id, "diagnose", {"diagnosis": "Anahtar güç kaynağı yanmış.", "action": "inhouse"})
    clock_at(workdays.add_working_days(datetime(2026, 11, 2, 10, 0, tzinfo=ZONE), 3) + timedelta(minutes=1))
    db.work()
    assert [m.recipients for m in db.mails(instance_id)] == [LEAD]
    assert _open(db, instance_id, "repair") is not None


def test_another_teams_fault_is_triaged_again_under_its_right_kind(site):
    db = site
    instance_id = db.start(KEY, _data(kind="network", subject="Sunucuya erişilemiyor"))
    assert db.refused_fields(instance_id, "diagnose", "ag.ariza",
                             {"diagnosis": "Ağ sağlam; sunucu kapanmış.", "action": "reroute"}) == ["new_kind"]
    _do(db, instance_id, "diagnose", {"diagnosis": "Ağ sağlam; sunucu kapanmış.", "action": "reroute",
                                      "new_kind": "server"})

    assert db.human_tasks(instance_id) == [("diagnose", "network", "completed"), ("diagnose", "systems", "ready")]
    _do(db, instance_id, "diagnose", {"diagnosis": "Güç kaynağı arızalı.", "action": "inhouse"})
    assert _open(db, instance_id, "repair").group_name == "systems"


def test_no_fault_found_the_reporter_is_told_why(site):
    db = site
    instance_id = db.start(KEY, _data())
    assert db.refused_fields(instance_id, "diagnose", "ag.ariza",
                             {"diagnosis": "Bağlantı çalışıyor.", "action": "no_fault"}) == ["no_fault_note"]
    _do(db, instance_id, "diagnose", {"diagnosis": "Bağlantı çalışıyor.", "action": "no_fault",
                                      "no_fault_note": "Bilgisayarınızın ağ kablosu takılı değildi."})

    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert _requester_mails(db, instance_id) == ["fault_no_fault"]
    assert "ağ kablosu takılı değildi" in db.mail_bodies(instance_id)[0]
    assert _shown(db, instance_id)[-1] == ("outcome", "Arıza bulunamadı")
    assert db.timer_dues(instance_id) == []


def test_a_fault_staff_report_without_an_address_closes_when_repaired(site):
    db = site
    instance_id = db.start(KEY, _data(requester=None, requester_email=None, subject=None, kind="cooling",
                                      location="Merkez sistem odası"), actor=STAFF["general"])
    _do(db, instance_id, "diagnose", {"diagnosis": "Klima 2 kompresörü arızalı.", "action": "inhouse"})
    _do(db, instance_id, "repair", {"work_done": "Kompresör değiştirildi."})

    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert db.mails(instance_id) == []
    assert _shown(db, instance_id)[-1] == ("outcome", "Onarıldı")
    assert db.human_tasks(instance_id) == [("diagnose", "general", "completed"), ("repair", "general", "completed")]


# -- from monitoring (SEK 08-04-26) ------------------------------------------------------------

ALERT = {"host": "sw-core-01.example.edu.tr", "service": "ping", "severity": "critical",
         "summary": "Çekirdek anahtar yanıt vermiyor", "detected_at": "2026-11-02T09:58:00+03:00"}


def _alert(db, payload: dict) -> int:
    with db.tx() as session:
        [instance] = runtime.start_by_message(session, "monitoring_alert", payload, actor="izleme")
        instance_id = instance.id
    db.work()
    return instance_id


def test_a_monitoring_alert_is_a_fault_of_its_kind_and_urgency_without_a_reporter(site):
    db = site
    critical = _alert(db, ALERT)
    task = _open(db, critical, "diagnose")
    assert task.group_name == "network"                               # a ping check: a network device
    assert db.timer_due(critical, datetime(2026, 11, 2, 14, 0, tzinfo=ZONE))   # critical: four hours
    assert db.instance(critical).process_key == KEY
    warning = _alert(db, {**ALERT, "host": "bys-db-02", "service": "disk", "severity": "warning",
                          "summary": "Disk doluluk oranı %92", "detected_at": ""})
    assert _open(db, warning, "diagnose").group_name == "systems"    # anything else: a server
    assert db.timer_due(warning, datetime(2026, 11, 3, 10, 0, tzinfo=ZONE))      # a warning is high: 1 day

    _do(db, critical, "diagnose", {"diagnosis": "Güç kaynağı yanmış.", "action": "inhouse"})
    _do(db, critical, "repair", {"work_done": "Yedek güç kaynağı takıldı."})
    assert db.status(critical) == InstanceStatus.COMPLETED             # nobody to ask: closed when repaired
    assert db.mails(critical) == []
    assert _shown(db, critical)[-1] == ("outcome", "Onarıldı")


def test_an_alert_that_does_not_fit_the_form_starts_nothing(site):
    db = site
    with db.tx() as session, pytest.raises(ValidationError) as caught:
        runtime.start_by_message(session, "monitoring_alert", {**ALERT, "severity": "info", "host": ""})
    assert sorted(p.location for p in caught.value.problems) == ["host", "severity"]
    with db.tx() as session:
        assert session.scalar(select(ProcessInstance.id)) is None



# -- the asset registry (C5) ---------------------------------------------------------------------


def _asset(db) -> tuple[str, list[tuple[str, int | None, str]]]:
    """The switch's status and its history as ``(action, request, note)``."""
    with db.tx() as session:
        asset = assets.get(session, SWITCH)
        return asset.status, [(c.action, c.instance_id, c.note) for c in assets.history(session, asset)]


def test_the_faulty_device_is_in_repair_in_the_registry_until_it_is_repaired(site):
    db = site
    assert db.refused_start(KEY, _data(inventory_no="253.02.03-2020-9999")) == ["inventory_no"]
    instance_id = db.start(KEY, _data())
    assert _asset(db)[0] == "in_use"                      # reported is not yet diagnosed
    _do(db, instance_id, "diagnose", {"diagnosis": "SFP modülü arızalı.", "action": "inhouse"})
    assert _asset(db)[0] == "in_repair"
    _do(db, instance_id, "repair", REPAIRED)

    status, history = _asset(db)
    assert status == "in_use"
    assert history[1:] == [("status", instance_id, "Arıza: Kat anahtarı kapandı"),
                           ("status", instance_id, "Onarıldı: " + REPAIRED["work_done"])]


def test_a_device_named_at_diagnosis_follows_the_repair_and_no_fault_leaves_it_alone(site):
    db = site
    unnamed = db.start(KEY, _data(inventory_no=None))
    assert db.refused_fields(unnamed, "diagnose", "ag.ariza", {"diagnosis": "Anahtar kapalı.", "action": "inhouse",
                                                                "inventory_no": "YOK-1"}) == ["inventory_no"]
    _do(db, unnamed, "diagnose", {"diagnosis": "SFP modülü arızalı.", "action": "vendor", "inventory_no": SWITCH})
    assert _asset(db)[0] == "in_repair"

    no_fault = db.start(KEY, _data(subject="Ağ yavaş"))
    _do(db, no_fault, "diagnose", {"diagnosis": "Sorun yok.", "action": "no_fault", "no_fault_note": "Ölçüm normal."})
    assert [entry[1] for entry in _asset(db)[1]].count(no_fault) == 0
