"""Admin views: the user list, adding a user, and one user's groups, roles, activation
and API tokens. Every change is one command, done as the signed-in admin."""

from __future__ import annotations

import re

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from engine import notices
from engine import users as accounts
from engine.errors import NotFoundError, PermissionDeniedError, ValidationError
from engine.models import ROLES

from ..account.routes import MODE_LABELS
from ..auth import require_role
from ..db import command
from ..extensions import db
from . import bp

ROLE_LABELS = {
    "staff": _l("Staff"),
    "process_owner": _l("Process owner"),
    "auditor": _l("Auditor"),
    "manager": _l("Manager"),
    "admin": _l("Admin"),
}
# Where the engine's problem locations of add_user are shown on the add form.
FIELD_OF = {"role": "roles", "group": "new_groups"}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def _engine_messages() -> dict:
    # The engine words its refusals in English; the ones an admin meets often get the
    # user's language, anything else is shown as the engine said it.
    return {
        "you cannot deactivate your own account": _("You cannot deactivate your own account."),
        "you cannot take the admin role from yourself": _("You cannot take the admin role from yourself."),
        "at least 8 characters": _("Use at least 8 characters."),
        "use 1-150 letters, digits and . _ @ -": _("Use 1 to 150 letters, digits and . _ @ -"),
    }


def _problem_text(message: str) -> str:
    return _engine_messages().get(message, message)


def _split_slugs(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,\s]+", text or "") if part.strip()]


def _render_users(form: dict | None = None, errors: dict | None = None, status: int = 200):
    session = db.session
    form = form or {"username": "", "email": "", "roles": ["staff"], "groups": [], "new_groups": ""}
    return render_template("admin/users.html", users=accounts.list_users(session),
                           groups=accounts.list_groups(session), roles=ROLES, role_labels=ROLE_LABELS,
                           form=form, errors=errors or {}), status


def _render_user(username: str, *, errors=(), token: str | None = None, status: int = 200):
    session = db.session
    user = accounts.get_user(session, username)
    return render_template("admin/user.html", user=user, groups=accounts.list_groups(session),
                           roles=ROLES, role_labels=ROLE_LABELS, errors=list(errors), token=token,
                           modes=MODE_LABELS,
                           is_self=user.username == current_user.username), status


def _refused(username: str, exc: ValidationError):
    return _render_user(username, errors=[_problem_text(p.message) for p in exc.problems] or [exc.message],
                        status=422)


@bp.get("/users")
@require_role("admin")
def users():
    return _render_users()


@bp.post("/users")
@require_role("admin")
def add_user():
    form = {
        "username": (request.form.get("username") or "").strip(),
        "email": (request.form.get("email") or "").strip(),
        "roles": request.form.getlist("roles"),
        "groups": request.form.getlist("groups"),
        "new_groups": (request.form.get("new_groups") or "").strip(),
    }
    password = request.form.get("password") or ""
    errors: dict[str, list[str]] = {}
    if form["username"]:
        try:
            accounts.get_user(db.session, form["username"])
            errors["username"] = [_("A user with this name already exists.")]
        except NotFoundError:
            pass
    if form["email"] and not EMAIL.match(form["email"]):
        errors["email"] = [_("This is not an e-mail address.")]
    if not password:
        errors["password"] = [_("Enter a password of at least 8 characters.")]
    if not errors:
        try:
            with command() as session:
                accounts.add_user(session, form["username"], roles=form["roles"],
                                  groups=[*form["groups"], *_split_slugs(form["new_groups"])],
                                  password=password, email=form["email"] or None,
                                  actor=current_user.username)
        except ValidationError as exc:
            for problem in exc.problems:
                field = FIELD_OF.get(problem.location, problem.location)
                errors.setdefault(field, []).append(_problem_text(problem.message))
    if errors:
        return _render_users(form, errors, status=422)
    flash(_("User %(name)s added.", name=form["username"]), "success")
    return redirect(url_for("admin.user", username=form["username"]))


@bp.get("/users/<username>")
@require_role("admin")
def user(username: str):
    return _render_user(username)


@bp.post("/users/<username>/groups")
@require_role("admin")
def set_groups(username: str):
    try:
        with command() as session:
            accounts.set_groups(session, username, request.form.getlist("groups"), actor=current_user.username)
    except ValidationError as exc:
        return _refused(username, exc)
    flash(_("Groups of %(name)s saved.", name=username), "success")
    return redirect(url_for("admin.user", username=username))


@bp.post("/users/<username>/roles")
@require_role("admin")
def set_roles(username: str):
    try:
        with command() as session:
            accounts.set_roles(session, username, request.form.getlist("roles"), actor=current_user.username)
    except ValidationError as exc:
        return _refused(username, exc)
    flash(_("Roles of %(name)s saved.", name=username), "success")
    return redirect(url_for("admin.user", username=username))


@bp.post("/users/<username>/active")
@require_role("admin")
def set_active(username: str):
    active = request.form.get("active") == "1"
    try:
        with command() as session:
            accounts.set_active(session, username, active, actor=current_user.username)
    except ValidationError as exc:
        return _refused(username, exc)
    if active:
        flash(_("%(name)s can sign in again.", name=username), "success")
    else:
        flash(_("%(name)s is deactivated: their sessions and API tokens no longer work.", name=username),
              "success")
    return redirect(url_for("admin.user", username=username))


@bp.post("/users/<username>/notify")
@require_role("admin")
def set_notify_mode(username: str):
    try:
        with command() as session:
            notices.set_notify_mode(session, username, request.form.get("notify_mode") or "",
                                    actor=current_user.username)
    except ValidationError:
        return _render_user(username, errors=[_("Choose one of the options.")], status=422)
    flash(_("Mail notices of %(name)s saved.", name=username), "success")
    return redirect(url_for("admin.user", username=username))


@bp.post("/users/<username>/tokens")
@require_role("admin")
def create_token(username: str):
    try:
        with command() as session:
            token = accounts.create_token(session, username, actor=current_user.username)
    except PermissionDeniedError:
        return _render_user(username, errors=[_("Activate the account before giving it an API token.")],
                            status=422)
    # Shown on this response only: the database keeps just its hash, and a flash
    # message would put it into the session cookie.
    return _render_user(username, token=token)
