"""The requester follows a VPN request through each status, in Turkish and in English:
the portal refuses an end date before the start under the field and keeps the file,
then the tracking page tells the truth at each step (the unit head's approval, the set-up
with the VPN user name and instructions, the end of access). Staff steps are driven
through the engine, as another browser test already drives them through the inbox."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

import processes
from engine import clock, tasks, users
from engine.models import HumanTask, ProcessInstance
from engine.workdays import ZONE
from processes.demo import UNITS

pytestmark = pytest.mark.browser

processes.install()   # the date rules and operators, as the live server has them

MONDAY = datetime(2026, 11, 2, 10, 0, tzinfo=ZONE)
EMAIL = "deniz.vpn.takip@example.edu.tr"


@pytest.fixture
def pinned():
    """The live server runs in this process: its clock is the engine's, pinned here."""
    clock.pin(MONDAY)
    yield
    clock.set_shift(timedelta(0))


def _complete(site, instance_id: int, bpmn_id: str, data: dict, *, at: datetime) -> None:
    clock.pin(at)
    with site.tx() as session:
        row = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                     HumanTask.bpmn_id == bpmn_id, HumanTask.state == "ready"))
        tasks.complete_task(session, row.id, users.acting_user(session, "vpn.takip.admin"), data)
    site.run_jobs()


def _language(page: Page, lang: str) -> None:
    page.get_by_test_id("language-switch").first.locator(f"button[value={lang}]").click()
    expect(page.locator("html")).to_have_attribute("lang", lang)


def _status(page: Page):
    return page.get_by_test_id("track-status-text")


def test_the_requester_follows_a_vpn_request_through_each_status_in_both_languages(site, page, pinned):
    with site.tx() as session:   # an admin: whoever the unit head of the requester's unit is
        users.add_user(session, "vpn.takip.admin", groups=("unitheads", "network"), roles=("staff", "admin"),
                       password="parola123")

    # The portal: an end date before the start is refused under the field; the file stays attached.
    page.goto(site.at("/talep/vpn_request"))
    page.fill("#field-requester", "Deniz Aydın")
    page.fill("#field-requester_email", EMAIL)
    page.fill("#field-national_id", "10000000146")
    page.select_option("#field-unit", UNITS[0])
    page.fill("#field-subject", "Evden sunucu yönetimi")
    page.fill("#field-message", "Laboratuvar sunucusuna evden erişmem gerekiyor.")
    page.fill("#field-purpose", "Evden laboratuvar sunucusunun yönetimi")
    page.fill("#field-target_systems", "10.12.4.20")
    page.fill("#field-start_date", "2026-11-05")
    page.fill("#field-end_date", "2026-11-03")
    page.set_input_files("#field-attachments-1", files=[{"name": "erisim-plani.txt", "mimeType": "text/plain",
                                                          "buffer": b"Sunucu 10.12.4.20, SSH"}])
    site.answer_captcha(page)
    page.get_by_test_id("portal-form").locator("button[type=submit]").click()
    expect(page.get_by_test_id("error-end_date")).to_have_text("Bitiş tarihi başlangıç tarihinden sonra olmalıdır.")
    expect(page.get_by_test_id("pending-file")).to_have_text(["erisim-plani.txt"])
    expect(page.get_by_test_id("files-again")).to_have_count(0)
    page.fill("#field-end_date", "2026-11-20")
    site.answer_captcha(page)
    page.get_by_test_id("portal-form").locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/talep/gonderildi$"))
    code = page.get_by_test_id("tracking-code").inner_text().strip()
    with site.tx() as session:
        instance = session.scalar(select(ProcessInstance).where(ProcessInstance.tracking_code == code))
        instance_id = instance.id

    # Submitted: with the unit head.
    page.get_by_test_id("track-link").click()
    expect(_status(page)).to_have_text("Birim amirinizin onayında")
    expect(page.get_by_test_id("track-status")).to_contain_text("2.11.2026 10:00 tarihinden beri")
    expect(page.locator("main")).to_contain_text("erisim-plani.txt")

    # Approved: the network team sets it up.
    _complete(site, instance_id, "approve_request", {"approval": "approve"}, at=MONDAY + timedelta(hours=5))
    page.reload()
    expect(_status(page)).to_have_text("Ağ ekibi kurulum yapıyor")
    expect(page.get_by_test_id("track-status")).to_contain_text("2.11.2026 15:00")

    # Set up: the VPN user name and instructions are on the page, in both languages.
    _complete(site, instance_id, "set_up_vpn", {"vpn_username": "deniz.aydin-vpn",
                                                "setup_notes": "FortiClient ile vpn.example.edu.tr adresine bağlanın."},
              at=datetime(2026, 11, 3, 9, 30, tzinfo=ZONE))
    page.reload()
    expect(_status(page)).to_have_text("Kuruldu: VPN erişiminiz bitiş tarihine kadar açık")
    shown = page.get_by_test_id("status-shown")
    expect(shown).to_contain_text("VPN kullanıcı adı")
    expect(shown).to_contain_text("deniz.aydin-vpn")
    expect(shown).to_contain_text("FortiClient ile vpn.example.edu.tr adresine bağlanın.")
    expect(page.get_by_test_id("status-history").locator("li")).to_have_count(3)
    _language(page, "en")
    expect(_status(page)).to_have_text("Set up: your VPN access is open until the end date")
    expect(page.get_by_test_id("track-status")).to_contain_text("since 11/3/26, 9:30")
    expect(shown).to_contain_text("VPN user name")
    expect(page.get_by_test_id("status-history")).to_contain_text("Awaiting your unit head's approval")

    # The end date passes: the network team removes the access, the request ends.
    clock.pin(datetime(2026, 11, 20, 17, 1, tzinfo=ZONE))
    site.run_jobs()
    page.reload()
    expect(_status(page)).to_have_text("Period over: your access is being removed")
    _complete(site, instance_id, "revoke_vpn", {"revoked": True}, at=datetime(2026, 11, 21, 9, 0, tzinfo=ZONE))
    page.reload()
    expect(_status(page)).to_have_text("Access ended")
    expect(page.get_by_test_id("track-status")).to_contain_text("closed on 11/21/26, 9:00")
    _language(page, "tr")
    expect(_status(page)).to_have_text("Erişim sona erdi")
    expect(page.get_by_test_id("status-history").locator("li")).to_have_count(5)
