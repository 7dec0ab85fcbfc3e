"""The registry's pages: every staff member searches it and reads an asset's history; the
taşınır kayıt yetkilileri (admins and the members of the groups that keep equipment:
general, network, systems, workshop) register and change assets."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine import assets, textinput
from engine.errors import PermissionDeniedError, Problem, ValidationError
from engine.models import ProcessInstance

from ..asset_words import ACTION_TITLES, FIELD_TITLES, KIND_TITLES, STATUS_TITLES, value_text
from ..db import command
from ..extensions import db
from ..inbox.forms import problem_text
from . import bp

# The groups that keep equipment (the catalog's teams whose processes move it).
EDITOR_GROUPS = ("general", "network", "systems", "workshop")
PER_PAGE = 25
PAGE_MAX = 500
FORM_FIELDS = ("inventory_no", "kind", "model", "serial", "site", "room", "rack", "rack_unit", "status",
               "owner_unit", "note")


def may_edit(user) -> bool:
    """Who registers and changes assets: admins and the equipment groups' members."""
    return user.has_role("admin") or bool(set(EDITOR_GROUPS) & set(user.group_slugs))


def _check_editor() -> None:
    if not may_edit(current_user):
        raise PermissionDeniedError("only admins and the equipment groups keep the asset registry")


def _read_filters(args) -> tuple[dict, int, dict[str, str]]:
    errors: dict[str, str] = {}
    filters = {"q": (args.get("q") or "").strip(), "kind": args.get("kind") or "",
               "status": args.get("status") or "", "site": (args.get("site") or "").strip()}
    if len(filters["q"]) > assets.QUERY_MAX:
        errors["q"] = _("Enter at most %(n)s characters.", n=assets.QUERY_MAX)
    if filters["kind"] and filters["kind"] not in assets.KINDS:
        errors["kind"] = _("Choose one of the options.")
    if filters["status"] and filters["status"] not in assets.STATUSES:
        errors["status"] = _("Choose one of the options.")
    if len(filters["site"]) > 100:
        errors["site"] = _("Enter at most %(n)s characters.", n=100)
    try:
        page = int(args.get("page") or 1)
    except ValueError:
        page = 0
    if not 1 <= page <= PAGE_MAX:
        errors["page"] = _("Choose a page from 1 to %(n)s.", n=PAGE_MAX)
        page = 1
    return filters, page, errors


@bp.get("")
@login_required
def index():
    filters, page, errors = _read_filters(request.args)
    found = None
    if not errors:
        found = assets.search(db.session, filters["q"], kind=filters["kind"] or None,
                              status=filters["status"] or None, site=filters["site"] or None,
                              page=page, per_page=PER_PAGE)
    return render_template("assets/index.html", filters=filters, found=found, errors=errors,
                           sites=assets.sites(db.session), kinds=KIND_TITLES, statuses=STATUS_TITLES,
                           may_edit=may_edit(current_user), query_max=assets.QUERY_MAX), 422 if errors else 200


@bp.get("/<path:inventory_no>")
@login_required
def show(inventory_no: str):
    asset = assets.get(db.session, inventory_no)
    history = assets.history(db.session, asset)
    codes = {}
    for instance_id in {c.instance_id for c in history if c.instance_id is not None}:
        instance = db.session.get(ProcessInstance, instance_id)
        codes[instance_id] = instance.tracking_code if instance is not None else None
    return render_template("assets/show.html", asset=asset, history=history, codes=codes,
                           actions=ACTION_TITLES, field_titles=FIELD_TITLES, value_text=value_text,
                           may_edit=may_edit(current_user))


def _form(asset, form: dict, errors: dict | None = None, status: int = 200):
    return render_template("assets/edit.html", asset=asset, form=form, errors=errors or {},
                           kinds=KIND_TITLES, statuses=STATUS_TITLES, field_titles=FIELD_TITLES,
                           transitions=assets.TRANSITIONS), status


def _errors(problems: list[Problem]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for problem in problems:
        if problem.location == "rack_unit" and problem.code == assets.TYPE:
            text = _("Enter a whole number.")
        else:
            text = problem_text(problem)
        errors.setdefault(problem.location or "", []).append(text)
    return errors


def _posted() -> dict:
    return {name: request.form.get(name, "") for name in FORM_FIELDS}


@bp.get("/new")
@login_required
def new():
    _check_editor()
    return _form(None, {**{name: "" for name in FORM_FIELDS}, "status": "in_use", "change_note": ""})


@bp.post("/new")
@login_required
def create():
    _check_editor()
    form = _posted()
    try:
        with command() as session:
            asset = assets.register(session, {k: v for k, v in form.items() if k != "rack_unit" or v.strip()},
                                    actor=current_user.username)
            number = asset.inventory_no
    except ValidationError as exc:
        return _form(None, {name: textinput.cleaned(value) for name, value in form.items()}, _errors(exc.problems), 422)
    flash(_("Asset registered: %(number)s", number=number), "success")
    return redirect(url_for("assets.show", inventory_no=number))


@bp.get("/edit/<path:inventory_no>")
@login_required
def edit(inventory_no: str):
    _check_editor()
    asset = assets.get(db.session, inventory_no)
    if asset.status == "disposed":
        flash(_("A disposed asset cannot change."), "warning")
        return redirect(url_for("assets.show", inventory_no=asset.inventory_no))
    form = {name: ("" if value is None else str(value)) for name, value in assets.as_dict(asset).items()}
    return _form(asset, {**form, "change_note": ""})


@bp.post("/edit/<path:inventory_no>")
@login_required
def update(inventory_no: str):
    _check_editor()
    asset = assets.get(db.session, inventory_no)
    form = {**_posted(), "inventory_no": asset.inventory_no}
    note = request.form.get("change_note", "")
    changes = {name: value for name, value in form.items() if name != "inventory_no"}
    try:
        with command() as session:
            assets.update(session, asset.inventory_no, changes, actor=current_user.username, note=note)
    except ValidationError as exc:
        return _form(asset, {**{n: textinput.cleaned(v) for n, v in form.items()},
                             "change_note": textinput.cleaned(note)}, _errors(exc.problems), 422)
    flash(_("Asset saved: %(number)s", number=asset.inventory_no), "success")
    return redirect(url_for("assets.show", inventory_no=asset.inventory_no))
