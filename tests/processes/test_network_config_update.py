"""SEK 08-04-29 Ağ Cihazları Yapılandırma Güncelleme: every path of ``network_config_update``.

A change refused at the door (form, maintenance window rules), approved at the level the
shared DMN table gives (network group or management, with its due time and the lead's
reminder), rejected, approved too late for its window (a new window), applied in its
window (the window timer once through a real ``sek worker --once``) with the users told
before and after, the window overrun, and a failed verification rolled back (once again
after a rollback that did not restore the devices). The change owner's statuses and mails.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from engine import assets, runtime
from engine.errors import ValidationError
from engine.models import InstanceStatus, TaskState, utcnow
from engine.workdays import ZONE, add_working_days
from processes import rules

ROOT = Path(__file__).resolve().parents[2]
BPMN = ROOT / "bpmn"
KEY = "network_config_update"
OWNER = "murat.celik@example.edu.tr"
# The clock is pinned on Monday 2 November 2026, 10:00; the window is Thursday night.
OPENS = datetime(2026, 11, 5, 22, 0, tzinfo=ZONE)
CLOSES = datetime(2026, 11, 5, 23, 30, tzinfo=ZONE)
BACKUP = {"backup_location": "tftp://yedek.example.edu.tr/sw-muh-1/2026-11-05.cfg"}
VERIFIED = {"verification": "verified", "checks": ["reachability", "neighbours", "monitoring"]}
FAILED = {"verification": "failed", "checks": ["reachability"], "failure_reason": "VLAN 120'de DHCP yanıt vermiyor."}
# The help desk, the systems team (the owner chose it) and the faculty's address, as the
# group directory resolves them (tests/processes/conftest.py GROUP_ADDRESSES).
TOLD = "helpdesk@bidb.example.edu.tr, systems@bidb.example.edu.tr, muhendislik@example.edu.tr"
NETWORK_LEAD = "network@bidb.example.edu.tr"   # no lead named: the group's address
SWITCHES = ("BIDB-2024-0117", "BIDB-2024-0118")


def _change(**changes) -> dict:
    data = {
        "requester": "Murat Çelik", "requester_email": OWNER, "unit": "Bilgi İşlem Daire Başkanlığı",
        "subject": "Mühendislik binası kenar anahtarlarına VLAN 120",
        "devices": ["  BIDB-2024-0117 ", "BIDB-2024-0118", "BIDB-2024-0117"],
        "change_category": "vlan",
        "change_description": "Yeni araştırma laboratuvarı için VLAN 120 eklenecek.",
        "planned_commands": "vlan 120\n name ARASTIRMA-LAB\ninterface Gi1/0/24\n switchport access vlan 120",
        "risk": "low", "impact": "building", "expected_outage": 5,
        "window_start": "2026-11-05T22:00", "window_end": "2026-11-05T23:30",
        "rollback_plan": "Yedekten alınan yapılandırma geri yüklenir (5 dakika).",
        "notify_users": True, "affected_units": "Mühendislik Fakültesi",
        "notify_groups": ["systems"], "notify_emails": ["muhendislik@example.edu.tr"],
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture(autouse=True)
def _setup(db, deploy, make_user, group_directory):
    deploy(*sorted(BPMN.glob(f"{KEY}.*")), *sorted(BPMN.glob("network_change.*")))
    with db.tx() as session:
        for number in SWITCHES:
            assets.register(session, {"inventory_no": number, "kind": "network_device", "status": "in_use",
                                      "model": "HPE Aruba 2930F-48G", "site": "Mühendislik Fakültesi"}, actor="test")
        assets.register(session, {"inventory_no": "BIDB-2023-0501", "kind": "server", "status": "in_use"},
                        actor="test")
    make_user("ag.sorumlusu", groups=("network",))
    make_user("ag.uzmani", groups=("network",))
    make_user("daire.baskani", groups=("management",))


def _start(db, **changes) -> int:
    return db.start(KEY, _change(**changes), actor="murat.celik")


def _mails(db, instance_id: int) -> list[tuple[str, str]]:
    """The instance's mails: the owner's as ``(template, subject without the code)``,
    the others as ``(recipients, subject)``."""
    found = []
    for mail in db.mails(instance_id):
        if mail.recipients == OWNER:
            found.append((mail.template, db.requester_subject(instance_id, mail, mail.template, to=OWNER)))
        else:
            found.append((mail.recipients, mail.subject))
    return found


def _data(db, instance_id: int) -> dict:
    with db.tx() as session:
        return dict(runtime.load_instance(session, instance_id).workflow.last_task.data)


def _device_notes(db) -> dict[str, list[tuple[str, str, int]]]:
    """What each switch's history in the asset registry says after its registration."""
    with db.tx() as session:
        return {number: [(row.action, row.note, row.instance_id)
                         for row in assets.history(session, assets.get(session, number))
                         if row.action != "registered"]
                for number in SWITCHES}


