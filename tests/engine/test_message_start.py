"""Message start events: a message sent to SEK starts the processes that catch it, at
that start event; a normal start of the same process never runs the message's branch."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from engine import runtime, tasks, users, validation
from engine.errors import NotFoundError, ValidationError
from engine.models import AuditEvent, HumanTask, MessageSubscription, ProcessInstance

DATA = Path(__file__).resolve().parents[1] / "data" / "hooks"
ALERT = {"host": "sw-core-1", "service": "ping", "severity": "critical", "summary": "Switch does not answer",
         "detected_at": "2026-11-02T09:58:00+03:00"}


@pytest.fixture
def deployed(db, deploy):
    deploy(DATA / "fault_report.bpmn", DATA / "fault_report.alert.schema.json")


def _open_tasks(session, instance_id):
    return sorted(t.bpmn_id for t in session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id))
                  if t.state in ("ready", "claimed"))


def test_a_message_starts_the_process_at_its_message_start_event(db, deployed):
    with db.tx() as session:
        started = runtime.start_by_message(session, "monitoring_alert", ALERT, actor="hook:izleme")
        ids = [i.id for i in started]
    assert [i.process_key for i in started] == ["fault_report"]
    with db.tx() as session:
        instance = session.get(ProcessInstance, ids[0])
        assert instance.started_by == "hook:izleme"
        assert _open_tasks(session, instance.id) == ["triage_alert"]          # the alert's branch, not "describe"
        data = runtime.load_instance(session, instance.id).workflow.get_tasks(state=16)[0].data
        event = session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance.id)).first()
    assert event.action == "instance.started"
    assert (event.data["message"], event.data["start_event"], event.data["data"]["host"]) == (
        "monitoring_alert", "alert_start", "sw-core-1")
    assert data["severity"] == "critical"       # the payload is the start data


def test_a_normal_start_runs_only_the_none_start_branch(db, deployed):
    with db.tx() as session:
        instance = runtime.start_instance(session, "fault_report", data={})
        subscriptions = session.scalars(select(MessageSubscription)).all()
        tasks = _open_tasks(session, instance.id)
    assert tasks == ["describe"]
    assert subscriptions == []      # the message start is not left listening inside the instance


def test_the_payload_must_fit_the_message_start_events_form(db, deployed):
    with db.tx() as session, pytest.raises(ValidationError) as caught:
        runtime.start_by_message(session, "monitoring_alert", {**ALERT, "severity": "minor", "host": None})
    assert {p.location for p in caught.value.problems} == {"severity", "host"}
    with db.tx() as session:
        assert session.scalars(select(ProcessInstance)).all() == []


def test_text_rules_hold_for_a_message_payload(db, deployed):
    with db.tx() as session, pytest.raises(ValidationError) as caught:
        runtime.start_by_message(session, "monitoring_alert", {**ALERT, "summary": "bad\x00text"})
    assert [p.location for p in caught.value.problems] == ["summary"]


def test_a_message_nobody_starts_on_is_not_found(db, deployed):
    with db.tx() as session, pytest.raises(NotFoundError):
        runtime.start_by_message(session, "nobody_listens", {})


def test_a_waiting_instance_is_reached_by_correlation_after_a_message_start(db, deployed, make_user):
    make_user("ayse")
    with db.tx() as session:
        instance = runtime.start_by_message(session, "monitoring_alert", ALERT)[0]
        task = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)).one()
    with db.tx() as session:
        tasks.complete_task(session, task.id, users.get_user(session, "ayse"), {})
    with db.tx() as session:
        assert runtime.deliver_message(session, "vendor_ack", {"ticket": "V-1"}, correlation_key="sw-core-1") == [
            instance.id]
    with db.tx() as session:
        assert session.get(ProcessInstance, instance.id).status == "completed"


def test_validation_names_a_message_start_without_a_message(tmp_path):
    source = (DATA / "fault_report.bpmn").read_text()
    broken = source.replace('<bpmn:messageEventDefinition id="alert_definition" messageRef="alert_message"/>',
                            '<bpmn:messageEventDefinition id="alert_definition"/>')
    problems = validation.validate_files({"fault_report.bpmn": broken.encode(),
                                          "fault_report.alert.schema.json":
                                          (DATA / "fault_report.alert.schema.json").read_bytes()})
    assert any("alert_start" in str(p) and "message" in str(p).lower() for p in problems), problems
