"""The public reply page ``/yanit/<token>``: a unit answers a routed request once."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import clock, links, runtime
from engine.models import AuditEvent, ReplyLink

WAIT = Path(__file__).resolve().parent.parent / "data" / "runtime" / "wait_reply.bpmn"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(autouse=True)
def _clock():
    yield
    clock.set_shift(timedelta(0))


@pytest.fixture
def token(app, db, deploy):
    """A fresh link (signed with the app's secret) to an instance waiting for ``reply_received``."""
    deploy(WAIT)
    with db.tx() as session:
        instance_id = runtime.start_instance(session, "wait_reply", data={"ticket_no": "T-1",
                                             "requester_email": "gizli@example.com"}, actor="portal").id
        return links.create_link(session, instance_id, "reply_received",
                                 purpose="Kütüphane hafta sonu neden kapalı? <b>acil</b>",
                                 recipient="kutuphane@example.edu.tr")


def _csrf(client, path):
    page = client.get(path)
    match = CSRF.search(page.get_data(as_text=True))
    assert match, "no CSRF token on the reply page"
    return match.group(1)


def test_the_page_shows_the_request_and_a_form_without_sign_in(client, token):
    page = client.get(f"/yanit/{token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Kütüphane hafta sonu neden kapalı? &lt;b&gt;acil&lt;/b&gt;" in html   # shown as text
    assert 'name="answer"' in html and 'name="answered_by"' in html
    assert "gizli@example.com" not in html
    assert page.headers["Cache-Control"] == "no-store"


def test_answering_delivers_the_message_once(client, db, token):
    path = f"/yanit/{token}"
    sent = client.post(path, data={"answer": "10-18 arası açığız.", "answered_by": "Selin Ak",
                                   "csrf_token": _csrf(client, path)})
    assert sent.status_code == 200
    assert 'data-testid="reply-thanks"' in sent.get_data(as_text=True)
    with db.tx() as session:
        link = session.scalar(select(ReplyLink))
        assert link.used_payload == {"answer": "10-18 arası açığız.", "answered_by": "Selin Ak"}
        actors = set(session.scalars(select(AuditEvent.actor).where(AuditEvent.action == "link.used")))
    assert actors == {"Selin Ak <kutuphane@example.edu.tr>"}
    again = client.get(path)
    assert again.status_code == 410
    assert 'data-testid="reply-closed"' in again.get_data(as_text=True)


def test_a_post_without_csrf_is_refused_and_changes_nothing(client, db, token):
    refused = client.post(f"/yanit/{token}", data={"answer": "x", "answered_by": "y"})
    assert refused.status_code == 400
    with db.tx() as session:
        assert session.scalar(select(ReplyLink.used_at)) is None


def test_what_the_unit_typed_is_kept_when_the_form_has_errors(client, db, token):
    path = f"/yanit/{token}"
    page = client.post(path, data={"answer": "Uzun bir yanıt & ayrıntılar", "answered_by": "",
                                   "csrf_token": _csrf(client, path)})
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "Uzun bir yanıt &amp; ayrıntılar</textarea>" in html
    assert "is-invalid" in html
    with db.tx() as session:
        assert session.scalar(select(ReplyLink.used_at)) is None


def test_an_expired_link_gets_a_polite_410(client, token):
    path = f"/yanit/{token}"
    csrf = _csrf(client, path)
    clock.set_shift(timedelta(days=15))
    for response in (client.get(path), client.post(path, data={"answer": "a", "answered_by": "b",
                                                                "csrf_token": csrf})):
        assert response.status_code == 410
        assert 'data-testid="reply-closed"' in response.get_data(as_text=True)


def test_a_used_link_posted_again_gets_410(client, token):
    path = f"/yanit/{token}"
    csrf = _csrf(client, path)
    data = {"answer": "a", "answered_by": "b", "csrf_token": csrf}
    assert client.post(path, data=data).status_code == 200
    assert client.post(path, data=data).status_code == 410


@pytest.mark.parametrize("bad", ["not-a-token", "eyJmYWtlIjoxfQ.abc"])
def test_an_unknown_link_is_a_polite_404(client, token, bad):
    response = client.get(f"/yanit/{bad}")
    assert response.status_code == 404
    assert 'data-testid="reply-closed"' in response.get_data(as_text=True)

