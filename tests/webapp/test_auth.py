"""Sign-in, CSRF, who may open which page, the language switch and security headers."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from engine import clock, users
from engine.models import AuditEvent, HumanTask, RateEvent, User, UserSession
from webapp import create_app
from webapp.config import SETTINGS
from webapp.extensions import db as flask_db

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _task_id(db, instance_id, bpmn_id="triage"):
    with db.tx() as session:
        return session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance_id,
                                                          HumanTask.bpmn_id == bpmn_id))


def _task_state(db, task_id):
    with db.tx() as session:
        task = session.get(HumanTask, task_id)
        return task.state, task.assignee


def _failures(db, key):
    with db.tx() as session:
        return session.scalar(select(func.count()).select_from(RateEvent).where(RateEvent.key == f"login:{key}"))


def _sign_ins(db, username):
    with db.tx() as session:
        return session.scalar(select(func.count()).select_from(UserSession).join(User, User.id == UserSession.user_id)
                              .where(User.username == username))


def _user(db, username):
    with db.tx() as session:
        return session.scalar(select(User).where(User.username == username))


def _path(response) -> str:
    assert "Location" in response.headers, f"not redirected: {response.status_code}"
    location = urlsplit(response.headers["Location"])
    assert location.netloc in ("", "localhost"), response.headers["Location"]
    return location.path


# --- sign-in ---------------------------------------------------------------------

def test_wrong_password_is_refused_and_keeps_the_username(client, auth, make_user, db):
    make_user("ayse")
    response = auth.login("ayse", password="yanlis-parola")
    assert response.status_code == 401
    html = response.get_data(as_text=True)
    assert 'data-testid="login-error"' in html
    assert 'value="ayse"' in html
    assert 'value="yanlis-parola"' not in html          # the password is never sent back
    assert _path(client.get("/inbox")) == "/login"
    assert _failures(db, "user:ayse") == 1


def test_right_password_signs_in_to_the_inbox_and_clears_failures(client, auth, make_user, db):
    make_user("ayse")
    auth.login("ayse", password="yanlis-parola")
    response = auth.login("ayse")
    assert response.status_code == 302 and _path(response) == "/inbox"
    page = client.get("/inbox")
    assert page.status_code == 200
    assert '<span class="navbar-text me-3" data-testid="current-user">ayse</span>' in page.get_data(as_text=True)
    assert _failures(db, "pair:ayse|127.0.0.1") == 0      # this address proved itself
    assert _failures(db, "user:ayse") == 1                # guesses for the name still count
    assert _sign_ins(db, "ayse") == 1


def test_a_deactivated_account_cannot_sign_in(client, auth, make_user, db):
    make_user("ayse")
    with db.tx() as session:
        users.set_active(session, "ayse", False, actor="admin")
    assert auth.login("ayse").status_code == 401
    assert _path(client.get("/inbox")) == "/login"


@pytest.mark.parametrize("target", ["https://evil.example/inbox", "//evil.example/inbox", "/\\evil.example", "/\t/evil.example",
                                    "javascript:alert(1)", "evil.example"])
def test_next_pointing_elsewhere_is_ignored(client, auth, make_user, target):
    make_user("ayse")
    response = client.post("/login", query_string={"next": target}, data={
        "username": "ayse", "password": "parola123", "csrf_token": auth.csrf("/login")})
    assert response.status_code == 302
    assert response.headers["Location"] == "/inbox"
    # Already signed in, the sign-in page passes on to the same safe place.
    again = client.get("/login", query_string={"next": target})
    assert again.headers["Location"] == "/inbox"


def test_next_on_this_site_is_followed(client, auth, make_user):
    make_user("ayse")
    response = client.post("/login?next=/instances", data={
        "username": "ayse", "password": "parola123", "csrf_token": auth.csrf("/login?next=/instances")})
    assert response.headers["Location"] == "/instances"


def test_too_many_failures_block_even_the_right_password(client, auth, make_user, db):
    make_user("ayse")
    make_user("mehmet")
    for _ in range(5):
        assert auth.login("ayse", password="yanlis-parola").status_code == 401
    assert _failures(db, "user:ayse") == 5               # in the database, not in process memory

    blocked = auth.login("ayse")
    assert blocked.status_code == 429
    assert 'data-testid="login-error"' in blocked.get_data(as_text=True)
    assert _path(client.get("/inbox")) == "/login"
    # The limit is per username: someone else at the same address still gets in.
    other = type(auth)(client.application.test_client())
    assert other.login("mehmet").status_code == 302


def test_failures_count_across_processes(app, client, auth, make_user, db):
    """A second app on the same database (another gunicorn worker) sees the same failures."""
    make_user("ayse")
    for _ in range(3):
        auth.login("ayse", password="yanlis-parola")
    other_app = create_app({s.name: app.config[s.name] for s in SETTINGS})
    other_app.config["TESTING"] = True
    try:
        other = type(auth)(other_app.test_client())
        for _ in range(2):
            assert other.login("ayse", password="yanlis-parola").status_code == 401
        assert auth.login("ayse").status_code == 429
        assert other.login("ayse").status_code == 429
    finally:
        with other_app.app_context():
            flask_db.engine.dispose()
    assert _failures(db, "user:ayse") == 5


def _login_from(app, address, username="ayse", password="parola123"):
    """A sign-in from a browser at ``address`` (a new browser each time)."""
    browser = app.test_client()
    token = CSRF.search(browser.get("/login", environ_base={"REMOTE_ADDR": address}).get_data(as_text=True)).group(1)
    response = browser.post("/login", data={"username": username, "password": password, "csrf_token": token},
                            environ_base={"REMOTE_ADDR": address})
    return response, browser


@pytest.fixture
def clock_ahead():
    """``clock_ahead(delta)`` moves the engine's clock ``delta`` past the real time (reset after the test)."""
    yield clock.set_shift
    clock.set_shift(timedelta(0))


