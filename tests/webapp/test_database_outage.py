"""A database outage: liveness stays up, readiness and every request say 503 with Retry-After,
the log says it once when it starts and once when it ends, and everything works again after."""

from __future__ import annotations

import logging
import os
import re
import shutil
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select, text

from engine import migrate, runtime, users
from engine.db import make_engine
from engine.models import HumanTask
from webapp import create_app
from webapp.config import load_config
from webapp.extensions import db as flask_db

REQUESTS = 40
JOBS = Path(__file__).resolve().parents[1] / "data" / "jobs"


def _app(url: str, data_dir, **settings):
    config = load_config({"SEK_DATA_DIR": str(data_dir), "DATABASE_URL": url, "SECRET_KEY": "test-secret",
                          "SEK_DB_CONNECT_TIMEOUT_SECONDS": "2", **settings})
    app = create_app(config)
    app.config["TESTING"] = True
    return app


def _sign_in(client, username: str, password: str = "parola123"):
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def _outage_records(caplog) -> tuple[list, list, list]:
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    down = [r for r in records if "database unavailable" in r.getMessage()]
    back = [r for r in records if "database reachable again" in r.getMessage()]
    others = [r for r in records if r not in down and r not in back]
    return down, back, others


@pytest.mark.postgres
def test_postgres_outage_answers_503_with_retry_after_and_logs_once(pg_outage, tmp_path, caplog):
    with pg_outage.database.tx() as session:
        users.add_user(session, "ayse", groups=("helpdesk",), password="parola123")
        token = users.create_token(session, "ayse")
    app = _app(pg_outage.url, tmp_path / "data")
    staff, api = app.test_client(), app.test_client()
    bearer = {"Authorization": f"Bearer {token}"}
    assert _sign_in(staff, "ayse").status_code == 302
    assert staff.get("/inbox").status_code == 200
    assert api.get("/api/v1/tasks", headers=bearer).status_code == 200
    assert staff.get("/readyz").get_json() == {"status": "ready"}
    caplog.clear()
    caplog.set_level(logging.INFO)

    pg_outage.down()
    answers = []
    for i in range(REQUESTS):
        path, client, headers = [("/inbox", staff, {}), ("/", app.test_client(), {}),
                                 ("/api/v1/tasks", api, bearer)][i % 3]
        answers.append((path, client.get(path, headers=headers)))
    liveness = staff.get("/healthz")
    readiness = staff.get("/readyz")

    # what a person, a program and a load balancer see
    for path, response in answers:
        assert response.status_code == 503, (path, response.status_code)
        assert response.headers["Retry-After"] == "30"
    page = answers[0][1].get_data(as_text=True)
    assert "Geçici olarak hizmet dışı" in page and "veritabanına ulaşamıyor" in page
    assert "Traceback" not in page
    assert answers[2][1].get_json()["error"]["code"] == "unavailable"
    assert (liveness.status_code, liveness.get_json()) == (200, {"status": "ok"})
    assert readiness.status_code == 503 and readiness.headers["Retry-After"] == "30"
    assert readiness.get_json()["status"] == "unavailable"
    # what the operator reads: one line for the whole incident, no traceback per request
    down, back, others = _outage_records(caplog)
    assert len(down) == 1 and down[0].exc_info is None, [r.getMessage() for r in down]
    assert back == [] and others == [], [r.getMessage() for r in others]

    pg_outage.up()
    assert staff.get("/readyz").get_json() == {"status": "ready"}
    assert staff.get("/inbox").status_code == 200   # still signed in: the session outlived the outage
    assert api.get("/api/v1/tasks", headers=bearer).status_code == 200
    down, back, others = _outage_records(caplog)
    assert (len(down), len(back), others) == (1, 1, [])
    assert f"{REQUESTS + 1} attempt(s) refused" in back[0].getMessage()
    with app.app_context():
        flask_db.engine.dispose()


