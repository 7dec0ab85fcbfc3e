"""Every state-changing route of the app refuses a request without a CSRF token.

The routes are read from ``app.url_map``, so a route added later is covered without
touching this file. Each is called anonymously and signed in as an admin (so that no
sign-in redirect or 403 answers first): without the token the answer is 400, and
nothing was written (no audit event, no mail, no rate-limit count).

API routes are the one documented exception when called with a Bearer token or by no
one signed in (:func:`webapp.app._protect`): a browser never sends a token by itself. A
webhook (``/api/v1/hooks/<name>``) needs no token at all: its HMAC signature authenticates it.
A signed-in browser session calling the API needs the token like any form.
"""

from __future__ import annotations

from sqlalchemy import func, select

from engine.models import AuditEvent, MailMessage, RateEvent

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# Routes the walk must find, or it proves nothing (the portal's, staff's and admins').
EXPECTED = {"/login", "/logout", "/lang", "/talep/<key>", "/takip", "/takip/<code>/yanit",
            "/takip/<code>/yeniden-ac", "/takip/<code>/puan", "/tasks/<int:task_id>/claim", "/admin/users"}


def _unsafe_routes(app) -> list[tuple[str, str, str]]:
    """``(rule, method, url)`` of every state-changing route, its arguments filled in."""
    adapter = app.url_map.bind("localhost")
    routes = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) & UNSAFE):
            url = adapter.build(rule.endpoint, {name: 1 for name in rule.arguments}, method=method)
            routes.append((rule.rule, method, url))
    return routes


def _written(db) -> tuple[int, int, int]:
    with db.tx() as session:
        return tuple(session.scalar(select(func.count()).select_from(model))
                     for model in (AuditEvent, MailMessage, RateEvent))


def test_every_state_changing_route_refuses_a_request_without_a_csrf_token(app, client, auth, make_user, db):
    routes = _unsafe_routes(app)
    assert EXPECTED <= {rule for rule, _method, _url in routes}
    make_user("root", groups=("helpdesk", "network"), roles=("staff", "admin"))
    before = _written(db)

    for rule, method, url in routes:
        if not rule.startswith("/api/"):          # the API answers anonymous calls 401 (see above)
            response = client.open(url, method=method, data={"x": "1"})
            assert response.status_code == 400, f"anonymous {method} {rule}: {response.status_code}"

    assert auth.login("root").status_code == 302
    signed_in = _written(db)
    for rule, method, url in routes:
        if rule == "/login":
            continue
        response = client.open(url, method=method, data={"x": "1"})
        if rule == "/api/v1/hooks/<name>":        # the HMAC signature is a webhook's authentication, not
            assert response.status_code == 404    # the session: unsigned, it is refused as no such hook
            continue
        assert response.status_code == 400, f"signed-in {method} {rule}: {response.status_code}"
        if rule.startswith("/api/"):
            assert response.get_json()["error"]["code"] == "csrf", rule

    assert client.get("/inbox").status_code == 200            # still signed in: /logout was refused too
    assert _written(db) == signed_in
    assert signed_in[1:] == before[1:]                         # the sign-in itself wrote only its audit event
