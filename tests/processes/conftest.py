"""What every process test shares: the database with the looks a test takes at an
instance (status, tasks, mails, audit trail, timers), a pinned clock to move, and a real
``sek worker --once`` run at a moment of that clock.

Every process test runs on a pinned clock: by default Monday 2 November 2026, 10:00 in
Istanbul (:data:`MONDAY`), so that working days, weekends and holidays fall the same
whatever day the suite runs. A test of working-day timers takes ``every_start`` instead
and runs once for each day of that week, on the eve of Kurban Bayramı and on its first day
(on PostgreSQL from Monday only: see :func:`pytest_collection_modifyitems`).

The helpers are fixtures (or methods of the ``db`` fixture), never imported from here.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine import clock, directory, links, requester_status, runtime, tasks, users
from engine.errors import ValidationError
from engine.jobs import WorkerSettings
from engine.models import AuditEvent, HumanTask, Job, MailMessage, ProcessInstance
from engine.workdays import ZONE
from engine.worker import run_due_jobs

LINK_SECRET = "process-test-secret"
FAST = WorkerSettings(backoff_seconds=0.01, poll_seconds=0.01)
SEK = Path(sys.executable).parent / "sek"
# The reply links the tests' processes mail, with links.configure(..., "http://sek.test").
REPLY_LINK = re.compile(r"http://sek\.test/yanit/(\S+)")
# The week the clock is pinned in: no holiday from 30 October to 8 December 2026.
MONDAY = datetime(2026, 11, 2, 10, 0, tzinfo=ZONE)
STARTS = {day: MONDAY + timedelta(days=offset)
          for offset, day in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))}
# Arife of Kurban Bayramı 2026 (Tuesday): Wednesday to Saturday are holidays, the next
# working day is Monday 1 June. And the bayram's first day itself.
STARTS["bayram-eve"] = datetime(2026, 5, 26, 10, 0, tzinfo=ZONE)
STARTS["bayram"] = datetime(2026, 5, 27, 10, 0, tzinfo=ZONE)


@pytest.fixture(autouse=True)
def _tracking_links():
    """Requester mails carry a tracking link signed with the application's secret; tests
    that run a worker subprocess configure the secret they give it themselves."""
    links.configure(LINK_SECRET, "http://sek.test")


class ProcessDatabase:
    """The test database of ``tests/conftest.py`` and what a process test reads from it.

    :param db: the ``Database`` being wrapped; its ``url``, ``factory`` and ``tx()`` stay as they are.
    """

    def __init__(self, db):
        self._db = db

    def __getattr__(self, name):
        return getattr(self._db, name)

    def tx(self):
        return self._db.tx()

    def work(self) -> int:
        """Run the jobs that are due, as the worker would; the number run."""
        return run_due_jobs(self.factory, FAST)

    def start(self, key: str, data: dict, *, actor: str = "portal") -> int:
        """Start ``key`` as ``actor`` (the portal), then run the worker; the new instance's id."""
        with self.tx() as session:
            instance_id = runtime.start_instance(session, key, data=data, actor=actor).id
        self.work()
        return instance_id

    def refused_start(self, key: str, data: dict) -> list[str]:
        """The fields the engine names when it refuses to start ``key`` with ``data`` (as
        every door does: the data does not fit the start schema); nothing was stored."""
        with self.tx() as session:
            before = session.scalar(select(func.count()).select_from(ProcessInstance))
        with self.tx() as session, pytest.raises(ValidationError) as caught:
            runtime.start_instance(session, key, data=data, actor="portal")
        with self.tx() as session:
            assert session.scalar(select(func.count()).select_from(ProcessInstance)) == before
        return sorted({problem.location for problem in caught.value.problems})

    def instance(self, instance_id: int) -> ProcessInstance:
        with self.tx() as session:
            return session.get(ProcessInstance, instance_id)

    def status(self, instance_id: int) -> str:
        return self.instance(instance_id).status

    def human_tasks(self, instance_id: int) -> list[tuple[str, str, str]]:
        """Every human task of the instance, oldest first, as ``(bpmn_id, group, state)``."""
        with self.tx() as session:
            rows = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id)
                                   .order_by(HumanTask.id))
            return [(row.bpmn_id, row.group_name, row.state) for row in rows]

    def task(self, instance_id: int, bpmn_id: str) -> HumanTask:
        with self.tx() as session:
            return session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                          HumanTask.bpmn_id == bpmn_id))

    def complete(self, instance_id: int, bpmn_id: str, username: str, data: dict, *,
                 claim: bool = True, work: bool = True) -> None:
        """Complete the open task ``bpmn_id`` as ``username`` (claimed first), then run the worker."""
        with self.tx() as session:
            row = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                         HumanTask.bpmn_id == bpmn_id,
                                                         HumanTask.state.in_(("ready", "claimed"))))
            assert row is not None, f"no open {bpmn_id} in instance {instance_id}"
            user = users.acting_user(session, username)
            if claim:
                tasks.claim_task(session, row.id, user)
            tasks.complete_task(session, row.id, user, data)
        if work:
            self.work()

    def refused_fields(self, instance_id: int, bpmn_id: str, username: str, data: dict) -> list[str]:
        """The fields the engine names when it refuses to complete ``bpmn_id`` with ``data``."""
        with self.tx() as session, pytest.raises(ValidationError) as caught:
            row = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                         HumanTask.bpmn_id == bpmn_id))
            tasks.complete_task(session, row.id, users.acting_user(session, username), data)
        return [problem.location for problem in caught.value.problems]

    def mails(self, instance_id: int) -> list[MailMessage]:
        with self.tx() as session:
            return list(session.scalars(select(MailMessage).where(MailMessage.instance_id == instance_id)
                                        .order_by(MailMessage.id)))

    def mail_headers(self, instance_id: int) -> list[tuple[str, str]]:
        """The instance's mails, oldest first, as ``(recipients, subject)``."""
        return [(mail.recipients, mail.subject) for mail in self.mails(instance_id)]

    def mail_bodies(self, instance_id: int) -> list[str]:
        return [mail.body for mail in self.mails(instance_id)]

    def requester_subject(self, instance_id: int, mail: MailMessage, template: str, language: str = "tr", *,
                          to: str) -> str:
        """Check that ``mail`` is the requester's ``template`` mail in ``language``, with the
        request's tracking code (subject and body) and the link to its tracking page; its
        subject without the code."""
        code = self.instance(instance_id).tracking_code
        assert (mail.recipients, mail.template, mail.language) == (to, template, language)
        assert mail.subject.startswith(f"[{code}] "), mail.subject
        footer = "Takip kodunuz" if language == "tr" else "Your tracking code"
        assert f"{footer}: {code}" in mail.body and links.tracking_url(code, to) in mail.body
        return mail.subject.removeprefix(f"[{code}] ")

    def requester_statuses(self, instance_id: int) -> list[str]:
        """What the requester's tracking page has said of the request, oldest first."""
        with self.tx() as session:
            return [row.text for row in requester_status.history(session, instance_id)]

    def reply_token(self, instance_id: int) -> str:
        """The token of the newest reply link mailed by the instance."""
        bodies = reversed(self.mail_bodies(instance_id))
        return next(REPLY_LINK.search(b).group(1) for b in bodies if REPLY_LINK.search(b))

    def actions(self, instance_id: int) -> list[str]:
        """The instance's audit trail, oldest first."""
        with self.tx() as session:
            return list(session.scalars(select(AuditEvent.action).where(AuditEvent.instance_id == instance_id)
                                        .order_by(AuditEvent.id)))

    def timer_dues(self, instance_id: int) -> list[datetime]:
        """When the instance's pending timers are due, soonest first."""
        with self.tx() as session:
            return list(session.scalars(select(Job.due_at).where(Job.instance_id == instance_id,
                                                                 Job.kind == "timer", Job.state == "pending")
                                        .order_by(Job.due_at)))

    def timer_due(self, instance_id: int, expected: datetime) -> datetime:
        """The instance's pending timer due at ``expected`` (to the minute); it must exist."""
        dues = self.timer_dues(instance_id)
        near = [due for due in dues if abs(due - expected) < timedelta(minutes=1)]
        assert near, f"no timer due at {expected.astimezone(ZONE)}; pending: {[d.astimezone(ZONE) for d in dues]}"
        return near[0]

    def work_at(self, moment: datetime) -> int:
        """Pin the engine's clock at ``moment`` and run the jobs due by then; the number run."""
        clock.pin(moment)
        return self.work()


