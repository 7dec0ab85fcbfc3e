"""Sign-in in the engine: checking a password, slowing guessers down per (name, address),
and server-side sign-ins that end on sign-out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine import clock, throttle, user_sessions, users
from engine.models import AuditEvent, User, UserSession

WINDOW = timedelta(minutes=15)


@pytest.fixture
def clock_ahead():
    yield clock.set_shift
    clock.set_shift(timedelta(0))


def _wait(session, username="ayse", address="10.0.0.1"):
    return throttle.sign_in_wait(session, username, address, limit=5, window=WINDOW)


def _fail(session, times, username="ayse", address="10.0.0.1"):
    for _ in range(times):
        throttle.record_sign_in_failure(session, username, address)


def test_authenticate(db, make_user):
    make_user("ayse")
    with db.tx() as session:
        assert users.authenticate(session, "ayse", "parola123").username == "ayse"
        assert users.authenticate(session, "ayse", "yanlis") is None
        assert users.authenticate(session, "nobody", "parola123") is None


def test_a_pair_is_paused_after_the_limit_and_others_are_not(db, clock_ahead):
    with db.tx() as session:
        _fail(session, 4)
        assert _wait(session) is None                      # four typos: no wait (pressure below one round)
        _fail(session, 1)
        wait = _wait(session)
        assert wait.locked and timedelta(minutes=13) < wait.wait <= WINDOW
        assert _wait(session, address="10.0.0.2") is None    # the name from elsewhere
        assert _wait(session, username="mehmet") is None     # another name from here
        throttle.clear_sign_in_failures(session, "ayse", "10.0.0.1")
        assert _wait(session) is None
    clock_ahead(WINDOW + timedelta(seconds=1))
    with db.tx() as session:
        _fail(session, 5, address="10.0.0.3")
        clock_ahead(WINDOW * 2 + timedelta(seconds=2))
        assert _wait(session, address="10.0.0.3") is None    # the window passed


def test_pressure_on_a_name_slows_down_only_the_addresses_that_failed(db, clock_ahead):
    with db.tx() as session:
        for n in range(20):                                   # 20 addresses, one guess each
            _fail(session, 1, address=f"10.0.1.{n}")
        wait = _wait(session, address="10.0.1.0")
        assert not wait.locked and timedelta(seconds=10) < wait.wait <= timedelta(seconds=16)
        assert _wait(session, address="10.9.9.9") is None    # a new address: never waits
        for n in range(200):
            _fail(session, 1, address=f"10.0.2.{n}")
        assert _wait(session, address="10.0.1.0").wait <= throttle.BACKOFF_MAX
        slowed = throttle.sign_in_wait(session, "ayse", "10.0.1.0", limit=2, window=WINDOW)   # pressure 110
        assert not slowed.locked and slowed.wait <= throttle.BACKOFF_MAX
    clock_ahead(throttle.BACKOFF_MAX + timedelta(seconds=1))
    with db.tx() as session:
        assert _wait(session, address="10.0.1.0") is None


def test_pressure_from_one_address_over_many_names(db):
    with db.tx() as session:
        for n in range(25):                                   # a campus NAT: many names, one address
            _fail(session, 1, username=f"kisi{n}")
        assert not _wait(session, username="kisi0").locked    # those that failed wait a little
        assert _wait(session, username="ayse") is None        # a name that did not fail never waits


def _rows(db, username="ayse"):
    with db.tx() as session:
        return session.scalar(select(func.count()).select_from(UserSession).join(User)
                              .where(User.username == username))


def test_a_sign_in_lives_until_it_is_ended_or_expires(db, make_user, clock_ahead):
    make_user("ayse")
    with db.tx() as session:
        ayse = users.get_user(session, "ayse")
        phone = user_sessions.start(session, ayse, timedelta(hours=12))
        laptop = user_sessions.start(session, ayse, timedelta(hours=12))
        epoch = ayse.session_epoch
        assert user_sessions.signed_in_user(session, ayse.id, epoch, phone).username == "ayse"
        assert user_sessions.signed_in_user(session, ayse.id + 1, epoch, phone) is None  # someone else's key
        assert user_sessions.signed_in_user(session, ayse.id, epoch + 1, phone) is None
        assert user_sessions.count_active(session, ayse.id) == 2
        stored = set(session.scalars(select(UserSession.key_hash)))
        assert phone not in stored and len(stored) == 2       # only hashes are kept
        user_sessions.end(session, phone)
        assert user_sessions.signed_in_user(session, ayse.id, epoch, phone) is None
        assert user_sessions.signed_in_user(session, ayse.id, epoch, laptop) is not None
    assert _rows(db) == 1
    clock_ahead(timedelta(hours=12, seconds=1))
    with db.tx() as session:
        assert user_sessions.signed_in_user(session, ayse.id, epoch, laptop) is None
        user_sessions.start(session, ayse, timedelta(hours=12))   # drops the expired one
    assert _rows(db) == 1


def test_deactivation_ends_sign_ins(db, make_user):
    make_user("ayse")
    with db.tx() as session:
        ayse = users.get_user(session, "ayse")
        key = user_sessions.start(session, ayse, timedelta(hours=12))
        users.set_active(session, "ayse", False, actor="root")
        assert user_sessions.signed_in_user(session, ayse.id, ayse.session_epoch, key) is None


def test_ending_every_sign_in_is_recorded(db, make_user):
    make_user("ayse")
    make_user("mehmet")
    with db.tx() as session:
        ayse, mehmet = users.get_user(session, "ayse"), users.get_user(session, "mehmet")
        for _ in range(3):
            user_sessions.start(session, ayse, timedelta(hours=12))
        other = user_sessions.start(session, mehmet, timedelta(hours=12))
        assert user_sessions.end_all(session, "ayse", actor="ayse") == 3
        assert user_sessions.signed_in_user(session, mehmet.id, mehmet.session_epoch, other) is not None
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "user.signed_out_everywhere"))
        assert event.data == {"username": "ayse", "sessions": 3}
    assert _rows(db) == 0 and _rows(db, "mehmet") == 1
