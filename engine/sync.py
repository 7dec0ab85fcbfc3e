"""Writing an instance back: state, human tasks, jobs and subscriptions.

Everything here is derived from the workflow after a command ran its engine steps.
To keep the common step cheap, the ids of the timers, services and message waits
seen at the last save are kept in the state (under ``SEK_KEY``); their tables are
only queried when that set or the new one is not empty.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState as SpiffState
from sqlalchemy import delete, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from . import facts, notices, priority, requester_status, spiff
from .assignment import assign
from .errors import ConflictError, WorkflowError
from .models import (
    OPEN_TASK_STATES,
    Group,
    HumanTask,
    InstanceStatus,
    Job,
    JobKind,
    JobState,
    MessageSubscription,
    TaskState,
    User,
    utcnow,
)

SEK_KEY = "sek"


def event_parts(definition) -> list:
    """The event definitions a waiting task listens for: its own, or each of an
    event-based gateway's (SpiffWorkflow gathers those into one MultipleEventDefinition)."""
    if isinstance(definition, MultipleEventDefinition):
        return list(definition.event_definitions)
    return [definition]


def waiting_timers(workflow) -> dict[str, datetime]:
    """Task uuid -> when it is due, for every timer event the workflow waits on."""
    due = {}
    for task in workflow.event_manager.tasks.values():
        timers = [d for d in event_parts(task.task_spec.event_definition) if isinstance(d, TimerEventDefinition)]
        if not timers or not task.has_state(SpiffState.WAITING):
            continue
        definition = timers[0]
        value = task._get_internal_data("event_value")
        if value is None:
            continue
        if isinstance(definition, CycleTimerEventDefinition):
            when = datetime.fromisoformat(value["next"])
        else:
            when = TimerEventDefinition.parse_time_or_duration(value)
            if not isinstance(when, datetime):
                continue
        due[str(task.id)] = when.astimezone(UTC)
    return due


def _waiting_messages(workflow):
    """``(task, message name)`` for every message a waiting task can catch."""
    for task in workflow.event_manager.tasks.values():
        if not task.has_state(SpiffState.WAITING):
            continue
        for definition in event_parts(task.task_spec.event_definition):
            if isinstance(definition, MessageEventDefinition):
                yield task, definition.name


def _open_tasks(workflow) -> tuple[dict, dict]:
    """Ready user tasks and started service tasks, by uuid, in one flat pass.

    Walking the flat task dicts costs far less than Spiff's tree iterator, which
    visits a long instance's whole history on every call.
    """
    ready, services = {}, {}
    for wf in (workflow, *workflow.subprocesses.values()):
        for task in wf.tasks.values():
            if task.state == SpiffState.READY and task.task_spec.manual:
                ready[str(task.id)] = task
            elif task.state == SpiffState.STARTED and isinstance(task.task_spec, spiff.QueuedServiceTask):
                services[str(task.id)] = task
    return ready, services


def _status(active, ready: dict) -> InstanceStatus:
    current = active.instance.status
    if current == InstanceStatus.CANCELLED:
        return current
    if ready:
        return InstanceStatus.RUNNING
    if active.workflow.is_completed():
        return InstanceStatus.COMPLETED
    return InstanceStatus.WAITING


