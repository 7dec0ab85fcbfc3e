"""The requester's e-mail and phone on every staff page and API answer about a request:
masked for a member of the handling group, in clear only on the one response after the
recorded "show personal data" view (issue 12, defect 5)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import tasks, users
from engine.jobs import WorkerSettings
from engine.models import AuditEvent, HumanTask, ProcessInstance
from engine.worker import run_due_jobs
from processes.portal import ensure_units
from tests.webapp.test_portal_submit import Portal

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
FORM = "/talep/user_support?kategori=VPN+Ba%C4%9Flant%C4%B1s%C4%B1"   # the network team's category
EMAIL = "gizli.kisi@example.org"
PHONE = "0532 987 65 43"
# Whatever form the address and the number could take in a page or a JSON answer.
LEAKS = (EMAIL, "gizli.kisi", "gizli.kisi%40example.org", PHONE, "05329876543", "987 65")
FAST = WorkerSettings(backoff_seconds=0.01, poll_seconds=0.01)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def request_with_reply(app, client, db, deploy, make_user):
    """A portal request with a file, a question of the network team, and the requester's
    reply with another file: (instance id, every task id)."""
    make_user("ag", groups=("network",))
    deploy(BPMN / "user_support.bpmn", BPMN / "user_support.routing.dmn", *sorted(BPMN.glob("user_support.*.json")))
    with db.tx() as session:
        ensure_units(session, ["Mühendislik Fakültesi"])
    requester = app.test_client()
    portal = Portal(requester)
    sent = portal.send(FORM, requester_email=EMAIL, phone=PHONE, requester="Gizli Kişi",
                       files=[("ekran.pdf", b"%PDF-1.4 ilk")])
    assert sent.status_code == 302, portal.page
    with db.tx() as session:
        instance = session.scalar(select(ProcessInstance).order_by(ProcessInstance.id.desc()))
        code, instance_id = instance.tracking_code, instance.id
        task = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id))
        assert task.group_name == "network"
        tasks.complete_task(session, task.id, users.acting_user(session, "ag"),
                            {"action": "ask", "question": "Hangi işletim sistemi?"})
    run_due_jobs(db.factory, FAST)
    token = CSRF.search(requester.get("/takip").get_data(as_text=True)).group(1)
    assert requester.post("/takip", data={"code": code, "email": EMAIL, "csrf_token": token}).status_code == 302
    replied = requester.post(f"/takip/{code}/yanit", content_type="multipart/form-data", data={
        "csrf_token": token, "message": "Windows 11 kullanıyorum.",
        "attachments": [(io.BytesIO(b"%PDF-1.4 ikinci"), "hata.pdf")]})
    assert replied.status_code == 302
    run_due_jobs(db.factory, FAST)
    with db.tx() as session:
        task_ids = list(session.scalars(select(HumanTask.id).where(HumanTask.instance_id == instance_id)
                                        .order_by(HumanTask.id)))
    assert len(task_ids) == 2   # the question answered, the task back in the team's queue
    return instance_id, task_ids


def _staff_paths(instance_id: int, task_ids: list[int]) -> list[str]:
    return [
        "/inbox", "/inbox?section=group", "/instances", f"/instances/{instance_id}",
        *(f"/tasks/{task_id}" for task_id in task_ids),
        f"/instances/{instance_id}/diagram.json",
        f"/api/v1/instances/{instance_id}", f"/api/v1/instances/{instance_id}/events",
        "/api/v1/tasks?state=all", "/api/v1/tasks?state=ready",
    ]


def _views(db, instance_id: int) -> list[tuple[str, dict]]:
    with db.tx() as session:
        return [(e.actor, e.data) for e in session.scalars(select(AuditEvent).where(
            AuditEvent.instance_id == instance_id, AuditEvent.action == "personal_data.viewed"))]


def test_staff_see_the_requesters_address_nowhere_until_the_recorded_view(client, auth, db, request_with_reply):
    instance_id, task_ids = request_with_reply
    auth.login("ag")
    for path in _staff_paths(instance_id, task_ids):
        response = client.get(path)
        assert response.status_code == 200, path
        body = response.get_data(as_text=True)
        for leak in LEAKS:
            assert leak not in body, (path, leak)
    # what staff see instead: the masked address, on the page and in the API alike
    page = client.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert "g***@example.org" in page and "0532 *** ** 43" in page and "Gizli Kişi" in page
    assert client.get(f"/api/v1/instances/{instance_id}").get_json()["started_by"] == "requester:g***@example.org"
    assert _views(db, instance_id) == []

    path = f"/instances/{instance_id}"
    response = client.post(f"/instances/{instance_id}/personal-data",
                           data={"csrf_token": auth.csrf(path), "next": path})
    assert response.status_code == 302
    assert _views(db, instance_id) == [("ag", {"fields": ["email", "phone"]})]
    revealed = client.get(path).get_data(as_text=True)
    assert EMAIL in revealed and PHONE in revealed
    again = client.get(path).get_data(as_text=True)   # once: the next response is masked again
    assert not any(leak in again for leak in LEAKS)


def test_the_api_masks_the_requester_for_admins_and_auditors_too(client, auth, db, make_user, request_with_reply):
    """Everyone reads the clear values only behind the recorded view; the API has no such view."""
    instance_id, _ = request_with_reply
    make_user("denetci", groups=(), roles=("auditor",))
    make_user("yonetici", groups=(), roles=("admin",))
    for user in ("denetci", "yonetici"):
        auth.login(user)
        for path in (f"/api/v1/instances/{instance_id}", f"/api/v1/instances/{instance_id}/events"):
            body = client.get(path).get_data(as_text=True)
            assert not any(leak in body for leak in LEAKS), (user, path)
        auth.logout()


def test_auditors_read_the_audit_trail_as_recorded_and_the_request_page_masked(client, auth, db, make_user,
                                                                             request_with_reply):
    """Today's rule, kept: the audit trail pages (auditors only) show the history as recorded,
    as the exports do; the request's own page masks for auditors too, until the recorded view."""
    instance_id, _ = request_with_reply
    make_user("denetci", groups=(), roles=("auditor",))
    auth.login("denetci")
    trail = client.get(f"/audit/instances/{instance_id}").get_data(as_text=True)
    assert f'data-testid="actor">requester:{EMAIL}<' in trail
    page = client.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert not any(leak in page for leak in LEAKS)
    assert _views(db, instance_id) == []
