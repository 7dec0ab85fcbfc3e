"""Task views: the task page with its form, claim/unclaim/reassign/complete (the list is in
:mod:`.listing`). A task page loads its instance."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine import form_conditions, instances, tasks
from engine.errors import ConflictError, PermissionDeniedError, ScriptError, ValidationError, WorkflowError
from engine.models import OPEN_TASK_STATES, HumanTask

from .. import conversation, data_panel
from ..db import command
from ..extensions import db
from ..templating import ptext, shown_form
from ..timeline import describe_events
from ..urls import safe_next
from . import bp
from .forms import attach_problems, build_fields, check_submission, has_errors, read_submission

bp.add_app_template_filter(data_panel.shown, "panel_value")


def _visible_task(task_id: int) -> HumanTask:
    """A task the current user may look at: their group's, theirs, or any for admins."""
    task = tasks.get_task(db.session, task_id)
    user = current_user
    if not (user.has_role("admin") or task.group_name in user.group_slugs
            or user.username in (task.assignee, task.completed_by)):
        raise PermissionDeniedError(f"task {task_id} belongs to another group")
    return task


def _render_task(task: HumanTask, fields=None, general_errors=(), notice=None, status=200, draft=None):
    session = db.session
    form = instances.task_form(session, task)
    is_open = task.state in OPEN_TASK_STATES
    context = instances.task_data(session, task) if is_open else {}
    if fields is None and form.schema:
        fields = build_fields(*shown_form(task.process_key, form.schema, form.ui_schema), context)
    instance = tasks.task_instance(session, task)
    can_act = is_open and task.assignee in (None, current_user.username)
    conv = conversation.panel(instance, url_for("inbox.task_message", task_id=task.id), data=context,
                              answer_target=can_act and _answer_target(fields), draft=draft)
    schemas = instances.process_forms(session, instance)
    rows = data_panel.rows(instance, schemas, context, skip={f.name for f in fields or []},
                           has_contact=conv.contact is not None)
    return render_template(
        "inbox/task.html", task=task, instance=instance, fields=fields or [], schema=form.schema,
        rows=rows, request_subject=_text(context.get("subject")), request_message=_text(context.get("message")),
        data=context,   # the task's process data, for partials such as inbox/_triage.html
        is_open=is_open, general_errors=list(general_errors), notice=notice,
        events=describe_events(instances.events_of(session, task.instance_id),
                               {t.id: ptext(t.name, t.process_key) for t in instances.tasks_of(session, task.instance_id)},
                               task.process_key, instance=instance, schemas=schemas),
        version=instances.version_of(session, instance),
        can_act=can_act, conv=conv,
        members=tasks.group_members(session, task.group_name) if is_open and current_user.has_role("admin")
        else [],
    ), status


@bp.get("/tasks/<int:task_id>")
@login_required
def task(task_id: int):
    return _render_task(_visible_task(task_id))


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def _answer_target(fields) -> bool:
    """Canned texts may also go into the task form's "answer" textarea, if it has one."""
    return any(f.name == "answer" and f.kind == "textarea" for f in fields or [])


@bp.post("/tasks/<int:task_id>/messages")
@login_required
def task_message(task_id: int):
    """A note or a public message to the task's request (the conversation panel's form)."""
    task = _visible_task(task_id)
    draft = conversation.post_message(tasks.task_instance(db.session, task))
    if draft is None:
        flash(_("Message saved."), "success")
        return redirect(url_for("inbox.task", task_id=task_id, _anchor="conversation"))
    return _render_task(task, status=422, draft=draft)


@bp.post("/tasks/<int:task_id>/claim")
@login_required
def claim(task_id: int):
    try:
        with command() as session:
            tasks.claim_task(session, task_id, current_user)
        flash(_("Task claimed: it is now in your list."), "success")
    except ConflictError as exc:
        flash(_("This task could not be claimed: %(reason)s", reason=exc.message), "error")
    return redirect(safe_next(request.form.get("next")) if request.form.get("next")
                    else url_for("inbox.task", task_id=task_id))


@bp.post("/tasks/<int:task_id>/unclaim")
@login_required
def unclaim(task_id: int):
    try:
        with command() as session:
            tasks.unclaim_task(session, task_id, current_user)
        flash(_("Task given back to its group."), "success")
    except ConflictError as exc:
        flash(_("This task could not be given back: %(reason)s", reason=exc.message), "error")
    return redirect(safe_next(request.form.get("next")))


@bp.post("/tasks/<int:task_id>/reassign")
@login_required
def reassign(task_id: int):
    assignee = request.form.get("assignee", "")
    try:
        with command() as session:
            tasks.reassign_task(session, task_id, assignee, current_user)
        flash(_("Task assigned to %(user)s.", user=assignee), "success")
    except (ConflictError, ValidationError) as exc:
        flash(_("This task could not be reassigned: %(reason)s", reason=str(exc)), "error")
    return redirect(url_for("inbox.task", task_id=task_id))


@bp.post("/tasks/<int:task_id>/complete")
@login_required
def complete(task_id: int):
    task = _visible_task(task_id)
    form = instances.task_form(db.session, task)
    fields, data = [], {}
    if form.schema:
        fields = build_fields(*shown_form(task.process_key, form.schema, form.ui_schema))
        data = read_submission(fields, form.schema, request.form)
        general = check_submission(fields, form.schema, data)
        if has_errors(fields, general):
            return _render_task(task, fields, [_("Please correct the marked fields."), *general], status=422)
        data = form_conditions.prune(form.schema, data)   # what the choices leave out is not stored
    name = ptext(task.name, task.process_key)
    try:
        with command() as session:
            tasks.complete_task(session, task_id, current_user, data)
    except ValidationError as exc:
        general = attach_problems(fields, exc.problems)
        return _render_task(tasks.get_task(db.session, task_id), fields,
                            [_("Please correct the marked fields."), *general], status=422)
    except (WorkflowError, ScriptError) as exc:
        # The process failed on this data (a script, an expression): nothing was saved.
        notice = _("The process could not continue with this answer, so nothing was saved: %(reason)s",
                   reason=exc.message)
        return _render_task(tasks.get_task(db.session, task_id), fields, [notice], status=422)
    except (ConflictError, PermissionDeniedError):
        # Someone else completed or took it meanwhile: say so plainly, keep what was typed.
        db.session.expire_all()
        task = tasks.get_task(db.session, task_id)
        if task.state in OPEN_TASK_STATES:
            notice = _("%(user)s has claimed this task meanwhile; your answer was not saved.",
                       user=task.assignee)
        else:
            notice = _("This task was already completed by %(user)s; your answer was not saved.",
                       user=task.completed_by or "–")
        return _render_task(task, fields or None, notice=notice, status=409)
    flash(_("Task completed: %(name)s", name=name), "success")
    return redirect(url_for("inbox.index"))
