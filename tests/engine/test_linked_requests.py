"""Linked requests (issue 14, C3): a request starts another one with ``start_request`` and
hears, through the message ``linked_request_done``, when it ends."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from engine import conversation, linked, runtime, tasks, users
from engine.jobs import WorkerSettings
from engine.models import (
    AuditEvent,
    HumanTask,
    InstanceLink,
    InstanceStatus,
    Job,
    JobState,
    ProcessInstance,
)
from engine.worker import run_due_jobs

LINKS = Path(__file__).resolve().parent.parent / "data" / "links"
FAST = WorkerSettings(backoff_seconds=0.01, poll_seconds=0.01)
REQUESTER = {"name": "Elif Demir", "email": "elif.demir@example.edu.tr"}


@pytest.fixture
def site(db, deploy, make_user):
    make_user("ayse", groups=("helpdesk",))
    make_user("mert", groups=("network",))
    deploy(LINKS / "link_parent.bpmn", LINKS / "link_child.bpmn", LINKS / "link_child.start.schema.json",
           LINKS / "link_instant.bpmn")
    return db


def _start_parent(db, child_process: str, child_data: dict, *, contact: bool = True) -> int:
    with db.tx() as session:
        instance = runtime.start_instance(session, "link_parent", actor="ayse", data={
            "child_process": child_process, "child_data": child_data})
        if contact:
            conversation.record_contact(session, instance.id, **REQUESTER)
        return instance.id


def _work(db) -> int:
    return run_due_jobs(db.factory, FAST)


def _instance(db, instance_id: int) -> ProcessInstance:
    with db.tx() as session:
        return session.get(ProcessInstance, instance_id)


def _open_tasks(db, instance_id: int) -> list[str]:
    with db.tx() as session:
        return list(session.scalars(select(HumanTask.bpmn_id).where(
            HumanTask.instance_id == instance_id, HumanTask.state.in_(("ready", "claimed"))).order_by(HumanTask.id)))


def _complete(db, instance_id: int, bpmn_id: str, username: str, data: dict | None = None) -> None:
    with db.tx() as session:
        row = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                     HumanTask.bpmn_id == bpmn_id,
                                                     HumanTask.state.in_(("ready", "claimed"))))
        tasks.complete_task(session, row.id, users.acting_user(session, username), data or {})


def _data(db, instance_id: int) -> dict:
    with db.tx() as session:
        with runtime.reading(session, instance_id) as active:
            return dict(active.workflow.data) | {
                k: v for t in active.workflow.get_tasks() for k, v in t.data.items()}


def _actions(db, instance_id: int) -> list[str]:
    with db.tx() as session:
        return list(session.scalars(select(AuditEvent.action).where(AuditEvent.instance_id == instance_id)
                                    .order_by(AuditEvent.id)))


def _child_of(db, parent_id: int) -> ProcessInstance:
    with db.tx() as session:
        [relative] = linked.children_of(session, parent_id)
        return relative.instance


def test_a_parent_starts_its_child_and_hears_when_it_ends(site):
    db = site
    parent_id = _start_parent(db, "link_child", {"summary": "Laboratuvar için port açılması"})
    assert _work(db) == 1                                   # the start_request service task
    child = _child_of(db, parent_id)
    # the network team has the child's task; the parent waits for it
    assert (child.process_key, _open_tasks(db, child.id)) == ("link_child", ["handle"])
    assert _instance(db, parent_id).status == InstanceStatus.WAITING
    assert _open_tasks(db, parent_id) == []
    result = _data(db, parent_id)["link"]
    assert result == {"started": True, "instance_id": child.id, "tracking_code": child.tracking_code}
    with db.tx() as session:
        link = session.scalar(select(InstanceLink).where(InstanceLink.child_id == child.id))
        assert (link.parent_id, link.bpmn_id) == (parent_id, "open_child")
        # the requester of the parent is the child's too: they follow it with the same e-mail
        assert conversation.find_request(session, child.tracking_code, REQUESTER["email"]).id == child.id
    assert "linked.started" in _actions(db, parent_id)
    assert "linked.started_by" in _actions(db, child.id)

    _complete(db, child.id, "handle", "mert", {"decision": "fixed"})

    assert _instance(db, child.id).status == InstanceStatus.COMPLETED
    assert _open_tasks(db, parent_id) == ["review"]        # the parent moved on at once
    assert _data(db, parent_id)["child_done"] == {
        "process": "link_child", "tracking_code": child.tracking_code, "status": "completed", "outcome": "Giderildi"}


def test_the_outcome_is_the_end_event_id_without_a_requester_outcome(site):
    db = site
    parent_id = _start_parent(db, "link_child", {"summary": "Kablo değişimi"})
    _work(db)
    child = _child_of(db, parent_id)
    _complete(db, child.id, "handle", "mert", {"decision": "no"})
    assert _data(db, parent_id)["child_done"]["outcome"] == "not_fixed"


def test_a_cancelled_child_tells_its_parent(site):
    db = site
    parent_id = _start_parent(db, "link_child", {"summary": "Kablo değişimi"})
    _work(db)
    child = _child_of(db, parent_id)
    with db.tx() as session:
        runtime.cancel_instance(session, child.id, actor="mert", reason="gerek kalmadı")
    assert _open_tasks(db, parent_id) == ["review"]
    assert _data(db, parent_id)["child_done"] == {
        "process": "link_child", "tracking_code": child.tracking_code, "status": "cancelled", "outcome": "cancelled"}


def test_a_child_that_ends_at_once_is_heard_after_the_parent_saves(site):
    db = site
    parent_id = _start_parent(db, "link_instant", {})
    assert _work(db) == 1
    child = _child_of(db, parent_id)
    assert _instance(db, child.id).status == InstanceStatus.COMPLETED
    assert _open_tasks(db, parent_id) == ["review"]
    assert _data(db, parent_id)["child_done"]["outcome"] == "Kendiliğinden kapandı"


def test_a_parent_not_waiting_is_left_alone(site):
    db = site
    parent_id = _start_parent(db, "link_child", {"summary": "Port açılması"})
    _work(db)
    child = _child_of(db, parent_id)
    with db.tx() as session:
        runtime.cancel_instance(session, parent_id, actor="ayse", reason="vazgeçildi")
    _complete(db, child.id, "handle", "mert", {"decision": "fixed"})
    assert _instance(db, child.id).status == InstanceStatus.COMPLETED
    assert _instance(db, parent_id).status == InstanceStatus.CANCELLED
    assert "message.delivered" not in _actions(db, parent_id)


def test_a_process_not_deployed_routes_to_the_manual_task(site):
    db = site
    parent_id = _start_parent(db, "no_such_process", {"summary": "x"})
    assert _work(db) == 1
    assert _open_tasks(db, parent_id) == ["by_hand"]
    assert _data(db, parent_id)["link"] == {"started": False, "reason": "not_deployed"}
    with db.tx() as session:
        assert session.scalars(select(InstanceLink)).all() == []


def test_start_data_the_child_refuses_fails_the_job_visibly(site):
    db = site
    parent_id = _start_parent(db, "link_child", {"summary": "x"})     # minLength 3
    _work(db)
    parent = _instance(db, parent_id)
    assert parent.status == InstanceStatus.ERROR
    assert "link_child refused the start data" in parent.error_message and "summary" in parent.error_message
    with db.tx() as session:
        job = session.scalar(select(Job).where(Job.instance_id == parent_id, Job.kind == "service"))
        assert (job.state, job.attempts) == (JobState.FAILED, 1)     # failed at once, not retried
        assert session.scalars(select(ProcessInstance).where(ProcessInstance.process_key == "link_child")).all() == []


def test_the_child_keeps_the_requester_its_data_names(site):
    db = site
    parent_id = _start_parent(db, "link_child", {"summary": "Port açılması", "requester": "Can Kaya",
                                                 "requester_email": "can.kaya@example.edu.tr"})
    _work(db)
    child = _child_of(db, parent_id)
    with db.tx() as session:
        assert conversation.contact_of(session, child.id).email == "can.kaya@example.edu.tr"
        assert linked.children_for_requester(session, parent_id, REQUESTER["email"]) == []
        assert [c.id for c in linked.children_for_requester(session, parent_id, "CAN.KAYA@example.edu.tr")] == [child.id]
