"""Admin views of the units ("Biriminiz" on the portal): list, add, rename, reorder,
deactivate and activate. Every change is one command, done as the signed-in admin."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engine import textinput
from engine.errors import ValidationError
from processes import portal

from ..auth import require_role
from ..db import command
from ..extensions import db
from ..inbox.forms import problem_text
from . import bp


def _problem_text(code: str, message: str) -> str:
    return {
        "required": _("This field is required."),
        "maxLength": _("Enter at most %(n)s characters.", n=200),
        "unique": _("A unit with this name already exists."),
        "format": _("Enter a valid e-mail address."),
    }.get(code, message)


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for problem in exc.problems:
        text = (problem_text(problem) if problem.code in textinput.CODES
                else _problem_text(problem.code, problem.message))
        errors.setdefault(problem.location, []).append(text)
    return errors


def _shown(form: dict) -> dict:
    """What was typed, without the characters the engine refuses (the error says they were removed)."""
    return {name: textinput.cleaned(value) for name, value in form.items()}


def _render(*, form=None, errors=None, editing: int | None = None, edit_form=None, edit_errors=None,
            status: int = 200):
    return render_template("admin/units.html", units=portal.list_units(db.session),
                           form=form or {"name": "", "email": ""}, errors=errors or {}, editing=editing,
                           edit_form=edit_form or {}, edit_errors=edit_errors or {}), status


@bp.get("/units")
@require_role("admin")
def units():
    return _render()


@bp.post("/units")
@require_role("admin")
def add_unit():
    form = {"name": request.form.get("name", ""), "email": request.form.get("email", "")}
    try:
        with command() as session:
            unit = portal.add_unit(session, form["name"], form["email"], actor=current_user.username)
            name = unit.name
    except ValidationError as exc:
        return _render(form=_shown(form), errors=_errors(exc), status=422)
    flash(_("Unit %(name)s added.", name=name), "success")
    return redirect(url_for("admin.units"))


@bp.post("/units/<int:unit_id>")
@require_role("admin")
def update_unit(unit_id: int):
    form = {"name": request.form.get("name", ""), "email": request.form.get("email", "")}
    try:
        with command() as session:
            unit = portal.update_unit(session, unit_id, form["name"], form["email"], actor=current_user.username)
            name = unit.name
    except ValidationError as exc:
        return _render(editing=unit_id, edit_form=_shown(form), edit_errors=_errors(exc), status=422)
    flash(_("Unit %(name)s saved.", name=name), "success")
    return redirect(url_for("admin.units"))


@bp.post("/units/<int:unit_id>/move")
@require_role("admin")
def move_unit(unit_id: int):
    step = -1 if request.form.get("direction") == "up" else 1
    with command() as session:
        portal.move_unit(session, unit_id, step, actor=current_user.username)
    return redirect(url_for("admin.units"))


@bp.post("/units/<int:unit_id>/active")
@require_role("admin")
def set_unit_active(unit_id: int):
    active = request.form.get("active") == "1"
    with command() as session:
        unit = portal.set_unit_active(session, unit_id, active, actor=current_user.username)
        name = unit.name
    flash(_("Unit %(name)s is shown on the portal again.", name=name) if active
          else _("Unit %(name)s is no longer offered on the portal.", name=name), "success")
    return redirect(url_for("admin.units"))
