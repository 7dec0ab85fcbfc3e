"""The inbox list and "claim and open". The list reads ``human_task`` with the request's
summary and requester (:mod:`engine.inbox`), never a workflow."""

from __future__ import annotations

from dataclasses import replace

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine import inbox, saved_filters, tasks
from engine.errors import ConflictError
from engine.inbox import InboxFilter

from ..db import command
from ..extensions import db
from ..templating import category_title, process_title, ptext
from ..urls import safe_next
from . import bp, display


@bp.get("/inbox")
@login_required
def index():
    flt = InboxFilter.from_args(request.args)
    session = db.session
    summary = inbox.overview(session, current_user)
    if "section" not in request.args and not summary.sections["mine"] and summary.sections["group"]:
        flt = replace(flt, section="group")
    titles = {key: process_title(key) for key in summary.processes}
    page = inbox.inbox_page(session, current_user, flt, overview_=summary, process_titles=titles)
    # a step's name is the filter's value; its label in the reader's language
    steps = {name: ptext(name, key) for key, name in summary.steps}
    return render_template(
        "inbox/index.html", page=page, flt=flt, counts=summary.sections, groups=summary.groups,
        process_titles=titles, categories=[(c, category_title(c)) for c in summary.categories], steps=steps,
        saved=saved_filters.list_filters(session, current_user), choices=display.choices(), link=_linker(flt))


@bp.post("/tasks/<int:task_id>/claim-and-open")
@login_required
def claim_and_open(task_id: int):
    """One click from the list to work: claim, then the task page. When someone was
    quicker, back to the list (``next``) with the reason."""
    try:
        with command() as session:
            tasks.claim_task(session, task_id, current_user)
    except ConflictError as exc:
        flash(_("This task could not be claimed: %(reason)s", reason=exc.message), "error")
        return redirect(safe_next(request.form.get("next")))
    flash(_("Task claimed: it is now in your list."), "success")
    return redirect(url_for("inbox.task", task_id=task_id))


def _linker(flt: InboxFilter):
    """``link(**changes)``: the inbox URL of ``flt`` with some fields changed (page 1 unless given)."""
    base = url_for("inbox.index")

    def link(**changes) -> str:
        changed = replace(flt, **{"page": 1, **changes})
        page = f"&page={changed.page}" if changed.page > 1 else ""
        return f"{base}?{changed.query()}{page}"
    return link
