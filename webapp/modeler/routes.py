"""Modeler views: the page, the latest version's files, validate, deploy, form check and preview.

Save and deploy change nothing unless the user may edit the process (403 otherwise);
everybody on the staff may look. The page needs a relaxed style policy (bpmn-js
positions its canvas, palette and watermark with inline styles), set on these
responses only.
"""

from __future__ import annotations

from flask import jsonify, make_response, render_template, request
from flask_babel import get_locale
from flask_login import current_user

from engine import definitions, owners, services, textinput
from engine.errors import Problem, ValidationError
from processes import catalog

from ..auth import require_role
from ..db import command
from ..extensions import db
from . import bp, formcheck, workspace

VIEWERS = ("staff", "process_owner", "auditor", "manager")
MODELER_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
               "script-src 'self'; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
               "frame-ancestors 'none'; base-uri 'self'; form-action 'self'")


def _relaxed(response):
    response.headers["Content-Security-Policy"] = MODELER_CSP
    response.headers["Cache-Control"] = "no-store"
    return response


def _body() -> dict:
    try:
        payload = request.get_json(force=True, silent=True)
    except RecursionError:   # nested deeper than the JSON parser goes (silent covers ValueError only)
        payload = None
    if not isinstance(payload, dict):
        raise ValidationError("the body must be a JSON object", [])
    textinput.check(payload, sizes=False)   # the files have their own size limit (MAX_XML_BYTES)
    return payload


@bp.get("/<key>")
@require_role(*VIEWERS)
def edit(key: str):
    version, bpmn_name, _files = workspace.current_files(db.session, key)
    try:
        entry = catalog.entry(key)
        title = entry.title_en if str(get_locale()) == "en" else entry.title_tr
    except LookupError:
        entry, title = None, key
    html = render_template("modeler/edit.html", key=key, title=title, entry=entry, version=version,
                           bpmn_name=bpmn_name, can_edit=owners.may_change(current_user, key),
                           group=owners.owner_of(key))
    return _relaxed(make_response(html))


@bp.get("/<key>/files.json")
@require_role(*VIEWERS)
def files(key: str):
    """The latest version's BPMN and its form files, as text."""
    version, bpmn_name, files = workspace.current_files(db.session, key)
    forms = {name: content.decode("utf-8", "replace") for name, content in files.items() if name.endswith(".json")}
    return _relaxed(jsonify({"key": key, "version": version, "bpmn_name": bpmn_name,
                             "bpmn": files[bpmn_name].decode("utf-8", "replace"), "forms": forms}))


@bp.post("/<key>/validate")
@require_role(*VIEWERS)
def validate(key: str):
    """Save: check the working copy as ``sek validate`` would; the copy stays in the browser."""
    workspace.require_edit(current_user, key)
    body = _body()
    bpmn_name, files = workspace.edited_files(db.session, key, body.get("bpmn"), body.get("forms") or {})
    problems = workspace.check(files, bpmn_name, key, services.operator_names(), current_user)
    return jsonify({"ok": not problems, "problems": workspace.problem_dicts(problems)})


@bp.post("/<key>/deploy")
@require_role(*VIEWERS)
def deploy(key: str):
    """Validate, then deploy as a new version with the change note (identical content: none)."""
    workspace.require_edit(current_user, key)
    body = _body()
    note = (body.get("note") or "").strip() if isinstance(body.get("note"), str) else ""
    bpmn_name, files = workspace.edited_files(db.session, key, body.get("bpmn"), body.get("forms") or {})
    problems = workspace.check(files, bpmn_name, key, services.operator_names(), current_user)
    if not note:
        problems.insert(0, Problem("note", "a change note is required"))
    if problems:
        return jsonify({"ok": False, "problems": workspace.problem_dicts(problems)}), 422
    with command() as session:
        results = definitions.deploy(session, files, actor=current_user, note=note[:2000],
                                     known_operators=services.operator_names())
    mine = next(r for r in results if r.key == key)
    return jsonify({"ok": True, "version": mine.version, "created": mine.created,
                    "deployed": [{"key": r.key, "version": r.version, "created": r.created} for r in results]}), \
        201 if mine.created else 200


@bp.post("/<key>/form-check")
@require_role(*VIEWERS)
def form_check(key: str):
    """Meta-validate a form's JSON Schema (and UI schema): per-field problems."""
    body = _body()
    return jsonify({"errors": formcheck.schema_errors(body.get("schema"), body.get("ui"))})


@bp.post("/<key>/form-preview")
@require_role(*VIEWERS)
def form_preview(key: str):
    """The form as the inbox renders it: an HTML fragment (autoescaped) for the editor's preview."""
    body = _body()
    schema, ui = body.get("schema"), body.get("ui")
    errors = formcheck.schema_errors(schema, ui)
    fields = formcheck.preview_fields(schema, ui) if not any(not e["field"] for e in errors) else []
    return _relaxed(make_response(render_template("modeler/_preview.html", fields=fields, errors=errors)))
