"""Domain errors to HTTP: an HTML page or a JSON body, depending on who asks.

The request's transaction is rolled back first, so a refused change leaves nothing
behind. A database that cannot be reached (or is too busy) is not a bug: 503 with
``Retry-After``, and one log line when the outage starts and one when it ends
(engine.health), not a traceback per request.
"""

from __future__ import annotations

from flask import g, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from engine import health
from engine.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ScriptError,
    ValidationError,
    WorkflowError,
)

from .extensions import db, login_manager

# A process that fails on the data given (a script, an expression) changes nothing: 422, like bad input.
STATUS = {NotFoundError: 404, PermissionDeniedError: 403, ConflictError: 409, ValidationError: 422,
          WorkflowError: 422, ScriptError: 422}
CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         409: "conflict", 413: "too_large", 422: "invalid", 429: "too_many_requests", 500: "server_error",
         503: "unavailable"}
# How long a client should wait before trying again after a 503 (seconds).
RETRY_AFTER_SECONDS = 30


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
              409: _("Changed meanwhile"), 422: _("Invalid input"), 429: _("Too many requests"),
              503: _("Temporarily unavailable")}
    return render_template("errors/error.html", status=status, title=titles.get(status, _("Error")),
                           message=message), status


def _http_answer(exc: HTTPException):
    if wants_json():
        return json_error(exc.code, CODES.get(exc.code, "error"), exc.description or exc.name)
    if exc.code == 404:
        return _page(404, _("This page does not exist."))
    return _page(exc.code, exc.description or exc.name)


def outage_log(app) -> health.OutageLog:
    """The app's record of the current database outage (one log line when it starts, one when it ends)."""
    return app.extensions["sek_outage"]


def _rollback_quietly() -> None:
    try:
        db.session.rollback()
    except sa_exc.SQLAlchemyError:
        pass  # the connection is gone with its transaction; the pool replaces it


def _database_down(status_message: str, api_message: str):
    """A 503 that asks the client to come back, as a page or as JSON."""
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if wants_json():
        body, status = json_error(503, "unavailable", api_message)
        return body, status, headers
    page, status = _page(503, status_message)
    return page, status, headers


def register_error_handlers(app) -> None:
    outage = app.extensions["sek_outage"] = health.OutageLog(app.logger)
    with app.app_context():
        outage.watch(db.engine)

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

    @app.errorhandler(sa_exc.DBAPIError)
    @app.errorhandler(sa_exc.TimeoutError)
    def database_error(exc):
        if not (health.is_busy(exc) or health.is_unavailable(exc)):
            return unexpected(exc)
        # Without the database the signed-in user can be neither loaded nor refreshed after the
        # rollback: the answer (its language, the page's menu) is made as for someone signed out.
        # flask-login keeps the request's user in g._login_user.
        g._login_user = login_manager.anonymous_user()
        if health.is_busy(exc):
            _rollback_quietly()
            # One line each: a timeout is about one request, not an outage and not a bug.
            app.logger.warning("database busy (%s): %s %s answered 503", health.first_line(exc),
                               request.method, request.path)
            return _database_down(_("The system is too busy to answer right now. Nothing was saved; "
                                    "please try again in a moment."),
                                  "the database is busy; nothing was saved, try again later")
        _rollback_quietly()
        outage.failed(exc)
        return _database_down(_("The system cannot reach its database right now. Nothing was saved; "
                                "please try again in a few minutes."),
                              "the database is unavailable; nothing was saved, try again later")

    @app.errorhandler(Exception)
    def unexpected(exc):
        db.session.rollback()
        app.logger.exception("unhandled error")
        if wants_json():
            return json_error(500, "server_error", "the server failed; the change was not saved")
        return _page(500, _("Something went wrong on our side. Nothing was saved; please try again."))
