"""The admin pages: users, adding one, groups, roles, activation and API tokens."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from engine import users
from engine.models import ApiToken, AuditEvent, HumanTask, User

TOKEN = re.compile(r'data-testid="new-token">([^<]+)<')


@pytest.fixture
def admin(client, auth, make_user):
    """ayse (helpdesk), mehmet (network) and root (admin), with root signed in."""
    make_user("ayse", groups=("helpdesk",))
    make_user("mehmet", groups=("network",))
    make_user("root", groups=(), roles=("admin",))
    auth.login("root")
    return auth


def _user(db, username):
    with db.tx() as session:
        # The groups are loaded while the session is open, to be read after it.
        return session.scalar(select(User).options(selectinload(User.groups)).where(User.username == username))


def _events(db, action):
    with db.tx() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _path(response) -> str:
    return urlsplit(response.headers["Location"]).path


def _post(client, auth, path, **data):
    return client.post(path, data={"csrf_token": auth.csrf("/admin/users"), **data})


def test_user_list_shows_roles_groups_state_and_email(client, admin, db):
    with db.tx() as session:
        users.add_user(session, "ayse", email="ayse@example.edu.tr", roles=())
        users.set_active(session, "mehmet", False, actor="root")
    html = client.get("/admin/users").get_data(as_text=True)
    rows = dict(re.findall(r'<tr data-username="([^"]+)"(.*?)</tr>', html, re.S))
    assert set(rows) == {"ayse", "mehmet", "root"}
    assert 'data-active="true"' in rows["ayse"] and "ayse@example.edu.tr" in rows["ayse"]
    assert 'data-group="helpdesk"' in rows["ayse"] and 'data-role="staff"' in rows["ayse"]
    assert 'data-active="false"' in rows["mehmet"] and 'data-group="network"' in rows["mehmet"]
    assert 'data-role="admin"' in rows["root"]
    assert 'data-testid="add-user-form"' in html


def test_admin_pages_have_no_inline_styles_or_scripts(client, admin):
    """The CSP forbids inline styles and scripts, so the pages must not rely on them."""
    for path in ("/admin/users", "/admin/users/ayse"):
        html = client.get(path).get_data(as_text=True)
        assert " style=" not in html and "<style" not in html, path
        assert not re.search(r"<script(?![^>]*\ssrc=)", html), path
        assert not re.search(r"\son[a-z]+=", html), path


def test_add_user_then_they_can_sign_in(app, client, admin, db):
    response = _post(client, admin, "/admin/users", username="zeynep", email="zeynep@example.edu.tr",
                     password="gizli-parola", roles=["staff", "auditor"], groups=["helpdesk"],
                     new_groups="security, web-team")
    assert response.status_code == 302 and _path(response) == "/admin/users/zeynep"
    assert 'data-testid="groups-form"' in client.get("/admin/users/zeynep").get_data(as_text=True)
    user = _user(db, "zeynep")
    assert user.active and user.email == "zeynep@example.edu.tr"
    assert sorted(user.roles) == ["auditor", "staff"]
    assert user.group_slugs == {"helpdesk", "security", "web-team"}
    assert [e.actor for e in _events(db, "user.created") if e.data["username"] == "zeynep"] == ["root"]

    other = type(admin)(app.test_client())
    assert other.login("zeynep", password="gizli-parola").status_code == 302


def test_add_user_errors_are_shown_next_to_the_fields_with_what_was_typed(client, admin, db):
    response = _post(client, admin, "/admin/users", username="bad name!", email="ayse.example.edu.tr",
                     password="kisa", roles=["manager"], groups=["network"], new_groups="Not A Slug")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'data-testid="error-email"' in html
    assert 'value="bad name!"' in html and 'value="ayse.example.edu.tr"' in html
    assert 'value="Not A Slug"' in html
    assert re.search(r'value="manager"\s+checked', html) and not re.search(r'value="staff"\s+checked', html)
    assert re.search(r'value="network"\s+checked', html)
    assert 'value="kisa"' not in html                      # a password is never sent back

    # With the e-mail fixed, the engine's own checks speak, again beside their fields.
    response = _post(client, admin, "/admin/users", username="bad name!", email="", password="kisa",
                     roles=["staff"], new_groups="Not A Slug")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'data-testid="error-username"' in html and 'data-testid="error-password"' in html
    assert _user(db, "bad name!") is None
    with db.tx() as session:
        assert [g.slug for g in users.list_groups(session)] == ["helpdesk", "network"]


def test_bad_new_group_is_shown_beside_its_field(client, admin, db):
    response = _post(client, admin, "/admin/users", username="zeynep", password="gizli-parola",
                     roles=["staff"], new_groups="Not A Slug")
    assert response.status_code == 422
    assert 'data-testid="error-new_groups"' in response.get_data(as_text=True)
    assert _user(db, "zeynep") is None                     # nothing half-written


def test_adding_an_existing_username_is_refused(client, admin, db):
    response = _post(client, admin, "/admin/users", username="ayse", password="yeni-parola-123",
                     roles=["admin"])
    assert response.status_code == 422
    assert 'data-testid="error-username"' in response.get_data(as_text=True)
    user = _user(db, "ayse")
    assert user.roles == ["staff"] and user.session_epoch == 1   # untouched: not an update in disguise


def test_edit_page_shows_groups_roles_and_state(client, admin, db):
    html = client.get("/admin/users/ayse").get_data(as_text=True)
    assert re.search(r'name="groups" value="helpdesk"\s+checked', html)
    assert re.search(r'name="groups" value="network"\s+>', html)
    assert re.search(r'name="roles" value="staff"\s+checked', html)
    assert 'data-testid="deactivate"' in html
    assert client.get("/admin/users/nobody").status_code == 404


def test_group_membership_changes_what_the_inbox_shows(app, client, admin, support_request, db):
    instance_id = support_request()
    with db.tx() as session:
        task_id = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance_id))
    mehmet = type(admin)(app.test_client())
    mehmet.login("mehmet")
    marker = f'data-task-id="{task_id}"'
    assert marker not in mehmet.client.get("/inbox?section=group").get_data(as_text=True)

    response = _post(client, admin, "/admin/users/mehmet/groups", groups=["network", "helpdesk"])
    assert response.status_code == 302 and _path(response) == "/admin/users/mehmet"
    assert 'class="alert alert-success"' in client.get("/admin/users/mehmet").get_data(as_text=True)
    assert _user(db, "mehmet").group_slugs == {"network", "helpdesk"}
    assert marker in mehmet.client.get("/inbox?section=group").get_data(as_text=True)
    assert mehmet.client.get(f"/tasks/{task_id}").status_code == 200
    (event,) = _events(db, "user.groups_changed")
    assert event.actor == "root" and event.data["after"] == ["helpdesk", "network"]

    _post(client, admin, "/admin/users/mehmet/groups", groups=["network"])
    assert marker not in mehmet.client.get("/inbox?section=group").get_data(as_text=True)
    assert mehmet.client.get(f"/tasks/{task_id}").status_code == 403


def test_unknown_group_is_refused_on_the_page(client, admin, db):
    response = _post(client, admin, "/admin/users/ayse/groups", groups=["helpdesk", "nosuch"])
    assert response.status_code == 422
    assert 'data-testid="admin-error"' in response.get_data(as_text=True)
    assert _user(db, "ayse").group_slugs == {"helpdesk"}


def test_roles_are_edited(app, client, admin, db):
    response = _post(client, admin, "/admin/users/ayse/roles", roles=["staff", "admin"])
    assert response.status_code == 302
    assert sorted(_user(db, "ayse").roles) == ["admin", "staff"]
    ayse = type(admin)(app.test_client())
    ayse.login("ayse")
    assert ayse.client.get("/admin/users").status_code == 200

    _post(client, admin, "/admin/users/ayse/roles", roles=["staff"])
    assert _user(db, "ayse").roles == ["staff"]
    assert ayse.client.get("/admin/users").status_code == 403   # at once, without signing in again


def test_taking_the_admin_role_from_yourself_is_refused_on_the_page(client, admin, db):
    response = _post(client, admin, "/admin/users/root/roles", roles=["staff"])
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'data-testid="admin-error"' in html and 'data-testid="roles-form"' in html
    assert _user(db, "root").roles == ["admin"]
    assert client.get("/admin/users").status_code == 200


def test_deactivating_yourself_is_refused_on_the_page(client, admin, db):
    response = _post(client, admin, "/admin/users/root/active", active="0")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'data-testid="admin-error"' in html and 'data-testid="error-message"' not in html
    assert _user(db, "root").active
    assert client.get("/admin/users").status_code == 200


def test_deactivation_ends_sessions_and_tokens_at_once(app, client, admin, db):
    ayse = type(admin)(app.test_client())
    assert ayse.login("ayse").status_code == 302
    assert ayse.client.get("/inbox").status_code == 200
    with db.tx() as session:
        token = users.create_token(session, "ayse", actor="root")
    # The JSON API is written alongside this work; where it exists, ask it too.
    has_api = any(rule.rule == "/api/v1/tasks" for rule in app.url_map.iter_rules())
    bearer = {"Authorization": f"Bearer {token}"}
    if has_api:
        assert app.test_client().get("/api/v1/tasks", headers=bearer).status_code == 200

    response = _post(client, admin, "/admin/users/ayse/active", active="0")
    assert response.status_code == 302 and _path(response) == "/admin/users/ayse"
    assert 'data-testid="activate"' in client.get("/admin/users/ayse").get_data(as_text=True)

    after = ayse.client.get("/inbox")
    assert after.status_code == 302 and _path(after) == "/login"
    assert ayse.login("ayse").status_code == 401
    with db.tx() as session:
        # Without the API blueprint there is no endpoint to call; user_for_token is what
        # the Bearer-token loader (webapp/auth/identity.py) asks, so it decides the same.
        assert users.user_for_token(session, token) is None
    if has_api:
        assert app.test_client().get("/api/v1/tasks", headers=bearer).status_code == 401
    (event,) = _events(db, "user.deactivated")
    assert event.actor == "root" and event.data == {"username": "ayse"}

    # Activated again, she signs in anew; the old session stays ended.
    assert _path(_post(client, admin, "/admin/users/ayse/active", active="1")) == "/admin/users/ayse"
    assert _user(db, "ayse").active
    assert _path(ayse.client.get("/inbox")) == "/login"
    assert ayse.login("ayse").status_code == 302
    assert ayse.client.get("/inbox").status_code == 200


def test_new_api_token_is_shown_once_and_works(client, admin, db):
    response = _post(client, admin, "/admin/users/ayse/tokens")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    match = TOKEN.search(response.get_data(as_text=True))
    assert match
    token = match.group(1).strip()
    with db.tx() as session:
        assert users.user_for_token(session, token).username == "ayse"
        (row,) = session.scalars(select(ApiToken))
        assert token not in row.token_hash                  # only its hash is kept
    assert token not in client.get("/admin/users/ayse").get_data(as_text=True)
    assert [e.actor for e in _events(db, "token.created")] == ["root"]


def test_no_token_for_a_deactivated_account(client, admin, db):
    with db.tx() as session:
        users.set_active(session, "ayse", False, actor="root")
    response = _post(client, admin, "/admin/users/ayse/tokens")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'data-testid="admin-error"' in html and 'data-testid="new-token"' not in html
    with db.tx() as session:
        assert session.scalars(select(ApiToken)).first() is None


def test_unknown_user_is_not_found(client, admin):
    assert _post(client, admin, "/admin/users/nobody/active", active="0").status_code == 404
    assert _post(client, admin, "/admin/users/nobody/groups", groups=["helpdesk"]).status_code == 404
