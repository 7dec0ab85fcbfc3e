"""Uploading BPMN drawn in other tools: every broken file gets a clear 422 answer (page or
JSON), never a 500; a drawing that cannot run is kept and shown as documentation, and
cannot be started; only process owners of the owning group (and admins) upload."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import runtime
from engine.errors import ValidationError
from engine.models import AuditEvent, ProcessDefinition

DIAGRAMS = Path(__file__).resolve().parents[1] / "data" / "diagrams"
DRAWING = (DIAGRAMS / "camunda_drawing.bpmn").read_bytes()
EMPTY_DEFINITIONS = (b'<?xml version="1.0"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
                     b' id="d" targetNamespace="x"/>')
XXE = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
       b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&x;</bpmn:definitions>')
LAUGHS = b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><l>&b;</l>'


@pytest.fixture
def owner(make_user, auth):
    make_user("selin", groups=("systems",), roles=("staff", "process_owner"))
    auth.login("selin")
    return "selin"


def send(client, auth, content: bytes, key="backup", filename="drawing.bpmn", json=False):
    headers = {"Accept": "application/json"} if json else {}
    return client.post("/processes/upload", headers=headers, content_type="multipart/form-data", data={
        "csrf_token": auth.csrf("/processes/upload"), "key": key, "note": "from Camunda",
        "file": (io.BytesIO(content), filename)})


def versions(db, key="backup") -> list[int]:
    with db.tx() as session:
        return list(session.scalars(select(ProcessDefinition.version).where(ProcessDefinition.key == key)))


@pytest.mark.parametrize("content, says", [
    (b"\x89PNG\r\n\x1a\n not a diagram at all", "not well-formed XML"),
    (b"", "Yüklemek için bir BPMN dosyası seçin"),
    (XXE, "DOCTYPE and ENTITY declarations are not allowed"),
    (LAUGHS, "DOCTYPE and ENTITY declarations are not allowed"),
    (b"<html><body>hello</body></html>", "not a BPMN file"),
    (EMPTY_DEFINITIONS, "defines no BPMN process"),
    ((DIAGRAMS / "broken_executable.bpmn").read_bytes(), "nobody would see it"),
], ids=["binary", "empty", "xxe", "billion-laughs", "html", "no-process", "executable-with-errors"])
def test_every_broken_file_gets_a_clear_answer(db, client, auth, owner, content, says):
    page = send(client, auth, content)
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert says in html and 'data-testid="upload-form"' in html     # the form stays, to try again
    answer = send(client, auth, content, json=True)
    assert answer.status_code == 422
    error = answer.get_json()["error"]
    assert says in error["message"] + " ".join(error["problems"])
    assert versions(db) == []


def test_the_executable_files_problems_name_their_elements(client, auth, owner):
    html = send(client, auth, (DIAGRAMS / "broken_executable.bpmn").read_bytes()).get_data(as_text=True)
    assert "<code>Activity_plan</code>: user task has no lane and no candidateGroups" in html


def test_a_drawing_is_kept_as_documentation_and_shown(db, client, auth, owner):
    response = send(client, auth, DRAWING)
    assert response.status_code == 302 and response.headers["Location"].endswith("/processes/backup")
    page = client.get("/processes/backup")
    html = page.get_data(as_text=True)
    assert "Belge olarak saklandı: sürüm 1" in html
    assert "başlatılamaz" in html and 'data-testid="start"' not in html
    assert "isExecutable" in html and "Activity_plan: user task has no lane" in html
    assert 'data-kind="documentation"' in html and "bpmn-navigated-viewer" in html
    assert "'unsafe-inline'" not in page.headers["Content-Security-Policy"]     # bpmn-js needs no relaxing
    assert client.get("/processes/backup/diagram.bpmn").data == DRAWING
    assert send(client, auth, DRAWING).status_code == 302
    assert "zaten sürüm 1 olarak saklanıyor" in client.get("/processes/backup").get_data(as_text=True)
    assert versions(db) == [1]
    with db.tx() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "definition.documented"))
        assert event.actor == "selin" and event.data["uploaded_as"] == "drawing.bpmn"


def test_documentation_cannot_be_started(db, client, auth, owner):
    send(client, auth, DRAWING)
    page = client.get("/processes/backup/start")
    assert page.status_code == 422 and "kept as documentation: it cannot run" in page.get_data(as_text=True)
    with db.tx() as session, pytest.raises(ValidationError, match="documentation"):
        runtime.start_instance(session, "backup")


def test_a_valid_executable_upload_is_deployed_under_its_process(db, client, auth, owner):
    wrong = send(client, auth, (DIAGRAMS / "review_flow.bpmn").read_bytes())
    assert wrong.status_code == 422 and "değil, review_flow" in wrong.get_data(as_text=True)
    assert versions(db) == []


def test_only_owners_of_the_owning_group_upload(db, client, auth, make_user):
    make_user("ayse", groups=("helpdesk",), roles=("staff",))
    auth.login("ayse")
    assert client.get("/processes/upload").status_code == 403
    assert 'data-testid="upload"' not in client.get("/processes/backup").get_data(as_text=True)
    auth.logout()
    make_user("can", groups=("network",), roles=("staff", "process_owner"))
    auth.login("can")
    assert "backup" not in client.get("/processes/upload").get_data(as_text=True)
    assert send(client, auth, DRAWING).status_code == 403
    assert versions(db) == []
    auth.logout()
    make_user("root", groups=(), roles=("admin",))
    auth.login("root")
    assert send(client, auth, DRAWING).status_code == 302
    assert versions(db) == [1]
