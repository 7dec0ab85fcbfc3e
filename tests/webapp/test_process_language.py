"""Process content in the reader's language (issue 13, item 7): an English reader sees the
task's name, instructions, labels, help and choices in English, on the task page, the
instance page and its diagram, the API and the requester's tracking page; a Turkish
reader (the default) sees the process's own words."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import conversation, runtime
from engine.models import HumanTask
from engine.workdays import ZONE

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
EMAIL = "elif.demir@ktu.edu.tr"


def _english(client, page: str = "/inbox") -> None:
    token = CSRF.search(client.get(page).get_data(as_text=True)).group(1)
    assert client.post("/lang", data={"lang": "en", "csrf_token": token, "next": page}).status_code == 302


@pytest.fixture
def approval(db, deploy, make_user):
    """A VPN request waiting for its unit head's approval; an admin who may act on it."""
    deploy(*sorted(BPMN.glob("vpn_request.*")))
    make_user("yonetici", groups=(), roles=("admin", "staff"))
    today = datetime.now(ZONE).date()
    with db.tx() as session:
        instance = runtime.start_instance(session, "vpn_request", actor="portal", data={
            "requester": "Elif Demir", "requester_email": EMAIL, "subject": "Evden kütüphane",
            "purpose": "Evden kütüphane veri tabanlarına erişim", "target_systems": ["lib.example.edu.tr"],
            "start_date": (today + timedelta(days=7)).isoformat(),
            "end_date": (today + timedelta(days=60)).isoformat()})
        task_id = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance.id,
                                                            HumanTask.bpmn_id == "approve_request"))
    return instance.id, task_id


def test_the_task_page_speaks_the_readers_language(client, auth, approval):
    instance_id, task_id = approval
    auth.login("yonetici")
    turkish = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "<h1 class=\"h3\">Birim amiri onayı</h1>" in turkish and "Onaylıyorum" in turkish
    assert "Biriminizdeki personelin VPN talebini inceleyin" in turkish

    _english(client)
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "<h1 class=\"h3\">Unit head approval</h1>" in page and "Birim amiri" not in page
    assert "Review the VPN request of a member of your unit" in page          # the instructions
    assert ">Decision *<" in page and ">Reason for rejection *<" in page        # the labels (required when rejecting)
    assert ">I approve<" in page and ">I reject<" in page                      # the choices
    assert "Required if you reject; it is sent to the requester by e-mail." in page   # the help
    assert 'value="approve"' in page and 'value="reject"' in page              # values never change

    # A refused answer: the labels stay English, the problem is worded in English.
    token = CSRF.search(page).group(1)
    refused = client.post(f"/tasks/{task_id}/complete", data={"csrf_token": token, "approval": "reject"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and ">Reason for rejection" in html
    assert "This field is required." in html or "Enter at least" in html

    done = client.post(f"/tasks/{task_id}/complete", data={"csrf_token": token, "approval": "approve"})
    assert done.status_code == 302
    assert "Task completed: Unit head approval" in client.get("/inbox").get_data(as_text=True)

    # the instance page and its diagram: task names and drawn names in English
    show = client.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert ">Unit head approval</a>" in show and ">Set up VPN access</a>" in show
    diagram = client.get(f"/instances/{instance_id}/diagram.bpmn?lang=en").get_data(as_text=True)
    assert 'name="Unit head approval"' in diagram and 'name="Are the dates valid?"' in diagram
    assert 'name="network"' in diagram                                        # lanes are group slugs


def test_the_api_names_tasks_in_the_language_asked_for(client, auth, approval):
    auth.login("yonetici")
    english = client.get("/api/v1/tasks?lang=en").get_json()
    assert [t["name"] for t in english] == ["Unit head approval"]
    by_header = client.get("/api/v1/tasks", headers={"Accept-Language": "en"}).get_json()
    turkish = client.get("/api/v1/tasks?lang=tr", headers={"Accept-Language": "en"}).get_json()
    assert by_header[0]["name"] == "Unit head approval" and turkish[0]["name"] == "Birim amiri onayı"


def test_the_process_page_diagram_is_drawn_in_the_readers_language_the_download_is_the_source(
        client, auth, approval):
    auth.login("yonetici")
    _english(client)
    shown = client.get("/processes/vpn_request/diagram.bpmn?shown=en").get_data(as_text=True)
    source = client.get("/processes/vpn_request/diagram.bpmn").get_data(as_text=True)
    assert 'name="Unit head approval"' in shown and 'name="Birim amiri onayı"' in source


def test_the_tracking_page_names_the_category_in_the_requesters_language(db, client, deploy):
    deploy(*sorted(BPMN.glob("user_support.*")))
    with db.tx() as session:
        instance = runtime.start_instance(session, "user_support", actor="portal", data={
            "requester": "Elif Demir", "requester_email": EMAIL, "subject": "E-posta kotam doldu",
            "category": "Personel E-posta", "message": "Kotam doldu."})
        conversation.record_contact(session, instance.id, name="Elif Demir", email=EMAIL)
    token = CSRF.search(client.get("/takip").get_data(as_text=True)).group(1)
    client.post("/takip", data={"code": instance.tracking_code, "email": EMAIL, "csrf_token": token})
    page = client.get(f"/takip/{instance.tracking_code}").get_data(as_text=True)
    assert 'data-testid="track-category">Personel E-posta<' in page

    _english(client, f"/takip/{instance.tracking_code}")
    page = client.get(f"/takip/{instance.tracking_code}").get_data(as_text=True)
    assert 'data-testid="track-category">Staff e-mail<' in page
    assert 'data-testid="track-process">User Support<' in page


def test_the_portal_form_shows_the_process_fields_in_english(db, client, deploy):
    deploy(*sorted(BPMN.glob("vpn_request.*")))
    _english(client, "/")
    page = client.get("/talep/vpn_request").get_data(as_text=True)
    assert ">Purpose *<" in page and ">Systems to reach *<" in page and ">End date *<" in page
    assert "Tell us why you need VPN access" in page and "Amaç" not in page
