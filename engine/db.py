"""Opening the database, and the one helper that commits.

Every command (a web request, a CLI call, a worker job) runs inside
:func:`transaction`: it commits when the block ends normally and rolls back on
any exception, so nothing half-written is ever visible.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from .errors import ConflictError

# Execution option for sessions that only read (page views): on SQLite their
# transactions start deferred instead of taking the write lock. They must not write.
READ_ONLY = "sek_read_only"


def sqlite_url(data_dir: str | Path) -> str:
    """The embedded default: ``sek.db`` in the data folder."""
    path = Path(data_dir).resolve() / "sek.db"
    return f"sqlite:///{path}"


@dataclass(frozen=True)
class DbSettings:
    """Limits SEK sets on its PostgreSQL sessions, in seconds (0: no limit).

    ``idle_in_transaction`` is what frees the locks of a process that stopped mid-transaction
    (frozen, paused, stuck outside the database): PostgreSQL ends its session, its transaction
    is rolled back, and when it wakes up its next statement fails, so nothing it did is kept.
    A job it held is then taken by another worker, once. It must exceed the longest wait for
    something outside the database inside one transaction (an SMTP answer: 30 s).
    """

    connect_timeout: float = 5.0
    statement_timeout: float = 60.0
    lock_timeout: float = 10.0
    idle_in_transaction: float = 45.0


def _pg_connect_args(settings: DbSettings, connect_args: dict) -> dict:
    limits = {"statement_timeout": settings.statement_timeout, "lock_timeout": settings.lock_timeout,
              "idle_in_transaction_session_timeout": settings.idle_in_transaction}
    # Startup options: set with the connection itself, no extra round trip per checkout.
    options = " ".join(f"-c {name}={int(seconds * 1000)}" for name, seconds in limits.items())
    args = dict(connect_args)
    args["options"] = f"{args['options']} {options}" if args.get("options") else options
    if settings.connect_timeout:
        args.setdefault("connect_timeout", max(2, round(settings.connect_timeout)))  # libpq's minimum is 2
    return args


def make_engine(url: str, settings: DbSettings | None = None, **kwargs) -> Engine:
    """Create an Engine; SQLite gets WAL, foreign keys and write-locking transactions,
    PostgreSQL the session limits of ``settings`` (:class:`DbSettings`)."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
        _configure_sqlite(engine)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    kwargs.setdefault("pool_pre_ping", True)
    if url.startswith("postgresql"):
        kwargs["connect_args"] = _pg_connect_args(settings or DbSettings(), kwargs.get("connect_args") or {})
    return create_engine(url, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite would defer it).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        if connection.get_execution_options().get(READ_ONLY):
            # A reader sees a WAL snapshot and never waits for, or blocks, a writer.
            connection.exec_driver_sql("BEGIN")
            return
        # IMMEDIATE takes the write lock up front: a read-then-write command can
        # never fail half-way with "database is locked" after reading stale data.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def committing(session: Session) -> Iterator[Session]:
    """Commit ``session`` when the block ends normally, roll it back on any exception.

    A lost optimistic-locking race surfaces as :class:`ConflictError`.
    """
    try:
        yield session
        session.commit()
    except StaleDataError as exc:
        session.rollback()
        raise ConflictError("someone else changed this instance first; reload and try again") from exc
    except BaseException:
        session.rollback()
        raise


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Run one command in one new session and transaction (see :func:`committing`)."""
    session = factory()
    try:
        with committing(session):
            yield session
    finally:
        session.close()