# The group directory the process tests' mails go through (BPMN names group:<slug> and
# lead:<slug>, never an address): each group's own address; no lead unless a test names one.
GROUP_ADDRESSES = {slug: f"{slug}@bidb.example.edu.tr"
                   for slug in ("helpdesk", "network", "systems", "software", "callcenter", "management",
                                "general", "workshop")}


@pytest.fixture
def group_directory(db) -> dict[str, str]:
    """The groups BPMN mails name, each with its address (:data:`GROUP_ADDRESSES`)."""
    with db.tx() as session:
        for slug, email in GROUP_ADDRESSES.items():
            users.ensure_group(session, slug)
            directory.set_contact(session, slug, email, None, actor="test")
    return GROUP_ADDRESSES


@pytest.fixture
def group_lead(db, group_directory):
    """``group_lead(slug, username, email)`` adds ``username`` (no notices of its own) to the
    group of the directory and makes it the group's lead: ``lead:<slug>`` mails reach ``email``."""
    def make(slug: str, username: str, email: str) -> str:
        with db.tx() as session:
            lead = users.add_user(session, username, groups=(slug,), email=email)
            lead.notify_mode = "off"
            directory.set_contact(session, slug, group_directory[slug], username, actor="test")
        return email
    return make


@pytest.fixture
def db(db) -> ProcessDatabase:
    """The test database (on every backend of ``tests/conftest.py``) as a ``ProcessDatabase``."""
    return ProcessDatabase(db)


