"""SEK 08-04-01 infrastructure setup: every path through the engine, on both databases."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import assets, conversation, directory, runtime, users, workdays
from engine.models import AssetChange, InstanceLink, InstanceStatus, ProcessInstance, utcnow

ROOT = Path(__file__).resolve().parents[2]
BPMN = ROOT / "bpmn"
KEY = "infrastructure_setup"
REQUESTER = "ahmet.kaya@example.edu.tr"
SURVEYED = {"survey_date": "2026-11-02", "survey_findings": "Kat kabinetinde 12 boş port, kanal yeterli.",
            "feasible": True}
DESIGNED = {"design_summary": "24 Cat6 nokta, kat kabinetine 1 adet 24 port PoE anahtar.",
            "bill_of_materials": "Cat6 kablo 600 m, 24 priz, 1 patch panel", "estimated_cost": 85000,
            "hardware_needed": False}
INSTALLED = {"installed_on": "2026-11-02", "installation_summary": "Z-14 laboratuvarına 24 ağ noktası."}
PASSED = {"tests_done": "Fluke sertifikasyon ölçümleri: 24/24 geçti.", "unit_representative": "Dr. Öğr. Üyesi Can Öz",
          "test_result": "pass"}


TEAM_LEAD = "altyapi.lider@example.edu.tr"
HEAD = "daire.baskani@example.edu.tr"


@pytest.fixture
def site(db, deploy, make_user):
    """The general team (its lead with an address: overdue mails go to ``lead:general``) and
    the department head, the management group's lead."""
    make_user("altyapi.ekip", groups=("general",))
    make_user("sistem.alim", groups=("systems",))     # buys the hardware (SEK 08-04-16)
    with db.tx() as session:
        users.add_user(session, "altyapi.lider", groups=("general",), email=TEAM_LEAD)
        users.add_user(session, "daire.baskani", groups=("management",), email=HEAD)
        directory.set_contact(session, "general", "altyapi@bidb.example.edu.tr", "altyapi.lider", actor="test")
        directory.set_contact(session, "management", "bidb@example.edu.tr", "daire.baskani", actor="test")
    deploy(*sorted(BPMN.glob(f"{KEY}.*")))
    return db


def _need(**changes) -> dict:
    data = {"requester": "Ahmet Kaya", "requester_email": REQUESTER, "unit": "Bilgisayar Mühendisliği Bölümü",
            "subject": "Z-14 için ağ noktaları", "need_kind": "cabling", "site": "Kanuni Kampüsü, Mühendislik Fakültesi",
            "room": "Zemin kat, Z-14", "point_count": 24,
            "need_description": "Yeni araştırma laboratuvarı için ağ noktaları."}
    return {**data, **changes}


def _team(db, instance_id: int, bpmn_id: str, data: dict) -> None:
    db.complete(instance_id, bpmn_id, "altyapi.ekip", data)


def _approved(db, **design) -> int:
    instance_id = db.start(KEY, _need())
    _team(db, instance_id, "survey", SURVEYED)
    _team(db, instance_id, "design", {**DESIGNED, **design})
    db.complete(instance_id, "approve", "daire.baskani", {"decision": "approve"})
    return instance_id


def _requester_mails(db, instance_id: int) -> list[tuple[str, str]]:
    return [(mail.template, db.requester_subject(instance_id, mail, mail.template, to=REQUESTER))
            for mail in db.mails(instance_id) if mail.template]


def _steps(db, instance_id: int) -> list[str]:
    return [bpmn_id for bpmn_id, _, _ in db.human_tasks(instance_id)]


# -- forms -----------------------------------------------------------------------------------


def test_the_start_form_asks_what_the_kind_of_need_needs(site):
    db = site
    assert db.refused_start(KEY, _need(point_count=None)) == ["point_count"]
    assert db.refused_start(KEY, _need(need_kind="lab", point_count=None)) == ["seat_count"]
    assert db.refused_start(KEY, _need(desired_date="2026-10-01")) == ["desired_date"]
    instance_id = db.start(KEY, _need(need_kind="lab", point_count=None, seat_count=40, desired_date="2027-02-01"))
    assert db.human_tasks(instance_id) == [("survey", "general", "ready")]


