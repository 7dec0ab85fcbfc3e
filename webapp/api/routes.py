"""API views: thin edges over the engine, one transaction per state change.

Engine errors propagate to the app's handlers (404, 403, 409, 422 with fields); a
request body or query string the schemas refuse is answered here, 422 with fields.
"""

from __future__ import annotations

from pathlib import PureWindowsPath

from flask import current_app, jsonify, request, url_for
from flask_login import current_user, login_required
from marshmallow import EXCLUDE
from marshmallow import ValidationError as RequestError

from engine import definitions, instances, reports, runtime, search, services, tasks
from engine.models import OPEN_TASK_STATES
from engine.xmlsafe import MAX_XML_BYTES
from processes.catalog import by_team

from ..auth import require_role
from ..db import command
from ..errors import json_error
from ..extensions import db
from ..templating import ptext
from . import bp
from .openapi import build_document, operation
from .schemas import (
    DataBodySchema,
    DeployedSchema,
    DeployFormSchema,
    EventSchema,
    InstanceSchema,
    ProcessSchema,
    ReportQuerySchema,
    ReportSummarySchema,
    SearchQuerySchema,
    SearchResultSchema,
    StartedSchema,
    TaskQuerySchema,
    TaskSchema,
)

WHOLE_BODY = "_schema"  # marshmallow's name for an error about the body as a whole


@bp.errorhandler(RequestError)
def invalid_request(exc: RequestError):
    db.session.rollback()
    return json_error(422, "invalid", "the request is invalid; see fields", _flatten(exc.messages))


def _flatten(messages, prefix: str = "") -> dict[str, list[str]]:
    """Marshmallow's nested messages as ``{"dotted.field": [message, ...]}``."""
    if not isinstance(messages, dict):
        return {prefix or WHOLE_BODY: [str(m) for m in messages] if isinstance(messages, list) else [str(messages)]}
    flat: dict[str, list[str]] = {}
    for name, value in messages.items():
        flat.update(_flatten(value, f"{prefix}.{name}" if prefix else str(name)))
    return flat


def _json_body(schema_class) -> dict:
    """The request's JSON body loaded by ``schema_class``; an empty body counts as ``{}``."""
    payload = {}
    if request.get_data(cache=True).strip():
        try:
            payload = request.get_json(force=True, silent=True)
        except RecursionError:   # nested deeper than the JSON parser goes (silent covers ValueError only)
            payload = None
    if not isinstance(payload, dict):
        raise RequestError({WHOLE_BODY: ['the body must be a JSON object, such as {"data": {...}}']})
    return schema_class().load(payload)


# --- processes and instances --------------------------------------------------------------


@bp.get("/processes")
@login_required
@operation("The process catalog, with the latest deployed version of each process", tags=["processes"],
           responses={200: ("catalog entries, then deployed processes outside the catalog",
                            ProcessSchema(many=True))})
def processes():
    deployed = definitions.process_stats(db.session)
    rows = []
    for _team, entries in by_team():
        for entry in entries:
            stats = deployed.pop(entry.key, None)
            rows.append({"key": entry.key, "sek_code": entry.sek_code, "title": entry.title_tr,
                         "title_en": entry.title_en, "group": entry.group, "portal": entry.portal,
                         **_figures(stats)})
    for key in sorted(deployed):
        stats = deployed[key]
        rows.append({"key": key, "sek_code": None, "title": stats.name or key, "title_en": stats.name or key,
                     "group": None, "portal": False, **_figures(stats)})
    return jsonify(ProcessSchema(many=True).dump(rows))


def _figures(stats: definitions.ProcessStats | None) -> dict:
    if stats is None:
        return {"version": None, "executable": False, "running": 0, "completed": 0}
    return {"version": stats.version, "executable": True, "running": stats.running, "completed": stats.completed}


@bp.post("/processes/<key>/instances")
@require_role("staff")
@operation("Start an instance of a process's latest version", tags=["instances"], body=DataBodySchema,
           responses={201: ("started; Location names the instance", StartedSchema)},
           errors=(400, 403, 404, 422))
def start(key: str):
    body = _json_body(DataBodySchema)
    with command() as session:
        instance = runtime.start_instance(session, key, data=body["data"], actor=current_user.username)
        answer = StartedSchema().dump(instance)
    return jsonify(answer), 201, {"Location": url_for(".instance", instance_id=answer["id"])}


@bp.get("/instances/<int:instance_id>")
@login_required
@operation("An instance: status, version, data and open tasks", tags=["instances"],
           responses={200: ("the instance", InstanceSchema)}, errors=(403, 404))
def instance(instance_id: int):
    session = db.session
    row = instances.get_visible(session, current_user, instance_id)
    open_tasks = [_task_json(t) for t in instances.tasks_of(session, instance_id)
                  if t.state in OPEN_TASK_STATES]
    return jsonify(InstanceSchema().dump({
        "id": row.id, "process_key": row.process_key, "version": instances.version_of(session, row),
        "status": row.status, "tracking_code": row.tracking_code, "started_by": row.started_by,
        "created_at": row.created_at, "completed_at": row.completed_at,
        "data": instances.current_data(session, instance_id), "open_tasks": open_tasks,
    }))


@bp.get("/instances/<int:instance_id>/events")
@login_required
@operation("An instance's audit timeline, oldest first", tags=["instances"],
           responses={200: ("the events", EventSchema(many=True))}, errors=(403, 404))
def events(instance_id: int):
    instances.get_visible(db.session, current_user, instance_id)
    return jsonify(EventSchema(many=True).dump(instances.events_of(db.session, instance_id)))


