"""Reading instances for people: who may see one, its data, tasks and timeline."""

from __future__ import annotations

import copy
from dataclasses import dataclass

from SpiffWorkflow.util.task import TaskState as SpiffState
from sqlalchemy import false, or_, select
from sqlalchemy.orm import Session

from . import definitions, runtime, start_forms
from .errors import NotFoundError, PermissionDeniedError
from .models import AuditEvent, HumanTask, ProcessDefinition, ProcessInstance, User

# Roles that read every instance (DESIGN.md: auditors and admins see all).
READ_ALL_ROLES = ("admin", "auditor")


def reads_all(user: User) -> bool:
    return any(role in (user.roles or []) for role in READ_ALL_ROLES)


class _Watchers:
    """Group slug -> the processes whose every instance its members see (owners, overseers)."""

    by_group: dict[str, frozenset[str]] = {}


def register_watchers(group: str, process_keys) -> None:
    """Let members of ``group`` see every instance of ``process_keys`` (the processes layer
    registers each process's owning group, and e.g. the help desk for user support)."""
    _Watchers.by_group = {**_Watchers.by_group,
                          group: _Watchers.by_group.get(group, frozenset()) | frozenset(process_keys)}


def _touched_by(user: User):
    """Instances whose tasks were in the user's groups, that the user worked or started,
    or of a process one of the user's groups watches."""
    task_filter = or_(HumanTask.assignee == user.username, HumanTask.completed_by == user.username)
    if user.group_slugs:
        task_filter = or_(task_filter, HumanTask.group_name.in_(sorted(user.group_slugs)))
    # EXISTS, correlated: checks the rows a query already narrowed (a search's matches, a
    # page of the newest), instead of collecting every task of the user's groups first.
    touched = select(HumanTask.id).where(HumanTask.instance_id == ProcessInstance.id, task_filter).exists()
    condition = or_(touched, ProcessInstance.started_by == user.username)
    watched = set().union(*(_Watchers.by_group.get(g, ()) for g in user.group_slugs)) if user.group_slugs else set()
    if watched:
        condition = or_(condition, ProcessInstance.process_key.in_(sorted(watched)))
    return condition


def visible_condition(user: User):
    """The rule of :func:`can_view` as a condition on ``ProcessInstance`` for a query of many
    (lists, search), or None when the user sees every instance. An inactive user sees none."""
    if not user.active:
        return false()
    return None if reads_all(user) else _touched_by(user)


def can_view(session: Session, user: User, instance: ProcessInstance) -> bool:
    """Auditors and admins see every instance; staff those their groups touched."""
    if not user.active:
        return False
    if reads_all(user):
        return True
    query = select(ProcessInstance.id).where(ProcessInstance.id == instance.id, _touched_by(user))
    return session.scalar(query) is not None


def get_visible(session: Session, user: User, instance_id: int) -> ProcessInstance:
    """The instance, if the user may see it.

    :raises NotFoundError: no such instance
    :raises PermissionDeniedError: it exists but is not the user's to see
    """
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFoundError(f"no instance {instance_id}")
    if not can_view(session, user, instance):
        raise PermissionDeniedError(f"instance {instance_id} is not visible to {user.username}")
    return instance


def list_visible(session: Session, user: User, *, tracking_code: str | None = None,
                 status: str | None = None, limit: int = 50, offset: int = 0) -> list[ProcessInstance]:
    """The newest instances the user may see, optionally by tracking code or status."""
    query = select(ProcessInstance).order_by(ProcessInstance.id.desc())
    visible = visible_condition(user)
    if visible is not None:
        query = query.where(visible)
    if tracking_code:
        query = query.where(ProcessInstance.tracking_code == tracking_code.strip().upper())
    if status:
        query = query.where(ProcessInstance.status == status)
    return list(session.scalars(query.limit(limit).offset(offset)))


def version_of(session: Session, instance: ProcessInstance) -> int:
    return session.scalar(select(ProcessDefinition.version)
                          .where(ProcessDefinition.id == instance.definition_id))


def tasks_of(session: Session, instance_id: int) -> list[HumanTask]:
    """Every user task of an instance, open and finished, oldest first."""
    return list(session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id)
                                .order_by(HumanTask.created_at, HumanTask.id)))


def events_of(session: Session, instance_id: int) -> list[AuditEvent]:
    """The instance's audit timeline, oldest first."""
    return list(session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance_id)
                                .order_by(AuditEvent.seq)))


def current_data(session: Session, instance_id: int) -> dict:
    """The process data as it stands: the data of the open tasks, else of the last finished one."""
    with runtime.reading(session, instance_id) as active:
        workflow = active.workflow
        data: dict = {}
        open_states = SpiffState.READY | SpiffState.WAITING | SpiffState.STARTED
        latest, latest_at = None, -1.0
        for wf in (workflow, *workflow.subprocesses.values()):
            for task in wf.tasks.values():
                if task.has_state(open_states) and task.task_spec.manual:
                    data.update(task.data)
                elif task.has_state(SpiffState.COMPLETED) and task.last_state_change > latest_at:
                    latest, latest_at = task, task.last_state_change
        if not data:
            data = dict(workflow.data) or (dict(latest.data) if latest is not None else {})
        return visible_data(data)


def task_data(session: Session, task: HumanTask) -> dict:
    """The data a user task sees (what the form is filled with and the context shown)."""
    with runtime.reading(session, task.instance_id) as active:
        return visible_data(active.get_task(task.task_uuid).data)


def visible_data(data: dict) -> dict:
    """Process data without engine-internal keys (those starting with ``_``)."""
    return {key: value for key, value in data.items() if not str(key).startswith("_")}


@dataclass(frozen=True)
class TaskForm:
    """What a task page needs to render its form."""

    schema: dict | None
    ui_schema: dict | None


def task_form(session: Session, task: HumanTask) -> TaskForm:
    """The task's JSON Schema form and UI schema, from its definition version."""
    instance = session.get(ProcessInstance, task.instance_id)
    forms = definitions.load_by_id(session, instance.definition_id).forms
    return TaskForm(forms.get(task.form_file) if task.form_file else None,
                    forms.get(task.ui_file) if task.ui_file else None)



def process_forms(session: Session, instance: ProcessInstance) -> list[dict]:
    """The JSON Schema forms of the instance's version: its complete start schema first
    (:mod:`engine.start_forms`), then every task form, by file name."""
    loaded = definitions.load_by_id(session, instance.definition_id)
    start, _ui = start_forms.complete(instance.process_key, copy.deepcopy(loaded.start_form),
                                      copy.deepcopy(loaded.start_ui))
    others = [schema for _name, schema in sorted(loaded.forms.items())
              if isinstance(schema, dict) and "properties" in schema and schema is not loaded.start_form]
    return [schema for schema in (start, *others) if schema]
