"""7/24 KLU Hat in a real browser: the officer forwards a message, the unit answers on the
public reply page (a form error first, then the answer; the link then refuses a second use),
the officer accepts and the sender is answered."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from engine import runtime
from engine.models import MailMessage, ProcessInstance

pytestmark = pytest.mark.browser


MESSAGE = "Kütüphane hafta sonu neden kapalı?"


def answer_as_unit(site, unit: Page, path: str, expected_text: str) -> None:
    """The unit (no account) answers on the reply page: forgets its name once, then sends."""
    unit.goto(site.at(path))
    expect(unit.get_by_test_id("reply-purpose")).to_contain_text(expected_text)
    unit.fill("#answer", "Hafta sonu 10.00-18.00 arası açığız.")
    unit.locator("main form button[type=submit]").click()
    expect(unit.locator("#answered_by")).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(unit.locator("#answer")).to_have_value("Hafta sonu 10.00-18.00 arası açığız.")
    unit.fill("#answered_by", "Selin Ak")
    unit.locator("main form button[type=submit]").click()
    expect(unit.get_by_test_id("reply-thanks")).to_be_visible()
    unit.goto(site.at(path))
    expect(unit.get_by_test_id("reply-closed")).to_be_visible()


def test_hotline_message_is_forwarded_answered_and_sent_to_the_sender(site, page, open_page):
    site.add_user("hat.gorevlisi", "helpdesk")
    with site.tx() as session:
        instance_id = runtime.start_instance(session, "message_routing", actor="portal", data={
            "requester": "Deniz Yıldız", "requester_email": "deniz@example.com", "subject": "Kütüphane",
            "message": MESSAGE, "message_type": "şikâyet"}).id
    site.sign_in(page, "hat.gorevlisi")

    site.claim_on_task_page(page, site.task_id(instance_id, "forward"))
    expect(page.locator("main h1")).to_have_text("Mesajı oku ve birime yönlendir")
    page.fill("#field-unit_name", "Kütüphane ve Dokümantasyon")
    page.fill("#field-unit_email", "kutuphane@example.edu.tr")
    page.fill("#field-unit_note", "Lütfen çalışma saatlerini açıklayın.")
    page.get_by_test_id("complete").click()
    expect(page).to_have_url(re.compile(r"/inbox"))

    site.run_jobs()
    assert site.mails(instance_id) == [("kutuphane@example.edu.tr",
                                        "7/24 KLU Hat: biriminize yönlendirilen mesaj")]
    unit = open_page()
    answer_as_unit(site, unit, site.reply_path(instance_id), MESSAGE)
    expect(unit.get_by_test_id("reply-purpose")).to_have_count(0)
    assert "deniz@example.com" not in unit.content()

    site.claim_on_task_page(page, site.task_id(instance_id, "review"))
    expect(page.locator("main")).to_contain_text("Hafta sonu 10.00-18.00 arası açığız.")
    page.get_by_label("Kabul et: yanıt mesaj sahibine gönderilsin").check()
    page.get_by_test_id("complete").click()
    expect(page).to_have_url(re.compile(r"/inbox"))

    site.run_jobs()
    with site.tx() as session:
        mail = session.scalars(select(MailMessage).where(MailMessage.instance_id == instance_id)
                               .order_by(MailMessage.id.desc())).first()
        code = session.get(ProcessInstance, instance_id).tracking_code
    assert (mail.recipients, mail.subject) == ("deniz@example.com", f"[{code}] 7/24 KLU Hat: mesajınıza yanıt")
    assert (mail.template, mail.language) == ("routing_answer", "tr")
    assert "Hafta sonu 10.00-18.00 arası açığız." in mail.body and f"Takip kodunuz: {code}" in mail.body
    link = urlsplit(re.search(r"https?://\S+/takip/\S+", mail.body).group(0))
    requester = page.context.browser.new_page()       # the mailed link opens the tracking page
    requester.goto(site.at(f"{link.path}?{link.query}"))
    expect(requester.locator("main")).to_contain_text(code)
    requester.close()
    page.goto(site.at(f"/instances/{instance_id}"))
    expect(page.get_by_test_id("status")).to_have_text("tamamlandı")
