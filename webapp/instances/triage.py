"""The request page's triage: priority and duplicate link (the category form is in
``routes.py``), through the same actions as the task page (:mod:`webapp.triage`)."""

from __future__ import annotations

from flask import redirect, request, url_for
from flask_login import login_required

from .. import triage
from . import bp


def _back(instance_id: int):
    return redirect(url_for("instances.show", instance_id=instance_id, _anchor="triage"))


@bp.post("/<int:instance_id>/priority")
@login_required
def set_priority(instance_id: int):
    triage.set_priority(triage.visible(instance_id), request.form.get("priority", ""))
    return _back(instance_id)


@bp.post("/<int:instance_id>/duplicate")
@login_required
def link_duplicate(instance_id: int):
    triage.link(triage.visible(instance_id), request.form.get("main", ""))
    return _back(instance_id)


@bp.post("/<int:instance_id>/duplicate/unlink")
@login_required
def unlink_duplicate(instance_id: int):
    triage.unlink(triage.visible(instance_id))
    return _back(instance_id)
