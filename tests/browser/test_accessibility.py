"""WCAG 2.1 AA and the phone, on the pages requesters and staff live in, in Turkish and English.

One browser context a language follows a request from the portal to the team: the portal's
start page, a process form, the same form refused with its errors, the sent page, the
tracking sign-in and tracking page; then a team member signs in: the inbox, the task page
(its form refused, so the shared field partial shows its errors) and the request page. On each page axe-core
finds no serious or critical WCAG 2.0/2.1 A+AA violation at 1280 px, and at 390 px the page
does not scroll sideways and every control is on the screen. A failing test keeps
screenshots at both widths (tests/browser/conftest.py).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from engine.models import OPEN_TASK_STATES, HumanTask, ProcessInstance
from tests.browser.a11y import DESKTOP_WIDTH, check_page

pytestmark = pytest.mark.browser

# What each language calls the things the test presses.
WORDS = {
    "tr": {"category": "Kablosuz Ağ (eduroam)", "skip": "İçeriğe geç", "send": "Talebi gönder",
           "show": "Talebimi göster"},
    "en": {"category": "Wireless network (eduroam)", "skip": "Skip to content", "send": "Send the request",
           "show": "Show my request"},
}
FOCUSED = "(() => { const el = document.activeElement, box = el.getBoundingClientRect(); " \
          "return {text: el.textContent.trim(), href: el.getAttribute('href'), id: el.id, width: box.width, " \
          "outline: getComputedStyle(el).outlineStyle}; })()"


def choose_language(page: Page, lang: str) -> None:
    """Press the navbar's language button, as a person would (on a desktop-wide page)."""
    page.get_by_test_id("language-switch").get_by_role("button", name=lang.upper()).click()
    expect(page.locator("html")).to_have_attribute("lang", lang)


def skip_link_works(page: Page, lang: str) -> None:
    """The first Tab shows the skip link; Enter moves to the main content, where the next Tab
    lands on a link with a visible focus ring."""
    page.keyboard.press("Tab")
    focused = page.evaluate(FOCUSED)
    assert (focused["text"], focused["href"]) == (WORDS[lang]["skip"], "#content"), focused
    assert focused["width"] > 40, f"the focused skip link is not shown: {focused}"
    page.keyboard.press("Enter")
    assert page.evaluate(FOCUSED)["id"] == "content"
    page.keyboard.press("Tab")
    focused = page.evaluate(FOCUSED)
    assert focused["outline"] == "solid", f"no visible focus on {focused}"


def open_task_of(site, instance_id: int) -> HumanTask:
    with site.tx() as session:
        task = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                       HumanTask.state.in_(OPEN_TASK_STATES))).first()
        assert task is not None, "the request has no open task"
        session.expunge(task)
        return task


@pytest.mark.parametrize("lang", ["tr", "en"])
def test_portal_tracking_inbox_task_and_request_pages_are_accessible(site, open_page, lang):
    words = WORDS[lang]
    page = open_page(viewport={"width": DESKTOP_WIDTH, "height": 900})
    email = f"erisim.{lang}@ogr.example.edu.tr"

    # --- the requester: start page, form, refused form ---------------------------------------
    page.goto(site.at("/"))
    if lang != "tr":
        choose_language(page, lang)
    skip_link_works(page, lang)
    check_page(page, "the portal's start page")

    page.get_by_test_id("choice").filter(has_text=words["category"]).click()
    expect(page.get_by_test_id("portal-form")).to_be_visible()
    check_page(page, "a process form")

    page.fill("#field-requester_email", "not an address")
    page.get_by_role("button", name=words["send"]).click()
    invalid = page.locator("[data-testid=portal-form] [aria-invalid=true]")
    expect(invalid.first).to_be_visible()
    for field in invalid.all():                 # each refused field points at its own error text
        described = (field.get_attribute("aria-describedby") or "").split()
        errors = [i for i in described if i.endswith("-errors")]
        assert errors and page.locator(f"#{errors[0]}").inner_text().strip(), field.get_attribute("id")
    check_page(page, "the refused form")

    # --- sent: the tracking page -------------------------------------------------------------
    for selector, value in {"#field-requester": "Erişim Deneme", "#field-requester_email": email,
                            "#field-phone": "2345", "#field-national_id": "10000000146", "#field-subject": "Kütüphanede eduroam yok",
                            "#field-message": "Kütüphanenin 2. katında eduroam görünmüyor."}.items():
        page.fill(selector, value)
    page.select_option("#field-unit", index=1)
    site.answer_captcha(page)
    page.get_by_role("button", name=words["send"]).click()
    code = page.get_by_test_id("tracking-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]{6,}", code), code
    check_page(page, "the request-sent page")
    page.goto(site.at("/takip"))
    check_page(page, "the tracking sign-in")
    page.fill("#code", code)
    page.fill("#email", email)
    page.get_by_role("button", name=words["show"]).click()
    expect(page.get_by_test_id("track-status")).to_be_visible()
    check_page(page, "the tracking page")

    # --- the team: inbox, task page (form refused), request page -----------------------------
    with site.tx() as session:
        instance_id = session.scalar(select(ProcessInstance.id).where(ProcessInstance.tracking_code == code))
    task = open_task_of(site, instance_id)
    staff = site.add_user(f"erisim.{lang}", task.group_name)
    site.sign_in(page, staff)
    if lang != "tr":
        choose_language(page, lang)
    page.get_by_test_id("tab-group").click()
    expect(page.locator(f"[data-task-id='{task.id}']")).to_be_visible()
    check_page(page, "the inbox")

    site.claim_on_task_page(page, task.id)
    page.get_by_test_id("complete").click()
    expect(page.locator("[data-testid=task-form] [aria-invalid=true]").first).to_be_visible()
    check_page(page, "the task page with a refused form")

    page.goto(site.at(f"/instances/{instance_id}"))
    expect(page.locator("main h1")).to_contain_text(f"#{instance_id}")
    check_page(page, "the request page")
    expect(page.locator("html")).to_have_attribute("lang", lang)
