"""Is the database there? Telling an outage from a bug, logging it once, and readiness.

An unreachable database is not a bug in the request that met it: the edges answer
"try again later" (the web app 503 with ``Retry-After``, the worker waits and retries)
and log the outage once when it starts and once when it ends, through :class:`OutageLog`,
instead of a traceback per request.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from dataclasses import dataclass, replace

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from . import migrate
from .db import READ_ONLY, DbSettings, make_engine

# SQLSTATEs that mean "busy, try again", not "gone": lock_timeout, statement_timeout (or a
# cancel), a serialization failure, a deadlock. psycopg raises them as OperationalError too.
_BUSY_SQLSTATES = frozenset({"55P03", "57014", "40001", "40P01"})


def is_busy(error: BaseException) -> bool:
    """The database is there but could not do it in time: a lock or statement timeout, a
    deadlock, SQLite's "database is locked", or no free connection in the pool."""
    if isinstance(error, sa_exc.TimeoutError):  # the pool's, not the server's
        return True
    if not isinstance(error, sa_exc.OperationalError):
        return False
    orig = error.orig
    if getattr(orig, "sqlstate", None) in _BUSY_SQLSTATES:
        return True
    return isinstance(orig, sqlite3.OperationalError) and "locked" in str(orig)


def is_unavailable(error: BaseException) -> bool:
    """The database cannot be reached or used at all: refused or lost connections, a server
    that shuts down or accepts no connections, an unreadable SQLite file.

    The error's causes count too: SQLAlchemy reports a use of the lost connection after the
    first failure as PendingRollbackError, with the real reason as its context.
    """
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
            return True
        if isinstance(error, sa_exc.InterfaceError):
            return True
        if isinstance(error, sa_exc.OperationalError) and not is_busy(error):
            return True
        error, seen = error.__cause__ or error.__context__, seen + 1
    return False


def first_line(error: BaseException) -> str:
    """The driver's own message, first line only (SQLAlchemy appends the SQL and a link), from
    the first database error among the error and its causes."""
    found, seen = error, 0
    while found is not None and seen < 10 and not isinstance(found, sa_exc.DBAPIError):
        found, seen = found.__cause__ or found.__context__, seen + 1
    orig = getattr(found, "orig", None) or error
    lines = str(orig).strip().splitlines()
    return lines[0] if lines else type(orig).__name__


class OutageLog:
    """Logs an outage of the database once when it starts and once when it ends.

    Thread-safe; one per process and engine (a web app, a worker loop). ``failed`` is
    called by whoever met the outage, ``succeeded`` by whoever next saw the database work.
    """

    def __init__(self, logger: logging.Logger, who: str = ""):
        self.logger = logger
        self.who = f"{who}: " if who else ""
        self._lock = threading.Lock()
        self.since: float | None = None
        self.refused = 0

    @property
    def down(self) -> bool:
        return self.since is not None

    def failed(self, error: BaseException) -> bool:
        """Count one refusal; log if it starts an outage. Returns True when it did."""
        with self._lock:
            self.refused += 1
            if self.since is not None:
                return False
            self.since, self.refused = time.monotonic(), 1
        self.logger.error("%sdatabase unavailable (%s); refusing work until it is back", self.who,
                          first_line(error))
        return True

    def succeeded(self) -> None:
        """The database answered: log the end of an outage, if there was one."""
        if self.since is None:  # the common case, without the lock
            return
        with self._lock:
            if self.since is None:
                return
            seconds, refused, self.since = time.monotonic() - self.since, self.refused, None
        self.logger.warning("%sdatabase reachable again after %.1f s (%d attempt(s) refused meanwhile)",
                            self.who, seconds, refused)

    def watch(self, engine: Engine) -> None:
        """End the outage as soon as any statement on ``engine`` succeeds."""
        event.listen(engine, "after_cursor_execute", lambda *_args: self.succeeded())


@dataclass(frozen=True)
class Readiness:
    ready: bool
    problem: str | None = None
    error: BaseException | None = None   # when the database could not be reached


class ReadinessProbe:
    """Connects afresh on every check (no pool to hide a lost server), with short timeouts."""

    def __init__(self, url: str, settings: DbSettings | None = None, timeout: float = 2.0):
        settings = replace(settings or DbSettings(), connect_timeout=timeout, statement_timeout=timeout,
                           lock_timeout=timeout)
        # Read-only: on SQLite the probe then never waits for (or blocks) a writer.
        self.engine = make_engine(url, settings, poolclass=NullPool).execution_options(**{READ_ONLY: True})

    def check(self) -> Readiness:
        """Ready when the database answers and its schema is at the code's head revision."""
        try:
            with self.engine.connect() as connection:
                problem = migrate.schema_problem(connection)
        except (sa_exc.DBAPIError, sa_exc.TimeoutError) as error:
            if not (is_unavailable(error) or is_busy(error)):
                raise
            return Readiness(False, f"database unavailable: {first_line(error)}", error)
        return Readiness(problem is None, problem)
