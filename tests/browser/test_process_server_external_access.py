"""SEK 08-04-33 in a real browser: the system team approves opening a server to the
outside (after a rejection without a reason is refused in place), the network team opens
the firewall rule, and the request waits for its end date with the requester told."""

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

REVIEW = "Güvenlik değerlendirmesi"
OPEN_RULE = "Güvenlik duvarı kuralını aç"


def test_system_team_approves_and_the_network_team_opens_the_rule(site, page, open_page):
    site.add_user("sistem.erisim", "systems")
    site.add_user("ag.erisim", "network")
    end = datetime.now(ZONE).date() + timedelta(days=30)
    with site.tx() as session:
        request_id = runtime.start_instance(session, "server_external_access", actor="portal", data={
            "requester": "Hasan Öztürk", "requester_email": "hasan.ozturk@example.edu.tr",
            "unit": "Bilgisayar Mühendisliği", "subject": "Proje sunucusu", "server": "lab1.ceng.example.edu.tr", "ports": ["443"],
            "purpose": "Bölüm proje sunucusuna öğrencilerin evden erişmesi",
            "responsible_person": "Dr. Öğr. Üyesi Ahmet Kara", "end_date": end.isoformat(),
        }).id

    # The system team: a rejection needs a reason (refused next to the field), then approves.
    site.sign_in(page, "sistem.erisim")
    review_id = site.task_id(request_id, "security_review")
    site.claim_from_group(page, review_id, REVIEW)
    form = page.get_by_test_id("task-form")
    form.get_by_label("Uygun değil: talep reddedilsin").check()
    form.locator("#field-risk_notes").fill("Ubuntu 24.04, güncel; yalnızca 443 açılsın.")
    page.get_by_test_id("complete").click()
    expect(page.get_by_test_id("error-rejection_reason")).to_have_text("Bu alan zorunludur.")
    expect(page.locator("#field-risk_notes")).to_have_value("Ubuntu 24.04, güncel; yalnızca 443 açılsın.")
    assert site.task(review_id).state == "claimed"
    page.get_by_test_id("task-form").get_by_label("Uygun: kural açılabilir").check()
    page.get_by_test_id("complete").click()
    expect(page).to_have_url(re.compile(r"/inbox"))
    expect(page.locator(".alert-success")).to_contain_text(REVIEW)
    assert site.task(review_id).completed_by == "sistem.erisim"

    # The network team opens the rule.
    network = open_page()
    site.sign_in(network, "ag.erisim")
    open_id = site.task_id(request_id, "open_rule")
    site.claim_from_group(network, open_id, OPEN_RULE)
    form = network.get_by_test_id("task-form")
    form.locator("#field-rule_id").fill("FW-2026-0412")
    form.locator("#field-rule_notes").fill("NAT 193.140.168.77 -> 10.20.3.15")
    network.get_by_test_id("complete").click()
    expect(network).to_have_url(re.compile(r"/inbox"))
    expect(network.locator(".alert-success")).to_contain_text(OPEN_RULE)
    assert site.task(open_id).completed_by == "ag.erisim"

    # The worker tells the requester; the request waits for the reminder and the end date.
    site.run_jobs()
    with site.tx() as session:
        [mail] = session.scalars(select(MailMessage).where(MailMessage.instance_id == request_id))
        code = session.get(ProcessInstance, request_id).tracking_code
        assert mail.recipients == "hasan.ozturk@example.edu.tr"
        assert (mail.template, mail.language) == ("server_access_opened", "tr")
        assert mail.subject == f"[{code}] Sunucunuz kampüs dışından erişime açıldı"
        assert "FW-2026-0412" in mail.body and f"Takip kodunuz: {code}" in mail.body
        link = urlsplit(re.search(r"https?://\S+/takip/\S+", mail.body).group(0))
    requester = page.context.browser.new_page()       # the mailed link opens the tracking page
    requester.goto(site.at(f"{link.path}?{link.query}"))
    expect(requester.locator("main")).to_contain_text(code)
    requester.close()
    network.goto(site.at(f"/instances/{request_id}"))
    expect(network.get_by_test_id("status")).to_have_text("bekliyor")
    expect(network.locator("[data-testid=timeline] li[data-action='task.completed']")).to_have_count(2)
    tasks = network.get_by_test_id("instance-tasks")
    expect(tasks.locator(f"tr[data-task-id='{open_id}']")).to_contain_text("ag.erisim")
    expect(tasks.locator(f"tr[data-task-id='{review_id}']")).to_contain_text("sistem.erisim")
