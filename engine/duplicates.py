"""Duplicate requests: one is linked to a main request, and follows its answer.

A campus outage makes dozens of requests about one problem. Staff link each to the
main one (``request_fact.duplicate_of``); the duplicate's process then waits for the
main request instead of for its own team, and when the main request is answered the
answer goes to every linked request, each of which mails its own requester.

The engine's part is the link and three BPMN messages a process catches to take part
(user_support does):

- :data:`LINKED` (``duplicate``, payload ``{main_id, by}``): the request became a
  duplicate; its team's work stops (an interrupting boundary event) and it waits.
- :data:`MAIN_ANSWERED` (``main_answered``, payload ``{answer, main_id}``): the main
  request was answered; the duplicate answers its requester with the same text.
- :data:`UNLINKED` (``duplicate_unlinked``, payload ``{by}``): staff undid the link, or
  the main request ended without an answer; the duplicate goes back to its team.

Rules: a request is never its own duplicate; links are one level deep (a main request
is no one's duplicate, a duplicate has none of its own), both requests are of the same
process, the main one is still open and unanswered, and the duplicate must be waiting
in a team's queue (otherwise its process does not catch :data:`LINKED`). Unlinking
works while the duplicate still waits for the main request. Each step is in both
requests' audit histories (``request.duplicate_linked`` / ``request.duplicate_added``,
``request.duplicate_unlinked`` / ``request.duplicate_removed``).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, runtime
from .errors import ConflictError, NotFoundError, Problem, ValidationError
from .models import OPEN_STATUSES, ProcessInstance, RequestFact

LINKED = "duplicate"
MAIN_ANSWERED = "main_answered"
UNLINKED = "duplicate_unlinked"


def _refuse(message: str, code: str, **params) -> ValidationError:
    """A refused link; ``code`` and ``params`` let an edge word it in the reader's language."""
    return ValidationError(message, [Problem("main", message, code, params)])


def _fact(session: Session, instance_id: int) -> RequestFact:
    fact = session.get(RequestFact, instance_id)
    if fact is None:
        raise NotFoundError(f"no request {instance_id}")
    return fact


def main_of(session: Session, instance_id: int) -> ProcessInstance | None:
    """The main request ``instance_id`` is a duplicate of, or None."""
    fact = session.get(RequestFact, instance_id)
    return session.get(ProcessInstance, fact.duplicate_of) if fact and fact.duplicate_of else None


def duplicates_of(session: Session, instance_id: int) -> list[ProcessInstance]:
    """The requests linked to ``instance_id`` as its duplicates, oldest first."""
    return list(session.scalars(
        select(ProcessInstance).join(RequestFact, RequestFact.instance_id == ProcessInstance.id)
        .where(RequestFact.duplicate_of == instance_id).order_by(ProcessInstance.id)))


def link(session: Session, instance_id: int, main_id: int, *, actor: str) -> ProcessInstance:
    """Make request ``instance_id`` a duplicate of ``main_id``.

    :returns: the main request
    :raises ValidationError: a guard refuses the link (the message says which)
    :raises NotFoundError: the duplicate is not waiting in a team's queue
    """
    if instance_id == main_id:
        raise _refuse("a request cannot be a duplicate of itself", "self")
    fact, main_fact = _fact(session, instance_id), _fact(session, main_id)
    main = session.get(ProcessInstance, main_id)
    if fact.duplicate_of is not None:
        raise _refuse(f"request #{instance_id} is already a duplicate of #{fact.duplicate_of}",
                      "already_duplicate", main=fact.duplicate_of)
    if main_fact.duplicate_of is not None:
        raise _refuse(f"request #{main_id} is itself a duplicate of #{main_fact.duplicate_of}: "
                      f"link to #{main_fact.duplicate_of} instead", "chain", main=main_id,
                      root=main_fact.duplicate_of)
    if duplicates_of(session, instance_id):
        raise _refuse(f"request #{instance_id} has duplicates of its own; it cannot become one",
                      "has_duplicates")
    if main.process_key != fact.process_key:
        raise _refuse("both requests must be of the same process", "other_process")
    if main.status not in OPEN_STATUSES or main_fact.resolved_at is not None:
        raise _refuse(f"request #{main_id} is already answered or closed", "main_closed", main=main_id)
    runtime.deliver_message(session, LINKED, {"main_id": main_id, "by": actor}, instance_id=instance_id,
                            actor=actor)
    fact.duplicate_of = main_id
    audit.record(session, "request.duplicate_linked", actor=actor, instance_id=instance_id,
                 data={"main_id": main_id, "main_code": main.tracking_code})
    audit.record(session, "request.duplicate_added", actor=actor, instance_id=main_id,
                 data={"duplicate_id": instance_id})
    return main


def unlink(session: Session, instance_id: int, *, actor: str | None, reason: str = "") -> int:
    """Undo a duplicate link; the request goes back to its team.

    :returns: the id of the former main request
    :raises ConflictError: not a duplicate, or no longer waiting for its main request
    """
    fact = _fact(session, instance_id)
    main_id = fact.duplicate_of
    if main_id is None:
        raise ConflictError(f"request #{instance_id} is not a duplicate")
    try:
        runtime.deliver_message(session, UNLINKED, {"by": actor or "", "reason": reason},
                                instance_id=instance_id, actor=actor)
    except NotFoundError as exc:
        raise ConflictError(f"request #{instance_id} already has the answer of #{main_id}") from exc
    fact.duplicate_of = None
    data = {"main_id": main_id, "reason": reason} if reason else {"main_id": main_id}
    audit.record(session, "request.duplicate_unlinked", actor=actor, instance_id=instance_id, data=data)
    audit.record(session, "request.duplicate_removed", actor=actor, instance_id=main_id,
                 data={"duplicate_id": instance_id, **({"reason": reason} if reason else {})})
    return main_id


def _waiting(session: Session, main_id: int) -> list[int]:
    return [d.id for d in duplicates_of(session, main_id) if d.status in OPEN_STATUSES]


def answer_duplicates(session: Session, main_id: int, answer: str) -> list[int]:
    """The main request was answered: each duplicate still waiting for it gets ``answer``.

    :returns: the ids of the duplicates that took the answer
    """
    answered = []
    for duplicate_id in _waiting(session, main_id):
        try:
            runtime.deliver_message(session, MAIN_ANSWERED, {"answer": answer, "main_id": main_id},
                                    instance_id=duplicate_id)
        except NotFoundError:
            continue   # already answered earlier (the main one was reopened and answered again)
        answered.append(duplicate_id)
    return answered


def by_tracking_code(session: Session, code: str) -> ProcessInstance:
    """The request with this tracking code (staff choose a main request by it).

    :raises NotFoundError: no such request
    """
    code = (code or "").strip().lstrip("#").upper()
    instance = session.scalar(select(ProcessInstance).where(ProcessInstance.tracking_code == code)) if code else None
    if instance is None:
        raise NotFoundError(f"no request with tracking code {code!r}")
    return instance