@pytest.fixture(autouse=True)
def _pinned_clock(pinned_clock):
    """Pin the engine's clock at :data:`MONDAY` for the test; real time again afterwards."""
    pinned_clock(MONDAY)


@pytest.fixture
def clock_at():
    """``clock_at(when)`` pins the engine's clock so that its "now" is ``when`` (earlier too)."""
    return clock.pin


def pytest_collection_modifyitems(config, items):
    """Working-day arithmetic is the engine's own Python, the same on every database:
    a timer test runs from every start on SQLite and from Monday on PostgreSQL (which
    checks the timer's storage), not nine times on each."""
    keep, drop = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if params.get("db") == "postgresql" and params.get("every_start", "monday") != "monday":
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(params=list(STARTS))
def every_start(request) -> datetime:
    """The test runs once for each day of the week, on a holiday's eve and on the holiday,
    the clock pinned there (10:00 in Istanbul); the moment is returned."""
    clock.pin(STARTS[request.param])
    return STARTS[request.param]


def _iso_duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    return f"P{seconds // 86400}DT{seconds % 86400 // 3600}H{seconds % 3600 // 60}M{seconds % 60}S"


@pytest.fixture
def sek_worker(db, tmp_path):
    """``sek_worker(shift, **env)`` runs a real ``sek worker --once`` on the test database.

    The worker's clock is the test's (pinned) clock moved on by ``shift`` (a ``timedelta``
    or an ISO 8601 duration), given through SEK_CLOCK_AT and SEK_CLOCK_SHIFT; ``env`` adds
    settings (SECRET_KEY, SEK_BASE_URL); no SMTP server is configured. The run must
    succeed; its ``CompletedProcess`` is returned.
    """
    base = {k: v for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "SEK_DATA_DIR", "SEK_CLOCK_SHIFT", "SEK_CLOCK_AT")
            and not k.startswith("SMTP_")}
    base.update(SEK_DATA_DIR=str(tmp_path), DATABASE_URL=db.url, PYTHONUTF8="1")

    def run(shift: timedelta | str, **env: str) -> subprocess.CompletedProcess:
        text = shift if isinstance(shift, str) else _iso_duration(shift)
        moment = {"SEK_CLOCK_AT": clock.now().isoformat(), "SEK_CLOCK_SHIFT": text}
        proc = subprocess.run([str(SEK), "worker", "--once"], env={**base, **env, **moment},
                              capture_output=True, encoding="utf-8", timeout=120)
        assert proc.returncode == 0, proc.stderr
        return proc
    return run
