"""Instances and tasks through the engine API, as staff and the web app use them.

Each test checks what a user would notice (their inbox, an error, the data the next
step sees), then the rows behind it: ``human_task``, ``process_instance`` and
``audit_event``.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import undefer

import engine.jobs  # noqa: F401  (registers the built-in send_mail operator support_ticket uses)
from engine import definitions, runtime, tasks, users, validation
from engine.db import make_engine, make_session_factory, transaction
from engine.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
    WorkflowError,
)
from engine.models import (
    AuditEvent,
    HumanTask,
    InstanceStatus,
    Job,
    JobKind,
    JobState,
    MessageSubscription,
    ProcessDefinition,
    ProcessInstance,
    TaskState,
    utcnow,
)

TESTS = Path(__file__).resolve().parent.parent
DATA = TESTS / "data" / "runtime"
# A frozen copy of the first user_support process, so these tests do not change with it.
USER_SUPPORT = [TESTS / "data" / "support" / name for name in (
    "support_ticket.bpmn", "support_ticket.triage.schema.json", "support_ticket.answer.schema.json")]
YURTNET = {"category": "YurtNet", "team": "network"}


# -- helpers -----------------------------------------------------------------------

STAFF = {  # username -> (groups, roles)
    "ayse": (("helpdesk",), ("staff",)),
    "mehmet": (("helpdesk",), ("staff",)),
    "can": (("network",), ("staff",)),
    "zeynep": (("systems",), ("staff",)),
    "root": ((), ("admin",)),
}


@pytest.fixture
def staff(db):
    """Two help desk members, one member of each team, and an admin in no group."""
    with db.tx() as session:
        for username, (groups, roles) in STAFF.items():
            users.add_user(session, username, groups=groups, roles=roles)


def start(db, key: str, data: dict | None = None, actor: str | None = "ayse") -> int:
    with db.tx() as session:
        return runtime.start_instance(session, key, data=data, actor=actor).id


def claim(db, task_id: int, username: str) -> None:
    with db.tx() as session:
        tasks.claim_task(session, task_id, users.get_user(session, username))


def unclaim(db, task_id: int, username: str) -> None:
    with db.tx() as session:
        tasks.unclaim_task(session, task_id, users.get_user(session, username))


def complete(db, task_id: int, username: str, data: dict | None = None) -> None:
    with db.tx() as session:
        tasks.complete_task(session, task_id, users.get_user(session, username), data)


def instance_row(db, instance_id: int) -> ProcessInstance:
    """The instance row with its state, readable after the session is gone."""
    with db.tx() as session:
        return session.get(ProcessInstance, instance_id, options=[undefer(ProcessInstance.state)])


def task_rows(db, instance_id: int) -> list[HumanTask]:
    with db.tx() as session:
        return list(session.scalars(
            select(HumanTask).where(HumanTask.instance_id == instance_id).order_by(HumanTask.id)
        ))


def open_task(db, instance_id: int) -> HumanTask:
    rows = [t for t in task_rows(db, instance_id) if t.state in (TaskState.READY, TaskState.CLAIMED)]
    assert len(rows) == 1, [(t.bpmn_id, t.state) for t in rows]
    return rows[0]


def inbox(db, username: str) -> list[tuple[int, str]]:
    """(instance id, BPMN id) of the ready tasks a user sees."""
    with db.tx() as session:
        return [(t.instance_id, t.bpmn_id)
                for t in tasks.list_tasks(session, user=users.get_user(session, username))]


def actions(db, instance_id: int) -> list[str]:
    with db.tx() as session:
        return list(session.scalars(
            select(AuditEvent.action).where(AuditEvent.chain == f"instance:{instance_id}").order_by(AuditEvent.seq)
        ))


def task_data(db, task: HumanTask) -> dict:
    """The data the workflow hands to an open task (what its form is filled from)."""
    with db.tx() as session:
        return dict(runtime.load_instance(session, task.instance_id).get_task(task.task_uuid).data)


def final_data(db, instance_id: int) -> dict:
    with db.tx() as session:
        active = runtime.load_instance(session, instance_id)
        assert active.workflow.is_completed()
        return dict(active.workflow.data)


def jobs_of(db, instance_id: int, kind: JobKind) -> list[Job]:
    with db.tx() as session:
        return list(session.scalars(select(Job).where(Job.instance_id == instance_id, Job.kind == kind)))


# -- starting ------------------------------------------------------------------------

def test_start_gives_the_lane_group_a_ready_task_and_a_tracking_code(db, deploy, staff):
    deploy(*USER_SUPPORT)
    before = utcnow()

    first = start(db, "support_ticket", {"subject": "Şifremi unuttum"}, actor="ayse")
    second = start(db, "support_ticket", {"subject": "VPN"}, actor=None)

    assert inbox(db, "ayse") == [(first, "triage"), (second, "triage")]
    assert inbox(db, "can") == []
    task = open_task(db, first)
    assert (task.state, task.group_name, task.assignee) == (TaskState.READY, "helpdesk", None)
    assert task.name == "Talebi değerlendir ve yönlendir"
    assert task.form_file == "support_ticket.triage.schema.json"
    assert before + timedelta(hours=8) <= task.due_at <= utcnow() + timedelta(hours=8)
    assert task_data(db, task) == {"subject": "Şifremi unuttum"}

    one, two = instance_row(db, first), instance_row(db, second)
    for row in (one, two):
        assert len(row.tracking_code) == runtime.TRACKING_LENGTH == 10
        assert set(row.tracking_code) <= set(runtime.TRACKING_ALPHABET)
        assert row.status == InstanceStatus.RUNNING
        # state stored without its spec: the spec lives once in process_definition
        assert "spec" not in row.state and "subprocess_specs" not in row.state
        assert row.state["tasks"]
    assert one.tracking_code != two.tracking_code
    assert (one.started_by, two.started_by) == ("ayse", None)
    with db.tx() as session:
        definition = session.get(ProcessDefinition, one.definition_id)
        assert "spec" in definition.serialized_spec
        started = session.scalar(select(AuditEvent).where(AuditEvent.instance_id == first))
        assert (started.action, started.actor) == ("instance.started", "ayse")
        assert started.data == {"key": "support_ticket", "version": 1, "data": {"subject": "Şifremi unuttum"}}


def test_start_of_an_unknown_process_is_not_found_and_writes_nothing(db):
    with pytest.raises(NotFoundError, match="no deployed process nothing_here"), db.tx() as session:
        runtime.start_instance(session, "nothing_here")

    with db.tx() as session:
        assert session.scalar(select(func.count()).select_from(ProcessInstance)) == 0


# -- routing ---------------------------------------------------------------------------

@pytest.mark.parametrize(("team", "member"), [("network", "can"), ("systems", "zeynep")])
def test_candidate_groups_send_the_next_task_to_the_team_picked_in_triage(db, deploy, staff, team, member):
    deploy(*USER_SUPPORT)
    instance_id = start(db, "support_ticket", {"subject": "İnternet yok"})
    triage = open_task(db, instance_id)

    complete(db, triage.id, "ayse", {"category": "YurtNet", "team": team})

    assert inbox(db, member) == [(instance_id, "team_work")]
    assert inbox(db, "ayse") == []
    work = open_task(db, instance_id)
    assert (work.group_name, work.state, work.assignee) == (team, TaskState.READY, None)
    done = next(t for t in task_rows(db, instance_id) if t.bpmn_id == "triage")
    assert (done.state, done.completed_by, done.assignee) == (TaskState.COMPLETED, "ayse", "ayse")
    assert done.completed_at is not None
    assert task_data(db, work) == {"subject": "İnternet yok", "category": "YurtNet", "team": team}
    assert instance_row(db, instance_id).status == InstanceStatus.RUNNING
    # the two-day reminder on team_work is a pending timer job
    [reminder] = jobs_of(db, instance_id, JobKind.TIMER)
    assert reminder.state == JobState.PENDING
    assert actions(db, instance_id) == ["instance.started", "task.completed"]


def test_outside_team_closes_the_request_at_the_gateway(db, deploy, staff):
    deploy(*USER_SUPPORT)
    instance_id = start(db, "support_ticket", {"subject": "Kimlik kartı"})

    complete(db, open_task(db, instance_id).id, "ayse", {"category": "Diğer", "team": "outside"})

    assert inbox(db, "ayse") == []
    assert [t.state for t in task_rows(db, instance_id)] == [TaskState.COMPLETED]
    row = instance_row(db, instance_id)
    assert row.status == InstanceStatus.COMPLETED and row.completed_at is not None
    assert final_data(db, instance_id)["team"] == "outside"
    assert jobs_of(db, instance_id, JobKind.TIMER) == []


# -- who may claim and complete ----------------------------------------------------------

@pytest.fixture
def triage(db, deploy, staff) -> HumanTask:
    """A fresh support_ticket instance's ready triage task (group helpdesk)."""
    deploy(*USER_SUPPORT)
    return open_task(db, start(db, "support_ticket", {"subject": "E-posta"}))


