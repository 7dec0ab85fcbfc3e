"""The group directory: a group's e-mail address and lead, and mail recipients by group.

A BPMN model never writes an address: it names a group. Wherever a process gives a mail
recipient (the built-in ``send_mail`` operator's ``to``, the notice operators of the
processes layer), two tokens are understood, and :func:`resolve_recipients` turns them
into addresses when the mail is queued (:func:`engine.mail.queue_mail`):

``group:<slug>``
    the group's own address; a group without one: the addresses of its active members.
``lead:<slug>``
    the address of the group's lead (an active member with an address); else as ``group:``.

Anything else is an address and is kept as written. An unknown group, or a token that
finds no address at all, raises :class:`RecipientError`: the job queuing the mail fails at
once, with the message naming the token, instead of a mail going nowhere.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, textinput
from .errors import NotFoundError, Problem, ValidationError, WorkflowError
from .models import Group, User

GROUP_PREFIX = "group:"
LEAD_PREFIX = "lead:"
EMAIL_MAX = 300
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")


class RecipientError(WorkflowError):
    """A mail recipient token names no group, or finds no address. Retrying cannot help:
    the job fails at once (:mod:`engine.jobs`) until an admin fixes the directory."""

    permanent = True


def is_token(recipient: str) -> bool:
    return recipient.startswith((GROUP_PREFIX, LEAD_PREFIX))


def _group(session: Session, slug: str, token: str) -> Group:
    group = session.scalar(select(Group).where(Group.slug == slug))
    if group is None:
        raise RecipientError(f"mail recipient {token!r}: there is no group {slug!r}")
    return group


def _active_member_addresses(group: Group) -> list[str]:
    return [m.email.strip() for m in sorted(group.members, key=lambda m: m.username)
            if m.active and m.email and m.email.strip()]


def _group_addresses(group: Group, token: str) -> list[str]:
    if group.email:
        return [group.email]
    members = _active_member_addresses(group)
    if not members:
        raise RecipientError(f"mail recipient {token!r}: the group {group.slug!r} has no e-mail address "
                             "and none of its active members has one")
    return members


def lead_of(session: Session, group: Group) -> User | None:
    """The group's lead, if it names an active member."""
    if not group.lead:
        return None
    return next((m for m in group.members if m.username == group.lead and m.active), None)


def resolve_recipients(session: Session, recipients: list[str] | str) -> list[str]:
    """Addresses for ``recipients``: tokens ``group:<slug>`` / ``lead:<slug>`` resolved,
    addresses kept, duplicates dropped (first one wins), order kept.

    :raises RecipientError: an unknown group, or a token that finds no address
    """
    if isinstance(recipients, str):
        recipients = [recipients]
    result: list[str] = []
    for raw in recipients:
        for recipient in str(raw or "").split(","):
            recipient = recipient.strip()
            if not recipient:
                continue
            if recipient.startswith(GROUP_PREFIX):
                found = _group_addresses(_group(session, recipient[len(GROUP_PREFIX):].strip(), recipient),
                                         recipient)
            elif recipient.startswith(LEAD_PREFIX):
                group = _group(session, recipient[len(LEAD_PREFIX):].strip(), recipient)
                lead = lead_of(session, group)
                found = [lead.email.strip()] if lead is not None and lead.email and lead.email.strip() \
                    else _group_addresses(group, recipient)
            else:
                found = [recipient]
            result += [address for address in found if address.lower() not in {r.lower() for r in result}]
    return result


def set_contact(session: Session, slug: str, email: str | None, lead: str | None, *,
                actor: str | None) -> Group:
    """Set a group's address and lead (a member's username; empty: none).

    :raises NotFoundError: no such group
    :raises ValidationError: a malformed address (``email``), a lead who is not an active
        member of the group (``lead``)
    """
    group = session.scalar(select(Group).where(Group.slug == slug))
    if group is None:
        raise NotFoundError(f"no group {slug}")
    email, lead = (email or "").strip() or None, (lead or "").strip() or None
    problems = []
    if email:
        if bad := textinput.text_problems(email, "email", max_length=EMAIL_MAX):
            problems += bad
        elif not _EMAIL.match(email):
            problems.append(Problem("email", "enter a valid e-mail address", "format", {"limit": "email"}))
    if lead and lead not in {m.username for m in group.members if m.active}:
        problems.append(Problem("lead", "the lead must be an active member of the group", "not_member"))
    if problems:
        raise ValidationError("the group was not saved", problems)
    before = {"email": group.email, "lead": group.lead}
    group.email, group.lead = email, lead
    session.flush()
    audit.record(session, "group.contact_changed", actor=actor,
                 data={"group": slug, "before": before, "after": {"email": email, "lead": lead}})
    return group
