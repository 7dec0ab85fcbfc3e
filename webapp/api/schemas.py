"""Marshmallow schemas of the JSON API: what requests may carry and what answers hold.

Request schemas load and validate bodies and query strings (a refusal is a 422 with
the field names); response schemas dump rows. The OpenAPI document is generated
from the same classes (``openapi.py``), so the documentation cannot drift from the
code.
"""

from __future__ import annotations

from marshmallow import Schema, fields, post_dump, post_load, validate

from engine import search, textinput
from engine.audit import ACTOR_DIGEST_KEY, SALT_KEY
from engine.models import InstanceStatus, TaskState
from engine.tasks import STATE_FILTERS

from .. import personal_data


def _doc(text: str, **extra) -> dict:
    return {"description": text, **extra}


# In answers these only document the values (the enum); dumping does not validate.
INSTANCE_STATUS = validate.OneOf([status.value for status in InstanceStatus])
TASK_STATE = validate.OneOf([state.value for state in TaskState])


# --- requests -------------------------------------------------------------------------


class DataBodySchema(Schema):
    """``{"data": {...}}``: the body of starting an instance and of completing a task."""

    data = fields.Dict(keys=fields.String(), load_default=dict,
                       metadata=_doc("process or form data, a JSON object; its fields are checked against "
                                     "the process's start form or the task's form, and a 422 names the "
                                     "form fields that are wrong"))

# Text a query parameter may hold: no control characters but tab and line breaks (engine.textinput).
QUERY_TEXT = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f]*$"


class TaskQuerySchema(Schema):
    """The filters of ``GET /tasks``."""

    state = fields.String(load_default="ready", validate=validate.OneOf(sorted(STATE_FILTERS)),
                          metadata=_doc("which tasks: ready (unclaimed), claimed, open, completed, "
                                        "cancelled or all"))
    # Every query string passes the engine's text rule (webapp/app.py): the document says so.
    group = fields.String(metadata=_doc("only this group's tasks", pattern=QUERY_TEXT,
                                        maxLength=textinput.TEXT_MAX))
    limit = fields.Integer(load_default=1000, validate=validate.Range(min=1, max=1000),
                           metadata=_doc("at most this many tasks"))

    @post_load
    def _no_group(self, query, **_kwargs):
        # A query string cannot carry null, so an absent filter is not documented as one.
        query.setdefault("group", None)
        return query


class ReportQuerySchema(Schema):
    """The period of ``GET /reports/summary``: a year, or one of its months (Istanbul time)."""

    year = fields.Integer(required=True, strict=False, validate=validate.Range(min=2000, max=2100),
                          metadata=_doc("the calendar year, e.g. 2023"))
    month = fields.Integer(validate=validate.Range(min=1, max=12),
                           metadata=_doc("1-12: only this month of the year"))

    @post_load
    def _whole_year(self, query, **_kwargs):
        query.setdefault("month", None)
        return query


class SearchQuerySchema(Schema):
    """The query string of ``GET /search`` (every filter optional; the page ``/search`` takes the same)."""

    q = fields.String(load_default="", validate=validate.Length(max=search.QUERY_MAX),
                      metadata=_doc("words (each matched as the beginning of a word; PostgreSQL also by "
                                    "Turkish stem), a tracking code, a requester's name or e-mail",
                                    pattern=QUERY_TEXT))
    category = fields.String(validate=validate.Length(max=search.CATEGORY_MAX),
                             metadata=_doc("only this help-desk category", pattern=QUERY_TEXT))
    status = fields.String(validate=INSTANCE_STATUS, metadata=_doc("only requests with this status"))
    received_from = fields.Date(metadata=_doc("received on or after this day (Istanbul time)"))
    received_to = fields.Date(metadata=_doc("received on or before this day (Istanbul time); before "
                                            "received_from: nothing is found"))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=500))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=search.PER_PAGE_MAX))

    @post_load
    def _absent(self, query, **_kwargs):
        for name in ("category", "status", "received_from", "received_to"):
            query.setdefault(name, None)
        return query


class DeployFormSchema(Schema):
    """The multipart form of ``POST /definitions``."""

    files = fields.List(
        fields.Raw(metadata={"type": "string", "format": "binary"}),
        required=True, validate=validate.Length(min=1, error="send one or more BPMN, DMN or JSON files"),
        metadata=_doc("BPMN, DMN and JSON form files; every file a process references must be sent, each "
                      "under its own file name. Their content is validated as a whole: a 422 names the "
                      "problems by file name or file:element_id"),
    )
    note = fields.String(load_default="", validate=validate.Length(max=2000),
                         metadata=_doc("why this version was deployed"))


