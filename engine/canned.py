"""Canned answers: ready texts staff start a reply from, kept by the help desk.

An answer belongs to a help-desk category ("Personel E-posta"), to a process key
("vpn_request") or, with an empty category, to every request. Its text is Turkish, with
an optional English text beside it (``body_en``) for requesters who chose English: staff
are offered the text in the requester's language (:meth:`CannedAnswer.body_in`). Which categories exist is
domain knowledge, so the caller passes the allowed ones in.
"""

from __future__ import annotations

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from . import audit, textinput
from .errors import NotFoundError, Problem, ValidationError
from .models import CannedAnswer

TITLE_MAX = 200
BODY_MAX = 10000


def list_all(session: Session) -> list[CannedAnswer]:
    """Every canned answer: the general ones first, then by category and title."""
    return list(session.scalars(select(CannedAnswer)
                                .order_by(CannedAnswer.category, CannedAnswer.title, CannedAnswer.id)))


def list_for(session: Session, category: str | None = None, process_key: str | None = None) -> list[CannedAnswer]:
    """The canned answers that fit a request: its category's, its process's, then the general ones.

    :param category: the request's help-desk category, if it has one
    :param process_key: the request's process
    """
    wanted = [c for c in (category, process_key) if c]
    specific = case((CannedAnswer.category == "", 1), else_=0)
    return list(session.scalars(select(CannedAnswer).where(CannedAnswer.category.in_(["", *wanted]))
                                .order_by(specific, CannedAnswer.title, CannedAnswer.id)))


def get(session: Session, answer_id: int) -> CannedAnswer:
    """One canned answer.

    :raises NotFoundError: no such answer
    """
    answer = session.get(CannedAnswer, answer_id)
    if answer is None:
        raise NotFoundError(f"no canned answer {answer_id}")
    return answer


def save(session: Session, *, category: str, title: str, body: str, by: str, allowed_categories,
         answer_id: int | None = None, body_en: str = "") -> CannedAnswer:
    """Add a canned answer, or change one when ``answer_id`` is given.

    :param allowed_categories: the categories and process keys an answer may belong to
        (the empty category, for every request, is always allowed)
    :param by: the username, named in the audit history
    :param body_en: the English text (optional; empty: English readers get the Turkish one)
    :raises ValidationError: per field (``category``, ``title``, ``body``, ``body_en``)
    :raises NotFoundError: ``answer_id`` does not exist
    """
    category, title, body = (category or "").strip(), (title or "").strip(), (body or "").strip()
    body_en = (body_en or "").strip()
    problems = []
    if category and category not in set(allowed_categories):
        problems.append(Problem("category", "unknown category", "enum"))
    if not title:
        problems.append(Problem("title", "write a title", "required"))
    problems += textinput.text_problems(title, "title", max_length=TITLE_MAX)
    if not body:
        problems.append(Problem("body", "write the answer", "required"))
    problems += textinput.text_problems(body, "body", max_length=BODY_MAX)
    problems += textinput.text_problems(body_en, "body_en", max_length=BODY_MAX)
    if problems:
        raise ValidationError("canned answer refused", problems)
    answer = get(session, answer_id) if answer_id is not None else CannedAnswer()
    before = None if answer_id is None else {"category": answer.category, "title": answer.title, "body": answer.body,
                                             "body_en": answer.body_en}
    answer.category, answer.title, answer.body, answer.updated_by = category, title, body, by
    answer.body_en = body_en or None
    session.add(answer)
    session.flush()
    audit.record(session, "canned.saved", actor=by, data={
        "id": answer.id, "before": before,
        "after": {"category": category, "title": title, "body": body, "body_en": body_en or None}})
    return answer


def delete(session: Session, answer_id: int, *, by: str) -> None:
    """Remove a canned answer (the audit history keeps its text).

    :raises NotFoundError: no such answer
    """
    answer = get(session, answer_id)
    audit.record(session, "canned.deleted", actor=by, data={
        "id": answer.id, "category": answer.category, "title": answer.title, "body": answer.body})
    session.delete(answer)
    session.flush()