def write_state(session: Session, active) -> None:
    """Serialize the workflow into the instance row and bring derived rows up to date.

    Events derived on the way (why a new unit head's task went to every unit head, a task
    returned to whoever did it last, a priority the process set) are queued on
    ``active.derived_events``; the caller records them after its own event.
    """
    instance, workflow = active.instance, active.workflow
    previous = active.previous
    ready, services = _open_tasks(workflow)
    status = _status(active, ready)
    # An instance in error stays so (other work may go on) until the failed job is
    # retried, or it ends.
    if instance.status != InstanceStatus.ERROR or status in (InstanceStatus.COMPLETED, InstanceStatus.CANCELLED):
        instance.status = status
        instance.error_message = None
    if status in (InstanceStatus.COMPLETED, InstanceStatus.CANCELLED) and instance.completed_at is None:
        instance.completed_at = utcnow()
    timers = waiting_timers(workflow)
    messages = {(str(t.id), name): t for t, name in _waiting_messages(workflow)}
    state = spiff.workflow_to_dict(workflow)
    # a service task the worker has yet to run is a wait too, for the requester ("reopened,
    # back to the team" while the mail saying so is on its way)
    shown_status, status_row = requester_status.changed(active, {**ready, **services},
                                                        previous.get(requester_status.PREVIOUS_KEY))
    active.previous = {"timers": sorted(timers), "services": sorted(services),
                       "messages": sorted({uuid for uuid, _name in messages})}
    if shown_status:
        active.previous[requester_status.PREVIOUS_KEY] = shown_status
    state[SEK_KEY] = active.previous
    instance.state = state
    instance.state_token = uuid4().hex
    # Flush the instance first: a lost optimistic-locking race fails here, before
    # any other row of this command is written.
    session.flush()
    if status_row is not None:
        session.add(status_row)
    _sync_human_tasks(session, active, ready)
    if timers or previous.get("timers"):
        _sync_jobs(session, instance.id, JobKind.TIMER, {u: {"due": d} for u, d in timers.items()})
    if services or previous.get("services"):
        _sync_jobs(session, instance.id, JobKind.SERVICE, {
            u: {"operator": t.task_spec.operation_name, "retries": t.task_spec.retries}
            for u, t in services.items()
        })
    if messages or previous.get("messages"):
        _sync_subscriptions(session, active, messages)
    session.flush()


def _sync_human_tasks(session: Session, active, ready: dict) -> None:
    instance = active.instance
    open_rows = session.scalars(
        select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.state.in_(OPEN_TASK_STATES))
    ).all()
    known = {row.task_uuid for row in open_rows}
    now = utcnow()
    for row in open_rows:
        if row.task_uuid not in ready:
            row.state = TaskState.CANCELLED
            row.completed_at = now
    for uuid, task in ready.items():
        if uuid not in known:
            assignment = assign(session, task)
            row = _new_human_task(instance, task, now, assignment.group,
                                  priority.for_new_task(session, active, task.data))
            session.add(row)
            if assignment.fallback:
                active.derived_events.append(("task.unit_head_fallback", {
                    "bpmn_id": row.bpmn_id, "name": row.name, "unit": assignment.unit,
                    "reason": assignment.fallback, "group": assignment.group}))
            notices.task_created(session, uuid, row.group_name)   # at most one job row
            facts.task_created(session, instance, row.group_name, row.due_at, task.data)
            if _property(task, ASSIGN_PREVIOUS_WORKER) == "true":
                _assign_previous_worker(session, active, row)


# A user task with this property set to "true" goes back to whoever completed its last
# occurrence in the same instance (user_support's resolve after a reopening or the
# requester's reply: the person who answered), claimed by them, if they are still an
# active member of the task's group; otherwise it waits unclaimed in the group's queue.
ASSIGN_PREVIOUS_WORKER = "assignPreviousWorker"


def _property(task, name: str):
    properties = (getattr(task.task_spec, "extensions", {}) or {}).get("properties", {}) or {}
    return (properties.get(name) or "").strip().lower() or None


def _assign_previous_worker(session: Session, active, row: HumanTask) -> None:
    previous = session.scalar(
        select(HumanTask.completed_by).where(HumanTask.instance_id == row.instance_id,
                                             HumanTask.bpmn_id == row.bpmn_id,
                                             HumanTask.state == TaskState.COMPLETED,
                                             HumanTask.completed_by.is_not(None))
        .order_by(HumanTask.completed_at.desc(), HumanTask.id.desc()).limit(1))
    if previous is None:
        return
    member = session.scalar(select(User.id).join(User.groups).where(
        User.username == previous, User.active.is_(True), Group.slug == row.group_name))
    if member is None:
        return
    row.assignee, row.state = previous, TaskState.CLAIMED
    session.flush()   # the row's id, for the audit event
    active.derived_events.append(("task.returned", {"task_id": row.id, "bpmn_id": row.bpmn_id,
                                                    "assignee": previous}))


def normal_due(task, appeared: datetime) -> datetime | None:
    """A user task's due date by its process alone (``dueIn``, a duration counted from
    ``appeared``), before any priority (:mod:`engine.priority`) moves it."""
    properties = (getattr(task.task_spec, "extensions", {}) or {}).get("properties", {}) or {}
    return _due_at(task, properties.get("dueIn"), appeared)


