"""The modeler's server side: who may look and who may change, save (validation with
element ids), deploy (new version, identical content none), the form editor's check and
preview, CSRF."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.models import AuditEvent, ProcessDefinition

DEMO = Path(__file__).resolve().parents[1] / "data" / "modeler"
KEY = "vpn_request"   # a catalog process owned by the network group
CSRF_ATTR = re.compile(r'data-csrf="([^"]+)"')


@pytest.fixture
def process(tmp_path, deploy):
    """The tiny modeler demo deployed under a catalog key; returns its BPMN text."""
    folder = tmp_path / "defs"
    folder.mkdir()
    for source in DEMO.iterdir():
        (folder / source.name.replace("modeler_demo", KEY)).write_text(
            source.read_text(encoding="utf-8").replace("modeler_demo", KEY), encoding="utf-8")
    deploy(folder, note="first")
    return (folder / f"{KEY}.bpmn").read_text(encoding="utf-8")


class Modeler:
    """A signed-in client talking to the modeler's endpoints as modeler.js does."""

    def __init__(self, client, auth, username):
        auth.login(username)
        self.client = client
        page = client.get(f"/modeler/{KEY}")
        self.page = page
        match = CSRF_ATTR.search(page.get_data(as_text=True))
        self.csrf = match.group(1) if match else ""

    def post(self, action: str, body: dict, csrf: bool = True):
        headers = {"X-CSRFToken": self.csrf, "Accept": "application/json"} if csrf else {"Accept": "application/json"}
        return self.client.post(f"/modeler/{KEY}/{action}", data=json.dumps(body), headers=headers,
                                content_type="application/json")


def versions(db) -> list[tuple[int, str]]:
    with db.tx() as session:
        return list(session.execute(select(ProcessDefinition.version, ProcessDefinition.note)
                                    .where(ProcessDefinition.key == KEY).order_by(ProcessDefinition.version)))


def renamed_task(bpmn: str) -> str:
    return bpmn.replace('name="First look"', 'name="First look, renamed"')


def test_plain_staff_see_the_diagram_read_only_and_cannot_save_or_deploy(client, auth, make_user, process, db):
    make_user("selin", groups=("network",), roles=("staff",))
    modeler = Modeler(client, auth, "selin")
    html = modeler.page.get_data(as_text=True)
    assert modeler.page.status_code == 200
    assert 'data-testid="modeler-read-only"' in html
    assert 'id="modeler-save"' not in html and 'id="modeler-deploy"' not in html
    # Only the modeler's own answers allow inline styles (bpmn-js positions its canvas with them).
    policy = modeler.page.headers["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in policy and "script-src 'self';" in policy
    assert "unsafe-inline" not in client.get("/inbox").headers["Content-Security-Policy"]

    files = client.get(f"/modeler/{KEY}/files.json").get_json()
    assert files["version"] == 1 and files["bpmn_name"] == f"{KEY}.bpmn"
    assert 'id="first_look"' in files["bpmn"] and f"{KEY}.first_look.schema.json" in files["forms"]

    assert modeler.post("validate", {"bpmn": process}).status_code == 403
    refused = modeler.post("deploy", {"bpmn": renamed_task(process), "note": "mine now"})
    assert refused.status_code == 403
    assert versions(db) == [(1, "first")]


def test_a_process_owner_of_another_group_may_not_change_it(client, auth, make_user, process, db):
    make_user("hakan", groups=("helpdesk",), roles=("staff", "process_owner"))
    modeler = Modeler(client, auth, "hakan")
    assert 'data-testid="modeler-read-only"' in modeler.page.get_data(as_text=True)
    assert modeler.post("validate", {"bpmn": process}).status_code == 403
    assert modeler.post("deploy", {"bpmn": renamed_task(process), "note": "x"}).status_code == 403
    assert versions(db) == [(1, "first")]


@pytest.mark.parametrize("username, groups, roles", [
    ("nur", ("network",), ("staff", "process_owner")),
    ("yonetici", (), ("admin",)),
])
def test_the_owning_groups_process_owner_and_an_admin_deploy_a_new_version(
        client, auth, make_user, process, db, username, groups, roles):
    make_user(username, groups=groups, roles=roles)
    modeler = Modeler(client, auth, username)
    assert 'id="modeler-deploy"' in modeler.page.get_data(as_text=True)

    saved = modeler.post("validate", {"bpmn": renamed_task(process)})
    assert saved.status_code == 200 and saved.get_json() == {"ok": True, "problems": []}
    assert versions(db) == [(1, "first")]   # saving validates; only a deploy makes a version

    deployed = modeler.post("deploy", {"bpmn": renamed_task(process), "note": "clearer task name"})
    assert deployed.status_code == 201
    assert deployed.get_json()["version"] == 2 and deployed.get_json()["created"] is True
    assert versions(db) == [(1, "first"), (2, "clearer task name")]
    again = modeler.post("deploy", {"bpmn": renamed_task(process), "note": "again"})
    assert again.status_code == 200 and again.get_json() == {
        "ok": True, "version": 2, "created": False, "deployed": [{"key": KEY, "version": 2, "created": False}]}
    assert versions(db) == [(1, "first"), (2, "clearer task name")]
    with db.tx() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "definition.deployed")
                                .order_by(AuditEvent.id.desc())).first()
        assert event.actor == username and event.data["note"] == "clearer task name"
    assert 'First look, renamed' in client.get(f"/modeler/{KEY}/files.json").get_json()["bpmn"]


