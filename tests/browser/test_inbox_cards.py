"""The inbox as a help-desk agent uses it all day: on a phone (cards, one tap to claim and
open) and at a desk by keyboard (j / k, Enter, c, /)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from engine import conversation
from engine.models import RequestFact

pytestmark = pytest.mark.browser

PHONE_390 = {"width": 390, "height": 844}


def _urgent(site, instance_id: int, requester: str = "Deniz Kart") -> None:
    """Make the request urgent, as the help desk would, with its requester as the portal keeps them."""
    with site.tx() as session:
        fact = session.get(RequestFact, instance_id)
        fact.priority, fact.category = "urgent", "VPN Bağlantısı"
        conversation.record_contact(session, instance_id, name=requester, email="deniz.kart@example.edu.tr")


def _fits(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def test_on_a_phone_each_task_is_a_card_with_claim_and_open_in_reach(site, open_page):
    site.add_user("kart.destek", "helpdesk")
    instance_id = site.start_request("Telefonda VPN kopuyor")
    _urgent(site, instance_id)
    task_id = site.task_id(instance_id)
    page = open_page(viewport=PHONE_390, is_mobile=True, has_touch=True)
    site.sign_in(page, "kart.destek")
    page.goto(site.at("/inbox?section=group&sort=priority"))

    card = site.task_row(page, task_id)
    for text in ("Telefonda VPN kopuyor", "Deniz Kart", "VPN Bağlantısı", "Acil", "Talebi değerlendir ve yönlendir"):
        expect(card).to_contain_text(text)
    expect(page.locator("[data-testid=task-list] thead")).to_be_hidden()    # each field labels itself
    assert _fits(page), "the inbox is wider than a 390 px screen"
    box = card.bounding_box()
    assert box["width"] <= PHONE_390["width"], box          # a card, not a clipped table row
    button = card.get_by_role("button", name="Üstlen ve aç")
    button.scroll_into_view_if_needed()
    reach = button.bounding_box()
    assert 0 <= reach["x"] and reach["x"] + reach["width"] <= PHONE_390["width"], reach

    button.tap()
    expect(page).to_have_url(site.at(f"/tasks/{task_id}"))
    expect(page.locator(".alert-success")).to_be_visible()
    assert site.task(task_id).assignee == "kart.destek"


def test_by_keyboard_rows_open_claim_and_the_filter_is_one_key_away(site, page):
    site.add_user("klavye.destek", "helpdesk")
    first = site.start_request("Klavye: acil olan")
    second = site.start_request("Klavye: sıradaki")
    _urgent(site, first)
    first_task, second_task = site.task_id(first), site.task_id(second)
    site.sign_in(page, "klavye.destek")
    page.goto(site.at("/inbox?section=group&sort=priority"))
    expect(page.get_by_test_id("keyboard-help")).to_be_visible()
    expect(page.get_by_test_id("keyboard-help")).to_contain_text("c görevi üstlenip açar")

    page.keyboard.press("/")
    expect(page.locator("#filter-text")).to_be_focused()
    page.keyboard.type("Klavye")                              # typing in the filter moves nothing
    expect(page.locator("tr.inbox-current")).to_have_count(0)
    page.keyboard.press("Enter")                               # filters the list
    expect(page).to_have_url(re.compile(r"text=Klavye"))
    page.wait_for_load_state("load")                           # the new page's keys are listened to
    expect(page.locator("tr[data-task-id]")).to_have_count(2)

    page.keyboard.press("j")
    expect(page.locator("tr.inbox-current")).to_have_attribute("data-task-id", str(first_task))
    page.keyboard.press("j")
    expect(page.locator("tr.inbox-current")).to_have_attribute("data-task-id", str(second_task))
    page.keyboard.press("ArrowUp")
    expect(page.locator("tr.inbox-current")).to_have_attribute("data-task-id", str(first_task))
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")                               # opens, without claiming
    expect(page).to_have_url(site.at(f"/tasks/{second_task}"))
    assert site.task(second_task).state == "ready"

    page.go_back()
    page.wait_for_load_state("load")
    expect(page.locator("tr[data-task-id]")).to_have_count(2)
    page.keyboard.press("j")
    expect(page.locator("tr.inbox-current")).to_have_attribute("data-task-id", str(first_task))
    page.keyboard.press("c")                                   # claims and opens
    expect(page).to_have_url(site.at(f"/tasks/{first_task}"))
    assert site.task(first_task).assignee == "klavye.destek"
