"""A diagram whose scripts breach the sandbox's limits, run by the engine and the worker: the
failure names the element and the limit, and the next instance runs as if nothing happened."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine import clock, runtime
from engine.errors import WorkflowError
from engine.jobs import WorkerSettings
from engine.models import HumanTask, InstanceStatus, Job, JobState, ProcessInstance
from engine.worker import run_due_jobs

DATA = Path(__file__).resolve().parent.parent / "data" / "sandbox"
FAST = WorkerSettings(backoff_seconds=0.01, poll_seconds=0.01)
FINE = {"size": 3, "digits": 2, "recheck_size": 4, "wait": "PT0S"}


@pytest.fixture
def limits(db, deploy):
    deploy(DATA / "script_limits.bpmn")
    yield db
    clock.set_shift(timedelta(0))


def _start(db, data: dict) -> int:
    with db.tx() as session:
        return runtime.start_instance(session, "script_limits", data=data, actor="ayse").id


def _review(db, instance_id: int) -> tuple[str, dict]:
    """The state of the instance's review task and the data it was given."""
    with db.tx() as session:
        row = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id))
        task = runtime.load_instance(session, instance_id).get_task(row.task_uuid)
        return row.state, dict(task.data)


def test_a_script_that_overruns_at_start_refuses_the_start_and_the_next_one_runs(limits):
    db = limits
    began = time.monotonic()

    with pytest.raises(WorkflowError, match=r"^measure: .*script stopped: ran longer than 2 seconds"):
        _start(db, {**FINE, "digits": 10**8})

    assert time.monotonic() - began < 8
    with db.tx() as session:
        assert session.scalar(select(func.count()).select_from(ProcessInstance)) == 0
    instance_id = _start(db, FINE)
    state, data = _review(db, instance_id)
    assert state == "ready"
    assert data["length"] == 3 and "text" not in data


def test_a_script_that_runs_out_of_memory_in_the_worker_puts_its_instance_in_error(limits):
    db = limits
    broken = _start(db, {**FINE, "size": 10**9, "wait": "PT1M"})
    fine = _start(db, {**FINE, "wait": "PT1M"})
    clock.set_shift(timedelta(minutes=2))

    for _ in range(20):
        run_due_jobs(db.factory, FAST)
        with db.tx() as session:
            states = set(session.scalars(select(Job.state).where(Job.instance_id == broken)))
        if states == {JobState.FAILED}:
            break
        time.sleep(0.05)

    with db.tx() as session:
        instance = session.get(ProcessInstance, broken)
        assert instance.status == InstanceStatus.ERROR
        assert "measure: " in instance.error_message
        assert "script stopped: used more than 256 MB (line 1)" in instance.error_message
        job = session.scalar(select(Job).where(Job.instance_id == broken))
        assert job.attempts == job.max_attempts
    state, data = _review(db, fine)
    assert state == "ready"
    assert data["length"] == 3
