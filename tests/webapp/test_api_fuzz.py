"""Schemathesis fuzzes the JSON API in-process against its own OpenAPI document.

Every operation of ``/api/v1/openapi.json`` gets the boundary cases of its parameters and
``EXAMPLES`` requests generated from the document (derandomized: the same requests on
every run), sent with an API token to the app on the test database. The database is
seeded first (users in groups, a deployed process, requests with open, claimed and
foreign tasks) and about half of the requests name those rows and carry data their forms
accept, so they reach the engine and not only 404s. Every answer must be one the document promises: no 5xx, a documented status code
and content type, a body matching its schema, and a schema-valid request is not refused.

What the document leaves to the processes: ``data`` is checked against the process's
start form or the task's form, and deployed files against the BPMN/DMN rules. A request
generated from the document alone may be refused there (422); that refusal must then name
form fields or files, never a field of the request the document describes. The requests
built from the forms themselves must be accepted.

Below the fuzzer, one regular test for each defect it found.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode
from schemathesis.generation.drivers import CoverageGenerator
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.generation.overrides import Override
from sqlalchemy import func, select

from engine import assets, hooks, runtime, tasks, users
from engine.models import AuditEvent, HumanTask

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
EXAMPLES = 25  # per operation
CONFIG = SchemathesisConfig.from_dict({"generation": {"mode": "positive", "deterministic": True}})
# Every operation of the document (a test checks it), so that a new route cannot escape the fuzzer.
OPERATIONS = [
    "POST /api/v1/definitions", "GET /api/v1/instances/{instance_id}",
    "GET /api/v1/instances/{instance_id}/events", "GET /api/v1/openapi.json", "GET /api/v1/processes",
    "POST /api/v1/processes/{key}/instances", "GET /api/v1/reports/summary", "GET /api/v1/search",
    "GET /api/v1/tasks",
    "POST /api/v1/tasks/{task_id}/claim", "POST /api/v1/tasks/{task_id}/complete",
    "POST /api/v1/tasks/{task_id}/unclaim", "POST /api/v1/hooks/{name}",
    "GET /api/v1/assets", "GET /api/v1/assets/{inventory_no}",
]
DEPLOY, START, COMPLETE = OPERATIONS[0], OPERATIONS[5], OPERATIONS[10]
# The operations whose data only the processes describe -> the request fields the document describes.
# Uploaded files are judged by their names and content, which the document can only put in words;
# their problems come under a file's name or "files" (and a generated file is named "files").
CONTENT_CHECKED = {START: {"data"}, COMPLETE: {"data"}, DEPLOY: {"note"}}
# user_support's categories and the group the routing table gives each
CATEGORIES = {"Diğer": "helpdesk", "Kablosuz Ağ (eduroam)": "network", "Personel E-posta": "systems"}
# a helpdesk process (the caller's group owns it), deployed with its forms
UPLOAD = ("message_routing.bpmn", "message_routing.start.schema.json", "message_routing.review.schema.json",
          "message_routing.review.ui.json", "message_routing.forward.schema.json",
          "message_routing.forward.ui.json")


@dataclass
class Seeded:
    headers: dict
    known: dict[str, list]


@pytest.fixture
def seeded(db, deploy) -> Seeded:
    """A process owner in helpdesk and network who also reads reports; requests whose tasks
    are in the caller's groups (one claimed by a colleague) and in a foreign group."""
    deploy(BPMN / "user_support.bpmn", BPMN / "user_support.routing.dmn", *sorted(BPMN.glob("user_support.*.json")))
    with db.tx() as session:
        users.add_user(session, "fuzzer", groups=("helpdesk", "network"),
                       roles=("staff", "process_owner", "manager"), password="parola123")
        users.add_user(session, "elif", groups=("helpdesk",), password="parola123")
        instances = [runtime.start_instance(session, "user_support", actor="portal", data={
            "category": category, "subject": "bağlanamıyorum", "requester": "Elif Şahin",
            "requester_email": "elif@ogr.example.edu.tr", "message": "Dün akşamdan beri."}).id
            for category in [*CATEGORIES, "Diğer"]]
        open_tasks = list(session.scalars(select(HumanTask).order_by(HumanTask.id)))
        assert [t.group_name for t in open_tasks] == [*CATEGORIES.values(), "helpdesk"]
        tasks.claim_task(session, open_tasks[-1].id, users.get_user(session, "elif"))
        token = users.create_token(session, "fuzzer")
        hooks.create_hook(session, "izleme", "monitoring_alert", mapping={"host": "/host"}, actor=None,
                          master_key="fuzz")   # unsigned deliveries to a real hook: 401
        assets.register(session, {"inventory_no": "253.02.03-2022-0001", "kind": "network_device",
                                  "model": "Cisco Catalyst 9500", "status": "in_use"}, actor="test")
    return Seeded({"Authorization": f"Bearer {token}"}, {
        "instance_id": instances, "task_id": [t.id for t in open_tasks], "key": ["user_support"],
        "name": ["izleme"], "inventory_no": ["253.02.03-2022-0001"]})


