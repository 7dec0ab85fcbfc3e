"""The JSON API under /api/v1: what a client sends and gets back, then the state behind it."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine import tasks, users
from engine.models import AuditEvent, DefinitionFile, HumanTask, ProcessDefinition, ProcessInstance
from processes.catalog import CATALOG

VALID = Path(__file__).resolve().parents[1] / "data" / "validation" / "valid"
ROOT_BPMN = Path(__file__).resolve().parents[2] / "bpmn"
TRIAGE = {"category": "VPN Bağlantısı", "team": "systems", "triage_note": "Ağ ekibi değil, sistem"}


def _token(db, username: str) -> dict:
    with db.tx() as session:
        return {"Authorization": f"Bearer {users.create_token(session, username)}"}


def _task_id(db, instance_id: int, bpmn_id: str = "triage") -> int:
    with db.tx() as session:
        return session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance_id,
                                                          HumanTask.bpmn_id == bpmn_id))


def _task(db, task_id: int) -> tuple:
    with db.tx() as session:
        task = session.get(HumanTask, task_id)
        return task.state, task.assignee, task.completed_by


def _count(db, model) -> int:
    with db.tx() as session:
        return session.scalar(select(func.count()).select_from(model))


def _error(response) -> dict:
    return response.get_json()["error"]


# --- authentication ---------------------------------------------------------------------------

ENDPOINTS = [
    ("get", "/api/v1/processes"), ("post", "/api/v1/processes/support_ticket/instances"),
    ("get", "/api/v1/instances/1"), ("get", "/api/v1/instances/1/events"), ("get", "/api/v1/tasks"),
    ("post", "/api/v1/tasks/1/claim"), ("post", "/api/v1/tasks/1/unclaim"),
    ("post", "/api/v1/tasks/1/complete"), ("post", "/api/v1/definitions"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_a_wrong_or_missing_token_is_401_json(client, support_request, db, method, path):
    support_request()
    response = getattr(client, method)(path, headers={"Authorization": "Bearer sek_not-a-token"})
    assert response.status_code == 401
    assert _error(response)["code"] == "unauthorized"
    if method == "get":
        assert client.get(path).status_code == 401
    with db.tx() as session:
        assert session.scalar(select(func.count()).select_from(ProcessInstance)) == 1
        assert session.scalar(select(HumanTask.state)) == "ready"


def test_a_deactivated_users_token_stops_working(client, make_user, db):
    make_user("ayse")
    headers = _token(db, "ayse")
    assert client.get("/api/v1/tasks", headers=headers).status_code == 200
    with db.tx() as session:
        users.set_active(session, "ayse", False, actor="admin")
    response = client.get("/api/v1/tasks", headers=headers)
    assert response.status_code == 401
    assert response.headers["Cache-Control"] == "no-store"


# --- processes and instances --------------------------------------------------------------------


def test_processes_joins_the_catalog_with_deployed_versions(client, make_user, deploy, db):
    make_user("ayse")
    headers = _token(db, "ayse")
    before = {row["key"]: row for row in client.get("/api/v1/processes", headers=headers).get_json()}
    assert len(before) == len(CATALOG) and not any(row["executable"] for row in before.values())
    assert before["user_support"] == {"key": "user_support", "sek_code": "SEK 08-04-27",
                                      "title": "Kullanıcı Desteği Süreci", "title_en": "User Support",
                                      "group": "systems", "portal": True, "version": None,
                                      "executable": False, "running": 0, "completed": 0}

    deploy(Path(__file__).resolve().parents[2] / "bpmn")
    deploy(VALID)
    after = {row["key"]: row for row in client.get("/api/v1/processes", headers=headers).get_json()}
    assert (after["user_support"]["version"], after["user_support"]["executable"]) == (1, True)
    assert (after["backup"]["version"], after["backup"]["executable"]) == (None, False)  # drawn, not run
    assert after["ticket"] == {"key": "ticket", "sek_code": None, "title": "Help desk ticket",
                               "title_en": "Help desk ticket", "group": None, "portal": False, "version": 1,
                               "executable": True, "running": 0, "completed": 0}
    with db.tx() as session:
        deployed = set(session.scalars(select(ProcessDefinition.key)))
    assert {"ticket", "user_support"} <= deployed and "backup" not in deployed


def test_staff_start_an_instance_as_themselves(client, make_user, support_request, db):
    make_user("ayse")
    response = client.post("/api/v1/processes/support_ticket/instances", headers=_token(db, "ayse"),
                           json={"data": {"subject": "Eduroam bağlanmıyor", "requester": "Ali"}})
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"id", "tracking_code", "status"} and body["status"] == "running"
    assert response.headers["Location"].endswith(f"/api/v1/instances/{body['id']}")
    with db.tx() as session:
        instance = session.get(ProcessInstance, body["id"])
        assert (instance.tracking_code, instance.started_by) == (body["tracking_code"], "ayse")
        event = session.scalar(select(AuditEvent).where(AuditEvent.instance_id == body["id"],
                                                        AuditEvent.action == "instance.started"))
        assert (event.actor, event.data["data"]["subject"]) == ("ayse", "Eduroam bağlanmıyor")
        assert session.scalar(select(HumanTask.group_name).where(HumanTask.instance_id == body["id"])) == "helpdesk"


def test_starting_is_refused_to_non_staff_unknown_processes_and_bad_bodies(client, make_user, support_request, db):
    make_user("denetci", groups=(), roles=("auditor",))
    make_user("ayse")
    path = "/api/v1/processes/support_ticket/instances"
    auditor, staff = _token(db, "denetci"), _token(db, "ayse")
    assert client.post(path, headers=auditor, json={"data": {}}).status_code == 403
    missing = client.post("/api/v1/processes/no_such/instances", headers=staff, json={})
    assert (missing.status_code, _error(missing)["code"]) == (404, "not_found")
    not_object = client.post(path, headers=staff, json={"data": ["subject"]})
    assert not_object.status_code == 422
    assert list(_error(not_object)["fields"]) == ["data"]
    not_json = client.post(path, headers=staff, data="subject=VPN", content_type="text/plain")
    assert (not_json.status_code, list(_error(not_json)["fields"])) == (422, ["_schema"])
    typo = client.post(path, headers=staff, json={"daat": {}})
    assert _error(typo)["fields"] == {"daat": ["Unknown field."]}
    assert _count(db, ProcessInstance) == 0


@pytest.mark.parametrize("data, fields", [
    ({"category": 5}, ["category", "requester", "requester_email", "subject"]),
    ({"subject": "VPN bağlanmıyor"}, ["category", "requester", "requester_email"]),
    ({"category": "Diğer", "subject": "VPN", "requester": "Ali", "requester_email": "ali@"}, ["requester_email"]),
])
def test_start_data_is_checked_against_the_processes_start_schema(client, make_user, deploy, db, data, fields):
    """Issue 12, defect 8: such starts were accepted (201) and ended in error later, when a
    step needed what was missing. The start schema is the start form and the requester's
    fields every catalog process is started with."""
    make_user("ayse")
    deploy(*sorted(ROOT_BPMN.glob("user_support.*")))
    path = "/api/v1/processes/user_support/instances"

    refused = client.post(path, headers=_token(db, "ayse"), json={"data": data})

    assert refused.status_code == 422
    assert _error(refused)["code"] == "invalid" and sorted(_error(refused)["fields"]) == fields
    assert _count(db, ProcessInstance) == 0
    fixed = {"category": "Diğer", "subject": "VPN bağlanmıyor", "requester": "Ali Veli",
             "requester_email": "ali.veli@example.edu.tr"}
    assert client.post(path, headers=_token(db, "ayse"), json={"data": fixed}).status_code == 201


def test_text_that_cannot_be_kept_is_422_naming_the_field_and_stores_nothing(client, make_user, support_request, db):
    make_user("ayse")
    headers, path = _token(db, "ayse"), "/api/v1/processes/support_ticket/instances"
    events = _count(db, AuditEvent)
    # the JSON text as a client sends it: a lone surrogate escape, valid JSON, invalid Unicode
    surrogate = client.post(path, headers=headers, content_type="application/json",
                            data=b'{"data": {"subject": "a\\ud800b"}}')
    assert surrogate.status_code == 422
    assert _error(surrogate)["fields"] == {"subject": ["contains text that is not valid Unicode (a lone surrogate)"]}
    controls = client.post(path, headers=headers, json={"data": {"subject": "VPN\u0000", "requester": "Ali\x1b[2J"}})
    assert (controls.status_code, sorted(_error(controls)["fields"])) == (422, ["requester", "subject"])
    assert "U+0000" in _error(controls)["fields"]["subject"][0]
    huge = client.post(path, headers=headers, json={"data": {"subject": "x" * 10_000_000, "requester": "Ali"}})
    assert huge.status_code == 422
    assert _error(huge)["fields"] == {"subject": ["at most 20000 characters"]}
    assert (_count(db, ProcessInstance), _count(db, AuditEvent)) == (0, events)


def test_bodies_that_are_not_json_objects_are_answered_never_a_500(client, make_user, support_request, db):
    make_user("ayse", groups=("helpdesk",))
    headers = _token(db, "ayse")
    task_id = _task_id(db, support_request())
    for path in ("/api/v1/processes/support_ticket/instances", f"/api/v1/tasks/{task_id}/complete"):
        for body in (b"[" * 100_000, b'{"data": ' + b"[" * 5000 + b"]" * 5000 + b"}", b'{"data": {"a": "\xff"}}',
                     b"\xff\xfe{", b'"just text"', b"42", b'{"data": {"subject": '):
            response = client.post(path, headers=headers, data=body, content_type="application/json")
            assert response.status_code == 422, (path, body[:20], response.status_code)
            assert _error(response)["code"] == "invalid"
    deep: list = [1]
    for _ in range(30):
        deep = [deep]
    nested = client.post(f"/api/v1/tasks/{task_id}/complete", headers=headers, json={"data": {
        "category": "Diğer", "team": "helpdesk", "triage_note": "not\x00", "extra": deep}})
    fields = _error(nested)["fields"]
    assert nested.status_code == 422 and sorted(fields) == ["extra" + ".0" * 19, "triage_note"]
    assert fields["extra" + ".0" * 19] == ["nested more than 20 levels deep"]
    assert _task(db, task_id) == ("ready", None, None)
    assert _count(db, ProcessInstance) == 1


def test_instance_shows_status_data_and_open_tasks_then_its_timeline(client, make_user, support_request, db):
    make_user("ayse", groups=("helpdesk",))
    instance_id = support_request("Şifre sıfırlama", requester="Ali Veli")
    task_id = _task_id(db, instance_id)
    headers = _token(db, "ayse")

    body = client.get(f"/api/v1/instances/{instance_id}", headers=headers).get_json()
    assert body["process_key"] == "support_ticket" and body["version"] == 1 and body["status"] == "running"
    assert body["data"]["subject"] == "Şifre sıfırlama" and body["data"]["requester"] == "Ali Veli"
    assert not [key for key in body["data"] if key.startswith("_")]
    assert body["open_tasks"] == [{"id": task_id, "instance_id": instance_id, "bpmn_id": "triage",
                                   "name": "Talebi değerlendir ve yönlendir", "group": "helpdesk",
                                   "assignee": None, "state": "ready"}]
    assert body["started_by"] == "portal" and body["completed_at"] is None
    with db.tx() as session:
        assert body["tracking_code"] == session.get(ProcessInstance, instance_id).tracking_code

    client.post(f"/api/v1/tasks/{task_id}/claim", headers=headers)
    events = client.get(f"/api/v1/instances/{instance_id}/events", headers=headers).get_json()
    assert [e["action"] for e in events] == ["instance.started", "task.claimed"]
    assert events[1]["actor"] == "ayse" and events[1]["data"]["task_id"] == task_id
    assert set(events[0]) == {"seq", "action", "actor", "at", "data"} and "T" in events[0]["at"]
    with db.tx() as session:
        stored = session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance_id)
                                 .order_by(AuditEvent.seq)).all()
        assert [(e.seq, e.action) for e in stored] == [(e["seq"], e["action"]) for e in events]


def test_who_may_read_an_instance(client, make_user, support_request, db):
    make_user("ayse", groups=("helpdesk",))
    make_user("veli", groups=("network",))
    make_user("denetci", groups=(), roles=("auditor",))
    make_user("yonetici", groups=(), roles=("admin",))
    instance_id = support_request()
    for username, status in (("ayse", 200), ("veli", 403), ("denetci", 200), ("yonetici", 200)):
        headers = _token(db, username)
        for path in (f"/api/v1/instances/{instance_id}", f"/api/v1/instances/{instance_id}/events"):
            response = client.get(path, headers=headers)
            assert response.status_code == status, (username, path)
            if status == 403:
                assert _error(response)["code"] == "forbidden" and "data" not in response.get_json()
    assert client.get("/api/v1/instances/999", headers=_token(db, "yonetici")).status_code == 404


# --- tasks --------------------------------------------------------------------------------------


def test_tasks_are_those_of_the_callers_groups(client, make_user, support_request, db):
    make_user("ayse", groups=("helpdesk",))
    make_user("veli", groups=("network",))
    make_user("yonetici", groups=(), roles=("admin",))
    task_id = _task_id(db, support_request())

    mine = client.get("/api/v1/tasks?state=ready", headers=_token(db, "ayse")).get_json()
    with db.tx() as session:
        assert mine == [tasks.task_dict(session.get(HumanTask, task_id))]
    assert client.get("/api/v1/tasks", headers=_token(db, "veli")).get_json() == []
    assert [t["id"] for t in client.get("/api/v1/tasks", headers=_token(db, "yonetici")).get_json()] == [task_id]
    assert client.get("/api/v1/tasks?state=claimed", headers=_token(db, "ayse")).get_json() == []
    bad = client.get("/api/v1/tasks?state=someday", headers=_token(db, "ayse"))
    assert bad.status_code == 422 and list(_error(bad)["fields"]) == ["state"]


def test_claim_and_unclaim(client, make_user, support_request, db):
    make_user("ayse", groups=("helpdesk",))
    make_user("mehmet", groups=("helpdesk",))
    task_id = _task_id(db, support_request())
    ayse = _token(db, "ayse")

    claimed = client.post(f"/api/v1/tasks/{task_id}/claim", headers=ayse)
    assert claimed.status_code == 200
    assert (claimed.get_json()["state"], claimed.get_json()["assignee"]) == ("claimed", "ayse")
    assert _task(db, task_id) == ("claimed", "ayse", None)
    taken = client.post(f"/api/v1/tasks/{task_id}/claim", headers=_token(db, "mehmet"))
    assert (taken.status_code, _error(taken)["code"]) == (409, "conflict")
    assert client.post(f"/api/v1/tasks/{task_id}/unclaim", headers=_token(db, "mehmet")).status_code == 403
    assert _task(db, task_id) == ("claimed", "ayse", None)

    back = client.post(f"/api/v1/tasks/{task_id}/unclaim", headers=ayse)
    assert (back.status_code, back.get_json()["assignee"], back.get_json()["state"]) == (200, None, "ready")
    assert _task(db, task_id) == ("ready", None, None)
    with db.tx() as session:
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("task.%"))).all()
        assert actions == ["task.claimed", "task.unclaimed"]


def test_complete_runs_the_process_on_and_twice_is_409(client, make_user, support_request, db):
    make_user("ayse", groups=("helpdesk",))
    instance_id = support_request()
    task_id = _task_id(db, instance_id)
    headers = _token(db, "ayse")

    done = client.post(f"/api/v1/tasks/{task_id}/complete", headers=headers, json={"data": TRIAGE})
    assert done.status_code == 200
    assert (done.get_json()["state"], done.get_json()["assignee"]) == ("completed", "ayse")
    assert _task(db, task_id) == ("completed", "ayse", "ayse")
    instance = client.get(f"/api/v1/instances/{instance_id}", headers=headers).get_json()
    assert [(t["bpmn_id"], t["group"]) for t in instance["open_tasks"]] == [("team_work", "systems")]

    again = client.post(f"/api/v1/tasks/{task_id}/complete", headers=headers,
                        json={"data": {**TRIAGE, "team": "network"}})
    assert (again.status_code, _error(again)["code"]) == (409, "conflict")
    with db.tx() as session:
        assert session.scalar(select(HumanTask.group_name).where(HumanTask.bpmn_id == "team_work")) == "systems"
        assert session.scalar(select(func.count()).where(AuditEvent.action == "task.completed")) == 1


def test_invalid_form_data_is_422_per_field(client, make_user, support_request, db):
    make_user("ayse", groups=("helpdesk",))
    task_id = _task_id(db, support_request())
    headers = _token(db, "ayse")
    path = f"/api/v1/tasks/{task_id}/complete"

    empty = client.post(path, headers=headers, json={"data": {}})
    assert empty.status_code == 422
    assert set(_error(empty)["fields"]) == {"category", "team"}
    wrong = client.post(path, headers=headers, json={"data": {"category": "Diğer", "team": "kantin"}})
    assert list(_error(wrong)["fields"]) == ["team"]
    assert client.post(path, headers=headers, json={"data": "Diğer"}).get_json()["error"]["fields"] == {
        "data": ["Not a valid mapping type."]}
    for body in ("[1, 2]", "null", "{not json"):
        response = client.post(path, headers=headers, data=body, content_type="application/json")
        assert (response.status_code, list(_error(response)["fields"])) == (422, ["_schema"]), body
    assert _task(db, task_id) == ("ready", None, None)


def test_who_may_act_on_a_task(client, make_user, support_request, db):
    make_user("veli", groups=("network",))
    make_user("denetci", groups=(), roles=("auditor",))
    make_user("yonetici", groups=(), roles=("admin",))
    task_id = _task_id(db, support_request())
    for username in ("veli", "denetci"):
        headers = _token(db, username)
        for action, body in (("claim", None), ("complete", {"data": TRIAGE})):
            response = client.post(f"/api/v1/tasks/{task_id}/{action}", headers=headers, json=body)
            assert (response.status_code, _error(response)["code"]) == (403, "forbidden"), (username, action)
        assert _task(db, task_id) == ("ready", None, None)

    admin = client.post(f"/api/v1/tasks/{task_id}/complete", headers=_token(db, "yonetici"), json={"data": TRIAGE})
    assert admin.status_code == 200
    assert _task(db, task_id) == ("completed", "yonetici", "yonetici")


# --- the browser session ------------------------------------------------------------------------


def test_a_session_post_needs_the_csrf_header(client, auth, make_user, support_request, db):
    make_user("ayse", groups=("helpdesk",))
    task_id = _task_id(db, support_request())
    auth.login("ayse")
    assert [t["id"] for t in client.get("/api/v1/tasks").get_json()] == [task_id]

    refused = client.post(f"/api/v1/tasks/{task_id}/claim")
    assert (refused.status_code, _error(refused)["code"]) == (400, "csrf")
    assert _task(db, task_id) == ("ready", None, None)

    accepted = client.post(f"/api/v1/tasks/{task_id}/claim", headers={"X-CSRFToken": auth.csrf("/inbox")})
    assert accepted.status_code == 200
    assert _task(db, task_id) == ("claimed", "ayse", None)


# --- definitions --------------------------------------------------------------------------------


def _upload(*names: str, folder: Path = VALID, **replaced: bytes) -> dict:
    files = [((replaced.get(n) or (folder / n).read_bytes()), n) for n in names]
    return {"files": [(io.BytesIO(content), name) for content, name in files], "note": "API"}


def test_deploy_definitions_then_identical_content_makes_no_version(client, make_user, db):
    make_user("sahip", groups=(), roles=("admin",))   # ticket is in no group's catalog: admins deploy it
    headers = _token(db, "sahip")
    names = ("ticket.bpmn", "ticket-schema.json", "ticket-ui.json")

    first = client.post("/api/v1/definitions", headers=headers, data=_upload(*names))
    assert first.status_code == 201
    assert first.get_json() == [{"key": "ticket", "version": 1, "created": True}]
    again = client.post("/api/v1/definitions", headers=headers, data=_upload(*names))
    assert again.status_code == 200
    assert again.get_json() == [{"key": "ticket", "version": 1, "created": False}]
    with db.tx() as session:
        definition = session.scalar(select(ProcessDefinition))
        assert (definition.key, definition.version, definition.deployed_by, definition.note) == (
            "ticket", 1, "sahip", "API")
        assert sorted(session.scalars(select(DefinitionFile.name))) == sorted(names)
    assert _count(db, ProcessDefinition) == 1


def test_deploy_refuses_broken_files_and_non_owners(client, make_user, db):
    make_user("sahip", groups=(), roles=("process_owner",))
    make_user("ayse")
    owner = _token(db, "sahip")

    missing_form = client.post("/api/v1/definitions", headers=owner, data=_upload("ticket.bpmn", "ticket-ui.json"))
    assert missing_form.status_code == 422
    assert "formJsonSchemaFilename" in _error(missing_form)["fields"]["ticket.bpmn:triage"][0]
    broken = client.post("/api/v1/definitions", headers=owner,
                         data=_upload("ticket.bpmn", **{"ticket.bpmn": b"<bpmn:definitions"}))
    assert broken.status_code == 422 and "ticket.bpmn" in _error(broken)["fields"]
    nothing = client.post("/api/v1/definitions", headers=owner, data={"note": "boş"})
    assert list(_error(nothing)["fields"]) == ["files"]
    staff = client.post("/api/v1/definitions", headers=_token(db, "ayse"),
                        data=_upload("ticket.bpmn", "ticket-schema.json", "ticket-ui.json"))
    assert (staff.status_code, _error(staff)["code"]) == (403, "forbidden")
    assert _count(db, ProcessDefinition) == 0


# --- the document -------------------------------------------------------------------------------

CONTRACT = {
    "/api/v1/processes": {"get"}, "/api/v1/processes/{key}/instances": {"post"},
    "/api/v1/instances/{instance_id}": {"get"}, "/api/v1/instances/{instance_id}/events": {"get"},
    "/api/v1/tasks": {"get"}, "/api/v1/tasks/{task_id}/claim": {"post"},
    "/api/v1/tasks/{task_id}/unclaim": {"post"}, "/api/v1/tasks/{task_id}/complete": {"post"},
    "/api/v1/definitions": {"post"}, "/api/v1/openapi.json": {"get"},
    "/api/v1/reports/summary": {"get"}, "/api/v1/search": {"get"}, "/api/v1/hooks/{name}": {"post"},
    "/api/v1/assets": {"get"}, "/api/v1/assets/{inventory_no}": {"get"},
}


def _refs(node):
    if isinstance(node, dict):
        yield from ([node["$ref"]] if "$ref" in node else [])
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_openapi_document_describes_every_route(app, client, db):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["openapi"].startswith("3.") and doc["info"]["title"] and doc["info"]["version"]
    assert {path: set(ops) - {"parameters"} for path, ops in doc["paths"].items()} == CONTRACT
    schemas = doc["components"]["schemas"]
    assert {"Process", "Started", "Instance", "Event", "Task", "Deployed", "Error", "DataBody"} <= set(schemas)
    for ref in set(_refs(doc)):
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in schemas, ref
    assert set(doc["components"]["securitySchemes"]) == {"bearer", "session"}
    complete = doc["paths"]["/api/v1/tasks/{task_id}/complete"]["post"]
    assert {"200", "401", "403", "409", "422"} <= set(complete["responses"])
    assert {p["name"] for p in doc["paths"]["/api/v1/tasks"]["get"]["parameters"]} == {"state", "group", "limit"}
    # the documented task is what the API answers: engine.tasks.task_dict
    assert set(schemas["Task"]["properties"]) == set(tasks.task_dict(HumanTask()))
    # every route of the blueprint is documented
    rules = {r.rule for r in app.url_map.iter_rules() if r.endpoint.startswith("api.")}
    assert len(rules) == len(doc["paths"])
    json.dumps(doc)  # plain JSON all the way down
