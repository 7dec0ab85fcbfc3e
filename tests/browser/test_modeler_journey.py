"""The modeler in a real browser: an admin adds a user task to the network lane, names it
and sets its group in SEK's properties panel, saves, deploys with a note; the new version
starts and its task reaches the network team's inbox. An invalid diagram's errors are
listed and its element marked on the canvas."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree
from playwright.sync_api import Page, expect
from sqlalchemy import select

from engine import definitions, instances, runtime, services, tasks, users, validation
from engine.models import HumanTask, ProcessDefinition, User
from engine.xmlsafe import parse_xml

pytestmark = pytest.mark.browser

DEMO = Path(__file__).resolve().parents[1] / "data" / "modeler"
ROOT_BPMN = Path(__file__).resolve().parents[2] / "bpmn"
KEY = "modeler_demo"

ADD_TASK = """([type, laneId, x, y]) => {
  const m = window.sekModeler;
  const reg = m.get('elementRegistry'), modeling = m.get('modeling');
  const shape = modeling.createShape(m.get('elementFactory').createShape({ type }), { x, y }, reg.get(laneId));
  const done = reg.get('done'), before = done.incoming[0], source = before.source;
  modeling.removeConnection(before);
  modeling.connect(source, shape);
  modeling.connect(shape, done);
  m.get('selection').select(shape);
  return shape.id;
}"""


@pytest.fixture
def demo(site):
    """The tiny demo process deployed on the live site, and an admin to edit it."""
    with site.tx() as session:
        definitions.deploy(session, validation.load_paths([str(DEMO)]), note="demo",
                           known_operators=services.operator_names())
        if session.scalar(select(User).where(User.username == "modeler.admin")) is None:
            users.add_user(session, "modeler.admin", roles=("admin",), password="parola123")
    return "modeler.admin"


def open_modeler(site, page: Page, username: str) -> list[str]:
    """Sign in, open the modeler and wait for the diagram; returns the page's script errors."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    site.sign_in(page, username)
    page.goto(site.at(f"/modeler/{KEY}"))
    expect(page.locator("#sek-modeler")).to_have_attribute("data-ready", "true")
    expect(page.locator(".djs-element[data-element-id=first_look]")).to_be_visible()
    expect(page.locator(".bjs-powered-by")).to_be_visible()   # the bpmn.io watermark stays
    return errors


def spiff_extensions(xml: str) -> list[tuple]:
    """Every spiffworkflow element: its owner's id, tag, attributes and text."""
    root = parse_xml(xml.encode("utf-8"), "diagram.bpmn")
    return [(next(a.get("id") for a in element.iterancestors() if a.get("id") and "spiffworkflow" not in a.tag),
             etree.QName(element).localname, sorted(element.attrib.items()), (element.text or "").strip())
            for element in root.iter("{http://spiffworkflow.org/bpmn/schema/1.0/core}*")]


def latest_version(site) -> int:
    with site.tx() as session:
        return definitions.get_definition(session, KEY).version


