"""Domain errors to HTTP: an HTML page or a JSON body, depending on who asks.

The request's transaction is rolled back first, so a refused change leaves nothing
behind.
"""

from __future__ import annotations

from flask import jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from engine.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ScriptError,
    ValidationError,
    WorkflowError,
)

from .extensions import db

# A process that fails on the data given (a script, an expression) changes nothing: 422, like bad input.
STATUS = {NotFoundError: 404, PermissionDeniedError: 403, ConflictError: 409, ValidationError: 422,
          WorkflowError: 422, ScriptError: 422}
CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         409: "conflict", 413: "too_large", 422: "invalid", 429: "too_many_requests", 500: "server_error"}


def wants_json() -> bool:
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best_match(["application/json", "text/html"]) == "application/json")


def json_error(status: int, code: str, message: str, fields: dict | None = None):
    body = {"error": {"code": code, "message": message}}
    if fields is not None:
        body["error"]["fields"] = fields
    return jsonify(body), status


def _page(status: int, message: str):
    titles = {400: _("Bad request"), 403: _("Not allowed"), 404: _("Not found"),
              409: _("Changed meanwhile"), 422: _("Invalid input"), 429: _("Too many requests")}
    return render_template("errors/error.html", status=status, title=titles.get(status, _("Error")),
                           message=message), status


def _http_answer(exc: HTTPException):
    if wants_json():
        return json_error(exc.code, CODES.get(exc.code, "error"), exc.description or exc.name)
    if exc.code == 404:
        return _page(404, _("This page does not exist."))
    return _page(exc.code, exc.description or exc.name)


def register_error_handlers(app) -> None:
    def engine_error(exc):
        db.session.rollback()
        status = next(code for cls, code in STATUS.items() if isinstance(exc, cls))
        if wants_json():
            fields = exc.as_dict() if isinstance(exc, ValidationError) else None
            code = "process_error" if isinstance(exc, WorkflowError | ScriptError) else CODES[status]
            return json_error(status, code, exc.message, fields)
        messages = {403: _("You are not allowed to do this."), 404: _("This page does not exist.")}
        detail = messages.get(status, exc.message)
        return _page(status, detail)

    for cls in STATUS:
        app.register_error_handler(cls, engine_error)

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        db.session.rollback()
        message = _("The form was sent without a valid security token. Reload the page and try again.")
        if wants_json():
            return json_error(400, "csrf", f"CSRF check failed: {exc.description}")
        return _page(400, message)

    @app.errorhandler(HTTPException)
    def http_error(exc):
        db.session.rollback()
        response = make_response(_http_answer(exc))
        # What the exception says beyond its body: Allow on a 405, WWW-Authenticate, Retry-After.
        response.headers.extend((k, v) for k, v in exc.get_headers() if k.lower() != "content-type")
        return response

    @app.errorhandler(Exception)
    def unexpected(exc):
        db.session.rollback()
        app.logger.exception("unhandled error")
        if wants_json():
            return json_error(500, "server_error", "the server failed; the change was not saved")
        return _page(500, _("Something went wrong on our side. Nothing was saved; please try again."))
