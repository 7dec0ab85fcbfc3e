"""Accessibility checks for the browser tests: axe-core (WCAG 2.0/2.1 A and AA) and the phone width.

axe-core comes from npm, pinned in package.json (a dev dependency: `make static` runs
``npm ci``); it is read from ``node_modules`` and evaluated in the page through the
DevTools protocol, which the pages' Content-Security-Policy (no inline scripts) does not
stop, so the pages are checked exactly as they are served.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from playwright.sync_api import Page

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# What the tests refuse: the bar is 0 serious or critical violations.
REFUSED_IMPACTS = ("serious", "critical")
PHONE_WIDTH = 390
DESKTOP_WIDTH = 1280

_RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary}))}));
}"""

# Every control a person can reach (visible, not hidden from assistive technology) whose box
# leaves the screen, sideways: at 390 px a button off to the right is a button nobody presses.
_OFF_SCREEN = """() => {
  const width = document.documentElement.clientWidth;
  const controls = document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary');
  const out = [];
  for (const el of controls) {
    if (el.closest('[aria-hidden=true], [hidden]') || el.tabIndex < 0) continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0 || getComputedStyle(el).visibility === 'hidden') continue;
    if (el.closest('.visually-hidden-focusable') && box.width <= 1) continue;   // the skip link, until focused
    if (box.right > width + 1 || box.left < -1) {
      out.push(`${el.tagName.toLowerCase()} "${(el.innerText || el.value || el.name || '').trim().slice(0, 40)}" `
               + `at ${Math.round(box.left)}..${Math.round(box.right)} px`);
    }
  }
  return out;
}"""


@cache
def _axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"axe-core is not installed ({AXE} is missing): run `make static` (npm ci)", pytrace=False)
    return AXE.read_text(encoding="utf-8")


def axe_violations(page: Page) -> list[dict]:
    """axe-core's WCAG 2.0/2.1 A+AA violations of the page as it is now, every impact."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(_axe_source())
    return page.evaluate(_RUN_AXE, WCAG_AA)


def describe(violations: list[dict]) -> str:
    """One paragraph a violation: its rule, what it asks, and the elements that break it."""
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']}")
        lines.extend(f"    {node['target']}: {(node['summary'] or '').splitlines()[-1].strip()}"
                     for node in v["nodes"][:8])
        if len(v["nodes"]) > 8:
            lines.append(f"    ... and {len(v['nodes']) - 8} more")
    return "\n".join(lines)


def assert_accessible(page: Page, what: str) -> None:
    """Fail listing every serious or critical WCAG 2.1 AA violation axe finds on the page."""
    refused = [v for v in axe_violations(page) if v["impact"] in REFUSED_IMPACTS]
    assert not refused, f"{what} ({page.url}): axe finds serious or critical violations:\n{describe(refused)}"


def assert_fits_phone(page: Page, what: str) -> None:
    """At 390 px wide: no sideways scrolling, and every control on the screen (then back to the desktop)."""
    desktop = page.viewport_size
    page.set_viewport_size({"width": PHONE_WIDTH, "height": 844})
    try:
        scroll_width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert scroll_width <= inner, f"{what} ({page.url}) scrolls sideways at {inner} px: {scroll_width} px wide"
        off_screen = page.evaluate(_OFF_SCREEN)
        assert not off_screen, f"{what} ({page.url}) at {inner} px: controls off the screen: {off_screen}"
    finally:
        page.set_viewport_size(desktop)


def check_page(page: Page, what: str) -> None:
    """The issue's bar for one page: axe clean at desktop width, and usable at 390 px."""
    assert_accessible(page, what)
    assert_fits_phone(page, what)