def test_add_a_task_to_the_network_lane_deploy_and_see_it_in_the_network_inbox(site, page, open_page, demo):
    errors = open_modeler(site, page, demo)
    before = latest_version(site)

    # The task is placed by bpmn-js's API (a palette drag is brittle); the rest is the panel.
    task_id = page.evaluate(ADD_TASK, ["bpmn:UserTask", "lane_network", 450, 300])
    panel = page.get_by_test_id("modeler-panel")
    expect(panel.locator("#p-lane")).to_have_text("network")
    panel.locator("#p-name").fill("Ağ kontrolü")
    panel.locator("#p-name").press("Tab")
    panel.locator("#p-candidate-groups").fill("'network'")
    panel.locator("#p-candidate-groups").press("Tab")
    panel.locator("#p-due-in").fill("working_days(2)")
    panel.locator("#p-due-in").press("Tab")
    expect(page.locator(f".djs-element[data-element-id={task_id}]")).to_contain_text("Ağ kontrolü")

    page.get_by_test_id("modeler-save").click()
    status = page.get_by_test_id("modeler-status")
    expect(status).to_have_class(re.compile(r"text-success"))
    expect(page.get_by_test_id("modeler-problems").locator("li")).to_have_count(0)
    assert latest_version(site) == before   # saving keeps the draft in the browser only

    # Deploying asks for a change note first.
    page.get_by_test_id("modeler-deploy").click()
    expect(status).to_have_class(re.compile(r"text-danger"))
    page.fill("#modeler-note", "Network checks every request")
    page.get_by_test_id("modeler-deploy").click()
    expect(status).to_contain_text(f"{before + 1}")
    expect(status).to_have_class(re.compile(r"text-success"))
    assert latest_version(site) == before + 1
    # The same content again makes no new version, and says so.
    page.fill("#modeler-note", "once more")
    page.get_by_test_id("modeler-deploy").click()
    expect(status).to_have_class(re.compile(r"text-info"))
    assert latest_version(site) == before + 1

    # A new request runs the new version: after the help desk's first look, the network team's task.
    with site.tx() as session:
        instance = runtime.start_instance(session, KEY, data={}, actor="portal")
        assert instances.version_of(session, instance) == before + 1
        helper = session.scalar(select(User).where(User.username == demo))
        first = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                       HumanTask.bpmn_id == "first_look"))
        tasks.claim_task(session, first.id, helper)
        tasks.complete_task(session, first.id, helper, {"note": "looked"})
        added = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                       HumanTask.bpmn_id == task_id))
        assert added.group_name == "network" and added.due_at is not None
        added_id = added.id
    member = site.add_user(f"modeler.network.{added_id}", "network")
    inbox = open_page()
    site.sign_in(inbox, member)
    inbox.get_by_test_id("tab-group").click()
    expect(site.task_row(inbox, added_id)).to_contain_text("Ağ kontrolü")
    assert not errors, errors


def test_an_invalid_diagram_lists_its_errors_and_marks_the_element(site, page, demo):
    errors = open_modeler(site, page, demo)
    versions_before = latest_version(site)
    script_id = page.evaluate(ADD_TASK, ["bpmn:ScriptTask", "lane_helpdesk", 480, 140])
    page.get_by_test_id("modeler-save").click()

    problem = page.get_by_test_id("modeler-problems").locator(f"li[data-element='{script_id}']")
    expect(problem).to_contain_text("script task has no script")
    expect(page.locator(f"g.djs-element[data-element-id={script_id}]")).to_have_class(re.compile(r"\bsek-error\b"))
    expect(page.get_by_test_id("modeler-status")).to_have_class(re.compile(r"text-danger"))

    # A script the sandbox refuses is named too; a good one clears the mark.
    page.locator("#p-script").fill("import os")
    page.locator("#p-script").press("Tab")
    page.get_by_test_id("modeler-save").click()
    expect(problem).to_contain_text("sandbox")
    page.locator("#p-script").fill("checked = True")
    page.locator("#p-script").press("Tab")
    page.get_by_test_id("modeler-save").click()
    expect(page.get_by_test_id("modeler-status")).to_have_class(re.compile(r"text-success"))
    expect(page.locator(f"g.djs-element[data-element-id={script_id}]")).not_to_have_class(re.compile(r"sek-error"))
    with site.tx() as session:
        assert session.scalar(select(ProcessDefinition.version).where(ProcessDefinition.key == KEY)
                              .order_by(ProcessDefinition.version.desc())) == versions_before
    assert not errors, errors