@bp.get("/search")
@login_required
@operation("Search the requests the caller may see (as the instance pages decide), newest first",
           tags=["instances"], query=SearchQuerySchema,
           responses={200: ("a page of requests found", SearchResultSchema)}, errors=(422,))
def search_requests():
    """A 422 names the query field (``q``, ``status``, ``received_to``, ...) that is wrong."""
    query = SearchQuerySchema().load(request.args, unknown=EXCLUDE)
    per_page = query["per_page"]
    hits = search.search(db.session, current_user, search.Query(
        query["q"], query["category"], query["status"], query["received_from"], query["received_to"]),
        limit=per_page + 1, offset=(query["page"] - 1) * per_page)
    results = [{**vars(hit), "snippet": [{"text": text, "match": matched} for text, matched in hit.snippet]}
               for hit in hits[:per_page]]
    return jsonify(SearchResultSchema().dump({"results": results, "page": query["page"],
                                              "has_more": len(hits) > per_page}))


# --- tasks ----------------------------------------------------------------------------------


@bp.get("/tasks")
@login_required
@operation("Tasks of the caller's groups (admins: every group)", tags=["tasks"], query=TaskQuerySchema,
           responses={200: ("the tasks, soonest due first", TaskSchema(many=True))}, errors=(422,))
def task_list():
    query = TaskQuerySchema().load(request.args, unknown=EXCLUDE)
    rows = tasks.list_tasks(db.session, state=query["state"], group=query["group"], user=current_user,
                            limit=query["limit"])
    return jsonify([_task_json(t) for t in rows])


@bp.post("/tasks/<int:task_id>/claim")
@login_required
@operation("Claim an unclaimed task of one of the caller's groups", tags=["tasks"],
           responses={200: ("the task, now claimed by the caller", TaskSchema)}, errors=(400, 403, 404, 409))
def claim(task_id: int):
    with command() as session:
        answer = _task_json(tasks.claim_task(session, task_id, current_user))
    return jsonify(answer)


@bp.post("/tasks/<int:task_id>/unclaim")
@login_required
@operation("Give a claimed task back to its group (its assignee, or an admin)", tags=["tasks"],
           responses={200: ("the task, unclaimed", TaskSchema)}, errors=(400, 403, 404, 409))
def unclaim(task_id: int):
    with command() as session:
        answer = _task_json(tasks.unclaim_task(session, task_id, current_user))
    return jsonify(answer)


@bp.post("/tasks/<int:task_id>/complete")
@login_required
@operation("Complete a task with its form data; the process runs on to its next wait", tags=["tasks"],
           body=DataBodySchema, responses={200: ("the task, completed", TaskSchema)},
           errors=(400, 403, 404, 409, 422))
def complete(task_id: int):
    body = _json_body(DataBodySchema)
    with command() as session:
        answer = _task_json(tasks.complete_task(session, task_id, current_user, body["data"]))
    return jsonify(answer)


# --- definitions and the document ---------------------------------------------------------------


@bp.post("/definitions")
@require_role("process_owner")
@operation("Deploy BPMN, DMN and JSON form files of processes the caller's group owns (admins: any); "
           "identical content makes no new version",
           tags=["definitions"], multipart=DeployFormSchema,
           responses={201: ("at least one new version", DeployedSchema(many=True)),
                      200: ("nothing new: every process was already deployed as sent", DeployedSchema(many=True))},
           errors=(400, 403, 422))
def deploy():
    """403 naming the process when the files hold one the caller's group does not own."""
    payload = {"files": [f for name in request.files for f in request.files.getlist(name)]}
    if "note" in request.form:
        payload["note"] = request.form["note"]
    form = DeployFormSchema().load(payload)
    files = _read_files(form["files"])
    with command() as session:
        results = definitions.deploy(session, files, actor=current_user, note=form["note"],
                                     known_operators=services.operator_names())
    return jsonify(DeployedSchema(many=True).dump(results)), 201 if any(r.created for r in results) else 200


def _read_files(uploads) -> dict[str, bytes]:
    """Uploaded files by base name; files over the size limit are read only far enough
    for validation to refuse them."""
    files: dict[str, bytes] = {}
    problems = []
    for upload in uploads:
        name = PureWindowsPath(upload.filename or "").name.strip()  # splits on / and \ alike
        if not name:
            problems.append("every file needs a file name")
        elif name in files:
            problems.append(f"two files are named {name}")
        else:
            files[name] = upload.read(MAX_XML_BYTES + 1)
    if problems:
        raise RequestError({"files": problems})
    return files


@bp.get("/reports/summary")
@require_role("manager")
@operation("Report figures of the requests received in a year or month", tags=["reports"],
           query=ReportQuerySchema, responses={200: ("the figures", ReportSummarySchema)}, errors=(403, 422))
def report_summary():
    query = ReportQuerySchema().load(request.args, unknown=EXCLUDE)
    return jsonify(ReportSummarySchema().dump(reports.summary(db.session, query["year"], query["month"])))


@bp.get("/openapi.json")
@operation("This document: the OpenAPI 3 description of the API", tags=["meta"], public=True,
           responses={200: ("the OpenAPI document", None)})
def openapi_document():
    document = current_app.extensions.get("sek_openapi")
    if document is None:
        document = current_app.extensions["sek_openapi"] = build_document(current_app, bp.name)
    return jsonify(document)


def _task_json(task) -> dict:
    """A task's stable JSON shape, its name in the caller's language (``?lang=``,
    Accept-Language or the account's language; Turkish by default)."""
    return {**tasks.task_dict(task), "name": ptext(task.name, task.process_key)}