def test_failures_from_one_address_pause_that_address_only(app, make_user, db):
    """Anyone can type a colleague's name: 20 wrong passwords from one address must not lock them out."""
    make_user("ayse")
    answers = [_login_from(app, "10.0.0.1", password="yanlis-parola")[0] for _ in range(20)]
    assert [r.status_code for r in answers] == [401] * 5 + [429] * 15
    told = answers[-1].get_data(as_text=True)
    assert "Bu hesaba sizin adresinizden çok fazla başarısız giriş denemesi yapıldı" in told
    assert re.search(r"Lütfen 1[45] dakika bekleyip", told) and 'data-testid="login-error"' in told
    assert int(answers[-1].headers["Retry-After"]) > 14 * 60
    # The right password from that address waits too; from another address it signs in.
    assert _login_from(app, "10.0.0.1")[0].status_code == 429
    response, browser = _login_from(app, "10.0.0.2")
    assert response.status_code == 302 and _path(response) == "/inbox"
    assert browser.get("/inbox").status_code == 200
    # Only the tries that checked a password were counted.
    assert _failures(db, "pair:ayse|10.0.0.1") == 5 and _failures(db, "user:ayse") == 5


def test_failures_from_many_addresses_slow_down_but_never_lock(app, make_user, db, clock_ahead):
    make_user("ayse")
    for n in range(10):
        assert _login_from(app, f"10.0.1.{n}", password="yanlis-parola")[0].status_code == 401
    # An address that failed must wait a little before its next try (the name is under attack) ...
    again = _login_from(app, "10.0.1.0")[0]
    assert again.status_code == 429
    seconds = int(again.headers["Retry-After"])       # 4 s after the last failure (10 failures: 2 s doubled)
    assert 1 <= seconds <= 4
    assert f"Lütfen {seconds} saniye bekleyip yeniden deneyin" in again.get_data(as_text=True)
    # ... a new address never waits ...
    assert _login_from(app, "10.0.2.1")[0].status_code == 302
    # ... and the address that waited gets in once the few seconds have passed.
    clock_ahead(timedelta(seconds=5))
    assert _login_from(app, "10.0.1.0")[0].status_code == 302


def test_a_pause_ends_after_the_window(app, make_user, db, clock_ahead):
    make_user("ayse")
    for _ in range(5):
        _login_from(app, "10.0.0.1", password="yanlis-parola")
    assert _login_from(app, "10.0.0.1")[0].status_code == 429
    clock_ahead(timedelta(minutes=15, seconds=1))
    assert _login_from(app, "10.0.0.1")[0].status_code == 302


