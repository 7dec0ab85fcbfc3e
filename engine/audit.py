"""The tamper-evident history: hash-chained audit events.

Each instance has its own chain (``instance:<id>``); everything else (deploys,
accounts, failed jobs without an instance) goes to the ``system`` chain. An event's
hash covers its content and the previous event's hash; the chain head row keeps the
last hash, so an edited, removed or reordered event breaks verification.

Redactable hashing (KVKK retention). When an event's data holds personal keys
(:data:`engine.personal.AUDIT_KEYS`, at any depth) or its actor is ``requester:<e-mail>``,
:func:`record` adds a random salt under the reserved data key ``_salt``. The hash of such
an event covers, instead of each personal value, ``sha256(salt, key, value)``; instead of
the actor, ``sha256(salt, "actor", actor)``. The stored event keeps the clear values (the
auditors read them) until :func:`redact` replaces each by ``{"$redacted": <that digest>}``
and the actor by ``requester:[redacted]`` (its digest kept in ``data["_actor_digest"]``):
the recomputed hash is the same, so the chain still verifies, while a marker whose digest
is not the one that was hashed (a forged redaction) breaks it like any other edit.
Events without ``_salt`` (those recorded before this scheme, or without personal data)
are hashed exactly as before; :func:`redact` leaves them alone.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import NotFoundError, Problem, ValidationError
from .models import AuditChain, AuditEvent, ProcessInstance, utcnow
from .personal import AUDIT_KEYS, REQUESTER_ACTOR

GENESIS = "0" * 64
# Characters PostgreSQL cannot keep in text or jsonb (and UTF-8 cannot encode).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
SYSTEM_CHAIN = "system"
SALT_KEY = "_salt"                    # reserved data keys of the redactable scheme
ACTOR_DIGEST_KEY = "_actor_digest"
MARKER = "$redacted"
REDACTED_ACTOR = f"{REQUESTER_ACTOR}[redacted]"


def chain_name(instance_id: int | None) -> str:
    return f"instance:{instance_id}" if instance_id is not None else SYSTEM_CHAIN


def to_json_value(data):
    """Normalize data to plain JSON types so that its hash survives a round trip.

    Text that no database can store (a lone surrogate, NUL) becomes U+FFFD here, so the
    trail never fails on it; the doors refuse such input before anything is stored
    (:mod:`engine.textinput`), this only keeps the engine's own records safe.

    :raises ValidationError: NaN or infinite numbers (not JSON; PostgreSQL refuses them)
    """
    try:
        text = json.dumps(data, default=str, ensure_ascii=False, allow_nan=False)
    except ValueError:
        raise ValidationError("data is not valid JSON", [
            Problem("", "numbers must be finite (NaN and infinity are not JSON)")
        ]) from None
    if _UNSTORABLE.search(text) or "\\u0000" in text:   # rare: the slow walk only then
        return _storable(json.loads(text))
    return json.loads(text)


def _storable(value):
    if isinstance(value, str):
        return _UNSTORABLE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_storable(key): _storable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_storable(item) for item in value]
    return value


def _keyed(salt: str, key: str, value) -> str:
    text = json.dumps([salt, key, value], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def is_redacted(value) -> bool:
    """Whether ``value`` is a redaction marker ``{"$redacted": <digest>}``."""
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get(MARKER), str)


def _has_personal(data) -> bool:
    if isinstance(data, dict):
        return any(key in AUDIT_KEYS or _has_personal(value) for key, value in data.items())
    if isinstance(data, list):
        return any(_has_personal(value) for value in data)
    return False


def _hashed(data, salt: str):
    """``data`` as hashed: each value at a personal key replaced by its marker (same for clear and redacted)."""
    if isinstance(data, dict):
        return {key: ({MARKER: value[MARKER] if is_redacted(value) else _keyed(salt, key, value)}
                      if key in AUDIT_KEYS else _hashed(value, salt))
                for key, value in data.items()}
    if isinstance(data, list):
        return [_hashed(value, salt) for value in data]
    return data


def _redacted(data, salt: str):
    """``data`` as stored after redaction: the non-empty personal values replaced by their markers."""
    if isinstance(data, dict):
        return {key: ({MARKER: _keyed(salt, key, value)}
                      if key in AUDIT_KEYS and value not in (None, "") and not is_redacted(value)
                      else value if key in AUDIT_KEYS else _redacted(value, salt))
                for key, value in data.items()}
    if isinstance(data, list):
        return [_redacted(value, salt) for value in data]
    return data


def _digest(event: AuditEvent) -> str:
    actor, data = event.actor, event.data
    salt = data.get(SALT_KEY) if isinstance(data, dict) else None
    if isinstance(salt, str):
        if actor == REDACTED_ACTOR:
            data = {k: v for k, v in data.items() if k != ACTOR_DIGEST_KEY}
            actor = f"{REQUESTER_ACTOR}#{event.data.get(ACTOR_DIGEST_KEY)}"
        elif actor and actor.startswith(REQUESTER_ACTOR):
            actor = f"{REQUESTER_ACTOR}#{_keyed(salt, 'actor', actor)}"
        data = _hashed(data, salt)
    body = {
        "chain": event.chain,
        "seq": event.seq,
        "instance_id": event.instance_id,
        "actor": actor,
        "action": event.action,
        "data": data,
        "created_at": event.created_at.isoformat(timespec="microseconds"),
        "prev": event.prev_hash,
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def record(
    session: Session, action: str, *, actor: str | None, instance_id: int | None = None, data=None
) -> AuditEvent:
    """Append an event to its chain, in the caller's transaction.

    :param action: what happened, e.g. ``task.completed``
    :param actor: the username, or ``None`` for the engine itself
    :param data: what was submitted and, where it matters, before and after (the keys
        ``_salt`` and ``_actor_digest`` are reserved)
    """
    name = chain_name(instance_id)
    data = to_json_value(data or {})
    # The salt only where something personal is: other events keep the plain (cheaper) scheme.
    if isinstance(data, dict) and ((actor or "").startswith(REQUESTER_ACTOR) or _has_personal(data)):
        data[SALT_KEY] = secrets.token_hex(16)
    head = session.execute(
        select(AuditChain).where(AuditChain.name == name).with_for_update()
    ).scalar_one_or_none()
    if head is None:
        head = AuditChain(name=name, seq=0, head_hash=GENESIS)
        session.add(head)
    event = AuditEvent(
        chain=name,
        seq=head.seq + 1,
        instance_id=instance_id,
        actor=actor,
        action=action,
        data=data,
        created_at=utcnow(),
        prev_hash=head.head_hash,
    )
    event.hash = _digest(event)
    head.seq = event.seq
    head.head_hash = event.hash
    session.add(event)
    session.flush()
    return event


def redact(session: Session, instance_id: int) -> int:
    """Blank the personal values (and a ``requester:`` actor) of an instance's chain, in the
    caller's transaction, keeping every hash valid; returns how many events changed.

    Events without a salt (recorded before the redactable scheme) are left as they are:
    changing them would break the chain, which is what it is for.
    """
    return redact_many(session, [instance_id])


def redact_many(session: Session, instance_ids: list[int]) -> int:
    """:func:`redact` for several instances with one query (retention works in chunks)."""
    if not instance_ids:
        return 0
    changed = 0
    query = (select(AuditEvent).where(AuditEvent.chain.in_([chain_name(i) for i in instance_ids]))
             .order_by(AuditEvent.chain, AuditEvent.seq))
    for event in session.scalars(query):
        data = event.data
        salt = data.get(SALT_KEY) if isinstance(data, dict) else None
        if not isinstance(salt, str):
            continue
        before = _digest(event)
        new = _redacted(data, salt)
        actor = event.actor
        if actor and actor.startswith(REQUESTER_ACTOR) and actor != REDACTED_ACTOR:
            new[ACTOR_DIGEST_KEY] = _keyed(salt, "actor", actor)
            actor = REDACTED_ACTOR
        if new == data and actor == event.actor:
            continue
        event.data, event.actor = new, actor   # a new dict: the ORM must see a new value to write it
        if _digest(event) != before:           # a bug here would silently break the chain: refuse
            raise RuntimeError(f"redacting audit event {event.id} would change its hash")
        changed += 1
    session.flush()
    return changed


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    event_id: int | None = None
    chain: str | None = None
    reason: str | None = None

    def __str__(self) -> str:
        if self.ok:
            return f"ok: {self.checked} events, every chain intact"
        where = f"event {self.event_id}" if self.event_id is not None else f"chain {self.chain}"
        return f"broken at {where} ({self.chain}): {self.reason}"


def verify_instance(session: Session, instance_id: int) -> VerifyResult:
    """Recompute one instance's chain.

    :raises NotFoundError: there is no such instance and no trail of one (a trail whose
        instance row is gone is still verified: that is what an auditor looks for)
    """
    chain = chain_name(instance_id)
    known = 0 < instance_id < 2**31 and (   # ids are INTEGER: a larger number names nothing
        session.get(ProcessInstance, instance_id) is not None or session.get(AuditChain, chain) is not None
        or session.scalar(select(AuditEvent.id).where(AuditEvent.chain == chain).limit(1)) is not None)
    if not known:
        raise NotFoundError(f"no instance {instance_id}")
    return verify(session, chain)


def verify(session: Session, chain: str | None = None) -> VerifyResult:
    """Recompute every chain (or one) and name the first event that does not match."""
    heads = {h.name: h for h in session.scalars(select(AuditChain))}
    query = select(AuditEvent).order_by(AuditEvent.chain, AuditEvent.seq, AuditEvent.id)
    if chain is not None:
        query = query.where(AuditEvent.chain == chain)
    checked = 0
    current, prev_hash, expected_seq = None, GENESIS, 1
    seen: set[str] = set()

    def close(name: str, last_hash: str, last_seq: int, last_id: int | None) -> VerifyResult | None:
        head = heads.get(name)
        if head is None:
            return VerifyResult(False, checked, None, name, "chain head is missing")
        if head.seq > last_seq:
            return VerifyResult(False, checked, None, name,
                                f"chain ends at event #{last_seq} but its head records #{head.seq}: "
                                "events were removed from the end")
        if head.seq < last_seq:
            return VerifyResult(False, checked, last_id, name,
                                f"chain ends at event #{last_seq} but its head records #{head.seq}: "
                                "events were added after the chain head")
        if head.head_hash != last_hash:
            return VerifyResult(False, checked, last_id, name,
                                f"the last event (#{last_seq}) does not match its chain head: "
                                "it was edited or replaced")
        return None

    last_id = None
    for event in session.scalars(query).yield_per(1000):
        if event.chain != current:
            if current is not None and (bad := close(current, prev_hash, expected_seq - 1, last_id)):
                return bad
            current, prev_hash, expected_seq = event.chain, GENESIS, 1
            seen.add(current)
        if event.seq != expected_seq:
            return VerifyResult(False, checked, event.id, event.chain,
                                f"expected event #{expected_seq} of the chain, found #{event.seq}: "
                                "an event was removed or reordered")
        if event.prev_hash != prev_hash:
            return VerifyResult(False, checked, event.id, event.chain,
                                "previous-hash link does not match the event before it")
        if _digest(event) != event.hash:
            return VerifyResult(False, checked, event.id, event.chain,
                                "content does not match its hash: the event was edited")
        prev_hash, expected_seq, last_id = event.hash, expected_seq + 1, event.id
        checked += 1
    if current is not None and (bad := close(current, prev_hash, expected_seq - 1, last_id)):
        return bad
    for name, head in heads.items():
        if (chain is None or name == chain) and name not in seen and head.seq > 0:
            return VerifyResult(False, checked, None, name, "all events of this chain were removed")
    return VerifyResult(True, checked)
