"""The conversation panel of the task and instance pages: who asked, every message and
internal note, the attachments, canned answers, and the form that adds a note or a
public message (mailed to the requester). The requester's contact, and their address as
a message's author or a file's uploader, are masked as :mod:`webapp.personal_data` decides
(``_conversation.html`` passes authors and uploaders through its ``person`` filter).

Both pages render ``_conversation.html`` with :func:`panel`; both POST routes call
:func:`post_message`, which answers None on success or the panel with the error and the
text kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import request
from flask_babel import gettext as _
from flask_login import current_user

from engine import attachments, canned, conversation, textinput
from engine.errors import ValidationError
from engine.models import AuthorKind, ProcessInstance
from processes import duplicates
from processes.notifications import notify_requester

from . import personal_data
from .db import command
from .extensions import db
from .inbox.forms import problem_text

KINDS = ("note", "public")


@dataclass(frozen=True)
class Draft:
    """A message the form sent back, with what is wrong with it."""

    text: str = ""
    kind: str = "note"
    errors: tuple[str, ...] = ()


@dataclass
class Panel:
    """What ``_conversation.html`` shows; ``action`` is where its form posts."""

    instance: ProcessInstance
    action: str
    contact: object = None        # a personal_data.ContactView: masked until the button is pressed
    next: str = ""                # where the "show personal data" button comes back to
    messages: list = field(default_factory=list)
    files: list = field(default_factory=list)
    canned: list = field(default_factory=list)
    answer_target: bool = False   # the task form has an "answer" textarea canned texts may go to
    draft: Draft = Draft()
    language: str = "tr"          # the requester's language: canned texts are offered in it


def panel(instance: ProcessInstance, action: str, *, data: dict | None = None, answer_target: bool = False,
          draft: Draft | None = None) -> Panel:
    """The panel of ``instance`` for the current user (who may see the instance).

    :param data: the process data, for the request's category (its canned answers)
    :param draft: a refused message to show again with its errors
    """
    session = db.session
    contact = conversation.contact_of(session, instance.id)
    category = (data or {}).get("category")
    return Panel(
        instance=instance, action=action, contact=personal_data.contact_view(contact, instance.id),
        next=request.path,
        messages=conversation.messages_of(session, instance.id, public_only=False),
        files=attachments.list_for(session, instance.id),
        canned=canned.list_for(session, category if isinstance(category, str) else None, instance.process_key),
        answer_target=answer_target, draft=draft or Draft(),
        language=getattr(contact, "locale", None) or "tr")


def post_message(instance: ProcessInstance) -> Draft | None:
    """Add the posted note or public message to ``instance``; a public one is mailed to the
    requester in the same transaction.

    :returns: None when saved, else what was typed with the errors
    """
    text = request.form.get("message", "")
    kind = request.form.get("kind", "note")
    if kind not in KINDS:
        kind = "note"
    try:
        with command() as session:
            message = conversation.add_message(
                session, instance.id, text, author_kind=AuthorKind.STAFF, author=current_user.username,
                public=kind == "public", actor=current_user.username)
            if message.public:
                notify_requester(session, instance.id, "message", message=message.body)
                duplicates.relay_message(session, instance.id, message.body, author=current_user.username)
    except ValidationError as exc:
        return Draft(textinput.cleaned(text), kind, tuple(_problem_text(p) for p in exc.problems))
    return None


def _problem_text(problem) -> str:
    if problem.code == "required":
        return _("Write a message.")
    if problem.code == "maxLength":
        return _("At most %(limit)s characters.", limit=problem.params.get("limit"))
    return problem_text(problem)