def _approved(db, **changes) -> int:
    instance_id = _start(db, **changes)
    db.complete(instance_id, "approve_change", "ag.sorumlusu", {"approval": "approve"})
    return instance_id


def _in_window(db, **changes) -> int:
    instance_id = _approved(db, **changes)
    db.work_at(db.timer_due(instance_id, OPENS))
    return instance_id


# -- the door -------------------------------------------------------------------------------


@pytest.mark.parametrize(("changes", "fields"), [
    ({"devices": []}, ["devices"]),
    ({"risk": "critical", "impact": None}, ["impact", "risk"]),
    ({"window_start": "05.11.2026 22:00", "window_end": "yarın"}, ["window_end", "window_start"]),
    ({"notify_emails": ["muhendislik"]}, ["notify_emails.0"]),
    ({"rollback_plan": "yok"}, ["rollback_plan"]),
    # the asset registry: every number must be a registered network device
    ({"devices": ["BIDB-2024-0117", "BIDB-2099-0001"]}, ["devices.1"]),
    ({"devices": ["BIDB-2023-0501"]}, ["devices.0"]),
])
def test_a_change_the_form_refuses_never_starts(db, changes, fields):
    assert db.refused_start(KEY, _change(**changes)) == fields


def test_unit_addresses_matter_only_when_users_are_told(db):
    instance_id = _start(db, notify_users=False, notify_emails=["muhendislik"])
    assert _data(db, instance_id)["notice_to"] == ["group:helpdesk"]


@pytest.mark.parametrize(("changes", "field", "reason"), [
    ({"window_start": "2026-11-02T09:00", "window_end": "2026-11-02T11:00"}, "window_start",
     "Bakım penceresi ileri bir zamanda başlamalıdır."),
    ({"window_end": "2026-11-05T21:00"}, "window_end", "Bakım penceresinin bitişi başlangıcından sonra olmalıdır."),
    ({"window_end": "2026-11-06T10:30"}, "window_end", "Bakım penceresi en fazla 12 saat sürebilir."),
    ({"window_start": "2027-06-01T22:00", "window_end": "2027-06-01T23:00"}, "window_start",
     "Bakım penceresi en fazla 180 gün sonrası için planlanabilir."),
])
def test_the_window_rules_refuse_on_every_door(db, changes, field, reason):
    with db.tx() as session, pytest.raises(ValidationError) as caught:
        runtime.start_instance(session, KEY, data=_change(**changes), actor="portal")
    [problem] = caught.value.problems
    assert (problem.location, rules.worded(problem, "tr")) == (field, reason)
    assert rules.worded(problem, "en") != reason


# -- approval by risk -------------------------------------------------------------------------


@pytest.mark.parametrize(("risk", "impact", "group", "days", "level"), [
    ("low", "device", "network", 1, "Standart değişiklik (ağ grubu sorumlusu onayı)"),
    ("low", "campus", "network", 2, "Olağan değişiklik (ağ grubu değişiklik değerlendirmesi)"),
    ("medium", "building", "network", 2, "Olağan değişiklik (ağ grubu değişiklik değerlendirmesi)"),
    ("medium", "campus", "management", 3, "Büyük değişiklik (Daire Başkanlığı onayı)"),
    ("high", "device", "management", 3, "Büyük değişiklik (Daire Başkanlığı onayı)"),
])
def test_the_approval_goes_where_risk_and_impact_say(db, risk, impact, group, days, level):
    before = utcnow()
    instance_id = _start(db, risk=risk, impact=impact)

    assert db.human_tasks(instance_id) == [("approve_change", group, TaskState.READY)]
    due = db.task(instance_id, "approve_change").due_at
    assert abs(due - add_working_days(before, days)) < timedelta(minutes=1)
    data = _data(db, instance_id)
    assert data["change_class_text"] == level
    assert data["devices"] == ["BIDB-2024-0117", "BIDB-2024-0118"]
    assert db.requester_statuses(instance_id) == ["Onay bekliyor"]


