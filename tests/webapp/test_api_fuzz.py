"""The JSON API against its own OpenAPI document, and one test for each defect fuzzing found."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine import users
from engine.models import AuditEvent

# --- what the fuzzer found, each kept fixed -------------------------------------------------------

# Past the id columns: PostgreSQL said "integer out of range" from 2**31 on, SQLite's driver
# overflowed past 2**63; both were a 500.
TOO_BIG = "99999999999999999999"


def _token(db, username: str) -> dict:
    with db.tx() as session:
        return {"Authorization": f"Bearer {users.create_token(session, username)}"}


def _events(db) -> int:
    with db.tx() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent))


@pytest.mark.parametrize(("method", "path"), [
    ("get", f"/api/v1/instances/{TOO_BIG}"), ("get", f"/api/v1/instances/{TOO_BIG}/events"),
    ("post", f"/api/v1/tasks/{TOO_BIG}/claim"), ("post", f"/api/v1/tasks/{TOO_BIG}/unclaim"),
    ("post", f"/api/v1/tasks/{TOO_BIG}/complete"), ("post", f"/api/v1/tasks/{2**31}/claim"),
])
def test_an_id_too_big_for_the_database_is_not_found(client, db, make_user, method, path):
    make_user("ayse", roles=("staff", "admin"))
    headers = _token(db, "ayse")
    before = _events(db)
    response = getattr(client, method)(path, headers=headers, json={"data": {}})
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    assert _events(db) == before


def test_a_staff_page_with_an_id_too_big_is_not_found(client, auth, make_user):
    make_user("ayse")
    auth.login("ayse")
    assert client.get(f"/tasks/{TOO_BIG}").status_code == 404
    assert client.get(f"/instances/{TOO_BIG}").status_code == 404
    assert client.get(f"/tasks/{2**31 - 1}").status_code == 404
