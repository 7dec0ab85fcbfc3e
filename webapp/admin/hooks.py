"""Admin views of the webhooks: list, add (the secret is shown once), rotate the secret,
deactivate or activate, and each hook's recent deliveries. The secret is rendered on the
answer to the POST only: never flashed (the session cookie is signed, not encrypted),
never stored."""

from __future__ import annotations

import json

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engine import hooks
from engine.errors import ValidationError
from engine.models import HookMode

from ..auth import require_role
from ..db import command
from ..extensions import db
from . import bp

OUTCOMES = {
    "started": lambda: _("accepted: started"), "correlated": lambda: _("accepted: delivered"),
    "replay": lambda: _("refused: already received"), "unknown_hook": lambda: _("refused: no such hook"),
    "inactive": lambda: _("refused: hook inactive"), "stale": lambda: _("refused: timestamp too old or new"),
    "bad_signature": lambda: _("refused: wrong signature"), "too_large": lambda: _("refused: body too large"),
    "bad_request": lambda: _("refused: malformed request"), "invalid": lambda: _("refused: data does not fit"),
    "no_target": lambda: _("refused: no process takes the message"),
    "process_error": lambda: _("refused: the process failed"),
}


def _problem_text(problem) -> str:
    return {
        "pattern": _("Use lower-case letters, digits, - and _ (at most 100 characters)."),
        "unique": _("A hook with this name already exists."),
        "required": _("This field is required."),
        "enum": _("Choose start or correlate."),
        "type": _('Give a JSON object of start-data fields, e.g. {"host": "/host"}.'),
        "maxProperties": _("At most %(n)s fields.", n=hooks.MAX_FIELDS),
        "field": _("%(field)s is not a field name: use letters, digits and _.", field=problem.params.get("field")),
        "pointer": _("%(field)s: a JSON pointer starts with /, e.g. /alert/host.", field=problem.params.get("field")),
        "source": _('%(field)s: give a JSON pointer such as "/host" or {"const": value}.',
                    field=problem.params.get("field")),
    }.get(problem.code, problem.message)


def _render(*, form=None, errors=None, secret=None, secret_for=None, status: int = 200):
    session = db.session
    all_hooks = hooks.list_hooks(session)
    deliveries = hooks.recent_deliveries(session, limit=50)
    return render_template("admin/hooks.html", hooks=all_hooks, deliveries=deliveries,
                           outcomes={k: v() for k, v in OUTCOMES.items()},
                           form=form or {"name": "", "message": "", "mode": HookMode.START,
                                         "correlation_pointer": "", "mapping": ""},
                           errors=errors or {}, secret=secret, secret_for=secret_for), status


@bp.get("/hooks")
@require_role("admin")
def hooks_page():
    return _render()


@bp.post("/hooks")
@require_role("admin")
def add_hook():
    form = {name: request.form.get(name, "") for name in ("name", "message", "mode", "correlation_pointer",
                                                          "mapping")}
    try:
        mapping = json.loads(form["mapping"]) if form["mapping"].strip() else None
    except ValueError:
        return _render(form=form, errors={"mapping": [_("This is not valid JSON.")]}, status=422)
    try:
        with command() as session:
            hook, secret = hooks.create_hook(
                session, form["name"], form["message"], mapping=mapping, mode=form["mode"],
                correlation_pointer=form["correlation_pointer"].strip() or None, actor=current_user.username,
                master_key=current_app.config["SECRET_KEY"])
            name = hook.name
    except ValidationError as exc:
        errors: dict[str, list[str]] = {}
        for problem in exc.problems:
            errors.setdefault(problem.location, []).append(_problem_text(problem))
        return _render(form=form, errors=errors, status=422)
    return _render(secret=secret, secret_for=name)


@bp.post("/hooks/<int:hook_id>/rotate")
@require_role("admin")
def rotate_hook_secret(hook_id: int):
    with command() as session:
        secret = hooks.rotate_secret(session, hook_id, actor=current_user.username,
                                     master_key=current_app.config["SECRET_KEY"])
        name = hooks.get_hook(session, hook_id).name
    return _render(secret=secret, secret_for=name)


@bp.post("/hooks/<int:hook_id>/active")
@require_role("admin")
def set_hook_active(hook_id: int):
    active = request.form.get("active") == "1"
    with command() as session:
        name = hooks.set_active(session, hook_id, active, actor=current_user.username).name
    flash(_("Hook %(name)s accepts deliveries again.", name=name) if active
          else _("Hook %(name)s is deactivated: its deliveries are refused.", name=name), "success")
    return redirect(url_for("admin.hooks_page"))
