"""7/24 KLU Hat in a real browser: the officer forwards a message, the unit answers on the
public reply page (a form error first, then the answer; the link then refuses a second use),
the officer accepts and the sender is answered."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from engine import runtime
from engine.jobs import WorkerSettings
from engine.models import MailMessage
from engine.worker import run_due_jobs

pytestmark = pytest.mark.browser


TOKEN = re.compile(r"/yanit/(\S+)")
MESSAGE = "Kütüphane hafta sonu neden kapalı?"


def run_jobs(site) -> None:
    run_due_jobs(site.factory, WorkerSettings(backoff_seconds=0.01, poll_seconds=0.01))


def reply_path(site, instance_id: int) -> str:
    with site.tx() as session:
        bodies = list(session.scalars(select(MailMessage.body).where(
            MailMessage.instance_id == instance_id).order_by(MailMessage.id.desc())))
    return next(f"/yanit/{TOKEN.search(b).group(1)}" for b in bodies if TOKEN.search(b))


def mails(site, instance_id: int) -> list[tuple[str, str]]:
    with site.tx() as session:
        return [(m.recipients, m.subject) for m in session.scalars(
            select(MailMessage).where(MailMessage.instance_id == instance_id).order_by(MailMessage.id))]


def claim_and_open(page: Page, site, task_id: int) -> None:
    page.goto(site.at(f"/tasks/{task_id}"))
    page.get_by_test_id("claim").click()
    expect(page.get_by_test_id("task-form")).to_be_visible()


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
            "requester": "Deniz Yıldız", "requester_email": "deniz@example.com",
            "message": MESSAGE, "message_type": "şikâyet"}).id
    site.sign_in(page, "hat.gorevlisi")

    claim_and_open(page, site, site.task_id(instance_id, "forward"))
    expect(page.locator("main h1")).to_have_text("Mesajı oku ve birime yönlendir")
    page.fill("#field-unit_name", "Kütüphane ve Dokümantasyon")
    page.fill("#field-unit_email", "kutuphane@example.edu.tr")
    page.fill("#field-unit_note", "Lütfen çalışma saatlerini açıklayın.")
    page.get_by_test_id("complete").click()
    expect(page).to_have_url(re.compile(r"/inbox"))

    run_jobs(site)
    assert mails(site, instance_id) == [("kutuphane@example.edu.tr",
                                         "7/24 KLU Hat: biriminize yönlendirilen mesaj")]
    unit = open_page()
    answer_as_unit(site, unit, reply_path(site, instance_id), MESSAGE)
    expect(unit.get_by_test_id("reply-purpose")).to_have_count(0)
    assert "deniz@example.com" not in unit.content()

    claim_and_open(page, site, site.task_id(instance_id, "review"))
    expect(page.locator("main")).to_contain_text("Hafta sonu 10.00-18.00 arası açığız.")
    page.get_by_label("Kabul et: yanıt mesaj sahibine gönderilsin").check()
    page.get_by_test_id("complete").click()
    expect(page).to_have_url(re.compile(r"/inbox"))

    run_jobs(site)
    assert mails(site, instance_id)[-1] == ("deniz@example.com", "7/24 KLU Hat: mesajınıza yanıt")
    page.goto(site.at(f"/instances/{instance_id}"))
    expect(page.get_by_test_id("status")).to_have_text("tamamlandı")
