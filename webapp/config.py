"""Every setting in one table: name, default, environment variable, meaning.

The README points here. Values come from the environment; nothing else reads
``os.environ``.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from engine import clock, links, sandbox_pool, workdays
from engine.attachments import MB, Limits
from engine.db import DbSettings, sqlite_url
from engine.jobs import WorkerSettings
from engine.mail import MailSettings


@dataclass(frozen=True)
class Setting:
    name: str
    default: str | None
    help: str


SETTINGS = (
    Setting("SEK_DATA_DIR", "./data", "folder for the SQLite file, attachments and the generated secret key"),
    Setting("DATABASE_URL", None, "SQLAlchemy URL; default: SQLite file sek.db in SEK_DATA_DIR "
                                  "(postgresql://user@host/db for scale-out)"),
    Setting("SECRET_KEY", None, "signs sessions and links; default: generated once into SEK_DATA_DIR/secret_key"),
    Setting("SMTP_HOST", None, "SMTP server; unset: mail is kept in the outbox for admins"),
    Setting("SMTP_PORT", "25", "SMTP port"),
    Setting("SMTP_USER", None, "SMTP login user"),
    Setting("SMTP_PASSWORD", None, "SMTP login password"),
    Setting("SMTP_STARTTLS", "false", "true: upgrade the SMTP connection with STARTTLS"),
    Setting("MAIL_FROM", "sek@localhost", "sender address of outgoing mail"),
    Setting("SEK_DB_CONNECT_TIMEOUT_SECONDS", "5", "PostgreSQL: how long to wait for a connection before "
                                                   "answering 503 (the worker waits and retries)"),
    Setting("SEK_DB_STATEMENT_TIMEOUT_SECONDS", "60", "PostgreSQL: longest statement; 0: no limit"),
    Setting("SEK_DB_LOCK_TIMEOUT_SECONDS", "10", "PostgreSQL: longest wait for a row or table lock; 0: no limit"),
    Setting("SEK_DB_IDLE_IN_TRANSACTION_SECONDS", "45", "PostgreSQL: a transaction idle this long is ended and "
                                                        "its locks freed (a frozen worker's job goes to another "
                                                        "worker); keep it above the SMTP timeout (30 s); 0: never"),
    Setting("SEK_JOB_BACKOFF_SECONDS", "30", "first retry delay of a failed job; doubles per attempt"),
    Setting("SEK_WORKER_POLL_SECONDS", "1", "how often an idle worker looks for due jobs"),
    Setting("SEK_DIGEST_HOUR", "8", "hour of the day (SEK_TIMEZONE) the daily digest of unclaimed tasks is mailed"),
    Setting("SEK_OVERDUE_CHECK_MINUTES", "15", "how often the worker looks for tasks past their due date"),
    Setting("SEK_HOLIDAYS", None, "extra non-working days, YYYY-MM-DD separated by commas (Turkish public "
                                  "holidays are built in)"),
    Setting("SEK_CLOCK_SHIFT", None, "tests and rehearsals only: move the engine's clock ahead by an ISO "
                                     "duration (P3D) so timers due by then fire; never in production"),
    Setting("SEK_CLOCK_AT", None, "tests only: the engine's clock starts at this moment (ISO 8601 with a UTC "
                                  "offset, 2026-11-02T10:00+03:00), plus SEK_CLOCK_SHIFT; never in production"),
    Setting("SEK_SCRIPT_MEMORY_MB", "256", "memory one BPMN script or expression may use, in MB (scripts that "
                                           "are not provably small run in separate sandbox processes)"),
    Setting("SEK_BASE_URL", "http://127.0.0.1:5000", "the address links in mails start with"),
    Setting("SEK_DEFAULT_LOCALE", "tr", "UI language for people who have not chosen one (tr or en)"),
    Setting("SEK_TIMEZONE", "Europe/Istanbul", "time zone that dates and times are shown in"),
    Setting("SEK_SECURE_COOKIES", "false", "true: session cookies only over HTTPS (set it behind TLS)"),
    Setting("SEK_SESSION_HOURS", "12", "how long a sign-in lasts at most, counted from signing in (signing "
                                       "out ends it at once, on the server)"),
    Setting("SEK_LOGIN_MAX_FAILURES", "5", "failed sign-ins for one username from one address before that "
                                           "address pauses; failures from many addresses only slow sign-ins down"),
    Setting("SEK_LOGIN_WINDOW_MINUTES", "15", "the window failed sign-ins are counted in, and the pause"),
    Setting("SEK_PROXY_HOPS", "0", "reverse proxies in front of the app that set X-Forwarded-For/-Proto/-Host "
                                   "(1 behind one nginx); rate limits then count the client's address and the "
                                   "Origin check sees the client's scheme and host (README: Behind a reverse proxy)"),
    Setting("SEK_UPLOAD_FILE_MB", "10", "largest attachment a requester may send, in MB"),
    Setting("SEK_UPLOAD_REQUEST_MB", "10", "largest total of one submission's attachments, in MB (the web "
                                           "server refuses bodies 2 MB larger)"),
    Setting("SEK_PORTAL_SUBMITS_PER_IP", "10", "portal requests accepted per hour from one address for one "
                                               "e-mail address (a campus behind one NAT shares an address)"),
    Setting("SEK_PORTAL_SUBMITS_PER_EMAIL", "5", "portal requests accepted per hour for one e-mail address"),
    Setting("SEK_TRACK_MAX_FAILURES", "10", "failed tracking look-ups per address before a pause"),
    Setting("SEK_TRACK_WINDOW_MINUTES", "15", "the window failed tracking look-ups are counted in, and the pause"),
)


def truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def load_config(environ=None) -> dict:
    """Read every setting from the environment (or ``environ``), with defaults."""
    environ = os.environ if environ is None else environ
    config = {s.name: environ.get(s.name, s.default) for s in SETTINGS}
    data_dir = Path(config["SEK_DATA_DIR"]).resolve()
    config["SEK_DATA_DIR"] = str(data_dir)
    config["DATABASE_URL"] = config["DATABASE_URL"] or sqlite_url(data_dir)
    return config


def secret_key(config: dict) -> str:
    """The configured secret key, or one generated once and kept in the data folder."""
    if config.get("SECRET_KEY"):
        return config["SECRET_KEY"]
    path = Path(config["SEK_DATA_DIR"]) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def db_settings(config) -> DbSettings:
    """The limits SEK sets on its PostgreSQL sessions (``SEK_DB_*``)."""
    def seconds(name: str) -> float:
        return float(config.get(name) or 0)

    return DbSettings(connect_timeout=seconds("SEK_DB_CONNECT_TIMEOUT_SECONDS"),
                      statement_timeout=seconds("SEK_DB_STATEMENT_TIMEOUT_SECONDS"),
                      lock_timeout=seconds("SEK_DB_LOCK_TIMEOUT_SECONDS"),
                      idle_in_transaction=seconds("SEK_DB_IDLE_IN_TRANSACTION_SECONDS"))


def worker_settings(config: dict) -> WorkerSettings:
    return WorkerSettings(
        mail=MailSettings(
            host=config["SMTP_HOST"] or None,
            port=int(config["SMTP_PORT"]),
            user=config["SMTP_USER"] or None,
            password=config["SMTP_PASSWORD"] or None,
            starttls=truthy(config["SMTP_STARTTLS"]),
            sender=config["MAIL_FROM"],
        ),
        backoff_seconds=float(config["SEK_JOB_BACKOFF_SECONDS"]),
        poll_seconds=float(config["SEK_WORKER_POLL_SECONDS"]),
        digest_hour=int(config["SEK_DIGEST_HOUR"]),
        timezone=config["SEK_TIMEZONE"] or "Europe/Istanbul",
        overdue_minutes=float(config["SEK_OVERDUE_CHECK_MINUTES"]),
    )


def apply_engine_settings(config: dict) -> None:
    """Give the engine the settings it keeps process-wide: holidays, the clock shift, script
    memory, link signing.

    :raises ValueError: a setting has a value the engine cannot use
    """
    workdays.configure(config.get("SEK_HOLIDAYS"))
    clock.configure(config.get("SEK_CLOCK_SHIFT"), config.get("SEK_CLOCK_AT"))
    sandbox_pool.configure(config.get("SEK_SCRIPT_MEMORY_MB"))
    links.configure(secret_key(config), config.get("SEK_BASE_URL") or "http://127.0.0.1:5000")


def upload_limits(config) -> Limits:
    """The attachment limits of a portal submission or a reply (``SEK_UPLOAD_*_MB``)."""
    return Limits(file_bytes=int(float(config.get("SEK_UPLOAD_FILE_MB") or 10) * MB),
                  request_bytes=int(float(config.get("SEK_UPLOAD_REQUEST_MB") or 10) * MB))


def max_content_length(config) -> int:
    """The largest request body the web server reads: the attachments plus room for the form's text."""
    return upload_limits(config).request_bytes + 2 * MB