def test_the_installation_form_reads_one_inventory_number_a_line(site):
    db = site
    instance_id = _approved(db)
    assert db.refused_fields(instance_id, "install", "altyapi.ekip", {**INSTALLED, "asset_items": ["255-1"]}) == [
        "asset_kind", "asset_model"]
    bad = {**INSTALLED, "asset_kind": "network_device", "asset_model": "Cisco C9200-24P"}
    assert db.refused_fields(instance_id, "install", "altyapi.ekip",
                             {**bad, "asset_items": ["253.3.2-26-14; A; B"]}) == ["asset_items"]
    assert db.refused_fields(instance_id, "install", "altyapi.ekip",
                             {**bad, "asset_items": ["253 14 (kat 2)"]}) == ["asset_items"]      # not a registry number
    assert db.refused_fields(instance_id, "install", "altyapi.ekip",
                             {**bad, "asset_items": ["253-14", "253-14 ; X1"]}) == ["asset_items"]
    assert db.refused_fields(instance_id, "install", "altyapi.ekip",
                             {**bad, "installed_on": "2026-11-20"}) == ["installed_on"]


# -- the paths --------------------------------------------------------------------------------


def test_an_infeasible_setup_ends_after_the_survey_with_the_reason(site):
    db = site
    instance_id = db.start(KEY, _need())
    assert db.refused_fields(instance_id, "survey", "altyapi.ekip", {**SURVEYED, "feasible": False}) == [
        "infeasible_reason"]
    assert db.refused_fields(instance_id, "survey", "altyapi.ekip", {**SURVEYED, "survey_date": "2026-11-03"}) == [
        "survey_date"]

    _team(db, instance_id, "survey", {**SURVEYED, "feasible": False,
                                      "infeasible_reason": "Binada kablo kanalı yok; tadilat gerekiyor."})

    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert _requester_mails(db, instance_id) == [("setup_infeasible", "Altyapı kurulum talebiniz yapılamıyor")]
    assert "tadilat gerekiyor" in db.mails(instance_id)[0].body


def test_the_head_sends_the_design_back_then_refuses(site):
    db = site
    instance_id = db.start(KEY, _need())
    _team(db, instance_id, "survey", SURVEYED)
    _team(db, instance_id, "design", DESIGNED)
    assert db.human_tasks(instance_id)[-1] == ("approve", "management", "ready")
    assert db.refused_fields(instance_id, "approve", "daire.baskani", {"decision": "revise"}) == ["decision_note"]

    db.complete(instance_id, "approve", "daire.baskani", {"decision": "revise", "decision_note": "Fiber de ekleyin."})
    assert db.human_tasks(instance_id)[-1] == ("design", "general", "ready")
    _team(db, instance_id, "design", {**DESIGNED, "design_summary": "24 Cat6 + 2 fiber."})
    db.complete(instance_id, "approve", "daire.baskani", {"decision": "reject",
                                                          "decision_note": "Bu yıl bütçe yok; 2027'de yeniden."})

    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert _steps(db, instance_id) == ["survey", "design", "approve", "design", "approve"]
    assert _requester_mails(db, instance_id) == [("setup_rejected", "Altyapı kurulum talebiniz onaylanmadı")]
    assert "2027'de yeniden" in db.mails(instance_id)[0].body


def test_installed_from_stock_tested_twice_and_registered(site):
    db = site
    instance_id = _approved(db)
    assert db.human_tasks(instance_id)[-1] == ("install", "general", "ready")      # no purchase needed

    _team(db, instance_id, "install", {**INSTALLED, "asset_kind": "network_device",
                                       "asset_model": "Cisco C9200-24P", "asset_items": ["253.3.2-26-14; FOC1234X0AB"]})
    with db.tx() as session:
        assert assets.find(session, "253.3.2-26-14") is None          # not before the acceptance
    assert db.refused_fields(instance_id, "acceptance", "altyapi.ekip", {**PASSED, "test_result": "fail"}) == [
        "defects"]
    _team(db, instance_id, "acceptance", {**PASSED, "test_result": "fail", "defects": "3 noktada NEXT hatası."})
    assert db.human_tasks(instance_id)[-1] == ("fix_defects", "general", "ready")
    _team(db, instance_id, "fix_defects", {"defects_fixed": "3 priz yeniden sonlandırıldı."})
    assert db.human_tasks(instance_id)[-1] == ("acceptance", "general", "ready")
    _team(db, instance_id, "acceptance", PASSED)

    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert _steps(db, instance_id) == ["survey", "design", "approve", "install", "acceptance", "fix_defects",
                                       "acceptance"]
    with db.tx() as session:
        assert assets.get(session, "253.3.2-26-14").serial == "FOC1234X0AB"
    assert _requester_mails(db, instance_id) == [("setup_done", "Altyapı kurulumu tamamlandı")]
    assert "Z-14 laboratuvarına 24 ağ noktası" in db.mails(instance_id)[0].body


