"""A conditional task form in a real browser: choosing an action reveals only its fields, and a
refusal from the server is shown next to the field, marked for assistive technology."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import select

from engine import runtime
from engine.models import AuditEvent, HumanTask


def test_choosing_an_action_reveals_only_its_section(site, page: Page, dialogs):
    site.add_user("kosul.ag", "network")
    with site.tx() as session:
        instance = runtime.start_instance(session, "user_support", actor="portal", data={
            "category": "VPN Bağlantısı", "subject": "VPN kopuyor", "requester": "Elif",
            "requester_email": "elif.kosul@ogr.example.edu.tr", "message": "Her 5 dakikada bir kopuyor."})
        instance_id = instance.id
        task_id = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance_id))
    site.sign_in(page, "kosul.ag")
    site.claim_on_task_page(page, task_id)
    form = page.get_by_test_id("task-form")
    answer, route = form.get_by_test_id("section-action-answer"), form.get_by_test_id("section-action-route")
    expect(answer).to_be_hidden()                       # nothing chosen yet: no action's fields
    expect(route).to_be_hidden()

    form.get_by_label("Başka birime yönlendir").check()
    expect(route).to_be_visible()
    expect(route.locator("legend")).to_have_text("“Başka birime yönlendir” seçildiğinde")
    expect(answer).to_be_hidden()
    form.locator("#field-unit_name").fill("Öğrenci İşleri")
    page.get_by_test_id("complete").click()

    # refused by the server: the message under the field, the field marked, the choice kept
    expect(page.get_by_test_id("error-unit_email")).to_have_text("Bu alan zorunludur.")
    email = page.locator("#field-unit_email")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_attribute("aria-describedby", re.compile(r"\bfield-unit_email-errors\b"))
    expect(page.locator("#field-unit_name")).to_have_value("Öğrenci İşleri")
    expect(page.get_by_test_id("section-action-route")).to_be_visible()
    expect(page.get_by_test_id("section-action-answer")).to_be_hidden()

    form = page.get_by_test_id("task-form")
    form.get_by_label("Talep sahibine soru sor").check()
    expect(form.get_by_test_id("section-action-route")).to_be_hidden()
    form.locator("#field-question").fill("Hangi ağdan bağlanıyorsunuz?")
    page.get_by_test_id("complete").click()
    expect(page).to_have_url(re.compile(r"/inbox"))
    with site.tx() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "task.completed",
                                                        AuditEvent.instance_id == instance_id))
        assert event.data["data"] == {"action": "ask", "question": "Hangi ağdan bağlanıyorsunuz?"}
    assert dialogs == []