def test_a_late_approval_reminds_the_approvers_lead_once(db):
    instance_id = _start(db, risk="high")
    due = db.task(instance_id, "approve_change").due_at
    db.work_at(due)

    assert _mails(db, instance_id) == [
        ("management@bidb.example.edu.tr", "Onay bekleyen ağ değişikliği: Mühendislik binası kenar anahtarlarına VLAN 120")]
    assert "Planlanan pencere: 2026-11-05 22:00 - 2026-11-05 23:30" in db.mails(instance_id)[0].body
    assert db.task(instance_id, "approve_change").state == TaskState.READY
    db.complete(instance_id, "approve_change", "daire.baskani", {"approval": "approve"})
    assert db.status(instance_id) == InstanceStatus.WAITING


def test_a_rejected_change_tells_its_owner_why(db):
    instance_id = _start(db)
    assert db.refused_fields(instance_id, "approve_change", "ag.sorumlusu", {"approval": "reject"}) == \
        ["rejection_reason"]
    db.complete(instance_id, "approve_change", "ag.sorumlusu",
                {"approval": "reject", "rejection_reason": "Dönem sonu sınavları bitene kadar değişiklik yok."})

    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert _mails(db, instance_id) == [("network_change_rejected", "Ağ değişikliğiniz onaylanmadı")]
    assert "Gerekçe: Dönem sonu sınavları bitene kadar değişiklik yok." in db.mails(instance_id)[0].body
    assert db.requester_statuses(instance_id) == ["Onay bekliyor", "Reddedildi"]
    assert db.timer_dues(instance_id) == []                # the reminder went with the task


def test_an_approval_after_the_window_started_asks_for_a_new_window(db, clock_at):
    instance_id = _start(db)
    clock_at(OPENS + timedelta(minutes=10))
    db.complete(instance_id, "approve_change", "ag.sorumlusu", {"approval": "approve"})

    assert db.human_tasks(instance_id)[-1] == ("reschedule_window", "network", TaskState.READY)
    assert db.requester_statuses(instance_id)[-1] == "Yeni bakım penceresi bekleniyor"
    assert db.refused_fields(instance_id, "reschedule_window", "ag.uzmani", {
        "window_start": "2026-11-05T20:00", "window_end": "2026-11-05T21:00"}) == ["window_start"]
    db.complete(instance_id, "reschedule_window", "ag.uzmani", {
        "window_start": "2026-11-12T22:00", "window_end": "2026-11-13T01:00"})

    assert _data(db, instance_id)["window_text"] == "12.11.2026 22:00 - 13.11.2026 01:00"
    db.timer_due(instance_id, datetime(2026, 11, 12, 22, 0, tzinfo=ZONE))
    assert [mail[0] for mail in _mails(db, instance_id)][-1] == "network_change_scheduled"


# -- in the window ----------------------------------------------------------------------------


def test_an_approved_change_is_announced_then_done_in_its_window(db):
    instance_id = _approved(db)

    # Told before: the help desk, the chosen group, the unit; the owner gets the schedule.
    assert db.status(instance_id) == InstanceStatus.WAITING
    announce, scheduled = db.mails(instance_id)
    assert announce.recipients == TOLD
    assert announce.subject == "Planlı ağ çalışması: 05.11.2026 22:00-23:30"
    assert "Etkilenen birimler: Mühendislik Fakültesi" in announce.body
    assert "Beklenen kesinti: 5 dakika" in announce.body
    assert db.requester_subject(instance_id, scheduled, "network_change_scheduled", to=OWNER) == \
        "Ağ değişikliğiniz onaylandı ve planlandı"
    assert "Cihazlar: BIDB-2024-0117, BIDB-2024-0118" in scheduled.body
    assert db.requester_statuses(instance_id)[-1] == "Onaylandı: bakım penceresini bekliyor"

    # Nothing before the window; at its start the backup task, due by its end.
    opens = db.timer_due(instance_id, OPENS)
    assert db.work_at(opens - timedelta(minutes=1)) == 0
    db.work_at(opens)
    backup = db.task(instance_id, "backup_config")
    assert (backup.group_name, backup.due_at) == ("network", CLOSES)
    assert db.refused_fields(instance_id, "backup_config", "ag.uzmani",
                             {"backup_location": "tftp://yedek", "backup_checksum": "abc"}) == ["backup_checksum"]
    db.complete(instance_id, "backup_config", "ag.uzmani", {**BACKUP, "backup_checksum": "a" * 64})
    db.complete(instance_id, "apply_change", "ag.uzmani", {"applied": True})
    assert db.refused_fields(instance_id, "verify_change", "ag.uzmani", {"verification": "verified"}) == ["checks"]
    db.complete(instance_id, "verify_change", "ag.uzmani", dict(VERIFIED))

    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert _mails(db, instance_id)[2:] == [
        (TOLD, "Planlı ağ çalışması tamamlandı: 05.11.2026 22:00-23:30"),
        ("network_change_done", "Ağ değişikliği tamamlandı")]
    assert "Yedek: " + BACKUP["backup_location"] in db.mails(instance_id)[-1].body
    assert db.requester_statuses(instance_id) == [
        "Onay bekliyor", "Onaylandı: bakım penceresini bekliyor", "Uygulanıyor: yapılandırma yedekleniyor",
        "Uygulanıyor", "Doğrulanıyor", "Tamamlandı"]
    # Each device's record in the asset registry notes the change, with this request.
    note = "Yapılandırma değiştirildi: Mühendislik binası kenar anahtarlarına VLAN 120 (05.11.2026 22:00-23:30)"
    assert _device_notes(db) == {number: [("noted", note, instance_id)] for number in SWITCHES}