def test_a_member_of_another_group_may_not_claim_or_complete(db, triage):
    with pytest.raises(PermissionDeniedError, match="can is not a member"):
        claim(db, triage.id, "can")
    with pytest.raises(PermissionDeniedError, match="belongs to group helpdesk"):
        complete(db, triage.id, "can", YURTNET)

    row = open_task(db, triage.instance_id)
    assert (row.state, row.assignee) == (TaskState.READY, None)
    assert actions(db, triage.instance_id) == ["instance.started"]


def test_a_task_claimed_by_someone_else_is_theirs(db, triage):
    claim(db, triage.id, "ayse")
    assert inbox(db, "mehmet") == []  # the inbox lists ready tasks; ayse's is claimed

    with pytest.raises(ConflictError, match="already claimed by ayse"):
        claim(db, triage.id, "mehmet")
    with pytest.raises(PermissionDeniedError, match="claimed by ayse"):
        complete(db, triage.id, "mehmet", YURTNET)
    with pytest.raises(PermissionDeniedError, match="claimed by ayse"):
        unclaim(db, triage.id, "mehmet")

    row = open_task(db, triage.instance_id)
    assert (row.state, row.assignee) == (TaskState.CLAIMED, "ayse")
    assert actions(db, triage.instance_id) == ["instance.started", "task.claimed"]


