"""Webhooks: another system (monitoring, a vendor's portal) sends SEK a signed JSON body
that starts processes (:func:`engine.runtime.start_by_message`) or reaches the instances
waiting for a message (:func:`engine.runtime.deliver_message`).

A hook names a message, a mode (``start`` or ``correlate``) and a declared mapping: each
start-data field takes the value at a JSON pointer (RFC 6901) into the body, or a constant
(``{"const": value}``). Nothing of the body reaches a process unless the mapping names it.

Authentication is an HMAC-SHA256 of ``f"{timestamp}.{raw body}"`` with the hook's secret
(:func:`sign`), sent with the unix timestamp, fresh within :data:`MAX_SKEW` seconds, and an
``Idempotency-Key``: a key accepted once for a hook is never accepted again (a replay gets
the first answer back, refused). The secret is not stored: it is derived from the app's
secret key and the hook's random salt (:func:`secret_of`), shown once to the admin who
creates or rotates it. Changing the app's secret key therefore changes every hook's secret.

Every delivery, accepted or refused, is a :class:`HookDelivery` row (never the secret or
the signature); an accepted one is also an audit event.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, clock, runtime, textinput
from .errors import NotFoundError, Problem, ValidationError, WorkflowError
from .models import Hook, HookDelivery, HookMode, ProcessInstance, utcnow

MAX_BODY = 64 * 1024          # bytes of a delivery's body
MAX_SKEW = 300                # seconds a timestamp may be off SEK's clock
MAX_KEY = 200                 # characters of an Idempotency-Key
MAX_FIELDS = 50               # fields of a mapping
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")
SIGNATURE = re.compile(r"^sha256=([0-9a-f]{64})$")
MODES = (HookMode.START, HookMode.CORRELATE)


class Outcome:
    """What became of a delivery (the web edge maps each to a status code)."""

    STARTED = "started"                 # 201
    CORRELATED = "correlated"           # 202
    REPLAY = "replay"                   # 409, with the first answer
    UNKNOWN_HOOK = "unknown_hook"       # 404
    INACTIVE = "inactive"               # 404
    STALE = "stale"                     # 401
    BAD_SIGNATURE = "bad_signature"     # 401
    TOO_LARGE = "too_large"             # 413
    BAD_REQUEST = "bad_request"         # 400: no Idempotency-Key, a body that is no JSON object
    INVALID = "invalid"                 # 422: the mapped data does not fit
    NO_TARGET = "no_target"             # 404: nothing starts on / waits for the message
    PROCESS_ERROR = "process_error"     # 422: the process failed on the data


@dataclass
class Delivery:
    """The result of :func:`receive`: the outcome, the answer's body, per-field problems."""

    outcome: str
    result: dict = field(default_factory=dict)
    error: str = ""
    problems: list[Problem] = field(default_factory=list)
    # start-data field -> the pointer its value came from (to name it next to a problem)
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        return self.outcome in (Outcome.STARTED, Outcome.CORRELATED)


# --- secrets and signatures --------------------------------------------------------------


