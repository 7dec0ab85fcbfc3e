"""Yearly and monthly figures for managers, read from ``request_fact`` only.

A period's figures are those of the requests *received* in it, periods being
calendar years and months in Europe/Istanbul (see :mod:`engine.facts` for what
received, first answer, resolved and SLA met mean). In :func:`summary`:

- ``open``: received, neither resolved nor cancelled (so received = resolved +
  open + cancelled-unresolved).
- ``by_category`` / ``by_team`` / ``by_process``: counts of received requests,
  biggest first; requests without a category (every process but user_support) or a
  team (no human task yet) are left out of those two.
- ``first_answer_hours`` / ``resolution_hours``: median and 90th percentile in hours
  (two decimals), linear interpolation between ranks (PostgreSQL's
  ``percentile_cont``); ``None`` when no request of the period has one.
- ``sla_met_ratio``: requests whose first resolution came by the due date, over
  those with a known answer (due date and resolved); ``None`` if there are none.
- ``reopened``: requests reopened at least once.
- ``satisfaction``: ``{"mean": 1-5 with two decimals or None, "count": ratings}``.
- ``calls`` (call_record): ``answered``; ``lost`` = every call lost in the queue or
  dropped, including those later called back; ``called_back`` = lost calls whose
  caller was reached. Lost-call rate = lost / (answered + lost), see :func:`lost_rate`.

Aggregates run in the database (GROUP BY, conditional sums); percentiles too
(``percentile_cont`` on PostgreSQL, one ``ORDER BY ... LIMIT 2 OFFSET k`` per
percentile on SQLite), so no figure loads the period's rows into Python.
"""

from __future__ import annotations

import math
from datetime import datetime

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from .errors import Problem, ValidationError
from .models import InstanceStatus, RequestFact
from .workdays import ZONE

FIRST_YEAR, LAST_YEAR = 2000, 2100
PERCENTILES = (("median", 0.5), ("p90", 0.9))
F = RequestFact


def check_period(year, month=None) -> tuple[int, int | None]:
    """``year`` (and ``month``) as integers in range.

    :raises ValidationError: with a problem for the field that is wrong
    """
    problems = []
    try:
        year = int(year)
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise ValueError
    except (TypeError, ValueError):
        problems.append(Problem("year", f"a year from {FIRST_YEAR} to {LAST_YEAR}", "range"))
    if month is not None and month != "":
        try:
            month = int(month)
            if not 1 <= month <= 12:
                raise ValueError
        except (TypeError, ValueError):
            problems.append(Problem("month", "a month from 1 to 12", "range"))
    else:
        month = None
    if problems:
        raise ValidationError("bad report period", problems)
    return year, month


def period(year: int, month: int | None = None) -> tuple[datetime, datetime]:
    """Start and end (exclusive) of a year or month, in local time (aware)."""
    if month is None:
        return datetime(year, 1, 1, tzinfo=ZONE), datetime(year + 1, 1, 1, tzinfo=ZONE)
    end = datetime(year + 1, 1, 1, tzinfo=ZONE) if month == 12 else datetime(year, month + 1, 1, tzinfo=ZONE)
    return datetime(year, month, 1, tzinfo=ZONE), end


