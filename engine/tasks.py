"""Claiming and completing user tasks, and listing them from ``human_task``."""

from __future__ import annotations

from SpiffWorkflow.util.task import TaskState as SpiffState
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from . import assets, audit, form_rules, forms, runtime, textinput
from .errors import ConflictError, NotFoundError, PermissionDeniedError, Problem, ValidationError
from .models import OPEN_TASK_STATES, Group, HumanTask, ProcessInstance, TaskState, User, utcnow

STATE_FILTERS = {
    "ready": (TaskState.READY,),
    "claimed": (TaskState.CLAIMED,),
    "open": OPEN_TASK_STATES,
    "completed": (TaskState.COMPLETED,),
    "cancelled": (TaskState.CANCELLED,),
    "all": None,
}


def task_dict(task: HumanTask) -> dict:
    """The stable JSON shape of a task (``sek tasks --json``, the API)."""
    return {
        "id": task.id,
        "instance_id": task.instance_id,
        "bpmn_id": task.bpmn_id,
        "name": task.name,
        "group": task.group_name,
        "assignee": task.assignee,
        "state": task.state,
    }


def list_tasks(session: Session, *, group: str | None = None, state: str = "ready",
               user: User | None = None, limit: int = 1000) -> list[HumanTask]:
    """Tasks by group and state; with ``user``, only those of the user's groups."""
    if state not in STATE_FILTERS:
        raise ValidationError(f"unknown state {state!r}", [])
    query = select(HumanTask).order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.id)
    if STATE_FILTERS[state] is not None:
        query = query.where(HumanTask.state.in_(STATE_FILTERS[state]))
    if group is not None:
        query = query.where(HumanTask.group_name == group)
    if user is not None and not user.has_role("admin"):
        query = query.where(HumanTask.group_name.in_(user.group_slugs))
    return list(session.scalars(query.limit(limit)))


def get_task(session: Session, task_id: int) -> HumanTask:
    task = session.get(HumanTask, task_id)
    if task is None:
        raise NotFoundError(f"no task {task_id}")
    return task


def _check_member(task: HumanTask, user: User) -> None:
    if not user.active:
        raise PermissionDeniedError(f"user {user.username} is deactivated")
    if user.has_role("admin"):
        return
    if task.group_name not in user.group_slugs:
        raise PermissionDeniedError(f"task {task.id} belongs to group {task.group_name}, "
                                    f"and {user.username} is not a member")


def _check_open(task: HumanTask) -> None:
    if task.state not in OPEN_TASK_STATES:
        raise ConflictError(f"task {task.id} is no longer open (it is {task.state})")


def _task_for_change(session: Session, task_id: int) -> tuple[HumanTask, ProcessInstance]:
    # The task and its instance's revision come from ONE statement, so they are one snapshot:
    # a claim committed before it shows in the task, one committed after it has bumped the
    # revision and makes this command's own bump fail (ConflictError). Reading the task first
    # and the revision in a later statement let two claimers both find the task free.
    # populate_existing: a task the request already loaded may be stale. The caller keeps the
    # instance (the session holds it weakly): loaded again later, it would carry a newer revision.
    row = session.execute(
        select(HumanTask, ProcessInstance)
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(HumanTask.id == task_id)
        .execution_options(populate_existing=True)
    ).first()
    if row is None:
        raise NotFoundError(f"no task {task_id}")
    return row[0], row[1]


def claim_task(session: Session, task_id: int, user: User) -> HumanTask:
    """Take an unclaimed task of one of the user's groups.

    :raises ConflictError: claimed by someone else, no longer open, or changed meanwhile
    """
    task, instance = _task_for_change(session, task_id)
    _check_member(task, user)
    _check_open(task)
    if task.assignee == user.username:
        return task
    if task.assignee is not None:
        raise ConflictError(f"task {task.id} is already claimed by {task.assignee}")
    _touch_instance(session, task, instance)
    task.assignee, task.state = user.username, TaskState.CLAIMED
    audit.record(session, "task.claimed", actor=user.username, instance_id=task.instance_id,
                 data={"task_id": task.id, "bpmn_id": task.bpmn_id})
    return task


def unclaim_task(session: Session, task_id: int, user: User) -> HumanTask:
    """Give a claimed task back to its group (the assignee, or an admin)."""
    task, instance = _task_for_change(session, task_id)
    _check_member(task, user)
    _check_open(task)
    if task.assignee is None:
        return task
    if task.assignee != user.username and not user.has_role("admin"):
        raise PermissionDeniedError(f"task {task.id} is claimed by {task.assignee}")
    _touch_instance(session, task, instance)
    before = task.assignee
    task.assignee, task.state = None, TaskState.READY
    audit.record(session, "task.unclaimed", actor=user.username, instance_id=task.instance_id,
                 data={"task_id": task.id, "before": before})
    return task


