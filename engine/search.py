"""Staff search over the requests they may see: full text, kept current in the same
transaction as each change.

One index row a request (``request_search``, made by migration 0009, not a model: each
database has its own kind of full-text table), with two searchable texts:

- ``people``: the tracking code, the category and the requester's name and e-mail
  (the e-mail also split at ``@`` and ``.``, so "yilmaz" finds ``ayse.yilmaz@...``).
  Searchable, never shown: the result list shows the requester as the masking rules allow;
- ``body``: the subject and every message of the conversation, internal notes included
  (search is for staff only, and every staff member who may see a request sees its notes).
  The result's snippet comes from here.

Who changes what, all inside the command's transaction (a rollback takes the index row
back with the change): :func:`engine.facts.received` adds the row when a request starts,
:func:`engine.conversation.record_contact` and :func:`engine.conversation.add_message`
append to it, a category change (:func:`engine.facts.task_created`) and retention's
anonymization rebuild it (:func:`refresh`). The status is not indexed: the search reads
``process_instance.status`` and ``request_fact``'s category and received date as they
stand, so they are never stale.

The two databases do not find the same things:

- **PostgreSQL** (``to_tsvector('turkish', ...)``, a GIN index): every query word is
  stemmed by Postgres's Turkish Snowball stemmer and matched as a prefix of the stems
  (``to_tsquery('turkish', 'word:*')``). The stemmer only strips some suffixes:
  "bağlantı" stems to ``bağla``, so searching "bağlantı" finds "bağlanamıyorum",
  "bağlanmıyor" and "bağlantısı"; but "bağlanamıyorum" stems to ``bağlanamıyor``, which
  finds only that word and its own inflections, not "bağlantı". A word the stemmer
  leaves long finds less; type the shorter form to find more. Turkish stop words
  ("ve", "bir") are ignored.
- **SQLite** (FTS5, ``unicode61 remove_diacritics 2``): no stemming; every query word is
  a prefix ("bağlan" finds "bağlanamıyorum" and "bağlantı", "bağlantı" does not find
  "bağlanamıyorum"). Accents are folded and so is the dotless ı (the tokenizer keeps
  ``ı`` apart from ``i``; this module folds it before indexing and querying), so
  "baglanti" finds "bağlantı" and "ILIK" finds "ılık". Postgres keeps ğ/ş/ı as typed.

Results come newest first (received date), a page at a time without a total count, so
a search costs the same with 1 000 requests as with 100 000 (``bench/search.py``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from sqlalchemy import cast, column, func, literal_column, select, table, text
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.orm import Session

from . import textinput
from .errors import Problem, ValidationError
from .models import InstanceStatus, ProcessInstance, RequestContact, RequestFact, RequestMessage, User
from .workdays import ZONE

TABLE = "request_search"
QUERY_MAX = 200        # characters of a search text
TERMS_MAX = 10         # words of a search text that count
CATEGORY_MAX = 200     # as request_fact.category
PER_PAGE_MAX = 100
SNIPPET_WORDS = 30
# Snippet markers: control characters, which textinput refuses in every stored text.
_START, _STOP = "\x02", "\x03"
_WORD = re.compile(r"[^\W_]+")

_pg_search = table(TABLE, column("instance_id"), column("body"))
_lite_search = table(TABLE, column("rowid"), column("shown"))


@dataclass(frozen=True)
class Query:
    """What a staff member searches for; every part is optional."""

    text: str = ""
    category: str | None = None
    status: str | None = None
    received_from: date | None = None     # Istanbul calendar days, both ends included
    received_to: date | None = None


@dataclass(frozen=True)
class Hit:
    """One request found. ``snippet``: ``(text, matched)`` pieces of the subject and
    conversation, the matched words flagged for highlighting (plain text: escape it)."""

    instance_id: int
    tracking_code: str
    process_key: str
    status: str
    subject: str | None
    category: str | None
    received_at: datetime
    requester_name: str | None
    requester_email: str | None
    snippet: tuple[tuple[str, bool], ...]


def check(query: Query) -> Query:
    """The query with its text trimmed, or the problems by field name.

    A received range that ends before it starts is no error: it finds nothing.

    :raises ValidationError: too long a text or category, a control character, an unknown status
    """
    problems = textinput.text_problems(query.text or "", "q", max_length=QUERY_MAX)
    if query.category is not None:
        problems += textinput.text_problems(query.category, "category", max_length=CATEGORY_MAX)
    if query.status is not None and query.status not in set(InstanceStatus):
        problems.append(Problem("status", f"unknown status: {query.status!r}", "enum"))
    if problems:
        raise ValidationError("the search is invalid", problems)
    return Query((query.text or "").strip(), query.category or None, query.status or None,
                 query.received_from, query.received_to)


def search(session: Session, user: User, query: Query, *, limit: int = 20, offset: int = 0) -> list[Hit]:
    """The requests ``user`` may see (the request page's own rule,
    :func:`engine.instances.visible_condition`) that match ``query``, newest first.

    :raises ValidationError: see :func:`check`
    """
    query = check(query)
    limit = max(1, min(limit, PER_PAGE_MAX + 1))
    postgres = session.get_bind().dialect.name == "postgresql"
    terms = _terms(query.text)
    # Postgres: the query's tsquery computed first, then given as a constant, so the planner
    # sees how many rows it matches and no row rechecks it by calling to_tsquery again.
    tsquery = _tsquery(session, terms) if postgres and terms else None
    stmt = (select(ProcessInstance.id, ProcessInstance.tracking_code, ProcessInstance.process_key,
                   ProcessInstance.status, RequestFact.subject, RequestFact.category, RequestFact.received_at,
                   RequestContact.name, RequestContact.email)
            .join(RequestFact, RequestFact.instance_id == ProcessInstance.id)
            .outerjoin(RequestContact, RequestContact.instance_id == ProcessInstance.id))
    if query.text:
        stmt = stmt.where(ProcessInstance.id.in_(_matching_ids(terms, query.text, tsquery)))
    from . import instances  # instances -> runtime -> facts -> this module: a late import keeps it acyclic

    visible = instances.visible_condition(user)
    if visible is not None:
        stmt = stmt.where(visible)
    if query.category:
        stmt = stmt.where(RequestFact.category == query.category)
    if query.status:
        stmt = stmt.where(ProcessInstance.status == query.status)
    if query.received_from and query.received_from > _FIRST_DAY:
        stmt = stmt.where(RequestFact.received_at >= _day_start(query.received_from))
    if query.received_to and query.received_to < _LAST_DAY:
        stmt = stmt.where(RequestFact.received_at < _day_start(query.received_to + timedelta(days=1)))
    stmt = stmt.order_by(RequestFact.received_at.desc(), ProcessInstance.id.desc()).limit(limit).offset(offset)
    rows = session.execute(stmt).all()
    # Snippets for the page's rows only (a headline is dear; a common word matches thousands).
    snippets = _snippets(session, [row[0] for row in rows], terms, postgres, tsquery)
    return [Hit(*row, snippets.get(row[0], ())) for row in rows]


def _snippets(session: Session, ids: list[int], terms: list[str], postgres: bool,
              tsquery: str | None) -> dict[int, tuple[tuple[str, bool], ...]]:
    if not ids:
        return {}
    if tsquery is not None:
        headline = func.ts_headline(literal_column("'turkish'"), _pg_search.c.body,
                                    cast(tsquery, TSQUERY), _HEADLINE)
        found = session.execute(select(_pg_search.c.instance_id, headline).where(_pg_search.c.instance_id.in_(ids)))
        return {i: _marked(text_) for i, text_ in found}
    if postgres:
        found = session.execute(select(_pg_search.c.instance_id, _pg_search.c.body)
                                .where(_pg_search.c.instance_id.in_(ids)))
    else:
        found = session.execute(select(_lite_search.c.rowid, _lite_search.c.shown)
                                .where(_lite_search.c.rowid.in_(ids)))
    return {i: _highlight(body, terms) for i, body in found}


_HEADLINE = (f'StartSel="{_START}", StopSel="{_STOP}", MaxWords={SNIPPET_WORDS}, MinWords=10, '
             'MaxFragments=2, FragmentDelimiter=" … "')


def _terms(query_text: str) -> list[str]:
    """The words of a search text (letters and digits), at most :data:`TERMS_MAX`, as typed:
    Postgres lower-cases and stems them itself, SQLite's are folded (:func:`fold`)."""
    return _WORD.findall(query_text or "")[:TERMS_MAX]


