"""Staff search (engine.search): what each database finds, the index kept in the command's
own transaction, and the request page's visibility rule."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from engine import clock, conversation, retention, runtime, search, users
from engine.errors import ValidationError
from engine.search import Query

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
MONDAY = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)   # 10:00 in Istanbul


@pytest.fixture(autouse=True)
def _pinned(pinned_clock):
    pinned_clock(MONDAY)


@pytest.fixture
def support(db, deploy, make_user):
    """``support(subject, message, ...)`` starts a user_support request as the portal does."""
    make_user("selin.sistem", groups=("systems",))
    make_user("nuri.ag", groups=("network",))
    make_user("hale.yardim", groups=("helpdesk",))
    deploy(*sorted(BPMN.glob("user_support.*")))

    def start(subject="VPN bağlantı sorunu", message="Evden bağlanamıyorum.", *, name="Elif Demir",
              email="elif.demir@ktu.edu.tr", category="Personel E-posta"):
        with db.tx() as session:
            instance = runtime.start_instance(session, "user_support", actor="portal", data={
                "requester": name, "requester_email": email, "category": category,
                "subject": subject, "message": message})
            conversation.record_contact(session, instance.id, name=name, email=email)
            conversation.add_message(session, instance.id, message, author_kind="requester", author=email)
            return instance.id, instance.tracking_code

    return start


def _find(db, who: str, q: str = "", **filters) -> list[search.Hit]:
    with db.tx() as session:
        return search.search(session, users.acting_user(session, who), Query(q, **filters))


def _ids(db, who: str, q: str = "", **filters) -> list[int]:
    return [hit.instance_id for hit in _find(db, who, q, **filters)]


def test_finds_by_code_subject_message_requester_and_filters(db, support):
    first, code = support()
    clock.pin(MONDAY + timedelta(days=3))
    second, _ = support("Kota doldu", "Posta kutum dolu, yer açamıyorum.", name="Kemal Sunal",
                        email="kemal.sunal@ogr.ktu.edu.tr")
    assert _ids(db, "selin.sistem", code) == [first]
    assert _ids(db, "selin.sistem", code.lower()) == [first]
    assert _ids(db, "selin.sistem", code[:5]) == [first]           # a prefix of the code
    assert _ids(db, "selin.sistem", "vpn") == [first]               # the subject
    assert _ids(db, "selin.sistem", "posta kutum") == [second]      # the message, every word
    assert _ids(db, "selin.sistem", "kemal") == [second]            # the requester's name
    assert _ids(db, "selin.sistem", "sunal@ogr.ktu.edu.tr") == [second]   # e-mail, or a part of it
    assert _ids(db, "selin.sistem", "ktu") == [second, first]        # newest first
    assert _ids(db, "selin.sistem", "kota vpn") == []               # every word must match
    assert _ids(db, "selin.sistem", "", received_from=date(2026, 11, 4)) == [second]
    assert _ids(db, "selin.sistem", "", received_to=date(2026, 11, 2)) == [first]
    assert _ids(db, "selin.sistem", "", category="Personel E-posta", status="running") == [second, first]
    assert _ids(db, "selin.sistem", "", status="completed") == []
    hit = _find(db, "selin.sistem", "posta")[0]
    assert (hit.tracking_code, hit.subject, hit.status, hit.requester_name) == (
        hit.tracking_code, "Kota doldu", "running", "Kemal Sunal")
    assert ("Posta", True) in hit.snippet
    assert "".join(part for part, _ in hit.snippet).startswith("Kota doldu")


def test_postgres_stems_turkish_words(db, support):
    if db.dialect != "postgresql":
        pytest.skip("the turkish text search configuration is PostgreSQL's")
    stem, _ = support("Bağlantı kopuyor", "Ağ kablosu takılı.")
    other, _ = support("Eduroam", "Kampüste bağlanamıyorum, bağlanmıyor.")
    # "bağlantı" stems to bağla: every word beginning so is found ...
    assert sorted(_ids(db, "hale.yardim", "bağlantı")) == sorted([stem, other])
    # ... while "bağlanamıyorum" stems to bağlanamıyor, which "bağlantı" does not begin with.
    assert _ids(db, "hale.yardim", "bağlanamıyorum") == [other]
    assert _ids(db, "hale.yardim", "kablolar") == [stem]             # a suffix stripped
    assert _ids(db, "hale.yardim", "ve") == []                       # a stop word finds nothing
    assert _ids(db, "hale.yardim", "ve kablosu") == [stem]           # ... and is left out
    # The stemmer turns a final c into ç ("kıvılc" -> kıvılç): the word as typed counts too.
    named, _ = support("Yazıcı", "Toner bitti.", name="Kıvılcımgül Er", email="kg@ktu.edu.tr")
    assert _ids(db, "hale.yardim", "Kıvılc") == [named]
    snippet = _find(db, "hale.yardim", "bağlantı")[-1].snippet
    assert [part for part, matched in snippet if matched] == ["Bağlantı"]


def test_sqlite_fts5_matches_prefixes_without_accents(db, support):
    if db.dialect != "sqlite":
        pytest.skip("FTS5 is SQLite's")
    stem, _ = support("Bağlantı kopuyor", "ILIK su yok.")
    other, _ = support("Eduroam", "Kampüste bağlanamıyorum.")
    assert sorted(_ids(db, "hale.yardim", "bağlan")) == sorted([stem, other])   # a prefix, no stemming
    assert _ids(db, "hale.yardim", "bağlantı") == [stem]
    assert _ids(db, "hale.yardim", "baglanti") == [stem]             # typed without Turkish letters
    assert _ids(db, "hale.yardim", "ılık") == [stem]                 # dotless ı and I fold alike
    assert _ids(db, "hale.yardim", "KAMPUS") == [other]
    snippet = _find(db, "hale.yardim", "baglanti")[0].snippet
    assert [part for part, matched in snippet if matched] == ["Bağlantı"]


def test_the_index_changes_and_rolls_back_with_the_message(db, support):
    instance_id, _ = support()
    with db.tx() as session:
        conversation.add_message(session, instance_id, "Yazıcı sürücüsü eksik.", author_kind="staff",
                                 author="selin.sistem", public=False)
        user = users.acting_user(session, "selin.sistem")
        assert [h.instance_id for h in search.search(session, user, Query("sürücüsü"))] == [instance_id]
        session.rollback()     # the command failed: its message and its index entry go together
    assert _ids(db, "selin.sistem", "sürücüsü") == []
    with db.tx() as session:
        conversation.add_message(session, instance_id, "Yazıcı sürücüsü eksik.", author_kind="staff",
                                 author="selin.sistem", public=False)
    assert _ids(db, "selin.sistem", "sürücüsü") == [instance_id]     # an internal note too


def test_a_recategorized_request_is_found_by_its_new_category(db, support):
    instance_id, _ = support()
    with db.tx() as session:
        runtime.deliver_message(session, "recategorize", {"category": "Kablosuz Ağ (eduroam)", "note": "",
                                                          "by": "hale.yardim"}, instance_id=instance_id,
                                actor="hale.yardim")
    assert _ids(db, "hale.yardim", "eduroam") == [instance_id]
    assert _ids(db, "hale.yardim", "", category="Kablosuz Ağ (eduroam)") == [instance_id]
    assert _ids(db, "nuri.ag", "vpn") == [instance_id]               # the network team has it now


def test_staff_see_only_what_the_request_page_shows_them(db, support, make_user):
    instance_id, code = support()
    make_user("deniz.denetci", groups=(), roles=("auditor",))
    assert _ids(db, "selin.sistem", "vpn") == [instance_id]          # the team that works it
    assert _ids(db, "hale.yardim", "vpn") == [instance_id]           # the help desk watches user_support
    assert _ids(db, "deniz.denetci", "vpn") == [instance_id]         # auditors read everything
    assert _ids(db, "nuri.ag", "vpn") == []                          # another team's request
    assert _ids(db, "nuri.ag", code) == []                           # not even by its exact code
    assert _ids(db, "nuri.ag") == []


def test_bad_input_is_refused_by_field(db, make_user):
    make_user("selin.sistem", groups=("systems",))
    cases = [(Query("x" * 201), "q"), (Query("a\x00b"), "q"), (Query(status="lost"), "status"),
             (Query(category="y" * 201), "category")]
    for query, field in cases:
        with db.tx() as session, pytest.raises(ValidationError) as refused:
            search.search(session, users.acting_user(session, "selin.sistem"), query)
        assert [p.location for p in refused.value.problems] == [field]


def test_rebuild_indexes_requests_from_before_the_index(db, support):
    instance_id, _ = support()
    with db.tx() as session:
        session.execute(text(f"DELETE FROM {search.TABLE}"))
    assert _ids(db, "selin.sistem", "elif") == []
    with db.tx() as session:
        assert search.rebuild(session) == 1
    assert _ids(db, "selin.sistem", "elif") == [instance_id]
    assert _ids(db, "selin.sistem", "bağlanamıyorum") == [instance_id]


def test_anonymized_requests_are_no_longer_found_by_their_requester(db, support):
    instance_id, _ = support(message="Ben Elif, numaram 0532 111 22 33.")
    with db.tx() as session:
        runtime.cancel_instance(session, instance_id, actor="hale.yardim", reason="mükerrer")
    clock.pin(MONDAY + timedelta(days=800))
    assert _ids(db, "hale.yardim", "elif") == [instance_id]
    with db.tx() as session:
        assert retention.apply(session, 2).requests == 1
    assert _ids(db, "hale.yardim", "elif") == []
    assert _ids(db, "hale.yardim", "0532") == []
    assert _ids(db, "hale.yardim", "vpn") == [instance_id]           # the subject stays, as the reports keep it
