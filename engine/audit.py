"""The tamper-evident history: hash-chained audit events.

Each instance has its own chain (``instance:<id>``); everything else (deploys,
accounts, failed jobs without an instance) goes to the ``system`` chain. An event's
hash covers its content and the previous event's hash; the chain head row keeps the
last hash, so an edited, removed or reordered event breaks verification.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import Problem, ValidationError
from .models import AuditChain, AuditEvent, utcnow

GENESIS = "0" * 64
SYSTEM_CHAIN = "system"


def chain_name(instance_id: int | None) -> str:
    return f"instance:{instance_id}" if instance_id is not None else SYSTEM_CHAIN


def to_json_value(data):
    """Normalize data to plain JSON types so that its hash survives a round trip.

    :raises ValidationError: NaN or infinite numbers (not JSON; PostgreSQL refuses them)
    """
    try:
        return json.loads(json.dumps(data, default=str, ensure_ascii=False, allow_nan=False))
    except ValueError:
        raise ValidationError("data is not valid JSON", [
            Problem("", "numbers must be finite (NaN and infinity are not JSON)")
        ]) from None


def _digest(event: AuditEvent) -> str:
    body = {
        "chain": event.chain,
        "seq": event.seq,
        "instance_id": event.instance_id,
        "actor": event.actor,
        "action": event.action,
        "data": event.data,
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
    :param data: what was submitted and, where it matters, before and after
    """
    name = chain_name(instance_id)
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
        data=to_json_value(data or {}),
        created_at=utcnow(),
        prev_hash=head.head_hash,
    )
    event.hash = _digest(event)
    head.seq = event.seq
    head.head_hash = event.hash
    session.add(event)
    session.flush()
    return event


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
