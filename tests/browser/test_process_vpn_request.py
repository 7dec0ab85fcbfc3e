"""SEK 08-04-34 in a real browser: the unit head approves a VPN request (after a
rejection without a reason is refused in place), the network team sets the access up,
and the request waits for its end date with the instructions mailed."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

import processes
from engine import runtime
from engine.models import MailMessage, ProcessInstance
from engine.workdays import ZONE

pytestmark = pytest.mark.browser

# The live server of tests/browser/conftest.py deploys the whole bpmn/ folder with the
# operators known when it starts; other processes there name operators of their own, so
# they are registered while this module is collected (install() is idempotent).
processes.install()

APPROVE = "Birim amiri onayı"
SET_UP = "VPN erişimini tanımla"


def test_unit_head_approves_and_the_network_team_sets_up_the_vpn(site, page, open_page):
    site.add_user("birim.amiri.vpn", "unitheads")
    site.add_user("ag.vpn", "network")
    today = datetime.now(ZONE).date()
    with site.tx() as session:
        request_id = runtime.start_instance(session, "vpn_request", actor="portal", data={
            "requester": "Elif Şahin", "requester_email": "elif.sahin@example.edu.tr", "unit": "Kimya Bölümü",
            "subject": "VPN erişimi",
            "purpose": "Evden laboratuvar sunucusunun yönetimi", "target_systems": ["10.12.4.20"],
            "start_date": today.isoformat(), "end_date": (today + timedelta(days=10)).isoformat(),
        }).id

    # The unit head: a rejection needs a reason (refused next to the field), then approves.
    site.sign_in(page, "birim.amiri.vpn")
    approve_id = site.task_id(request_id, "approve_request")
    site.claim_from_group(page, approve_id, APPROVE)
    form = page.get_by_test_id("task-form")
    form.get_by_label("Reddediyorum").check()
    page.get_by_test_id("complete").click()
    expect(page.get_by_test_id("error-rejection_reason")).to_have_text("Bu alan zorunludur.")
    assert site.task(approve_id).state == "claimed"
    page.get_by_test_id("task-form").get_by_label("Onaylıyorum").check()
    page.get_by_test_id("complete").click()
    expect(page).to_have_url(re.compile(r"/inbox"))
    expect(page.locator(".alert-success")).to_contain_text(APPROVE)
    assert site.task(approve_id).completed_by == "birim.amiri.vpn"

    # The network team sets the access up.
    network = open_page()
    site.sign_in(network, "ag.vpn")
    setup_id = site.task_id(request_id, "set_up_vpn")
    site.claim_from_group(network, setup_id, SET_UP)
    form = network.get_by_test_id("task-form")
    form.locator("#field-vpn_username").fill("elif.sahin-vpn")
    form.locator("#field-setup_notes").fill("FortiClient ile vpn.example.edu.tr adresine bağlanın.")
    network.get_by_test_id("complete").click()
    expect(network).to_have_url(re.compile(r"/inbox"))
    expect(network.locator(".alert-success")).to_contain_text(SET_UP)
    assert site.task(setup_id).completed_by == "ag.vpn"

    # The worker mails the instructions; the request waits for its end date.
    site.run_jobs()
    with site.tx() as session:
        [mail] = session.scalars(select(MailMessage).where(MailMessage.instance_id == request_id))
        code = session.get(ProcessInstance, request_id).tracking_code
        assert mail.recipients == "elif.sahin@example.edu.tr"
        assert (mail.template, mail.language) == ("vpn_instructions", "tr")
        assert mail.subject == f"[{code}] VPN erişiminiz tanımlandı"
        assert "elif.sahin-vpn" in mail.body and f"Takip kodunuz: {code}" in mail.body
        link = urlsplit(re.search(r"https?://\S+/takip/\S+", mail.body).group(0))

    # The mailed link opens the requester's tracking page.
    requester = page.context.browser.new_page()
    requester.goto(site.at(f"{link.path}?{link.query}"))
    expect(requester.locator("main")).to_contain_text(code)
    requester.close()
    network.goto(site.at(f"/instances/{request_id}"))
    expect(network.get_by_test_id("status")).to_have_text("bekliyor")
    expect(network.locator("[data-testid=timeline] li[data-action='task.completed']")).to_have_count(2)
    tasks = network.get_by_test_id("instance-tasks")
    expect(tasks.locator(f"tr[data-task-id='{setup_id}']")).to_contain_text("ag.vpn")
    expect(tasks.locator(f"tr[data-task-id='{approve_id}']")).to_contain_text("birim.amiri.vpn")
