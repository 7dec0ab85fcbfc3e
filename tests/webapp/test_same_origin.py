"""A state change sent from another site's page is refused even with a valid CSRF token.

The token proves the form was read by someone holding the session; the ``Origin`` (or,
without it, the ``Referer``) says which page sent it. Browsers send ``Origin`` on
every cross-site POST; curl and scripts send neither and are judged by the token alone.
"""

from __future__ import annotations

from sqlalchemy import select

from engine import users
from engine.models import HumanTask, User
from webapp import create_app
from webapp.config import SETTINGS
from webapp.extensions import db as flask_db

EVIL = "https://evil.example"
REFUSED = "Bu form başka bir sitenin sayfasından gönderildiği için reddedildi."


def _locale(db, username="ayse"):
    with db.tx() as session:
        return session.scalar(select(User.locale).where(User.username == username))


def _switch(client, token, **headers):
    return client.post("/lang", data={"lang": "en", "next": "/inbox", "csrf_token": token}, headers=headers)


def test_a_valid_token_from_a_foreign_origin_is_refused(client, auth, make_user, db):
    make_user("ayse")
    auth.login("ayse")
    token = auth.csrf("/inbox")

    refused = _switch(client, token, Origin=EVIL)
    assert refused.status_code == 403
    assert REFUSED in refused.get_data(as_text=True)
    assert _locale(db) is None
    assert _switch(client, token, Origin="null").status_code == 403
    assert _locale(db) is None

    accepted = _switch(client, token, Origin="http://localhost")
    assert accepted.status_code == 302
    assert _locale(db) == "en"


def test_a_referer_from_a_foreign_site_is_refused(client, auth, make_user, db):
    make_user("ayse")
    auth.login("ayse")
    token = auth.csrf("/inbox")
    assert _switch(client, token, Referer=f"{EVIL}/sek-gibi-sayfa").status_code == 403
    assert _switch(client, token, Referer="http://localhost.evil.example/inbox").status_code == 403
    assert _locale(db) is None
    assert _switch(client, token, Referer="http://localhost/inbox").status_code == 302
    assert _locale(db) == "en"


def test_without_origin_and_referer_the_token_decides(client, auth, make_user, db):
    make_user("ayse")
    auth.login("ayse")
    assert client.post("/lang", data={"lang": "en"}).status_code == 400          # no token
    assert _switch(client, auth.csrf("/inbox")).status_code == 302                # token, no headers
    assert _locale(db) == "en"


def test_signing_in_from_a_foreign_page_is_refused(client, make_user, auth, db):
    make_user("ayse")
    response = client.post("/login", data={"username": "ayse", "password": "parola123",
                                           "csrf_token": auth.csrf("/login")}, headers={"Origin": EVIL})
    assert response.status_code == 403
    assert client.get("/inbox").status_code == 302                                 # not signed in


def test_the_base_url_is_an_origin_of_this_site(app, client, auth, make_user, db):
    """Behind a proxy that passes its own Host, the address people open is SEK_BASE_URL."""
    app.config["SEK_BASE_URL"] = "https://sek.example.edu.tr"
    make_user("ayse")
    auth.login("ayse")
    token = auth.csrf("/inbox")
    assert _switch(client, token, Origin="https://sek.example.edu.tr:8443").status_code == 403
    assert _switch(client, token, Origin="http://sek.example.edu.tr").status_code == 403
    assert _switch(client, token, Origin="https://SEK.example.edu.tr:443").status_code == 302
    assert _locale(db) == "en"


def test_behind_a_proxy_the_forwarded_scheme_and_host_are_this_site(app, make_user, db):
    config = {s.name: app.config[s.name] for s in SETTINGS}
    config.update(SEK_PROXY_HOPS="1", SEK_BASE_URL="http://127.0.0.1:5000")
    proxied = create_app(config)
    proxied.config["TESTING"] = True
    forwarded = {"X-Forwarded-For": "10.1.2.3", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "sek.example.edu.tr"}
    try:
        make_user("ayse")
        browser = proxied.test_client()
        page = browser.get("/login", headers=forwarded).get_data(as_text=True)
        token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        data = {"username": "ayse", "password": "parola123", "csrf_token": token}
        assert browser.post("/login", data=data, headers={**forwarded, "Origin": EVIL}).status_code == 403
        signed_in = browser.post("/login", data=data, headers={
            **forwarded, "Origin": "https://sek.example.edu.tr", "Referer": "https://sek.example.edu.tr/login"})
        assert signed_in.status_code == 302
        assert browser.get("/inbox", headers=forwarded).status_code == 200
    finally:
        with proxied.app_context():
            flask_db.engine.dispose()


def test_api_calls_with_a_token_need_no_origin(client, make_user, support_request, db):
    """A Bearer token is not sent by a browser on its own: the token is the proof."""
    make_user("ayse")
    instance_id = support_request()
    with db.tx() as session:
        token = users.create_token(session, "ayse")
        task_id = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance_id))
    response = client.post(f"/api/v1/tasks/{task_id}/claim",
                           headers={"Authorization": f"Bearer {token}", "Origin": EVIL})
    assert response.status_code == 200
    with db.tx() as session:
        assert session.get(HumanTask, task_id).assignee == "ayse"


def test_a_signed_in_api_call_from_a_foreign_origin_is_refused_as_json(client, auth, make_user, support_request, db):
    make_user("ayse")
    instance_id = support_request()
    with db.tx() as session:
        task_id = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance_id))
    auth.login("ayse")
    response = client.post(f"/api/v1/tasks/{task_id}/claim",
                           headers={"X-CSRFToken": auth.csrf("/inbox"), "Origin": EVIL})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    with db.tx() as session:
        assert session.get(HumanTask, task_id).assignee is None
