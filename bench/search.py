"""Bench "search at scale": a staff member's searches (``engine.search.search``, one page of
20, as ``GET /search`` runs them) over 100 000 requests vs 1 000, on SQLite and, when
``TEST_DATABASE_URL`` names a server, on PostgreSQL.

Each request has a requester, a subject and a message of everyday help-desk words, and
one task of one of five groups; the searcher is a help-desk member, so the request page's
visibility rule is checked on every candidate. As in the inbox bench, what one search is
after does not grow with history: a round runs three searches whose answers are the same
at both sizes — a rare pair of words (planted in 20 requests), a requester by name prefix
and a tracking code. A word found in a fixed share of every request costs in proportion
to its matches (newest first needs them all sorted): the last row measures that, for
information.

Rows are bulk-inserted (the index rows through ``engine.search.write_rows``, as the
migration's backfill would write them), then ANALYZEd.

Run alone: ``python -m bench.search [--quick]``; ``make bench`` runs it with the others.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from engine import definitions, migrate, search, services, users, validation
from engine.db import make_engine, make_session_factory, transaction
from engine.models import HumanTask, ProcessInstance, RequestContact, RequestFact, RequestMessage

from .timing import timed

DATA = Path(__file__).parent / "data"
GROUPS = ("helpdesk", "network", "systems", "software", "callcenter")
WORDS = ("e-posta", "şifre", "hesap", "bağlantı", "kablosuz", "eduroam", "vpn", "yazıcı", "kota", "giriş",
         "sistem", "hata", "sayfa", "öğrenci", "personel", "lisans", "yazılım", "sunucu", "ağ", "internet",
         "telefon", "bilgisayar", "güncelleme", "erişim", "dosya", "yedek", "parola", "kullanıcı", "staj",
         "kayıt", "ders", "not", "sınav", "portal", "mobil", "uygulama", "ekran", "çalışmıyor", "açılmıyor",
         "bağlanamıyorum", "yavaş", "sorun", "talep", "yardım", "lütfen", "acil", "bugün", "yarın", "ofis")
NAMES = ("Ayşe", "Mehmet", "Elif", "Ahmet", "Zeynep", "Mustafa", "Fatma", "Emre", "Selin", "Burak")
SURNAMES = ("Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Aydın", "Öztürk", "Arslan", "Doğan")
CATEGORIES = ("Personel E-posta", "Öğrenci E-posta", "VPN Bağlantısı", "Kablosuz Ağ (eduroam)", "Diğer")
RARE = "termal macun"           # planted in PLANTED requests, at every size
RARE_NAME = "Kıvılcımgül"       # the requester of PLANTED requests
PLANTED = 20
PER_PAGE = 20


def _fill(factory, count: int) -> str:
    """``count`` requests with their rows and index rows; returns a tracking code to look up."""
    rng = random.Random(count)
    start = datetime(2020, 1, 1, 6, tzinfo=UTC)
    planted = set(range(count // PLANTED, count + 1, count // PLANTED))
    with transaction(factory) as session:
        definition_id = definitions.get_definition(session, "bench_three").id
        for offset in range(0, count, 5000):
            ids = range(offset + 1, min(offset + 5000, count) + 1)
            instances, tasks, facts, contacts, messages, index = [], [], [], [], [], []
            for i in ids:
                at = start + timedelta(minutes=i * 7)
                code = f"B{i:09d}"
                first, last = (RARE_NAME if i in planted else rng.choice(NAMES)), rng.choice(SURNAMES)
                email = f"{first.lower()}.{last.lower()}{i}@ogr.example.edu.tr"
                subject = " ".join(rng.choices(WORDS, k=4))
                body = " ".join(rng.choices(WORDS, k=30)) + (f" {RARE} değişti" if i in planted else "")
                category = rng.choice(CATEGORIES)
                group = "helpdesk" if i in planted else GROUPS[i % 5]
                instances.append({"id": i, "definition_id": definition_id, "process_key": "bench_three",
                                  "status": "completed" if i % 10 else "running", "tracking_code": code,
                                  "state": {}, "revision": 1, "created_at": at, "updated_at": at})
                tasks.append({"instance_id": i, "process_key": "bench_three", "task_uuid": f"{i}", "bpmn_id": "first",
                              "name": "first", "group_name": group, "state": "completed", "created_at": at,
                              "completed_by": f"staff{i % 7}", "completed_at": at})
                facts.append({"instance_id": i, "process_key": "bench_three", "category": category,
                              "status": "completed", "received_at": at, "reopened": 0, "subject": subject})
                contacts.append({"instance_id": i, "name": f"{first} {last}", "email": email,
                                 "email_key": email.lower(), "created_at": at})
                messages.append({"instance_id": i, "author_kind": "requester", "author": email, "body": body,
                                 "public": True, "created_at": at})
                index.append((i, *search.document(code, category, f"{first} {last}", email, subject, [body])))
            for model, rows in ((ProcessInstance, instances), (HumanTask, tasks), (RequestFact, facts),
                                (RequestContact, contacts), (RequestMessage, messages)):
                session.execute(insert(model), rows)
            search.write_rows(session, index)
    with factory() as session, session.begin():
        session.execute(text("ANALYZE"))
    return f"B{max(planted):09d}"


def _searches(factory, user, code: str) -> None:
    """One round: a rare pair of words, a requester's name prefix, a tracking code (20 + 20 + 1 hits)."""
    with transaction(factory) as session:
        rare = search.search(session, user, search.Query(RARE), limit=PER_PAGE + 1)
        named = search.search(session, user, search.Query(RARE_NAME[:6]), limit=PER_PAGE + 1)
        coded = search.search(session, user, search.Query(code), limit=PER_PAGE + 1)
    # A broken query must not look fast: the same answers at every size.
    assert len(rare) == PLANTED and len(named) == PLANTED and [h.tracking_code for h in coded] == [code], \
        (len(rare), len(named), len(coded))


