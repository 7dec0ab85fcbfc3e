"""request_search: the staff search's full-text index (PostgreSQL tsvector + GIN, SQLite FTS5)

Not a model: each database gets its own kind of full-text table, which SQLAlchemy's
metadata cannot describe (tests/engine/test_migrations_match.py leaves these tables out
of its comparison, see engine.search.TABLE). What the index holds and what each
database finds is written in engine/search.py.

Existing requests are indexed by engine.migrate.upgrade right after this revision creates the
table (`sek search reindex` does the same on demand);
from then on the engine keeps the index current in each command's own transaction.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 15:00:00.000000
"""
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("""
            CREATE TABLE request_search (
                instance_id INTEGER PRIMARY KEY REFERENCES process_instance (id) ON DELETE CASCADE,
                people TEXT NOT NULL DEFAULT '',
                body TEXT NOT NULL DEFAULT '',
                tsv TSVECTOR GENERATED ALWAYS AS (to_tsvector('turkish', people || ' ' || body)) STORED
            )""")
        op.execute("CREATE INDEX ix_request_search_tsv ON request_search USING gin (tsv)")
    else:
        # rowid = process_instance.id; people and body are stored folded (engine.search.fold),
        # shown is the original text the result snippet is cut from. Prefix indexes make
        # the short prefixes every query word becomes cheap.
        op.execute("""
            CREATE VIRTUAL TABLE request_search USING fts5(
                people, body, shown UNINDEXED,
                tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
            )""")
        # An FTS5 table has no foreign key: a deleted request takes its index row along here.
        op.execute("""
            CREATE TRIGGER request_search_instance_deleted AFTER DELETE ON process_instance
            BEGIN DELETE FROM request_search WHERE rowid = old.id; END""")


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS request_search_instance_deleted")
    op.execute("DROP TABLE IF EXISTS request_search")
