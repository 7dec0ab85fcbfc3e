"""Running instances: load, act, run engine steps, write everything back.

An :class:`ActiveInstance` is a loaded instance and its workflow. Every command
loads one, acts on it, then calls :meth:`ActiveInstance.save`, which writes the
spec-less state (bumping ``revision``), the human tasks, jobs and message
subscriptions derived from it, and one audit event, all in the caller's
transaction.
"""

from __future__ import annotations

import copy
import secrets
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState as SpiffState
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import (
    assets,
    audit,
    definitions,
    facts,
    form_rules,
    spiff,
    start_events,
    start_forms,
    sync,
    textinput,
    workdays,
)
from .errors import ConflictError, EngineError, NotFoundError, ValidationError, WorkflowError
from .models import InstanceStatus, MessageSubscription, ProcessDefinition, ProcessInstance, User, utcnow

TRACKING_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L
TRACKING_LENGTH = 10


def new_tracking_code() -> str:
    """An unguessable, unambiguous tracking code (about 49 bits from ``secrets``)."""
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(TRACKING_LENGTH))


class _ScriptEngines(threading.local):
    engine = None


_engines = _ScriptEngines()


def script_engine():
    """The sandboxed script engine of this thread (the trace-based step limit is per thread)."""
    if _engines.engine is None:
        from .sandbox import SandboxScriptEngine

        _engines.engine = SandboxScriptEngine(helpers=workdays.SCRIPT_HELPERS)
    return _engines.engine


def actor_name(user: User | str | None) -> str | None:
    if user is None or isinstance(user, str):
        return user
    return user.username


@dataclass
class ActiveInstance:
    """A loaded instance with its workflow and definition, for one command."""

    instance: ProcessInstance
    definition: definitions.LoadedDefinition
    workflow: object
    # What the last save derived (waiting timers, services, messages), see sync.
    previous: dict = field(default_factory=dict)
    # Audit events the save derived (a task returned to its previous worker), recorded
    # after the save's own event so the history reads in order.
    derived_events: list = field(default_factory=list)

    def run_engine_steps(self) -> None:
        """Run gateways, scripts, events until only user tasks and waits are left."""
        try:
            self.workflow.do_engine_steps()
        except EngineError:
            raise
        except Exception as exc:  # Spiff raises plain exceptions too (e.g. a bad timer duration)
            raise WorkflowError(_describe(exc)) from exc

    def save(self, session: Session, action: str, *, actor: str | None, data=None) -> None:
        """Write state, derived rows and an audit event (flush, never commit)."""
        status_before, waits_before = self.instance.status, set(self.previous.get("messages", ()))
        ended_before = self.instance.completed_at is not None
        sync.write_state(session, self)
        facts.saved(session, self, action, data, status_before, waits_before)
        audit.record(session, action, actor=actor, instance_id=self.instance.id, data=data)
        while self.derived_events:
            derived_action, derived_data = self.derived_events.pop(0)
            audit.record(session, derived_action, actor=None, instance_id=self.instance.id, data=derived_data)
        remember(session, self)
        from . import linked  # linked starts and tells instances through this module

        linked.saved(session, self, ended_before=ended_before)

    def get_task(self, task_uuid: str):
        task = self.workflow.get_task_from_id(UUID(task_uuid))
        if task is None:
            raise NotFoundError(f"task {task_uuid} is not part of instance {self.instance.id}")
        return task


def _failing_task(exc: Exception):
    """The innermost Spiff task on the traceback: the one that was running."""
    found, tb = None, exc.__traceback__
    while tb is not None:
        for name in ("my_task", "task"):
            value = tb.tb_frame.f_locals.get(name)
            if isinstance(value, Task):
                found = value
        tb = tb.tb_next
    return found


def _describe(exc: Exception) -> str:
    """One line naming the BPMN element that failed, when it can be known."""
    task = getattr(exc, "task", None) or _failing_task(exc)
    bpmn_id = getattr(getattr(task, "task_spec", None), "bpmn_id", None)
    notes = "; ".join(getattr(exc, "__notes__", []) or getattr(exc, "notes", []) or [])
    message = str(exc) or type(exc).__name__
    if not isinstance(exc, SpiffWorkflowException):
        message = f"{type(exc).__name__}: {message}"
    if notes:
        message = f"{message} ({notes})"
    return f"{bpmn_id}: {message}" if bpmn_id else message


