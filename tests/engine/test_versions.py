"""Versions of a process: the list, the element-level diff, and moving running requests
to a newer version (preview, refusal, migration) with SpiffWorkflow's diff/migrate.

Fixture (tests/data/versions): v1 check -> approve; v2 renames approve and adds archive
after it; v3 removes check.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import undefer

from engine import instance_migration, runtime, tasks, users, versions
from engine.errors import ConflictError, PermissionDeniedError
from engine.models import AuditEvent, HumanTask, InstanceStatus, ProcessInstance, TaskState

DATA = Path(__file__).resolve().parents[1] / "data" / "versions"
V1, V2, V3 = (DATA / f"versions_v{n}.bpmn" for n in (1, 2, 3))


@pytest.fixture
def staff(db):
    with db.tx() as session:
        users.add_user(session, "selin", groups=["systems"], roles=["staff"])


# disposal is a catalog process: its requests say who they are from (processes/requester.py).
REQUEST = {"requester": "Selin Acar", "requester_email": "selin@example.edu.tr", "subject": "Eski yazıcılar"}


def start(db) -> int:
    with db.tx() as session:
        return runtime.start_instance(session, "disposal", data=REQUEST, actor="selin").id


def open_tasks(db, instance_id: int) -> list[HumanTask]:
    with db.tx() as session:
        return list(session.scalars(select(HumanTask).where(
            HumanTask.instance_id == instance_id, HumanTask.state.in_([TaskState.READY, TaskState.CLAIMED]))
            .order_by(HumanTask.id)))


def complete(db, instance_id: int) -> str:
    """Complete the instance's one open task; returns its BPMN id."""
    [task] = open_tasks(db, instance_id)
    with db.tx() as session:
        tasks.complete_task(session, task.id, users.get_user(session, "selin"), {})
    return task.bpmn_id


def instance_row(db, instance_id: int) -> ProcessInstance:
    with db.tx() as session:
        row = session.get(ProcessInstance, instance_id, options=[undefer(ProcessInstance.state)])
        row.definition.version  # noqa: B018  (loaded while the session is open)
        return row


def test_versions_list_who_when_note_and_instances_per_version(db, deploy, staff):
    deploy(V1, note="first draft")
    start(db)
    deploy(V2, note="archive after approval")
    start(db), start(db)

    with db.tx() as session:
        listed = versions.list_versions(session, "disposal")

    assert [(v.version, v.note, v.open_instances) for v in listed] == [
        (2, "archive after approval", 2), (1, "first draft", 1)]
    assert listed[0].counts == {"running": 2} and len(listed[0].content_hash) == 64


def test_diff_lists_exactly_the_changed_elements_and_flows(db, deploy):
    deploy(V1), deploy(V2), deploy(V3)

    with db.tx() as session:
        one_two = versions.diff(session, "disposal", 1, 2)
        two_three = versions.diff(session, "disposal", 2, 3)
        same = versions.diff(session, "disposal", 2, 2)

    assert [e.id for e in one_two.added] == ["archive"] and one_two.removed == []
    assert [(c.element.id, [(x.field, x.before, x.after) for x in c.changes]) for c in one_two.changed] == [
        ("approve", [("name", "Approve", "Approve the disposal")])]
    assert [(f.id, f.source, f.target) for f in one_two.flows_added] == [
        ("approve_to_archive", "Approve the disposal", "Archive the record"),
        ("archive_to_done", "Archive the record", "done")]
    assert [f.id for f in one_two.flows_removed] == ["approve_to_done"]
    assert one_two.files_added == ["versions_v2.bpmn"] and one_two.files_removed == ["versions_v1.bpmn"]

    assert two_three.added == [] and [e.id for e in two_three.removed] == ["check"]
    assert two_three.changed == []
    assert [f.id for f in two_three.flows_added] == ["start_to_approve"]
    assert [f.id for f in two_three.flows_removed] == ["check_to_approve", "start_to_check"]
    assert same.empty


