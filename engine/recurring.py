"""Recurring starts: a process started once per period by a timer start event with a cycle.

A process may have, besides its none start event (where people and the API start it),
timer start events with a ``timeCycle``. Its expression (run in the sandbox, like every
timer expression) must give an ISO 8601 repeating interval ``R[n]/<start>/<duration>``,
e.g. ``"R/2027-01-04T09:00:00+03:00/P1M"``: every month from 4 January 2027 09:00,
forever (``R12/...``: twelve times). The start event property ``workingDay`` = ``next``
moves a period that falls on a weekend or a holiday (:mod:`engine.workdays`) to the
next working day, same local time.

Each such start event of the NEWEST deployed version of a process has one
:class:`~engine.models.RecurringSchedule` row and one pending ``recurring`` job, written
in the deploy's transaction (:func:`schedule_definition`); a new version takes the row
over, so a period never fires twice and an older version never fires.

When the job comes due, the worker (:func:`run_schedule`) takes every period due by
now: after downtime several collapse into ONE start. It writes a
:class:`~engine.models.RecurringStart` row (unique per process, start event and period:
the backstop against two workers) and a ``recurring_start`` job that starts the instance
(:func:`run_start`) at that start event with data ``scheduled_for`` (ISO, Istanbul time)
and ``missed_periods``, then moves itself to the next period. A start that fails (its
start schema, an error) is that job's failure, retried and finally shown to admins like
any job; the schedule has already moved on.
"""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import audit, start_events, workdays
from .errors import Problem, ValidationError, WorkflowError
from .models import Job, JobKind, JobState, ProcessDefinition, RecurringSchedule, RecurringStart, utcnow

ZONE = workdays.ZONE
ACTOR = None   # recurring starts are the system's, like timers (pages name it "zamanlayıcı")
WORKING_DAY_VALUES = ("next",)
MAX_CATCH_UP = 100_000   # periods counted past in one run, at most (a PT1M cycle down for two months)