def reassign_task(session: Session, task_id: int, assignee: str, actor: User) -> HumanTask:
    """Give an open task to a member of its group (admins only, DESIGN.md "Assignment").

    :raises PermissionDeniedError: the actor is not an admin
    :raises ValidationError: the new assignee is unknown, inactive or not in the task's group
    """
    if not actor.active or not actor.has_role("admin"):
        raise PermissionDeniedError("only admins can reassign tasks")
    task, instance = _task_for_change(session, task_id)
    _check_open(task)
    target = session.scalar(select(User).where(User.username == assignee))
    if target is None or not target.active or task.group_name not in target.group_slugs:
        raise ValidationError("the task was not reassigned", [
            Problem("assignee", f"{assignee!r} is not an active member of group {task.group_name}")])
    if task.assignee == target.username:
        return task
    _touch_instance(session, task, instance)
    before = task.assignee
    task.assignee, task.state = target.username, TaskState.CLAIMED
    audit.record(session, "task.reassigned", actor=actor.username, instance_id=task.instance_id,
                 data={"task_id": task.id, "bpmn_id": task.bpmn_id, "before": before, "after": target.username})
    return task


def group_members(session: Session, group: str) -> list[str]:
    """Usernames of the active members of a group (the choices for reassignment)."""
    query = select(User.username).join(User.groups).where(Group.slug == group, User.active.is_(True))
    return sorted(session.scalars(query))


def _touch_instance(session: Session, task: HumanTask, instance: ProcessInstance) -> None:
    # Bump the instance revision (UPDATE ... WHERE revision = :rev, the lock every write of
    # the instance takes), so that claims race like completions: one wins, the others conflict.
    task_id = task.id
    instance.updated_at = utcnow()
    try:
        session.flush()
    except StaleDataError as exc:
        raise ConflictError(f"task {task_id} was claimed or changed by someone else meanwhile; "
                            "reload and try again") from exc


def task_instance(session: Session, task: HumanTask) -> ProcessInstance:
    return session.get(ProcessInstance, task.instance_id)


def complete_task(session: Session, task_id: int, user: User, data: dict | None = None) -> HumanTask:
    """Complete a task with form data, then run the process on to its next wait.

    Only the assignee may complete a claimed task; an unclaimed one can be completed
    by any member of its group (it is claimed on the way).

    :raises PermissionDeniedError: not the user's group, or claimed by someone else
    :raises ConflictError: no longer open, or someone else got there first
    :raises ValidationError: ``data`` does not satisfy the task's form or a rule of the
        process (:mod:`.form_rules`), or its text is refused (:mod:`.textinput`); values of
        fields the form's choices leave out are dropped (:func:`engine.forms.prepare`)
    """
    data = data or {}
    task, instance = _task_for_change(session, task_id)
    _check_member(task, user)
    _check_open(task)
    if task.assignee not in (None, user.username) and not user.has_role("admin"):
        raise PermissionDeniedError(f"task {task.id} is claimed by {task.assignee}")
    textinput.check(data)
    active = runtime.load_instance(session, instance.id)  # the instance read with the task
    # inventory numbers (UI widget "asset") must name registered assets: the registry's rule
    registry = assets.form_problems(session, active.definition.forms.get(task.ui_file) if task.ui_file else None,
                                    data if isinstance(data, dict) else {})
    if task.form_file:
        # the fields the chosen action leaves out are neither required nor stored
        try:
            data = forms.prepare(active.definition.forms[task.form_file], data)
        except ValidationError as exc:
            form_rules.check(task.process_key, task.bpmn_id, data, [*exc.problems, *registry])
            raise
    elif not isinstance(data, dict):
        raise ValidationError("task data must be a JSON object", [])
    form_rules.check(task.process_key, task.bpmn_id, data, registry)
    spiff_task = active.get_task(task.task_uuid)
    if not spiff_task.has_state(SpiffState.READY):
        raise ConflictError(f"task {task.id} is no longer open")
    clean = audit.to_json_value(data)
    spiff_task.data.update(clean)
    spiff_task.run()
    task.state, task.completed_by, task.completed_at = TaskState.COMPLETED, user.username, utcnow()
    task.assignee = task.assignee or user.username
    active.run_engine_steps()
    active.save(session, "task.completed", actor=user.username,
                data={"task_id": task.id, "bpmn_id": task.bpmn_id, "data": clean})
    return task
