"""Shared fixtures: a real database per test (SQLite file, and PostgreSQL when
``TEST_DATABASE_URL`` is set), factories for users and deployed BPMN, a CLI runner.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from engine import clock, definitions, migrate, users
from engine.db import make_engine, make_session_factory, transaction
from engine.models import Base

DATA = Path(__file__).parent / "data"
BPMN = Path(__file__).parent.parent / "bpmn"
PG_URL = os.environ.get("TEST_DATABASE_URL")


@dataclass
class Database:
    url: str
    engine: object
    factory: object

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def tx(self):
        """One transaction, committed at the end (as the edges do)."""
        return transaction(self.factory)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "sek.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_database():
    """A throw-away PostgreSQL database for the whole run, migrated once."""
    if not PG_URL:
        yield None
        return
    name = f"sek_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    migrate.upgrade(engine)
    yield url, engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _backends():
    return ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


@pytest.fixture(params=_backends())
def db(request, tmp_path, sqlite_template) -> Database:
    """A migrated, empty database: a fresh SQLite file, or a truncated PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "sek.db"
        shutil.copy(sqlite_template, path)
        url = f"sqlite:///{path}"
        engine = make_engine(url)
        yield Database(url, engine, make_session_factory(engine))
        engine.dispose()
        return
    url, engine = request.getfixturevalue("pg_database")
    yield Database(url, engine, make_session_factory(engine))
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashes():
    """Real hashing, at a cost that keeps hundreds of sign-ins fast (the CLI subprocesses keep scrypt)."""
    users.PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"


@pytest.fixture
def make_user(db):
    def factory(username="ayse", groups=("helpdesk",), roles=("staff",), password="parola123"):
        with db.tx() as session:
            users.add_user(session, username, groups=groups, roles=roles, password=password)
        return username
    return factory


def deploy_files(db, *paths: Path, note: str = ""):
    """Deploy BPMN/DMN/JSON files or folders the way ``sek deploy`` does."""
    import processes
    from engine import services, validation

    processes.install()
    files = validation.load_paths([str(p) for p in paths])
    with db.tx() as session:
        return definitions.deploy(session, files, note=note, known_operators=services.operator_names())


@pytest.fixture
def deploy(db):
    return lambda *paths, note="": deploy_files(db, *paths, note=note)


class PostgresOutage:
    """A throw-away PostgreSQL database that a test can take away and give back: ``down()``
    refuses new connections and ends every open one (as a restart or a network cut would),
    ``up()`` lets connections in again."""

    def __init__(self, admin, name: str, database: Database):
        self.admin, self.name, self.database = admin, name, database
        self.url = database.url

    def down(self) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false'))
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": self.name})

    def up(self) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true'))


@pytest.fixture
def pg_outage():
    """A migrated PostgreSQL database of its own (others' tests must not lose theirs), see
    :class:`PostgresOutage`."""
    if not PG_URL:
        pytest.skip("a database outage is simulated on PostgreSQL (TEST_DATABASE_URL)")
    name = f"sek_outage_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    migrate.upgrade(engine)
    outage = PostgresOutage(admin, name, Database(url, engine, make_session_factory(engine)))
    yield outage
    outage.up()
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def pinned_clock():
    """``pinned_clock(when)`` pins the engine's clock at ``when`` for the rest of the test;
    real time again afterwards. Every test whose outcome depends on the date takes it."""
    yield clock.pin
    clock.set_shift(timedelta(0))
