"""Sign-in, CSRF, who may open which page, the language switch and security headers."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from engine.models import HumanTask, LoginFailure, User
from webapp import create_app
from webapp.config import SETTINGS
from webapp.extensions import db as flask_db


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
        return session.scalar(select(func.count()).select_from(LoginFailure).where(LoginFailure.key == key))


def _user(db, username):
    with db.tx() as session:
        return session.scalar(select(User).where(User.username == username))


def _path(response) -> str:
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
    assert _failures(db, "user:ayse") == 0


def test_a_deactivated_account_cannot_sign_in(client, auth, make_user, db):
    from engine import users

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
