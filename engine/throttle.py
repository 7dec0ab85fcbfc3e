"""Rate limits kept in the database, so that every web process counts alike.

A limit is a number of events per key within a window: portal submissions per
address and e-mail and per e-mail, failed tracking look-ups per address, "forgot my
code" mails per e-mail, failed sign-ins (see :func:`sign_in_wait`). Keys are
``"<purpose>:<kind>:<value>"``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
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


# --- sign-in ------------------------------------------------------------------------
# A (name, address) pair that failed ``limit`` times within the window is refused until
# the window has passed: a guesser at one address stops there, while the same name from
# any other address still signs in, so nobody can lock a colleague out by typing their
# name. Failures of one name from many addresses, or of one address over many names,
# only slow things down: a pair that has already failed waits before its next try, a
# delay that doubles with that pressure. A pair that never failed never waits.
BACKOFF_FIRST = timedelta(seconds=2)
BACKOFF_MAX = timedelta(minutes=1)
# An address may be a whole campus behind one NAT: it takes this many times the
# failures of a name before it counts as pressure.
ADDRESS_SHARE = 5


@dataclass(frozen=True)
class SignInWait:
    """Why and how long sign-ins for one name from one address must wait."""

    locked: bool        # True: the pair used up its tries; False: only slowed down
    wait: timedelta     # until the next try is taken


def _sign_in_keys(username: str, address: str) -> tuple[str, str, str]:
    return (key("login", "pair", f"{username}|{address}"), key("login", "user", username),
            key("login", "ip", address))


def sign_in_wait(session: Session, username: str, address: str, *, limit: int,
                 window: timedelta) -> SignInWait | None:
    """Whether a sign-in for ``username`` from ``address`` must wait, and how long; ``None``: try now.

    :param limit: failures of one (name, address) pair within ``window`` that lock the pair
    """
    pair, user, ip = _sign_in_keys(username, address)
    now = utcnow()
    rows = session.execute(
        select(RateEvent.key, func.count(), func.min(RateEvent.created_at), func.max(RateEvent.created_at))
        .where(RateEvent.key.in_((pair, user, ip)), RateEvent.created_at >= now - window)
        .group_by(RateEvent.key)).all()
    stats = {event_key: (n, first, last) for event_key, n, first, last in rows}
    failed, first, last = stats.get(pair, (0, None, None))
    if not failed:
        return None
    if failed >= limit:
        return SignInWait(locked=True, wait=first + window - now)
    pressure = max(stats.get(user, (0,))[0] // limit, stats.get(ip, (0,))[0] // (limit * ADDRESS_SHARE))
    if not pressure:
        return None
    delay = min(BACKOFF_FIRST * 2 ** min(pressure - 1, 16), BACKOFF_MAX)   # no overflow, however many
    return SignInWait(locked=False, wait=last + delay - now) if now < last + delay else None


def record_sign_in_failure(session: Session, username: str, address: str) -> None:
    """Count a failed sign-in against the (name, address) pair, the name and the address."""
    record(session, _sign_in_keys(username, address))


def clear_sign_in_failures(session: Session, username: str, address: str) -> None:
    """A successful sign-in forgets the failures of its (name, address) pair.

    The name's failures from elsewhere stay counted: they are someone else's guesses.
    """
    clear(session, _sign_in_keys(username, address)[:1])
