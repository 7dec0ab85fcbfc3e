"""SEK 08-04-30 network infrastructure planning: every path through the engine, on both databases."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import conversation, directory, runtime, users, workdays
from engine.models import InstanceLink, InstanceStatus, ProcessInstance, utcnow

ROOT = Path(__file__).resolve().parents[2]
BPMN = ROOT / "bpmn"
KEY = "network_planning"
CONTACT = "insaat@example.edu.tr"
SURVEYED = {"survey_date": "2026-11-02", "survey_findings": "Kaba inşaat bitti; sistem odası bodrumda.",
            "feasible": True}
DESIGNED = {"topology": "İki omurga anahtarı, kat başına bir erişim kabineti, 6 VLAN.", "cabling_points": 320,
            "access_points": 40, "fiber_needed": True, "fiber_length_m": 850}
COSTED = {"bill_of_materials": "2 omurga anahtarı, 8 erişim anahtarı, 40 AP, 850 m fiber", "estimated_cost": 2400000,
          "funding": "construction", "procurement_needed": True, "procurement_items": "8 adet 48 port PoE anahtar"}


NETWORK_LEAD = "ag.lider@example.edu.tr"
HEAD = "daire.baskani@example.edu.tr"


@pytest.fixture
def site(db, deploy, make_user):
    """The network team (its lead with an address: overdue mails go to ``lead:network``) and
    the department head, the management group's lead."""
    make_user("ag.proje", groups=("network",))
    with db.tx() as session:
        users.add_user(session, "ag.lider", groups=("network",), email=NETWORK_LEAD)
        users.add_user(session, "daire.baskani", groups=("management",), email=HEAD)
        users.ensure_group(session, "general")
        directory.set_contact(session, "network", "ag@bidb.example.edu.tr", "ag.lider", actor="test")
        directory.set_contact(session, "management", "bidb@example.edu.tr", "daire.baskani", actor="test")
    deploy(*sorted(BPMN.glob(f"{KEY}.*")))
    return db


def _project(**changes) -> dict:
    data = {"requester": "Yapı İşleri ve Teknik Daire Başkanlığı", "requester_email": CONTACT,
            "subject": "Yeni Hukuk Fakültesi binası ağ altyapısı", "project_name": "Hukuk Fakültesi yeni bina",
            "project_kind": "new_building", "site": "Merkez Kampüs, Hukuk Fakültesi", "letter_no": "E-12345678-2026",
            "need_description": "5 katlı binada derslik, ofis ve kütüphane için kablolu ve kablosuz ağ.",
            "expected_users": 1800, "construction_schedule": "İnce işler Ocak 2027, teslim Haziran 2027."}
    return {**data, **changes}


def _team(db, instance_id: int, bpmn_id: str, data: dict) -> None:
    db.complete(instance_id, bpmn_id, "ag.proje", data)


def _costed(db) -> int:
    instance_id = db.start(KEY, _project(), actor="ag.proje")
    _team(db, instance_id, "survey", SURVEYED)
    _team(db, instance_id, "design", DESIGNED)
    _team(db, instance_id, "cost", COSTED)
    return instance_id


def _requester_mails(db, instance_id: int) -> list[tuple[str, str]]:
    return [(mail.template, db.requester_subject(instance_id, mail, mail.template, to=CONTACT))
            for mail in db.mails(instance_id) if mail.template]


def _steps(db, instance_id: int) -> list[str]:
    return [bpmn_id for bpmn_id, _, _ in db.human_tasks(instance_id)]


def test_the_project_forms_ask_what_their_choices_need(site):
    db = site
    assert db.refused_start(KEY, _project(construction_schedule=None)) == ["construction_schedule"]
    assert db.refused_start(KEY, _project(desired_date="2026-10-30")) == ["desired_date"]
    wireless = db.start(KEY, _project(project_kind="wireless", construction_schedule=None), actor="ag.proje")
    assert db.human_tasks(wireless) == [("survey", "network", "ready")]
    _team(db, wireless, "survey", SURVEYED)
    assert db.refused_fields(wireless, "design", "ag.proje", {**DESIGNED, "fiber_length_m": None}) == [
        "fiber_length_m"]
    _team(db, wireless, "design", DESIGNED)
    assert db.refused_fields(wireless, "cost", "ag.proje", {**COSTED, "procurement_items": None}) == [
        "procurement_items"]


def test_an_infeasible_project_ends_after_the_survey(site):
    db = site
    instance_id = db.start(KEY, _project(), actor="ag.proje")
    _team(db, instance_id, "survey", {**SURVEYED, "feasible": False,
                                      "infeasible_reason": "Bina ile omurga arasında kanal güzergâhı yok."})
    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert _requester_mails(db, instance_id) == [
        ("planning_infeasible", "Altyapı projeniz yapılamıyor: Hukuk Fakültesi yeni bina")]
    assert "kanal güzergâhı yok" in db.mails(instance_id)[0].body


