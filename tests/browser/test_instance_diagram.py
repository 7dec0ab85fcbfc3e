"""A running request's page shows its diagram: where it has been and where it waits now."""

from __future__ import annotations

from playwright.sync_api import Page, expect


def test_a_running_request_shows_its_path_and_its_waiting_task(site, page: Page, dialogs):
    site.add_user("diyagram.ayse", "helpdesk")
    instance_id = site.start_request("Yazıcı çalışmıyor")
    csp_errors: list[str] = []
    page.on("console", lambda msg: csp_errors.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text else None)
    site.sign_in(page, "diyagram.ayse")
    page.goto(site.at(f"/instances/{instance_id}"))
    diagram = page.get_by_test_id("diagram")
    expect(diagram).to_have_attribute("data-state", "ready")
    expect(diagram.locator(".djs-element[data-element-id=triage].sek-active")).to_be_visible()
    expect(diagram.locator(".djs-element[data-element-id=request_received].sek-done")).to_be_visible()
    expect(diagram.locator(".djs-element[data-element-id=flow_to_triage].sek-taken")).to_have_count(1)
    expect(diagram.locator(".djs-element.sek-active")).to_have_count(1)   # one token: the triage
    expect(page.get_by_test_id("diagram-legend")).to_be_visible()
    assert csp_errors == []
