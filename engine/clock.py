"""The engine's clock: the real time, optionally shifted forward, or pinned for tests.

``SEK_CLOCK_SHIFT`` (an ISO 8601 duration such as ``P3D``) moves the engine's "now"
forward, so that ``SEK_CLOCK_SHIFT=P3D sek worker --once`` fires what falls due within
three days. It is for tests and for rehearsing a process on a copy, never for
production. SpiffWorkflow's timers, the sandbox's ``datetime`` and every timestamp the
engine writes read this clock.

Tests only: :func:`pin` (and ``SEK_CLOCK_AT``, for a ``sek`` subprocess of a test) make
"now" a given moment, in the past too, from which the clock runs on at the real pace.
A test of working days pins a known weekday or the eve of a holiday, so that what it
checks does not depend on the day it runs.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_DURATION = re.compile(r"^P(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?"
                       r"(?:(?P<seconds>\d+)S)?)?$")


class _Clock:
    shift = timedelta(0)


def now() -> datetime:
    """The current time, timezone-aware in UTC, plus the configured shift."""
    return datetime.now(UTC) + _Clock.shift


def set_shift(shift: timedelta) -> None:
    """Move the engine's clock ``shift`` ahead of the real time (``timedelta(0)``: real time)."""
    if shift < timedelta(0):
        raise ValueError("the clock can only be shifted forward")
    _Clock.shift = shift


def pin(moment: datetime) -> None:
    """Tests only: make the engine's "now" ``moment`` (timezone-aware); it runs on from there.

    Unlike :func:`set_shift`, the moment may lie in the past. ``set_shift(timedelta(0))``
    puts the clock back on real time.

    :raises ValueError: ``moment`` has no time zone
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("the clock can only be pinned to a moment with a time zone")
    _Clock.shift = moment - datetime.now(UTC)


def configure(shift: str | None, at: str | None = None) -> None:
    """Apply ``SEK_CLOCK_SHIFT`` and (tests only) ``SEK_CLOCK_AT``: pinned at ``at`` plus
    ``shift`` when ``at`` is given, else ``shift`` ahead of real time.

    :raises ValueError: either is not what it should be
    """
    delta = parse_shift(shift)
    if not at:
        set_shift(delta)
        return
    try:
        moment = datetime.fromisoformat(at.strip())
    except ValueError:
        moment = None
    if moment is None or moment.utcoffset() is None:
        raise ValueError(f"SEK_CLOCK_AT={at!r} is not a moment with a UTC offset like 2026-11-02T10:00+03:00")
    pin(moment + delta)


def get_shift() -> timedelta:
    """How far the engine's clock is ahead of the real time (given to sandbox processes)."""
    return _Clock.shift


def adopt_shift(shift: timedelta) -> None:
    """Take over another process's clock exactly (a sandbox process adopting its parent's,
    which may be pinned in the past by a test)."""
    _Clock.shift = shift


def parse_shift(text: str | None) -> timedelta:
    """``P3D``, ``PT2H30M``, ``P1DT12H`` ... as a timedelta; empty: no shift.

    :raises ValueError: not such a duration
    """
    if not text:
        return timedelta(0)
    match = _DURATION.match(text.strip().upper())
    if not match or text.strip().upper() in ("P", "PT"):
        raise ValueError(f"SEK_CLOCK_SHIFT={text!r} is not a duration like P3D or PT2H")
    parts = {name: int(value) for name, value in match.groupdict().items() if value}
    return timedelta(**parts)


class ShiftedDatetime(datetime):
    """``datetime`` whose ``now()`` reads the engine's clock (given to SpiffWorkflow's
    timer module and to scripts, so timers and scripts agree with the engine)."""

    @classmethod
    def now(cls, tz=None):
        moment = now()
        # Like datetime.now(): aware in ``tz`` when given, else naive local time.
        moment = moment.astimezone(tz) if tz is not None else moment.astimezone().replace(tzinfo=None)
        return cls(moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second,
                   moment.microsecond, moment.tzinfo)

    @classmethod
    def utcnow(cls):
        return cls.now(UTC).replace(tzinfo=None)


class ScriptDatetime(datetime):
    """The ``datetime`` scripts see: ``now()`` reads the engine's clock, and every value
    it makes is a plain ``datetime`` (so process data stays serializable as before)."""

    def __new__(cls, *args, **kwargs):
        return datetime(*args, **kwargs)

    @classmethod
    def now(cls, tz=None):
        moment = now()
        return moment.astimezone(tz) if tz is not None else moment.astimezone().replace(tzinfo=None)

    @classmethod
    def utcnow(cls):
        return now().replace(tzinfo=None)
