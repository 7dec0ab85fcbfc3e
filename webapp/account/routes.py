"""The "My account" page: how I hear of new tasks in my groups; signing out everywhere."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, logout_user

from engine import notices, user_sessions
from engine.errors import ValidationError

from ..auth.identity import SIGN_IN_KEY
from ..db import command
from ..extensions import db
from . import bp

MODE_LABELS = {
    notices.IMMEDIATE: (_l("At once"), _l("A mail for every new task in my groups.")),
    notices.DAILY: (_l("Daily digest"), _l("One mail a day listing the unclaimed tasks of my groups.")),
    notices.OFF: (_l("Off"), _l("No mail about new tasks.")),
}


@bp.get("")
@login_required
def index():
    return _render()


def _render(error: str | None = None, status: int = 200):
    signed_in = user_sessions.count_active(db.session, current_user.id)
    return render_template("account/index.html", modes=MODE_LABELS, error=error, signed_in=signed_in), status


@bp.post("")
@login_required
def save():
    try:
        with command() as db_session:
            notices.set_notify_mode(db_session, current_user.username, request.form.get("notify_mode") or "",
                                    actor=current_user.username)
    except ValidationError:
        return _render(_("Choose one of the options."), 422)
    flash(_("Your notice setting is saved."), "success")
    return redirect(url_for("account.index"))


@bp.post("/sessions/end")
@login_required
def sign_out_everywhere():
    """End every sign-in of mine, this browser's too; my API tokens stay valid."""
    with command() as db_session:
        user_sessions.end_all(db_session, current_user.username, actor=current_user.username)
    session.pop(SIGN_IN_KEY, None)
    logout_user()
    flash(_("You have signed out in every browser."), "info")
    return redirect(url_for("auth.login"))
