"""What the requester is told a request is at: the statuses and outcomes the processes
declare (requesterStatus / requesterOutcome / requesterShows in their BPMN), recorded by
the engine at each save with the engine's (pinned) clock, and readable without loading
the workflow."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from lxml import etree

import processes
from engine import clock, conversation, requester_status, services, validation
from engine.models import ProcessInstance
from engine.workdays import ZONE
from processes.catalog import BPMN_DIR
from processes.i18n import text
from processes.user_support.recategorize import recategorize

PORTAL_PROCESSES = ("user_support", "vpn_request", "yurtnet_registration", "server_external_access",
                    "software_request", "backup_restore", "message_routing", "call_record",
                    "infrastructure_maintenance",
                    "lab_access_restriction", "network_os_update", "network_config_update")
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
      "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}


def _declared(key: str) -> list[tuple[str, str, str]]:
    """``(element tag, property, value)`` of every requester property in ``key``'s BPMN."""
    tree = etree.parse(str(BPMN_DIR / f"{key}.bpmn"))
    for properties in tree.iterfind(".//spiffworkflow:properties", NS):
        names = [prop.get("name") for prop in properties]
        assert len(names) == len(set(names)), f"{key}: a property is declared twice: {names}"
    found = []
    for prop in tree.iterfind(".//spiffworkflow:property", NS):
        if prop.get("name") in (requester_status.STATUS, requester_status.OUTCOME):
            element = prop.getparent().getparent().getparent()
            found.append((etree.QName(element).localname, prop.get("name"), prop.get("value")))
    return found


@pytest.mark.parametrize("key", PORTAL_PROCESSES)
def test_every_requester_process_declares_its_waits_and_ends_in_both_languages(key):
    declared = _declared(key)
    waits = {tag for tag, name, _ in declared if name == requester_status.STATUS}
    ends = [value for tag, name, value in declared if name == requester_status.OUTCOME]
    assert waits and waits <= {"userTask", "receiveTask", "intermediateCatchEvent", "serviceTask"}
    assert ends and {tag for tag, name, _ in declared if name == requester_status.OUTCOME} == {"endEvent"}
    for _tag, _name, value in declared:
        assert text(key, value, "en") != value, f"{key}: {value!r} has no English"


def _vpn_data(**changes) -> dict:
    today = clock.now().astimezone(ZONE).date()
    data = {"requester": "Elif Şahin", "requester_email": "elif.sahin@example.edu.tr", "unit": "Kimya Bölümü",
            "subject": "VPN erişimi", "purpose": "Evden laboratuvar sunucusunun yönetimi",
            "target_systems": ["10.12.4.20"], "start_date": today.isoformat(),
            "end_date": (today + timedelta(days=10)).isoformat()}
    return {**data, **changes}


def _history(db, instance_id: int) -> list[tuple[str, str, str]]:
    with db.tx() as session:
        return [(row.kind, row.text, row.created_at.astimezone(ZONE).strftime("%d.%m %H:%M"))
                for row in requester_status.history(session, instance_id)]


@pytest.fixture
def vpn(db, deploy, make_user):
    deploy(*sorted(BPMN_DIR.glob("vpn_request.*")))
    make_user("vpn.amir", groups=("unitheads",), roles=("staff", "admin"))
    make_user("vpn.ag", groups=("network",))


def test_a_vpn_request_tells_its_requester_each_step_with_its_date(db, vpn, clock_at):
    clock_at(datetime(2026, 11, 2, 10, 0, tzinfo=ZONE))
    instance_id = db.start("vpn_request", _vpn_data())
    assert _history(db, instance_id) == [("status", "Birim amirinizin onayında", "02.11 10:00")]

    clock_at(datetime(2026, 11, 3, 9, 30, tzinfo=ZONE))
    db.complete(instance_id, "approve_request", "vpn.amir", {"approval": "approve"})
    clock_at(datetime(2026, 11, 3, 14, 0, tzinfo=ZONE))
    db.complete(instance_id, "set_up_vpn", "vpn.ag", {"vpn_username": "elif.sahin-vpn",
                                                      "setup_notes": "FortiClient ile vpn.example.edu.tr"})
    assert _history(db, instance_id) == [
        ("status", "Birim amirinizin onayında", "02.11 10:00"),
        ("status", "Ağ ekibi kurulum yapıyor", "03.11 09:30"),
        ("status", "Kuruldu: VPN erişiminiz bitiş tarihine kadar açık", "03.11 14:00"),
    ]
    with db.tx() as session:
        current = requester_status.history(session, instance_id)[-1]
        assert [(item["label"], item["value"]) for item in current.shown] == [
            ("VPN kullanıcı adı", "elif.sahin-vpn"), ("Bağlantı talimatları", "FortiClient ile vpn.example.edu.tr"),
            ("Geçerlilik", "02.11.2026 - 12.11.2026")]