# --- sessions ends on sign-out ---------------------------------------------------------

def _cookie(client) -> str:
    return client.get_cookie("sek_session").value


def _replay(app, cookie: str):
    """Another browser sending a copy of a session cookie."""
    thief = app.test_client()
    thief.set_cookie("sek_session", cookie)
    return thief


def test_a_copy_of_the_cookie_taken_before_sign_out_no_longer_signs_in(app, client, auth, make_user, db):
    make_user("ayse")
    auth.login("ayse")
    copied = _cookie(client)
    assert _replay(app, copied).get("/inbox").status_code == 200      # the copy works while signed in
    assert _sign_ins(db, "ayse") == 1

    assert _path(auth.logout()) == "/login"
    thief = _replay(app, copied)
    assert _path(thief.get("/inbox")) == "/login"
    api = thief.get("/api/v1/tasks")
    assert api.status_code == 401 and api.get_json()["error"]["code"] == "unauthorized"
    assert _sign_ins(db, "ayse") == 0                                   # ended on the server


def test_signing_in_again_ends_the_sign_in_the_browser_had(app, client, auth, make_user, db):
    make_user("ayse")
    make_user("mehmet")
    auth.login("ayse")
    copied = _cookie(client)
    assert client.post("/login", data={"username": "mehmet", "password": "parola123",
                                       "csrf_token": auth.csrf("/inbox")}).status_code == 302
    assert _path(_replay(app, copied).get("/inbox")) == "/login"
    assert _sign_ins(db, "ayse") == 0 and _sign_ins(db, "mehmet") == 1


def test_signing_out_leaves_the_other_browsers_signed_in(app, client, auth, make_user, db):
    make_user("ayse")
    auth.login("ayse")
    laptop = type(auth)(app.test_client())
    laptop.login("ayse")
    assert _sign_ins(db, "ayse") == 2

    auth.logout()
    assert _path(client.get("/inbox")) == "/login"
    assert laptop.client.get("/inbox").status_code == 200
    assert _sign_ins(db, "ayse") == 1


def test_sign_out_everywhere_ends_every_browser_but_not_the_api_token(app, client, auth, make_user, db):
    make_user("ayse")
    with db.tx() as session:
        token = users.create_token(session, "ayse", actor="root")
    auth.login("ayse")
    laptop = type(auth)(app.test_client())
    laptop.login("ayse")
    copied = _cookie(laptop.client)
    page = client.get("/account").get_data(as_text=True)
    assert 'data-testid="sessions-count">Şu anda oturumunuzun açık olduğu tarayıcılar: 2<' in page
    assert "Tüm oturumlarımı kapat" in page

    response = client.post("/account/sessions/end", data={"csrf_token": auth.csrf("/account")})
    assert _path(response) == "/login"
    assert "Tüm tarayıcılardaki oturumlarınız kapatıldı." in client.get("/login").get_data(as_text=True)
    for browser in (client, laptop.client, _replay(app, copied)):
        assert _path(browser.get("/inbox")) == "/login"
    assert _sign_ins(db, "ayse") == 0
    # API tokens are a separate credential (deactivating the account ends them).
    assert client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    with db.tx() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "user.signed_out_everywhere"))
        assert (event.actor, event.data["username"], event.data["sessions"]) == ("ayse", "ayse", 2)
    # Signing in again works as before.
    assert auth.login("ayse").status_code == 302 and client.get("/inbox").status_code == 200


def test_sign_out_everywhere_needs_the_csrf_token(client, auth, make_user, db):
    make_user("ayse")
    auth.login("ayse")
    assert client.post("/account/sessions/end").status_code == 400
    assert client.get("/inbox").status_code == 200
    assert _sign_ins(db, "ayse") == 1


def test_a_sign_in_lasts_at_most_the_session_hours(client, auth, make_user, db, clock_ahead):
    make_user("ayse")
    auth.login("ayse")
    clock_ahead(timedelta(hours=11, minutes=59))
    assert client.get("/inbox").status_code == 200
    clock_ahead(timedelta(hours=12, seconds=1))
    assert _path(client.get("/inbox")) == "/login"
    # the expired sign-in is dropped when someone signs in next
    type(auth)(client.application.test_client()).login("ayse")
    assert _sign_ins(db, "ayse") == 1


