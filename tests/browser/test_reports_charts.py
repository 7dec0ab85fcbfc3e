"""A manager's report page in a real browser: Chart.js draws the three charts from the
page's data-chart attributes under the strict CSP, and the monthly report prints."""

from __future__ import annotations

from datetime import datetime

import pytest
from playwright.sync_api import Page, expect

from engine import reports, runtime, users
from engine.workdays import ZONE

pytestmark = pytest.mark.browser

CALLER = {"requester": "Mert Aydın", "phone": "0532 000 00 00",
          "topic": "Yatay geçiş", "call_summary": "Son tarih soruluyor."}


def test_the_charts_are_drawn_under_the_csp(site, page: Page):
    with site.tx() as session:
        users.add_user(session, "rapor.mudur", groups=(), roles=("manager",), password="parola123")
        for outcome in ("solved", "lost"):
            runtime.start_instance(session, "call_record", data={**CALLER, "outcome": outcome}, actor="portal")
    problems = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    site.sign_in(page, "rapor.mudur", "parola123")

    page.locator("[data-testid=nav-reports]").click()
    year = datetime.now(ZONE).year
    expect(page.locator("h1")).to_contain_text(str(year))
    canvases = page.locator("canvas[data-chart]")
    expect(canvases).to_have_count(3)
    page.wait_for_function("() => [...document.querySelectorAll('canvas[data-chart]')]"
                           ".every(c => window.Chart && window.Chart.getChart(c))")
    assert page.evaluate("() => window.Chart.getChart(document.querySelector('canvas')).data.datasets.length") == 2
    assert problems == []

    page.locator("table[data-testid=report-months] a", has_text="CSV").first.wait_for()
    month = datetime.now(ZONE).month
    page.goto(site.at(f"/reports/{year}/{month}"))
    # The live site is shared: other browser tests record calls this month too, so the
    # expected rate is counted from the calls recorded so far, the way a person would.
    with site.tx() as session:
        calls = reports.summary(session, year, month)["calls"]
    assert calls["lost"] >= 1 and calls["answered"] >= 1
    expected = calls["lost"] / (calls["answered"] + calls["lost"]) * 100
    # written the Turkish way (the page's language): %33,3
    expect(page.locator("[data-figure=lost_rate]").first).to_have_text(f"%{expected:.1f}".replace(".", ","))
    page.emulate_media(media="print")
    expect(page.locator("nav.navbar")).to_be_hidden()
    expect(page.locator("[data-print]")).to_be_hidden()
