"""Call centre in a real browser: a call that needs a unit is routed by the agent, the unit
answers on the public reply page, the agent calls the caller back and the record is done."""

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


def test_a_call_routed_to_a_unit_is_answered_and_called_back(site, page, open_page):
    site.add_user("cagri.calisani", "callcenter")
    with site.tx() as session:
        instance_id = runtime.start_instance(session, "call_record", actor="cagri.calisani", data={
            "requester": "Mert Aydın", "requester_email": "", "phone": "0532 000 00 00",
            "topic": "Yatay geçiş başvurusu", "outcome": "needs_unit",
            "call_summary": "Başvuru son tarihi soruluyor."}).id
    site.sign_in(page, "cagri.calisani")

    claim_and_open(page, site, site.task_id(instance_id, "route"))
    page.fill("#field-unit_name", "Öğrenci İşleri")
    page.fill("#field-unit_email", "ogrenci@example.edu.tr")
    page.get_by_test_id("complete").click()
    expect(page).to_have_url(re.compile(r"/inbox"))

    run_jobs(site)
    assert mails(site, instance_id) == [("ogrenci@example.edu.tr",
                                         "Çağrı Merkezi: biriminize yönlendirilen mesaj")]
    unit = open_page()
    unit.goto(site.at(reply_path(site, instance_id)))
    expect(unit.get_by_test_id("reply-purpose")).to_contain_text("Yatay geçiş başvurusu")
    assert "0532 000 00 00" not in unit.content() and "Mert Aydın" not in unit.content()
    unit.fill("#answer", "Son tarih 15 Ağustos.")
    unit.fill("#answered_by", "Ece Kara")
    unit.locator("main form button[type=submit]").click()
    expect(unit.get_by_test_id("reply-thanks")).to_be_visible()

    claim_and_open(page, site, site.task_id(instance_id, "give_answer"))
    expect(page.locator("main")).to_contain_text("Son tarih 15 Ağustos.")
    page.get_by_label("Arayana ulaşıldı").check()
    page.get_by_test_id("complete").click()
    expect(page).to_have_url(re.compile(r"/inbox"))
    page.goto(site.at(f"/instances/{instance_id}"))
    expect(page.get_by_test_id("status")).to_have_text("tamamlandı")
