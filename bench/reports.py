"""Bench "yearly report at scale": ``engine.reports.summary(session, 2023)`` on PostgreSQL
over a ``request_fact`` table of 1 000 000 requests vs one of 10 000.

As in the inbox bench, history grows and the year's volume does not: 2023 always has
seed 000's 3481 requests (spread over categories, teams, times and ratings like the demo
year), every other request is spread over 2000-2022. The report reads only its year, so a
good plan (the ``received_at`` index) keeps the ratio near 1x; a scan of the whole table
would make it about 100x. A second, informational figure puts every request into the
reported year (what a single year of a million requests would cost: that is linear).

Rows are loaded with COPY (psycopg), then ANALYZEd, in a throw-away database created
on the server of ``TEST_DATABASE_URL`` (like tests/conftest.py's ``pg_database``).
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from engine import definitions, migrate, reports, services, validation
from engine.db import make_engine, make_session_factory, transaction

from .timing import timed

YEAR, YEAR_SIZE = 2023, 3481
CATEGORIES = (("Personel E-posta", "systems"), ("Staj Yönetim Sistemi", "software"), ("VPN Bağlantısı", "network"),
              ("Öğrenci E-posta", "systems"), ("Kablosuz Ağ (eduroam)", "network"), ("Diğer", "helpdesk"))
WEIGHTS = (38, 19, 9, 8, 7, 19)


class _Server:
    """A fresh database on the PostgreSQL server of ``url``, dropped on close."""

    def __init__(self, url: str):
        self.name = f"sek_bench_{uuid.uuid4().hex[:8]}"
        self.admin = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1),
                                   isolation_level="AUTOCOMMIT")
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.name}"'))
        self.url = make_url(url).set(database=self.name).render_as_string(hide_password=False)
        self.engine = make_engine(self.url)
        migrate.upgrade(self.engine)
        self.factory = make_session_factory(self.engine)

    def close(self) -> None:
        self.engine.dispose()
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


def _moment(rng: random.Random, year_from: int, year_to: int) -> datetime:
    start = datetime(year_from, 1, 1, 6, tzinfo=UTC)
    days = (datetime(year_to + 1, 1, 1, tzinfo=UTC) - start).days - 1
    return start + timedelta(days=rng.randrange(days), minutes=rng.randrange(600))


def _rows(count: int, definition_id: int, all_in_year: bool):
    """``(instance row, fact row)`` pairs, the same on every call (seeded)."""
    rng = random.Random(count)
    for i in range(1, count + 1):
        in_year = all_in_year or i <= YEAR_SIZE
        received = _moment(rng, YEAR, YEAR) if in_year else _moment(rng, 2000, YEAR - 1)
        answer = rng.randint(600, 3 * 86400)
        resolution = answer + rng.randint(0, 5 * 86400)
        resolved = received + timedelta(seconds=resolution)
        is_open = in_year and i % 200 == 0
        status = "running" if is_open else "completed"
        category, team = rng.choices(CATEGORIES, WEIGHTS)[0]
        yield ((i, definition_id, "bench_three", status, f"B{i:09d}", "{}", 1, received, resolved,
                None if is_open else resolved),
               (i, "user_support", category, team, status, received, received + timedelta(seconds=answer),
                answer, None if is_open else resolved, None if is_open else resolution,
                received + timedelta(days=2), None if is_open else resolution < 2 * 86400,
                int(rng.random() < 0.03), rng.choice((None, None, 3, 4, 5)), None))


INSTANCE_COLUMNS = ("id, definition_id, process_key, status, tracking_code, state, revision, created_at, "
                    "updated_at, completed_at")
FACT_COLUMNS = ("instance_id, process_key, category, team, status, received_at, first_answer_at, "
                "first_answer_seconds, resolved_at, resolution_seconds, due_at, sla_met, reopened, rating, "
                "call_outcome")


def _load(server: _Server, data_dir, count: int, all_in_year: bool) -> None:
    """``count`` instances and their facts, ``YEAR_SIZE`` of them (or all) received in ``YEAR``."""
    files = validation.load_paths([str(data_dir)])
    with transaction(server.factory) as session:
        definitions.deploy(session, files, known_operators=services.operator_names())
        definition_id = definitions.get_definition(session, "bench_three").id
    raw = server.engine.raw_connection()
    try:
        with raw.cursor() as cur:
            # The engine's 60 s statement limit is for requests; a bulk load of the
            # bench's own data may take longer on a busy machine.
            cur.execute("SET LOCAL statement_timeout = 0")
            for table, columns, part in (("process_instance", INSTANCE_COLUMNS, 0),
                                         ("request_fact", FACT_COLUMNS, 1)):
                with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy_in:
                    for pair in _rows(count, definition_id, all_in_year):
                        copy_in.write_row(pair[part])
        raw.commit()
    finally:
        raw.close()
    with server.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE process_instance"))
        conn.execute(text("VACUUM ANALYZE request_fact"))


def bench_yearly_report(url: str, data_dir, small: int, large: int, rounds: int, *,
                        all_in_year: bool = False) -> tuple[float, float]:
    """Median milliseconds of ``reports.summary(session, 2023)`` over ``small`` vs ``large`` requests."""
    results = []
    for count in (small, large):
        server = _Server(url)
        try:
            _load(server, data_dir, count, all_in_year)

            def report(factory=server.factory, expected=count if all_in_year else YEAR_SIZE):
                with transaction(factory) as session:
                    figures = reports.summary(session, YEAR)
                # A broken query must not look fast.
                assert figures["received"] == expected and figures["first_answer_hours"]["p90"] is not None

            for _ in range(3):
                report()
            results.append(timed(report, rounds))
        finally:
            server.close()
    return results[0], results[1]
