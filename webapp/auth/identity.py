"""Who is asking: signed sessions (Flask-Login) and API Bearer tokens, and role checks."""

from __future__ import annotations

from functools import wraps

from flask import flash, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user

from engine import user_sessions, users
from engine.errors import PermissionDeniedError
from engine.models import User

from ..db import command
from ..extensions import db

# The key, in the signed session cookie, of the sign-in's random key (engine.user_sessions).
SIGN_IN_KEY = "sign_in"


def init_login(manager: LoginManager) -> None:
    manager.login_view = "auth.login"
    manager.login_message = _l("Please sign in to see this page.")
    manager.login_message_category = "info"
    manager.session_protection = "basic"
    manager.user_loader(_load_session_user)
    manager.request_loader(_load_token_user)
    manager.unauthorized_handler(_unauthorized)


def _load_session_user(identity: str) -> User | None:
    """A session is valid while its sign-in is recorded on the server (not signed out, not
    expired), the user is active and its epoch is current: one query per request."""
    user_id, _, epoch = identity.partition(":")
    key = session.get(SIGN_IN_KEY)
    if not user_id.isdigit() or not epoch.isdigit() or not isinstance(key, str):
        return None
    return user_sessions.signed_in_user(db.session, int(user_id), int(epoch), key)


def _load_token_user(req) -> User | None:
    header = req.headers.get("Authorization", "")
    if not req.path.startswith("/api/") or not header.startswith("Bearer "):
        return None
    with command() as session:
        return users.user_for_token(session, header[len("Bearer "):].strip())


def _unauthorized():
    if request.path.startswith("/api/"):
        from ..errors import json_error

        return json_error(401, "unauthorized", "sign in or send an API token (Authorization: Bearer ...)")
    flash(_l("Please sign in to see this page."), "info")
    return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))


def require_role(*roles: str):
    """Allow a view only to signed-in users having one of ``roles`` (admins always)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                from ..extensions import login_manager

                return login_manager.unauthorized()
            if not any(current_user.has_role(role) for role in roles):
                raise PermissionDeniedError(f"this needs the role {' or '.join(roles)}")
            return view(*args, **kwargs)

        return wrapped

    return decorator
