"""A request's priority and what it does to the due dates of its human tasks.

The one rule (every due date below is where a task's due lands; the inbox sorts by it):

- **normal**: the process's own due date (the task's ``dueIn``; user_support: the
  routing table's working days).
- **high**: one working day (:func:`engine.workdays.add_working_days`), never later
  than the normal due date.
- **urgent**: four working hours (08:30-17:30 of working days,
  :func:`engine.workdays.add_working_hours`), never later than the normal due date.
- **low**: twice the process's time: the normal due date moves as far again past
  it as it lies after the task appeared. A task with no due date keeps none.

High and urgent count from when the task appeared, or from when the priority was
raised if that is later (raising an old request gives the team its hours from now, not
an instant overdue mark).

Who sets it: staff (the help desk, from its task or the request page:
:func:`set_priority`), or the process itself through its data: a task that appears
while its instance's data holds ``priority`` (user_support's routing table has that
column) sets the request's priority if it is still the default, ``normal``, so a staff
member's choice is never overridden. Every change is in the audit history
(``request.priority``, with each moved due date).

What this does not move: a process's own timers. The task's due date is the team's
target (the inbox's order and overdue mark, the assignee's overdue notice); a timer in
the diagram is the process's own rule (user_support's escalation to the team lead
still fires at the routing table's due date, the department's SLA).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from . import audit, runtime, sync
from .errors import ConflictError, Problem, ValidationError
from .models import OPEN_TASK_STATES, PRIORITIES, HumanTask, RequestFact, utcnow
from .workdays import add_working_days, add_working_hours

DEFAULT = "normal"
URGENT_HOURS = 4
HIGH_DAYS = 1
LOW_FACTOR = 2


def due_for(priority: str, appeared: datetime, normal_due: datetime | None,
            since: datetime | None = None) -> datetime | None:
    """A task's due date under ``priority`` (the rule in this module's docstring).

    :param appeared: when the task appeared
    :param normal_due: its due date by the process alone (``dueIn``), or None
    :param since: when the priority was raised, if after the task appeared
    """
    start = max(appeared, since) if since is not None else appeared
    if priority == "urgent":
        due = add_working_hours(start, URGENT_HOURS)
    elif priority == "high":
        due = add_working_days(start, HIGH_DAYS)
    elif priority == "low":
        return appeared + (normal_due - appeared) * LOW_FACTOR if normal_due is not None else None
    else:
        return normal_due
    return min(due, normal_due) if normal_due is not None else due


def for_new_task(session: Session, active, task_data: dict) -> str:
    """The priority a new human task of ``active``'s instance is due by; applies the
    process's own ``priority`` (its data) while the request's is still the default
    (the change is recorded after the save's own audit event)."""
    instance = active.instance
    fact = session.get(RequestFact, instance.id)
    if fact is None:
        return DEFAULT
    wanted = task_data.get("priority") if isinstance(task_data, dict) else None
    current = fact.priority or DEFAULT
    if wanted in PRIORITIES and wanted != current and current == DEFAULT:
        fact.priority = wanted
        active.derived_events.append(("request.priority", {"before": current, "after": wanted, "by": "process"}))
        return wanted
    return current


def set_priority(session: Session, instance_id: int, priority: str, *, actor: str) -> list[HumanTask]:
    """Give a request ``priority`` and move the due dates of its open human tasks.

    The request's first due date (``request_fact.due_at``, see :mod:`engine.facts`)
    follows its first task while that task is still open.

    :returns: the open tasks whose due date was looked at
    :raises ValidationError: not one of :data:`engine.models.PRIORITIES`
    :raises ConflictError: the request is closed, or changed meanwhile
    :raises NotFoundError: no such instance
    """
    if priority not in PRIORITIES:
        raise ValidationError("unknown priority", [Problem("priority", f"one of {', '.join(PRIORITIES)}")])
    with runtime.reading(session, instance_id) as active:
        instance = active.instance
        fact = session.get(RequestFact, instance_id)
        if fact is None or instance.status in ("completed", "cancelled"):
            raise ConflictError(f"request {instance_id} is closed; its priority no longer matters")
        before = fact.priority or DEFAULT
        if before == priority:
            return []
        rows = list(session.scalars(select(HumanTask).where(
            HumanTask.instance_id == instance_id, HumanTask.state.in_(OPEN_TASK_STATES)).order_by(HumanTask.id)))
        now = utcnow()
        moved = []
        for row in rows:
            normal = sync.normal_due(active.get_task(row.task_uuid), row.created_at)
            due = due_for(priority, row.created_at, normal, since=now)
            if due != row.due_at:
                moved.append({"task_id": row.id, "before": _iso(row.due_at), "after": _iso(due)})
                row.due_at = due
        first = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                       HumanTask.due_at.is_not(None)).order_by(HumanTask.id).limit(1))
        if first is not None and first in rows and fact.resolved_at is None and not fact.reopened:
            fact.due_at = first.due_at
        fact.priority = priority
        instance.updated_at = now   # the instance's revision lock: a racing command conflicts
        try:
            session.flush()
        except StaleDataError as exc:
            raise ConflictError("the request changed meanwhile; reload and try again") from exc
        audit.record(session, "request.priority", actor=actor, instance_id=instance_id,
                     data={"before": before, "after": priority, "tasks": moved})
    return rows


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
