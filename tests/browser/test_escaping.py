"""Markup typed by requesters or staff is shown as text in the browser, never run.

The Content-Security-Policy would block inline scripts even if escaping failed, so
"no dialog opened" alone proves little: the tests also check that no element was
injected into the page (no inline <script>, no <img src=x>) and that the text reads
exactly as typed.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

SUBJECT = "<script>alert(1)</script>"
REQUESTER = "<img src=x onerror=alert(1)>"
NOTE = "<img src=x onerror=alert(2)>\"><script>alert(3)</script>"


def data_value(page: Page, key: str):
    """The value of ``key`` in the page's data panel."""
    return page.locator(f"[data-testid=data-panel] dd[data-key={key}]")


def assert_nothing_injected(page: Page) -> None:
    expect(page.locator("script:not([src])")).to_have_count(0)
    expect(page.locator("img")).to_have_count(0)


def test_script_in_request_and_task_form_is_shown_as_text(site, page, dialogs):
    site.add_user("elif.kacis", "helpdesk")
    instance_id = site.start_request(SUBJECT, requester=REQUESTER)
    task_id = site.task_id(instance_id)
    site.sign_in(page, "elif.kacis")

    page.goto(site.at(f"/tasks/{task_id}"))
    expect(page.get_by_test_id("request-subject")).to_have_text(SUBJECT)   # the request first
    assert_nothing_injected(page)
    page.goto(site.at(f"/instances/{instance_id}"))   # the request page names the requester
    expect(page.locator("main")).to_contain_text(REQUESTER)
    assert_nothing_injected(page)
    page.goto(site.at(f"/tasks/{task_id}"))

    # Typed into a form, sent back with an error: still plain text in the field.
    page.get_by_test_id("claim").click()
    page.locator("#field-category").select_option("Diğer")
    page.locator("#field-triage_note").fill(NOTE)
    page.get_by_test_id("complete").click()
    expect(page.get_by_test_id("error-team")).to_be_visible()
    expect(page.locator("#field-triage_note")).to_have_value(NOTE)
    assert_nothing_injected(page)

    page.locator("#field-team").select_option("software")
    page.get_by_test_id("complete").click()
    expect(page).to_have_url(re.compile(r"/inbox"))

    # The request's page shows the data and the note in its history, as text.
    page.goto(site.at(f"/instances/{instance_id}"))
    completed = page.locator("[data-testid=timeline] li[data-action='task.completed']")
    expect(completed.locator("dd[data-key=triage_note]")).to_have_text(NOTE)
    expect(page.get_by_test_id("request-subject")).to_have_text(SUBJECT)
    expect(page.get_by_test_id("request-requester")).to_have_text(REQUESTER)
    expect(data_value(page, "triage_note")).to_have_text(NOTE)
    assert_nothing_injected(page)
    assert dialogs == []


def test_markup_in_the_address_is_not_echoed_into_the_page(site, page, dialogs):
    site.add_user("omer.kacis", "helpdesk")
    site.sign_in(page, "omer.kacis")
    page.goto(site.at('/inbox?section=group&process="><img src=x onerror=alert(4)>&sort=<script>alert(5)</script>'))
    expect(page.get_by_test_id("tab-group")).to_have_class(re.compile(r"\bactive\b"))
    assert_nothing_injected(page)
    # The language switch sends people back to this address: still harmless afterwards.
    page.get_by_test_id("language-switch").get_by_role("button", name="EN").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(re.compile(r"/inbox\?"))
    assert_nothing_injected(page)
    assert dialogs == []
