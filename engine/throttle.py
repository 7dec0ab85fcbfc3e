"""Rate limits kept in the database, so that every web process counts alike.

A limit is a number of events per key within a window: portal submissions per
address and per e-mail, failed tracking look-ups per address, "forgot my code"
mails per e-mail. Keys are ``"<purpose>:<kind>:<value>"``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from .models import RateEvent, utcnow

# Events older than this are never counted; they are dropped as new ones are written.
KEEP = timedelta(days=1)


def key(purpose: str, kind: str, value: str) -> str:
    """The key of one counted thing, e.g. ``key("submit", "ip", "10.0.0.1")``."""
    return f"{purpose}:{kind}:{(value or '').strip().lower()}"[:400]


def count(session: Session, event_key: str, window: timedelta) -> int:
    """How many events ``event_key`` had within ``window``."""
    since = utcnow() - window
    return session.scalar(select(func.count()).select_from(RateEvent)
                          .where(RateEvent.key == event_key, RateEvent.created_at >= since)) or 0


def exceeded(session: Session, limits: Iterable[tuple[str, int]], window: timedelta) -> bool:
    """Whether any ``(key, limit)`` pair already has ``limit`` or more events within ``window``."""
    return any(count(session, event_key, window) >= limit for event_key, limit in limits)


def record(session: Session, keys: Iterable[str]) -> None:
    """Count one event against every key (and forget events older than a day)."""
    session.execute(delete(RateEvent).where(RateEvent.created_at < utcnow() - KEEP))
    for event_key in keys:
        session.add(RateEvent(key=event_key))
    session.flush()


def clear(session: Session, keys: Iterable[str]) -> None:
    """Forget the events of ``keys`` (a successful look-up clears its failures)."""
    session.execute(delete(RateEvent).where(RateEvent.key.in_(list(keys))))
