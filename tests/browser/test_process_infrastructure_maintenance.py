"""SEK 08-04-03 in a real browser: a member of staff reports a fault on the portal, the
triage table sends it to the network team, which diagnoses and repairs it; the reporter
confirms the repair on the tracking page and the report closes."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

import processes
from engine.models import ProcessInstance

pytestmark = pytest.mark.browser

# The live server deploys the whole bpmn/ folder with the operators known when it starts.
processes.install()

CHOICE = "Altyapı arıza bildirimi"
DIAGNOSE = "Arızayı teşhis et"
REPAIR = "Arızayı onar"
REPORTER = "kemal.arslan@example.edu.tr"
LINK = re.compile(r"https?://\S+/takip/\S+")


def test_a_fault_reported_on_the_portal_is_triaged_repaired_and_confirmed(site, open_page):
    staff_name = site.add_user("ag.ariza.tarayici", "network")

    # The reporter: the portal's choice, the fault form; a critical fault needs what it stops.
    reporter = open_page()
    reporter.goto(site.at("/"))
    reporter.get_by_test_id("choice").filter(has_text=CHOICE).click()
    expect(reporter).to_have_url(re.compile(r"/talep/infrastructure_maintenance"))
    for selector, value in {"#field-requester": "Kemal Arslan", "#field-requester_email": REPORTER,
                            "#field-national_id": "10000000146", "#field-subject": "Kat anahtarı kapandı",
                            "#field-message": "B blok 3. kattaki odalarda ağ bağlantısı yok.",
                            "#field-location": "Fen Fakültesi B blok, 3. kat dağıtım dolabı"}.items():
        reporter.fill(selector, value)
    reporter.select_option("#field-unit", index=1)
    form = reporter.get_by_test_id("portal-form")
    form.get_by_label("Ağ cihazı ya da bağlantı", exact=False).check()
    form.get_by_label("Kritik: bir hizmet tamamen durdu", exact=False).check()
    site.answer_captcha(reporter)
    form.locator("button[type=submit]").click()
    expect(reporter.get_by_test_id("error-impact")).to_be_visible()
    reporter.fill("#field-impact", "B blok 3. kattaki 40 oda ağsız.")
    site.answer_captcha(reporter)
    reporter.get_by_test_id("portal-form").locator("button[type=submit]").click()
    expect(reporter).to_have_url(re.compile(r"/talep/gonderildi$"))
    code = reporter.get_by_test_id("tracking-code").inner_text().strip()
    with site.tx() as session:
        instance = session.scalar(select(ProcessInstance).where(ProcessInstance.tracking_code == code))
        request_id = instance.id
    assert instance.process_key == "infrastructure_maintenance"

    # The triage table gave it to the network team, due in four hours: diagnosis, then repair.
    staff = open_page()
    site.sign_in(staff, staff_name)
    diagnose_id = site.task_id(request_id, "diagnose")
    assert site.task(diagnose_id).group_name == "network"
    site.claim_from_group(staff, diagnose_id, DIAGNOSE)
    form = staff.get_by_test_id("task-form")
    form.locator("#field-diagnosis").fill("Kat anahtarının güç kaynağı yanmış.")
    form.get_by_label("Arıza bulunamadı", exact=False).check()
    staff.get_by_test_id("complete").click()
    expect(staff.get_by_test_id("error-no_fault_note")).to_have_text("Bu alan zorunludur.")
    staff.get_by_test_id("task-form").get_by_label("Ekibimiz onaracak").check()
    staff.get_by_test_id("complete").click()
    expect(staff).to_have_url(re.compile(r"/inbox"))
    expect(staff.locator(".alert-success")).to_contain_text(DIAGNOSE)

    repair_id = site.task_id(request_id, "repair")
    site.claim_from_group(staff, repair_id, REPAIR)
    staff.get_by_test_id("task-form").locator("#field-work_done").fill("Yedek güç kaynağı takıldı; anahtar çalışıyor.")
    staff.get_by_test_id("complete").click()
    expect(staff).to_have_url(re.compile(r"/inbox"))

    # The reporter is asked to check, and confirms on the tracking page.
    site.run_jobs()
    mail = site.newest_mail(request_id)
    assert (mail.recipients, mail.template) == (REPORTER, "fault_repaired")
    assert mail.subject == f"[{code}] Bildirdiğiniz arıza giderildi"
    link = urlsplit(LINK.search(mail.body).group(0))
    reporter.goto(site.at(f"{link.path}?{link.query}"))
    expect(reporter.get_by_test_id("track-status")).to_contain_text("Onayınızı bekliyoruz")
    confirm = reporter.get_by_test_id("confirm-form")
    expect(confirm.locator("h2")).to_have_text("Arıza giderildi mi?")
    confirm.get_by_role("button", name="Evet, giderildi").click()
    expect(reporter.locator(".alert-success")).to_be_visible()
    with site.tx() as session:
        assert session.get(ProcessInstance, request_id).status == "completed"
    expect(reporter.get_by_test_id("track-status")).to_contain_text("Onarıldı")

    staff.goto(site.at(f"/instances/{request_id}"))
    expect(staff.get_by_test_id("status")).to_have_text("tamamlandı")
    expect(staff.locator("[data-testid=timeline] li[data-action='task.completed']")).to_have_count(2)
    expect(staff.locator("[data-testid=timeline] li[data-action='message.delivered']")).to_have_count(1)