def test_sent_back_for_revision_then_refused(site):
    db = site
    instance_id = _costed(db)
    assert db.human_tasks(instance_id)[-1] == ("approve", "management", "ready")
    db.complete(instance_id, "approve", "daire.baskani", {"decision": "revise",
                                                          "decision_note": "AP sayısını kütüphaneye göre artırın."})
    assert db.human_tasks(instance_id)[-1] == ("design", "network", "ready")
    _team(db, instance_id, "design", {**DESIGNED, "access_points": 52})
    _team(db, instance_id, "cost", COSTED)
    db.complete(instance_id, "approve", "daire.baskani", {"decision": "reject",
                                                          "decision_note": "İhale kapsamına alınmalı."})

    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert _steps(db, instance_id) == ["survey", "design", "cost", "approve", "design", "cost", "approve"]
    assert _requester_mails(db, instance_id) == [
        ("planning_rejected", "Altyapı projeniz onaylanmadı: Hukuk Fakültesi yeni bina")]


def test_an_approved_project_is_handed_over_to_the_setup(site):
    db = site
    instance_id = _costed(db)
    db.complete(instance_id, "approve", "daire.baskani", {"decision": "approve"})
    assert db.human_tasks(instance_id)[-1] == ("handover", "network", "ready")
    _team(db, instance_id, "handover", {"setup_tracking_code": "SEK-2026-00077"})

    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert _requester_mails(db, instance_id) == [
        ("planning_approved", "Altyapı projeniz onaylandı: Hukuk Fakültesi yeni bina")]
    assert "SEK-2026-00077" in db.mails(instance_id)[0].body


def test_a_late_survey_is_mailed_to_the_group_lead(site, clock_at, every_start):
    db = site
    instance_id = db.start(KEY, _project(), actor="ag.proje")
    due = db.timer_due(instance_id, workdays.add_working_days(every_start, 10))
    clock_at(due - timedelta(minutes=5))
    assert db.work() == 0
    clock_at(due + timedelta(minutes=1))
    db.work()
    assert db.mail_headers(instance_id) == [(NETWORK_LEAD, "Keşfi gecikmiş altyapı projesi: Hukuk Fakültesi yeni bina")]
    assert db.human_tasks(instance_id) == [("survey", "network", "ready")]


def test_the_head_is_reminded_after_five_working_days(site, sek_worker):
    db = site
    instance_id = _costed(db)
    [due] = db.timer_dues(instance_id)
    sek_worker(due - utcnow() + timedelta(minutes=2))
    assert db.mail_headers(instance_id) == [(HEAD, "Hatırlatma: onay bekleyen altyapı projesi: Hukuk Fakültesi yeni bina")]
    assert "2400000 TL" in db.mail_bodies(instance_id)[0]
    assert db.human_tasks(instance_id)[-1] == ("approve", "management", "ready")


# -- the hand-over as a linked request (issue 14's engine pieces) --------------------------------


def test_an_approved_project_starts_its_setup_as_a_linked_request(site, deploy):
    db = site
    deploy(*sorted(BPMN.glob("infrastructure_setup.*")))
    instance_id = _costed(db)
    db.complete(instance_id, "approve", "daire.baskani", {"decision": "approve"})

    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert "handover" not in _steps(db, instance_id)
    with db.tx() as session:
        [link] = session.scalars(select(InstanceLink).where(InstanceLink.parent_id == instance_id))
        child = session.get(ProcessInstance, link.child_id)
        assert child.process_key == "infrastructure_setup"
        assert conversation.contact_of(session, child.id).email == CONTACT
        code = child.tracking_code
    # The approved project skips the setup's survey, design and approval: the purchase is next.
    assert db.human_tasks(child.id) == [("procure", "general", "ready")]
    with db.tx() as session:
        data = runtime.load_instance(session, child.id).workflow.last_task.data
    assert data["design_summary"] == DESIGNED["topology"] and data["estimated_cost"] == 2400000
    assert data["planned_project"] == "Hukuk Fakültesi yeni bina"
    assert data["need_kind"] == "building" and data["site"] == "Merkez Kampüs, Hukuk Fakültesi"
    assert _requester_mails(db, instance_id) == [
        ("planning_approved", "Altyapı projeniz onaylandı: Hukuk Fakültesi yeni bina")]
    assert f"takip koduyla izleyebilirsiniz: {code}" in db.mails(instance_id)[0].body


def test_without_a_running_setup_process_the_team_hands_over_by_hand(site):
    db = site
    instance_id = _costed(db)
    db.complete(instance_id, "approve", "daire.baskani", {"decision": "approve"})
    assert db.human_tasks(instance_id)[-1] == ("handover", "network", "ready")
    assert "linked.not_started" in db.actions(instance_id)
