"""SEK 08-04-28 Ağ Cihazları OS Güncelleme: every path of ``network_os_update``.

The update's own start fields (versions, release notes, the image's SHA-256 checksum)
refused at the door, the window rule, approval by the shared DMN table (a high-risk core
update goes to management), rejection, the update installed and its running version
recorded, a late approval given a new window, the window overrun, and a failed update
rolled back to the previous image. The steps after the start are those of SEK 08-04-29
(tests/processes/test_network_config_update.py covers their forms in detail).
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
KEY = "network_os_update"
OWNER = "selin.yildiz@example.edu.tr"
OPENS = datetime(2026, 11, 7, 1, 0, tzinfo=ZONE)      # Saturday night, 01:00-04:00
CLOSES = datetime(2026, 11, 7, 4, 0, tzinfo=ZONE)
CORE = ("BIDB-2021-0003", "BIDB-2021-0004")
CHECKSUM = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def _update(**changes) -> dict:
    data = {
        "requester": "Selin Yıldız", "requester_email": OWNER, "unit": "Bilgi İşlem Daire Başkanlığı",
        "subject": "Çekirdek anahtarlar IOS-XE 17.9.5 güncellemesi",
        "devices": ["BIDB-2021-0003", "BIDB-2021-0004"],
        "device_model": "Cisco Catalyst 9500", "current_version": "17.6.4", "target_version": "17.9.5",
        "update_reason": "security",
        "release_notes_url": "https://www.cisco.com/c/en/us/td/docs/switches/lan/catalyst9500/software/release/17-9/",
        "firmware_checksum": CHECKSUM,
        "risk": "medium", "impact": "building", "expected_outage": 20,
        "window_start": "2026-11-07T01:00", "window_end": "2026-11-07T04:00",
        "rollback_plan": "Önceki 17.6.4 görüntüsü flash'ta duruyor; boot değişkeni geri alınıp yeniden başlatılır.",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture(autouse=True)
def _setup(db, deploy, make_user, group_directory):
    deploy(*sorted(BPMN.glob(f"{KEY}.*")), *sorted(BPMN.glob("network_change.*")))
    with db.tx() as session:
        for number in CORE:
            assets.register(session, {"inventory_no": number, "kind": "network_device", "status": "in_use",
                                      "model": "Cisco Catalyst 9500"}, actor="test")
    make_user("ag.sorumlusu", groups=("network",))
    make_user("ag.uzmani", groups=("network",))
    make_user("daire.baskani", groups=("management",))


def _start(db, **changes) -> int:
    return db.start(KEY, _update(**changes), actor="selin.yildiz")


def _owner_mails(db, instance_id: int) -> list[tuple[str, str]]:
    return [(mail.template, db.requester_subject(instance_id, mail, mail.template, to=OWNER))
            for mail in db.mails(instance_id) if mail.recipients == OWNER]


def _installed(db, **changes) -> int:
    instance_id = _start(db, **changes)
    db.complete(instance_id, "approve_change", "ag.sorumlusu", {"approval": "approve", "approval_note": "ISSU yok."})
    db.work_at(db.timer_due(instance_id, OPENS))
    db.complete(instance_id, "backup_config", "ag.uzmani", {"backup_location": "oxidized: core-1, core-2 @ 4f2a91c"})
    db.complete(instance_id, "apply_change", "ag.uzmani", {"applied": True})
    return instance_id


@pytest.mark.parametrize(("changes", "fields"), [
    ({"firmware_checksum": "9f86d081"}, ["firmware_checksum"]),
    ({"release_notes_url": "cisco.com sürüm notları"}, ["release_notes_url"]),
    ({"target_version": None, "update_reason": "merak"}, ["target_version", "update_reason"]),
    ({"devices": None}, ["devices"]),
    ({"devices": ["BIDB-2021-0003", "BIDB-2021-9999"]}, ["devices.1"]),
])
def test_an_update_the_form_refuses_never_starts(db, changes, fields):
    assert db.refused_start(KEY, _update(**changes)) == fields


def test_a_window_in_the_past_is_refused_in_the_readers_language(db):
    with db.tx() as session, pytest.raises(ValidationError) as caught:
        runtime.start_instance(session, KEY, data=_update(window_start="2026-11-01T01:00",
                                                          window_end="2026-11-01T04:00"), actor="portal")
    [problem] = caught.value.problems
    assert problem.location == "window_start"
    assert rules.worded(problem, "tr") == "Bakım penceresi ileri bir zamanda başlamalıdır."
    assert rules.worded(problem, "en") == "The maintenance window must start in the future."


@pytest.mark.parametrize(("risk", "impact", "group", "days"), [
    ("medium", "building", "network", 2),
    ("medium", "campus", "management", 3),
    ("high", "building", "management", 3),
])
def test_the_shared_table_decides_who_approves_an_update(db, risk, impact, group, days):
    before = utcnow()
    instance_id = _start(db, risk=risk, impact=impact)
    task = db.task(instance_id, "approve_change")
    assert task.group_name == group
    assert abs(task.due_at - add_working_days(before, days)) < timedelta(minutes=1)


def test_a_rejected_update_tells_its_owner(db):
    instance_id = _start(db)
    db.complete(instance_id, "approve_change", "ag.sorumlusu",
                {"approval": "reject", "rejection_reason": "17.9.6 çıktı, onu bekleyin."})
    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert _owner_mails(db, instance_id) == [("network_change_rejected", "Ağ değişikliğiniz onaylanmadı")]
    assert db.requester_statuses(instance_id)[-1] == "Reddedildi"


def test_an_installed_update_records_the_running_version(db):
    instance_id = _installed(db)

    announce = db.mails(instance_id)[0]
    assert announce.recipients == "helpdesk@bidb.example.edu.tr"   # the help desk, whoever else is told
    assert "işletim sistemi güncellemesi" in announce.body
    scheduled = db.mails(instance_id)[1]
    assert "Hedef sürüm: 17.9.5" in scheduled.body and "Onay notu: ISSU yok." in scheduled.body
    assert db.refused_fields(instance_id, "verify_change", "ag.uzmani",
                             {"verification": "verified", "checks": ["reachability"]}) == ["running_version"]
    db.complete(instance_id, "verify_change", "ag.uzmani",
                {"verification": "verified", "checks": ["reachability", "services"], "running_version": "17.9.5"})

    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert _owner_mails(db, instance_id)[-1] == ("network_change_done", "Ağ değişikliği tamamlandı")
    assert "Cihazlarda çalışan sürüm: 17.9.5" in db.mails(instance_id)[-1].body
    assert db.requester_statuses(instance_id)[-1] == "Tamamlandı"
    # The devices' records in the asset registry note the version they run now.
    with db.tx() as session:
        for number in CORE:
            [*_, last] = assets.history(session, assets.get(session, number))
            assert (last.action, last.instance_id) == ("noted", instance_id)
            assert last.note == ("Yazılım güncellendi: 17.6.4 -> 17.9.5 (Çekirdek anahtarlar IOS-XE 17.9.5 "
                                 "güncellemesi, 07.11.2026 01:00-04:00)")


def test_a_failed_update_is_rolled_back_to_the_previous_image(db):
    instance_id = _installed(db)
    assert db.task(instance_id, "verify_change").state == TaskState.READY
    db.complete(instance_id, "verify_change", "ag.uzmani", {
        "verification": "failed", "checks": ["neighbours"], "failure_reason": "OSPF komşulukları kurulmadı."})
    db.complete(instance_id, "rollback_change", "ag.uzmani", {"rolled_back": True})
    db.complete(instance_id, "verify_rollback", "ag.uzmani",
                {"rollback_result": "restored", "rollback_verify_note": "17.6.4 ile komşuluklar kuruldu."})

    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert _owner_mails(db, instance_id)[-1] == ("network_change_failed", "Ağ değişikliği doğrulanamadı ve geri alındı")
    assert db.requester_statuses(instance_id)[-1] == "Başarısız: geri alındı"


def test_an_update_approved_after_its_window_gets_a_new_one(db, clock_at):
    instance_id = _start(db)
    clock_at(CLOSES + timedelta(hours=1))
    db.complete(instance_id, "approve_change", "ag.sorumlusu", {"approval": "approve"})
    db.complete(instance_id, "reschedule_window", "ag.uzmani",
                {"window_start": "2026-11-14T01:00", "window_end": "2026-11-14T04:00"})
    db.timer_due(instance_id, datetime(2026, 11, 14, 1, 0, tzinfo=ZONE))


def test_the_network_lead_hears_of_an_update_not_installed_in_its_window(db):
    instance_id = _start(db)
    db.complete(instance_id, "approve_change", "ag.sorumlusu", {"approval": "approve"})
    db.work_at(db.timer_due(instance_id, OPENS))
    db.complete(instance_id, "backup_config", "ag.uzmani", {"backup_location": "oxidized: core-1 @ 4f2a91c"})
    db.work_at(CLOSES)
    last = db.mails(instance_id)[-1]
    assert (last.recipients, last.subject) == (
        "network@bidb.example.edu.tr", "Bakım penceresi aşıldı: Çekirdek anahtarlar IOS-XE 17.9.5 güncellemesi")
