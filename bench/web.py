"""The HTTP bench: the real app behind a real WSGI server, driven over keep-alive HTTP.

The server runs in its own process (the client must not share its interpreter lock)
on 127.0.0.1 and a free port; the client signs in through the real ``/login`` form and
then times sequential requests, checking every answer so a broken page cannot look fast.
"""

from __future__ import annotations

import http.client
import logging
import multiprocessing
import re
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from engine import definitions, migrate, runtime, services, tasks, users, validation
from engine.db import make_engine, make_session_factory, transaction

DATA = Path(__file__).parent / "data"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "bench-parola"
INBOX = "/inbox?section=group"


def app_config(folder: Path) -> dict:
    """Every setting of ``webapp.config``, for a throw-away data folder, mail kept in the outbox."""
    data = folder / "data"
    return {
        "SEK_DATA_DIR": str(data), "DATABASE_URL": f"sqlite:///{data / 'sek.db'}",
        "SECRET_KEY": "bench-secret", "SMTP_HOST": None, "SMTP_PORT": "25", "SMTP_USER": None,
        "SMTP_PASSWORD": None, "SMTP_STARTTLS": "false", "MAIL_FROM": "sek@localhost",
        "SEK_JOB_BACKOFF_SECONDS": "30", "SEK_WORKER_POLL_SECONDS": "1", "SEK_DEFAULT_LOCALE": "tr",
        "SEK_TIMEZONE": "Europe/Istanbul", "SEK_SECURE_COOKIES": "false", "SEK_SESSION_HOURS": "12",
        "SEK_LOGIN_MAX_FAILURES": "5", "SEK_LOGIN_WINDOW_MINUTES": "15",
    }


def seed(config: dict, open_tasks: int) -> None:
    """Demo-like data: a few groups, staff in them, ``open_tasks`` unclaimed helpdesk tasks
    (support requests with due dates, and some due-less bench tasks), a few claimed ones."""
    engine = make_engine(config["DATABASE_URL"])
    migrate.upgrade(engine)
    factory = make_session_factory(engine)
    files = validation.load_paths([str(DATA / "support_ticket.bpmn"), str(DATA / "support_ticket.triage.schema.json"),
                                   str(DATA / "support_ticket.answer.schema.json"), str(DATA / "three_tasks.bpmn")])
    with transaction(factory) as session:
        definitions.deploy(session, files, known_operators=services.operator_names())
        users.add_user(session, "ayse", groups=["helpdesk"], password=PASSWORD)
        for name, group in (("mehmet", "network"), ("zeynep", "systems"), ("ali", "software")):
            users.add_user(session, name, groups=[group], password=PASSWORD)
    claimed = 5
    for n in range(open_tasks + claimed):
        with transaction(factory) as session:
            if n % 5 == 4:
                runtime.start_instance(session, "bench_three", actor="bench")
            else:
                runtime.start_instance(session, "support_ticket", actor="portal",
                                       data={"subject": f"VPN bağlanmıyor #{n}"})
    with transaction(factory) as session:
        ayse = users.get_user(session, "ayse")
        for task in tasks.list_tasks(session, group="helpdesk", state="open", limit=claimed):
            tasks.claim_task(session, task.id, ayse)
    engine.dispose()


def _serve(config: dict, ready) -> None:
    """The child process: build the app, serve it threaded on a free port, report the port."""
    from werkzeug.serving import make_server

    from webapp import create_app

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    server = make_server("127.0.0.1", 0, create_app(config), threaded=True)
    ready.put(server.server_port)
    server.serve_forever()


class Client:
    """One keep-alive connection with a cookie jar, as a browser tab would hold."""

    def __init__(self, port: int):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        text = response.read().decode()
        for header in response.headers.get_all("Set-Cookie") or ():
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response.status, text

    def sign_in(self, username: str, password: str) -> None:
        status, page = self.request("GET", "/login")
        match = CSRF.search(page)
        assert status == 200 and match, f"no sign-in form ({status})"
        status, _ = self.request("POST", "/login", {
            "username": username, "password": password, "csrf_token": match.group(1)})
        assert status == 302, f"sign-in refused ({status})"

    def close(self) -> None:
        self.connection.close()


def _healthy(status: int, body: str) -> bool:
    return status == 200 and '"ok"' in body


def _full_inbox(status: int, body: str) -> bool:
    return status == 200 and 'data-testid="task-list"' in body and body.count("data-task-id=") == 25


def _rate(client: Client, path: str, check, count: int, deadline: float) -> tuple[int, float]:
    """Sequential GETs of ``path`` (at most ``count``, stopping at ``deadline``): (done, seconds)."""
    begin = time.perf_counter()
    done = 0
    while done < count and time.perf_counter() < deadline:
        status, body = client.request("GET", path)
        assert check(status, body), f"GET {path} answered {status}: {body[:200]!r}"
        done += 1
    return done, time.perf_counter() - begin


def bench_http(folder: Path, open_tasks: int, requests: int, seconds: float) -> tuple[float, float]:
    """Requests/s of ``/healthz`` and of the group inbox page, same server, same connection.

    The two are interleaved in rounds so both see the same machine; each side gets at
    most ``requests`` requests and ``seconds`` seconds.
    """
    config = app_config(folder)
    seed(config, open_tasks)
    context = multiprocessing.get_context("spawn")
    ready = context.Queue()
    server = context.Process(target=_serve, args=(config, ready), daemon=True)
    server.start()
    try:
        client = Client(ready.get(timeout=60))
        client.sign_in("ayse", PASSWORD)
        for path, check in (("/healthz", _healthy), (INBOX, _full_inbox)):
            _rate(client, path, check, 20, time.perf_counter() + seconds)  # warm up
        totals = {"/healthz": [0, 0.0], INBOX: [0, 0.0]}
        rounds = 5
        for _ in range(rounds):
            for path, check in (("/healthz", _healthy), (INBOX, _full_inbox)):
                done, spent = _rate(client, path, check, requests // rounds,
                                    time.perf_counter() + seconds / rounds)
                totals[path][0] += done
                totals[path][1] += spent
        client.close()
    finally:
        server.terminate()
        server.join(10)
    return tuple(done / spent for done, spent in totals.values())