def test_a_refusal_is_the_outcome_with_its_reason(db, vpn):
    instance_id = db.start("vpn_request", _vpn_data())
    db.complete(instance_id, "approve_request", "vpn.amir", {"approval": "reject",
                                                             "rejection_reason": "İşiniz VPN gerektirmiyor."})
    *_, last = _history(db, instance_id)
    assert last[:2] == ("outcome", "Reddedildi")
    with db.tx() as session:
        row = requester_status.history(session, instance_id)[-1]
        assert row.shown == [{"field": "rejection_reason", "label": "Ret gerekçesi",
                              "value": "İşiniz VPN gerektirmiyor."}]


@pytest.mark.parametrize(("old", "new", "location", "phrase"), [
    ('name="requesterStatus" value="Birim amirinizin onayında"', 'name="requesterOutcome" value="Onaylandı"',
     "vpn_request.bpmn:approve_request", "requesterOutcome belongs on endEvent, not here"),
    ('name="requesterOutcome" value="Reddedildi"', 'name="requesterOutcome" value=""',
     "vpn_request.bpmn:request_rejected", "requesterOutcome must be a text of 1 to 300 characters"),
])
def test_a_misplaced_or_empty_requester_status_is_refused_at_its_element(old, new, location, phrase):
    processes.install()
    files = validation.load_paths([str(path) for path in sorted(BPMN_DIR.glob("vpn_request.*"))])
    assert validation.validate_files(files, known_operators=services.operator_names()) == []
    text_ = files["vpn_request.bpmn"].decode()
    assert old in text_
    files["vpn_request.bpmn"] = text_.replace(old, new, 1).encode()
    problems = validation.validate_files(files, known_operators=services.operator_names())
    assert [(p.location, p.message) for p in problems] == [(location, phrase)]


def test_a_support_request_tells_each_change_once_and_its_outcome(db, deploy, make_user):
    """A move to another team is no news to the requester; a question, the answer, a
    reopening and the end are."""
    make_user("destek.masa", groups=("helpdesk",), roles=("staff", "admin"))
    deploy(*sorted(BPMN_DIR.glob("user_support.*")))
    instance_id = db.start("user_support", {
        "requester": "Elif Demir", "requester_email": "elif.demir@example.edu.tr", "category": "Personel E-posta",
        "subject": "E-posta kotam doldu", "message": "Kotam doldu."})
    with db.tx() as session:
        recategorize(session, instance_id, "Staj Yönetim Sistemi", by="destek.masa", note="Staj modülü")
    db.work()
    db.complete(instance_id, "resolve", "destek.masa", {"action": "ask", "question": "Hangi hesabınız?"})
    with db.tx() as session:
        conversation.requester_reply(session, session.get(ProcessInstance, instance_id), "Personel hesabım.",
                                     email="elif.demir@example.edu.tr")
    db.work()
    db.complete(instance_id, "resolve", "destek.masa", {"action": "answer", "answer": "Kotanızı artırdık."})
    assert [text for _kind, text, _at in _history(db, instance_id)] == [
        "Destek masasında", "Yanıtınızı bekliyoruz", "Destek masasında", "Yanıtlandı"]


def test_an_outcome_shows_a_value_read_inside_a_service_result(db, deploy):
    """``mac_check.reason``: the YurtNet refusal's reason, from the MAC check's result."""
    deploy(*sorted(BPMN_DIR.glob("yurtnet_registration.*")))
    instance_id = db.start("yurtnet_registration", {
        "requester": "Zeynep Kaya", "requester_email": "zeynep.kaya@ogr.example.edu.tr", "subject": "YurtNet kaydı",
        "student_number": "402512345", "dorm": "Kanuni Erkek Öğrenci Yurdu", "block": "B", "room": "214",
        "device_type": "Dizüstü bilgisayar", "mac_address": "FF:FF:FF:FF:FF:FF"})
    with db.tx() as session:
        [row] = requester_status.history(session, instance_id)
        assert (row.kind, row.text, [item["label"] for item in row.shown]) == ("outcome", "Reddedildi", ["Neden"])
        assert "yayın (broadcast)" in row.shown[0]["value"]
