"""The worker loop: claim due jobs one by one, each in its own transaction.

Run as ``sek worker`` (many processes on many machines on PostgreSQL), or embedded
in ``sek run`` as a thread next to the web server. When the database goes away the
worker does not exit: it says so once, waits with a growing pause, and says so again
when the database is back (engine.health).
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from . import health, jobs, notices
from .db import transaction
from .jobs import WorkerSettings
from .models import JobKind

log = logging.getLogger(__name__)


def run_due_jobs(factory: sessionmaker[Session], settings: WorkerSettings, *, limit: int | None = None) -> int:
    """Run due jobs until none is left (or ``limit`` of a request's jobs ran). Returns how many
    jobs of requests ran (timers, services, their mails): staff notices (engine.notices) and
    their mails run too but are not counted, so the number tells what happened to requests."""
    count = 0
    while limit is None or count < limit:
        with transaction(factory) as session:
            job = jobs.claim_next(session)
            if job is None:
                return count
            job_id, kind = job.id, job.kind
            try:
                ok = jobs.execute(session, job, settings)
            except Exception as exc:
                if health.is_unavailable(exc):
                    log.warning("job %s (%s) not finished, it stays pending: its database session was lost (%s)",
                                job_id, kind, health.first_line(exc))
                raise
            log.info("job %s (%s) %s", job.id, job.kind, "done" if ok else f"failed: {job.last_error}")
            of_a_request = job.instance_id is not None or job.kind == JobKind.RECURRING_START
        if of_a_request:
            count += 1
    return count


ENSURE_EVERY_SECONDS = 60.0
# The longest pause between two attempts while the database is unavailable.
OUTAGE_MAX_WAIT_SECONDS = 30.0


def _outage_wait(settings: WorkerSettings, failures: int) -> float:
    return min(OUTAGE_MAX_WAIT_SECONDS, max(settings.poll_seconds, 0.1) * 2 ** min(failures - 1, 16))


def ensure_periodic_jobs(factory: sessionmaker[Session], settings: WorkerSettings) -> int:
    """Make sure the self-rescheduling digest and overdue jobs exist (one transaction)."""
    with transaction(factory) as session:
        return notices.ensure_periodic(session, digest_hour=settings.digest_hour, timezone=settings.timezone,
                                       overdue_minutes=settings.overdue_minutes)


def run_worker(factory: sessionmaker[Session], settings: WorkerSettings, *, once: bool = False,
               stop: threading.Event | None = None) -> int:
    """Run jobs as they come due; with ``once``, one pass and return.

    Every minute or so (and before the first pass) it checks that the periodic staff
    notice jobs exist: an admin may have cancelled one, or a failed one may have given up.
    """
    stop = stop or threading.Event()
    outage = health.OutageLog(log, "worker")
    total, failures = 0, 0
    ensured_at = None
    while True:
        wait = settings.poll_seconds
        try:
            if ensured_at is None or time.monotonic() - ensured_at > ENSURE_EVERY_SECONDS:
                ensure_periodic_jobs(factory, settings)
                ensured_at = time.monotonic()
            total += run_due_jobs(factory, settings)
            outage.succeeded()
            failures = 0
        except Exception as exc:  # keep the worker alive; the next pass retries
            if once:
                raise
            if health.is_unavailable(exc) or health.is_busy(exc):
                # A job in flight was rolled back with its transaction: it is still pending.
                outage.failed(exc)
                failures += 1
                wait = _outage_wait(settings, failures)
            else:
                log.exception("worker pass failed")
        if once or stop.wait(wait):
            return total


def wait_for_database(engine: Engine, settings: WorkerSettings, stop: threading.Event | None = None) -> bool:
    """Wait until the database answers (a worker started during an outage waits for it instead of
    exiting), with the same growing pause and log lines as :func:`run_worker`. False if stopped."""
    stop = stop or threading.Event()
    outage = health.OutageLog(log, "worker")
    failures = 0
    while True:
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            outage.succeeded()
            return True
        except Exception as exc:
            if not (health.is_unavailable(exc) or health.is_busy(exc)):
                raise
            outage.failed(exc)
            failures += 1
        if stop.wait(_outage_wait(settings, failures)):
            return False


def start_embedded_worker(factory: sessionmaker[Session], settings: WorkerSettings):
    """Start the worker in a daemon thread; returns ``(thread, stop_event)``."""
    stop = threading.Event()
    thread = threading.Thread(target=run_worker, args=(factory, settings), kwargs={"stop": stop},
                              name="sek-worker", daemon=True)
    thread.start()
    return thread, stop
