"""What the diagrams mark: an instance's finished elements, tokens and path taken, and
a process's open tasks and median time per task (with the engine's clock shifted)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import clock, diagram_state, runtime, tasks, users
from engine.models import HumanTask, TaskState

DIAGRAMS = Path(__file__).resolve().parents[1] / "data" / "diagrams"


@pytest.fixture(autouse=True)
def _real_clock():
    clock.set_shift(timedelta(0))
    yield
    clock.set_shift(timedelta(0))


@pytest.fixture
def review(db, deploy):
    deploy(DIAGRAMS / "review_flow.bpmn")
    with db.tx() as session:
        users.add_user(session, "ayse", groups=("helpdesk",))
        users.add_user(session, "zeynep", groups=("systems",))

    def start() -> int:
        with db.tx() as session:
            return runtime.start_instance(session, "review_flow", actor="ayse").id
    return start


def finish(db, instance_id: int, bpmn_id: str, username: str, data: dict | None = None) -> None:
    with db.tx() as session:
        task_id = session.scalar(select(HumanTask.id).where(
            HumanTask.instance_id == instance_id, HumanTask.bpmn_id == bpmn_id,
            HumanTask.state == TaskState.READY))
        tasks.complete_task(session, task_id, users.get_user(session, username), data or {})


def marks(db, instance_id: int) -> dict:
    with db.tx() as session:
        return diagram_state.instance_marks(session, instance_id)


def test_a_new_instance_waits_at_its_first_task(db, review):
    instance_id = review()
    assert marks(db, instance_id) == {"completed": ["start"], "active": ["review"], "flows": ["to_review"]}


def test_an_approved_request_shows_the_path_through_the_gateway(db, review):
    instance_id = review()
    finish(db, instance_id, "review", "ayse", {"approved": True})
    state = marks(db, instance_id)
    assert state["active"] == ["act"]
    assert state["completed"] == ["decide", "review", "start"]
    assert state["flows"] == ["to_act", "to_decide", "to_review"]   # not to_reject: that branch was not taken


def test_a_finished_instance_has_no_tokens_left(db, review):
    instance_id = review()
    finish(db, instance_id, "review", "ayse", {"approved": False})
    finish(db, instance_id, "reject", "ayse")
    state = marks(db, instance_id)
    assert state["active"] == []
    assert {"reject", "rejected"} <= set(state["completed"]) and "act" not in state["completed"]
    assert state["flows"] == ["to_decide", "to_reject", "to_rejected", "to_review"]


def test_the_version_bpmn_is_the_file_defining_the_process(db, review):
    instance_id = review()
    with db.tx() as session:
        instance = runtime.load_instance(session, instance_id).instance
        name, content = diagram_state.process_bpmn(session, instance.definition_id, "review_flow")
    assert name == "review_flow.bpmn" and b'id="review_flow"' in content


def test_heat_counts_open_tasks_and_the_median_time_spent(db, review):
    first, second, third = review(), review(), review()
    clock.set_shift(timedelta(hours=2))
    finish(db, first, "review", "ayse", {"approved": True})
    clock.set_shift(timedelta(hours=6))
    finish(db, second, "review", "ayse", {"approved": True})
    clock.set_shift(timedelta(hours=10))
    finish(db, third, "review", "ayse", {"approved": True})
    finish(db, third, "act", "zeynep")          # done at once, at hour 10
    review()                                    # a fourth still waits for review
    with db.tx() as session:
        heat = diagram_state.task_heat(session, "review_flow")
        by_version = diagram_state.task_heat(session, "review_flow", version=2)
    assert heat["tasks"]["review"]["waiting"] == 1
    assert heat["tasks"]["review"]["finished"] == 3
    assert heat["tasks"]["review"]["median_seconds"] == pytest.approx(6 * 3600, abs=60)
    assert heat["tasks"]["act"] == {"waiting": 2, "median_seconds": pytest.approx(0, abs=60), "finished": 1}
    assert heat["max_waiting"] == 2
    assert by_version == {"tasks": {}, "max_waiting": 0}    # no version 2 exists: nothing of it