def test_hardware_to_buy_is_followed_before_the_installation(site):
    db = site
    instance_id = _approved(db, hardware_needed=True, hardware_list="1 adet 24 port PoE anahtar")
    assert db.human_tasks(instance_id)[-1] == ("procure", "general", "ready")
    _team(db, instance_id, "procure", {"hardware_received_on": "2026-11-02", "procurement_ref": "TİF 2026/118"})
    assert db.human_tasks(instance_id)[-1] == ("install", "general", "ready")
    _team(db, instance_id, "install", INSTALLED)            # nothing for the registry
    _team(db, instance_id, "acceptance", PASSED)

    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert _steps(db, instance_id) == ["survey", "design", "approve", "procure", "install", "acceptance"]


def test_a_project_planned_in_08_04_30_goes_straight_to_the_purchase(site):
    db = site
    instance_id = db.start(KEY, _need(planned_project="Hukuk Fakültesi yeni bina", design_summary="Omurga fiber",
                                      bill_of_materials="...", estimated_cost=400000, hardware_needed=True,
                                      hardware_list="2 omurga anahtarı"))
    assert db.human_tasks(instance_id) == [("procure", "general", "ready")]


# -- timers -----------------------------------------------------------------------------------


def test_a_late_survey_is_mailed_to_the_team_lead(site, clock_at, every_start):
    db = site
    instance_id = db.start(KEY, _need())
    due = db.timer_due(instance_id, workdays.add_working_days(every_start, 5))
    clock_at(due - timedelta(minutes=5))
    assert db.work() == 0
    clock_at(due + timedelta(minutes=1))
    db.work()

    assert db.mail_headers(instance_id) == [(TEAM_LEAD, "Keşfi gecikmiş altyapı kurulum talebi: Z-14 için ağ noktaları")]
    assert db.human_tasks(instance_id) == [("survey", "general", "ready")]


def test_the_head_is_reminded_after_three_working_days(site, sek_worker):
    db = site
    instance_id = db.start(KEY, _need())
    _team(db, instance_id, "survey", SURVEYED)
    _team(db, instance_id, "design", DESIGNED)
    [due] = db.timer_dues(instance_id)
    assert due == db.timer_due(instance_id, workdays.add_working_days(db.task(instance_id, "design").completed_at, 3))

    sek_worker(due - utcnow() + timedelta(minutes=2))

    assert db.mail_headers(instance_id) == [(HEAD, "Hatırlatma: onay bekleyen altyapı kurulumu: Z-14 için ağ noktaları")]
    assert "85000 TL" in db.mail_bodies(instance_id)[0]
    assert db.human_tasks(instance_id)[-1] == ("approve", "management", "ready")


def test_a_late_installation_is_mailed_to_the_team_lead(site, clock_at):
    db = site
    instance_id = _approved(db)
    [due] = db.timer_dues(instance_id)
    clock_at(due + timedelta(minutes=1))
    db.work()
    assert db.mail_headers(instance_id) == [(TEAM_LEAD, "Süresi geçen altyapı kurulumu: Z-14 için ağ noktaları")]
    assert db.human_tasks(instance_id)[-1] == ("install", "general", "ready")


