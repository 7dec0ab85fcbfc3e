"""Issue 12, defect 2: a process owner deploys only their own group's processes, at every
door (the API, the upload page, the modeler; the CLI's ``--as`` is in test_cli.py).

The systems group's process owner once deployed a new ``vpn_request`` (the network
group's) through the API, and a file for their own ``user_support`` that carried a
second, hidden ``<process>`` replaced ``yurtnet_registration`` with start -> end. Now
the whole deployment is refused, naming the process, and nothing is stored.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import documentation, owners, users
from engine.errors import PermissionDeniedError
from engine.models import ProcessDefinition

ROOT = Path(__file__).resolve().parents[2]
BPMN = ROOT / "bpmn"
PLAIN = (ROOT / "tests" / "data" / "owners" / "user_support.bpmn").read_text(encoding="utf-8")
# The same file with a second executable process that has no shape on the canvas.
HIDDEN = PLAIN.replace("  <bpmndi:BPMNDiagram", """  <bpmn:process id="yurtnet_registration" isExecutable="true">
    <bpmn:startEvent id="hidden_start"><bpmn:outgoing>hidden_flow</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="hidden_flow" sourceRef="hidden_start" targetRef="hidden_end"/>
    <bpmn:endEvent id="hidden_end"><bpmn:incoming>hidden_flow</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
  <bpmndi:BPMNDiagram""")
CSRF_ATTR = re.compile(r'data-csrf="([^"]+)"')


@pytest.fixture
def site(db, deploy, make_user):
    """yurtnet_registration (network's) deployed once; sahip is the systems group's
    process owner, nur the network group's, root an admin."""
    make_user("sahip", groups=("systems",), roles=("staff", "process_owner"))
    make_user("nur", groups=("network",), roles=("staff", "process_owner"))
    make_user("root", groups=(), roles=("admin",))
    deploy(*sorted(BPMN.glob("yurtnet_registration.*")))
    return db


def versions(db, key: str) -> list[int]:
    with db.tx() as session:
        return list(session.scalars(select(ProcessDefinition.version).where(ProcessDefinition.key == key)
                                    .order_by(ProcessDefinition.version)))


def token(db, username: str) -> dict:
    with db.tx() as session:
        return {"Authorization": f"Bearer {users.create_token(session, username)}"}


def api_deploy(client, db, username: str, files: dict[str, bytes]):
    return client.post("/api/v1/definitions", headers=token(db, username), content_type="multipart/form-data",
                       data={"files": [(io.BytesIO(content), name) for name, content in files.items()],
                             "note": "API"})


def upload(client, auth, bpmn: str, json_answer: bool = False):
    headers = {"Accept": "application/json"} if json_answer else {}
    return client.post("/processes/upload", headers=headers, content_type="multipart/form-data", data={
        "csrf_token": auth.csrf("/processes/upload"), "key": "user_support", "note": "from Camunda",
        "file": (io.BytesIO(bpmn.encode("utf-8")), "user_support.bpmn")})


def modeler(client, action: str, bpmn: str):
    page = client.get("/modeler/user_support")
    csrf = CSRF_ATTR.search(page.get_data(as_text=True)).group(1)
    return client.post(f"/modeler/user_support/{action}", content_type="application/json",
                       headers={"X-CSRFToken": csrf, "Accept": "application/json"},
                       data=json.dumps({"bpmn": bpmn, "forms": {}, "note": "hidden extra"}))


def test_the_systems_owner_may_not_deploy_the_network_groups_process_through_the_api(client, site):
    files = {path.name: path.read_bytes() for path in sorted(BPMN.glob("vpn_request.*"))}

    refused = api_deploy(client, site, "sahip", files)

    assert refused.status_code == 403
    error = refused.get_json()["error"]
    assert error["code"] == "forbidden" and "vpn_request" in error["message"] and "network" in error["message"]
    assert versions(site, "vpn_request") == []
    deployed = api_deploy(client, site, "nur", files)            # the owning group's process owner may
    assert deployed.status_code == 201 and deployed.get_json() == [{"key": "vpn_request", "version": 1,
                                                                     "created": True}]
    assert versions(site, "vpn_request") == [1]


def test_a_hidden_second_process_is_refused_by_the_api(client, site):
    refused = api_deploy(client, site, "sahip", {"user_support.bpmn": HIDDEN.encode()})

    assert refused.status_code == 403
    assert "yurtnet_registration" in refused.get_json()["error"]["message"]
    assert "user_support" not in refused.get_json()["error"]["message"]       # that one is sahip's
    assert versions(site, "yurtnet_registration") == [1]
    assert versions(site, "user_support") == []                              # the whole deployment


def test_a_hidden_second_process_is_refused_by_the_upload_page(client, auth, site):
    auth.login("sahip")

    page = upload(client, auth, HIDDEN)
    assert page.status_code == 403
    html = page.get_data(as_text=True)
    assert "değiştirme yetkiniz olmayan süreçler" in html and "<code>yurtnet_registration</code>" in html
    answer = upload(client, auth, HIDDEN, json_answer=True)
    assert answer.status_code == 403 and answer.get_json()["error"]["code"] == "forbidden"
    assert answer.get_json()["error"]["problems"] == [
        "user_support.bpmn:yurtnet_registration: owned by group network: only its process owners and admins "
        "may change it"]
    assert versions(site, "yurtnet_registration") == [1]
    assert versions(site, "user_support") == []


def test_a_hidden_second_process_is_refused_by_the_modeler(client, auth, site):
    auth.login("sahip")

    saved = modeler(client, "validate", HIDDEN)
    assert saved.status_code == 200 and saved.get_json()["ok"] is False
    deployed = modeler(client, "deploy", HIDDEN)
    assert deployed.status_code == 422
    for answer in (saved, deployed):
        [problem] = answer.get_json()["problems"]
        assert (problem["file"], problem["element_id"]) == ("user_support.bpmn", "yurtnet_registration")
        assert "network" in problem["message"]
    assert versions(site, "yurtnet_registration") == [1]
    assert versions(site, "user_support") == []


def test_the_engine_refuses_it_whichever_door_forgets_to_ask(site):
    with site.tx() as session, pytest.raises(PermissionDeniedError, match="yurtnet_registration"):
        from engine import definitions, services

        definitions.deploy(session, {"user_support.bpmn": HIDDEN.encode()},
                           actor=users.get_user(session, "sahip"), known_operators=services.operator_names())
    with site.tx() as session, pytest.raises(PermissionDeniedError, match="yurtnet_registration"):
        documentation.store(session, "yurtnet_registration", "drawing.bpmn", PLAIN.encode(), [],
                            actor=users.get_user(session, "sahip"))
    assert versions(site, "yurtnet_registration") == [1]
    assert versions(site, "user_support") == []


def test_an_admin_may_deploy_both(client, site):
    deployed = api_deploy(client, site, "root", {"user_support.bpmn": HIDDEN.encode()})

    assert deployed.status_code == 201
    assert versions(site, "yurtnet_registration") == [1, 2] and versions(site, "user_support") == [1]


@pytest.mark.parametrize("door", ["api", "upload", "modeler"])
def test_the_owner_deploys_their_own_process_at_every_door(client, auth, site, door):
    if door == "api":
        assert api_deploy(client, site, "sahip", {"user_support.bpmn": PLAIN.encode()}).status_code == 201
    else:
        auth.login("sahip")
        answer = upload(client, auth, PLAIN) if door == "upload" else modeler(client, "deploy", PLAIN)
        assert answer.status_code in (201, 302), answer.get_data(as_text=True)
    assert versions(site, "user_support") == [1]
    with site.tx() as session:
        assert session.scalar(select(ProcessDefinition.deployed_by).where(
            ProcessDefinition.key == "user_support")) == "sahip"


def test_a_process_in_no_groups_catalog_is_for_admins_only(site):
    with site.tx() as session:
        sahip, root = users.get_user(session, "sahip"), users.get_user(session, "root")
        assert owners.owner_of("not_in_the_catalog") is None
        assert not owners.may_change(sahip, "not_in_the_catalog") and owners.may_change(root, "not_in_the_catalog")
        assert owners.may_change(sahip, "user_support") and not owners.may_change(sahip, "vpn_request")