def test_unclaim_gives_the_task_back_to_the_group(db, triage):
    claim(db, triage.id, "ayse")
    unclaim(db, triage.id, "ayse")
    claim(db, triage.id, "mehmet")
    complete(db, triage.id, "mehmet", YURTNET)

    row = task_rows(db, triage.instance_id)[0]
    assert (row.state, row.assignee, row.completed_by) == (TaskState.COMPLETED, "mehmet", "mehmet")
    assert actions(db, triage.instance_id) == [
        "instance.started", "task.claimed", "task.unclaimed", "task.claimed", "task.completed",
    ]
    with db.tx() as session:
        unclaimed = session.scalar(select(AuditEvent).where(AuditEvent.action == "task.unclaimed"))
        assert (unclaimed.actor, unclaimed.data) == ("ayse", {"task_id": triage.id, "before": "ayse"})


def test_an_unclaimed_task_is_claimed_on_completion(db, triage):
    complete(db, triage.id, "mehmet", YURTNET)

    row = task_rows(db, triage.instance_id)[0]
    assert (row.state, row.assignee, row.completed_by) == (TaskState.COMPLETED, "mehmet", "mehmet")


def test_a_completed_task_cannot_be_completed_or_claimed_again(db, triage):
    complete(db, triage.id, "ayse", YURTNET)
    revision = instance_row(db, triage.instance_id).revision

    with pytest.raises(ConflictError, match="no longer open"):
        complete(db, triage.id, "ayse", {"category": "Diğer", "team": "outside"})
    with pytest.raises(ConflictError, match="no longer open"):
        claim(db, triage.id, "mehmet")

    assert instance_row(db, triage.instance_id).revision == revision
    assert open_task(db, triage.instance_id).bpmn_id == "team_work"
    assert actions(db, triage.instance_id) == ["instance.started", "task.completed"]


