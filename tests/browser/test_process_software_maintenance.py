"""SEK 08-04-06 in a real browser: a developer triages a bug report (a rejection without a
reason is refused in place), the group lead sets its priority, the developer fixes it, the
requester accepts the fix on the tracking page opened from the mailed link, and the team
releases it."""

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

# The live server deploys the whole bpmn/ folder with the operators known when it starts.
processes.install()

TRIAGE = "Talebi ön değerlendir"
PRIORITY = "Önceliği belirle"
FIX = "Düzelt ve test et"
RELEASE = "Yayına al"
REQUESTER = "sinem.oz@example.edu.tr"


def test_a_bug_is_triaged_prioritised_fixed_accepted_by_the_requester_and_released(site, page, open_page):
    site.add_user("yazilim.bakim", "software")
    site.add_user("yazilim.sorumlu", "software")
    with site.tx() as session:
        instance = runtime.start_instance(session, "software_maintenance", actor="portal", data={
            "requester": "Sinem Öz", "requester_email": REQUESTER, "unit": "Öğrenci İşleri Daire Başkanlığı",
            "subject": "Transkript PDF'inde Türkçe karakterler bozuk",
            "application": "Öğrenci Bilgi Sistemi (OBS)", "report_kind": "bug", "impact": "many",
            "what_happens": "PDF'te ş, ğ ve ı harfleri soru işareti çıkıyor.",
            "steps": "Öğrenci seç > Transkript > PDF indir",
        })
        request_id, code = instance.id, instance.tracking_code

    # The developer: a rejection needs its reason (refused next to the field), then accepts.
    site.sign_in(page, "yazilim.bakim")
    triage_id = site.task_id(request_id, "triage")
    site.claim_from_group(page, triage_id, TRIAGE)
    form = page.get_by_test_id("task-form")
    form.get_by_label("Ret: hata değil, kapsam dışı ya da yeni bir geliştirme").check()
    page.get_by_test_id("complete").click()
    expect(page.get_by_test_id("error-rejection_reason")).to_have_text("Bu alan zorunludur.")
    assert site.task(triage_id).state == "claimed"
    page.get_by_test_id("task-form").get_by_label("Kabul: hata yeniden üretildi ya da değişiklik yapılabilir").check()
    page.get_by_test_id("task-form").locator("#field-triage_note").fill("PDF kütüphanesinde font gömülmüyor.")
    page.get_by_test_id("complete").click()
    expect(page).to_have_url(re.compile(r"/inbox"))
    expect(page.locator(".alert-success")).to_contain_text(TRIAGE)

    # The group lead sets the priority.
    lead = open_page()
    site.sign_in(lead, "yazilim.sorumlu")
    priority_id = site.task_id(request_id, "prioritize")
    site.claim_from_group(lead, priority_id, PRIORITY)
    lead.get_by_test_id("task-form").get_by_label("Yüksek: önemli bir işlev aksıyor (3 iş günü)").check()
    lead.get_by_test_id("complete").click()
    expect(lead).to_have_url(re.compile(r"/inbox"))
    assert site.task(priority_id).completed_by == "yazilim.sorumlu"

    # The developer fixes it: the fix's section asks what changed and how to try it.
    page.goto(site.at("/inbox"))
    fix_id = site.task_id(request_id, "fix")
    site.claim_from_group(page, fix_id, FIX)
    form = page.get_by_test_id("task-form")
    form.get_by_label("Düzeltildi: test ortamında denenebilir").check()
    page.get_by_test_id("complete").click()
    expect(page.get_by_test_id("error-fix_summary")).to_have_text("Bu alan zorunludur.")
    form = page.get_by_test_id("task-form")
    form.locator("#field-fix_summary").fill("Transkript PDF'ine DejaVu fontu gömüldü.")
    form.locator("#field-test_instructions").fill("obs-test.example.edu.tr üzerinden bir transkript indirin.")
    page.get_by_test_id("complete").click()
    expect(page).to_have_url(re.compile(r"/inbox"))

    # The worker mails the requester the test request with the tracking link.
    site.run_jobs()
    with site.tx() as session:
        [mail] = session.scalars(select(MailMessage).where(MailMessage.instance_id == request_id))
        assert (mail.recipients, mail.template, mail.language) == (REQUESTER, "maintenance_test", "tr")
        assert mail.subject == f"[{code}] Düzeltme test ortamında: lütfen deneyin"
        assert "obs-test.example.edu.tr" in mail.body and f"Takip kodunuz: {code}" in mail.body
        link = urlsplit(re.search(r"https?://\S+/takip/\S+", mail.body).group(0))

    # The requester accepts the fix on the tracking page.
    requester = page.context.browser.new_page()
    requester.goto(site.at(f"{link.path}?{link.query}"))
    confirm = requester.get_by_test_id("confirm-form")
    expect(confirm).to_contain_text("Değişiklik beklediğiniz gibi çalışıyor mu?")
    confirm.get_by_role("button", name="Evet, çalışıyor").click()
    expect(requester.locator(".alert-success")).to_contain_text("değişiklik şimdi yayına alınacak")
    requester.close()

    # The team releases it; the requester hears of it.
    site.run_jobs()
    page.goto(site.at("/inbox"))
    release_id = site.task_id(request_id, "release")
    site.claim_from_group(page, release_id, RELEASE)
    form = page.get_by_test_id("task-form")
    form.locator("#field-release_version").fill("4.12.1")
    form.locator("#field-release_note").fill("Transkriptlerde Türkçe karakterler düzeltildi.")
    page.get_by_test_id("complete").click()
    expect(page).to_have_url(re.compile(r"/inbox"))
    site.run_jobs()
    with site.tx() as session:
        assert session.get(ProcessInstance, request_id).status == "completed"
    assert site.mails(request_id)[-1] == (REQUESTER, f"[{code}] Düzeltme yayına alındı")
    page.goto(site.at(f"/instances/{request_id}"))
    expect(page.get_by_test_id("status")).to_have_text("tamamlandı")
    expect(page.locator("[data-testid=timeline] li[data-action='task.completed']")).to_have_count(4)
    expect(page.locator("[data-testid=timeline] li[data-action='message.delivered']")).to_have_count(1)