# --- CSRF ------------------------------------------------------------------------

def test_login_without_csrf_token_is_refused(client, make_user, db):
    make_user("ayse")
    response = client.post("/login", data={"username": "ayse", "password": "parola123"})
    assert response.status_code == 400
    assert _path(client.get("/inbox")) == "/login"        # not signed in, right password or not
    assert _failures(db, "user:ayse") == 0


def test_logout_without_csrf_token_is_refused(client, auth, make_user):
    make_user("ayse")
    auth.login("ayse")
    assert client.post("/logout").status_code == 400
    assert client.get("/inbox").status_code == 200        # still signed in
    assert _path(auth.logout()) == "/login"
    assert _path(client.get("/inbox")) == "/login"


def test_language_switch_without_csrf_token_is_refused(client, auth, make_user, db):
    make_user("ayse")
    auth.login("ayse")
    assert client.post("/lang", data={"lang": "en"}).status_code == 400
    assert _user(db, "ayse").locale is None
    assert '<html lang="tr">' in client.get("/inbox").get_data(as_text=True)


def test_claim_without_csrf_token_is_refused(client, auth, make_user, support_request, db):
    make_user("ayse")
    task_id = _task_id(db, support_request())
    auth.login("ayse")
    assert client.post(f"/tasks/{task_id}/claim").status_code == 400
    assert _task_state(db, task_id) == ("ready", None)


def test_admin_change_without_csrf_token_is_refused(client, auth, make_user, db):
    make_user("root", groups=(), roles=("admin",))
    make_user("ayse")
    auth.login("root")
    assert client.post("/admin/users/ayse/active", data={"active": "0"}).status_code == 400
    assert client.post("/admin/users/ayse/groups", data={"groups": []}).status_code == 400
    assert client.post("/admin/users", data={"username": "yeni", "password": "parola123"}).status_code == 400
    user = _user(db, "ayse")
    assert user.active and user.session_epoch == 1
    assert _user(db, "yeni") is None
    with db.tx() as session:
        assert session.scalar(select(User).where(User.username == "ayse")).group_slugs == {"helpdesk"}


# --- who may open what -------------------------------------------------------------

@pytest.fixture
def people(make_user, support_request, db):
    """A helpdesk request and one person of each kind around it."""
    make_user("ayse", groups=("helpdesk",))
    make_user("ali", groups=("network",))
    make_user("deniz", groups=(), roles=("auditor",))
    make_user("root", groups=(), roles=("admin",))
    instance_id = support_request()
    return instance_id, _task_id(db, instance_id)


