"""Opening the database, and the one helper that commits.

Every command (a web request, a CLI call, a worker job) runs inside
:func:`transaction`: it commits when the block ends normally and rolls back on
any exception, so nothing half-written is ever visible.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
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


def make_engine(url: str, **kwargs) -> Engine:
    """Create an Engine; SQLite gets WAL, foreign keys and write-locking transactions."""
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