def _new_human_task(instance, task, now, group: str, priority_: str = "normal") -> HumanTask:
    spec = task.task_spec
    extensions = getattr(spec, "extensions", {}) or {}
    properties = extensions.get("properties", {}) or {}
    return HumanTask(
        instance_id=instance.id,
        process_key=instance.process_key,
        task_uuid=str(task.id),
        bpmn_id=spec.bpmn_id,
        name=spec.bpmn_name or spec.bpmn_id,
        group_name=group,
        state=TaskState.READY,
        form_file=extensions.get("formJsonSchemaFilename"),
        ui_file=extensions.get("formUiSchemaFilename"),
        instructions=extensions.get("instructionsForEndUser"),
        due_at=priority.due_for(priority_, now, _due_at(task, properties.get("dueIn"), now)),
        created_at=now,
    )


def _due_at(task, expression: str | None, now: datetime) -> datetime | None:
    if not expression:
        return None
    value = _evaluate(task, expression, "dueIn")
    try:
        if isinstance(value, str) and value.upper().startswith("P"):
            parsed = TimerEventDefinition.parse_iso_duration(value)
            return now + TimerEventDefinition.get_timedelta_from_start(parsed, now)
        if isinstance(value, int | float):
            return now + timedelta(hours=value)
        return TimerEventDefinition.get_datetime(str(value))
    except Exception as exc:
        raise WorkflowError(f"{task.task_spec.bpmn_id}: dueIn gave {value!r}, not a duration or date") from exc


def _evaluate(task, expression: str, what: str):
    try:
        return task.workflow.script_engine.evaluate(task, expression)
    except SpiffWorkflowException as exc:
        raise WorkflowError(f"{task.task_spec.bpmn_id}: {what} failed: {exc}") from exc


def _sync_jobs(session: Session, instance_id: int, kind: JobKind, wanted: dict[str, dict]) -> None:
    pending = session.scalars(
        select(Job).where(Job.instance_id == instance_id, Job.kind == kind, Job.state == JobState.PENDING)
    ).all()
    changing = [job for job in pending if job.task_uuid not in wanted or (
        kind == JobKind.TIMER and job.due_at != wanted[job.task_uuid].get("due", job.due_at))]
    if changing:
        locked = _lock_jobs(session, changing)
        pending = [job for job in pending if job not in changing or job in locked]
    have = {job.task_uuid: job for job in pending}
    now = utcnow()
    for job in pending:
        if job.task_uuid not in wanted:
            job.state = JobState.CANCELLED
            job.finished_at = now
    for uuid, info in wanted.items():
        job = have.get(uuid)
        due = info.get("due", now)
        if job is None:
            retries = info.get("retries")
            session.add(Job(
                kind=kind, instance_id=instance_id, task_uuid=uuid, due_at=due,
                payload={k: v for k, v in info.items() if k != "due"},
                max_attempts=retries + 1 if retries else 5,
            ))
        elif kind == JobKind.TIMER and job.due_at != due:
            job.due_at = due


def _lock_jobs(session: Session, jobs: list[Job]) -> list[Job]:
    """Lock job rows about to change without waiting; returns those still pending.

    A worker running one of them holds its row (``claim_next``) and will write this
    instance next, while this command already holds the instance row: waiting here
    would deadlock on PostgreSQL. The command loses the race instead.
    """
    if session.get_bind().dialect.name != "postgresql":
        return jobs  # SQLite: BEGIN IMMEDIATE already serializes writers
    query = (
        select(Job).where(Job.id.in_([job.id for job in jobs]))
        .with_for_update(nowait=True).execution_options(populate_existing=True)
    )
    try:
        locked = session.scalars(query).all()
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) == "55P03":  # lock_not_available
            raise ConflictError("a worker is running a job of this instance right now; "
                                "reload and try again") from exc
        raise
    return [job for job in locked if job.state == JobState.PENDING]


def _sync_subscriptions(session: Session, active, messages: dict) -> None:
    instance = active.instance
    session.execute(delete(MessageSubscription).where(MessageSubscription.instance_id == instance.id))
    for (uuid, name), task in messages.items():
        properties = (getattr(task.task_spec, "extensions", {}) or {}).get("properties", {}) or {}
        correlation = {"tracking_code": instance.tracking_code}
        if properties.get("correlationKey"):
            correlation["key"] = str(_evaluate(task, properties["correlationKey"], "correlationKey"))
        session.add(MessageSubscription(
            instance_id=instance.id,
            message_name=name,
            task_uuid=uuid,
            correlation=correlation,
        ))