def test_anonymous_is_sent_to_sign_in(client, people):
    instance_id, task_id = people
    for path in ("/inbox", f"/tasks/{task_id}", f"/instances/{instance_id}", "/admin/users", "/admin/users/ayse"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert _path(response) == "/login", path


def test_anonymous_posts_change_nothing(client, auth, people, db):
    _, task_id = people
    token = auth.csrf("/login")
    response = client.post(f"/tasks/{task_id}/claim", data={"csrf_token": token})
    assert _path(response) == "/login"
    response = client.post("/admin/users/ayse/active", data={"csrf_token": token, "active": "0"})
    assert _path(response) == "/login"
    assert _task_state(db, task_id) == ("ready", None)
    assert _user(db, "ayse").active


def test_staff_of_another_group_is_refused(client, auth, people, db):
    instance_id, task_id = people
    auth.login("ali")
    assert client.get(f"/tasks/{task_id}").status_code == 403
    assert client.get(f"/instances/{instance_id}").status_code == 403
    token = auth.csrf("/inbox")
    assert client.post(f"/tasks/{task_id}/claim", data={"csrf_token": token}).status_code == 403
    assert client.post(f"/tasks/{task_id}/complete", data={
        "csrf_token": token, "category": "Diğer", "team": "network"}).status_code == 403
    assert _task_state(db, task_id) == ("ready", None)
    assert f'data-task-id="{task_id}"' not in client.get("/inbox?section=group").get_data(as_text=True)


def test_staff_is_refused_admin_pages(client, auth, people, db):
    auth.login("ayse")
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/users/ali").status_code == 403
    token = auth.csrf("/inbox")
    assert client.post("/admin/users/ali/active", data={"csrf_token": token, "active": "0"}).status_code == 403
    assert client.post("/admin/users/ayse/roles", data={"csrf_token": token, "roles": ["admin"]}).status_code == 403
    assert client.post("/admin/users", data={"csrf_token": token, "username": "yeni",
                                             "password": "parola123"}).status_code == 403
    assert client.post("/admin/users/ayse/tokens", data={"csrf_token": token}).status_code == 403
    assert _user(db, "ali").active
    assert _user(db, "ayse").roles == ["staff"]
    assert _user(db, "yeni") is None
    assert 'href="/admin/users"' not in client.get("/inbox").get_data(as_text=True)


def test_auditor_reads_instances_but_cannot_complete(client, auth, people, db):
    instance_id, task_id = people
    auth.login("deniz")
    assert client.get(f"/instances/{instance_id}").status_code == 200
    token = auth.csrf(f"/instances/{instance_id}")
    assert client.post(f"/tasks/{task_id}/complete", data={
        "csrf_token": token, "category": "Diğer", "team": "network"}).status_code == 403
    assert client.post(f"/tasks/{task_id}/claim", data={"csrf_token": token}).status_code == 403
    assert client.get("/admin/users").status_code == 403
    assert _task_state(db, task_id) == ("ready", None)


def test_admin_may_do_everything(client, auth, people, db):
    instance_id, task_id = people
    auth.login("root")
    for path in ("/inbox", f"/tasks/{task_id}", f"/instances/{instance_id}", "/admin/users", "/admin/users/ayse"):
        assert client.get(path).status_code == 200, path
    assert 'href="/admin/users"' in client.get("/inbox").get_data(as_text=True)
    response = client.post(f"/tasks/{task_id}/claim", data={"csrf_token": auth.csrf("/inbox")})
    assert response.status_code == 302
    assert _task_state(db, task_id) == ("claimed", "root")


# --- language ----------------------------------------------------------------------

def test_language_choice_is_remembered_per_user(app, client, auth, make_user, db):
    make_user("ayse")
    assert '<html lang="tr">' in client.get("/login").get_data(as_text=True)   # the default
    auth.login("ayse")
    response = client.post("/lang", data={"lang": "en", "next": "/inbox", "csrf_token": auth.csrf("/inbox")})
    assert response.status_code == 302 and _path(response) == "/inbox"
    assert '<html lang="en">' in client.get("/inbox").get_data(as_text=True)
    assert _user(db, "ayse").locale == "en"

    # Another browser: Turkish until ayse signs in, then her choice.
    browser = app.test_client()
    assert '<html lang="tr">' in browser.get("/login").get_data(as_text=True)
    type(auth)(browser).login("ayse")
    assert '<html lang="en">' in browser.get("/inbox").get_data(as_text=True)


def test_unknown_language_changes_nothing(client, auth, make_user, db):
    make_user("ayse")
    auth.login("ayse")
    client.post("/lang", data={"lang": "xx", "csrf_token": auth.csrf("/inbox")})
    assert _user(db, "ayse").locale is None
    assert '<html lang="tr">' in client.get("/inbox").get_data(as_text=True)


def test_language_chosen_before_signing_in_survives_the_sign_in(client, auth, make_user, db):
    make_user("ayse")
    response = client.post("/lang", data={"lang": "en", "next": "/login", "csrf_token": auth.csrf("/login")})
    assert _path(response) == "/login"
    assert '<html lang="en">' in client.get("/login").get_data(as_text=True)
    auth.login("ayse")
    assert '<html lang="en">' in client.get("/inbox").get_data(as_text=True)


# --- headers and cookies -------------------------------------------------------------

def test_security_headers(client, auth, make_user):
    make_user("ayse")
    for response in (client.get("/login"), auth.login("ayse"), client.get("/inbox")):
        headers = response.headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
    assert client.get("/inbox").headers["Cache-Control"] == "no-store"


def test_session_cookie_is_http_only_and_same_site(client, auth, make_user):
    make_user("ayse")
    response = auth.login("ayse")
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("sek_session=")]
    assert cookies, response.headers.getlist("Set-Cookie")
    attributes = [part.strip().lower() for part in cookies[-1].split(";")]
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