def test_save_lists_the_problems_with_the_elements_they_name(client, auth, make_user, process, db):
    make_user("nur", groups=("network",), roles=("staff", "process_owner"))
    modeler = Modeler(client, auth, "nur")
    broken = (process.replace("<bpmn:flowNodeRef>first_look</bpmn:flowNodeRef>", "")
              .replace("<bpmn:outgoing>to_done</bpmn:outgoing>",
                       "<bpmn:outgoing>to_done</bpmn:outgoing><bpmn:outgoing>to_check</bpmn:outgoing>")
              .replace('<bpmn:sequenceFlow id="to_done"',
                       '<bpmn:sequenceFlow id="to_check" sourceRef="first_look" targetRef="done">'
                       '<bpmn:conditionExpression>__import__("os")</bpmn:conditionExpression>'
                       '</bpmn:sequenceFlow><bpmn:sequenceFlow id="to_done"'))
    answer = modeler.post("validate", {"bpmn": broken})
    assert answer.status_code == 200
    problems = answer.get_json()["problems"]
    assert answer.get_json()["ok"] is False
    by_element = {p["element_id"]: p for p in problems}
    assert "nobody would see it" in by_element["first_look"]["message"]
    assert by_element["first_look"]["file"] == f"{KEY}.bpmn"
    assert "condition" in by_element["to_check"]["message"]

    refused = modeler.post("deploy", {"bpmn": broken, "note": "broken"})
    assert refused.status_code == 422 and {p["element_id"] for p in refused.get_json()["problems"]} >= {
        "first_look", "to_check"}
    assert versions(db) == [(1, "first")]


def test_deploy_needs_a_note_the_process_id_and_safe_files(client, auth, make_user, process, db):
    make_user("nur", groups=("network",), roles=("staff", "process_owner"))
    modeler = Modeler(client, auth, "nur")
    no_note = modeler.post("deploy", {"bpmn": renamed_task(process), "note": "  "})
    assert no_note.status_code == 422
    assert no_note.get_json()["problems"][0] == {"location": "note", "file": "note", "element_id": None,
                                                 "message": "a change note is required"}
    renamed = process.replace(f'id="{KEY}"', 'id="something_else"').replace(
        f'processRef="{KEY}"', 'processRef="something_else"')
    other = modeler.post("deploy", {"bpmn": renamed, "note": "rename"})
    assert other.status_code == 422
    assert any("must keep the executable process" in p["message"] for p in other.get_json()["problems"])
    sneaky = modeler.post("validate", {"bpmn": process, "forms": {"../../etc/x.json": "{}"}})
    assert sneaky.status_code == 422 and "../../etc/x.json" in sneaky.get_json()["error"]["fields"]
    entity = modeler.post("validate", {"bpmn": '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'})
    assert entity.status_code == 200
    assert "DOCTYPE" in entity.get_json()["problems"][0]["message"]
    assert versions(db) == [(1, "first")]


def test_an_edited_form_is_deployed_with_the_diagram(client, auth, make_user, process, db):
    make_user("nur", groups=("network",), roles=("staff", "process_owner"))
    modeler = Modeler(client, auth, "nur")
    name = f"{KEY}.first_look.schema.json"
    bad = modeler.post("validate", {"bpmn": process, "forms": {name: '{"type": "object", "properties": '
                                                                     '{"note": {"type": "strin"}}}'}})
    assert any(p["file"] == name and "not a valid JSON Schema" in p["message"] for p in bad.get_json()["problems"])
    form = {"type": "object", "properties": {"note": {"type": "string", "title": "Your note"}}}
    deployed = modeler.post("deploy", {"bpmn": process, "forms": {name: json.dumps(form)}, "note": "new label"})
    assert deployed.status_code == 201 and deployed.get_json()["version"] == 2
    assert json.loads(client.get(f"/modeler/{KEY}/files.json").get_json()["forms"][name]) == form


def test_form_check_and_preview_escape_and_name_the_fields(client, auth, make_user, process):
    make_user("selin", groups=("network",), roles=("staff",))
    modeler = Modeler(client, auth, "selin")
    schema = {"type": "object", "properties": {
        "note": {"type": "string", "title": "<script>alert(1)</script>", "description": "<b>bold</b>"},
        "count": {"type": "integr"}}}
    checked = modeler.post("form-check", {"schema": schema, "ui": {"ui:order": ["note", "missing"]}})
    errors = checked.get_json()["errors"]
    assert {e["field"] for e in errors} == {"count", "missing"}
    assert any(e["path"] == "properties/count/type" for e in errors)

    schema["properties"].pop("count")
    preview = modeler.post("form-preview", {"schema": schema, "ui": {"note": {"ui:widget": "textarea"}}})
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html and "<textarea" in html and "disabled" in html


def test_every_modeler_post_needs_the_csrf_token(client, auth, make_user, process, db):
    make_user("nur", groups=("network",), roles=("staff", "process_owner"))
    modeler = Modeler(client, auth, "nur")
    for action, body in (("validate", {"bpmn": process}), ("deploy", {"bpmn": renamed_task(process), "note": "x"}),
                         ("form-check", {"schema": {}}), ("form-preview", {"schema": {}})):
        answer = modeler.post(action, body, csrf=False)
        assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "csrf", action
    assert versions(db) == [(1, "first")]


def test_unknown_processes_and_signed_out_visitors(client, auth, make_user, process, db):
    assert client.get(f"/modeler/{KEY}").status_code == 302   # to the sign-in page
    make_user("selin", groups=("network",), roles=("staff",))
    auth.login("selin")
    assert client.get("/modeler/no_such_process").status_code == 404
    # A catalog drawing not deployed yet opens from its file in bpmn/.
    drawing = client.get("/modeler/network_os_update/files.json").get_json()
    assert drawing["version"] is None and "network_os_update" in drawing["bpmn"]
    with db.tx() as session:
        assert session.scalar(select(func.count()).select_from(ProcessDefinition)) == 1
