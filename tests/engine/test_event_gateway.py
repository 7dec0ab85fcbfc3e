"""Event-based gateways: wait for a message or a timer, whichever comes first."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import clock, runtime
from engine.models import Job, MessageSubscription, ProcessInstance

BPMN = Path(__file__).resolve().parents[1] / "data" / "runtime" / "event_gateway.bpmn"


@pytest.fixture
def waiting(db, deploy):
    deploy(BPMN)
    with db.tx() as session:
        instance = runtime.start_instance(session, "event_gateway", data={"wait": "PT1H"})
        subscriptions = session.scalars(select(MessageSubscription)).all()
        timers = session.scalars(select(Job).where(Job.instance_id == instance.id)).all()
    assert instance.status == "waiting"
    assert [s.message_name for s in subscriptions] == ["confirmed"]     # the message branch listens
    assert [(j.kind, j.state) for j in timers] == [("timer", "pending")]  # and the timer branch is due
    yield instance.id
    clock.set_shift(timedelta(0))


def _outcome(db, instance_id):
    with db.tx() as session:
        instance = session.get(ProcessInstance, instance_id)
        data = runtime.load_instance(session, instance_id).workflow.data
        jobs = [(j.kind, j.state) for j in session.scalars(select(Job).where(Job.instance_id == instance_id))]
        left = session.scalars(select(MessageSubscription)).all()
    return instance.status, data.get("outcome"), jobs, left


def test_the_message_wins_and_the_timer_is_cancelled(db, waiting):
    with db.tx() as session:
        code = session.get(ProcessInstance, waiting).tracking_code
        assert runtime.deliver_message(session, "confirmed", {"ok": True}, correlation_key=code) == [waiting]
    assert _outcome(db, waiting) == ("completed", "confirmed", [("timer", "cancelled")], [])


def test_the_timer_wins_and_the_message_is_no_longer_awaited(db, waiting):
    with db.tx() as session:
        assert runtime.fire_due_timers(session, waiting)[0] == []        # not yet
    clock.set_shift(timedelta(hours=1, minutes=1))
    with db.tx() as session:
        fired, _waiting = runtime.fire_due_timers(session, waiting)
    assert len(fired) == 1
    status, outcome, _jobs, left = _outcome(db, waiting)
    assert (status, outcome, left) == ("completed", "timed out", [])