def _matching_ids(terms: list[str], query_text: str, tsquery: str | None):
    """The ids whose index row has every word (as a prefix), and the request whose tracking
    code the text is, if any."""
    code = query_text.strip().upper()[:32]
    by_code = "SELECT id FROM process_instance WHERE tracking_code = :code"
    if not terms:
        return text(by_code).bindparams(code=code).columns(column("id"))
    if tsquery is not None:
        found = f"SELECT instance_id FROM {TABLE} WHERE tsv @@ CAST(:words AS tsquery)"
        words = tsquery
    else:
        found = f"SELECT rowid FROM {TABLE} WHERE {TABLE} MATCH :words"
        words = " ".join(f'"{fold(t)}"*' for t in terms)
    return text(f"{found} UNION {by_code}").bindparams(code=code, words=words).columns(column("id"))


def _tsquery(session: Session, terms: list[str]) -> str:
    """Postgres's query, as text: each word a prefix of a Turkish stem or, since the stemmer
    changes some word beginnings too ("kıvılc" becomes ``kıvılç``), a prefix of the word as
    typed; a stop word (no stem) is left out rather than matching nothing."""
    parts = []
    for n in range(len(terms)):
        stem, plain = f"to_tsquery('turkish', :w{n})", f"to_tsquery('simple', :w{n})"
        parts.append(f"(CASE WHEN numnode({stem}) = 0 THEN {stem} ELSE {stem} || {plain} END)")
    return session.scalar(text("SELECT CAST(" + " && ".join(parts) + " AS text)"),
                          {f"w{n}": f"{t}:*" for n, t in enumerate(terms)})