def test_an_admin_sees_every_task_and_completes_one_claimed_by_someone_else(db, triage):
    claim(db, triage.id, "ayse")
    with db.tx() as session:
        root = users.get_user(session, "root")
        assert [t.id for t in tasks.list_tasks(session, state="open", user=root)] == [triage.id]

    complete(db, triage.id, "root", YURTNET)

    row = task_rows(db, triage.instance_id)[0]
    assert (row.state, row.completed_by, row.assignee) == (TaskState.COMPLETED, "root", "ayse")
    assert open_task(db, triage.instance_id).group_name == "network"


def test_a_deactivated_user_is_refused(db, triage):
    with db.tx() as session:
        users.get_user(session, "mehmet").active = False

    with pytest.raises(PermissionDeniedError, match="deactivated"):
        claim(db, triage.id, "mehmet")
    with pytest.raises(PermissionDeniedError, match="deactivated"):
        complete(db, triage.id, "mehmet", YURTNET)

    row = open_task(db, triage.instance_id)
    assert (row.state, row.assignee) == (TaskState.READY, None)


# -- forms -----------------------------------------------------------------------------

REQUIRED = "this field is required"


@pytest.mark.parametrize(("data", "expected"), [
    ({}, {"category": REQUIRED, "team": REQUIRED}),
    ({"category": "YurtNet"}, {"team": REQUIRED}),
    ({"category": "YurtNet", "team": "moon"}, {"team": "'moon' is not one of"}),
    ({"category": "Uzay", "team": "network", "triage_note": 5},
     {"category": "'Uzay' is not one of", "triage_note": "5 is not of type 'string'"}),
], ids=["empty", "missing-team", "wrong-team", "wrong-category-and-type"])
def test_invalid_form_data_is_refused_per_field_and_changes_nothing(db, triage, data, expected):
    before = instance_row(db, triage.instance_id)

    with pytest.raises(ValidationError) as refused:
        complete(db, triage.id, "ayse", data)

    errors = refused.value.as_dict()
    assert set(errors) == set(expected)
    for field, message in expected.items():
        assert len(errors[field]) == 1 and message in errors[field][0], errors
    after = instance_row(db, triage.instance_id)
    assert (after.revision, after.state) == (before.revision, before.state)
    row = open_task(db, triage.instance_id)
    assert (row.bpmn_id, row.state, row.assignee) == ("triage", TaskState.READY, None)
    assert actions(db, triage.instance_id) == ["instance.started"]


# -- optimistic locking ------------------------------------------------------------------

def test_every_write_bumps_the_revision(db, triage):
    revisions = [instance_row(db, triage.instance_id).revision]
    for step in (lambda: claim(db, triage.id, "ayse"),
                 lambda: unclaim(db, triage.id, "ayse"),
                 lambda: complete(db, triage.id, "mehmet", YURTNET)):
        step()
        revisions.append(instance_row(db, triage.instance_id).revision)

    assert revisions == list(range(revisions[0], revisions[0] + 4))


def _read_then_release(db, session) -> None:
    """End a read-only transaction on SQLite, which serializes writers (BEGIN IMMEDIATE).

    The loaded objects stay as they were (``expire_on_commit=False``); on PostgreSQL
    the transactions really overlap.
    """
    if db.dialect == "sqlite":
        session.commit()