def _words(min_size: int = 1):
    """Plain text (letters, digits and spaces; Turkish too)."""
    word = st.text(st.characters(categories=("L", "N")), min_size=1, max_size=12)
    return st.lists(word, min_size=1, max_size=5).map(" ".join).filter(lambda text: len(text) >= min_size)


def _accepted_bodies(label: str):
    """Bodies that the forms behind an operation accept; None where the document says it all."""
    if label == START:
        data = st.fixed_dictionaries({
            "category": st.sampled_from(sorted(CATEGORIES)), "subject": _words(3), "requester": _words(2),
            "requester_email": st.from_regex(r"[a-z]{1,10}@[a-z]{1,10}\.edu\.tr", fullmatch=True),
        }, optional={"message": _words()})
        return st.builds(lambda data: {"data": data}, data)
    if label == COMPLETE:
        return st.builds(lambda answer: {"data": {"action": "answer", "answer": answer}}, _words())
    if label == DEPLOY:  # the files go with their own names (see _send); the note is generated
        return st.builds(lambda note: {"files": [b""], "note": note}, _words())
    return None


def _steered(operation, label: str, known: dict):
    """Requests naming seeded rows and, where forms decide, carrying data they accept."""
    names = re.findall(r"{(\w+)}", operation.path)
    bodies = _accepted_bodies(label)
    if not names and bodies is None:
        return None
    rows = st.fixed_dictionaries({name: st.sampled_from(known[name]) for name in names})
    return st.tuples(rows, bodies if bodies is not None else st.none()).flatmap(
        lambda chosen: operation.as_strategy(
            path_parameters=chosen[0] or None, **({} if chosen[1] is None else {"body": chosen[1]})))


def _refused_for_content_only(ctx, response, case):
    """A 422 to a schema-valid request names what only the processes describe (form fields,
    files), never a field of the request that the document describes."""
    if response.status_code != 422:
        return None
    named = set(response.json()["error"].get("fields") or {}) & (CONTENT_CHECKED[case.operation.label] | {"_schema"})
    assert not named, f"a schema-valid request was refused for its documented fields {sorted(named)}"
    return True


def _send(app, case, label: str, from_forms: bool, headers: dict):
    """Send a case and check its answer against the document."""
    if from_forms and label == DEPLOY:
        # Schemathesis names each file part after its field; a deployment needs the real names.
        files = [(io.BytesIO((BPMN / name).read_bytes()), name) for name in UPLOAD]
        response = app.test_client().post(case.formatted_path, headers=headers,
                                          data={"files": files, "note": case.body["note"]})
        case.validate_response(response, headers=headers)
    elif from_forms or label not in CONTENT_CHECKED:
        case.call_and_validate(headers=headers)
    else:
        case.call_and_validate(headers=headers, excluded_checks=[schemathesis.checks.positive_data_acceptance],
                               additional_checks=[_refused_for_content_only])


def _coverage(operation):
    """The boundary cases of `schemathesis run`'s coverage phase: each limit, each enum value,
    optional parts left out (a few per operation, always the same)."""
    return CoverageGenerator(
        operation=operation, generation_modes=[GenerationMode.POSITIVE], auth_storage=None, override=Override(),
        generation_config=operation.schema.config.generation_for(operation=operation, phase="coverage"),
        feedback=FeedbackSources())