def test_the_window_timer_fires_through_sek_worker_once(db, sek_worker):
    instance_id = _approved(db, notify_users=False)
    opens = db.timer_due(instance_id, OPENS)

    assert sek_worker(opens - utcnow() - timedelta(minutes=5)).stdout.strip() == "0 job(s) run"
    assert sek_worker(opens - utcnow() + timedelta(minutes=1)).stdout.strip() == "1 job(s) run"
    assert db.task(instance_id, "backup_config").state == TaskState.READY


def test_a_window_that_ends_with_the_change_not_applied_tells_the_network_lead(db):
    instance_id = _in_window(db)
    db.complete(instance_id, "backup_config", "ag.uzmani", dict(BACKUP))
    db.work_at(CLOSES)

    to, subject = _mails(db, instance_id)[-1]
    assert (to, subject) == (NETWORK_LEAD, "Bakım penceresi aşıldı: Mühendislik binası kenar anahtarlarına VLAN 120")
    assert db.task(instance_id, "apply_change").state == TaskState.READY
    assert db.task(instance_id, "apply_change").due_at == CLOSES


def test_a_failed_verification_is_rolled_back_until_the_devices_are_restored(db):
    instance_id = _in_window(db)
    db.complete(instance_id, "backup_config", "ag.uzmani", dict(BACKUP))
    db.complete(instance_id, "apply_change", "ag.uzmani", {"applied": True, "apply_note": "Gi1/0/24 güncellendi."})
    assert db.refused_fields(instance_id, "verify_change", "ag.uzmani",
                             {"verification": "failed", "checks": ["services"]}) == ["failure_reason"]
    db.complete(instance_id, "verify_change", "ag.uzmani", dict(FAILED))
    assert db.requester_statuses(instance_id)[-1] == "Doğrulanamadı: geri alınıyor"

    # The first rollback does not restore the devices: the network lead is told, it runs again.
    db.complete(instance_id, "rollback_change", "ag.uzmani", {"rolled_back": True})
    db.complete(instance_id, "verify_rollback", "ag.uzmani",
                {"rollback_result": "not_restored", "rollback_verify_note": "Gi1/0/24 hâlâ VLAN 120'de."})
    assert _mails(db, instance_id)[-1] == (
        NETWORK_LEAD, "ACİL: geri dönüş başarısız: Mühendislik binası kenar anahtarlarına VLAN 120")
    assert [row[0] for row in db.human_tasks(instance_id)][-1] == "rollback_change"
    db.complete(instance_id, "rollback_change", "ag.uzmani", {"rolled_back": True})
    db.complete(instance_id, "verify_rollback", "ag.uzmani",
                {"rollback_result": "restored", "rollback_verify_note": "Erişim ve DHCP normal."})

    assert db.status(instance_id) == InstanceStatus.COMPLETED
    notice, failed = db.mails(instance_id)[-2:]
    assert notice.subject == "Planlı ağ çalışması geri alındı: 05.11.2026 22:00-23:30"
    assert db.requester_subject(instance_id, failed, "network_change_failed", to=OWNER) == \
        "Ağ değişikliği doğrulanamadı ve geri alındı"
    assert "Neden: VLAN 120'de DHCP yanıt vermiyor." in failed.body
    assert db.requester_statuses(instance_id)[-1] == "Başarısız: geri alındı"
    assert _device_notes(db) == {number: [] for number in SWITCHES}   # a change undone leaves no note
