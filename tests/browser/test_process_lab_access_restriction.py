"""SEK 08-04-31 in a real browser: an instructor asks on the portal for an exam restriction
(listing the sites that stay open reveals their field; an end time before the start is
refused next to it), the network team approves it (a rejection without a reason is
refused in place), applies it 30 minutes before the exam and the instructor's tracking
page shows it in place."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

import processes
from engine import clock
from engine.models import ProcessInstance
from engine.workdays import ZONE

pytestmark = pytest.mark.browser

# The live server deploys the whole bpmn/ folder with the operators and form rules known
# when it starts (install() is idempotent).
processes.install()

MONDAY = datetime(2026, 11, 2, 10, 0, tzinfo=ZONE)
APPLY_AT = datetime(2026, 11, 4, 9, 0, tzinfo=ZONE)     # the exam is on Wednesday at 09:30
EMAIL = "zeynep.aydin@example.edu.tr"
REVIEW = "Kısıtlama talebini değerlendir"
APPLY = "Kısıtlamayı uygula"


@pytest.fixture
def pinned():
    """The live server runs in this process: its clock is the engine's, pinned here."""
    clock.pin(MONDAY)
    yield
    clock.set_shift(timedelta(0))


def test_an_instructor_asks_and_the_network_team_approves_and_applies(site, page, open_page, pinned):
    site.add_user("ag.sinav", "network")

    # The instructor on the portal: the sites' field appears with its choice.
    instructor = open_page()
    instructor.goto(site.at("/talep/lab_access_restriction"))
    form = instructor.get_by_test_id("portal-form")
    typed = {"#field-requester": "Dr. Zeynep Aydın", "#field-requester_email": EMAIL,
             "#field-national_id": "10000000146", "#field-subject": "BIL 101 ara sınavı",
             "#field-message": "Ara sınavda öğrenciler yalnızca Python belgelerine erişebilmeli.", "#field-course": "BIL 101 Programlamaya Giriş",
             "#field-lab": "Mühendislik B-204", "#field-exam_date": "2026-11-04",
             "#field-start_time": "09:30", "#field-end_time": "09:00"}
    for selector, value in typed.items():
        instructor.fill(selector, value)
    instructor.select_option("#field-unit", "Mühendislik Fakültesi")
    sites = form.get_by_test_id("section-allowed-sites")
    expect(sites).to_be_hidden()
    form.get_by_label("Yalnızca belirteceğim adresler").check()
    expect(sites).to_be_visible()
    instructor.fill("#field-allowed_sites", "docs.python.org\nsinav.example.edu.tr")
    site.answer_captcha(instructor)
    form.locator("button[type=submit]").click()

    expect(instructor.get_by_test_id("error-end_time")).to_have_text(
        "Bitiş saati başlangıç saatinden sonra olmalıdır.")
    expect(instructor.locator("#field-lab")).to_have_value("Mühendislik B-204")
    instructor.fill("#field-end_time", "11:00")
    site.answer_captcha(instructor)
    instructor.get_by_test_id("portal-form").locator("button[type=submit]").click()
    expect(instructor).to_have_url(re.compile(r"/talep/gonderildi$"))
    code = instructor.get_by_test_id("tracking-code").inner_text().strip()
    with site.tx() as session:
        request_id = session.scalar(select(ProcessInstance.id).where(ProcessInstance.tracking_code == code))

    # The network team: a rejection needs a reason, then it approves.
    site.sign_in(page, "ag.sinav")
    review_id = site.task_id(request_id, "review_restriction")
    site.claim_from_group(page, review_id, REVIEW, "BIL 101 ara sınavı")
    form = page.get_by_test_id("task-form")
    form.get_by_label("Reddediyorum").check()
    page.get_by_test_id("complete").click()
    expect(page.get_by_test_id("error-rejection_reason")).to_have_text("Bu alan zorunludur.")
    form = page.get_by_test_id("task-form")
    form.get_by_label("Onaylıyorum: sınavda uygulansın").check()
    form.locator("#field-restriction_plan").fill("LAB-B204-SINAV erişim listesi")
    page.get_by_test_id("complete").click()
    expect(page).to_have_url(re.compile(r"/inbox"))
    expect(page.locator(".alert-success")).to_contain_text(REVIEW)
    site.run_jobs()
    assert site.mails(request_id)[-1] == (EMAIL, f"[{code}] Sınav erişim kısıtlamanız onaylandı")

    # Thirty minutes before the exam (two days on: a new day, a new sign-in) the apply task.
    clock.pin(APPLY_AT)
    site.run_jobs()
    site.sign_in(page, "ag.sinav")
    apply_id = site.task_id(request_id, "apply_restriction")
    assert site.task(apply_id).assignee is None
    site.claim_on_task_page(page, apply_id)
    expect(page.locator("main")).to_contain_text("Sınav 30 dakika sonra başlıyor.")
    page.get_by_test_id("task-form").get_by_label("Kısıtlama uygulandı ve denendi").check()
    page.get_by_test_id("complete").click()
    expect(page).to_have_url(re.compile(r"/inbox"))
    assert site.task(apply_id).completed_by == "ag.sinav"
    site.run_jobs()
    mail = site.newest_mail(request_id)
    assert mail.subject == f"[{code}] Laboratuvar erişim kısıtlaması uygulandı"

    # The instructor's mailed link: the request is shown with the restriction in place.
    link = urlsplit(re.search(r"https?://\S+/takip/\S+", mail.body).group(0))
    instructor.goto(site.at(f"{link.path}?{link.query}"))
    expect(instructor.locator("main")).to_contain_text(code)
    expect(instructor.locator("main")).to_contain_text("Kısıtlama uygulandı")
    expect(instructor.locator("main")).to_contain_text("docs.python.org, sinav.example.edu.tr")
