"""Saved inbox filters: keep the filter on screen under a name, open one, delete one.
Each user has their own (:mod:`engine.saved_filters` refuses another user's)."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine import saved_filters
from engine.errors import ValidationError
from engine.inbox import InboxFilter

from ..db import command
from ..extensions import db
from . import bp


def _inbox(query: str) -> str:
    return url_for("inbox.index") + (f"?{query}" if query else "")


@bp.post("/inbox/filters")
@login_required
def save_filter():
    """Save the filter the form carries (the list's current one) under the typed name."""
    flt = InboxFilter.from_query(request.form.get("query", "")[:2000])
    name = request.form.get("name", "")
    try:
        with command() as session:
            saved = saved_filters.save_filter(session, current_user, name, flt)
            query = saved.query
    except ValidationError as exc:
        if any(p.code == "maxItems" for p in exc.problems):
            message = _("You have %(n)s saved filters already; delete one first.", n=saved_filters.FILTERS_MAX)
        elif any(p.code == "maxLength" for p in exc.problems):
            message = _("A filter name has at most %(n)s characters.", n=saved_filters.NAME_MAX)
        elif any(p.code == "required" for p in exc.problems):
            message = _("Give the filter a name.")
        else:
            message = _("This filter name has characters that cannot be kept.")
        flash(message, "error")
        return redirect(_inbox(flt.query()))
    flash(_("Filter saved: %(name)s", name=name.strip()), "success")
    return redirect(_inbox(query))


@bp.get("/inbox/filters/<int:filter_id>")
@login_required
def apply_filter(filter_id: int):
    """Open the inbox with one of the user's saved filters."""
    return redirect(_inbox(saved_filters.get_filter(db.session, current_user, filter_id).query))


@bp.post("/inbox/filters/<int:filter_id>/delete")
@login_required
def delete_filter(filter_id: int):
    with command() as session:
        name = saved_filters.delete_filter(session, current_user, filter_id)
    flash(_("Filter deleted: %(name)s", name=name), "success")
    return redirect(url_for("inbox.index"))
