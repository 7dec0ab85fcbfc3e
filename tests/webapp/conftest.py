"""Web fixtures: the Flask app on the test database, a client, and sign-in helpers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine import runtime
from webapp import create_app
from webapp.config import load_config
from webapp.extensions import db as flask_db

SUPPORT = Path(__file__).resolve().parents[1] / "data" / "support"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def app(db, tmp_path):
    """The app on the test database (SQLite file or PostgreSQL), with a throw-away data folder."""
    config = load_config({"SEK_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": db.url,
                          "SECRET_KEY": "test-secret"})
    app = create_app(config)
    app.config["TESTING"] = True
    yield app
    with app.app_context():
        flask_db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


class Auth:
    """Signs a test client in and out through the real sign-in form."""

    def __init__(self, client):
        self.client = client

    def csrf(self, path: str = "/login") -> str:
        match = CSRF.search(self.client.get(path).get_data(as_text=True))
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def login(self, username: str, password: str = "parola123"):
        return self.client.post("/login", data={
            "username": username, "password": password, "csrf_token": self.csrf("/login"),
        })

    def logout(self):
        return self.client.post("/logout", data={"csrf_token": self.csrf("/inbox")})


@pytest.fixture
def auth(client):
    return Auth(client)


@pytest.fixture
def support_request(db, deploy):
    """Deploy ``support_ticket`` (a frozen copy of the first help-desk process: triage, then
    the team answers) and start requests; returns a function giving the instance id."""
    deploy(SUPPORT)

    def start(subject="VPN bağlanmıyor", **data):
        with db.tx() as session:
            return runtime.start_instance(session, "support_ticket", data={"subject": subject, **data},
                                          actor="portal").id

    return start