def test_the_requester_in_english(site):
    db = site
    with db.tx() as session:
        instance_id = runtime.start_instance(session, KEY, data=_need(), actor="portal").id
        conversation.record_contact(session, instance_id, name="Ahmet Kaya", email=REQUESTER, locale="en")
    db.work()
    _team(db, instance_id, "survey", {**SURVEYED, "feasible": False, "infeasible_reason": "Kanal yok."})
    [mail] = db.mails(instance_id)
    assert db.requester_subject(instance_id, mail, "setup_infeasible", "en", to=REQUESTER) == (
        "Your infrastructure setup request cannot be carried out")


# -- linked requests and the asset registry (issue 14's engine pieces) ---------------------------

STUB = ROOT / "tests" / "data" / "linked" / "hardware_procurement.bpmn"
ITEMS = {"asset_kind": "network_device", "asset_model": "Cisco C9200-24P",
         "asset_items": ["253.03.02.01-26-14; FOC1234X0AB", "253.03.02.01-26-15"]}


def _children(db, instance_id: int) -> list[ProcessInstance]:
    with db.tx() as session:
        return list(session.scalars(select(ProcessInstance).join(InstanceLink, InstanceLink.child_id == ProcessInstance.id)
                                    .where(InstanceLink.parent_id == instance_id).order_by(ProcessInstance.id)))


def test_while_08_04_16_does_not_run_the_team_follows_the_purchase(site):
    db = site
    instance_id = _approved(db, hardware_needed=True, hardware_list="1 adet 24 port PoE anahtar")

    assert db.human_tasks(instance_id)[-1] == ("procure", "general", "ready")
    assert _children(db, instance_id) == []
    assert "linked.not_started" in db.actions(instance_id)


def test_the_purchase_runs_as_a_linked_08_04_16_and_its_end_lets_the_installation_begin(site, deploy):
    db = site
    deploy(STUB)
    instance_id = _approved(db, hardware_needed=True, hardware_list="1 adet 24 port PoE anahtar")

    [child] = _children(db, instance_id)
    assert child.process_key == "hardware_procurement"
    assert db.human_tasks(child.id) == [("buy", "systems", "ready")]
    assert db.status(instance_id) == InstanceStatus.WAITING
    with db.tx() as session:
        data = runtime.load_instance(session, child.id).workflow.last_task.data
        assert data["items"] == "1 adet 24 port PoE anahtar" and data["requester_email"] == REQUESTER
        assert conversation.contact_of(session, child.id).email == REQUESTER

    db.complete(child.id, "buy", "sistem.alim", {"outcome": "bought"}, claim=False)

    assert db.status(child.id) == InstanceStatus.COMPLETED
    assert db.human_tasks(instance_id)[-1] == ("install", "general", "ready")
    assert "procure" not in _steps(db, instance_id)


def test_a_cancelled_purchase_comes_back_to_the_team(site, deploy):
    db = site
    deploy(STUB)
    instance_id = _approved(db, hardware_needed=True, hardware_list="1 adet 24 port PoE anahtar")
    [child] = _children(db, instance_id)
    with db.tx() as session:
        runtime.cancel_instance(session, child.id, actor="daire.baskani", reason="Bütçe yok")
    db.work()
    assert db.human_tasks(instance_id)[-1] == ("procure", "general", "ready")


def test_the_installed_items_go_into_the_asset_registry_under_the_request(site):
    db = site
    instance_id = _approved(db)
    _team(db, instance_id, "install", {**INSTALLED, **ITEMS})
    _team(db, instance_id, "acceptance", PASSED)

    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert "register_assets" not in _steps(db, instance_id)
    with db.tx() as session:
        first = assets.get(session, "253.03.02.01-26-14")
        second = assets.get(session, "253.03.02.01-26-15")
        assert (first.kind, first.model, first.serial, first.status) == (
            "network_device", "Cisco C9200-24P", "FOC1234X0AB", "in_use")
        assert (first.site, first.room, first.owner_unit) == (
            "Kanuni Kampüsü, Mühendislik Fakültesi", "Zemin kat, Z-14", "Bilgisayar Mühendisliği Bölümü")
        assert second.serial == ""
        changes = list(session.scalars(select(AssetChange).where(AssetChange.instance_id == instance_id)))
        assert len(changes) == 2
    assert _requester_mails(db, instance_id) == [("setup_done", "Altyapı kurulumu tamamlandı")]
