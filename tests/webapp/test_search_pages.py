"""The search page and ``GET /api/v1/search``: what staff find, what another team does not,
the requester masked, the snippet escaped, bad input refused by field."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from engine import clock, conversation, runtime, search, users

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
XSS = '<script>alert("x")</script>'
SEK = Path(sys.executable).parent / "sek"


@pytest.fixture
def found(db, deploy, make_user):
    """A user_support request of the systems team, with a message holding markup; returns its id and code."""
    clock.pin(datetime(2026, 11, 2, 7, 0, tzinfo=UTC))
    make_user("selin.sistem", groups=("systems",))
    make_user("nuri.ag", groups=("network",))
    deploy(*sorted(BPMN.glob("user_support.*")))
    with db.tx() as session:
        instance = runtime.start_instance(session, "user_support", actor="portal", data={
            "requester": "Elif Demir", "requester_email": "elif.demir@ktu.edu.tr", "category": "Personel E-posta",
            "subject": "Kota doldu", "message": "x"})
        conversation.record_contact(session, instance.id, name="Elif Demir", email="elif.demir@ktu.edu.tr")
        conversation.add_message(session, instance.id, f"Posta kutum dolu {XSS} yardım", author_kind="requester",
                                 author="elif.demir@ktu.edu.tr")
        made = instance.id, instance.tracking_code
    yield made
    clock.set_shift(timedelta(0))


def _token(db, username: str) -> dict:
    with db.tx() as session:
        return {"Authorization": f"Bearer {users.create_token(session, username)}"}


def test_the_page_lists_what_the_team_may_see(client, auth, db, found):
    instance_id, code = found
    auth.login("selin.sistem")
    assert 'data-testid="nav-search"' in client.get("/inbox").get_data(as_text=True)
    page = client.get("/search", query_string={"q": "posta", "status": "running"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.count('data-testid="search-hit"') == 1
    assert f'href="/instances/{instance_id}"' in html and code in html
    assert "Kota doldu" in html and "Kullanıcı Desteği" in html     # subject, process title
    assert 'data-testid="status">işlemde<' in html                   # status in Turkish
    assert "2.11.2026 10:00" in html                                 # received, formatted, Istanbul time
    assert "Elif Demir" in html and "elif.demir@ktu.edu.tr" not in html   # the e-mail masked
    assert "<mark>Posta</mark>" in html
    assert "<script>alert" not in html                               # the snippet escaped ...
    if db.dialect == "sqlite":   # ... (PostgreSQL's headline leaves markup tags out altogether)
        assert "&lt;script&gt;alert(&#34;x&#34;)" in html
    empty = client.get("/search", query_string={"q": "posta", "status": "completed"}).get_data(as_text=True)
    assert 'data-testid="search-empty"' in empty
    auth.logout()
    auth.login("nuri.ag")
    other = client.get("/search", query_string={"q": code}).get_data(as_text=True)
    assert 'data-testid="search-hit"' not in other and 'data-testid="search-empty"' in other


def test_the_page_refuses_bad_input_next_to_the_field(client, auth, found):
    auth.login("selin.sistem")
    page = client.get("/search", query_string={"q": "x" * 201, "received_from": "2026-13-01"})
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert 'aria-describedby="q-error"' in html and 'id="received_from-error"' in html
    assert 'data-testid="search-hit"' not in html
    backwards = client.get("/search", query_string={"received_from": "2026-11-05", "received_to": "2026-11-01"})
    assert backwards.status_code == 422 and 'id="received_to-error"' in backwards.get_data(as_text=True)
    assert client.get("/search", query_string={"status": "lost"}).status_code == 422


def test_the_page_needs_a_sign_in(client, found):
    assert client.get("/search", query_string={"q": "posta"}).status_code in (302, 401)


def test_the_api_answers_the_same_with_the_requester_masked(client, db, found):
    instance_id, code = found
    answer = client.get("/api/v1/search", query_string={"q": "kutum", "received_from": "2026-11-02"},
                        headers=_token(db, "selin.sistem"))
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["page"] == 1 and body["has_more"] is False
    [hit] = body["results"]
    assert (hit["id"], hit["tracking_code"], hit["status"], hit["subject"]) == (instance_id, code, "running",
                                                                                "Kota doldu")
    assert hit["requester_name"] == "Elif Demir" and hit["requester_email"] != "elif.demir@ktu.edu.tr"
    assert {"text": "kutum", "match": True} in hit["snippet"]
    assert client.get("/api/v1/search", query_string={"q": code},
                      headers=_token(db, "nuri.ag")).get_json()["results"] == []
    backwards = {"received_from": "2026-11-05", "received_to": "2026-11-01"}
    assert client.get("/api/v1/search", query_string=backwards,
                      headers=_token(db, "selin.sistem")).get_json()["results"] == []
    far = {"received_from": "0001-01-01", "received_to": "9999-12-31"}
    assert [h["id"] for h in client.get("/api/v1/search", query_string=far,
                                        headers=_token(db, "selin.sistem")).get_json()["results"]] == [instance_id]
    assert "/search" in str(client.get("/api/v1/openapi.json").get_json()["paths"].keys())


@pytest.mark.parametrize(("query", "field"), [
    ({"q": "x" * 201}, "q"), ({"status": "lost"}, "status"), ({"received_from": "dün"}, "received_from"),
    ({"page": "0"}, "page"),
    ({"per_page": "101"}, "per_page"),
])
def test_the_api_refuses_bad_input_by_field(client, db, found, query, field):
    answer = client.get("/api/v1/search", query_string=query, headers=_token(db, "selin.sistem"))
    assert answer.status_code == 422
    assert list(answer.get_json()["error"]["fields"]) == [field]


def test_sek_search_reindex_indexes_requests_from_before_the_index(client, db, found, tmp_path):
    """``sek search reindex``, once after upgrading to the index, as an operator runs it."""
    instance_id, _ = found
    with db.tx() as session:
        session.execute(text(f"DELETE FROM {search.TABLE}"))
    headers = _token(db, "selin.sistem")
    assert client.get("/api/v1/search", query_string={"q": "kutum"}, headers=headers).get_json()["results"] == []
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SEK_DATA_DIR")}
    env.update(SEK_DATA_DIR=str(tmp_path), PYTHONUTF8="1", DATABASE_URL=db.url)
    proc = subprocess.run([str(SEK), "search", "reindex"], env=env, capture_output=True, encoding="utf-8",
                          timeout=120)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "requests indexed: 1\n", "")
    answer = client.get("/api/v1/search", query_string={"q": "kutum"}, headers=headers).get_json()
    assert [hit["id"] for hit in answer["results"]] == [instance_id]
