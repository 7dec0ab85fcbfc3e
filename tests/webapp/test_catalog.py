"""The catalog pages: every process by team, diagrams, counts, and starting a request."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from engine import runtime, tasks, users
from engine.models import AuditEvent, HumanTask, ProcessInstance
from processes.catalog import CATALOG

DATA = Path(__file__).resolve().parents[1] / "data"
SUPPORT = DATA / "support"


def test_the_whole_catalog_by_team_with_counts(client, auth, make_user, support_request, db):
    make_user("ayse", groups=("helpdesk",))
    first = support_request("Şifre")
    support_request("VPN")
    with db.tx() as session:
        triage = session.scalar(select(HumanTask).where(HumanTask.instance_id == first))
        tasks.complete_task(session, triage.id, users.get_user(session, "ayse"),
                            {"category": "Diğer", "team": "outside"})   # closes it
    auth.login("ayse")
    page = client.get("/processes").get_data(as_text=True)
    assert page.count("data-process=") == len(CATALOG) == 33
    for team in ("general", "network", "systems", "software", "parttime", "workshop"):
        assert f'data-team="{team}"' in page
    assert "SEK 08-04-18" in page and "Yedekten Veri Kurtarma Süreci" in page
    with db.tx() as session:
        statuses = sorted(session.scalars(select(ProcessInstance.status)))
    assert statuses == ["completed", "running"]
    # support_ticket is a test process outside the catalog; the API lists it after the catalog
    rows = {r["key"]: r for r in client.get("/api/v1/processes").get_json()}
    assert (rows["support_ticket"]["running"], rows["support_ticket"]["completed"]) == (1, 1)


def test_diagram_download_is_the_drawing_or_the_deployed_version(client, auth, make_user):
    make_user("ayse", groups=("helpdesk",))
    auth.login("ayse")
    response = client.get("/processes/backup/diagram.bpmn")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="backup.bpmn"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert b'<bpmn:lane id="lane_systems" name="systems">' in response.data
    assert b'isExecutable="false"' in response.data
    assert client.get("/processes/no_such/diagram.bpmn").status_code == 404
    assert client.get("/processes/no_such").status_code == 404


def test_staff_start_a_request_with_errors_kept_then_started(client, auth, make_user, db, deploy):
    make_user("ayse", groups=("systems",))
    deploy(DATA / "catalog")           # a test stand-in for the catalog's "backup", with a start form
    auth.login("ayse")
    page = client.get("/processes/backup").get_data(as_text=True)
    assert 'data-testid="start"' in page
    form = client.get("/processes/backup/start").get_data(as_text=True)
    assert 'name="requester_email"' in form and 'name="system"' in form and 'name="keep_days"' in form

    token = auth.csrf("/processes/backup/start")
    bad = client.post("/processes/backup/start", data={
        "csrf_token": token, "requester": "Ali Veli", "requester_email": "ali@", "subject": "Yedek",
        "system": "", "keep_days": "on gün"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert 'data-testid="error-requester_email"' in html and 'data-testid="error-keep_days"' in html
    assert 'value="Ali Veli"' in html and 'value="on gün"' in html
    with db.tx() as session:
        assert session.scalar(select(ProcessInstance.id)) is None

    good = client.post("/processes/backup/start", data={
        "csrf_token": token, "requester": "Ali Veli", "requester_email": "ali@example.edu.tr",
        "subject": "BYS yedeği", "system": "BYS", "keep_days": "30"})
    assert good.status_code == 302
    with db.tx() as session:
        instance = session.scalar(select(ProcessInstance))
        started = session.scalar(select(AuditEvent).where(AuditEvent.action == "instance.started"))
        task = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id))
    assert good.headers["Location"].endswith(f"/instances/{instance.id}")
    assert (instance.process_key, instance.started_by, task.group_name) == ("backup", "ayse", "systems")
    assert started.data["data"] == {"requester": "Ali Veli", "requester_email": "ali@example.edu.tr",
                                    "subject": "BYS yedeği", "system": "BYS", "keep_days": 30}


def test_the_engine_checks_the_start_form_too(db, deploy, make_user):
    import pytest

    from engine.errors import ValidationError

    deploy(DATA / "catalog")
    with db.tx() as session, pytest.raises(ValidationError) as caught:
        runtime.start_instance(session, "backup", data={"system": "floppy"})
    assert "system" in caught.value.as_dict()


def test_only_staff_start_requests(client, auth, make_user, deploy, db):
    make_user("denetci", groups=(), roles=("auditor",))
    deploy(DATA / "catalog")
    auth.login("denetci")
    assert 'data-testid="start"' not in client.get("/processes/backup").get_data(as_text=True)
    response = client.post("/processes/backup/start", data={
        "csrf_token": auth.csrf("/processes"), "requester": "X", "requester_email": "x@example.edu.tr",
        "subject": "Yedek", "system": "BYS"})
    assert response.status_code == 403
    with db.tx() as session:
        assert session.scalar(select(ProcessInstance.id)) is None
    client.post("/logout", data={"csrf_token": auth.csrf("/processes")})
    assert client.get("/processes").status_code == 302