@pytest.mark.slow
@pytest.mark.parametrize("label", OPERATIONS)
def test_the_api_answers_as_documented(app, seeded, label):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=CONFIG)
    method, path = label.split(" ")
    operation = schema[path][method]
    for case in _coverage(operation):
        _send(app, case, label, False, seeded.headers)
    cases = operation.as_strategy().map(lambda case: (case, False))
    steered = _steered(operation, label, seeded.known)
    if steered is not None:
        cases = st.one_of(cases, steered.map(lambda case: (case, True)))

    @given(pair=cases)
    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    def fuzz(pair):
        case, from_forms = pair
        _send(app, case, label, from_forms, seeded.headers)

    fuzz()


def test_every_documented_operation_is_fuzzed(client):
    document = client.get("/api/v1/openapi.json").get_json()
    documented = {f"{method.upper()} {path}" for path, item in document["paths"].items()
                  for method in item if method != "parameters"}
    assert documented == set(OPERATIONS)


def test_the_document_says_what_the_server_checks(client):
    document = client.get("/api/v1/openapi.json").get_json()
    paths, schemas = document["paths"], document["components"]["schemas"]
    # an id is 0..2**31-1, like the route and the database column
    for parameter in paths["/api/v1/tasks/{task_id}/claim"]["parameters"]:
        assert parameter["schema"] == {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}
    # a query string cannot carry null: an absent filter is just absent
    for path in ("/api/v1/tasks", "/api/v1/reports/summary"):
        for parameter in paths[path]["get"]["parameters"]:
            assert "nullable" not in parameter["schema"] and parameter["schema"].get("default", "") is not None
    assert schemas["Task"]["properties"]["state"]["enum"] == ["ready", "claimed", "completed", "cancelled"]
    # every refusal has its code and message; every answer field is always there
    assert schemas["Error"]["required"] == ["error"]
    assert set(schemas["ErrorBody"]["required"]) == {"code", "message"}
    for name in ("Process", "Started", "Task", "Instance", "Event", "Deployed", "ReportSummary"):
        assert set(schemas[name]["required"]) == set(schemas[name]["properties"]), name
    # every answer has a JSON body
    for item in paths.values():
        for method, operation in item.items():
            if method != "parameters":
                assert all("application/json" in answer["content"] for answer in operation["responses"].values())


# --- what the fuzzer found, each kept fixed -------------------------------------------------------

# Past the id columns: PostgreSQL said "integer out of range" from 2**31 on, SQLite's driver
# overflowed past 2**63; both were a 500.
TOO_BIG = "99999999999999999999"


def _token(db, username: str) -> dict:
    with db.tx() as session:
        return {"Authorization": f"Bearer {users.create_token(session, username)}"}


def _events(db) -> int:
    with db.tx() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent))


@pytest.mark.parametrize(("method", "path"), [
    ("get", f"/api/v1/instances/{TOO_BIG}"), ("get", f"/api/v1/instances/{TOO_BIG}/events"),
    ("post", f"/api/v1/tasks/{TOO_BIG}/claim"), ("post", f"/api/v1/tasks/{TOO_BIG}/unclaim"),
    ("post", f"/api/v1/tasks/{TOO_BIG}/complete"), ("post", f"/api/v1/tasks/{2**31}/claim"),
])
def test_an_id_too_big_for_the_database_is_not_found(client, db, make_user, method, path):
    make_user("ayse", roles=("staff", "admin"))
    headers = _token(db, "ayse")
    before = _events(db)
    response = getattr(client, method)(path, headers=headers, json={"data": {}})
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    assert _events(db) == before


def test_a_staff_page_with_an_id_too_big_is_not_found(client, auth, make_user):
    make_user("ayse")
    auth.login("ayse")
    assert client.get(f"/tasks/{TOO_BIG}").status_code == 404
    assert client.get(f"/instances/{TOO_BIG}").status_code == 404
    assert client.get(f"/tasks/{2**31 - 1}").status_code == 404

