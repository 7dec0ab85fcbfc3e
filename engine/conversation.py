"""A request as its requester sees it: who asked, the public conversation, internal
notes, and what the requester may do next (answer a question, reopen, rate).

The requester has no account; their answers reach the process as BPMN messages
(``requester_reply``, ``reopen``) delivered to the instance that waits for them.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, facts, runtime, search, textinput
from .errors import ConflictError, Problem, ValidationError
from .models import (
    OPEN_STATUSES,
    AuthorKind,
    InstanceStatus,
    Job,
    JobKind,
    JobState,
    MessageSubscription,
    ProcessInstance,
    RequestContact,
    RequestMessage,
    ServiceRating,
)

# The messages a process catches from its requester (user_support names them so; a
# process that wants the tracking page's reply or reopen button uses the same names).
REPLY = "requester_reply"
REOPEN = "reopen"
# backup_restore waits for the requester's check of the restored data: {ok: bool, note: str}.
RESTORE_CONFIRMED = "restore_confirmed"
# software_maintenance waits for the requester's acceptance test of a fix: the same payload.
ACCEPTANCE_CONFIRMED = "acceptance_confirmed"
# The requester's confirmations the tracking page can send, in the order they are looked for.
CONFIRMATIONS = (RESTORE_CONFIRMED, ACCEPTANCE_CONFIRMED)
BODY_MAX = 10000
NOTE_MAX = 4000
COMMENT_MAX = 2000


class Stage(enum.StrEnum):
    """Where a request stands, as its requester is told (never "error": a failed step is
    the staff's business, for the requester the request is still being worked on)."""

    IN_PROGRESS = "in_progress"
    WAITING_FOR_YOU = "waiting_for_you"     # the team asked a question
    CONFIRM = "confirm"                     # check a restore and confirm it
    RESOLVED = "resolved"                   # answered; may still be reopened
    CLOSED = "closed"


def record_contact(session: Session, instance_id: int, *, name: str, email: str, national_id: str | None = None,
                   unit: str | None = None, phone: str | None = None, locale: str = "tr") -> RequestContact:
    """Keep who asked for a request, and in which language to write to them."""
    contact = RequestContact(instance_id=instance_id, name=name.strip(), email=email.strip(),
                             email_key=email.strip().lower(), national_id=national_id or None,
                             unit=unit or None, phone=phone or None, locale=locale if locale in ("tr", "en") else "tr")
    session.add(contact)
    session.flush()
    search.contact_recorded(session, instance_id, contact.name, contact.email)
    return contact


def contact_of(session: Session, instance_id: int) -> RequestContact | None:
    return session.get(RequestContact, instance_id)


def find_request(session: Session, tracking_code: str, email: str) -> ProcessInstance | None:
    """The request with this tracking code, only if ``email`` is its requester's.

    A wrong code and a wrong e-mail look the same to the caller: both give None.
    """
    code = (tracking_code or "").strip().upper()
    email_key = (email or "").strip().lower()
    if not code or not email_key:
        return None
    return session.scalar(
        select(ProcessInstance).join(RequestContact, RequestContact.instance_id == ProcessInstance.id)
        .where(ProcessInstance.tracking_code == code, RequestContact.email_key == email_key))


def open_requests_of(session: Session, email: str) -> list[ProcessInstance]:
    """The requests of an e-mail address that are not finished, newest first."""
    return list(session.scalars(
        select(ProcessInstance).join(RequestContact, RequestContact.instance_id == ProcessInstance.id)
        .where(RequestContact.email_key == (email or "").strip().lower(),
               ProcessInstance.status.in_(OPEN_STATUSES))
        .order_by(ProcessInstance.id.desc())))


def add_message(session: Session, instance_id: int, body: str, *, author_kind: AuthorKind | str,
                author: str = "", public: bool = True, actor: str | None = None) -> RequestMessage:
    """Append to a request's conversation (``public=False``: an internal note staff only see).

    :param actor: who to name in the audit history (a username, ``requester:<email>``)
    :raises ValidationError: an empty or too long text, or one :mod:`.textinput` refuses
    """
    body = (body or "").strip()
    if not body:
        raise ValidationError("empty message", [Problem("message", "write a message", "required")])
    textinput.check(body, "message", max_length=BODY_MAX)
    message = RequestMessage(instance_id=instance_id, body=body, author_kind=str(author_kind),
                             author=author, public=public)
    session.add(message)
    session.flush()
    search.message_added(session, instance_id, body)
    if public and str(author_kind) == AuthorKind.STAFF:
        facts.answered(session, instance_id, message.created_at)
    audit.record(session, "request.message" if public else "request.note", actor=actor, instance_id=instance_id,
                 data={"message_id": message.id, "author_kind": str(author_kind), "public": public, "body": body})
    return message


def messages_of(session: Session, instance_id: int, *, public_only: bool = True) -> list[RequestMessage]:
    """The conversation, oldest first; internal notes only when ``public_only`` is False."""
    query = select(RequestMessage).where(RequestMessage.instance_id == instance_id)
    if public_only:
        query = query.where(RequestMessage.public.is_(True))
    return list(session.scalars(query.order_by(RequestMessage.created_at, RequestMessage.id)))


def waiting_for(session: Session, instance_id: int) -> set[str]:
    """The names of the messages the instance is waiting for right now."""
    return set(session.scalars(select(MessageSubscription.message_name)
                               .where(MessageSubscription.instance_id == instance_id)))


def stage_of(session: Session, instance: ProcessInstance) -> Stage:
    """The requester's view of where ``instance`` stands (see :class:`Stage`)."""
    if instance.status in (InstanceStatus.COMPLETED, InstanceStatus.CANCELLED):
        return Stage.CLOSED
    waiting = waiting_for(session, instance.id)
    if REOPEN in waiting:
        return Stage.RESOLVED
    if REPLY in waiting:
        return Stage.WAITING_FOR_YOU
    if waiting.intersection(CONFIRMATIONS):
        return Stage.CONFIRM
    return Stage.IN_PROGRESS


def confirmation_awaited(session: Session, instance_id: int) -> str | None:
    """Which of :data:`CONFIRMATIONS` the instance waits for now (None: none of them)."""
    waiting = waiting_for(session, instance_id)
    return next((name for name in CONFIRMATIONS if name in waiting), None)


def reopen_deadline(session: Session, instance_id: int) -> datetime | None:
    """Until when a resolved request may be reopened: the soonest pending timer while the
    instance waits for ``reopen`` (the window on the wait; None if it waits for nothing).

    Read from the job table, so the page does not load the workflow.
    """
    if REOPEN not in waiting_for(session, instance_id):
        return None
    return session.scalar(select(Job.due_at).where(Job.instance_id == instance_id, Job.kind == JobKind.TIMER,
                                                   Job.state == JobState.PENDING).order_by(Job.due_at).limit(1))


def can_rate(session: Session, instance: ProcessInstance) -> bool:
    """Whether the requester may rate the request now: resolved, or finished (not cancelled)."""
    return instance.status == InstanceStatus.COMPLETED or REOPEN in waiting_for(session, instance.id)


def rating_of(session: Session, instance_id: int) -> ServiceRating | None:
    return session.get(ServiceRating, instance_id)


def requester_reply(session: Session, instance: ProcessInstance, body: str, *, email: str) -> RequestMessage:
    """The requester writes to a request. If the process asked them a question, this is
    the answer and the process goes on; otherwise the message waits for staff to read.

    :raises ConflictError: the request is finished (a new request is the way then)
    """
    if instance.status not in OPEN_STATUSES:
        raise ConflictError("the request is closed")
    actor = f"requester:{email.strip().lower()}"
    message = add_message(session, instance.id, body, author_kind=AuthorKind.REQUESTER, author=email, actor=actor)
    if REPLY in waiting_for(session, instance.id):
        runtime.deliver_message(session, REPLY, {"message": message.body}, instance_id=instance.id, actor=actor)
    return message


def reopen(session: Session, instance: ProcessInstance, reason: str, *, email: str) -> RequestMessage:
    """The requester reopens a resolved request within the process's window.

    :raises ConflictError: the request cannot be reopened (not resolved, or too late)
    """
    if REOPEN not in waiting_for(session, instance.id):
        raise ConflictError("the request cannot be reopened now")
    actor = f"requester:{email.strip().lower()}"
    message = add_message(session, instance.id, reason, author_kind=AuthorKind.REQUESTER, author=email, actor=actor)
    runtime.deliver_message(session, REOPEN, {"reason": message.body}, instance_id=instance.id, actor=actor)
    return message


def rate(session: Session, instance: ProcessInstance, score: int, comment: str = "", *,
         email: str) -> ServiceRating:
    """The requester rates a resolved or closed request 1-5; rating again replaces it.

    :raises ValidationError: a score outside 1-5, or too long a comment (or one :mod:`.textinput` refuses)
    :raises ConflictError: the request is still being worked on
    """
    problems = []
    if not isinstance(score, int) or not 1 <= score <= 5:
        problems.append(Problem("score", "choose 1 to 5", "enum"))
    comment = (comment or "").strip()
    problems += textinput.text_problems(comment, "comment", max_length=COMMENT_MAX)
    if problems:
        raise ValidationError("rating refused", problems)
    if not can_rate(session, instance):
        raise ConflictError("the request is still being worked on")
    rating = session.get(ServiceRating, instance.id)
    if rating is None:
        rating = ServiceRating(instance_id=instance.id, score=score, comment=comment)
        session.add(rating)
    else:
        rating.score, rating.comment = score, comment
    session.flush()
    facts.rated(session, instance.id, score)
    audit.record(session, "request.rated", actor=f"requester:{email.strip().lower()}", instance_id=instance.id,
                 data={"score": score, "comment": comment})
    return rating


def confirm_restore(session: Session, instance: ProcessInstance, ok: bool, note: str = "", *,
                    email: str) -> RequestMessage | None:
    """The requester checked the result: restored data (backup_restore) or a fix on the test
    system (software_maintenance's acceptance test). ``ok`` lets the request go on (closes
    it, or releases the fix), otherwise it goes back to the team with ``note`` (then required).

    The note also joins the conversation, so staff read it where they read the rest.

    :raises ValidationError: not ok and no note, or too long a note (or one :mod:`.textinput` refuses)
    :raises ConflictError: the request does not wait for a confirmation
    """
    note = (note or "").strip()
    textinput.check(note, "note", max_length=NOTE_MAX)
    if not ok and not note:
        raise ValidationError("say what is wrong", [Problem("note", "say what is wrong", "required")])
    awaited = confirmation_awaited(session, instance.id)
    if awaited is None:
        raise ConflictError("the request does not wait for a confirmation")
    actor = f"requester:{email.strip().lower()}"
    message = None
    if note:
        message = add_message(session, instance.id, note, author_kind=AuthorKind.REQUESTER, author=email,
                              actor=actor)
    runtime.deliver_message(session, awaited, {"ok": bool(ok), "note": note}, instance_id=instance.id, actor=actor)
    return message
