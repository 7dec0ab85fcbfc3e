"""Staff pick a canned answer on the task page: it fills the conversation message or the
task form's answer (canned.js, loaded as a file under the strict CSP)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from engine import canned, runtime
from engine.models import HumanTask
from processes.user_support.recategorize import CATEGORIES

pytestmark = pytest.mark.browser

EDUROAM = "1. eduroam CAT aracını indirin.\n2. Kullanıcı adınız e-posta adresinizdir."


def test_a_canned_answer_fills_the_answer_or_the_message(site, page: Page, dialogs):
    site.add_user("hazir.ag", "network")
    with site.tx() as session:
        canned.save(session, category="Kablosuz Ağ (eduroam)", title="eduroam adımları (tarayıcı)", body=EDUROAM,
                    by="destek", allowed_categories=CATEGORIES)
        instance = runtime.start_instance(session, "user_support", actor="portal", data={
            "category": "Kablosuz Ağ (eduroam)", "subject": "eduroam", "requester": "Elif",
            "requester_email": "elif.hazir@ogr.example.edu.tr"})
        task_id = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance.id))
    site.sign_in(page, "hazir.ag")
    site.claim_on_task_page(page, task_id)

    page.select_option("#canned-select", label="eduroam adımları (tarayıcı)")
    page.select_option("#canned-target", "field-answer")
    page.locator("[data-canned-insert]").click()
    expect(page.locator("#field-answer")).to_have_value(EDUROAM)
    expect(page.locator("input[name=action][value=answer]")).to_be_checked()

    page.select_option("#canned-target", "conv-message")
    page.locator("[data-canned-insert]").click()
    expect(page.locator("#conv-message")).to_have_value(EDUROAM)
    page.locator("#kind-public").check()
    page.get_by_test_id("add-message").click()
    expect(page.locator("[data-testid=message][data-kind=public] .conv-body")).to_have_text(EDUROAM)
    assert dialogs == []