def test_sqlite_data_folder_gone_answers_503_and_readiness_recovers(tmp_path, sqlite_template, caplog):
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(sqlite_template, data / "sek.db")
    app = _app(f"sqlite:///{data / 'sek.db'}", tmp_path / "app")
    client = app.test_client()
    assert client.get("/").status_code == 200
    assert client.get("/readyz").status_code == 200
    caplog.set_level(logging.INFO)

    # the data volume is unmounted: the folder is gone (a file stands in its way)
    os.rename(data, tmp_path / "away")
    data.write_text("not a folder")
    with app.app_context():
        flask_db.engine.dispose()   # open SQLite files would outlive it; new connections do not
    answers = [client.get("/") for _ in range(10)]
    readiness = client.get("/readyz")
    assert {r.status_code for r in answers} == {503}
    assert all(r.headers["Retry-After"] == "30" for r in answers)
    assert readiness.status_code == 503 and "database unavailable" in readiness.get_json()["problem"]
    assert client.get("/healthz").status_code == 200

    data.unlink()
    os.rename(tmp_path / "away", data)
    assert client.get("/readyz").status_code == 200
    assert client.get("/").status_code == 200
    down, back, others = _outage_records(caplog)
    assert (len(down), len(back), others) == (1, 1, [])
    with app.app_context():
        flask_db.engine.dispose()


def test_readiness_refuses_a_schema_behind_the_code(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine, "0004")
    engine.dispose()
    client = _app(url, tmp_path / "data").test_client()

    answer = client.get("/readyz")

    assert answer.status_code == 503
    assert "run `sek db upgrade`" in answer.get_json()["problem"]
    assert client.get("/healthz").status_code == 200


@pytest.mark.postgres
def test_a_request_waiting_too_long_for_a_lock_answers_503_not_a_hang(db, deploy, make_user, tmp_path, caplog):
    """Something holds the instance's row lock (a frozen process): claiming its task waits
    SEK_DB_LOCK_TIMEOUT_SECONDS, then says "busy, try again" instead of hanging; no outage."""
    if db.dialect != "postgresql":
        pytest.skip("lock_timeout is set on PostgreSQL sessions")
    make_user("ayse", password=None)
    deploy(JOBS / "boundary_interrupt.bpmn")
    with db.tx() as session:
        instance_id = runtime.start_instance(session, "boundary_interrupt", data={"limit": "PT1H"}).id
        task_id = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance_id))
        token = users.create_token(session, "ayse")
    app = _app(db.url, tmp_path / "data", SEK_DB_LOCK_TIMEOUT_SECONDS="1")
    client = app.test_client()
    caplog.set_level(logging.INFO)

    answers = []
    claim = threading.Thread(target=lambda: answers.append(
        client.post(f"/api/v1/tasks/{task_id}/claim", headers={"Authorization": f"Bearer {token}"})))
    with db.engine.connect() as holder:
        holder.execute(text("SELECT id FROM process_instance WHERE id = :id FOR UPDATE"), {"id": instance_id})
        started = time.monotonic()
        claim.start()
        claim.join(15)
        waited = time.monotonic() - started
        holder.rollback()   # without a lock timeout the claim waits until here
    claim.join(15)

    [answer] = answers
    assert waited < 10, waited

    assert answer.status_code == 503 and answer.headers["Retry-After"] == "30"
    assert answer.get_json()["error"]["code"] == "unavailable"
    busy = [r for r in caplog.records if "database busy" in r.getMessage()]
    assert len(busy) == 1 and busy[0].exc_info is None
    assert not [r for r in caplog.records if "database unavailable" in r.getMessage()]
    with db.tx() as session:
        assert session.get(HumanTask, task_id).assignee is None
    claimed = client.post(f"/api/v1/tasks/{task_id}/claim", headers={"Authorization": f"Bearer {token}"})
    assert (claimed.status_code, claimed.get_json()["assignee"]) == (200, "ayse")
    with app.app_context():
        flask_db.engine.dispose()
