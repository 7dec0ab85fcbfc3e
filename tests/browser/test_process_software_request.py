"""SEK 08-04-04 in a real browser: the software team evaluates a unit's request, the
department head approves it, and the software team finds the analysis task of the
new SEK 08-04-05 instance in its inbox."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from engine import runtime
from engine.models import MailMessage, ProcessInstance

pytestmark = pytest.mark.browser

EVALUATE = "Talebi değerlendir ve efor tahmin et"
DECIDE = "Daire Başkanı kararı"
ANALYSIS = "Analiz"


def test_software_team_evaluates_the_head_approves_and_development_starts(site, page, open_page):
    site.add_user("yazilim.tarayici", "software")
    site.add_user("baskan.tarayici", "management")
    with site.tx() as session:
        request_id = runtime.start_instance(session, "software_request", actor="portal", data={
            "requester": "Aylin Kara", "requester_email": "aylin.kara@example.edu.tr",
            "unit": "Öğrenci İşleri Daire Başkanlığı", "subject": "Mezuniyet anketi", "software_name": "Mezuniyet anketi",
            "need_description": "Mezun olan öğrencilere çevrim içi anket.", "user_group": "öğrenci",
            "user_count": 4000, "desired_date": "2027-03-01", "existing_system_could_serve": False,
        }).id

    # The software team estimates the effort and recommends.
    site.sign_in(page, "yazilim.tarayici")
    site.claim_from_group(page, site.task_id(request_id, "evaluate"), EVALUATE)
    form = page.get_by_test_id("task-form")
    form.locator("#field-effort_days").fill("12")
    form.get_by_label("Orta").check()
    form.locator("#field-technical_note").fill("BYS'den mezun listesi alınır; anket formu ve rapor.")
    form.get_by_label("Geliştirilsin").check()
    page.get_by_test_id("complete").click()
    expect(page).to_have_url(re.compile(r"/inbox"))
    expect(page.locator(".alert-success")).to_contain_text(EVALUATE)

    # The department head approves; leaving the decision out first is refused in place.
    head = open_page()
    site.sign_in(head, "baskan.tarayici")
    decide_id = site.task_id(request_id, "decide")
    site.claim_from_group(head, decide_id, DECIDE)
    head.get_by_test_id("complete").click()
    expect(head.get_by_test_id("error-decision")).to_be_visible()
    head.get_by_label("Onayla: geliştirme başlasın").check()
    head.locator("#field-decision_note").fill("Bahar dönemine yetişsin.")
    head.get_by_test_id("complete").click()
    expect(head).to_have_url(re.compile(r"/inbox"))
    assert site.task(decide_id).completed_by == "baskan.tarayici"

    # The worker starts SEK 08-04-05 and mails the requester.
    site.run_jobs()
    with site.tx() as session:
        development = runtime.load_instance(session, request_id).workflow.data["development"]
        dev = session.get(ProcessInstance, development["instance_id"])
        assert (dev.process_key, dev.tracking_code) == ("software_development", development["tracking_code"])
        assert session.scalar(select(ProcessInstance.status).where(ProcessInstance.id == request_id)) == "completed"
        [mail] = session.scalars(select(MailMessage).where(MailMessage.instance_id == request_id))
        code = session.get(ProcessInstance, request_id).tracking_code
        assert (mail.recipients, mail.template, mail.language) == (
            "aylin.kara@example.edu.tr", "software_approved", "tr")
        assert mail.subject.startswith(f"[{code}] Yazılım talebiniz onaylandı")
        assert dev.tracking_code in mail.subject and f"Takip kodunuz: {code}" in mail.body
        link = urlsplit(re.search(r"https?://\S+/takip/\S+", mail.body).group(0))
    requester = page.context.browser.new_page()       # the mailed link opens the tracking page
    requester.goto(site.at(f"{link.path}?{link.query}"))
    expect(requester.locator("main")).to_contain_text(code)
    requester.close()

    head.goto(site.at(f"/instances/{request_id}"))
    expect(head.get_by_test_id("status")).to_have_text("tamamlandı")
    expect(head.locator("[data-testid=timeline] li[data-action='task.completed']")).to_have_count(2)
    expect(head.get_by_test_id("instance-tasks")).to_contain_text(DECIDE)

    # The software team now has the new instance's analysis in its group list.
    analysis_id = site.task_id(dev.id, "analysis")
    page.goto(site.at("/inbox"))
    page.get_by_test_id("tab-group").click()
    row = site.task_row(page, analysis_id)
    expect(row).to_contain_text(ANALYSIS)
    expect(row).to_contain_text(f"#{dev.id}")
    expect(row.get_by_role("button", name="Üstlen", exact=True)).to_be_visible()
