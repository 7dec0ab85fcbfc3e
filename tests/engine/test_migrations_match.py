"""The migrations build exactly the schema the models describe (no column that only
`create_all` would make, no table a model forgot)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from engine import search
from engine.models import Base


def _not_search_index(name, type_, parent_names) -> bool:
    """The search index is no model (a tsvector table, an FTS5 virtual table and its shadow
    tables ``request_search_data``, ...): engine/search.py and migration 0009 own it."""
    return not (type_ == "table" and name and name.startswith(search.TABLE))


def test_migrated_schema_matches_the_models(db):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False,
                                                                "include_name": _not_search_index})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_downgrade_and_upgrade_again(tmp_path):
    from alembic import command

    from engine import migrate
    from engine.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    migrate.upgrade(engine)
    config = migrate.alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0003")
    migrate.upgrade(engine)
    with engine.connect() as connection:
        names = set(engine.dialect.get_table_names(connection))
    engine.dispose()
    assert {"request_contact", "request_message", "attachment", "org_unit", "canned_answer"} <= names