def test_the_form_editor_checks_as_you_type_and_previews(site, page, demo):
    errors = open_modeler(site, page, demo)
    page.locator(".djs-element[data-element-id=first_look]").click()
    editor = page.get_by_test_id("form-editor")
    expect(editor).to_be_visible()
    expect(page.get_by_test_id("form-preview").locator("#field-note")).to_be_visible()

    schema = page.locator("#form-schema")
    schema.fill('{"type": "object",\n "properties": {')
    expect(page.get_by_test_id("form-schema-errors")).to_contain_text(re.compile(r"line 2"))
    schema.fill('{"type": "object", "properties": {"count": {"type": "integr"}, '
                '"where": {"type": "string", "title": "<b>Oda</b>"}}}')
    expect(page.get_by_test_id("form-schema-errors")).to_contain_text("count")
    schema.fill('{"type": "object", "properties": {"where": {"type": "string", "title": "<b>Oda</b>"}}}')
    preview = page.get_by_test_id("form-preview")
    expect(preview.locator("label[for=field-where]")).to_have_text("<b>Oda</b>")   # shown as text
    expect(preview.locator("b")).to_have_count(0)
    assert not errors, errors


def test_user_support_survives_the_modeler_unchanged(site, page, demo):
    """Every spiffworkflow extension our engine reads comes back from bpmn-js as it went in."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    site.sign_in(page, demo)
    page.goto(site.at("/modeler/user_support"))
    expect(page.locator("#sek-modeler")).to_have_attribute("data-ready", "true")
    xml = page.evaluate("window.sekModeler.saveXML({ format: true }).then(r => r.xml)")
    original = (ROOT_BPMN / "user_support.bpmn").read_text(encoding="utf-8")
    assert spiff_extensions(xml) == spiff_extensions(original)
    assert len(spiff_extensions(original)) > 40
    answer = page.evaluate("""async (xml) => {
      const root = document.getElementById('sek-modeler');
      const r = await fetch(root.dataset.validateUrl, { method: 'POST', headers: {
        'Content-Type': 'application/json', 'X-CSRFToken': root.dataset.csrf }, body: JSON.stringify({ bpmn: xml }) });
      return r.json();
    }""", xml)
    assert answer == {"ok": True, "problems": []}
    assert not errors, errors


def test_staff_look_read_only_and_a_draft_comes_back_after_a_reload(site, page, open_page, demo):
    viewer = site.add_user("modeler.viewer", "helpdesk")
    look = open_page()
    site.sign_in(look, viewer)
    look.goto(site.at("/modeler/user_support"))
    expect(look.locator("#sek-modeler")).to_have_attribute("data-ready", "true")
    expect(look.get_by_test_id("modeler-read-only")).to_be_visible()
    expect(look.get_by_test_id("modeler-save")).to_have_count(0)
    expect(look.locator(".djs-palette")).to_be_hidden()
    # (the whole process fits the canvas, too small to click reliably: select through bpmn-js)
    look.evaluate("m => m.get('selection').select(m.get('elementRegistry').get('resolve'))",
                  look.evaluate_handle("window.sekModeler"))
    expect(look.locator("#p-candidate-groups")).to_have_value("team")
    expect(look.locator("#p-candidate-groups")).to_be_disabled()

    # The owner's working copy stays in the browser until it is deployed.
    open_modeler(site, page, demo)
    task_id = page.evaluate(ADD_TASK, ["bpmn:UserTask", "lane_helpdesk", 480, 140])
    page.locator("#p-name").fill("Taslak görev")
    page.locator("#p-name").press("Tab")
    page.get_by_test_id("modeler-save").click()
    expect(page.get_by_test_id("modeler-status")).to_have_class(re.compile(r"text-success"))
    page.reload()
    expect(page.locator("#sek-modeler")).to_have_attribute("data-ready", "true")
    expect(page.get_by_test_id("modeler-status")).to_have_class(re.compile(r"text-info"))
    expect(page.locator(f".djs-element[data-element-id={task_id}]")).to_contain_text("Taslak görev")
    page.locator("#modeler-discard").click()
    expect(page.locator("#sek-modeler")).to_have_attribute("data-ready", "true")
    expect(page.locator(f".djs-element[data-element-id={task_id}]")).to_have_count(0)
