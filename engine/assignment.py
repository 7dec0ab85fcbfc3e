"""Which group works a user task.

In order: the task's ``candidateGroups`` property, else its lane's name. The property is
either an expression over the task's data giving one group slug (a DMN table or the help
desk picks the team: ``team``), or the unit-head form::

    unithead:FIELD

which names the head group of the unit written in the data field ``FIELD``. The portal
puts the requester's unit in ``unit``, so a process writes ``unithead:unit``. The unit is
looked up by its name in the units list (active or not) and its ``head_group`` works the
task, so a unit head sees and approves the requests of their own unit only. When the
field is empty, the unit is not in the list, or it has no head group, the task goes to
:data:`UNIT_HEAD_FALLBACK` (every unit head) and :func:`assign` says why, for the
request's history.

The group is decided once, when the task is created (and again when an instance moves to
another version); the inbox, the task page, the API and the CLI read it from the task
row, and claiming and completing follow it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from SpiffWorkflow.exceptions import SpiffWorkflowException
from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import WorkflowError
from .models import Group, OrgUnit

UNIT_HEAD_PREFIX = "unithead:"
UNIT_HEAD_FALLBACK = "unitheads"
_FIELD = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,99}")


class Fallback:
    """Why a unit head's task went to :data:`UNIT_HEAD_FALLBACK`."""

    NO_UNIT = "no_unit"                 # the request names no unit
    UNKNOWN_UNIT = "unknown_unit"       # the unit is not in the units list
    NO_HEAD_GROUP = "no_head_group"     # the unit has no head group


@dataclass(frozen=True)
class Assignment:
    """The group of a new task; ``unit`` and ``fallback`` only for the unit-head form."""

    group: str
    unit: str | None = None
    fallback: str | None = None


def unit_head_field(source: str) -> str | None:
    """The data field of a ``unithead:FIELD`` property, None when ``source`` is an expression.

    :raises ValueError: ``source`` starts with ``unithead:`` but names no field
    """
    source = (source or "").strip()
    if not source.startswith(UNIT_HEAD_PREFIX):
        return None
    field = source[len(UNIT_HEAD_PREFIX):].strip()
    if not _FIELD.fullmatch(field):
        raise ValueError(f"'{UNIT_HEAD_PREFIX}' must be followed by the name of a data field, e.g. "
                         f"'{UNIT_HEAD_PREFIX}unit', not {field!r}")
    return field


def assign(session: Session, task) -> Assignment:
    """The group that works the SpiffWorkflow user task ``task`` (see the module's text).

    :raises WorkflowError: the expression fails or gives no single group name, or the task
        has neither ``candidateGroups`` nor a lane
    """
    spec = task.task_spec
    properties = (getattr(spec, "extensions", {}) or {}).get("properties", {}) or {}
    source = properties.get("candidateGroups")
    if source and source.strip():
        try:
            field = unit_head_field(source)
        except ValueError as exc:
            raise WorkflowError(f"{spec.bpmn_id}: candidateGroups: {exc}") from exc
        if field is not None:
            return unit_head(session, task.data.get(field))
        return Assignment(_one_group(spec.bpmn_id, _evaluate(task, source)))
    if spec.lane:
        return Assignment(spec.lane)
    raise WorkflowError(f"{spec.bpmn_id}: user task has no lane and no candidateGroups")


def unit_head(session: Session, unit) -> Assignment:
    """The head group of the unit named ``unit``, or the fallback and why."""
    name = unit.strip() if isinstance(unit, str) else ""
    if not name:
        return Assignment(UNIT_HEAD_FALLBACK, None, Fallback.NO_UNIT)
    found = session.execute(
        select(OrgUnit.id, Group.slug).outerjoin(Group, Group.id == OrgUnit.head_group_id)
        .where(OrgUnit.name == name)).first()
    if found is None:
        return Assignment(UNIT_HEAD_FALLBACK, name, Fallback.UNKNOWN_UNIT)
    if found.slug is None:
        return Assignment(UNIT_HEAD_FALLBACK, name, Fallback.NO_HEAD_GROUP)
    return Assignment(found.slug, name)


def _one_group(bpmn_id: str, value) -> str:
    if isinstance(value, list | tuple) and len(value) == 1:
        value = value[0]
    if not isinstance(value, str) or not value.strip():
        raise WorkflowError(f"{bpmn_id}: candidateGroups must give one group name, got {value!r}")
    return value.strip()


def _evaluate(task, expression: str):
    try:
        return task.workflow.script_engine.evaluate(task, expression)
    except SpiffWorkflowException as exc:
        raise WorkflowError(f"{task.task_spec.bpmn_id}: candidateGroups failed: {exc}") from exc