def test_a_stale_write_loses_with_a_conflict(db, triage):
    instance_id = triage.instance_id
    revision = instance_row(db, instance_id).revision
    first, second = db.factory(), db.factory()
    try:
        mine = runtime.load_instance(first, instance_id)
        _read_then_release(db, first)
        theirs = runtime.load_instance(second, instance_id)
        _read_then_release(db, second)
        assert mine.instance.revision == theirs.instance.revision == revision

        with transaction(lambda: first) as session:
            mine.workflow.data["priority"] = "high"
            mine.save(session, "instance.noted", actor="ayse", data={"priority": "high"})
        with pytest.raises(ConflictError, match="someone else changed this instance first"):
            with transaction(lambda: second) as session:
                theirs.workflow.data["priority"] = "low"
                theirs.save(session, "instance.noted", actor="mehmet", data={"priority": "low"})
    finally:
        first.close()
        second.close()

    row = instance_row(db, instance_id)
    assert (row.revision, row.state["data"]) == (revision + 1, {"priority": "high"})
    with db.tx() as session:
        noted = session.scalars(select(AuditEvent).where(AuditEvent.action == "instance.noted")).all()
        assert [(e.actor, e.data) for e in noted] == [("ayse", {"priority": "high"})]
    assert open_task(db, instance_id).state == TaskState.READY


def test_two_people_completing_the_same_task_at_once_one_wins(db, triage):
    instance_id = triage.instance_id
    revision = instance_row(db, instance_id).revision
    late = db.factory()
    try:
        # mehmet opens the task form: his session has the task and the instance loaded
        late.get(HumanTask, triage.id)
        runtime.load_instance(late, instance_id)
        _read_then_release(db, late)

        complete(db, triage.id, "ayse", YURTNET)

        with pytest.raises(ConflictError):
            with transaction(lambda: late) as session:
                tasks.complete_task(session, triage.id, users.get_user(session, "mehmet"),
                                    {"category": "Diğer", "team": "outside"})
    finally:
        late.close()

    row = instance_row(db, instance_id)
    assert (row.revision, row.status) == (revision + 1, InstanceStatus.RUNNING)
    done = task_rows(db, instance_id)[0]
    assert (done.state, done.completed_by) == (TaskState.COMPLETED, "ayse")
    assert open_task(db, instance_id).group_name == "network"
    assert actions(db, instance_id) == ["instance.started", "task.completed"]


# -- restart -----------------------------------------------------------------------------

def test_each_step_in_a_new_process_restores_data_and_open_tasks(db, deploy, staff, monkeypatch):
    deploy(DATA / "three_steps.bpmn")
    instance_id = start(db, "three_steps", {"requester": "ali@example.edu.tr", "notes": []})
    steps = [
        ("step_one", "helpdesk", "ayse", {"notes": ["logged"]}),
        ("step_two", "systems", "zeynep", {"notes": ["logged", "server ok"], "server": "web01"}),
        ("step_three", "helpdesk", "mehmet", {"notes": ["logged", "server ok", "answered"]}),
    ]
    expected = {"requester": "ali@example.edu.tr", "notes": []}

    for bpmn_id, group, username, data in steps:
        # a brand-new process: new engine and sessions, no spec or workflow cached
        monkeypatch.setattr(definitions, "_cache", OrderedDict())
        monkeypatch.setattr(runtime, "_workflow_cache", runtime._WorkflowCache())
        fresh = make_engine(db.url)
        try:
            with transaction(make_session_factory(fresh)) as session:
                [task] = tasks.list_tasks(session, user=users.get_user(session, username))
                assert (task.instance_id, task.bpmn_id, task.group_name) == (instance_id, bpmn_id, group)
                active = runtime.load_instance(session, instance_id)
                assert active.get_task(task.task_uuid).data == expected
                tasks.complete_task(session, task.id, users.get_user(session, username), data)
        finally:
            fresh.dispose()
        expected = {**expected, **data}

    row = instance_row(db, instance_id)
    assert row.status == InstanceStatus.COMPLETED
    assert final_data(db, instance_id) == {**expected, "steps": 3}
    assert [(t.bpmn_id, t.completed_by) for t in task_rows(db, instance_id)] == [
        ("step_one", "ayse"), ("step_two", "zeynep"), ("step_three", "mehmet"),
    ]
    assert actions(db, instance_id) == ["instance.started"] + ["task.completed"] * 3


