"""Schema changes through Alembic: ``sek db upgrade`` and the test fixtures call this."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database schema up to ``revision`` (the latest by default).

    When this upgrade creates the staff search's index (migration 0012), the requests
    already there are indexed in the same transaction: search finds them from the first
    page on, with no command to remember.
    """
    from sqlalchemy import inspect
    from sqlalchemy.orm import Session

    from . import search

    config = alembic_config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # A migration may rewrite a big table: the per-statement limit of requests does not apply.
            connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
        had_index = inspect(connection).has_table(search.TABLE)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        if not had_index and inspect(connection).has_table(search.TABLE):
            with Session(bind=connection) as session:
                search.rebuild(session)
                session.flush()


@cache
def head_revisions() -> frozenset[str]:
    """The revisions the code expects (read once: the migration files do not change while running)."""
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def current_revisions(connection: Connection) -> frozenset[str]:
    """The revisions the database's schema is at (empty: never migrated)."""
    return frozenset(MigrationContext.configure(connection).get_current_heads())


def schema_problem(connection: Connection) -> str | None:
    """None when the schema is at the head revision, else what is wrong, in one line."""
    current, head = current_revisions(connection), head_revisions()
    if current == head:
        return None
    if not current:
        return "the database has no schema yet: run `sek db upgrade`"
    return (f"the schema is at revision {', '.join(sorted(current))}, the code expects "
            f"{', '.join(sorted(head))}: run `sek db upgrade`")