def secret_of(hook: Hook, master_key: str | bytes) -> str:
    """The hook's secret: derived from the app's secret key, its name and its salt."""
    key = master_key.encode() if isinstance(master_key, str) else master_key
    return hmac.new(key, f"sek-hook:{hook.name}:{hook.salt}".encode(), hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The ``X-SEK-Signature`` header of a body sent at ``timestamp`` (unix seconds)."""
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def _signed(secret: str, timestamp: str, body: bytes, signature: str | None) -> bool:
    expected = sign(secret, timestamp, body)
    return hmac.compare_digest(expected.encode(), (signature or "").strip().encode())


def _fresh(timestamp: str | None) -> bool:
    if not timestamp or not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        return False
    return abs(clock.now().timestamp() - int(timestamp)) <= MAX_SKEW


# --- hooks -------------------------------------------------------------------------------


def mapping_problems(mapping) -> list[Problem]:
    """What is wrong with a declared mapping (location ``mapping``), in English."""
    if not isinstance(mapping, dict) or not mapping:
        return [Problem("mapping", "the mapping must be a JSON object of start-data fields", "type")]
    if len(mapping) > MAX_FIELDS:
        return [Problem("mapping", f"at most {MAX_FIELDS} fields", "maxProperties", {"n": MAX_FIELDS})]
    found = []
    for name, source in mapping.items():
        if not FIELD.match(name):
            found.append(Problem("mapping", f"{name!r} is not a field name (letters, digits, _)", "field",
                                 {"field": name}))
        elif isinstance(source, str):
            if source and not source.startswith("/") or len(source) > 500:
                found.append(Problem("mapping", f"{name}: {source!r} is no JSON pointer (it starts with /)",
                                     "pointer", {"field": name}))
        elif not (isinstance(source, dict) and list(source) == ["const"]):
            found.append(Problem("mapping", f'{name}: give a JSON pointer such as "/host" or {{"const": value}}',
                                 "source", {"field": name}))
    found.extend(textinput.problems(mapping, "mapping"))
    return found


def _check_hook(name: str, message: str, mode: str, mapping, correlation_pointer: str | None) -> None:
    found = []
    if not NAME.match(name or ""):
        found.append(Problem("name", "lower-case letters, digits, - and _ (at most 100)", "pattern"))
    if not (message or "").strip() or len(message) > 200:
        found.append(Problem("message", "give the message name the processes catch", "required"))
    found.extend(textinput.text_problems(message or "", "message", max_length=200))
    if mode not in MODES:
        found.append(Problem("mode", "start or correlate", "enum"))
    if mode == HookMode.CORRELATE and not (correlation_pointer or "").startswith("/"):
        found.append(Problem("correlation_pointer", "a correlating hook needs the JSON pointer of its key",
                             "required"))
    found.extend(mapping_problems(mapping))
    if found:
        raise ValidationError("the hook was refused", found)


def create_hook(session: Session, name: str, message: str, *, mapping: dict, mode: str = HookMode.START,
                correlation_pointer: str | None = None, actor: str | None, master_key: str | bytes
                ) -> tuple[Hook, str]:
    """Add a hook; returns it and its secret (shown once, never stored).

    :raises ValidationError: a bad name, message, mode or mapping; the name is taken
    """
    name = (name or "").strip()
    _check_hook(name, message, mode, mapping, correlation_pointer)
    if session.scalar(select(Hook.id).where(Hook.name == name)) is not None:
        raise ValidationError("the hook was refused", [Problem("name", "a hook with this name exists", "unique")])
    hook = Hook(name=name, message=message.strip(), mode=mode, mapping=mapping, salt=secrets.token_hex(16),
                correlation_pointer=correlation_pointer if mode == HookMode.CORRELATE else None,
                active=True, created_by=actor)
    session.add(hook)
    session.flush()
    audit.record(session, "hook.created", actor=actor, data={
        "hook": name, "message": hook.message, "mode": mode, "mapping": mapping,
        "correlation_pointer": hook.correlation_pointer})
    return hook, secret_of(hook, master_key)


def get_hook(session: Session, hook_id: int) -> Hook:
    hook = session.get(Hook, hook_id)
    if hook is None:
        raise NotFoundError(f"no hook {hook_id}")
    return hook


def hook_by_name(session: Session, name: str) -> Hook:
    hook = session.scalar(select(Hook).where(Hook.name == name))
    if hook is None:
        raise NotFoundError(f"no hook {name!r}")
    return hook


def list_hooks(session: Session) -> list[Hook]:
    return list(session.scalars(select(Hook).order_by(Hook.name)))


def rotate_secret(session: Session, hook_id: int, *, actor: str | None, master_key: str | bytes) -> str:
    """Give a hook a new secret (the old one stops working at once); returns it."""
    hook = get_hook(session, hook_id)
    hook.salt = secrets.token_hex(16)
    hook.rotated_at = utcnow()
    audit.record(session, "hook.secret_rotated", actor=actor, data={"hook": hook.name})
    return secret_of(hook, master_key)


def set_active(session: Session, hook_id: int, active: bool, *, actor: str | None) -> Hook:
    """Deactivate a hook (its deliveries are refused as if it did not exist), or activate it."""
    hook = get_hook(session, hook_id)
    if hook.active != active:
        hook.active = active
        audit.record(session, "hook.activated" if active else "hook.deactivated", actor=actor,
                     data={"hook": hook.name})
    return hook


def recent_deliveries(session: Session, hook_id: int | None = None, limit: int = 50) -> list[HookDelivery]:
    query = select(HookDelivery).order_by(HookDelivery.at.desc(), HookDelivery.id.desc()).limit(limit)
    if hook_id is not None:
        query = query.where(HookDelivery.hook_id == hook_id)
    return list(session.scalars(query))


# --- deliveries --------------------------------------------------------------------------


def resolve_pointer(document, pointer: str):
    """The value at a JSON pointer (RFC 6901); :class:`LookupError` when there is none."""
    if pointer == "":
        return document
    value = document
    for part in pointer[1:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value) and str(int(part)) == part:
            value = value[int(part)]
        else:
            raise LookupError(pointer)
    return value


def map_body(mapping: dict, body) -> tuple[dict, dict[str, str]]:
    """The start data a mapping takes from a body, and where each field came from.

    A pointer the body does not have leaves its field out (the start form then says
    whether it was required).
    """
    data, sources = {}, {}
    for name, source in mapping.items():
        if isinstance(source, dict):
            data[name] = source["const"]
            sources[name] = "const"
            continue
        sources[name] = source
        try:
            data[name] = resolve_pointer(body, source)
        except LookupError:
            pass
    return data, sources


def log_refusal(session: Session, name: str, outcome: str, *, remote_addr: str | None,
                idempotency_key: str | None, error: str, hook: Hook | None = None) -> Delivery:
    """Record a delivery refused before the hook could look at it (e.g. too large)."""
    delivery = Delivery(outcome, error=error)
    _log(session, hook, name, delivery, remote_addr, idempotency_key)
    return delivery


def _log(session, hook, name, delivery: Delivery, remote_addr, key, *, instance_ids=(), accepted_key=None):
    status = {Outcome.STARTED: 201, Outcome.CORRELATED: 202, Outcome.REPLAY: 409, Outcome.UNKNOWN_HOOK: 404,
              Outcome.INACTIVE: 404, Outcome.NO_TARGET: 404, Outcome.STALE: 401, Outcome.BAD_SIGNATURE: 401,
              Outcome.TOO_LARGE: 413, Outcome.BAD_REQUEST: 400}.get(delivery.outcome, 422)
    error = delivery.error or "; ".join(str(p) for p in delivery.problems)
    session.add(HookDelivery(
        hook_id=hook.id if hook is not None else None, hook_name=textinput.cleaned(name or "")[:100],
        remote_addr=(remote_addr or "")[:64] or None, idempotency_key=textinput.cleaned(key or "")[:MAX_KEY] or None,
        accepted_key=accepted_key, outcome=delivery.outcome, status_code=status, instance_ids=list(instance_ids),
        result=delivery.result if delivery.accepted else None, error=error[:2000]))
    session.flush()


def receive(session: Session, name: str, body: bytes, *, timestamp: str | None, signature: str | None,
            idempotency_key: str | None, remote_addr: str | None, master_key: str | bytes) -> Delivery:
    """Take one delivery to hook ``name``: authenticate, map, start or correlate, log.

    The caller commits whatever the outcome (the delivery row is kept); a refused
    delivery changes nothing else (the start or correlation runs in a savepoint).
    """
    hook = session.scalar(select(Hook).where(Hook.name == name)) if NAME.match(name or "") else None
    key = idempotency_key

    def refuse(outcome: str, error: str = "", **extra) -> Delivery:
        delivery = Delivery(outcome, error=error, **extra)
        _log(session, hook, name, delivery, remote_addr, key)
        return delivery

    if hook is None or not hook.active:
        _signed("0" * 64, timestamp or "", body, signature)   # about as long as a real check
        return refuse(Outcome.UNKNOWN_HOOK if hook is None else Outcome.INACTIVE, "no such hook")
    if not _fresh(timestamp):
        return refuse(Outcome.STALE, f"X-SEK-Timestamp must be unix seconds within {MAX_SKEW} s of SEK's clock")
    if not SIGNATURE.match((signature or "").strip()) or not _signed(secret_of(hook, master_key), timestamp, body,
                                                                       signature):
        return refuse(Outcome.BAD_SIGNATURE, "X-SEK-Signature does not match the body and timestamp")
    if not key or len(key) > MAX_KEY or textinput.text_problems(key, "Idempotency-Key", max_length=MAX_KEY):
        return refuse(Outcome.BAD_REQUEST, f"an Idempotency-Key header of 1 to {MAX_KEY} characters is required")
    first = session.scalar(select(HookDelivery).where(HookDelivery.hook_id == hook.id,
                                                      HookDelivery.accepted_key == key))
    if first is not None:
        return refuse(Outcome.REPLAY, f"Idempotency-Key {key!r} was accepted on {first.at.isoformat()}",
                      result=dict(first.result or {}))
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        document = None
    if not isinstance(document, dict):
        return refuse(Outcome.BAD_REQUEST, "the body must be a JSON object")
    data, sources = map_body(hook.mapping, document)
    actor = f"hook:{hook.name}"
    try:
        with session.begin_nested():
            if hook.mode == HookMode.START:
                instances = runtime.start_by_message(session, hook.message, data, actor=actor)
            else:
                instances = _correlate(session, hook, document, data, actor)
    except ValidationError as exc:
        return refuse(Outcome.INVALID, exc.message, problems=exc.problems, sources=sources)
    except NotFoundError as exc:
        return refuse(Outcome.NO_TARGET, exc.message)
    except WorkflowError as exc:
        return refuse(Outcome.PROCESS_ERROR, exc.message)
    result = {"instances": [{"id": i.id, "tracking_code": i.tracking_code} for i in instances]}
    delivery = Delivery(Outcome.STARTED if hook.mode == HookMode.START else Outcome.CORRELATED, result)
    _log(session, hook, name, delivery, remote_addr, key, instance_ids=[i.id for i in instances],
         accepted_key=key)
    audit.record(session, "hook.delivered", actor=actor, data={
        "hook": hook.name, "message": hook.message, "mode": hook.mode, "idempotency_key": key,
        "instances": [i.id for i in instances], "remote_addr": remote_addr})
    return delivery


def _correlate(session: Session, hook: Hook, document: dict, data: dict, actor: str) -> list[ProcessInstance]:
    try:
        value = resolve_pointer(document, hook.correlation_pointer or "")
    except LookupError:
        value = None
    if not isinstance(value, (str, int)) or isinstance(value, bool) or str(value) == "":
        raise ValidationError("the correlation key is missing", [Problem(
            "correlation_key", f"the body has no text or number at {hook.correlation_pointer}", "required")])
    ids = runtime.deliver_message(session, hook.message, data, correlation_key=str(value), actor=actor)
    return [session.get(ProcessInstance, i) for i in ids]
