"""Staff pick an asset from the registry in an inventory-number field (static/asset_field.js,
loaded as a file under the strict CSP): typing searches, the arrow keys and Enter choose,
the count is announced; the number picked completes the task."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

import processes
from engine import assets, definitions, runtime, services, validation
from engine.models import HumanTask, ProcessInstance
from tests.browser.a11y import check_page

pytestmark = pytest.mark.browser

DATA = Path(__file__).resolve().parents[1] / "data" / "assets"


def test_staff_find_an_asset_by_model_and_choose_it_with_the_keyboard(site, page: Page):
    site.add_user("demirbas.ag", "network")
    processes.install()
    with site.tx() as session:
        definitions.deploy(session, validation.load_paths([str(p) for p in sorted(DATA.glob("asset_move*"))]),
                           known_operators=services.operator_names())
        for number, model in (("BT-SW-0001", "Aruba 2930F kenar anahtar"), ("BT-SW-0002", "Aruba 6300M omurga"),
                              ("BT-UPS-0001", "APC Smart-UPS SRT 10kVA")):
            assets.register(session, {"inventory_no": number, "kind": "network_device" if "SW" in number else "ups",
                                      "model": model, "site": "Merkez Kampüs", "room": "B-012", "status": "in_use"},
                            actor="tkyetkili")
        instance_id = runtime.start_instance(session, "asset_move", actor="demirbas.ag", data={
            "device": "BT-SW-0001", "room": "B-014", "spare_no": "BT-SW-9001"}).id
    site.run_jobs()
    task_id = site.task_id(instance_id, "check")
    site.sign_in(page, "demirbas.ag")
    site.claim_on_task_page(page, task_id)

    field = page.locator("#field-uplink")
    field.fill("aruba")
    matches = page.locator("#field-uplink-matches [role=option]")
    expect(matches).to_have_count(2)
    expect(matches.first).to_have_text("BT-SW-0001 — Aruba 2930F kenar anahtar — Merkez Kampüs / B-014")   # moved by the request
    expect(page.locator("#field-uplink-status")).to_have_text("2 demirbaş bulundu; seçmek için ok tuşlarını kullanın.")
    expect(field).to_have_attribute("aria-expanded", "true")
    field.press("ArrowDown")
    field.press("ArrowDown")
    expect(field).to_have_attribute("aria-activedescendant", "field-uplink-match-1")
    field.press("Enter")
    expect(field).to_have_value("BT-SW-0002")
    expect(page.locator("#field-uplink-matches")).to_be_hidden()

    field.fill("yok-boyle-bir-sey")
    expect(page.locator("#field-uplink-status")).to_have_text("Eşleşen kayıtlı demirbaş yok.")
    field.fill("BT-SW-0002")
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_url(lambda url: f"/tasks/{task_id}" not in url)
    with site.tx() as session:
        assert session.get(HumanTask, task_id).state == "completed"
        assert session.get(ProcessInstance, instance_id).status == "completed"


def test_the_registry_pages_are_accessible_on_a_desktop_and_a_phone(site, page: Page):
    site.add_user("demirbas.sistem", "systems")
    with site.tx() as session:
        if assets.find(session, "BT-SRV-0001") is None:
            assets.register(session, {"inventory_no": "BT-SRV-0001", "kind": "server", "model": "Dell PowerEdge R750",
                                      "site": "Merkez Kampüs", "room": "B-012", "rack": "B1", "rack_unit": 10,
                                      "status": "in_use"}, actor="tkyetkili")
            assets.update(session, "BT-SRV-0001", {"status": "in_repair"}, actor="tkyetkili", note="Disk arızası")
    site.sign_in(page, "demirbas.sistem")
    page.get_by_test_id("nav-assets").click()
    expect(page.locator("main h1")).to_have_text("Demirbaş kaydı")
    page.fill("#asset-q", "BT-SRV")
    page.locator("[data-testid=asset-filters] button[type=submit]").click()
    expect(page.get_by_test_id("asset-row")).to_have_count(1)
    check_page(page, "the asset registry")
    page.get_by_role("link", name="BT-SRV-0001").click()
    expect(page.get_by_test_id("asset-status")).to_have_text("Onarımda")
    check_page(page, "an asset with its history")
    page.get_by_test_id("asset-edit").click()
    page.fill("#field-rack_unit", "99")
    page.locator("[data-testid=asset-form] button[type=submit]").click()
    expect(page.get_by_test_id("error-rack_unit")).to_have_text("1 ile 60 arasında bir kabin yuvası girin.")
    check_page(page, "the asset form with an error")