# -- versions ----------------------------------------------------------------------------

def test_instances_keep_their_version_while_new_ones_start_on_the_latest(db, deploy, staff):
    [first] = deploy(DATA / "versioned_v1.bpmn")
    [again] = deploy(DATA / "versioned_v1.bpmn")
    assert (first.version, first.created) == (1, True)
    assert (again.version, again.created, again.definition_id) == (1, False, first.definition_id)
    old = start(db, "versioned")

    [second] = deploy(DATA / "versioned_v2.bpmn")
    new = start(db, "versioned")

    assert (second.version, second.created) == (2, True)
    assert deploy(DATA / "versioned_v1.bpmn")[0].version == 1  # identical content: no version 3
    assert open_task(db, old).name == "Review the request"
    assert open_task(db, new).name == "Review the request (v2)"
    complete(db, open_task(db, old).id, "ayse")
    complete(db, open_task(db, new).id, "ayse")
    assert final_data(db, old) == {"finished_on": 1}
    assert final_data(db, new) == {"finished_on": 2}
    with db.tx() as session:
        assert session.get(ProcessInstance, old).definition.version == 1
        assert session.get(ProcessInstance, new).definition.version == 2
        assert session.scalar(select(func.count()).select_from(ProcessDefinition)) == 2
        pinned = runtime.start_instance(session, "versioned", version=1)
        assert pinned.definition.version == 1


def test_a_rolled_back_deploy_leaves_no_spec_behind_for_a_later_one(db, staff):
    def files(name: str) -> dict[str, bytes]:
        return validation.load_paths([str(DATA / name)])

    with pytest.raises(RuntimeError), db.tx() as session:
        [smoke] = definitions.deploy(session, files("versioned_v1.bpmn"))
        runtime.start_instance(session, "versioned")  # the spec is now in the cache
        raise RuntimeError("the smoke test failed")
    with db.tx() as session:
        [later] = definitions.deploy(session, files("three_steps.bpmn"))

    # on SQLite the rolled-back row's id is given out again
    assert later.version == 1 and (db.dialect != "sqlite" or later.definition_id == smoke.definition_id)
    instance_id = start(db, "three_steps", {"notes": []})
    assert open_task(db, instance_id).bpmn_id == "step_one"


# -- cancel ------------------------------------------------------------------------------

def test_cancel_closes_open_tasks_and_timers(db, triage):
    instance_id = triage.instance_id
    complete(db, triage.id, "ayse", YURTNET)  # team_work is open with its reminder timer

    with db.tx() as session:
        runtime.cancel_instance(session, instance_id, actor="root", reason="duplicate request")

    assert inbox(db, "can") == []
    row = instance_row(db, instance_id)
    assert row.status == InstanceStatus.CANCELLED and row.completed_at is not None
    assert [(t.bpmn_id, t.state) for t in task_rows(db, instance_id)] == [
        ("triage", TaskState.COMPLETED), ("team_work", TaskState.CANCELLED),
    ]
    assert [j.state for j in jobs_of(db, instance_id, JobKind.TIMER)] == [JobState.CANCELLED]
    work = task_rows(db, instance_id)[1]
    with pytest.raises(ConflictError, match="no longer open"):
        complete(db, work.id, "can", {"answer": "ok"})
    with pytest.raises(ConflictError, match="already cancelled"), db.tx() as session:
        runtime.cancel_instance(session, instance_id, actor="root")
    assert actions(db, instance_id) == ["instance.started", "task.completed", "instance.cancelled"]
    with db.tx() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "instance.cancelled"))
        assert (event.actor, event.data) == ("root", {"reason": "duplicate request"})


# -- messages ----------------------------------------------------------------------------