# --- answers ----------------------------------------------------------------------------


class ProcessSchema(Schema):
    """One process of the catalog, and whether (in which version) it is deployed."""

    key = fields.String(required=True, metadata=_doc("the BPMN process id"))
    sek_code = fields.String(required=True, allow_none=True,
                             metadata=_doc("SEK 08-04-xx code; null outside the catalog"))
    title = fields.String(required=True, metadata=_doc("Turkish title"))
    title_en = fields.String(required=True, metadata=_doc("English title"))
    version = fields.Integer(required=True, allow_none=True,
                             metadata=_doc("latest deployed version; null if not deployed"))
    executable = fields.Boolean(required=True,
                                metadata=_doc("true when a version is deployed, so instances can start"))
    group = fields.String(required=True, allow_none=True,
                          metadata=_doc("the owning team's group slug; null outside the catalog"))
    portal = fields.Boolean(required=True, metadata=_doc("requesters may start it from the public portal"))
    running = fields.Integer(required=True, metadata=_doc("instances running, waiting or in error"))
    completed = fields.Integer(required=True, metadata=_doc("instances completed"))


class StartedSchema(Schema):
    id = fields.Integer(required=True)
    tracking_code = fields.String(required=True, metadata=_doc("what the requester follows the request by"))
    status = fields.String(required=True, validate=INSTANCE_STATUS)


class HookInstanceSchema(Schema):
    id = fields.Integer(required=True)
    tracking_code = fields.String(required=True)


class HookAcceptedSchema(Schema):
    """An accepted webhook delivery (and, under ``error``, the first answer to a replay)."""

    instances = fields.List(fields.Nested(HookInstanceSchema), required=True)


class TaskSchema(Schema):
    """A user task; the shape of ``engine.tasks.task_dict`` and ``sek tasks --json``."""

    id = fields.Integer(required=True)
    instance_id = fields.Integer(required=True)
    bpmn_id = fields.String(required=True, metadata=_doc("the user task's id in the BPMN diagram"))
    name = fields.String(required=True, metadata=_doc(
        "the task's name in the caller's language: `?lang=tr|en` on any request, else the "
        "account's chosen language, else Accept-Language; Turkish by default"))
    group = fields.String(required=True, metadata=_doc("the group whose members see the task"))
    assignee = fields.String(required=True, allow_none=True,
                             metadata=_doc("who claimed it; null if unclaimed"))
    state = fields.String(required=True, validate=TASK_STATE)


class InstanceSchema(Schema):
    id = fields.Integer(required=True)
    process_key = fields.String(required=True)
    version = fields.Integer(required=True, metadata=_doc("the definition version the instance runs on"))
    status = fields.String(required=True, validate=INSTANCE_STATUS)
    tracking_code = fields.String(required=True)
    started_by = fields.String(required=True, allow_none=True,
                               metadata=_doc("a username, or a requester as requester:a***@domain"))
    created_at = fields.DateTime(required=True)
    completed_at = fields.DateTime(required=True, allow_none=True)
    data = fields.Dict(required=True, metadata=_doc("the process data as it stands, without engine-internal keys; "
                                                    "the requester's e-mail and phone masked"))
    open_tasks = fields.List(fields.Nested(TaskSchema), required=True)

    @post_dump(pass_original=True)
    def _requester_masked(self, answer: dict, instance: dict, **_kwargs) -> dict:
        # webapp/personal_data.py decides what the caller sees of the requester, as on the pages
        answer["started_by"] = personal_data.person(answer.get("started_by"), instance["id"])
        answer["data"] = personal_data.masked(answer.get("data"), instance["id"])
        return answer


class EventSchema(Schema):
    """One audit event of an instance's timeline."""

    seq = fields.Integer(required=True, metadata=_doc("position in the instance's hash chain"))
    action = fields.String(required=True,
                           metadata=_doc("instance.started, task.claimed, task.completed, ..."))
    actor = fields.String(required=True, allow_none=True,
                          metadata=_doc("a username, a requester as requester:a***@domain, or null for the engine"))
    at = fields.DateTime(required=True, attribute="created_at")
    data = fields.Dict(required=True,
                       metadata=_doc("what was submitted or changed; the requester's e-mail and phone masked"))

    @post_dump(pass_original=True)
    def _requester_masked(self, answer: dict, event, **_kwargs) -> dict:
        # As the timeline shows it (webapp/personal_data.py), without the redactable hashing's
        # salt and digest: with them a guessed address could be checked against the event.
        data = {k: v for k, v in (answer.get("data") or {}).items() if k not in (SALT_KEY, ACTOR_DIGEST_KEY)}
        answer["actor"] = personal_data.person(answer.get("actor"), event.instance_id)
        answer["data"] = personal_data.masked(data, event.instance_id)
        return answer


