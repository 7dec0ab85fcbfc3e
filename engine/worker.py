"""The worker loop: claim due jobs one by one, each in its own transaction.

Run as ``sek worker`` (many processes on many machines on PostgreSQL), or embedded
in ``sek run`` as a thread next to the web server.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy.orm import Session, sessionmaker

from . import jobs
from .db import transaction
from .jobs import WorkerSettings

log = logging.getLogger(__name__)


def run_due_jobs(factory: sessionmaker[Session], settings: WorkerSettings, *, limit: int | None = None) -> int:
    """Run due jobs until none is left (or ``limit`` ran). Returns how many ran."""
    count = 0
    while limit is None or count < limit:
        with transaction(factory) as session:
            job = jobs.claim_next(session)
            if job is None:
                return count
            ok = jobs.execute(session, job, settings)
            log.info("job %s (%s) %s", job.id, job.kind, "done" if ok else f"failed: {job.last_error}")
        count += 1
    return count


def run_worker(factory: sessionmaker[Session], settings: WorkerSettings, *, once: bool = False,
               stop: threading.Event | None = None) -> int:
    """Run jobs as they come due; with ``once``, one pass and return."""
    stop = stop or threading.Event()
    total = 0
    while True:
        try:
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