# Days beyond these bound nothing (and would not survive the conversion to UTC).
_FIRST_DAY, _LAST_DAY = date(1900, 1, 1), date(9000, 1, 1)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=ZONE)


# --- keeping the index current ------------------------------------------------------------


_DOTTED = str.maketrans({"İ": "i", "I": "i", "ı": "i"})


def fold(value: str) -> str:
    """Lower case without accents, the dotless ı and dotted İ as i: what SQLite indexes and
    what a query word is compared with there."""
    value = value.translate(_DOTTED).lower()
    if value.isascii():
        return value
    return "".join(c for c in unicodedata.normalize("NFKD", value) if not unicodedata.combining(c))


@lru_cache(maxsize=8192)
def _fold_word(word: str) -> str:
    return fold(word)   # the words of a language repeat: snippets fold each once


def document(tracking_code: str, category: str | None, name: str | None, email: str | None,
             subject: str | None, messages=()) -> tuple[str, str]:
    """A request's two searchable texts, ``(people, body)`` (see the module's docstring)."""
    return _people(tracking_code, category, name, email), "\n".join([subject or "", *messages])


def _people(tracking_code: str, category: str | None, name: str | None = None, email: str | None = None) -> str:
    parts = [tracking_code, category or "", name or "", email or ""]
    if email:
        parts.append(re.sub(r"[@.+_-]+", " ", email))
    return " ".join(p for p in parts if p)


def write_rows(session: Session, rows) -> None:
    """Replace the index rows of ``(instance_id, people, body)`` triples (as :func:`document`
    makes them; one row a request, never a duplicate), in one statement a kind."""
    rows = list(rows)
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"INSERT INTO {TABLE} (instance_id, people, body) VALUES (:id, :people, :body) "
                             "ON CONFLICT (instance_id) DO UPDATE SET people = excluded.people, body = excluded.body"),
                        [{"id": i, "people": people, "body": body} for i, people, body in rows])
    else:
        session.execute(text(f"DELETE FROM {TABLE} WHERE rowid = :id"), [{"id": i} for i, _, _ in rows])
        session.execute(text(f"INSERT INTO {TABLE} (rowid, people, body, shown) VALUES (:id, :people, :body, :shown)"),
                        [{"id": i, "people": fold(people), "body": fold(body), "shown": body}
                         for i, people, body in rows])