_DURATION = re.compile(r"^P(?!$)(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
                       r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$")


@dataclass(frozen=True)
class Cycle:
    """An ISO 8601 repeating interval: ``count`` periods (``None``: forever) from ``start``."""

    text: str
    count: int | None
    start: datetime            # aware, Istanbul time
    years: int = 0
    months: int = 0
    weeks: int = 0
    days: int = 0
    hours: int = 0
    minutes: int = 0
    seconds: int = 0

    def period(self, index: int) -> datetime:
        """The ``index``-th period (0: the start), counted on the calendar from the start (31
        January + 1 month is 28/29 February, + 2 months 31 March), in Istanbul time."""
        months = (self.years * 12 + self.months) * index
        start = self.start
        if months:
            year, month = divmod(start.month - 1 + months, 12)
            year += start.year
            day = min(start.day, monthrange(year, month + 1)[1])
            start = start.replace(year=year, month=month + 1, day=day)
        step = timedelta(weeks=self.weeks, days=self.days, hours=self.hours, minutes=self.minutes,
                         seconds=self.seconds)
        return start + step * index

    @property
    def parts(self) -> dict[str, int]:
        """The period's non-zero parts, largest first: ``{"months": 1}``, ``{"weeks": 2}``."""
        names = ("years", "months", "weeks", "days", "hours", "minutes", "seconds")
        return {name: getattr(self, name) for name in names if getattr(self, name)}

    @property
    def unit(self) -> str:
        """What one period is, as a word key for the pages: ``year``, ``month``, ``week``,
        ``day``, ``hour``, ``minute`` (exactly one of those, once) or ``other``."""
        parts = {name: getattr(self, name) for name in ("years", "months", "weeks", "days", "hours", "minutes",
                                                       "seconds") if getattr(self, name)}
        if len(parts) == 1 and list(parts.values()) == [1] and "seconds" not in parts:
            return next(iter(parts)).removesuffix("s")
        return "other"


def parse_cycle(text: str) -> Cycle:
    """Parse ``R[n]/<start>/<duration>``.

    :raises ValueError: in words, what is wrong
    """
    if not isinstance(text, str):
        raise ValueError(f"must give a text like \"R/2027-01-04T09:00:00+03:00/P1M\", not {type(text).__name__}")
    parts = text.strip().split("/")
    example = "R/2027-01-04T09:00:00+03:00/P1M (every month from 4 January 2027 09:00)"
    if len(parts) != 3 or not re.fullmatch(r"R\d*", parts[0]):
        raise ValueError(f"{text!r} is not a repeating interval R[n]/<start>/<duration>, e.g. {example}")
    count = int(parts[0][1:]) if parts[0][1:] else None
    if count == 0:
        raise ValueError(f"{text!r} repeats zero times")
    try:
        start = datetime.fromisoformat(parts[1])
    except ValueError:
        raise ValueError(f"{text!r}: the start {parts[1]!r} is not a date and time like 2027-01-04T09:00:00+03:00") \
            from None
    start = start.replace(tzinfo=ZONE) if start.tzinfo is None else start.astimezone(ZONE)
    match = _DURATION.match(parts[2])
    if match is None:
        raise ValueError(f"{text!r}: the period {parts[2]!r} is not a duration like P1M, P1W, P1D or PT12H")
    fields = {name: int(value) for name, value in match.groupdict().items() if value}
    cycle = Cycle(text.strip(), count, start, **fields)
    if cycle.period(1) - cycle.period(0) < timedelta(minutes=1):
        raise ValueError(f"{text!r}: a period shorter than a minute is too short for a request")
    return cycle


def evaluate(expression: str) -> str:
    """The value of a ``timeCycle`` expression, run in the sandbox with no task data."""
    from . import runtime

    return runtime.script_engine().environment.evaluate(expression, {})


def check_expression(expression: str) -> Cycle:
    """Evaluate and parse a ``timeCycle`` expression (what deploy and ``sek validate`` check).

    :raises ValueError: it does not run or does not give a repeating interval
    """
    try:
        value = evaluate(expression)
    except Exception as exc:  # noqa: BLE001 - a script error, said in words
        raise ValueError(f"timeCycle expression failed: {getattr(exc, 'message', None) or exc}") from None
    return parse_cycle(value)


def shifted(period: datetime, working_day: str | None) -> datetime:
    """When a period starts: the period itself, or with ``next`` the next working day at the same
    local time when it falls on a weekend or a holiday."""
    local = period.astimezone(ZONE)
    if working_day == "next":
        day = local.date()
        while not workdays.is_working_day(day):
            day += timedelta(days=1)
        local = datetime.combine(day, local.timetz()).replace(tzinfo=ZONE)
    return local


def _first_index_from(cycle: Cycle, working_day: str | None, moment: datetime, after: datetime | None) -> int | None:
    """The first period starting (shifted) at or after ``moment`` and after period ``after``."""
    index = 0
    if cycle.period(1) > cycle.period(0):
        step = cycle.period(1) - cycle.period(0)
        gap = moment - cycle.period(0) - timedelta(days=10)
        if gap > timedelta(0):
            index = max(0, int(gap / step) - 1)   # close below, then walk
    while cycle.count is None or index < cycle.count:
        period = cycle.period(index)
        if shifted(period, working_day) >= moment and (after is None or period > after):
            return index
        index += 1
    return None


@dataclass(frozen=True)
class StartEventCycle:
    bpmn_id: str
    name: str
    expression: str
    working_day: str | None
    start_data: str | None = None   # the startData property: an expression giving more start data


def cycle_start_events(spec) -> list[StartEventCycle]:
    """The timer start events with a ``timeCycle`` of a process spec."""
    found = []
    kinds = start_events.kinds(spec)
    for task_spec in spec.task_specs.values():
        if kinds.get(getattr(task_spec, "bpmn_id", None)) != "cycle" or not hasattr(task_spec, "event_definition"):
            continue
        properties = (getattr(task_spec, "extensions", {}) or {}).get("properties", {}) or {}
        working_day = (properties.get("workingDay") or "").strip() or None
        found.append(StartEventCycle(task_spec.bpmn_id, task_spec.bpmn_name or task_spec.bpmn_id,
                                     task_spec.event_definition.expression, working_day,
                                     (properties.get("startData") or "").strip() or None))
    return sorted(found, key=lambda s: s.bpmn_id)


def schedule_definition(session: Session, definition: ProcessDefinition, spec) -> list[RecurringSchedule]:
    """Give the timer start events with a cycle of a newly deployed version their schedules
    (in the deploy's transaction), taking over the previous version's: a cycle that did not
    change goes on where it was; a changed one starts at its first period from now on, never
    at a period already started. Schedules of start events this version no longer has stop.

    :raises ValidationError: a cycle expression does not give a repeating interval
    """
    now = utcnow()
    events = cycle_start_events(spec)
    existing = {s.start_event: s for s in session.scalars(
        select(RecurringSchedule).where(RecurringSchedule.process_key == definition.key))}
    kept = []
    for event in events:
        try:
            cycle = check_expression(event.expression)
        except ValueError as exc:
            where = f"{getattr(spec, 'file', None) or definition.key}:{event.bpmn_id}"
            raise ValidationError("the definition files have problems; nothing was deployed",
                                  [Problem(where, str(exc))]) from None
        schedule = existing.pop(event.bpmn_id, None)
        if schedule is None:
            schedule = RecurringSchedule(process_key=definition.key, start_event=event.bpmn_id, next_index=0,
                                         created_at=now)
            session.add(schedule)
        same = (schedule.active and schedule.cycle == cycle.text and schedule.working_day == event.working_day)
        schedule.definition_id, schedule.active = definition.id, True
        if not same:
            schedule.cycle, schedule.working_day = cycle.text, event.working_day
            index = _first_index_from(cycle, event.working_day, now, schedule.last_period)
            schedule.next_index = index if index is not None else (cycle.count or 0)
            schedule.next_period = cycle.period(index) if index is not None else None
        session.flush()
        _set_job(session, schedule)
        kept.append(schedule)
    for schedule in existing.values():
        schedule.active = False
        _set_job(session, schedule)
    return kept


def _set_job(session: Session, schedule: RecurringSchedule) -> None:
    """Keep the schedule's one pending job due at its next period (or none when it is over)."""
    job = session.get(Job, schedule.job_id) if schedule.job_id else None
    if job is not None and job.state != JobState.PENDING:
        job = None
    if not schedule.active or schedule.next_period is None:
        if job is not None:
            job.state, job.finished_at = JobState.CANCELLED, utcnow()
        return
    due = shifted(schedule.next_period, schedule.working_day)
    if job is None:
        job = Job(kind=JobKind.RECURRING, payload={"schedule_id": schedule.id}, due_at=due)
        session.add(job)
        session.flush()
        schedule.job_id = job.id
    else:
        job.due_at = due


def run_schedule(session: Session, job: Job) -> None:
    """A schedule's job: start the period(s) due by now (one start), move to the next period."""
    schedule = session.get(RecurringSchedule, job.payload.get("schedule_id"))
    if schedule is None or not schedule.active or schedule.next_period is None or schedule.job_id != job.id:
        return   # stopped, replaced or over: this job ends
    cycle = parse_cycle(schedule.cycle)
    now = utcnow()
    index, due = schedule.next_index, []
    while (cycle.count is None or index < cycle.count) and len(due) < MAX_CATCH_UP:
        period = cycle.period(index)
        if shifted(period, schedule.working_day) > now:
            break
        due.append(period)
        index += 1
    if due:
        period = due[-1]
        _queue_start(session, schedule, period, missed=len(due) - 1)
    schedule.next_index = index
    schedule.next_period = cycle.period(index) if cycle.count is None or index < cycle.count else None
    if schedule.next_period is not None:
        job.due_at = shifted(schedule.next_period, schedule.working_day)   # execute() sees it rescheduled
    # else the job ends: the cycle ran its course


def _queue_start(session: Session, schedule: RecurringSchedule, period: datetime, *, missed: int) -> None:
    try:
        with session.begin_nested():
            started = RecurringStart(process_key=schedule.process_key, start_event=schedule.start_event,
                                     period=period, missed_periods=missed)
            session.add(started)
            session.flush()
    except IntegrityError:
        return   # another worker started this period already (the unique backstop)
    scheduled_for = shifted(period, schedule.working_day)
    session.add(Job(kind=JobKind.RECURRING_START, due_at=utcnow(), payload={
        "recurring_start_id": started.id, "process": schedule.process_key, "start_event": schedule.start_event,
        "scheduled_for": scheduled_for.isoformat(), "missed_periods": missed,
    }))
    schedule.last_period, schedule.last_run_at, schedule.last_error = period, utcnow(), None
    audit.record(session, "schedule.fired", actor=ACTOR, data={
        "process": schedule.process_key, "start_event": schedule.start_event,
        "scheduled_for": scheduled_for.isoformat(), "missed_periods": missed,
    })


def run_start(session: Session, job: Job) -> None:
    """Start one period's instance at its timer start event (newest version of the process)."""
    from . import runtime

    payload = job.payload
    started = session.get(RecurringStart, payload["recurring_start_id"])
    if started is not None and started.instance_id is not None:
        return   # already started (a retry after the start committed)
    data = {"scheduled_for": payload["scheduled_for"], "missed_periods": payload["missed_periods"]}
    data = {**start_data(session, payload["process"], payload["start_event"], data), **data}
    instance = runtime.start_instance(session, payload["process"], data=data, actor=ACTOR,
                                      start_event=payload["start_event"])
    if started is not None:
        started.instance_id = instance.id
    schedule = session.scalar(select(RecurringSchedule).where(
        RecurringSchedule.process_key == payload["process"], RecurringSchedule.start_event == payload["start_event"]))
    if schedule is not None:
        schedule.last_instance_id, schedule.last_error = instance.id, None


class StartDataError(WorkflowError):
    """A start event's ``startData`` failed: every retry would fail the same way."""

    permanent = True


def start_data(session: Session, key: str, start_event: str, data: dict) -> dict:
    """The start event's ``startData`` (an expression over ``scheduled_for`` and
    ``missed_periods``, run in the sandbox) for the newest version of the process: the rest
    of what its start form asks, e.g. ``{"subject": "Aylık yedek denetimi " + scheduled_for[:7]}``.

    :raises StartDataError: it fails or does not give an object
    """
    from . import definitions, runtime

    loaded = definitions.load_by_id(session, definitions.get_definition(session, key).id)
    event = next((e for e in cycle_start_events(loaded.spec) if e.bpmn_id == start_event), None)
    if event is None or not event.start_data:
        return {}
    try:
        value = runtime.script_engine().environment.evaluate(event.start_data, dict(data))
    except Exception as exc:  # noqa: BLE001 - said in words, as the failed job's error
        raise StartDataError(f"{start_event}: startData failed: {getattr(exc, 'message', None) or exc}") from exc
    if not isinstance(value, dict):
        raise StartDataError(f"{start_event}: startData must give an object (a dict), not {type(value).__name__}")
    return value


def start_failed(session: Session, job: Job, message: str) -> None:
    """Note a period's failed start on its schedule (the page shows it beside the last run)."""
    schedule = session.scalar(select(RecurringSchedule).where(
        RecurringSchedule.process_key == job.payload.get("process"),
        RecurringSchedule.start_event == job.payload.get("start_event")))
    if schedule is not None:
        schedule.last_error = message


@dataclass(frozen=True)
class ScheduleView:
    """What a process page shows of one recurring start."""

    start_event: str
    name: str
    unit: str                     # year, month, week, day, hour, minute or other (see Cycle.unit)
    parts: dict                   # the period in parts, e.g. {"weeks": 2} (see Cycle.parts)
    cycle: str
    working_day: str | None
    next_at: datetime | None      # Istanbul time, shifted; None once the cycle is over
    last_at: datetime | None      # when the last period was scheduled for (shifted, Istanbul time)
    last_instance_id: int | None
    last_error: str | None
    remaining: int | None         # periods left of an R<n> cycle; None: forever


def schedules(session: Session, key: str) -> list[ScheduleView]:
    """The active recurring starts of a process, for its page."""
    rows = session.scalars(select(RecurringSchedule).where(
        RecurringSchedule.process_key == key, RecurringSchedule.active.is_(True)).order_by(RecurringSchedule.start_event))
    views = []
    for row in rows:
        cycle = parse_cycle(row.cycle)
        definition = session.get(ProcessDefinition, row.definition_id)
        name = row.start_event
        if definition is not None:
            from . import definitions

            spec = definitions.load_by_id(session, definition.id).spec
            name = next((e.name for e in cycle_start_events(spec) if e.bpmn_id == row.start_event), name)
        views.append(ScheduleView(
            start_event=row.start_event, name=name, unit=cycle.unit, parts=cycle.parts, cycle=row.cycle, working_day=row.working_day,
            next_at=shifted(row.next_period, row.working_day) if row.next_period else None,
            last_at=shifted(row.last_period, row.working_day) if row.last_period else None,
            last_instance_id=row.last_instance_id, last_error=row.last_error,
            remaining=None if cycle.count is None else max(0, cycle.count - row.next_index)))
    return views



@dataclass(frozen=True)
class FailedStart:
    """A period whose start failed for good (an admin may retry it: :func:`engine.jobs.retry_job`)."""

    job_id: int
    start_event: str
    scheduled_for: datetime
    error: str


def failed_starts(session: Session, key: str) -> list[FailedStart]:
    """The failed recurring starts of a process, newest first (shown to admins on its page)."""
    rows = session.scalars(select(Job).where(Job.kind == JobKind.RECURRING_START, Job.state == JobState.FAILED)
                           .order_by(Job.id.desc()))
    return [FailedStart(job.id, job.payload.get("start_event", ""), datetime.fromisoformat(job.payload["scheduled_for"]),
                        job.last_error or "") for job in rows if job.payload.get("process") == key]


def retry_start(session: Session, key: str, job_id: int, *, actor: str | None) -> Job:
    """Queue a failed recurring start of process ``key`` again (an admin's action).

    :raises NotFoundError: no such failed start of this process
    :raises ConflictError: the job is not failed
    """
    from . import jobs
    from .errors import NotFoundError

    job = session.get(Job, job_id)
    if job is None or job.kind != JobKind.RECURRING_START or job.payload.get("process") != key:
        raise NotFoundError(f"no recurring start {job_id} of {key}")
    return jobs.retry_job(session, job_id, actor=actor)