@pytest.fixture
def waiting(db, deploy, staff) -> dict[str, int]:
    """Two instances waiting for reply_received, for tickets T-100 and T-200."""
    deploy(DATA / "wait_reply.bpmn")
    return {ticket: start(db, "wait_reply", {"ticket_no": ticket}) for ticket in ("T-100", "T-200")}


def _address(db, how: str, instance_id: int) -> dict:
    if how == "instance":
        return {"instance_id": instance_id}
    if how == "correlation key":
        return {"correlation_key": "T-100"}
    return {"correlation_key": instance_row(db, instance_id).tracking_code}


def test_waiting_instances_subscribe_with_their_correlation(db, waiting):
    for ticket, instance_id in waiting.items():
        row = instance_row(db, instance_id)
        assert row.status == InstanceStatus.WAITING
        assert task_rows(db, instance_id) == []
        with db.tx() as session:
            [sub] = session.scalars(select(MessageSubscription).where(MessageSubscription.instance_id == instance_id))
            assert sub.message_name == "reply_received"
            assert sub.correlation == {"tracking_code": row.tracking_code, "key": ticket}


@pytest.mark.parametrize("how", ["instance", "correlation key", "tracking code"])
def test_a_message_reaches_the_waiting_instance_with_its_payload(db, waiting, how):
    target, other = waiting["T-100"], waiting["T-200"]
    payload = {"from": "Personel Daire Başkanlığı", "text": "Hesap açıldı"}

    with db.tx() as session:
        caught = runtime.deliver_message(session, "reply_received", payload, actor="mail",
                                         **_address(db, how, target))

    assert caught == [target]
    assert inbox(db, "ayse") == [(target, "read_reply")]
    task = open_task(db, target)
    assert task_data(db, task) == {"ticket_no": "T-100", "reply": payload}
    assert instance_row(db, target).status == InstanceStatus.RUNNING
    assert actions(db, target) == ["instance.started", "message.delivered"]
    # the other ticket is still waiting, untouched
    assert instance_row(db, other).status == InstanceStatus.WAITING
    assert actions(db, other) == ["instance.started"]
    with db.tx() as session:
        subscribed = session.scalars(select(MessageSubscription.instance_id)).all()
        assert subscribed == [other]


@pytest.mark.parametrize(("name", "address"), [
    ("reply_received", {"correlation_key": "T-999"}),
    ("something_else", {"correlation_key": "T-100"}),
    ("reply_received", {"instance_id": 999}),
], ids=["unknown-key", "unknown-message", "unknown-instance"])
def test_a_message_nobody_waits_for_is_not_found(db, waiting, name, address):
    with pytest.raises(NotFoundError, match="no instance is waiting"), db.tx() as session:
        runtime.deliver_message(session, name, {"text": "?"}, **address)

    assert all(instance_row(db, i).status == InstanceStatus.WAITING for i in waiting.values())


def test_a_message_is_caught_once(db, waiting):
    target = waiting["T-100"]
    with db.tx() as session:
        runtime.deliver_message(session, "reply_received", {"text": "first"}, instance_id=target)

    with pytest.raises(NotFoundError), db.tx() as session:
        runtime.deliver_message(session, "reply_received", {"text": "second"}, instance_id=target)

    assert task_data(db, open_task(db, target))["reply"] == {"text": "first"}
    assert actions(db, target) == ["instance.started", "message.delivered"]


# -- failures ----------------------------------------------------------------------------

def test_a_script_error_after_a_task_names_the_element_and_writes_nothing(db, deploy, staff):
    deploy(DATA / "script_error.bpmn")
    instance_id = start(db, "script_error", actor="zeynep")
    task = open_task(db, instance_id)
    before = instance_row(db, instance_id)

    with pytest.raises(WorkflowError, match=r"^share_quota: .*ZeroDivisionError"):
        complete(db, task.id, "zeynep", {"quota": 100, "users": 0})

    after = instance_row(db, instance_id)
    assert (after.revision, after.state, after.status) == (before.revision, before.state, InstanceStatus.RUNNING)
    row = open_task(db, instance_id)
    assert (row.id, row.state, row.assignee) == (task.id, TaskState.READY, None)
    assert task_data(db, row) == {}
    assert actions(db, instance_id) == ["instance.started"]

    complete(db, task.id, "zeynep", {"quota": 100, "users": 4})  # fixed data goes through
    assert final_data(db, instance_id)["per_user"] == 25