def test_an_instance_waiting_at_approve_moves_to_v2_and_goes_on_to_archive(db, deploy, staff):
    deploy(V1)
    instance_id = start(db)
    assert complete(db, instance_id) == "check"
    deploy(V2)
    [approve] = open_tasks(db, instance_id)
    revision = instance_row(db, instance_id).revision

    with db.tx() as session:
        seen = instance_migration.preview(session, instance_id, 2)
    assert seen.allowed and [(t.bpmn_id, t.name, t.new_name, t.state, t.outcome) for t in seen.tasks] == [
        ("approve", "Approve", "Approve the disposal", "ready", "changed")]

    with db.tx() as session:
        instance_migration.migrate(session, instance_id, 2, actor="selin")

    [task] = open_tasks(db, instance_id)
    assert (task.id, task.task_uuid, task.name, task.group_name) == (
        approve.id, approve.task_uuid, "Approve the disposal", "systems")
    row = instance_row(db, instance_id)
    assert row.definition.version == 2 and row.revision > revision
    with db.tx() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.chain == f"instance:{instance_id}")
                                .order_by(AuditEvent.seq.desc())).first()
        assert (event.action, event.actor) == ("instance.migrated", "selin")
        assert event.data["from_version"] == 1 and event.data["to_version"] == 2
        assert event.data["tasks"] == [{"bpmn_id": "approve", "from": "Approve", "to": "Approve the disposal",
                                        "outcome": "changed"}]

    assert complete(db, instance_id) == "approve"
    assert [t.bpmn_id for t in open_tasks(db, instance_id)] == ["archive"]   # v2's new step
    assert complete(db, instance_id) == "archive"
    assert instance_row(db, instance_id).status == InstanceStatus.COMPLETED


def test_an_instance_waiting_at_a_removed_step_is_refused_with_the_reason(db, deploy, staff):
    deploy(V1)
    instance_id = start(db)
    deploy(V2), deploy(V3)
    revision = instance_row(db, instance_id).revision

    with db.tx() as session:
        seen = instance_migration.preview(session, instance_id, 3)
    assert not seen.allowed
    assert "'Check the equipment' (check)" in seen.refusal and "not in version 3" in seen.refusal
    assert [(t.bpmn_id, t.outcome) for t in seen.tasks] == [("check", "removed")]

    with pytest.raises(ConflictError, match="not in version 3"), db.tx() as session:
        instance_migration.migrate(session, instance_id, 3, actor="selin")

    row = instance_row(db, instance_id)
    assert (row.definition.version, row.revision) == (1, revision)
    assert [t.bpmn_id for t in open_tasks(db, instance_id)] == ["check"]


def test_history_of_a_removed_step_and_an_older_target_are_refused(db, deploy, staff):
    deploy(V1)
    instance_id = start(db)
    complete(db, instance_id)   # check is done: its record has no spec in v3
    deploy(V2), deploy(V3)

    with db.tx() as session:
        to_three = instance_migration.preview(session, instance_id, 3)
        to_one = instance_migration.preview(session, instance_id, 1)

    assert not to_three.allowed and "(check)" in to_three.refusal and "history" in to_three.refusal
    assert not to_one.allowed and "newer" in to_one.refusal


def test_an_instance_not_migrated_finishes_on_its_own_version(db, deploy, staff):
    deploy(V1)
    instance_id = start(db)
    deploy(V2), deploy(V3)

    assert complete(db, instance_id) == "check"
    assert complete(db, instance_id) == "approve"   # v1 has no archive step

    row = instance_row(db, instance_id)
    assert (row.status, row.definition.version) == (InstanceStatus.COMPLETED, 1)
    with db.tx() as session:
        assert [v.counts for v in versions.list_versions(session, "disposal")] == [{}, {}, {"completed": 1}]


def test_only_whoever_may_change_the_process_migrates_its_requests(db, deploy, staff):
    """The rule of deploying (engine.owners) holds for migrating too: the network group's
    process owner may not move a request of disposal (systems'); its owner may."""
    with db.tx() as session:
        users.add_user(session, "kaan", groups=["network"], roles=["staff", "process_owner"])
        users.add_user(session, "sahip", groups=["systems"], roles=["staff", "process_owner"])
    deploy(V1)
    instance_id = start(db)
    complete(db, instance_id)
    deploy(V2)

    with db.tx() as session, pytest.raises(PermissionDeniedError, match="disposal"):
        instance_migration.migrate(session, instance_id, 2, actor=users.get_user(session, "kaan"))
    assert instance_row(db, instance_id).definition.version == 1
    with db.tx() as session:
        instance_migration.migrate(session, instance_id, 2, actor=users.get_user(session, "sahip"))
    assert instance_row(db, instance_id).definition.version == 2
