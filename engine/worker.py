"""The worker loop: claim due jobs one by one, each in its own transaction.

Run as ``sek worker`` (many processes on many machines on PostgreSQL), or embedded
in ``sek run`` as a thread next to the web server.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy.orm import Session, sessionmaker

from . import jobs, notices
from .db import transaction
from .jobs import WorkerSettings

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
            ok = jobs.execute(session, job, settings)
            log.info("job %s (%s) %s", job.id, job.kind, "done" if ok else f"failed: {job.last_error}")
            of_a_request = job.instance_id is not None
        if of_a_request:
            count += 1
    return count


ENSURE_EVERY_SECONDS = 60.0


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
    total = 0
    ensured_at = None
    while True:
        try:
            if ensured_at is None or time.monotonic() - ensured_at > ENSURE_EVERY_SECONDS:
                ensure_periodic_jobs(factory, settings)
                ensured_at = time.monotonic()
            total += run_due_jobs(factory, settings)
        except Exception:  # keep the worker alive; the next pass retries
            if once:
                raise
            log.exception("worker pass failed")
        if once or stop.wait(settings.poll_seconds):
            return total


def start_embedded_worker(factory: sessionmaker[Session], settings: WorkerSettings):
    """Start the worker in a daemon thread; returns ``(thread, stop_event)``."""
    stop = threading.Event()
    thread = threading.Thread(target=run_worker, args=(factory, settings), kwargs={"stop": stop},
                              name="sek-worker", daemon=True)
    thread.start()
    return thread, stop