# -- a diagram the engine has never seen --------------------------------------------------

@pytest.mark.parametrize(("assessment", "then", "summary"), [
    ({"kind": "server"}, ("create_account", "zeynep", {"account": "web01"}), "account web01 created"),
    ({"kind": "printer"}, None, "answered by the help desk: printer"),
], ids=["server-branch", "default-branch"])
def test_an_unseen_diagram_runs_lanes_gateway_timer_and_scripts(db, deploy, staff, assessment, then, summary):
    deploy(DATA / "server_account.bpmn")
    before = utcnow()
    instance_id = start(db, "server_account", {"requester": "ali"})

    assess = open_task(db, instance_id)
    assert (assess.bpmn_id, assess.group_name) == ("assess", "helpdesk")
    [timer] = jobs_of(db, instance_id, JobKind.TIMER)
    assert timer.state == JobState.PENDING
    assert before + timedelta(hours=4) <= timer.due_at <= utcnow() + timedelta(hours=4)

    complete(db, assess.id, "ayse", assessment)

    assert [j.state for j in jobs_of(db, instance_id, JobKind.TIMER)] == [JobState.CANCELLED]
    if then is not None:
        bpmn_id, username, data = then
        task = open_task(db, instance_id)
        assert (task.bpmn_id, task.group_name) == (bpmn_id, "systems")
        assert inbox(db, username) == [(instance_id, bpmn_id)]
        assert instance_row(db, instance_id).status == InstanceStatus.RUNNING
        complete(db, task.id, username, data)
    row = instance_row(db, instance_id)
    assert row.status == InstanceStatus.COMPLETED
    assert final_data(db, instance_id)["summary"] == summary
    assert [t.state for t in task_rows(db, instance_id)] == [TaskState.COMPLETED] * (2 if then else 1)


# -- errors that are not Spiff's own ---------------------------------------------------


def test_a_bad_timer_duration_is_a_workflow_error_naming_the_timer(db, deploy, staff):
    deploy(TESTS / "data" / "jobs" / "timer_catch.bpmn")

    with pytest.raises(WorkflowError) as refused:
        start(db, "timer_catch", {"wait": "PT"})

    # Spiff raises a plain Exception("Invalid duration"); the engine names the element.
    assert str(refused.value).startswith("wait_timer: ")
    assert "Invalid duration" in str(refused.value)
    with db.tx() as session:
        assert session.scalar(select(func.count()).select_from(ProcessInstance)) == 0


@pytest.mark.parametrize("number", [float("nan"), float("inf")])
def test_non_finite_numbers_in_data_are_refused(db, triage, number):
    with pytest.raises(ValidationError) as refused:
        complete(db, triage.id, "ayse", {**YURTNET, "triage_note": "x", "score": number})

    assert "finite" in str(refused.value)
    assert open_task(db, triage.instance_id).id == triage.id


def test_a_loop_runs_past_spiffs_depth_limit_and_ends_only_when_its_condition_says(db, deploy, staff):
    # Plain SpiffWorkflow stops seeing tasks deeper than 1000 levels: this loop would
    # silently "complete" after 250 passes. The engine lifts that limit.
    deploy(DATA / "long_loop.bpmn")
    instance_id = start(db, "long_loop", {"limit": 260})

    for _ in range(259):
        complete(db, open_task(db, instance_id).id, "ayse")
        assert instance_row(db, instance_id).status == InstanceStatus.RUNNING

    complete(db, open_task(db, instance_id).id, "ayse")
    assert instance_row(db, instance_id).status == InstanceStatus.COMPLETED
    assert final_data(db, instance_id)["i"] == 260
