"""Audit exports for a period: events as CSV or JSON, the event log as XES.

Every exporter is a generator of text chunks so that a big period streams instead of
being built in memory. CSV cells that a spreadsheet would run as a formula (starting
with ``=``, ``+``, ``-``, ``@``, tab or carriage return) get a leading apostrophe.
XES follows IEEE 1849-2016: one trace per instance (``concept:name`` = tracking code),
one event per audit event (``concept:name`` = the task's name or the action,
``time:timestamp``, ``org:resource`` = the actor, ``lifecycle:transition`` = complete).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, tzinfo
from xml.sax.saxutils import quoteattr

from sqlalchemy import nulls_first, select
from sqlalchemy.orm import Session

from .errors import Problem, ValidationError
from .models import AuditEvent, HumanTask, ProcessInstance

FORMATS = ("csv", "json", "xes")
CSV_COLUMNS = ("id", "chain", "seq", "instance_id", "tracking_code", "created_at", "actor", "action", "data",
               "prev_hash", "hash")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Characters XML 1.0 does not allow even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_BATCH = 1000


def period(start: str | None, end: str | None, zone: tzinfo) -> tuple[datetime | None, datetime | None]:
    """Two ``YYYY-MM-DD`` days (both included, either empty) as ``[start, end)`` instants in ``zone``.

    :raises ValidationError: a day that is not a date, or an end before the start
    """
    bounds = []
    for name, text, shift in (("from", start, 0), ("to", end, 1)):
        text = (text or "").strip()
        if not text:
            bounds.append(None)
            continue
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise ValidationError("bad period", [Problem(name, f"not a date (YYYY-MM-DD): {text[:40]!r}")]) from None
        bounds.append(datetime.combine(day + timedelta(days=shift), time(), zone))
    if bounds[0] and bounds[1] and bounds[1] <= bounds[0]:
        raise ValidationError("bad period", [Problem("to", "the period ends before it starts")])
    return bounds[0], bounds[1]


def neutralize(cell: str) -> str:
    """A CSV cell a spreadsheet shows as text, never runs as a formula (CWE-1236)."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def events_in_period(session: Session, start: datetime | None, end: datetime | None):
    """Audit events with ``start <= created_at < end`` (either bound optional), in chain order,
    each with its instance's tracking code; fetched in batches."""
    query = (select(AuditEvent, ProcessInstance.tracking_code)
             .outerjoin(ProcessInstance, ProcessInstance.id == AuditEvent.instance_id)
             .order_by(nulls_first(AuditEvent.instance_id), AuditEvent.chain, AuditEvent.seq))
    if start is not None:
        query = query.where(AuditEvent.created_at >= start)
    if end is not None:
        query = query.where(AuditEvent.created_at < end)
    return session.execute(query.execution_options(yield_per=_BATCH))


def _cells(event: AuditEvent, code: str | None) -> dict:
    return {"id": event.id, "chain": event.chain, "seq": event.seq, "instance_id": event.instance_id,
            "tracking_code": code, "created_at": event.created_at.isoformat(), "actor": event.actor,
            "action": event.action, "data": event.data, "prev_hash": event.prev_hash, "hash": event.hash}


def export_csv(session: Session, start: datetime | None, end: datetime | None) -> Iterator[str]:
    """The events as CSV text (a header line, then one line an event)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for event, code in events_in_period(session, start, end):
        cells = _cells(event, code)
        cells["data"] = json.dumps(cells["data"], ensure_ascii=False, sort_keys=True)
        writer.writerow([neutralize("" if cells[c] is None else str(cells[c])) for c in CSV_COLUMNS])
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def export_json(session: Session, start: datetime | None, end: datetime | None) -> Iterator[str]:
    """The events as one JSON array of objects (the CSV columns, ``data`` as an object)."""
    yield "["
    first = True
    for event, code in events_in_period(session, start, end):
        yield ("\n" if first else ",\n") + json.dumps(_cells(event, code), ensure_ascii=False, sort_keys=True)
        first = False
    yield "\n]\n"


def _xml_text(value) -> str:
    return _NOT_XML.sub("\ufffd", str(value))


def _attr(kind: str, key: str, value) -> str:
    return f"<{kind} key={quoteattr(key)} value={quoteattr(_xml_text(value))}/>"


def _task_names(session: Session, instance_id: int) -> dict[int, str]:
    rows = session.execute(select(HumanTask.id, HumanTask.name).where(HumanTask.instance_id == instance_id))
    return {task_id: name for task_id, name in rows}


def _activity(event: AuditEvent, names: dict[int, str]) -> str:
    data = event.data or {}
    task = (names.get(data.get("task_id")) or data.get("bpmn_id")) if event.action.startswith("task.") else None
    if not task:
        return event.action
    return task if event.action == "task.completed" else f"{task} ({event.action})"


def export_xes(session: Session, start: datetime | None, end: datetime | None) -> Iterator[str]:
    """The event log of the instances' events in the period as XES XML (system events,
    which belong to no instance, are left out: they are no case of a process)."""
    yield ('<?xml version="1.0" encoding="UTF-8"?>\n'
           '<log xes.version="1849-2016" xes.features="nested-attributes" '
           'xmlns="http://www.xes-standard.org/">\n'
           '<extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>\n'
           '<extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>\n'
           '<extension name="Organizational" prefix="org" uri="http://www.xes-standard.org/org.xesext"/>\n'
           '<extension name="Lifecycle" prefix="lifecycle" uri="http://www.xes-standard.org/lifecycle.xesext"/>\n'
           '<global scope="trace">' + _attr("string", "concept:name", "") + '</global>\n'
           '<global scope="event">' + _attr("string", "concept:name", "")
           + _attr("date", "time:timestamp", "1970-01-01T00:00:00+00:00") + '</global>\n'
           '<classifier name="Activity" keys="concept:name"/>\n')
    current, names = None, {}
    for event, code in events_in_period(session, start, end):
        if event.instance_id is None:
            continue
        if event.instance_id != current:
            if current is not None:
                yield "</trace>\n"
            current, names = event.instance_id, _task_names(session, event.instance_id)
            yield ("<trace>" + _attr("string", "concept:name", code or f"instance {current}")
                   + _attr("int", "sek:instance_id", current) + "\n")
        parts = [_attr("string", "concept:name", _activity(event, names)),
                 _attr("date", "time:timestamp", event.created_at.isoformat()),
                 _attr("string", "lifecycle:transition", "complete"),
                 _attr("string", "sek:action", event.action),
                 _attr("int", "sek:seq", event.seq)]
        if event.actor:
            parts.append(_attr("string", "org:resource", event.actor))
        yield "<event>" + "".join(parts) + "</event>\n"
    if current is not None:
        yield "</trace>\n"
    yield "</log>\n"


EXPORTERS = {"csv": export_csv, "json": export_json, "xes": export_xes}


def export(session: Session, fmt: str, start: datetime | None, end: datetime | None) -> Iterator[str]:
    """The period's export in ``fmt`` (one of :data:`FORMATS`), as text chunks."""
    return EXPORTERS[fmt](session, start, end)

