"""Moving a running instance to a newer version of its process.

Running instances stay on the version they started on; a process owner may move one
to a newer version where SpiffWorkflow can align it. The preview and the migration
run the same plan: restore the instance's workflow, align it with SpiffWorkflow's
``diff_workflow`` and ``migrate_workflow``, then check that every task left in the
tree has a spec in the target version (else the saved state could not be restored)
and that the result survives a serialize/restore round trip. Any problem is a
refusal with its reason; nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.util.task import TaskState as SpiffState
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import definitions, owners, runtime, spiff, sync, versions
from .assignment import assign
from .errors import ConflictError, NotFoundError
from .models import OPEN_TASK_STATES, HumanTask, InstanceStatus, ProcessInstance, TaskState, User

_OPEN = SpiffState.READY | SpiffState.WAITING | SpiffState.STARTED


@dataclass(frozen=True)
class TaskMove:
    """Where one open task of the instance goes."""

    bpmn_id: str
    name: str             # its name in the current version
    new_name: str | None  # its name in the target (None: not there)
    state: str            # ready, waiting or started
    outcome: str          # kept, changed or removed


@dataclass
class MigrationPreview:
    """What migrating an instance would do, or why it cannot be done."""

    instance_id: int
    tracking_code: str
    from_version: int
    to_version: int
    tasks: list[TaskMove] = field(default_factory=list)
    refusal: str | None = None

    @property
    def allowed(self) -> bool:
        return self.refusal is None


class _Registry:
    """What SpiffWorkflow's SpecDiff needs of a serializer registry: ``convert(task_spec)``.

    The serialized task specs are already stored with each version, so they are looked
    up rather than converted again.
    """

    def __init__(self, *pairs):
        self.by_spec = {}
        for loaded, serialized in pairs:
            specs = [(loaded.spec, serialized["spec"])] + [
                (loaded.subprocess_specs[n], s) for n, s in serialized["subprocess_specs"].items()
                if n in loaded.subprocess_specs]
            for spec, dct in specs:
                for name, task_spec in spec.task_specs.items():
                    self.by_spec[id(task_spec)] = dct["task_specs"][name]

    def convert(self, task_spec) -> dict:
        return self.by_spec[id(task_spec)]


def _state_name(task) -> str:
    return SpiffState.get_name(task.state).lower()


def _plan(session: Session, instance: ProcessInstance, to_version: int):
    """The preview, and the migrated workflow when it is allowed (else ``None``)."""
    current = versions.definition_for_key(session, instance.process_key, instance.definition.version)
    target = versions.definition_for_key(session, instance.process_key, to_version)
    preview = MigrationPreview(instance.id, instance.tracking_code, current.version, target.version)
    if instance.status in (InstanceStatus.COMPLETED, InstanceStatus.CANCELLED):
        preview.refusal = f"the request is {instance.status}; only running requests are migrated"
        return preview, None
    if instance.status == InstanceStatus.ERROR:
        preview.refusal = "the request is in error; retry or fix its failed job first"
        return preview, None
    if target.version <= current.version:
        preview.refusal = f"the request already runs version {current.version}; it can only move to a newer one"
        return preview, None
    old, new = definitions.load_by_id(session, current.id), definitions.load_by_id(session, target.id)
    if old.spec.name != new.spec.name:
        preview.refusal = f"version {target.version} runs process {new.spec.name}, not {old.spec.name}"
        return preview, None
    state = dict(instance.state)
    state.pop(sync.SEK_KEY, None)
    workflow = spiff.workflow_from_dict(state, old.spec, old.subprocess_specs, runtime.script_engine())
    registry = _Registry((old, current.serialized_spec), (new, target.serialized_spec))
    top, sub_diffs = diff_workflow(registry, workflow, new.spec, new.subprocess_specs)
    open_tasks = [t for t in workflow.get_tasks(state=_OPEN, skip_subprocesses=True) if t.task_spec.bpmn_id]
    for task in open_tasks:
        aligned = top.alignment.get(task)
        outcome = "removed" if aligned is None else ("changed" if task in top.changed else "kept")
        preview.tasks.append(TaskMove(task.task_spec.bpmn_id, task.task_spec.bpmn_name or task.task_spec.bpmn_id,
                                      getattr(aligned, "bpmn_name", None) if aligned else None,
                                      _state_name(task), outcome))
    preview.refusal = _refusal(workflow, top, sub_diffs, open_tasks, target.version)
    if preview.refusal:
        return preview, None
    migrate_workflow(top, workflow, new.spec)
    for sp_id, sub in sub_diffs.items():   # unchanged (else refused): only their spec objects move
        subprocess = workflow.subprocesses[sp_id]
        migrate_workflow(sub, subprocess, new.subprocess_specs[subprocess.spec.name])
    workflow.subprocess_specs = new.subprocess_specs
    left = [t for t in workflow.tasks.values()
            if t.task_spec is not None and new.spec.task_specs.get(t.task_spec.name) is not t.task_spec]
    if left:
        names = ", ".join(sorted({t.task_spec.bpmn_id or t.task_spec.name for t in left}))
        preview.refusal = (f"steps already taken ({names}) are not in version {target.version}; "
                           "the request's history could not be kept")
        return preview, None
    try:
        spiff.workflow_from_dict(spiff.workflow_to_dict(workflow), new.spec, new.subprocess_specs,
                                 runtime.script_engine())
    except Exception as exc:  # the state must restore on the new spec, or nothing is done
        preview.refusal = f"the migrated state could not be restored on version {target.version}: {exc}"
        return preview, None
    return preview, (workflow, new, target)


def _refusal(workflow, top, sub_diffs, open_tasks, version: int) -> str | None:
    for task in open_tasks:
        label = f"'{task.task_spec.bpmn_name or task.task_spec.bpmn_id}' ({task.task_spec.bpmn_id})"
        if top.alignment.get(task) is None:
            return f"the step {label} where the request now is ({_state_name(task)}) is not in version {version}"
        if task.has_state(SpiffState.STARTED) and task in top.changed:
            return f"the step {label} is running a service call and was changed in version {version}"
    for sp_id, sub in sub_diffs.items():
        subprocess = workflow.subprocesses[sp_id]
        if sub is None:
            return f"the running subprocess {subprocess.spec.name} is not in version {version}"
        if sub.changed or sub.removed:
            return f"the running subprocess {subprocess.spec.name} was changed in version {version}"
    return None


def preview(session: Session, instance_id: int, to_version: int) -> MigrationPreview:
    """What migrating an instance to ``to_version`` would change, or why it is refused.

    :raises NotFoundError: no such instance or version
    """
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFoundError(f"no instance {instance_id}")
    return _plan(session, instance, to_version)[0]


def migrate(session: Session, instance_id: int, to_version: int, *,
            actor: User | str | None) -> MigrationPreview:
    """Move a running instance to a newer version of its process.

    Its open tasks keep their ids (so claims stay), take the new names, groups and forms,
    and the process runs on by the new diagram; timers, services and messages are
    brought up to date, the revision is bumped and ``instance.migrated`` is audited.

    :param actor: a :class:`User` migrates only requests of processes they may change
        (:func:`engine.owners.may_change`, the rule of deploying); a name or ``None`` is the system
    :raises ConflictError: the migration is refused; the message says why
    :raises NotFoundError: no such instance or version
    :raises PermissionDeniedError: the user may not change the instance's process
    """
    active = runtime.load_instance(session, instance_id)
    if isinstance(actor, User):
        owners.require_change(actor, [active.instance.process_key], "migrate")
        actor = actor.username
    result, plan = _plan(session, active.instance, to_version)
    if plan is None:
        raise ConflictError(f"request {active.instance.tracking_code} cannot move to version {to_version}: "
                            f"{result.refusal}")
    workflow, loaded, target = plan
    active.workflow, active.definition = workflow, loaded
    active.instance.definition = target
    active.run_engine_steps()
    _refresh_open_tasks(session, active)
    active.save(session, "instance.migrated", actor=actor, data={
        "from_version": result.from_version, "to_version": result.to_version,
        "tasks": [{"bpmn_id": t.bpmn_id, "from": t.name, "to": t.new_name, "outcome": t.outcome}
                  for t in result.tasks],
    })
    return result


def _refresh_open_tasks(session: Session, active) -> None:
    """Open task rows take the new version's name, group, form and instructions.

    A claim is kept unless the task moved to another group.
    """
    rows = session.scalars(select(HumanTask).where(HumanTask.instance_id == active.instance.id,
                                                   HumanTask.state.in_(OPEN_TASK_STATES))).all()
    for row in rows:
        task = active.workflow.get_task_from_id(UUID(row.task_uuid))
        if task is None or not task.has_state(SpiffState.READY):
            continue   # the save below cancels it
        spec = task.task_spec
        extensions = getattr(spec, "extensions", {}) or {}
        group = assign(session, task).group
        if group != row.group_name and row.state == TaskState.CLAIMED:
            row.state, row.assignee = TaskState.READY, None
        row.bpmn_id, row.name, row.group_name = spec.bpmn_id, spec.bpmn_name or spec.bpmn_id, group
        row.form_file = extensions.get("formJsonSchemaFilename")
        row.ui_file = extensions.get("formUiSchemaFilename")
        row.instructions = extensions.get("instructionsForEndUser")
