"""Linked requests: a request that starts another one, and hears when it ends.

A service task with the built-in operator ``start_request`` (parameters ``process``, a
catalog key, and ``data``, the start data) starts the newest deployed version of that
process as a CHILD of the running instance, in the job's transaction, through
:func:`engine.runtime.start_instance` (so its start schema and rules are checked as at any
door). The link is kept in ``instance_link`` and told in both histories
(``linked.started`` on the parent, ``linked.started_by`` on the child). The operator
returns ``{"started": True, "instance_id", "tracking_code"}``, or ``{"started": False,
"reason": "not_deployed"}`` when no version of the process is deployed (a drawing not yet
executable is never deployed), so that the model can route to a manual task instead.
Start data the child refuses fails the service job at once, its message naming the fields.

The child inherits the parent's requester (``request_contact``) when its data names none,
so the requester follows it on the tracking page with the same e-mail.

When a child ends (completed or cancelled), a parent that waits for the message
``linked_request_done`` (receive task, intermediate catch event, event-based gateway)
gets ``{"process", "tracking_code", "status", "outcome"}`` in the same transaction as
the child's last save (:func:`saved`, called by every save). ``outcome`` is the
``requesterOutcome`` of the end event the child reached, else that end event's id
(``"cancelled"`` for a cancelled child). A parent not waiting is left alone: the link
and both histories still tell how the child ended.

A child may end inside its parent's own command (it ends at once when started): the
parent's workflow is in the middle of that command then, so the news waits in the
session until the parent's save (:func:`saved` too) and is delivered right after it,
if the parent then waits for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.util.task import TaskState as SpiffState
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, conversation, definitions, requester_status, runtime
from .errors import ConflictError, EngineError, NotFoundError, ValidationError, WorkflowError
from .models import InstanceLink, InstanceStatus, MessageSubscription, ProcessInstance, RequestContact

MESSAGE = "linked_request_done"
NOT_DEPLOYED = "not_deployed"
ENDED = (InstanceStatus.COMPLETED, InstanceStatus.CANCELLED)
_BUSY = "sek.linked.busy"          # session.info: parents whose command is starting a child now
_PENDING = "sek.linked.pending"    # session.info: parent id -> news of children that ended meanwhile


class StartRefusedError(WorkflowError):
    """The started process refused the start data: retrying the same data cannot help."""

    permanent = True


@dataclass(frozen=True)
class Relative:
    """A parent or child request, as a page lists it."""

    instance: ProcessInstance
    bpmn_id: str


def start_request_operator(ctx, process: str, data: dict | None = None) -> dict:
    """Built-in service operator ``start_request``: start ``process`` as a child (module doc)."""
    session, parent_id = ctx.session, ctx.instance_id
    bpmn_id = getattr(ctx, "bpmn_id", None) or ""
    if data is not None and not isinstance(data, dict):
        raise StartRefusedError(f"{bpmn_id}: start_request: data must be a dict, not {type(data).__name__}")
    try:
        definitions.get_definition(session, str(process))
    except NotFoundError:
        audit.record(session, "linked.not_started", actor=None, instance_id=parent_id,
                     data={"process": process, "bpmn_id": bpmn_id, "reason": NOT_DEPLOYED})
        return {"started": False, "reason": NOT_DEPLOYED}
    busy = session.info.setdefault(_BUSY, set())
    busy.add(parent_id)
    try:
        child = runtime.start_instance(session, str(process), data=data or {}, actor=None)
    except ValidationError as exc:
        detail = "; ".join(str(problem) for problem in exc.problems) or str(exc)
        raise StartRefusedError(f"{bpmn_id}: {process} refused the start data: {detail}") from exc
    finally:
        busy.discard(parent_id)
    session.add(InstanceLink(parent_id=parent_id, child_id=child.id, bpmn_id=bpmn_id))
    _inherit_contact(session, parent_id, child.id, data or {}, ctx.data)
    parent = session.get(ProcessInstance, parent_id)
    audit.record(session, "linked.started", actor=None, instance_id=parent_id, data={
        "child_id": child.id, "process": process, "tracking_code": child.tracking_code, "bpmn_id": bpmn_id})
    audit.record(session, "linked.started_by", actor=None, instance_id=child.id, data={
        "parent_id": parent_id, "process": parent.process_key, "tracking_code": parent.tracking_code,
        "bpmn_id": bpmn_id})
    if child.status in ENDED:   # ended at once: the parent hears it after its own save
        with runtime.reading(session, child.id) as active:
            session.info.setdefault(_PENDING, {}).setdefault(parent_id, []).append((child.id, news_of(active)))
    return {"started": True, "instance_id": child.id, "tracking_code": child.tracking_code}


def _inherit_contact(session: Session, parent_id: int, child_id: int, data: dict, parent_data: dict) -> None:
    if conversation.contact_of(session, child_id) is not None:
        return
    email = str(data.get("requester_email") or "").strip()
    if email:
        conversation.record_contact(session, child_id, name=str(data.get("requester") or ""), email=email,
                                    locale=str(data.get("locale") or "tr"))
        return
    parent = conversation.contact_of(session, parent_id)
    if parent is not None:
        conversation.record_contact(session, child_id, name=parent.name, email=parent.email,
                                    national_id=parent.national_id, unit=parent.unit, phone=parent.phone,
                                    locale=parent.locale)
        return
    email = str(parent_data.get("requester_email") or "").strip()
    if email:
        conversation.record_contact(session, child_id, name=str(parent_data.get("requester") or ""),
                                    email=email, locale=str(parent_data.get("locale") or "tr"))


def news_of(active) -> dict:
    """The payload of ``linked_request_done`` for an ended instance."""
    instance, end = active.instance, None
    for task in active.workflow.tasks.values():
        if isinstance(task.task_spec, EndEvent) and task.state == SpiffState.COMPLETED and (
                end is None or task.last_state_change > end.last_state_change):
            end = task
    if end is not None:
        outcome = requester_status.properties_of(end.task_spec).get(requester_status.OUTCOME) or end.task_spec.bpmn_id
    else:
        outcome = str(instance.status)
    return {"process": instance.process_key, "tracking_code": instance.tracking_code,
            "status": str(instance.status), "outcome": outcome}


def _waiting(session: Session, parent_id: int) -> bool:
    return session.scalar(select(MessageSubscription.id).where(
        MessageSubscription.instance_id == parent_id, MessageSubscription.message_name == MESSAGE).limit(1)) is not None


def _deliver(session: Session, parent_id: int, news: dict) -> None:
    """Tell a waiting parent; a parent whose next steps fail goes into error, the child's
    command does not (the failure is the parent's to mend)."""
    if not _waiting(session, parent_id):
        return
    try:
        with session.begin_nested():
            runtime.deliver_message(session, MESSAGE, news, instance_id=parent_id)
    except ConflictError:
        raise   # a worker holds the parent right now: the whole command is tried again
    except EngineError as exc:
        parent = session.get(ProcessInstance, parent_id)
        if parent is not None:
            parent.status, parent.error_message = InstanceStatus.ERROR, f"{MESSAGE}: {exc}"
        audit.record(session, "linked.delivery_failed", actor=None, instance_id=parent_id,
                     data={**news, "error": str(exc)})


def saved(session: Session, active, *, ended_before: bool) -> None:
    """Called at the end of every save: a child that just ended tells its parent; a parent
    that just saved hears of the children that ended inside its command.

    :param ended_before: whether the instance had ended before this save (a cancel sets
        the status before it saves, so the end time tells)
    """
    instance = active.instance
    if instance.status in ENDED and not ended_before:
        parent_id = session.scalar(select(InstanceLink.parent_id).where(InstanceLink.child_id == instance.id))
        if parent_id is not None:
            news = news_of(active)
            if parent_id in session.info.get(_BUSY, ()):
                session.info.setdefault(_PENDING, {}).setdefault(parent_id, []).append((instance.id, news))
            else:
                _deliver(session, parent_id, news)
    pending = session.info.get(_PENDING)
    if pending and instance.id in pending and instance.id not in session.info.get(_BUSY, ()):
        for child_id, news in pending.pop(instance.id):
            # a child whose start was rolled back (its job failed after it) is no news
            if session.get(ProcessInstance, child_id) is not None:
                _deliver(session, instance.id, news)


def parent_of(session: Session, instance_id: int) -> Relative | None:
    row = session.execute(select(ProcessInstance, InstanceLink.bpmn_id)
                          .join(InstanceLink, InstanceLink.parent_id == ProcessInstance.id)
                          .where(InstanceLink.child_id == instance_id)).first()
    return Relative(row[0], row[1]) if row else None


def children_of(session: Session, instance_id: int) -> list[Relative]:
    rows = session.execute(select(ProcessInstance, InstanceLink.bpmn_id)
                           .join(InstanceLink, InstanceLink.child_id == ProcessInstance.id)
                           .where(InstanceLink.parent_id == instance_id).order_by(InstanceLink.id))
    return [Relative(instance, bpmn_id) for instance, bpmn_id in rows]


def children_for_requester(session: Session, instance_id: int, email: str) -> list[ProcessInstance]:
    """The children of a request the same requester (by e-mail) asked for: what the
    tracking page may show them."""
    key = (email or "").strip().lower()
    return list(session.scalars(
        select(ProcessInstance).join(InstanceLink, InstanceLink.child_id == ProcessInstance.id)
        .join(RequestContact, RequestContact.instance_id == ProcessInstance.id)
        .where(InstanceLink.parent_id == instance_id, RequestContact.email_key == key)
        .order_by(InstanceLink.id)))
