"""Keeping ``request_fact`` current: one summary row per request, for the reports.

The engine calls in here where things happen (start, save, a new human task, a
staff message, a rating), so the reports never restore a workflow. Each call
touches at most the one fact row, and only when something it records changed.

What the figures mean:

- **received**: the instance was started (``received_at`` = its ``created_at``).
  A period's figures are those of the requests *received* in it.
- **first answer**: the first public message staff wrote to the requester, or, if
  none came earlier, the first human task someone completed (for processes without a
  conversation, doing the first piece of work is the answer). The earlier of the two.
- **resolved**: the instance completed, or started waiting for the requester's
  ``reopen`` message (user_support's "answered, may still be reopened"). A reopening
  makes the request open again (``resolved_at`` cleared, ``reopened`` + 1); its next
  resolution sets ``resolved_at`` anew. A cancelled request is neither resolved nor
  open. Resolution time is received to the (last) resolution.
- **due** / **SLA met**: ``due_at`` is the due date of the request's first human task
  that has one (the first team's deadline). SLA met = the *first* resolution came by
  then; NULL while the request is unresolved, or when nothing was ever due.
- **team**: the group of the first human task; for user_support the group of its
  latest team task (``data.team``, which follows a recategorization). **category**:
  user_support's ``data.category``, else NULL.
- **call_outcome** (call_record): ``answered`` (solved, needs a unit, or out of
  remit), ``lost`` (lost in the queue or dropped), ``called_back`` (a lost call whose
  caller was reached on the call-back).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from . import search
from .models import InstanceStatus, ProcessInstance, RequestFact, utcnow

USER_SUPPORT = "user_support"
CALL_RECORD = "call_record"
REOPEN = "reopen"
ANSWERED_OUTCOMES = {"solved", "needs_unit", "not_our_remit"}
LOST_OUTCOMES = {"lost", "dropped"}


def _seconds(start: datetime, end: datetime) -> int:
    return max(0, round((end - start).total_seconds()))


def received(session: Session, instance: ProcessInstance, data: dict | None) -> RequestFact:
    """A new request: its fact row, before the instance's first save."""
    data = data or {}
    fact = RequestFact(
        instance_id=instance.id, process_key=instance.process_key, status=instance.status,
        received_at=instance.created_at or utcnow(), reopened=0,
    )
    if isinstance(data.get("subject"), str):
        fact.subject = data["subject"][:300]
    if instance.process_key == USER_SUPPORT and isinstance(data.get("category"), str):
        fact.category = data["category"][:200]
    if instance.process_key == CALL_RECORD:
        outcome = data.get("outcome")
        fact.call_outcome = ("answered" if outcome in ANSWERED_OUTCOMES
                             else "lost" if outcome in LOST_OUTCOMES else None)
    session.add(fact)
    search.received(session, instance, fact.subject, fact.category)
    return fact


def _set_first_answer(fact: RequestFact, when: datetime) -> None:
    if fact.first_answer_at is None or when < fact.first_answer_at:
        fact.first_answer_at = when
        fact.first_answer_seconds = _seconds(fact.received_at, when)


def _resolve(fact: RequestFact, when: datetime) -> None:
    if fact.resolved_at is not None:
        return
    fact.resolved_at = when
    fact.resolution_seconds = _seconds(fact.received_at, when)
    if fact.sla_met is None and fact.due_at is not None:
        fact.sla_met = when <= fact.due_at


def task_created(session: Session, instance: ProcessInstance, group: str, due_at: datetime | None,
                 task_data: dict) -> None:
    """A human task appeared: the team that works the request and the first due date."""
    fact = session.get(RequestFact, instance.id)
    if fact is None:
        return
    if fact.team is None or instance.process_key == USER_SUPPORT:
        fact.team = group[:100]
    if fact.due_at is None and due_at is not None:
        fact.due_at = due_at
    category = task_data.get("category") if instance.process_key == USER_SUPPORT else None
    if isinstance(category, str) and category and fact.category != category[:200]:
        fact.category = category[:200]
        search.refresh(session, instance.id)   # a recategorized request is found by its new category


def saved(session: Session, active, action: str, data, status_before: str, waits_before: set[str]) -> None:
    """After an instance's save: status, resolution, reopening, first answer, call-back.

    :param status_before: the instance's status when the command loaded it
    :param waits_before: the uuids of the message waits at the previous save
    """
    instance = active.instance
    data = data if isinstance(data, dict) else {}
    new_waits = set(active.previous.get("messages", ())) - waits_before
    reopened = action == "message.delivered" and data.get("message") == REOPEN
    completed_task = action == "task.completed"
    if not (instance.status != status_before or new_waits or reopened or completed_task
            or action == "instance.cancelled"):
        return   # the common step (e.g. a timer that changed nothing of this): no query
    fact = session.get(RequestFact, instance.id)
    if fact is None:
        return
    now = utcnow()
    fact.status = instance.status
    if reopened:
        fact.reopened = (fact.reopened or 0) + 1
        fact.resolved_at = fact.resolution_seconds = None
    if completed_task:
        _set_first_answer(fact, now)
        task_data = data.get("data") if isinstance(data.get("data"), dict) else {}
        if (instance.process_key == CALL_RECORD and data.get("bpmn_id") == "call_back"
                and task_data.get("callback_result") == "reached"):
            fact.call_outcome = "called_back"
    if instance.status == InstanceStatus.COMPLETED:
        _resolve(fact, instance.completed_at or now)
    elif new_waits and _waits_for_reopen(active.workflow, new_waits):
        _resolve(fact, now)


def _waits_for_reopen(workflow, uuids: set[str]) -> bool:
    from . import sync  # sync imports this module: a late import keeps the graph acyclic

    for task in workflow.event_manager.tasks.values():
        if str(task.id) in uuids and any(getattr(d, "name", None) == REOPEN
                                         for d in sync.event_parts(task.task_spec.event_definition)):
            return True
    return False


def answered(session: Session, instance_id: int, when: datetime) -> None:
    """Staff wrote a public message to the requester."""
    fact = session.get(RequestFact, instance_id)
    if fact is not None:
        _set_first_answer(fact, when)


def rated(session: Session, instance_id: int, score: int) -> None:
    """The requester rated the request (again: the last score counts)."""
    fact = session.get(RequestFact, instance_id)
    if fact is not None:
        fact.rating = score
