"""SEK 08-04-07 in a real browser: the workshop team receives a device (its condition and
what came with it), diagnoses paid parts (the parts' section appears with the choice and
is refused empty, in place), the unit head approves, the parts arrive, the device is
repaired and handed over against a signature; the requester is mailed at each step and the
asset registry follows the device."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

import processes
from engine import assets, runtime
from engine.models import MailMessage, ProcessInstance

pytestmark = pytest.mark.browser

# The live server deploys the whole bpmn/ folder with the operators known when it starts.
processes.install()

RECEIVE = "Cihazı teslim al"
DIAGNOSE = "Arızayı tespit et"
APPROVE = "Parça masrafını onayla"
ORDER = "Parçaları temin et"
REPAIR = "Cihazı onar"
HAND_OVER = "Cihazı teslim et"
REQUESTER = "murat.aydin@example.edu.tr"
INVENTORY_NO = "253.02.01-2021-007701"


def _complete(site, page, expected_title: str) -> None:
    page.get_by_test_id("complete").click()
    expect(page).to_have_url(re.compile(r"/inbox"))
    expect(page.locator(".alert-success")).to_contain_text(expected_title)


def test_the_workshop_repairs_a_device_with_parts_the_unit_head_approves(site, page, open_page):
    site.add_user("atolye.teknisyen", "workshop")
    site.add_user("birim.amiri.atolye", "unitheads")
    with site.tx() as session:
        assets.register(session, {"inventory_no": INVENTORY_NO, "kind": "computer", "model": "Lenovo ThinkPad E14",
                                  "status": "in_use", "owner_unit": "Kimya Bölümü"}, actor="test")
        request_id = runtime.start_instance(session, "workshop_service", actor="portal", data={
            "requester": "Murat Aydın", "requester_email": REQUESTER, "unit": "Kimya Bölümü",
            "subject": "Dizüstü bilgisayar şarj olmuyor", "device_type": "laptop",
            "inventory_no": INVENTORY_NO, "brand_model": "Lenovo ThinkPad E14",
            "fault_description": "Adaptör takılıyken şarj olmuyor, pil göstergesi yanmıyor.", "data_notice": True,
        }).id
        code = session.get(ProcessInstance, request_id).tracking_code

    # The technician receives the device: its condition and what came with it.
    site.sign_in(page, "atolye.teknisyen")
    receive_id = site.task_id(request_id, "receive_device")
    site.claim_from_group(page, receive_id, RECEIVE, "Dizüstü bilgisayar şarj olmuyor")
    form = page.get_by_test_id("task-form")
    form.get_by_label("Evet, teslim alındı").check()
    form.locator("#field-received_condition").fill("Kasa sağlam, sol menteşe gevşek.")
    form.get_by_label("Güç adaptörü / kablosu").check()
    form.get_by_label("Çanta").check()
    _complete(site, page, RECEIVE)
    site.run_jobs()
    received = site.newest_mail(request_id)
    assert (received.recipients, received.subject) == (REQUESTER, f"[{code}] Cihazınız atölyede teslim alındı")
    assert "Cihazla gelenler: Güç adaptörü / kablosu, Çanta" in received.body

    # The diagnosis: paid parts; the parts' fields appear with the choice and are required.
    diagnose_id = site.task_id(request_id, "diagnose")
    site.claim_from_group(page, diagnose_id, DIAGNOSE)
    form = page.get_by_test_id("task-form")
    form.locator("#field-diagnosis").fill("Anakart şarj devresi arızalı.")
    expect(form.locator("#field-parts_list")).to_be_hidden()
    form.get_by_label("Ücretli parça gerekiyor (birim amiri onayı)").check()
    expect(form.locator("#field-parts_list")).to_be_visible()
    expect(form.locator("#field-technical_report")).to_be_hidden()
    page.get_by_test_id("complete").click()
    expect(page.get_by_test_id("error-parts_list")).to_have_text("Bu alan zorunludur.")
    assert site.task(diagnose_id).state == "claimed"
    form = page.get_by_test_id("task-form")
    form.locator("#field-parts_list").fill("1 adet şarj entegresi, 1 adet DC soket")
    form.locator("#field-parts_cost").fill("1450,50")
    _complete(site, page, DIAGNOSE)

    # The unit head approves the cost.
    head = open_page()
    site.sign_in(head, "birim.amiri.atolye")
    approve_id = site.task_id(request_id, "approve_parts")
    site.claim_from_group(head, approve_id, APPROVE)
    head.get_by_test_id("task-form").get_by_label("Onaylıyorum: parçalar birim bütçesinden alınsın").check()
    _complete(site, head, APPROVE)
    assert site.task(approve_id).completed_by == "birim.amiri.atolye"

    # The parts arrive, the device is repaired and handed over against a signature.
    order_id = site.task_id(request_id, "order_parts")
    site.claim_from_group(page, order_id, ORDER)
    form = page.get_by_test_id("task-form")
    form.get_by_label("Doğrudan temin (satın alma)").check()
    form.get_by_label("Parçalar atölyeye ulaştı").check()
    _complete(site, page, ORDER)

    repair_id = site.task_id(request_id, "repair")
    site.claim_from_group(page, repair_id, REPAIR)
    form = page.get_by_test_id("task-form")
    form.get_by_label("Onarıldı, test edildi").check()
    form.locator("#field-repair_note").fill("Şarj entegresi ve DC soket değiştirildi, şarj testi yapıldı.")
    _complete(site, page, REPAIR)
    site.run_jobs()
    ready = site.newest_mail(request_id)
    assert ready.subject == f"[{code}] Cihazınız teslim almaya hazır"
    assert "Şarj entegresi ve DC soket değiştirildi" in ready.body

    hand_over_id = site.task_id(request_id, "hand_over")
    site.claim_from_group(page, hand_over_id, HAND_OVER)
    form = page.get_by_test_id("task-form")
    form.locator("#field-received_by").fill("Murat Aydın")
    page.get_by_test_id("complete").click()
    expect(page.get_by_test_id("error-requester_confirmed")).to_be_visible()   # no signature, no hand-over
    page.get_by_test_id("task-form").get_by_label(
        "Teslim alan cihazı ve aksesuarlarını kontrol etti, teslim tutanağını imzaladı").check()
    _complete(site, page, HAND_OVER)
    site.run_jobs()                                   # the registry's status, by the worker

    page.goto(site.at(f"/instances/{request_id}"))
    expect(page.get_by_test_id("status")).to_have_text("tamamlandı")
    tasks = page.get_by_test_id("instance-tasks")
    expect(tasks.locator(f"tr[data-task-id='{approve_id}']")).to_contain_text("birim.amiri.atolye")
    expect(tasks.locator(f"tr[data-task-id='{hand_over_id}']")).to_contain_text("atolye.teknisyen")
    with site.tx() as session:
        templates = list(session.scalars(select(MailMessage.template).where(MailMessage.instance_id == request_id)
                                         .order_by(MailMessage.id)))
    assert templates == ["workshop_received", "workshop_ready"]
    with site.tx() as session:
        assert assets.get(session, INVENTORY_NO).status == "in_use"     # in repair while at the workshop, back in use
