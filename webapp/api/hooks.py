"""Webhooks: ``POST /api/v1/hooks/<name>``, another system's HMAC-signed JSON body that
starts processes or reaches a waiting one (:mod:`engine.hooks`).

The signature is this route's authentication: no session, no API token, no CSRF token
(the app's CSRF check leaves this path alone; nothing else is loosened). Every delivery,
accepted or refused, is logged by the engine and committed here.
"""

from __future__ import annotations

from flask import current_app, jsonify, request
from sqlalchemy.exc import IntegrityError

from engine import hooks
from engine.hooks import Outcome

from ..db import command
from ..errors import json_error
from ..extensions import db
from . import bp
from .openapi import operation
from .schemas import HookAcceptedSchema

STATUS = {Outcome.STARTED: 201, Outcome.CORRELATED: 202, Outcome.REPLAY: 409, Outcome.UNKNOWN_HOOK: 404,
          Outcome.INACTIVE: 404, Outcome.NO_TARGET: 404, Outcome.STALE: 401, Outcome.BAD_SIGNATURE: 401,
          Outcome.TOO_LARGE: 413, Outcome.BAD_REQUEST: 400, Outcome.INVALID: 422, Outcome.PROCESS_ERROR: 422}
# Unknown and inactive hooks, stale and badly signed deliveries: one answer each, telling
# a prober nothing about which hooks exist.
PUBLIC_MESSAGE = {404: "no such hook", 401: "the signature or timestamp was refused"}
PATH = "/api/v1/hooks/"


def _body() -> bytes | None:
    """The raw body, or ``None`` beyond :data:`engine.hooks.MAX_BODY` (read no further)."""
    if request.content_length is not None and request.content_length > hooks.MAX_BODY:
        return None
    raw = request.stream.read(hooks.MAX_BODY + 1)
    return None if len(raw) > hooks.MAX_BODY else raw


@bp.post("/hooks/<name>")
@operation(
    "Deliver a signed webhook: start the processes its message starts, or reach the instances waiting for it. "
    "Headers: `X-SEK-Timestamp` (unix seconds, within 300 s), `X-SEK-Signature: sha256=<hex HMAC-SHA256 of "
    "'{timestamp}.{raw body}' with the hook's secret>`, `Idempotency-Key` (at most 200 characters; a key "
    "accepted once answers 409 with the first answer). Body: a JSON object of at most 64 KiB; the hook's "
    "mapping takes the start data from it by JSON pointer. No session, token or CSRF token.",
    tags=["hooks"], public=True,
    responses={201: ("started (mode start): the new instances", HookAcceptedSchema),
               202: ("delivered (mode correlate): the instances that caught the message", HookAcceptedSchema)},
    errors=(400, 401, 404, 409, 413, 422))
def deliver(name: str):
    remote = request.remote_addr
    key = request.headers.get("Idempotency-Key")
    raw = _body()
    if raw is None:
        with command() as session:
            hooks.log_refusal(session, name, Outcome.TOO_LARGE, remote_addr=remote, idempotency_key=key,
                              error=f"the body is larger than {hooks.MAX_BODY} bytes")
        return json_error(413, "too_large", f"the body must be at most {hooks.MAX_BODY} bytes")
    for attempt in (1, 2):
        try:
            with command() as session:
                delivery = hooks.receive(
                    session, name, raw, timestamp=request.headers.get("X-SEK-Timestamp"),
                    signature=request.headers.get("X-SEK-Signature"), idempotency_key=key,
                    remote_addr=remote, master_key=current_app.config["SECRET_KEY"])
            break
        except IntegrityError:   # the same key accepted meanwhile by a twin request: answer as a replay
            db.session.rollback()
            if attempt == 2:
                raise
    status = STATUS[delivery.outcome]
    if delivery.accepted:
        return jsonify(delivery.result), status
    if delivery.outcome == Outcome.REPLAY:
        body = {"error": {"code": "replay", "message": delivery.error}, **delivery.result}
        return jsonify(body), 409
    if delivery.outcome == Outcome.INVALID:
        fields: dict[str, list[str]] = {}
        for problem in delivery.problems:
            source = delivery.sources.get(problem.location)
            where = f" (from {source})" if source and source != "const" else ""
            fields.setdefault(problem.location, []).append(f"{problem.message}{where}")
        sources = {f: delivery.sources[f] for f in fields if f in delivery.sources}
        return jsonify({"error": {"code": "invalid", "message": delivery.error or "the mapped data was refused",
                                  "fields": fields, "sources": sources}}), 422
    code = {401: "unauthorized", 404: "not_found", 400: "bad_request", 422: "process_error"}[status]
    message = delivery.error if delivery.outcome in (Outcome.NO_TARGET, Outcome.BAD_REQUEST,
                                                     Outcome.PROCESS_ERROR) else PUBLIC_MESSAGE[status]
    return json_error(status, code, message)