class _WorkflowCache:
    """Restored workflows of recently saved instances, in this process only.

    An entry is valid only while the instance row still carries the random
    ``state_token`` of the save that produced it; a rolled-back save or a save by
    another process changes or never writes that token, so a stale entry can never
    be used. Entries are taken out while a command works on them.
    """

    def __init__(self, size: int = 256):
        self.size = size
        self.entries: OrderedDict[tuple, tuple] = OrderedDict()
        self.lock = threading.Lock()

    def take(self, key: tuple, token: str | None):
        with self.lock:
            entry = self.entries.pop(key, None)
        if entry is None or token is None or entry[0] != token:
            return None
        return entry[1], entry[2]

    def put(self, key: tuple, token: str, workflow, previous: dict) -> None:
        with self.lock:
            self.entries[key] = (token, workflow, previous)
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)


_workflow_cache = _WorkflowCache()


def _cache_key(session: Session, instance_id: int) -> tuple:
    return str(session.get_bind().url), instance_id


def remember(session: Session, active: ActiveInstance) -> None:
    """Keep a just-saved workflow for the next command on the same instance."""
    key = _cache_key(session, active.instance.id)
    _workflow_cache.put(key, active.instance.state_token, active.workflow, active.previous)


def load_instance(session: Session, instance_id: int) -> ActiveInstance:
    """Load an instance and restore its workflow (from the cache, or its spec-less state)."""
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFoundError(f"no instance {instance_id}")
    loaded = definitions.load_by_id(session, instance.definition_id)
    cached = _workflow_cache.take(_cache_key(session, instance_id), instance.state_token)
    if cached is not None:
        workflow, previous = cached
        workflow.script_engine = script_engine()
        return ActiveInstance(instance, loaded, workflow, previous)
    state = dict(instance.state)
    previous = state.pop(sync.SEK_KEY, None) or {}
    workflow = spiff.workflow_from_dict(state, loaded.spec, loaded.subprocess_specs, script_engine())
    return ActiveInstance(instance, loaded, workflow, previous)


@contextmanager
def reading(session: Session, instance_id: int) -> Iterator[ActiveInstance]:
    """Load an instance only to look at it; its restored workflow goes back to the cache
    afterwards, so the page that showed a task does not make completing it restore again.

    The workflow must not be changed inside the block.
    """
    active = load_instance(session, instance_id)
    yield active
    if active.instance.state_token:
        remember(session, active)


def start_instance(
    session: Session,
    key: str,
    *,
    data: dict | None = None,
    actor: User | str | None = None,
    version: int | None = None,
    start_event: str | None = None,
) -> ProcessInstance:
    """Start a new instance of a process (its latest version unless ``version``).

    It starts at the process's none start event; a process that also has timer or
    message start events does not wait at those in this instance. ``start_event`` (a
    BPMN id) starts it at that start event instead; a timer start event starts as if its
    timer had fired (what :mod:`engine.recurring` does for each period of a cycle).

    Whoever starts it (the portal, a staff page, the API, the CLI, an operator starting
    a follow-up process), ``data`` must fit the process's complete start schema
    (:mod:`engine.start_forms`): nothing starts that a later step would fail on.

    :param data: initial data, given to the start event
    :raises NotFoundError: no such process, or no such start event in it
    :raises ValidationError: ``data`` is not a JSON object, does not fit the start
        schema or breaks a rule of the process (:mod:`.form_rules`); one problem per field
    :raises WorkflowError: the process failed before its first wait
    """
    if data is not None and not isinstance(data, dict):
        raise ValidationError("start data must be a JSON object", [])
    textinput.check(data)
    definition = definitions.get_definition(session, key, version)
    loaded = definitions.load_by_id(session, definition.id)
    if start_event is not None and start_event not in start_events.kinds(loaded.spec):
        raise NotFoundError(f"{key} version {definition.version} has no start event {start_event!r}")
    _check_start(session, key, loaded, start_event, data or {})
    return _begin(session, definition, loaded, data or {}, actor=actor, start_event=start_event)


