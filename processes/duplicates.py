"""Duplicate requests as staff and requesters see them (the engine's rules are in
:mod:`engine.duplicates`).

Staff link a request to its main request by the main one's tracking code
(:func:`link_request`) and may undo it while the request still waits
(:func:`unlink_request`). Each change leaves a line on the duplicate's public
conversation, in its requester's language, so the tracking page says what happened.
A public staff message on the main request is relayed to the duplicates still waiting
for it (:func:`relay_message`: on their conversations, mailed in their requesters'
languages). When the main request's answer is mailed (the ``notify_requester`` operator calls
:func:`follow_main`), the waiting duplicates get it; when the main request ends
without an answer for everyone, they go back to their teams.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from engine import conversation, duplicates
from engine.errors import ConflictError
from engine.models import AuthorKind, ProcessInstance

from .i18n import text
from .notifications import notify_requester

# The requester is told that, never which request: another request's number or tracking code
# is someone else's (a tracking code opens its page).
LINKED_TEXT = ("Bu talep, aynı konuda daha önce açılmış bir talep ile birleştirildi. "
               "O talebe verilen yanıt size de iletilecek.")
UNLINKED_TEXT = "Bu talep artık başka bir talep ile birleştirilmiş değil; ekibimiz talebinizi ayrıca yanıtlayacak."
# The main request's mails that end it: its answer goes to every duplicate; the others
# (routed to a unit, outside our remit, closed without the requester's reply) send the
# duplicates back to their teams.
ANSWER_TEMPLATE = "answer"
RELEASE_TEMPLATES = ("routed", "outside", "autoclosed")


def _tell_requester(session: Session, instance: ProcessInstance, source: str, **values) -> None:
    contact = conversation.contact_of(session, instance.id)
    locale = contact.locale if contact is not None else "tr"
    body = text(instance.process_key, source, locale).format(**values)
    conversation.add_message(session, instance.id, body, author_kind=AuthorKind.SYSTEM, public=True)


def link_request(session: Session, instance_id: int, main_code: str, *, by: str) -> ProcessInstance:
    """Make ``instance_id`` a duplicate of the request whose tracking code is ``main_code``.

    :returns: the main request
    :raises NotFoundError: no request has that code, or this one is not in a team's queue
    :raises ValidationError: a guard of :func:`engine.duplicates.link` refuses
    """
    main = duplicates.by_tracking_code(session, main_code)
    duplicates.link(session, instance_id, main.id, actor=by)
    _tell_requester(session, session.get(ProcessInstance, instance_id), LINKED_TEXT, main=main.id)
    return main


def unlink_request(session: Session, instance_id: int, *, by: str | None, reason: str = "") -> int:
    """Undo the link; the request goes back to its team. :returns: the former main's id."""
    main_id = duplicates.unlink(session, instance_id, actor=by, reason=reason)
    _tell_requester(session, session.get(ProcessInstance, instance_id), UNLINKED_TEXT, main=main_id)
    return main_id


def follow_main(session: Session, instance_id: int, template: str, answer: str) -> list[int]:
    """After a requester mail of ``instance_id``: pass its answer on to its waiting
    duplicates, or send them back to their teams if it ended without one.

    :returns: the ids of the duplicates that moved
    """
    if template == ANSWER_TEMPLATE and answer:
        return duplicates.answer_duplicates(session, instance_id, answer)
    if template in RELEASE_TEMPLATES:
        return release_duplicates(session, instance_id, template)
    return []


def release_duplicates(session: Session, main_id: int, reason: str) -> list[int]:
    """The main request ended without an answer for everyone (``reason``: routed,
    outside, autoclosed, cancelled): its waiting duplicates go back to their teams.

    :returns: the ids of the duplicates released
    """
    moved = []
    for duplicate in duplicates.duplicates_of(session, main_id):
        if duplicate.status in ("completed", "cancelled"):
            continue
        try:
            unlink_request(session, duplicate.id, by=None, reason=reason)
        except ConflictError:
            continue   # already answered: nothing waits
        moved.append(duplicate.id)
    return moved


def relay_message(session: Session, main_id: int, body: str, *, author: str) -> list[int]:
    """A public staff message on ``main_id`` also goes to each duplicate still waiting for
    it: onto its conversation and mailed to its requester (template ``message``, in their
    language). :returns: the ids of the duplicates it reached"""
    reached = []
    for duplicate in duplicates.duplicates_of(session, main_id):
        if duplicates.MAIN_ANSWERED not in conversation.waiting_for(session, duplicate.id):
            continue   # already answered (or back with its team): its own request again
        conversation.add_message(session, duplicate.id, body, author_kind=AuthorKind.STAFF, author=author,
                                 public=True, actor=author)
        notify_requester(session, duplicate.id, "message", message=body)
        reached.append(duplicate.id)
    return reached
