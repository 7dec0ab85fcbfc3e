"""The list of visible instances and one instance's page."""

from __future__ import annotations

from flask import render_template, request
from flask_login import current_user, login_required

from engine import instances
from engine.models import InstanceStatus

from ..extensions import db
from ..timeline import describe_events
from . import bp

PER_PAGE = 50


@bp.get("")
@login_required
def index():
    code = (request.args.get("code") or "").strip()
    status = request.args.get("status") if request.args.get("status") in set(InstanceStatus) else None
    try:
        page = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page = 1
    rows = instances.list_visible(db.session, current_user, tracking_code=code or None, status=status,
                                  limit=PER_PAGE + 1, offset=(page - 1) * PER_PAGE)
    return render_template("instances/index.html", rows=rows[:PER_PAGE], has_more=len(rows) > PER_PAGE,
                           page=page, code=code, status=status, statuses=list(InstanceStatus))


@bp.get("/<int:instance_id>")
@login_required
def show(instance_id: int):
    session = db.session
    instance = instances.get_visible(session, current_user, instance_id)
    task_rows = instances.tasks_of(session, instance_id)
    return render_template(
        "instances/show.html", instance=instance, version=instances.version_of(session, instance),
        data=instances.current_data(session, instance_id), tasks=task_rows,
        events=describe_events(instances.events_of(session, instance_id), {t.id: t.name for t in task_rows}),
    )
