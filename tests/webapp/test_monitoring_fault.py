"""The demo's monitoring webhook (processes/demo.py, hook ``izleme``) reports a fault to
SEK 08-04-03: a signed alert becomes a fault triaged to the team of the device."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from engine import clock, hooks
from engine.models import HumanTask, ProcessInstance
from processes.demo import MONITORING_HOOK, MONITORING_MAPPING

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
NOW = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)            # Monday 10:00 in Istanbul
ALERT = {"host": "sw-core-01.example.edu.tr", "service": "ping", "severity": "critical",
         "summary": "Çekirdek anahtar yanıt vermiyor", "detected_at": "2026-11-02T09:58:00+03:00"}


def test_a_signed_monitoring_alert_opens_a_fault_for_the_network_team(client, db, deploy, pinned_clock):
    pinned_clock(NOW)
    deploy(*sorted(BPMN.glob("infrastructure_maintenance.*")))
    with db.tx() as session:
        _hook, secret = hooks.create_hook(session, MONITORING_HOOK, "monitoring_alert", mapping=MONITORING_MAPPING,
                                          actor="admin", master_key="test-secret")
    raw = json.dumps(ALERT).encode()
    clock.pin(NOW)
    timestamp = str(int(NOW.timestamp()))
    response = client.post(f"/api/v1/hooks/{MONITORING_HOOK}", data=raw, headers={
        "Content-Type": "application/json", "X-SEK-Timestamp": timestamp, "Idempotency-Key": "alert-77",
        "X-SEK-Signature": hooks.sign(secret, timestamp, raw)})

    assert response.status_code == 201
    [started] = response.get_json()["instances"]
    with db.tx() as session:
        instance = session.get(ProcessInstance, started["id"])
        task = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id))
    assert (instance.process_key, instance.started_by) == ("infrastructure_maintenance", "hook:izleme")
    assert (task.bpmn_id, task.group_name) == ("diagnose", "network")
    assert abs(task.due_at - datetime(2026, 11, 2, 11, 0, tzinfo=UTC)) < timedelta(minutes=1)   # 4 hours
