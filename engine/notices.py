"""Staff notices: a new task in my group, the daily digest, overdue tasks.

The engine only schedules them; what is said and to whom belongs to ``processes``
(:mod:`processes.notifications` registers the handlers with :func:`register`), so the
engine imports neither the processes nor Flask.

- When a human task row is created, :func:`task_created` adds one ``notice`` job in
  the same transaction, if its group has a member who wants immediate mail (one small
  indexed query and at most one row; who exactly to tell is worked out by the worker).
- A ``digest`` job runs once a day at ``digest_hour`` local time and reschedules itself.
- An ``overdue`` job runs every few minutes, looks at the tasks that passed their due
  date since its last run, and reschedules itself.

The worker makes sure one pending digest and one pending overdue job exist
(:func:`ensure_periodic`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from . import audit
from .errors import NotFoundError, Problem, ValidationError
from .models import Group, Job, JobKind, JobState, User, utcnow
from .models.user import user_group

# User.notify_mode values
IMMEDIATE, DAILY, OFF = "immediate", "digest", "off"
MODES = (IMMEDIATE, DAILY, OFF)

TASK_NEW = "task_new"
DIGEST = "digest"
OVERDUE = "overdue"


@dataclass(frozen=True)
class Notice:
    """What a notice handler is told: which kind, about which task, and when.

    :param task_uuid: the new task (``task_new``)
    :param since: the overdue window's start (``overdue``): tasks due in ``(since, now]``
    """

    kind: str
    now: datetime
    timezone: str = "Europe/Istanbul"
    task_uuid: str | None = None
    since: datetime | None = None


Handler = Callable[[Session, Notice], None]
_handlers: dict[str, Handler] = {}


def register(kind: str, handler: Handler) -> None:
    """Say what to do for notices of ``kind`` (``task_new``, ``digest``, ``overdue``)."""
    _handlers[kind] = handler


def handler_for(kind: str) -> Handler | None:
    return _handlers.get(kind)


def task_created(session: Session, task_uuid: str, group: str) -> bool:
    """Queue the "new task" notice of a task row written in this transaction, if anyone
    of ``group`` wants it now (an active member with an e-mail address and
    ``notify_mode`` "immediate"). Returns whether a job was added."""
    wanted = session.scalar(
        select(User.id).join(user_group, user_group.c.user_id == User.id)
        .join(Group, Group.id == user_group.c.group_id)
        .where(Group.slug == group, User.active.is_(True), User.notify_mode == IMMEDIATE,
               User.email.is_not(None), User.email != "")
        .limit(1))
    if wanted is None:
        return False
    session.add(Job(kind=JobKind.NOTICE, task_uuid=task_uuid, payload={"notice": TASK_NEW}, max_attempts=3))
    return True


def next_digest_at(now: datetime, hour: int, timezone: str) -> datetime:
    """The next ``hour``:00 in ``timezone`` strictly after ``now`` (as UTC)."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    when = datetime.combine(local.date(), time(hour % 24), tzinfo=zone)
    if when <= local:
        when = datetime.combine(local.date() + timedelta(days=1), time(hour % 24), tzinfo=zone)
    return when.astimezone(now.tzinfo)


def ensure_periodic(session: Session, *, digest_hour: int, timezone: str, overdue_minutes: float) -> int:
    """Make sure one pending digest job and one pending overdue job exist; returns how many were added.

    On PostgreSQL an advisory lock keeps two workers starting at once from adding two.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(74250501)"))
    now, added = utcnow(), 0
    have = set(session.scalars(select(Job.kind).where(Job.kind.in_((JobKind.DIGEST, JobKind.OVERDUE)),
                                                      Job.state == JobState.PENDING)))
    if JobKind.DIGEST not in have:
        session.add(Job(kind=JobKind.DIGEST, due_at=next_digest_at(now, digest_hour, timezone),
                        payload={"notice": DIGEST}))
        added += 1
    if JobKind.OVERDUE not in have:
        # From now on: tasks that were overdue before the first worker started are not announced.
        session.add(Job(kind=JobKind.OVERDUE, due_at=now + timedelta(minutes=overdue_minutes),
                        payload={"notice": OVERDUE, "since": now.isoformat()}))
        added += 1
    return added


def run_task_notice(session: Session, job: Job, *, timezone: str) -> None:
    """Run a ``notice`` job (no handler registered: nothing to say, the job is done)."""
    handler = handler_for(job.payload.get("notice", TASK_NEW))
    if handler is not None:
        handler(session, Notice(kind=TASK_NEW, now=utcnow(), timezone=timezone, task_uuid=job.task_uuid))


def run_digest(session: Session, job: Job, *, digest_hour: int, timezone: str) -> None:
    """Run the daily digest and put the same job on tomorrow's hour."""
    now = utcnow()
    handler = handler_for(DIGEST)
    if handler is not None:
        handler(session, Notice(kind=DIGEST, now=now, timezone=timezone))
    job.due_at = next_digest_at(now, digest_hour, timezone)


def run_overdue(session: Session, job: Job, *, timezone: str, overdue_minutes: float) -> None:
    """Tell about the tasks that became overdue since the last run; run again in a few minutes."""
    now = utcnow()
    since = datetime.fromisoformat(job.payload.get("since") or now.isoformat())
    handler = handler_for(OVERDUE)
    if handler is not None and since < now:
        handler(session, Notice(kind=OVERDUE, now=now, timezone=timezone, since=since))
    job.payload = {**job.payload, "since": now.isoformat()}   # a new dict: the JSON column sees the change
    job.due_at = now + timedelta(minutes=overdue_minutes)


def set_notify_mode(session: Session, username: str, mode: str, *, actor: str | None) -> User:
    """Choose how ``username`` hears of new tasks: ``immediate``, ``digest`` (daily) or ``off``.

    :raises ValidationError: another value
    :raises NotFoundError: no such user
    """
    if mode not in MODES:
        raise ValidationError("unknown notice mode", [Problem("notify_mode", f"one of {', '.join(MODES)}", "enum")])
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFoundError(f"no user {username!r}")
    if user.notify_mode != mode:
        audit.record(session, "user.notify_mode", actor=actor, data={"username": username, "from": user.notify_mode,
                                                                     "to": mode})
        user.notify_mode = mode
    return user
