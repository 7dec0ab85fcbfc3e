"""A script over its time or memory limit, met through the web: a clear 422 (JSON or page),
never a 500 with a traceback; nothing is saved and the server goes on serving."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import func, select

from engine import users
from engine.models import HumanTask, ProcessInstance

LIMITS = Path(__file__).resolve().parents[1] / "data" / "sandbox" / "script_limits.bpmn"
FINE = {"size": 3, "digits": 2, "recheck_size": 4, "wait": "PT0S"}


def _token(db, username: str) -> dict:
    with db.tx() as session:
        return {"Authorization": f"Bearer {users.create_token(session, username)}"}


def _review_task(db) -> HumanTask:
    with db.tx() as session:
        return session.scalar(select(HumanTask).where(HumanTask.bpmn_id == "review"))


def test_api_start_and_complete_over_the_limits_are_422_with_the_reason(client, make_user, db, deploy):
    make_user("ayse", groups=("helpdesk",))
    deploy(LIMITS)
    headers = _token(db, "ayse")
    began = time.monotonic()

    slow = client.post("/api/v1/processes/script_limits/instances", headers=headers,
                       json={"data": {**FINE, "digits": 10**8}})

    assert time.monotonic() - began < 8
    assert slow.status_code == 422
    error = slow.get_json()["error"]
    assert error["code"] == "process_error"
    assert "measure" in error["message"] and "script stopped: ran longer than 2 seconds" in error["message"]
    with db.tx() as session:
        assert session.scalar(select(func.count()).select_from(ProcessInstance)) == 0

    started = client.post("/api/v1/processes/script_limits/instances", headers=headers,
                          json={"data": {**FINE, "recheck_size": 10**9}})
    assert started.status_code == 201
    task = _review_task(db)
    big = client.post(f"/api/v1/tasks/{task.id}/complete", headers=headers, json={"data": {}})
    assert big.status_code == 422
    assert "recheck" in big.get_json()["error"]["message"]
    assert "script stopped: used more than 256 MB" in big.get_json()["error"]["message"]
    assert _review_task(db).state == "ready"

    done = client.post(f"/api/v1/tasks/{task.id}/complete", headers=headers, json={"data": {"recheck_size": 5}})
    assert done.status_code == 200
    with db.tx() as session:
        assert session.get(ProcessInstance, started.get_json()["id"]).status == "completed"


def test_the_task_page_says_why_nothing_was_saved(client, auth, make_user, db, deploy):
    make_user("ayse", groups=("helpdesk",))
    deploy(LIMITS)
    headers = _token(db, "ayse")
    assert client.post("/api/v1/processes/script_limits/instances", headers=headers,
                       json={"data": {**FINE, "recheck_size": 10**9}}).status_code == 201
    task = _review_task(db)
    auth.login("ayse")

    response = client.post(f"/tasks/{task.id}/complete", data={"csrf_token": auth.csrf(f"/tasks/{task.id}")})

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "hiçbir şey kaydedilmedi" in html and "script stopped: used more than 256 MB" in html
    assert _review_task(db).state == "ready"
    assert client.get("/inbox").status_code == 200