class DeployedSchema(Schema):
    """One process version a deployment produced or found unchanged."""

    key = fields.String(required=True)
    version = fields.Integer(required=True)
    created = fields.Boolean(required=True,
                             metadata=_doc("false when identical content was already deployed"))


class PercentilesSchema(Schema):
    median = fields.Float(required=True, allow_none=True,
                          metadata=_doc("hours; null when no request of the period has one"))
    p90 = fields.Float(required=True, allow_none=True, metadata=_doc("90th percentile, hours"))


class SatisfactionSchema(Schema):
    mean = fields.Float(required=True, allow_none=True,
                        metadata=_doc("mean rating 1-5; null without ratings"))
    count = fields.Integer(required=True, metadata=_doc("ratings given"))


class CallsSchema(Schema):
    answered = fields.Integer(required=True,
                              metadata=_doc("calls answered (solved, sent to a unit, or out of remit)"))
    lost = fields.Integer(required=True,
                          metadata=_doc("calls lost in the queue or dropped, called back or not"))
    called_back = fields.Integer(required=True,
                                 metadata=_doc("lost calls whose caller was reached on the call-back"))


class ReportSummarySchema(Schema):
    """The figures of the requests received in a year or month (see engine.reports)."""

    received = fields.Integer(required=True)
    resolved = fields.Integer(required=True,
                              metadata=_doc("of those received, resolved (answered or completed)"))
    open = fields.Integer(required=True, metadata=_doc("of those received, neither resolved nor cancelled"))
    by_category = fields.Dict(required=True, keys=fields.String(), values=fields.Integer(),
                              metadata=_doc("user_support requests by category, biggest first"))
    by_team = fields.Dict(required=True, keys=fields.String(), values=fields.Integer(),
                          metadata=_doc("by the group that worked it"))
    by_process = fields.Dict(required=True, keys=fields.String(), values=fields.Integer(),
                             metadata=_doc("by process key"))
    first_answer_hours = fields.Nested(PercentilesSchema, required=True)
    resolution_hours = fields.Nested(PercentilesSchema, required=True)
    sla_met_ratio = fields.Float(required=True, allow_none=True,
                                 metadata=_doc("0-1: first resolution by the due date, of those with both"))
    reopened = fields.Integer(required=True, metadata=_doc("requests reopened at least once"))
    satisfaction = fields.Nested(SatisfactionSchema, required=True)
    calls = fields.Nested(CallsSchema, required=True)


class SnippetPieceSchema(Schema):
    text = fields.String(required=True)
    match = fields.Boolean(required=True, metadata=_doc("this piece matched the search"))


class SearchHitSchema(Schema):
    """One request found."""

    id = fields.Integer(required=True, attribute="instance_id")
    tracking_code = fields.String(required=True)
    process_key = fields.String(required=True)
    status = fields.String(required=True, validate=INSTANCE_STATUS)
    subject = fields.String(required=True, allow_none=True)
    category = fields.String(required=True, allow_none=True)
    received_at = fields.DateTime(required=True)
    requester_name = fields.String(required=True, allow_none=True)
    requester_email = fields.String(required=True, allow_none=True, metadata=_doc("masked, as on the pages"))
    snippet = fields.List(fields.Nested(SnippetPieceSchema), required=True,
                          metadata=_doc("the subject and conversation around the first match, in pieces; "
                                        "the matched words have match true"))

    @post_dump(pass_original=True)
    def _requester_masked(self, answer: dict, hit, **_kwargs) -> dict:
        if answer.get("requester_email"):
            answer["requester_email"] = personal_data.masked({"email": answer["requester_email"]},
                                                             hit["instance_id"])["email"]
        return answer


class SearchResultSchema(Schema):
    """A page of ``GET /search``, newest first."""

    results = fields.List(fields.Nested(SearchHitSchema), required=True)
    page = fields.Integer(required=True)
    has_more = fields.Boolean(required=True, metadata=_doc("a next page exists"))


class ErrorBodySchema(Schema):
    code = fields.String(required=True,
                         metadata=_doc("unauthorized, forbidden, not_found, conflict, invalid, csrf, ..."))
    message = fields.String(required=True)
    fields_ = fields.Dict(
        data_key="fields", keys=fields.String(), values=fields.List(fields.String()),
        metadata=_doc("messages by field name (`_schema`: the body as a whole), "
                      "or by file:element_id for definitions"),
    )


class ErrorSchema(Schema):
    """Every refusal: ``{"error": {"code", "message", "fields"}}``."""

    error = fields.Nested(ErrorBodySchema, required=True)