def _append(session: Session, instance_id: int, *, people: str = "", body: str = "") -> None:
    """Add text to the request's index row: one UPDATE, whatever the row holds already."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"UPDATE {TABLE} SET people = people || :people, body = body || :body "
                             "WHERE instance_id = :id"), {"id": instance_id, "people": people, "body": body})
    else:
        session.execute(text(f"UPDATE {TABLE} SET people = people || :people, body = body || :body, "
                             "shown = shown || :shown WHERE rowid = :id"),
                        {"id": instance_id, "people": fold(people), "body": fold(body), "shown": body})


def received(session: Session, instance: ProcessInstance, subject: str | None, category: str | None) -> None:
    """A new request: its row, with what the start gave (called by :func:`engine.facts.received`)."""
    write_rows(session, [(instance.id, *document(instance.tracking_code, category, None, None, subject))])


def contact_recorded(session: Session, instance_id: int, name: str, email: str) -> None:
    """The requester of a request is known: their name and e-mail become searchable."""
    _append(session, instance_id, people=" " + _people("", None, name, email))


def message_added(session: Session, instance_id: int, body: str) -> None:
    """A message or note joined the conversation."""
    _append(session, instance_id, body="\n" + body)


def refresh(session: Session, instance_id: int) -> None:
    """Rebuild one request's row from its tables (after a category change, an anonymization)."""
    refresh_many(session, [instance_id])


def refresh_many(session: Session, ids) -> int:
    """Rebuild the rows of ``ids`` from their tables; flushes first. Returns how many."""
    ids = sorted(set(ids))
    session.flush()
    done = 0
    for offset in range(0, len(ids), 500):
        chunk = ids[offset:offset + 500]
        bodies: dict[int, list[str]] = {}
        for instance_id, body in session.execute(
                select(RequestMessage.instance_id, RequestMessage.body).where(RequestMessage.instance_id.in_(chunk))
                .order_by(RequestMessage.created_at, RequestMessage.id)):
            bodies.setdefault(instance_id, []).append(body)
        rows = session.execute(
            select(ProcessInstance.id, ProcessInstance.tracking_code, RequestFact.subject, RequestFact.category,
                   RequestContact.name, RequestContact.email)
            .outerjoin(RequestFact, RequestFact.instance_id == ProcessInstance.id)
            .outerjoin(RequestContact, RequestContact.instance_id == ProcessInstance.id)
            .where(ProcessInstance.id.in_(chunk)))
        triples = [(instance_id, *document(code, category, name, email, subject, bodies.get(instance_id, ())))
                   for instance_id, code, subject, category, name, email in rows]
        write_rows(session, triples)
        done += len(triples)
    return done


def rebuild(session: Session) -> int:
    """Index every request again (``sek search reindex``; the migration's backfill)."""
    ids = list(session.scalars(select(ProcessInstance.id).order_by(ProcessInstance.id)))
    return refresh_many(session, ids)


# --- snippets --------------------------------------------------------------------------------


def _marked(headline: str) -> tuple[tuple[str, bool], ...]:
    """Postgres's ts_headline (matches between the control-character markers) as pieces."""
    pieces: list[tuple[str, bool]] = []
    for i, part in enumerate(re.split(f"[{_START}{_STOP}]", headline or "")):
        if part:
            pieces.append((part, i % 2 == 1))
    return tuple(pieces)


def _highlight(body: str, terms: list[str]) -> tuple[tuple[str, bool], ...]:
    """A window of :data:`SNIPPET_WORDS` words around the first word that starts with a
    query word (folded, as SQLite matched it); the beginning if none does."""
    body = body or ""
    prefixes = tuple(fold(t) for t in terms)
    words = list(re.finditer(r"[^\W_]+", body))
    hits = [bool(prefixes) and _fold_word(w.group()).startswith(prefixes) for w in words]
    first = hits.index(True) if True in hits else 0
    start_word = max(0, first - 8)
    shown = range(start_word, min(len(words), start_word + SNIPPET_WORDS))
    if not shown:
        return ()
    begin, end = words[shown[0]].start(), words[shown[-1]].end()
    pieces: list[tuple[str, bool]] = [("… ", False)] if begin > 0 else []
    at = begin
    for n in shown:
        if hits[n]:
            word = words[n]
            if word.start() > at:
                pieces.append((body[at:word.start()], False))
            pieces.append((word.group(), True))
            at = word.end()
    if end > at:
        pieces.append((body[at:end], False))
    if end < len(body.rstrip()):
        pieces.append((" …", False))
    return tuple(pieces)
