"""The "My account" page: how I hear of new tasks in my groups."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from engine import notices
from engine.errors import ValidationError

from ..db import command
from . import bp

MODE_LABELS = {
    notices.IMMEDIATE: (_l("At once"), _l("A mail for every new task in my groups.")),
    notices.DAILY: (_l("Daily digest"), _l("One mail a day listing the unclaimed tasks of my groups.")),
    notices.OFF: (_l("Off"), _l("No mail about new tasks.")),
}


@bp.get("")
@login_required
def index():
    return render_template("account/index.html", modes=MODE_LABELS, error=None)


@bp.post("")
@login_required
def save():
    try:
        with command() as session:
            notices.set_notify_mode(session, current_user.username, request.form.get("notify_mode") or "",
                                    actor=current_user.username)
    except ValidationError:
        return render_template("account/index.html", modes=MODE_LABELS,
                               error=_("Choose one of the options.")), 422
    flash(_("Your notice setting is saved."), "success")
    return redirect(url_for("account.index"))
