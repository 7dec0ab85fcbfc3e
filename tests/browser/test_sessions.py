"""Signing out in a real browser: one browser, or every browser of the user; and a form
sent from another site's page is refused by its Origin."""

from __future__ import annotations

import re

from playwright.sync_api import expect


def test_sign_out_ends_this_browser_and_sign_out_everywhere_ends_all(site, open_page):
    site.add_user("oturum.bir", "helpdesk")
    office, laptop, phone = open_page(), open_page(), open_page()
    for page in (office, laptop, phone):
        site.sign_in(page, "oturum.bir")

    # "Çıkış" in the top bar ends this browser only.
    phone.locator("form[action='/logout'] button").click()
    expect(phone).to_have_url(re.compile(r"/login"))
    laptop.goto(site.at("/inbox"))
    expect(laptop).to_have_url(re.compile(r"/inbox$"))

    office.goto(site.at("/account"))
    expect(office.get_by_test_id("sessions-count")).to_have_text(
        "Şu anda oturumunuzun açık olduğu tarayıcılar: 2")
    office.get_by_test_id("sign-out-everywhere").click()
    expect(office).to_have_url(re.compile(r"/login"))
    expect(office.get_by_text("Tüm tarayıcılardaki oturumlarınız kapatıldı.")).to_be_visible()
    laptop.goto(site.at("/inbox"))
    expect(laptop).to_have_url(re.compile(r"/login"))


def test_a_form_on_another_sites_page_is_refused(site, page):
    """Chromium names the page that sent a form in Origin; SEK refuses a foreign one."""
    evil = (f'<form method="post" action="{site.at("/login")}"><input name="username" value="x">'
            '<input name="password" value="y"><button>Send</button></form>')
    page.route("http://evil.example/**", lambda route: route.fulfill(content_type="text/html", body=evil))
    page.goto("http://evil.example/")
    with page.expect_response(site.at("/login")) as answer:
        page.get_by_role("button", name="Send").click()
    assert answer.value.status == 403
    expect(page.get_by_text("Bu form başka bir sitenin sayfasından gönderildiği için reddedildi.")).to_be_visible()
