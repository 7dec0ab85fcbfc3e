"""The tracking page itself: what a requester sees of their request, the errors of its
forms in their words, and the files of a reply."""

from __future__ import annotations

from pathlib import Path

from flask import current_app, render_template
from flask_babel import get_locale
from flask_babel import gettext as _

from engine import attachments, conversation, instances, linked, requester_status, textinput
from engine.attachments import Limits, Upload
from engine.conversation import Stage
from engine.errors import Problem, ValidationError
from engine.models import OPEN_STATUSES, AuthorKind, ProcessInstance, RequestFact, RequestMessage
from processes.i18n import text as process_text

from ..config import upload_limits
from ..extensions import db
from ..inbox.forms import problem_text
from .forms import attachment_text


def check_reply(text: str, uploads: list[Upload]) -> None:
    """Refuse a reply with every problem at once (an empty text and a refused file alike),
    before anything is written.

    :raises ValidationError: located at ``message`` and ``attachments``
    """
    text = (text or "").strip()
    problems = (textinput.text_problems(text, "message", max_length=conversation.BODY_MAX) if text
                else [Problem("message", "write a message", "required")])
    try:
        attachments.check_uploads(uploads, upload_limits(current_app.config))
    except ValidationError as exc:
        problems += exc.problems
    if problems:
        raise ValidationError("reply refused", problems)


def store_reply_files(instance: ProcessInstance, message: RequestMessage, uploads: list[Upload],
                      email: str) -> None:
    """Attach a reply's files (at most 3 a reply) to its message.

    :raises ValidationError: a file is refused (the whole reply is then not sent)
    """
    if not uploads:
        return
    limits = upload_limits(current_app.config)
    # 3 a reply (check_reply), whatever the request had before.
    already = len(attachments.list_for(db.session, instance.id))
    folder = Path(current_app.config["SEK_DATA_DIR"]) / "attachments"
    attachments.store(db.session, folder, instance.id, uploads,
                      limits=Limits(already + limits.max_files, limits.file_bytes, limits.request_bytes),
                      uploaded_by=f"requester:{email.strip().lower()}", message_id=message.id)


def _problem_text(problem: Problem) -> str:
    params = problem.params or {}
    texts = {
        "required": _("Please fill this in."),
        "maxLength": _("At most %(n)d characters.", n=params.get("limit", 0)),
        "enum": _("Please choose a score from 1 to 5."),
    }
    if problem.code in texts:
        return texts[problem.code]
    if problem.code in textinput.CODES:
        return problem_text(problem)
    return attachment_text(problem)   # the portal form words refused files the same way


def problem_texts(exc: ValidationError, rename: dict | None = None) -> dict[str, list[str]]:
    """The problems of a refused form by field, worded for the requester."""
    result: dict[str, list[str]] = {}
    for problem in exc.problems:
        field = (rename or {}).get(problem.location, problem.location)
        result.setdefault(field, []).append(_problem_text(problem))
    return result


def author_label(kind: str) -> str:
    labels = {AuthorKind.REQUESTER: _("You"), AuthorKind.STAFF: _("Support team"), AuthorKind.UNIT: _("Unit"),
              AuthorKind.SYSTEM: _("System")}
    return labels.get(kind, _("Support team"))


def status_history(instance: ProcessInstance, said: set[str]) -> list[dict]:
    """The statuses the process declared for its requester, oldest first, in the page's
    language, each with the values it was mailed then (those the conversation already
    holds left out)."""
    locale = str(get_locale() or "tr")
    key = instance.process_key
    history = []
    for row in requester_status.history(db.session, instance.id):
        shown = [(process_text(key, item.get("label") or "", locale), str(item.get("value") or ""))
                 for item in row.shown or [] if str(item.get("value") or "").strip() not in said]
        history.append({"text": process_text(key, row.text, locale), "at": row.created_at, "kind": row.kind,
                        "shown": shown})
    return history


def render_track(instance: ProcessInstance, *, values: dict | None = None, errors: dict | None = None,
                 status: int = 200):
    """The tracking page of ``instance`` (which the browser has proved is its requester's)."""
    session = db.session()
    stage = conversation.stage_of(session, instance)
    messages = conversation.messages_of(session, instance.id, public_only=True)
    files: dict[int | None, list[str]] = {}
    for row in attachments.list_for(session, instance.id):
        files.setdefault(row.message_id, []).append(row.filename)
    said = {m.body.strip() for m in messages}
    # What the page shows is read from tables (the request's summary, its conversation, the
    # statuses the process declared), not from the workflow; only a request started
    # elsewhere than the portal (API, CLI, staff) has its own text in its data alone.
    fact = session.get(RequestFact, instance.id)
    data = {} if fact is not None else instances.current_data(session, instance.id)
    subject = (fact.subject if fact is not None else data.get("subject")) or ""
    category = (fact.category if fact is not None else data.get("category")) or ""
    original = ""
    if not any(m.author_kind == AuthorKind.REQUESTER for m in messages):
        data = data or instances.current_data(session, instance.id)
        original = str(data.get("message") or "").strip()
        original = "" if original in said else original
    history = status_history(instance, said)
    contact = conversation.contact_of(session, instance.id)
    # The requests this one started for the same requester (engine.linked), with where each stands.
    children = [(child, "cancelled" if child.status == "cancelled" else str(conversation.stage_of(session, child)))
                for child in (linked.children_for_requester(session, instance.id, contact.email) if contact else [])]
    page = render_template(
        "portal/track.html", instance=instance, stage=stage,
        history=history, current=history[-1] if history else None,
        subject=str(subject), category=str(category),
        deadline=conversation.reopen_deadline(session, instance.id),
        messages=[(m, author_label(m.author_kind), files.get(m.id, [])) for m in messages],
        # Files of the submission itself; those of internal notes never show here.
        request_files=files.get(None, []),
        original=original, rating=conversation.rating_of(session, instance.id),
        can_reply=instance.status in OPEN_STATUSES, can_reopen=stage == Stage.RESOLVED,
        can_rate=conversation.can_rate(session, instance), can_confirm=stage == Stage.CONFIRM,
        limits=upload_limits(current_app.config), values=values or {}, errors=errors or {}, children=children)
    return page, status
