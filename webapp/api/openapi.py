"""The OpenAPI 3 document of the JSON API, generated from the routes and the schemas.

Each view says what it takes and answers with :func:`operation` (marshmallow schema
classes, no hand-written JSON); :func:`build_document` walks the app's URL map, so
every route of the blueprint is documented with its real path, methods and path
parameters.
"""

from __future__ import annotations

import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask

from ..converters import MAX_ID
from .schemas import ErrorSchema

TITLE = "SEK API"
VERSION = "1"
DESCRIPTION = (
    "The JSON API of SEK, the university IT department's BPMN processes. Authenticate with "
    "`Authorization: Bearer TOKEN` (`sek users token USERNAME`) or a browser session; "
    "session-authenticated POSTs need the `X-CSRFToken` header. Every refusal is "
    '`{"error": {"code", "message", "fields"}}`.'
)
ERRORS = {
    400: "malformed request, or a session POST without a valid X-CSRFToken header",
    401: "no valid session or API token",
    403: "the caller may not do this",
    404: "no such thing",
    409: "someone else changed it first, or it is no longer open (a webhook: the Idempotency-Key was "
         "accepted before; the body carries the first answer's `instances`)",
    413: "the body is too large",
    422: "invalid input, `fields` says what is wrong where (`invalid`); or the process failed on the data "
         "given (`process_error`), and nothing was saved",
}
# Flask URL converters -> OpenAPI parameter schemas (``int`` is the app's IdConverter)
CONVERTERS = {"int": {"type": "integer", "minimum": 0, "maximum": MAX_ID}, "float": {"type": "number"}}
ANY_OBJECT = {"type": "object"}  # the body of an answer without a schema of its own
RULE_ARGUMENT = re.compile(r"<(?:(?P<converter>[a-z]+)(?:\([^)]*\))?:)?(?P<name>\w+)>")


def operation(summary: str, *, tags=(), body=None, multipart=None, query=None, responses=None,
              errors=(), public: bool = False):
    """Describe a view for the OpenAPI document; the description is kept on the view.

    :param body: the schema class of a JSON request body
    :param multipart: the schema class of a ``multipart/form-data`` request body
    :param query: the schema class of the query string
    :param responses: ``{status: (description, schema or None)}`` of the successful answers
    :param errors: the error statuses the view may answer (401 is added unless ``public``)
    """

    def decorator(view):
        view.openapi = {"summary": summary, "tags": list(tags), "body": body, "multipart": multipart,
                        "query": query, "responses": dict(responses or {}),
                        "errors": sorted(set(errors) | (set() if public else {401})), "public": public}
        return view

    return decorator


def build_document(app: Flask, blueprint: str = "api") -> dict:
    """The OpenAPI 3 document of every documented view of ``blueprint`` in ``app``."""
    spec = APISpec(title=TITLE, version=VERSION, openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin()], info={"description": DESCRIPTION})
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer",
                                               "description": "an API token from `sek users token`"})
    spec.components.security_scheme("session", {"type": "apiKey", "in": "cookie", "name": "sek_session"})
    spec.components.schema("Error", schema=ErrorSchema)
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if not rule.endpoint.startswith(f"{blueprint}."):
            continue
        meta = getattr(app.view_functions[rule.endpoint], "openapi", None)
        if meta is None:
            continue
        path, parameters = _path(rule.rule)
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        spec.path(path=path, parameters=parameters,
                  operations={method.lower(): _operation(rule.endpoint, meta) for method in methods})
    return spec.to_dict()


def _path(rule: str) -> tuple[str, list[dict]]:
    """``/tasks/<int:task_id>`` -> ``/tasks/{task_id}`` and its path parameters."""
    parameters = []

    def replace(match):
        parameters.append({"in": "path", "name": match["name"], "required": True,
                           "schema": dict(CONVERTERS.get(match["converter"], {"type": "string"}))})
        return "{" + match["name"] + "}"

    return RULE_ARGUMENT.sub(replace, rule), parameters


def _operation(endpoint: str, meta: dict) -> dict:
    op: dict = {"operationId": endpoint.split(".", 1)[1], "summary": meta["summary"], "responses": {}}
    if meta["tags"]:
        op["tags"] = meta["tags"]
    if meta["query"] is not None:
        op["parameters"] = [{"in": "query", "schema": meta["query"]}]
    if meta["body"] is not None:
        op["requestBody"] = {"required": False,
                             "content": {"application/json": {"schema": meta["body"]}}}
    if meta["multipart"] is not None:
        op["requestBody"] = {"required": True,
                             "content": {"multipart/form-data": {"schema": meta["multipart"]}}}
    for status, (description, schema) in meta["responses"].items():
        answer: dict = {"description": description,
                        "content": {"application/json": {"schema": schema if schema is not None else ANY_OBJECT}}}
        op["responses"][str(status)] = answer
    for status in meta["errors"]:
        op["responses"][str(status)] = {"description": ERRORS[status],
                                        "content": {"application/json": {"schema": "Error"}}}
    op["security"] = [] if meta["public"] else [{"bearer": []}, {"session": []}]
    return op