def _check_start(session: Session, key: str, loaded: definitions.LoadedDefinition, start_event: str | None,
                 data: dict) -> None:
    """Refuse start data that does not fit the form of the start event it starts at: the none
    start event's form (what people start the process with), completed with the requester's
    fields (:mod:`.start_forms`), or a timer's or message's own (no requester: nobody asked),
    the asset registry's numbers
    (:mod:`.assets`) and the process's rules for that step."""
    if start_event is None:
        form, ui, step = loaded.start_form, loaded.start_ui, form_rules.START
    else:
        form_name, ui_name = start_events.form_files(loaded.spec, start_event)
        form = loaded.forms.get(form_name) if form_name else None
        ui = loaded.forms.get(ui_name) if ui_name else None
        step = start_event
    registry = assets.form_problems(session, ui, data)
    try:
        start_forms.check(key, copy.deepcopy(form), copy.deepcopy(ui), data, by_event=start_event is not None)
    except ValidationError as exc:
        form_rules.check(key, step, data, [*exc.problems, *registry])
        raise
    form_rules.check(key, step, data, registry)


def _begin(session: Session, definition: ProcessDefinition, loaded: definitions.LoadedDefinition, data: dict, *,
           actor: User | str | None, start_event: str | None, audit_data: dict | None = None) -> ProcessInstance:
    """Create the instance of checked start data at ``start_event`` and run it to its first waits."""
    workflow = spiff.new_workflow(loaded.spec, loaded.subprocess_specs, script_engine())
    try:
        start_events.choose(workflow, start_event)
    except EngineError:
        raise
    except Exception as exc:
        raise WorkflowError(_describe(exc)) from exc
    if data:
        workflow.task_tree.data.update(audit.to_json_value(data))
        for task in workflow.get_tasks(state=SpiffState.READY):
            task.data.update(audit.to_json_value(data))
    instance = ProcessInstance(
        definition=definition,
        process_key=definition.key,
        tracking_code=_unique_tracking_code(session),
        started_by=actor_name(actor),
        state={},
        status=InstanceStatus.RUNNING,
    )
    session.add(instance)
    session.flush()
    facts.received(session, instance, data)
    active = ActiveInstance(instance, loaded, workflow)
    active.run_engine_steps()
    started = {"key": definition.key, "version": definition.version, "data": data}
    if start_event is not None:
        started["start_event"] = start_event
    active.save(session, "instance.started", actor=actor_name(actor), data={**started, **(audit_data or {})})
    return instance


def _unique_tracking_code(session: Session) -> str:
    while True:
        code = new_tracking_code()
        if session.scalar(select(ProcessInstance.id).where(ProcessInstance.tracking_code == code)) is None:
            return code


def cancel_instance(session: Session, instance_id: int, *, actor: User | str | None, reason: str = "") -> None:
    """Cancel a running instance: its open tasks, timers and services are cancelled."""
    active = load_instance(session, instance_id)
    if active.instance.status in (InstanceStatus.COMPLETED, InstanceStatus.CANCELLED):
        raise ConflictError(f"instance {instance_id} is already {active.instance.status}")
    active.workflow.cancel()
    active.instance.status = InstanceStatus.CANCELLED
    active.save(session, "instance.cancelled", actor=actor_name(actor), data={"reason": reason})


def deliver_message(
    session: Session,
    name: str,
    payload: dict | None = None,
    *,
    instance_id: int | None = None,
    correlation_key: str | None = None,
    actor: User | str | None = None,
) -> list[int]:
    """Deliver a message to the instance(s) waiting for it.

    Either to one instance (``instance_id``), or to every instance with a waiting
    catch event for ``name`` whose correlation key (the event's ``correlationKey``
    property) or tracking code equals ``correlation_key``.

    :returns: the ids of the instances that caught it
    :raises ValidationError: the payload's text is refused (:mod:`.textinput`)
    :raises NotFoundError: nobody is waiting for this message
    """
    if instance_id is None and correlation_key is None:
        raise ValidationError("give an instance or a correlation key", [])
    textinput.check(payload)
    query = select(MessageSubscription).where(MessageSubscription.message_name == name)
    if instance_id is not None:
        query = query.where(MessageSubscription.instance_id == instance_id)
    subscriptions = [
        s for s in session.scalars(query.order_by(MessageSubscription.instance_id))
        if correlation_key is None or correlation_key in s.correlation.values()
    ]
    if not subscriptions:
        raise NotFoundError(f"no instance is waiting for message {name!r}")
    delivered = []
    for instance_id_ in sorted({s.instance_id for s in subscriptions}):
        active = load_instance(session, instance_id_)
        task_ids = [s.task_uuid for s in subscriptions if s.instance_id == instance_id_]
        task = active.get_task(task_ids[0])
        definition = next(d for d in sync.event_parts(task.task_spec.event_definition)
                          if getattr(d, "name", None) == name)
        event = BpmnEvent(definition, audit.to_json_value(payload or {}))
        try:
            active.workflow.send_event(event)
        except SpiffWorkflowException as exc:
            raise WorkflowError(_describe(exc)) from exc
        active.run_engine_steps()
        active.save(session, "message.delivered", actor=actor_name(actor), data={
            "message": name, "payload": payload or {}, "correlation_key": correlation_key,
        })
        delivered.append(instance_id_)
    return delivered


