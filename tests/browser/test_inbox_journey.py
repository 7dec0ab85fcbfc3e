"""Staff in a real browser: sign in, claim, fill a task form (wrong, then right), follow
the request to the next team; switch the language; do the same on a phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

TRIAGE = "Talebi değerlendir ve yönlendir"
TEAM_WORK = "Talebi çöz ve yanıtla"


def nav_inbox(page: Page):
    return page.locator("#nav-main .navbar-nav a[href='/inbox']")


def task_row(page: Page, task_id: int):
    return page.locator(f"[data-testid=task-list] tr[data-task-id='{task_id}']")


def page_width_fits(page: Page) -> bool:
    """No sideways scrolling: the page is not wider than the screen. (Compared with the
    viewport asked for: on a phone, window.innerWidth grows with a too-wide page.)"""
    return page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def test_helpdesk_triages_a_request_and_the_network_team_sees_it(site, page, open_page):
    site.add_user("ayse.yolculuk", "helpdesk")
    site.add_user("mehmet.yolculuk", "network")
    instance_id = site.start_request("VPN bağlanmıyor")
    task_id = site.task_id(instance_id)

    # The inbox asks for a sign-in first, in Turkish.
    page.goto(site.at("/inbox"))
    expect(page).to_have_url(re.compile(r"/login\?next=(/|%2F)inbox$"))
    expect(page.locator("html")).to_have_attribute("lang", "tr")
    expect(page.locator("main h1")).to_have_text("Giriş yap")
    expect(page.locator("main form button[type=submit]")).to_have_text("Giriş yap")
    page.fill("#username", "ayse.yolculuk")
    page.fill("#password", "parola123")
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/inbox"))
    expect(page.get_by_test_id("current-user")).to_have_text("ayse.yolculuk")
    expect(nav_inbox(page)).to_have_text("Gelen kutusu")

    # The new request waits, unclaimed, in the help desk's list; one click claims it.
    page.get_by_test_id("tab-group").click()
    expect(page).to_have_url(re.compile(r"section=group"))
    row = task_row(page, task_id)
    expect(row).to_contain_text(TRIAGE)
    expect(row).to_contain_text(f"#{instance_id}")
    row.get_by_role("button", name="Üstlen", exact=True).click()
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page).to_have_url(re.compile(r"section=group"))
    expect(task_row(page, task_id)).to_have_count(0)
    assert site.task(task_id).assignee == "ayse.yolculuk"

    page.get_by_test_id("tab-mine").click()
    task_row(page, task_id).get_by_role("link", name=TRIAGE).click()
    expect(page).to_have_url(site.at(f"/tasks/{task_id}"))
    expect(page.locator("main h1")).to_have_text(TRIAGE)
    expect(page.get_by_test_id("assignee")).to_have_text("ayse.yolculuk")

    # A required field left empty: the error sits next to it, and nothing typed is lost.
    form = page.get_by_test_id("task-form")
    form.locator("#field-category").select_option("VPN Bağlantısı")
    form.locator("#field-triage_note").fill("Önce ağ ekibi baksın; kullanıcı yurtta.")
    complete = form.get_by_role("button", name="Görevi tamamla")
    expect(complete).to_be_visible()
    complete.click()
    error = page.get_by_test_id("error-team")
    expect(error).to_have_text("Bu alan zorunludur.")
    expect(page.locator("[data-field=team]").get_by_test_id("error-team")).to_be_visible()
    expect(page.locator("#field-team")).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.locator("#field-team")).to_have_attribute("aria-describedby", re.compile(r"field-team-errors"))
    expect(page.get_by_test_id("form-error")).to_be_visible()
    expect(page.locator("#field-triage_note")).to_have_value("Önce ağ ekibi baksın; kullanıcı yurtta.")
    expect(page.locator("#field-category")).to_have_value("VPN Bağlantısı")
    assert site.task(task_id).state == "claimed"          # nothing was saved

    # Fixed and completed: the task leaves the inbox.
    page.locator("#field-team").select_option("network")
    page.get_by_test_id("complete").click()
    expect(page).to_have_url(re.compile(r"/inbox"))
    expect(page.locator(".alert-success")).to_contain_text(TRIAGE)
    expect(task_row(page, task_id)).to_have_count(0)
    page.get_by_test_id("tab-mine").click()
    expect(page.get_by_test_id("tab-mine")).to_have_class(re.compile(r"\bactive\b"))
    expect(task_row(page, task_id)).to_have_count(0)
    done = site.task(task_id)
    assert (done.state, done.completed_by) == ("completed", "ayse.yolculuk")

    # The request's page tells what happened and shows the network team's new task.
    team_task_id = site.task_id(instance_id, "team_work")
    assert team_task_id is not None
    page.goto(site.at(f"/instances/{instance_id}"))
    completed = page.locator("[data-testid=timeline] li[data-action='task.completed']")
    expect(completed).to_have_count(1)
    expect(completed).to_contain_text("ayse.yolculuk")
    expect(completed).to_contain_text(TRIAGE)
    team_row = page.locator(f"[data-testid=instance-tasks] tr[data-task-id='{team_task_id}']")
    expect(team_row).to_contain_text(TEAM_WORK)
    expect(team_row).to_contain_text("Ağ Hizmetleri Planlama Destek Grubu")   # the group by its name

    # A member of the network team signs in elsewhere and finds it in the group list.
    other = open_page()
    site.sign_in(other, "mehmet.yolculuk")
    other.get_by_test_id("tab-group").click()
    row = task_row(other, team_task_id)
    expect(row).to_contain_text(TEAM_WORK)
    expect(row.get_by_role("button", name="Üstlen", exact=True)).to_be_visible()
    expect(task_row(other, task_id)).to_have_count(0)


def test_language_switch_is_remembered_for_the_user(site, page, open_page):
    site.add_user("zeynep.dil", "helpdesk")
    site.sign_in(page, "zeynep.dil")
    html = page.locator("html")
    switch = page.get_by_test_id("language-switch")
    expect(html).to_have_attribute("lang", "tr")

    switch.get_by_role("button", name="EN").click()
    expect(html).to_have_attribute("lang", "en")
    expect(nav_inbox(page)).to_have_text("Inbox")
    expect(page).to_have_url(re.compile(r"/inbox"))   # the switch stays on the same page

    switch.get_by_role("button", name="TR").click()
    expect(html).to_have_attribute("lang", "tr")
    expect(nav_inbox(page)).to_have_text("Gelen kutusu")

    # The last choice (English) is the user's, not the browser's: a new browser gets it
    # at sign-in, while another user there still gets the Turkish default.
    switch.get_by_role("button", name="EN").click()
    expect(html).to_have_attribute("lang", "en")
    page.locator("form[action='/logout'] button").click()
    expect(page).to_have_url(re.compile(r"/login"))

    elsewhere = open_page()
    elsewhere.goto(site.at("/login"))
    expect(elsewhere.locator("html")).to_have_attribute("lang", "tr")
    site.sign_in(elsewhere, "zeynep.dil")
    expect(elsewhere.locator("html")).to_have_attribute("lang", "en")
    expect(nav_inbox(elsewhere)).to_have_text("Inbox")

    site.add_user("deniz.dil", "helpdesk")
    stranger = open_page()
    site.sign_in(stranger, "deniz.dil")
    expect(stranger.locator("html")).to_have_attribute("lang", "tr")
    expect(nav_inbox(stranger)).to_have_text("Gelen kutusu")

    # And back: Turkish chosen, signed out, signed in again: Turkish.
    elsewhere.get_by_test_id("language-switch").get_by_role("button", name="TR").click()
    expect(elsewhere.locator("html")).to_have_attribute("lang", "tr")
    elsewhere.locator("form[action='/logout'] button").click()
    site.sign_in(elsewhere, "zeynep.dil")
    expect(elsewhere.locator("html")).to_have_attribute("lang", "tr")
    expect(nav_inbox(elsewhere)).to_have_text("Gelen kutusu")


def test_inbox_and_task_form_work_on_a_phone(site, phone_page):
    site.add_user("can.telefon", "helpdesk")
    instance_id = site.start_request("Eduroam telefonda bağlanmıyor")
    task_id = site.task_id(instance_id)
    page = phone_page
    site.sign_in(page, "can.telefon")

    # The menu folds behind the toggler, and opens (Bootstrap's script runs under the CSP).
    expect(nav_inbox(page)).to_be_hidden()
    page.locator(".navbar-toggler").click()
    expect(nav_inbox(page)).to_be_visible()
    assert page_width_fits(page), "the inbox is wider than a phone screen"

    page.get_by_test_id("tab-group").click()
    row = task_row(page, task_id)
    expect(row).to_contain_text(TRIAGE)
    row.get_by_role("button", name="Üstlen", exact=True).click()
    expect(task_row(page, task_id)).to_have_count(0)

    page.get_by_test_id("tab-mine").click()
    task_row(page, task_id).get_by_role("link", name=TRIAGE).click()
    expect(page).to_have_url(site.at(f"/tasks/{task_id}"))
    assert page_width_fits(page), "the task page is wider than a phone screen"
    page.locator("#field-category").select_option("Kablosuz Ağ (eduroam)")
    page.locator("#field-team").select_option("network")
    page.locator("#field-triage_note").fill("Telefondan yönlendirildi.")
    complete = page.get_by_test_id("complete")
    expect(complete).to_have_text("Görevi tamamla")
    complete.click()
    expect(page).to_have_url(re.compile(r"/inbox"))
    expect(page.locator(".alert-success")).to_be_visible()
    done = site.task(task_id)
    assert (done.state, done.completed_by) == ("completed", "can.telefon")

    page.goto(site.at(f"/instances/{instance_id}"))
    expect(page.locator("[data-testid=timeline] li[data-action='task.completed']")).to_have_count(1)
    assert page_width_fits(page), "the request's page is wider than a phone screen"
