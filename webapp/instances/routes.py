"""The list of visible instances and one instance's page."""

from __future__ import annotations

from flask import Response, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine import diagram_state, instances
from engine.errors import NotFoundError, PermissionDeniedError, ValidationError
from engine.models import InstanceStatus
from processes import i18n
from processes.user_support.recategorize import CATEGORIES, recategorize

from .. import conversation, data_panel, triage
from ..catalog.uploads import diagram_page
from ..db import command
from ..extensions import db
from ..templating import ptext, reader_language
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
    return _render_show(instances.get_visible(db.session, current_user, instance_id))


def _render_show(instance, draft=None, status=200):
    session = db.session
    task_rows = instances.tasks_of(session, instance.id)
    data = instances.current_data(session, instance.id)
    schemas = instances.process_forms(session, instance)
    conv = conversation.panel(instance, url_for("instances.message", instance_id=instance.id), data=data,
                              draft=draft)
    rows = data_panel.rows(instance, schemas, data, has_contact=conv.contact is not None)
    return diagram_page(render_template(
        "instances/show.html", instance=instance, version=instances.version_of(session, instance),
        data=data, tasks=task_rows, rows=rows,
        events=describe_events(instances.events_of(session, instance.id),
                               {t.id: ptext(t.name, t.process_key) for t in task_rows},
                               instance.process_key, instance=instance, schemas=schemas),
        categories=CATEGORIES if _can_recategorize(instance, task_rows) else (),
        conv=conv,
    ), status)


@bp.get("/<int:instance_id>/diagram.json")
@login_required
def diagram_marks(instance_id: int):
    """Finished elements, current tokens and flows taken, for the diagram (webapp/static/diagram.js)."""
    instances.get_visible(db.session, current_user, instance_id)
    return jsonify(diagram_state.instance_marks(db.session, instance_id))


@bp.get("/<int:instance_id>/diagram.bpmn")
@login_required
def diagram_bpmn(instance_id: int):
    """The BPMN of the instance's own version (not the latest one), its names in the reader's
    language (the viewer draws what it is given)."""
    instance = instances.get_visible(db.session, current_user, instance_id)
    name, content = diagram_state.process_bpmn(db.session, instance.definition_id, instance.process_key)
    content = i18n.translate_bpmn(instance.process_key, content, reader_language(), name)
    return Response(content, mimetype="application/xml",
                    headers={"Content-Disposition": f'inline; filename="{name}"', "Vary": "Cookie"})


@bp.post("/<int:instance_id>/messages")
@login_required
def message(instance_id: int):
    """A note or a public message to the request (the conversation panel's form)."""
    instance = instances.get_visible(db.session, current_user, instance_id)
    draft = conversation.post_message(instance)
    if draft is None:
        flash(_("Message saved."), "success")
        return redirect(url_for("instances.show", instance_id=instance_id, _anchor="conversation"))
    return _render_show(instance, draft, 422)


def _can_recategorize(instance, task_rows) -> bool:
    """The help desk moves a user_support request while it waits in a team's queue (seed 000)."""
    return triage.can_recategorize(current_user, instance, task_rows)


@bp.post("/<int:instance_id>/recategorize")
@login_required
def move(instance_id: int):
    instance = instances.get_visible(db.session, current_user, instance_id)
    if not _can_recategorize(instance, instances.tasks_of(db.session, instance_id)):
        raise PermissionDeniedError("only the help desk moves a request waiting in a team's queue")
    category = request.form.get("category", "")
    try:
        with command() as session:
            recategorize(session, instance_id, category, by=current_user.username,
                         note=request.form.get("note", ""))
    except (ValidationError, NotFoundError) as exc:
        flash(_("The request was not moved: %(reason)s", reason=str(exc)), "error")
    else:
        flash(_("The request was moved to the category %(category)s.", category=category), "success")
    return redirect(url_for("instances.show", instance_id=instance_id))