def message_start_targets(session: Session, message_name: str) -> list[tuple[ProcessDefinition, str]]:
    """The newest deployed version of each process that a message ``message_name`` starts,
    with the bpmn id of its message start event, by process key."""
    latest = (select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("version"))
              .group_by(ProcessDefinition.key).subquery())
    rows = session.scalars(select(ProcessDefinition).join(
        latest, (ProcessDefinition.key == latest.c.key) & (ProcessDefinition.version == latest.c.version))
        .order_by(ProcessDefinition.key))
    targets = []
    for definition in rows:
        try:
            loaded = definitions.load_by_id(session, definition.id)
        except ValidationError:   # a drawing kept as documentation starts nothing
            continue
        bpmn_id = start_events.message_starts(loaded.spec).get(message_name)
        if bpmn_id is not None:
            targets.append((definition, bpmn_id))
    return targets


def start_by_message(
    session: Session,
    message_name: str,
    payload: dict | None,
    *,
    actor: User | str | None = None,
) -> list[ProcessInstance]:
    """Start every process that message ``message_name`` starts, at its message start event.

    Each is the newest deployed version of a process with a ``startEvent`` whose
    ``messageEventDefinition`` names that message. ``payload`` is the start data: checked
    like every door against the complete start schema of that start event's form
    (:mod:`engine.start_forms`; a form named on the message start event, as on a none
    start event), the rules registered for the start event's BPMN id (:mod:`.form_rules`)
    and the text rules (:mod:`.textinput`). The none start event's branch does not run.
    All are checked before any starts: either every process starts or none does.

    :returns: the new instances, by process key
    :raises NotFoundError: no deployed process starts on this message
    :raises ValidationError: the payload does not fit a start form (one problem per field)
    :raises WorkflowError: a process failed before its first wait
    """
    if payload is not None and not isinstance(payload, dict):
        raise ValidationError("the message payload must be a JSON object", [])
    data = payload or {}
    textinput.check(data)
    targets = message_start_targets(session, message_name)
    if not targets:
        raise NotFoundError(f"no deployed process starts on message {message_name!r}")
    loaded = {definition.id: definitions.load_by_id(session, definition.id) for definition, _ in targets}
    for definition, bpmn_id in targets:
        _check_start(session, definition.key, loaded[definition.id], bpmn_id, data)
    return [_begin(session, definition, loaded[definition.id], data, actor=actor, start_event=bpmn_id,
                   audit_data={"message": message_name})
            for definition, bpmn_id in targets]


def fire_due_timers(session: Session, instance_id: int) -> tuple[list[str], dict[str, datetime]]:
    """Let an instance's due timers fire.

    :returns: the task uuids of the timers that fired, and those still waiting with their due moments
    """
    active = load_instance(session, instance_id)
    if active.instance.status in (InstanceStatus.COMPLETED, InstanceStatus.CANCELLED):
        return [], {}
    before = sync.waiting_timers(active.workflow)
    try:
        active.workflow.refresh_timers()
    except Exception as exc:
        raise WorkflowError(_describe(exc)) from exc
    active.run_engine_steps()
    waiting = sync.waiting_timers(active.workflow)
    # A timer fired when it stopped waiting, or (a timeCycle, which keeps waiting for its
    # next period) when its due moment moved on.
    fired = sorted(uuid for uuid, due in before.items() if waiting.get(uuid) != due)
    if fired:
        active.save(session, "timer.fired", actor=None, data={"tasks": fired, "at": utcnow().isoformat()})
    return fired, waiting
