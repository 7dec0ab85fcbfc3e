"""Admin views of the units ("Biriminiz" on the portal): list, add, rename, reorder,
deactivate and activate. Every change is one command, done as the signed-in admin."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from engine import textinput
from engine import users as accounts
from engine.errors import ValidationError
from engine.models import Group
from engine.models.user import user_group
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
        "unknown_group": _("There is no group with this name: add it on the users page first, with its members."),
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


def _member_counts() -> dict[int, int]:
    """Group id -> how many members it has (a head group nobody is in approves nothing)."""
    return dict(db.session.execute(
        select(Group.id, func.count(user_group.c.user_id)).join(user_group, user_group.c.group_id == Group.id)
        .group_by(Group.id)).all())


def _render(*, form=None, errors=None, editing: int | None = None, edit_form=None, edit_errors=None,
            status: int = 200):
    groups = accounts.list_groups(db.session)
    return render_template("admin/units.html", units=portal.list_units(db.session),
                           groups=groups, groups_by_id={group.id: group for group in groups},
                           members=_member_counts(),
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


@bp.post("/units/<int:unit_id>/head-group")
@require_role("admin")
def set_unit_head_group(unit_id: int):
    """Which group heads the unit: its members approve the unit's requests (``unithead:unit``)."""
    slug = request.form.get("head_group", "")
    try:
        with command() as session:
            unit = portal.set_unit_head_group(session, unit_id, slug, actor=current_user.username)
            name, group = unit.name, unit.head_group.slug if unit.head_group else None
    except ValidationError as exc:
        unit = portal.get_unit(db.session, unit_id)
        return _render(editing=unit_id, edit_errors=_errors(exc), status=422,
                       edit_form={"name": unit.name, "email": unit.email or "", **_shown({"head_group": slug})})
    flash(_("The heads of %(name)s are now the group %(group)s.", name=name, group=group) if group
          else _("%(name)s has no head group: its approvals go to every unit head.", name=name), "success")
    return redirect(url_for("admin.units"))