def _count(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _totals_columns():
    resolved = F.resolved_at.is_not(None)
    return [
        func.count().label("received"),
        _count(resolved).label("resolved"),
        _count(and_(F.resolved_at.is_(None), F.status != InstanceStatus.CANCELLED)).label("open"),
        _count(F.sla_met.is_(True)).label("sla_met"),
        _count(F.sla_met.is_not(None)).label("sla_known"),
        _count(F.reopened > 0).label("reopened"),
        func.coalesce(func.sum(F.rating), 0).label("rating_sum"),
        func.count(F.rating).label("rating_count"),
        _count(F.call_outcome == "answered").label("answered"),
        _count(F.call_outcome.in_(("lost", "called_back"))).label("lost"),
        _count(F.call_outcome == "called_back").label("called_back"),
    ]


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _shape(row) -> dict:
    """The common figures of one totals row."""
    return {
        "received": int(row.received), "resolved": int(row.resolved), "open": int(row.open),
        "sla_met_ratio": _ratio(int(row.sla_met), int(row.sla_known)),
        "reopened": int(row.reopened),
        "satisfaction": {
            "mean": round(int(row.rating_sum) / row.rating_count, 2) if row.rating_count else None,
            "count": int(row.rating_count),
        },
        "calls": {"answered": int(row.answered), "lost": int(row.lost), "called_back": int(row.called_back)},
    }


def _grouped(session: Session, column, where) -> dict[str, int]:
    rows = session.execute(select(column, func.count()).where(where, column.is_not(None)).group_by(column)).all()
    return {key: int(count) for key, count in sorted(rows, key=lambda r: (-r[1], r[0]))}


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


def _percentiles(session: Session, column, where) -> dict[str, float | None]:
    """Median and p90 of a seconds column, in hours (linear interpolation)."""
    if session.get_bind().dialect.name == "postgresql":
        row = session.execute(select(*[
            func.percentile_cont(p).within_group(column.asc()) for _name, p in PERCENTILES
        ]).where(where, column.is_not(None))).one()
        return {name: _hours(value) for (name, _p), value in zip(PERCENTILES, row, strict=True)}
    n = session.scalar(select(func.count(column)).where(where))
    result = {}
    for name, p in PERCENTILES:
        if not n:
            result[name] = None
            continue
        position = p * (n - 1)
        low = math.floor(position)
        values = session.scalars(select(column).where(where, column.is_not(None))
                                 .order_by(column).limit(2).offset(low)).all()
        high = values[1] if len(values) > 1 else values[0]
        result[name] = _hours(values[0] + (high - values[0]) * (position - low))
    return result


def summary(session: Session, year, month=None) -> dict:
    """The figures of a year (or one of its months), in the API's JSON shape.

    :raises ValidationError: a year or month out of range
    """
    year, month = check_period(year, month)
    start, end = period(year, month)
    where = and_(F.received_at >= start, F.received_at < end)
    shaped = _shape(session.execute(select(*_totals_columns()).where(where)).one())
    return {
        "received": shaped["received"], "resolved": shaped["resolved"], "open": shaped["open"],
        "by_category": _grouped(session, F.category, where),
        "by_team": _grouped(session, F.team, where),
        "by_process": _grouped(session, F.process_key, where),
        "first_answer_hours": _percentiles(session, F.first_answer_seconds, where),
        "resolution_hours": _percentiles(session, F.resolution_seconds, where),
        "sla_met_ratio": shaped["sla_met_ratio"],
        "reopened": shaped["reopened"],
        "satisfaction": shaped["satisfaction"],
        "calls": shaped["calls"],
    }


def monthly(session: Session, year) -> list[dict]:
    """Twelve rows, January first: ``month`` and the common figures of :func:`summary`
    (received, resolved, open, sla_met_ratio, reopened, satisfaction, calls), in one
    GROUP BY over the year's rows.
    """
    year, _ = check_period(year)
    start, end = period(year)
    bounds = [period(year, m) for m in range(1, 13)]
    bucket = case(*[(F.received_at < month_end, m) for m, (_s, month_end) in enumerate(bounds, 1)], else_=12)
    rows = session.execute(select(bucket.label("month"), *_totals_columns())
                           .where(F.received_at >= start, F.received_at < end).group_by(bucket)).all()
    found = {int(row.month): _shape(row) for row in rows}
    empty = {"received": 0, "resolved": 0, "open": 0, "sla_met_ratio": None, "reopened": 0,
             "satisfaction": {"mean": None, "count": 0}, "calls": {"answered": 0, "lost": 0, "called_back": 0}}
    return [{"month": m, **found.get(m, empty)} for m in range(1, 13)]


def lost_rate(calls: dict) -> float | None:
    """Lost calls over all calls (answered + lost), 0-1; None without calls."""
    return _ratio(calls["lost"], calls["answered"] + calls["lost"])
