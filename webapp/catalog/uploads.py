"""Diagrams on the process pages: the heat map's numbers, and BPMN uploaded from other tools.

An upload gets an answer whatever it holds: not XML, unsafe XML, not BPMN, no process
and executable-with-problems are refused (422) with what is wrong where; a drawing
that cannot run is kept as a documentation version of the chosen process, with the
validator's list of what keeps it from running.
"""

from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine import definitions, diagram_state, documentation, owners, services
from engine.errors import ConflictError, PermissionDeniedError, Problem, ValidationError
from engine.xmlsafe import MAX_XML_BYTES
from processes import catalog

from ..auth import require_role
from ..db import command
from ..errors import wants_json
from ..extensions import db
from . import bp


# bpmn-js 18 draws without style attributes (it sets styles through the DOM, which CSP
# allows), so the diagram pages keep the strict policy; checked in the browser test
# tests/browser/test_instance_diagram.py, which fails on any CSP report.
def diagram_page(html: str, status: int = 200):
    """A page response that shows a bpmn-js diagram (the one place to relax its CSP, were it needed)."""
    return html, status


def may_document(entry: catalog.CatalogEntry) -> bool:
    """Who uploads a process's diagrams: whoever may change it (the engine's rule)."""
    return owners.may_change(current_user, entry.key)


@bp.get("/<key>/heat.json")
@login_required
def heat(key: str):
    """Open tasks and median time per task of a process (its heat map)."""
    try:
        catalog.entry(key)
    except LookupError:
        return jsonify({"error": {"code": "not_found", "message": f"no process {key}"}}), 404
    return jsonify(diagram_state.task_heat(db.session, key))


def _choices() -> list[catalog.CatalogEntry]:
    return [e for _team, entries in catalog.by_team() for e in entries if may_document(e)]


def _answer(status: int, problems: list[Problem], message: str, form: dict):
    if wants_json():
        code = {403: "forbidden", 409: "conflict"}.get(status, "invalid")
        return jsonify({"error": {"code": code, "message": message,
                                  "problems": [str(p) for p in problems]}}), status
    rows = [(p.location.split(":", 1)[1] if ":" in p.location else p.location, p.message) for p in problems]
    return render_template("catalog/upload.html", choices=_choices(), message=message, problems=rows,
                           form=form), status


@bp.get("/upload")
@require_role("process_owner")
def upload_form():
    return render_template("catalog/upload.html", choices=_choices(), message=None, problems=[],
                           form={"key": request.args.get("key", "")})


@bp.post("/upload")
@require_role("process_owner")
def upload():
    form = {"key": request.form.get("key", ""), "note": request.form.get("note", "")[:2000]}
    try:
        entry = catalog.entry(form["key"])
    except LookupError:
        return _answer(422, [], _("Choose the process this diagram belongs to."), form)
    owners.require_change(current_user, [entry.key], "upload diagrams of")
    sent = request.files.get("file")
    content = sent.stream.read(MAX_XML_BYTES + 1) if sent else b""
    if not content:
        return _answer(422, [], _("Choose a BPMN file to upload (the file was empty or missing)."), form)
    name = f"{entry.key}.bpmn"
    try:
        check = documentation.check_upload(name, content, known_operators=services.operator_names())
    except ValidationError as exc:
        return _answer(422, exc.problems, _("This file cannot be kept as a BPMN diagram."), form)
    if check.kind == "broken":
        return _answer(422, check.problems, _("The diagram is marked executable but has problems; "
                                              "nothing was stored. Fix these and upload it again:"), form)
    try:
        with command() as session:
            if check.kind == "executable":
                if entry.key not in check.process_ids:
                    return _answer(422, [], _("The file's process is %(found)s, not %(key)s: it was not deployed.",
                                              found=", ".join(check.process_ids), key=entry.key), form)
                result = next(r for r in definitions.deploy(
                    session, {name: content}, actor=current_user, note=form["note"],
                    known_operators=services.operator_names()) if r.key == entry.key)
            else:
                result = documentation.store(session, entry.key, sent.filename or name, content, check.problems,
                                             actor=current_user, note=form["note"])
    except ConflictError:
        return _answer(409, [], _("%(key)s already runs from deployed versions: change it in the modeler. "
                                  "A drawing is kept as documentation only for processes that do not run yet.",
                                  key=entry.key), form)
    except ValidationError as exc:
        return _answer(422, exc.problems, _("The diagram could not be deployed:"), form)
    except PermissionDeniedError:   # a second process in the file, of another group or of none
        refused = [Problem(f"{name}:{key}", owners.refusal(current_user, key))
                   for key in check.process_ids if owners.refusal(current_user, key)]
        return _answer(403, refused, _("The file also holds processes you may not change; nothing was "
                                       "deployed:"), form)
    if wants_json():
        return jsonify({"key": result.key, "version": result.version, "created": result.created,
                        "kind": check.kind, "problems": [str(p) for p in check.problems]}), 201
    if check.kind == "executable":
        flash(_("Version %(version)s of %(key)s is deployed.", version=result.version, key=entry.key), "success")
    elif result.created:
        flash(_("Kept as documentation: version %(version)s. It cannot run yet; the list below says why.",
                version=result.version), "success")
    else:
        flash(_("This drawing is already kept as version %(version)s.", version=result.version), "info")
    return redirect(url_for("catalog.show", key=entry.key))
