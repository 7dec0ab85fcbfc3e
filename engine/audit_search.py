"""What an auditor looks for: instances by process, version, status, period, category,
team, requester and actor, and one instance's history with the data each event changed.

Read-only plain functions over a :class:`Session`; the audit pages and tests call them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from .models import AuditEvent, HumanTask, ProcessDefinition, ProcessInstance, RequestContact

# Events whose data carry the request's category: the start form, a help-desk move
# (message ``recategorize``) and a task form that sets it.
_CATEGORY_ACTIONS = ("instance.started", "message.delivered", "task.completed")


@dataclass(frozen=True)
class InstanceFilter:
    """Search criteria; ``None`` or empty means "any". ``created_to`` is exclusive."""

    process_key: str | None = None
    version: int | None = None
    status: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    category: str | None = None
    team: str | None = None
    requester: str | None = None
    actor: str | None = None


@dataclass(frozen=True)
class InstanceRow:
    id: int
    tracking_code: str
    process_key: str
    version: int
    status: str
    created_at: datetime
    requester: str | None
    category: str | None


def _category_of_event():
    return func.coalesce(AuditEvent.data[("payload", "category")].as_string(),
                         AuditEvent.data[("data", "category")].as_string())


def current_category():
    """A correlated scalar subquery: the category the instance's latest event set."""
    category = _category_of_event()
    return (select(category)
            .where(AuditEvent.instance_id == ProcessInstance.id, AuditEvent.action.in_(_CATEGORY_ACTIONS),
                   category.is_not(None))
            .order_by(AuditEvent.id.desc()).limit(1).scalar_subquery())


def search_instances(session: Session, criteria: InstanceFilter, *, limit: int = 50,
                     offset: int = 0) -> list[InstanceRow]:
    """Instances matching every given criterion, newest first.

    :param criteria: the requester matches the contact's name or e-mail (part of it, any
        case); the actor matches an event's actor exactly; the team is any task's group
    """
    category = current_category().label("category")
    query = (select(ProcessInstance, ProcessDefinition.version, RequestContact.name, category)
             .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
             .outerjoin(RequestContact, RequestContact.instance_id == ProcessInstance.id)
             .order_by(ProcessInstance.id.desc()))
    c = criteria
    if c.process_key:
        query = query.where(ProcessInstance.process_key == c.process_key)
    if c.version is not None:
        query = query.where(ProcessDefinition.version == c.version)
    if c.status:
        query = query.where(ProcessInstance.status == c.status)
    if c.created_from is not None:
        query = query.where(ProcessInstance.created_at >= c.created_from)
    if c.created_to is not None:
        query = query.where(ProcessInstance.created_at < c.created_to)
    if c.category:
        query = query.where(current_category() == c.category)
    if c.team:
        query = query.where(exists().where(HumanTask.instance_id == ProcessInstance.id,
                                           HumanTask.group_name == c.team))
    if c.requester:
        term = c.requester.strip().lower()
        query = query.where(or_(func.lower(RequestContact.name).contains(term, autoescape=True),
                                RequestContact.email_key.contains(term, autoescape=True)))
    if c.actor:
        query = query.where(exists().where(AuditEvent.instance_id == ProcessInstance.id,
                                           AuditEvent.actor == c.actor.strip()))
    rows = session.execute(query.limit(limit).offset(offset))
    return [InstanceRow(i.id, i.tracking_code, i.process_key, version, i.status, i.created_at, name, cat)
            for i, version, name, cat in rows]


@dataclass(frozen=True)
class Change:
    """One field an event changed; ``before`` is None when the field was new."""

    field: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class HistoryEntry:
    """An event of the history, with the fields it changed and its other data."""

    event: AuditEvent
    changes: list[Change] = field(default_factory=list)
    other: dict[str, str] = field(default_factory=dict)


def as_text(value) -> str | None:
    """A data value as one readable string (JSON for lists and objects)."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _diff(known: dict, submitted: dict) -> list[Change]:
    changes = []
    for key in sorted(submitted):
        before, after = known.get(key), submitted[key]
        if key not in known or before != after:
            changes.append(Change(str(key), as_text(before) if key in known else None, as_text(after)))
        known[key] = after
    return changes


def _pair_changes(before, after) -> list[Change]:
    if isinstance(before, dict) and isinstance(after, dict):
        return [Change(str(k), as_text(before.get(k)), as_text(after.get(k)))
                for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)]
    return [Change("", as_text(before), as_text(after))]


def describe_history(events: list[AuditEvent]) -> list[HistoryEntry]:
    """Each event with what it changed: submitted form data against the values known
    before it (start data, completed tasks, delivered messages), or the ``before``/``after``
    (``from``/``to``) pair an event records itself."""
    known: dict = {}
    entries = []
    for event in events:
        data = dict(event.data or {})
        changes: list[Change] = []
        for key_before, key_after in (("before", "after"), ("from", "to")):
            if key_before in data and key_after in data:
                changes = _pair_changes(data.pop(key_before), data.pop(key_after))
                break
        submitted_key = {"instance.started": "data", "task.completed": "data",
                         "message.delivered": "payload"}.get(event.action)
        if submitted_key and isinstance(data.get(submitted_key), dict):
            changes = _diff(known, data.pop(submitted_key))
        entries.append(HistoryEntry(event, changes, {str(k): as_text(v) for k, v in sorted(data.items())}))
    return entries


def instance_history(session: Session, instance_id: int) -> list[HistoryEntry]:
    """The instance's whole audit chain, oldest first, described with :func:`describe_history`."""
    events = session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance_id)
                             .order_by(AuditEvent.seq))
    return describe_history(list(events))


def known_teams(session: Session) -> list[str]:
    """Every group a task was ever assigned to, for the search form."""
    return sorted(g for g in session.scalars(select(HumanTask.group_name).distinct()) if g)


def known_processes(session: Session) -> list[str]:
    """Every process key that has instances, for the search form."""
    return sorted(session.scalars(select(ProcessInstance.process_key).distinct()))