def _common(factory, user) -> None:
    with transaction(factory) as session:
        assert len(search.search(session, user, search.Query("yazıcı"), limit=PER_PAGE + 1)) == PER_PAGE + 1


def _bench_one(url: str | None, folder: Path, count: int, rounds: int) -> tuple[float, float]:
    admin = name = None
    if url:   # a throw-away database on the server, as tests/conftest.py's pg_database
        name = f"sek_bench_search_{uuid.uuid4().hex[:8]}"
        admin = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine = make_engine(make_url(url).set(database=name).render_as_string(hide_password=False))
    else:
        engine = make_engine(f"sqlite:///{folder / f'search{count}.db'}")
    migrate.upgrade(engine)
    factory = make_session_factory(engine)
    try:
        with transaction(factory) as session:
            definitions.deploy(session, validation.load_paths([str(DATA)]), known_operators=services.operator_names())
            users.add_user(session, "bench", groups=["helpdesk"])
        code = _fill(factory, count)
        with transaction(factory) as session:
            user = users.get_user(session, "bench")
            assert user.group_slugs == {"helpdesk"}
        for _ in range(5):
            _searches(factory, user, code)
            _common(factory, user)
        return timed(lambda: _searches(factory, user, code), rounds), timed(lambda: _common(factory, user), rounds)
    finally:
        engine.dispose()
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def rows(quick: bool = False) -> list[tuple[str, ...]]:
    """The bench's table rows: SQLite, then PostgreSQL if ``TEST_DATABASE_URL`` is set."""
    small, large = (1_000, 10_000) if quick else (1_000, 100_000)
    rounds = 20 if quick else 50
    found = []
    backends = [("SQLite FTS5", None)]
    if os.environ.get("TEST_DATABASE_URL"):
        backends.append(("PostgreSQL tsvector", os.environ["TEST_DATABASE_URL"]))
    else:
        print("search at scale on PostgreSQL: skipped (set TEST_DATABASE_URL)", file=sys.stderr)
    for label, url in backends:
        with tempfile.TemporaryDirectory() as folder:
            base, base_common = _bench_one(url, Path(folder), small, rounds)
            ours, ours_common = _bench_one(url, Path(folder), large, rounds)
        print(f"search at scale, {label}: {base:.2f} / {ours:.2f} ms, common word {base_common:.2f} / "
              f"{ours_common:.2f} ms", file=sys.stderr, flush=True)
        found.append(("search at scale", f"{label}: 3 staff searches (rare words, name, code), "
                      f"{large:,} vs {small:,} requests", f"{base:.2f} ms", f"{ours:.2f} ms",
                      f"{ours / base:.2f}×", "≤ 2×"))
        found.append(("search, a common word", f"{label}: a word in about half of the requests, "
                      "newest 20 (information)", f"{base_common:.2f} ms", f"{ours_common:.2f} ms",
                      f"{ours_common / base_common:.2f}×", "–"))
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.search")
    parser.add_argument("--quick", action="store_true", help="10 000 instead of 100 000 requests")
    args = parser.parse_args(argv)
    print("| bench | measure | baseline | measured | ratio | target |")
    print("|---|---|---|---|---|---|")
    for row in rows(args.quick):
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
