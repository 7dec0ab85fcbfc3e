"""HTTP details other programs rely on (issue 12): exact Content-Type headers of the
downloads, ``Allow`` on every 405, and a 404 for verifying an instance that does not exist.

The 405 walk reads ``app.url_map`` (like ``test_csrf_every_post.py``), so a route added
later is covered without touching this file.
"""

from __future__ import annotations

import pytest

from engine import audit

METHODS = ("DELETE", "PUT", "PATCH", "POST", "GET")


@pytest.fixture
def people(make_user):
    make_user("root", groups=("helpdesk",), roles=("staff", "auditor", "manager", "admin"))


@pytest.mark.parametrize(("path", "content_type"), [
    ("/audit/export?format=csv", "text/csv; charset=utf-8"),
    ("/audit/export?format=xes", "application/xml; charset=utf-8"),
    ("/audit/export?format=json", "application/json"),
    ("/reports/2023.csv", "text/csv; charset=utf-8"),
    ("/reports/2023/5.csv", "text/csv; charset=utf-8"),
])
def test_downloads_name_their_charset_once(client, auth, db, people, path, content_type):
    with db.tx() as session:
        audit.record(session, "test.event", actor="root", data={"note": "ğüşiöç"})
    auth.login("root")

    response = client.get(path)

    assert response.status_code == 200
    assert response.headers.getlist("Content-Type") == [content_type]


def _not_allowed(app) -> list[tuple[str, str, set[str]]]:
    """``(url, method, allowed)`` for every rule: a method no rule at that URL accepts."""
    adapter = app.url_map.bind("localhost")
    cases = []
    for rule in app.url_map.iter_rules():
        url = adapter.build(rule.endpoint, {name: 1 for name in rule.arguments},
                            method=next(iter(rule.methods - {"HEAD", "OPTIONS"})))
        allowed = set(adapter.allowed_methods(url))
        assert rule.methods <= allowed, rule
        method = next((m for m in METHODS if m not in allowed), None)
        if method is not None:
            cases.append((url, method, allowed))
    return cases


def test_every_405_says_which_methods_are_allowed(app, client, auth, db, people):
    cases = _not_allowed(app)
    assert len(cases) >= len(list(app.url_map.iter_rules())) - 2    # nearly every route is walked
    assert {"/login", "/api/v1/processes", "/api/v1/tasks/1/complete", "/audit/export"} <= {c[0] for c in cases}
    auth.login("root")
    token = auth.csrf("/inbox")     # past the CSRF check, so that the method is what is refused

    for url, method, allowed in cases:
        response = client.open(url, method=method, headers={"X-CSRFToken": token, "Origin": "http://localhost",
                                                            "Referer": "http://localhost/inbox"})
        assert response.status_code == 405, f"{method} {url}: {response.status_code}"
        assert {m.strip() for m in response.headers.get("Allow", "").split(",") if m.strip()} == allowed, \
            f"{method} {url}: Allow {response.headers.get('Allow')!r}, expected {sorted(allowed)}"
        if url.startswith("/api/"):
            assert response.get_json()["error"]["code"] == "method_not_allowed", url


def test_an_api_405_without_a_session_carries_allow_too(client):
    response = client.delete("/api/v1/processes")

    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "OPTIONS"}
    assert response.get_json()["error"]["code"] == "method_not_allowed"


def test_verifying_an_instance_that_does_not_exist_is_not_found(client, auth, db, people):
    with db.tx() as session:
        audit.record(session, "test.event", actor="root", instance_id=7)
    auth.login("root")

    assert 'data-testid="verify-ok"' in client.get("/audit/verify?instance=7").get_data(as_text=True)
    for missing in ("99999999", "99999999999999999999"):
        assert client.get(f"/audit/verify?instance={missing}").status_code == 404


@pytest.mark.parametrize("path", [
    "/api/v1/tasks?group=a%00b",
    "/api/v1/tasks?state=ready&group=%1b[2J",
    "/inbox?group=a%00b",
    "/audit?requester=a%00b",
])
def test_a_query_with_a_control_character_is_refused_naming_the_parameter(client, auth, db, people, path):
    """The text rule of every body (engine.textinput) holds for query strings too: PostgreSQL
    cannot compare text holding NUL, which was a 500 on /api/v1/tasks?group=a%00b."""
    auth.login("root")

    response = client.get(path)

    assert response.status_code == 422
    if path.startswith("/api/"):
        assert list(response.get_json()["error"]["fields"]) == ["group"]
