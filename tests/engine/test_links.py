"""Signed reply links: signature, expiry by the engine's clock, single use."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import select

from engine import clock, links, runtime
from engine.errors import ConflictError, EngineError, NotFoundError, ValidationError
from engine.models import AuditEvent, ReplyLink

WAIT = Path(__file__).resolve().parent.parent / "data" / "runtime" / "wait_reply.bpmn"


@pytest.fixture(autouse=True)
def _configured():
    links.configure("link-secret", "http://sek.test/")
    yield
    clock.set_shift(timedelta(0))


@pytest.fixture
def waiting(db, deploy):
    """An instance waiting for ``reply_received``; returns its id."""
    deploy(WAIT)
    with db.tx() as session:
        return runtime.start_instance(session, "wait_reply", data={"ticket_no": "T-1"}, actor="ayse").id


def _link(db, instance_id, **kwargs) -> str:
    with db.tx() as session:
        return links.create_link(session, instance_id, "reply_received", purpose="Mesaj",
                                 recipient="birim@example.edu.tr", **kwargs)


def test_only_the_hash_of_the_signed_token_is_stored(db, waiting):
    token = _link(db, waiting)
    assert links.link_url(token) == f"http://sek.test/yanit/{token}"
    raw = URLSafeSerializer("link-secret", salt=links.SALT).loads(token)
    with db.tx() as session:
        row = session.scalar(select(ReplyLink))
        assert row.token_hash == hashlib.sha256(raw.encode()).hexdigest()
        assert token not in str(row.__dict__) and raw not in str(row.__dict__)
        assert links.resolve(session, token).id == row.id
        assert (row.expires_at - row.created_at) == timedelta(days=14)


def test_a_forged_or_unknown_token_is_not_found(db, waiting):
    token = _link(db, waiting)
    forged = URLSafeSerializer("other-secret", salt=links.SALT).dumps("whatever")
    unknown = URLSafeSerializer("link-secret", salt=links.SALT).dumps("never-issued")
    with db.tx() as session:
        for bad in (forged, unknown, token[:-2] + "xx", "garbage"):
            with pytest.raises(NotFoundError):
                links.resolve(session, bad)


def test_expiry_follows_the_engine_clock(db, waiting):
    token = _link(db, waiting, expires_in=timedelta(days=2))
    clock.set_shift(timedelta(days=1))
    with db.tx() as session:
        links.resolve(session, token)
    clock.set_shift(timedelta(days=2, minutes=1))
    with db.tx() as session, pytest.raises(links.LinkExpiredError) as caught:
        links.use(session, token, {"answer": "geç"}, actor_label="Birim")
    assert isinstance(caught.value, ValidationError)


def test_use_delivers_the_message_once(db, waiting):
    token = _link(db, waiting)
    with db.tx() as session:
        links.use(session, token, {"answer": "Tamam", "answered_by": "Selin"}, actor_label="Selin")
    with db.tx() as session:
        row = session.scalar(select(ReplyLink))
        assert row.used_at is not None and row.used_payload == {"answer": "Tamam", "answered_by": "Selin"}
        actions = list(session.scalars(select(AuditEvent.action).where(AuditEvent.instance_id == waiting)))
        data = runtime.load_instance(session, waiting).workflow.get_tasks(spec_name="read_reply")[0].data
    assert data["reply"] == {"answer": "Tamam", "answered_by": "Selin"}
    assert {"link.created", "message.delivered", "link.used"} <= set(actions)
    with db.tx() as session, pytest.raises(ConflictError):
        links.use(session, token, {"answer": "again"}, actor_label="Selin")


def test_two_uses_in_a_row_in_open_transactions_only_one_wins(db, waiting):
    """The claim is ``UPDATE ... WHERE used_at IS NULL``: the second transaction finds it taken.

    On PostgreSQL the second transaction has already read the link as unused; SQLite
    serializes writers (BEGIN IMMEDIATE), so there the second starts after the first.
    """
    token = _link(db, waiting)
    first, second = db.factory(), db.factory()
    try:
        if db.dialect == "postgresql":
            assert links.resolve(second, token).used_at is None
        links.use(first, token, {"answer": "bir"}, actor_label="A")
        first.commit()
        with pytest.raises(ConflictError):
            links.use(second, token, {"answer": "iki"}, actor_label="B")
        second.rollback()
    finally:
        first.close()
        second.close()
    with db.tx() as session:
        assert session.scalar(select(ReplyLink.used_payload)) == {"answer": "bir"}


def test_a_new_link_replaces_the_earlier_one(db, waiting):
    old = _link(db, waiting)
    new = _link(db, waiting)
    with db.tx() as session:
        with pytest.raises(links.LinkExpiredError):
            links.resolve(session, old)
        links.resolve(session, new)


def test_a_link_whose_instance_no_longer_waits_is_refused(db, waiting):
    token = _link(db, waiting)
    with db.tx() as session:
        runtime.cancel_instance(session, waiting, actor="ayse")
    with db.tx() as session, pytest.raises(ConflictError):
        links.use(session, token, {"answer": "x"}, actor_label="B")
    with db.tx() as session:
        assert session.scalar(select(ReplyLink.used_at)) is None   # refused: nothing kept


def test_unconfigured_links_refuse_clearly(db, waiting):
    links._settings.secret = None
    try:
        with db.tx() as session, pytest.raises(EngineError, match="not configured"):
            links.create_link(session, waiting, "reply_received", purpose="x", recipient="a@b.c")
    finally:
        links.configure("link-secret")
