"""Webhooks: another system's signed JSON starts a process or reaches a waiting one; bad
signatures, stale timestamps, replays and oversize bodies are refused, and every delivery
is logged."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import clock, hooks, runtime
from engine.models import AuditEvent, HookDelivery, HumanTask, ProcessInstance

DATA = Path(__file__).resolve().parents[1] / "data" / "hooks"
NOW = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)            # Monday 10:00 in Istanbul
MAPPING = {"host": "/alert/host", "service": "/alert/service", "severity": "/alert/severity",
           "summary": "/alert/summary", "detected_at": "/alert/detected_at"}
ALERT = {"alert": {"host": "sw-core-1", "service": "ping", "severity": "critical",
                   "summary": "Switch does not answer", "detected_at": "2026-11-02T09:58:00+03:00"},
         "noise": "not mapped"}


@pytest.fixture
def hook(db, deploy, pinned_clock):
    """The fault fixture deployed and a hook ``izleme`` starting it; returns its secret."""
    pinned_clock(NOW)
    deploy(DATA / "fault_report.bpmn", DATA / "fault_report.alert.schema.json")
    with db.tx() as session:
        _hook, secret = hooks.create_hook(session, "izleme", "monitoring_alert", mapping=MAPPING,
                                          actor="admin", master_key="test-secret")
    return secret


def post(client, secret, body, *, name="izleme", key="alert-1", timestamp=None, signature=None):
    clock.pin(NOW)       # the pinned clock runs on: each request is sent at NOW, however slow the machine
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    timestamp = str(int(NOW.timestamp()) if timestamp is None else timestamp)
    headers = {"X-SEK-Timestamp": timestamp, "Content-Type": "application/json",
               "X-SEK-Signature": signature or hooks.sign(secret, timestamp, raw)}
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(f"/api/v1/hooks/{name}", data=raw, headers=headers)


def _deliveries(db):
    with db.tx() as session:
        return [(d.hook_name, d.outcome, d.status_code, d.idempotency_key, d.instance_ids)
                for d in session.scalars(select(HookDelivery).order_by(HookDelivery.id))]


def test_a_signed_alert_starts_the_fault_process(client, db, hook):
    response = post(client, hook, ALERT)
    assert response.status_code == 201
    [started] = response.get_json()["instances"]
    with db.tx() as session:
        instance = session.get(ProcessInstance, started["id"])
        task = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)).one()
        data = runtime.load_instance(session, instance.id).get_task(task.task_uuid).data
        events = [e.action for e in session.scalars(select(AuditEvent).where(AuditEvent.instance_id.is_(None)))]
    assert (instance.tracking_code, instance.started_by) == (started["tracking_code"], "hook:izleme")
    assert task.bpmn_id == "triage_alert"
    assert (data["host"], data["severity"]) == ("sw-core-1", "critical")
    assert "noise" not in data and "alert" not in data           # only what the mapping names
    assert "hook.delivered" in events
    assert _deliveries(db) == [("izleme", "started", 201, "alert-1", [started["id"]])]


def test_a_replay_is_refused_with_the_first_answer(client, db, hook):
    first = post(client, hook, ALERT).get_json()
    again = post(client, hook, ALERT)
    assert again.status_code == 409
    assert again.get_json()["instances"] == first["instances"]
    assert again.get_json()["error"]["code"] == "replay"
    with db.tx() as session:
        assert len(session.scalars(select(ProcessInstance)).all()) == 1
    assert [d[1] for d in _deliveries(db)] == ["started", "replay"]


def test_a_bad_or_missing_signature_is_401_and_logged(client, db, hook):
    wrong = post(client, "not-the-secret", ALERT)
    missing = post(client, hook, ALERT, signature="sha256=")
    assert (wrong.status_code, missing.status_code) == (401, 401)
    assert wrong.get_json()["error"]["code"] == "unauthorized"
    with db.tx() as session:
        assert session.scalars(select(ProcessInstance)).all() == []
    assert [d[1] for d in _deliveries(db)] == ["bad_signature", "bad_signature"]


def test_a_stale_timestamp_is_401(client, db, hook):
    old = int(NOW.timestamp()) - 301
    assert post(client, hook, ALERT, timestamp=old).status_code == 401
    assert post(client, hook, ALERT, timestamp=int(NOW.timestamp()) + 400).status_code == 401   # from the future
    assert post(client, hook, ALERT, timestamp="soon").status_code == 401
    assert post(client, hook, ALERT, timestamp=int(NOW.timestamp()) - 299, key="alert-2").status_code == 201
    assert [d[1] for d in _deliveries(db)] == ["stale", "stale", "stale", "started"]


def test_an_oversize_body_is_413(client, db, hook):
    big = {**ALERT, "noise": "x" * (64 * 1024)}
    response = post(client, hook, big)
    assert response.status_code == 413
    assert [d[1:3] for d in _deliveries(db)] == [("too_large", 413)]


def test_mapped_data_that_does_not_fit_is_422_per_field(client, db, hook):
    body = {"alert": {**ALERT["alert"], "severity": "minor"}}
    del body["alert"]["host"]
    response = post(client, hook, body)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert set(error["fields"]) == {"host", "severity"}
    assert "/alert/host" in error["fields"]["host"][0]
    assert error["sources"] == {"host": "/alert/host", "severity": "/alert/severity"}
    with db.tx() as session:
        assert session.scalars(select(ProcessInstance)).all() == []
    # refused data does not use up the key: the corrected alert goes through with it
    assert post(client, hook, ALERT).status_code == 201
    assert [d[1] for d in _deliveries(db)] == ["invalid", "started"]


def test_an_unknown_or_inactive_hook_is_404(client, db, hook):
    assert post(client, hook, ALERT, name="nothing").status_code == 404
    with db.tx() as session:
        hooks.set_active(session, hooks.hook_by_name(session, "izleme").id, False, actor="admin")
    response = post(client, hook, ALERT)
    assert response.status_code == 404
    assert response.get_json()["error"] == {"code": "not_found", "message": "no such hook"}
    assert [d[1] for d in _deliveries(db)] == ["unknown_hook", "inactive"]


def test_a_missing_idempotency_key_is_400(client, db, hook):
    assert post(client, hook, ALERT, key=None).status_code == 400


def test_a_rotated_secret_replaces_the_old_one(client, db, hook):
    with db.tx() as session:
        new = hooks.rotate_secret(session, hooks.hook_by_name(session, "izleme").id, actor="admin",
                                  master_key="test-secret")
    assert post(client, hook, ALERT).status_code == 401
    assert post(client, new, ALERT).status_code == 201


def test_a_correlating_hook_reaches_the_waiting_instance(client, db, hook, make_user):
    make_user("ayse")
    from engine import tasks, users
    with db.tx() as session:
        instance = runtime.start_by_message(session, "monitoring_alert", {
            k: v for k, v in ALERT["alert"].items()})[0]
        task = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)).one()
        tasks.complete_task(session, task.id, users.get_user(session, "ayse"), {})
        _hook, secret = hooks.create_hook(session, "vendor", "vendor_ack", mode="correlate",
                                          correlation_pointer="/device", mapping={"ticket": "/ticket"},
                                          actor="admin", master_key="test-secret")
    response = post(client, secret, {"device": "sw-core-1", "ticket": "V-77"}, name="vendor")
    assert response.status_code == 202
    assert response.get_json() == {"instances": [{"id": instance.id, "tracking_code": instance.tracking_code}]}
    with db.tx() as session:
        assert session.get(ProcessInstance, instance.id).status == "completed"
    nobody = post(client, secret, {"device": "sw-other", "ticket": "V-78"}, name="vendor", key="alert-2")
    assert nobody.status_code == 404


def test_no_csrf_and_no_session_is_needed_but_a_session_gives_nothing(client, db, hook, make_user, auth):
    make_user("ayse")
    auth.login("ayse")
    assert post(client, "not-the-secret", ALERT).status_code == 401     # signed in or not, only HMAC counts
    assert post(client, hook, ALERT).status_code == 201


def test_the_hook_is_in_the_openapi_document(client):
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/hooks/{name}"]["post"]
    assert set(operation["responses"]) >= {"201", "202", "401", "404", "409", "413", "422"}
    assert operation["security"] == []
