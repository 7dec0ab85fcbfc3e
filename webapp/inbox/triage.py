"""The task page's triage panel (``inbox/_triage.html``): priority, category and
duplicate link of the task's request, each a POST of its own (CSRF, permission)."""

from __future__ import annotations

from flask import redirect, request, url_for
from flask_login import login_required

from engine import tasks
from engine.models import OPEN_TASK_STATES

from .. import triage
from ..extensions import db
from . import bp


@bp.app_template_global("triage_panel")
def triage_panel(instance, task=None):
    """What the triage panel shows, or None (``{% set t = triage_panel(instance, task) %}``)."""
    return triage.panel(instance, task)


def _instance_of(task_id: int):
    """The task and its request, if the current user may see the request (the request
    page's check: the panel acts on the request, not on the task)."""
    task = tasks.get_task(db.session, task_id)
    return task, triage.visible(task.instance_id)


def _back(task, moved: bool):
    """To the task again, or to the inbox once the task is gone (moved, linked)."""
    db.session.expire_all()
    task = tasks.get_task(db.session, task.id)
    if moved and task.state not in OPEN_TASK_STATES:
        return redirect(url_for("inbox.index"))
    return redirect(url_for("inbox.task", task_id=task.id, _anchor="triage"))


@bp.post("/tasks/<int:task_id>/triage/priority")
@login_required
def triage_priority(task_id: int):
    task, instance = _instance_of(task_id)
    triage.set_priority(instance, request.form.get("priority", ""))
    return _back(task, False)


@bp.post("/tasks/<int:task_id>/triage/category")
@login_required
def triage_category(task_id: int):
    task, instance = _instance_of(task_id)
    moved = triage.move(instance, request.form.get("category", ""), request.form.get("note", ""))
    return _back(task, moved)


@bp.post("/tasks/<int:task_id>/triage/duplicate")
@login_required
def triage_duplicate(task_id: int):
    task, instance = _instance_of(task_id)
    linked = triage.link(instance, request.form.get("main", ""))
    return _back(task, linked)


@bp.post("/tasks/<int:task_id>/triage/unlink")
@login_required
def triage_unlink(task_id: int):
    task, instance = _instance_of(task_id)
    triage.unlink(instance)
    return _back(task, False)
