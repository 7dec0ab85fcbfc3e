"""Catalog views: the list by team, one process, its BPMN file, starting a request."""

from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine import conversation, definitions, documentation, recurring, runtime
from engine.errors import ConflictError, NotFoundError, ValidationError
from engine.models import AuthorKind
from processes import catalog, i18n
from processes.notifications import notify_requester

from ..auth import require_role
from ..db import command
from ..extensions import db
from ..inbox.forms import attach_problems, build_fields, check_submission, has_errors, read_submission
from ..templating import reader_language, shown_form
from . import bp
from .uploads import diagram_page, may_document


def _entry_or_404(key: str) -> catalog.CatalogEntry:
    try:
        return catalog.entry(key)
    except LookupError:
        abort(404)


@bp.get("")
@login_required
def index():
    stats = definitions.process_stats(db.session)
    return render_template("catalog/index.html", teams=catalog.by_team(), stats=stats)


@bp.get("/<key>")
@login_required
def show(key: str):
    entry = _entry_or_404(key)
    stats = definitions.process_stats(db.session, key=key).get(key)
    doc = documentation.latest_documentation(db.session, key)
    schedules = recurring.schedules(db.session, key) if stats is not None else []
    failed = recurring.failed_starts(db.session, key) if current_user.has_role("admin") else []
    return diagram_page(render_template(
        "catalog/show.html", entry=entry, stats=stats, schedules=schedules, every=every, failed_starts=failed, startable=stats is not None and doc is None and _can_start(),
        doc_problems=doc[1] if doc else None, may_upload=may_document(entry),
        has_diagram=stats is not None or entry.bpmn_path.is_file()))


@bp.get("/<key>/diagram.bpmn")
@login_required
def diagram(key: str):
    """The BPMN of the latest deployed version, or the drawing in the catalog when none runs yet.
    With ``?shown=1`` (the diagram on the process's page), its names in the reader's language."""
    entry = _entry_or_404(key)
    try:
        content = definitions.definition_file(db.session, key, entry.bpmn_file)
    except NotFoundError:
        if not entry.bpmn_path.is_file():
            abort(404)
        content = entry.bpmn_path.read_bytes()
    if request.args.get("shown"):
        content = i18n.translate_bpmn(key, content, reader_language(), entry.bpmn_file)
    return Response(content, mimetype="application/xml", headers={
        "Content-Disposition": f'attachment; filename="{entry.bpmn_file}"', "Vary": "Cookie"})


@bp.post("/<key>/recurring/<int:job_id>/retry")
@require_role("admin")
def retry_recurring_start(key: str, job_id: int):
    """An admin queues a failed recurring start again."""
    _entry_or_404(key)
    try:
        with command() as session:
            recurring.retry_start(session, key, job_id, actor=current_user.username)
    except NotFoundError:
        abort(404)
    except ConflictError:
        flash(_("This start is not waiting for a retry."), "error")
        return redirect(url_for("catalog.show", key=key))
    flash(_("The start is queued again; the worker runs it shortly."), "success")
    return redirect(url_for("catalog.show", key=key))


_EVERY_ONE = {"years": lambda: _("Every year"), "months": lambda: _("Every month"),
              "weeks": lambda: _("Every week"), "days": lambda: _("Every day"),
              "hours": lambda: _("Every hour"), "minutes": lambda: _("Every minute")}
# One or more of a unit: separate messages, not plural forms (Turkish has one form).
_EVERY_N = {"years": (lambda n: _("%(num)d year", num=n), lambda n: _("%(num)d years", num=n)),
            "months": (lambda n: _("%(num)d month", num=n), lambda n: _("%(num)d months", num=n)),
            "weeks": (lambda n: _("%(num)d week", num=n), lambda n: _("%(num)d weeks", num=n)),
            "days": (lambda n: _("%(num)d day", num=n), lambda n: _("%(num)d days", num=n)),
            "hours": (lambda n: _("%(num)d hour", num=n), lambda n: _("%(num)d hours", num=n)),
            "minutes": (lambda n: _("%(num)d minute", num=n), lambda n: _("%(num)d minutes", num=n)),
            "seconds": (lambda n: _("%(num)d second", num=n), lambda n: _("%(num)d seconds", num=n))}


def every(parts: dict[str, int]) -> str:
    """How often a recurring start runs, in words: "Her ay", "Every 2 weeks"."""
    if len(parts) == 1:
        (name, count), = parts.items()
        if count == 1 and name in _EVERY_ONE:
            return _EVERY_ONE[name]()
    return _("Every %(period)s", period=" ".join(_EVERY_N[name][count != 1](count) for name, count in parts.items()))


def _can_start() -> bool:
    return current_user.has_role("staff")


def _start_fields(key: str):
    """The process's complete start schema: what the engine checks the start against."""
    try:
        schema, ui = definitions.start_schema(db.session, key)
    except NotFoundError:
        abort(404)
    return schema or {"type": "object", "properties": {}}, ui or {}


def _record_requester(session, instance_id: int, data: dict) -> None:
    """A request taken by phone or in person can be followed like a portal one: its requester,
    the first message and the "received" mail (in the default language: nobody chose one)."""
    email = (data.get("requester_email") or "").strip()
    if not email:
        return
    conversation.record_contact(session, instance_id, name=data.get("requester") or email, email=email,
                                unit=data.get("unit"), phone=data.get("phone"),
                                locale=current_app.config.get("BABEL_DEFAULT_LOCALE") or "tr")
    if (data.get("message") or "").strip():
        conversation.add_message(session, instance_id, data["message"], author_kind=AuthorKind.REQUESTER,
                                 author=email, public=True, actor=current_user.username)
    notify_requester(session, instance_id, "received")


@bp.get("/<key>/start")
@require_role("staff")
def start_form(key: str):
    entry = _entry_or_404(key)
    schema, ui = _start_fields(key)
    return render_template("catalog/start.html", entry=entry, fields=build_fields(*shown_form(key, schema, ui)),
                           errors=[])


@bp.post("/<key>/start")
@require_role("staff")
def start(key: str):
    entry = _entry_or_404(key)
    schema, ui = _start_fields(key)
    fields = build_fields(*shown_form(key, schema, ui))
    data = read_submission(fields, schema, request.form)
    general = check_submission(fields, schema, data)
    if not has_errors(fields, general):
        try:
            with command() as session:
                instance = runtime.start_instance(session, key, data=data, actor=current_user.username)
                _record_requester(session, instance.id, data)
                instance_id, code = instance.id, instance.tracking_code
        except ValidationError as exc:
            general = attach_problems(fields, exc.problems)
        else:
            flash(_("Request started; its tracking code is %(code)s.", code=code), "success")
            return redirect(url_for("instances.show", instance_id=instance_id))
    return render_template("catalog/start.html", entry=entry, fields=fields,
                           errors=[_("Please correct the marked fields."), *general]), 422
