"""SEK 08-04-27 in a real browser: a request for "VPN Bağlantısı" goes straight to the
network team (the DMN table); a member signs in, finds it in the team's list, claims it,
answers it through the task form (an answer without its text is refused in place first),
the requester is mailed the answer and the request waits for a possible reopening."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

import processes
from engine import runtime
from engine.models import MailMessage, ProcessInstance

pytestmark = pytest.mark.browser

# The live server deploys the whole bpmn/ folder with the operators known when it starts;
# other processes' operators must be registered even when this file runs alone.
processes.install()

RESOLVE = "Talebi çöz"
REQUESTER = "hasan.kurt@ktu.edu.tr"


def test_the_network_team_answers_a_vpn_request(site, page):
    site.add_user("ag.destek", "network")
    with site.tx() as session:
        request_id = runtime.start_instance(session, "user_support", actor="portal", data={
            "requester": "Hasan Kurt", "requester_email": REQUESTER, "unit": "Mühendislik Fakültesi",
            "category": "VPN Bağlantısı", "subject": "Evden VPN bağlanamıyorum",
            "message": "FortiClient 'kimlik doğrulama başarısız' diyor.",
        }).id
    task_id = site.task_id(request_id, "resolve")
    assert task_id is not None and site.task(task_id).group_name == "network"
    assert site.task(task_id).due_at is not None

    site.sign_in(page, "ag.destek")
    site.claim_from_group(page, task_id, RESOLVE, f"#{request_id}")

    # "Answer" without the answer's text: refused next to the field, nothing saved.
    form = page.get_by_test_id("task-form")
    form.get_by_label("Yanıtla: talep çözüldü").check()
    page.get_by_test_id("complete").click()
    expect(page.get_by_test_id("error-answer")).to_have_text("Bu alan zorunludur.")
    assert site.task(task_id).state == "claimed"

    form = page.get_by_test_id("task-form")
    form.get_by_label("Yanıtla: talep çözüldü").check()
    form.locator("#field-answer").fill("VPN yetkiniz tanımlandı; parolanızı BYS'den yenileyip tekrar deneyin.")
    page.get_by_test_id("complete").click()
    expect(page).to_have_url(re.compile(r"/inbox"))
    expect(page.locator(".alert-success")).to_contain_text(RESOLVE)
    assert site.task(task_id).completed_by == "ag.destek"

    site.run_jobs()              # the answer mail
    with site.tx() as session:
        [mail] = session.scalars(select(MailMessage).where(MailMessage.instance_id == request_id))
        code = session.get(ProcessInstance, request_id).tracking_code
        assert mail.recipients == REQUESTER and (mail.template, mail.language) == ("answer", "tr")
        assert mail.subject == f"[{code}] Talebiniz yanıtlandı (VPN Bağlantısı): Evden VPN bağlanamıyorum"
        assert "VPN yetkiniz tanımlandı" in mail.body and "7 gün" in mail.body
        assert f"Takip kodunuz: {code}" in mail.body
        link = re.search(r"https?://\S+/takip/\S+", mail.body).group(0)

    # The mailed link opens the requester's tracking page, with the answer on it.
    requester = page.context.browser.new_page()
    requester.goto(site.at(urlsplit(link).path + "?" + urlsplit(link).query))
    expect(requester.locator("main")).to_contain_text(code)
    expect(requester.locator("main")).to_contain_text("VPN yetkiniz tanımlandı")
    requester.close()

    # Resolved, and waiting (7 days) for the requester to reopen it.
    page.goto(site.at(f"/instances/{request_id}"))
    expect(page.get_by_test_id("status")).to_have_text("bekliyor")
    expect(page.locator("[data-testid=timeline] li[data-action='task.completed']")).to_have_count(1)
    expect(page.locator("[data-testid=timeline] li[data-action='task.completed']")).to_contain_text("ag.destek")
    done = page.get_by_test_id("instance-tasks").locator(f"tr[data-task-id='{task_id}']")
    expect(done).to_contain_text("Ağ Hizmetleri Planlama Destek Grubu")   # the group by its name
    expect(done).to_contain_text("ag.destek")
    expect(page.locator("main")).to_contain_text("VPN yetkiniz tanımlandı")
