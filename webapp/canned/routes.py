"""List, add, change and delete canned answers (members of ``helpdesk`` and admins)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine import canned, textinput
from engine.errors import PermissionDeniedError, ValidationError
from processes import catalog
from processes.user_support.recategorize import CATEGORIES

from ..db import command
from ..extensions import db
from ..inbox.forms import problem_text
from ..templating import process_title
from . import bp

EDITORS = "helpdesk"


def may_edit(user) -> bool:
    """Who keeps the canned answers: the help desk, and admins."""
    return user.has_role("admin") or EDITORS in user.group_slugs


def _check_editor() -> None:
    if not may_edit(current_user):
        raise PermissionDeniedError("only the help desk keeps canned answers")


def _allowed() -> list[str]:
    return [*CATEGORIES, *(item.key for item in catalog.CATALOG)]


def _choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The category select: every request, the help-desk categories, then the processes."""
    return [("", [("", _("All requests"))]),
            (_("Help-desk categories"), [(c, c) for c in CATEGORIES]),
            (_("Processes"), sorted(((item.key, process_title(item.key)) for item in catalog.CATALOG),
                                    key=lambda pair: pair[1]))]


def _category_label(category: str) -> str:
    if not category:
        return _("All requests")
    return category if category in CATEGORIES else process_title(category)


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    texts = {"required": {"title": _("Write a title."), "body": _("Write the answer.")},
             "enum": {"category": _("Choose a category from the list.")}}
    errors: dict[str, list[str]] = {}
    for problem in exc.problems:
        if problem.code == "maxLength":
            text = _("At most %(limit)s characters.", limit=problem.params.get("limit"))
        elif problem.code in textinput.CODES:
            text = problem_text(problem)
        else:
            text = texts.get(problem.code, {}).get(problem.location, problem.message)
        errors.setdefault(problem.location, []).append(text)
    return errors


@bp.get("")
@login_required
def index():
    _check_editor()
    return render_template("canned/index.html", answers=canned.list_all(db.session), label=_category_label)


def _form(answer_id: int | None, form: dict, errors=None, status=200):
    return render_template("canned/edit.html", answer_id=answer_id, form=form, errors=errors or {},
                           choices=_choices()), status


@bp.get("/new")
@login_required
def new():
    _check_editor()
    return _form(None, {"category": request.args.get("category", ""), "title": "", "body": "", "body_en": ""})


@bp.get("/<int:answer_id>")
@login_required
def edit(answer_id: int):
    _check_editor()
    answer = canned.get(db.session, answer_id)
    return _form(answer_id, {"category": answer.category, "title": answer.title, "body": answer.body,
                             "body_en": answer.body_en or ""})


@bp.post("/new", endpoint="create")
@bp.post("/<int:answer_id>", endpoint="update")
@login_required
def save(answer_id: int | None = None):
    _check_editor()
    form = {name: request.form.get(name, "") for name in ("category", "title", "body", "body_en")}
    try:
        with command() as session:
            canned.save(session, **form, by=current_user.username, allowed_categories=_allowed(),
                        answer_id=answer_id)
    except ValidationError as exc:
        return _form(answer_id, {name: textinput.cleaned(value) for name, value in form.items()}, _errors(exc), 422)
    flash(_("Canned answer saved: %(title)s", title=form["title"].strip()), "success")
    return redirect(url_for("canned.index"))


@bp.post("/<int:answer_id>/delete")
@login_required
def delete(answer_id: int):
    _check_editor()
    with command() as session:
        title = canned.get(session, answer_id).title
        canned.delete(session, answer_id, by=current_user.username)
    flash(_("Canned answer deleted: %(title)s", title=title), "success")
    return redirect(url_for("canned.index"))
