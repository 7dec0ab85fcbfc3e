"""Timers, service calls and mail: written as ``job`` rows, run by the worker exactly once."""

from __future__ import annotations

import email
import email.policy
import os
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from SpiffWorkflow.util.task import TaskState as SpiffState
from sqlalchemy import func, select

from engine import jobs, runtime, services, tasks, users
from engine.errors import ConflictError
from engine.jobs import WorkerSettings
from engine.mail import MailSettings
from engine.models import (
    AuditEvent,
    HumanTask,
    InstanceStatus,
    Job,
    JobState,
    MailMessage,
    ProcessInstance,
    utcnow,
)
from engine.worker import run_due_jobs

JOBS = Path(__file__).resolve().parent.parent / "data" / "jobs"
FAST = WorkerSettings(backoff_seconds=0.01, poll_seconds=0.01)


# -- helpers -------------------------------------------------------------------------------


def _start(db, key: str, data: dict | None = None) -> int:
    with db.tx() as session:
        return runtime.start_instance(session, key, data=data, actor="ayse").id


def _instance(db, instance_id: int) -> ProcessInstance:
    with db.tx() as session:
        return session.get(ProcessInstance, instance_id)


def _jobs(db, instance_id: int, kind: str) -> list[Job]:
    with db.tx() as session:
        return list(session.scalars(
            select(Job).where(Job.instance_id == instance_id, Job.kind == kind).order_by(Job.id)
        ))


def _human_tasks(db, instance_id: int) -> dict[str, str]:
    """BPMN id -> state of every human task row of the instance."""
    with db.tx() as session:
        rows = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id).order_by(HumanTask.id))
        return {row.bpmn_id: row.state for row in rows}


def _data(db, instance_id: int, bpmn_id: str) -> dict:
    """The data of the (latest) task ``bpmn_id`` of the instance, read back from its stored state."""
    with db.tx() as session:
        workflow = runtime.load_instance(session, instance_id).workflow
        found = workflow.get_tasks(spec_name=bpmn_id)
        assert found, f"no task {bpmn_id} in instance {instance_id}"
        return dict(found[-1].data)


def _count_events(db, action: str, instance_id: int | None = None) -> int:
    query = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
    if instance_id is not None:
        query = query.where(AuditEvent.instance_id == instance_id)
    with db.tx() as session:
        return session.scalar(query)


def _sleep_until(when) -> None:
    delay = (when - utcnow()).total_seconds()
    if delay > 0:
        time.sleep(delay + 0.05)


def _complete(db, instance_id: int, bpmn_id: str, username: str = "ayse", data: dict | None = None) -> None:
    with db.tx() as session:
        row = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                     HumanTask.bpmn_id == bpmn_id))
        tasks.complete_task(session, row.id, users.acting_user(session, username), data or {})


def _free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def operators():
    """Test service operators, registered before the fixtures that use them are deployed."""
    calls: list[dict] = []
    state = {"broken": True}

    def test_add(ctx, a, b):
        calls.append({"instance_id": ctx.instance_id, "a": a, "b": b})
        return {"total": a + b, "inputs": [a, b]}

    def test_flaky(ctx, ticket):
        calls.append({"instance_id": ctx.instance_id, "ticket": ticket})
        if state["broken"]:
            raise RuntimeError(f"LDAP sunucusu yanıt vermiyor ({ticket})")
        return {"ticket": ticket, "status": "açıldı"}

    services.register_operator("test_add", test_add)
    services.register_operator("test_flaky", test_flaky)
    return {"calls": calls, "state": state}


@pytest.fixture
def jobs_deployed(db, deploy, make_user, operators):
    make_user("ayse", password=None)
    deploy(JOBS)
    return db


class _Collector:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server():
    """A real SMTP server on 127.0.0.1 that keeps what it receives."""
    handler = _Collector()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller.port, handler.envelopes
    controller.stop()


# -- timers --------------------------------------------------------------------------------


def test_intermediate_timer_waits_then_fires_exactly_once(jobs_deployed):
    db = jobs_deployed
    before = utcnow()
    instance_id = _start(db, "timer_catch", {"wait": "PT1S"})
    after = utcnow()

    instance = _instance(db, instance_id)
    assert instance.status == InstanceStatus.WAITING
    [timer] = _jobs(db, instance_id, "timer")
    assert timer.state == JobState.PENDING
    assert before + timedelta(seconds=1) <= timer.due_at <= after + timedelta(seconds=1)
    assert _human_tasks(db, instance_id) == {}

    assert run_due_jobs(db.factory, FAST) == 0
    assert _jobs(db, instance_id, "timer")[0].state == JobState.PENDING
    assert _count_events(db, "timer.fired", instance_id) == 0

    _sleep_until(timer.due_at)
    assert run_due_jobs(db.factory, FAST) == 1

    [timer] = _jobs(db, instance_id, "timer")
    assert (timer.state, timer.attempts, timer.last_error) == (JobState.DONE, 1, None)
    assert timer.finished_at >= timer.due_at
    assert _instance(db, instance_id).status == InstanceStatus.RUNNING
    assert _human_tasks(db, instance_id) == {"follow_up": "ready"}
    assert _data(db, instance_id, "follow_up")["timer_fired"] is True
    assert _count_events(db, "timer.fired", instance_id) == 1

    assert run_due_jobs(db.factory, FAST) == 0
    assert _count_events(db, "timer.fired", instance_id) == 1
    assert len(_jobs(db, instance_id, "timer")) == 1


def test_interrupting_boundary_timer_cancels_the_user_task(jobs_deployed):
    db = jobs_deployed
    instance_id = _start(db, "boundary_interrupt", {"limit": "PT0.5S"})
    assert _human_tasks(db, instance_id) == {"review": "ready"}
    assert _instance(db, instance_id).status == InstanceStatus.RUNNING
    [timer] = _jobs(db, instance_id, "timer")

    _sleep_until(timer.due_at)
    assert run_due_jobs(db.factory, FAST) == 1

    assert _human_tasks(db, instance_id) == {"review": "cancelled", "escalate": "ready"}
    assert _data(db, instance_id, "escalate")["expired"] is True
    assert _jobs(db, instance_id, "timer")[0].state == JobState.DONE
    with db.tx() as session:
        review = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                        HumanTask.bpmn_id == "review"))
        assert review.completed_by is None
        assert review.completed_at is not None


def test_non_interrupting_boundary_timer_sends_a_reminder_and_keeps_the_task(jobs_deployed):
    db = jobs_deployed
    instance_id = _start(db, "boundary_reminder", {
        "remind_after": "PT0.5S", "team_mail": "bidb-network@example.edu.tr", "subject": "Ağ arızası",
    })
    [timer] = _jobs(db, instance_id, "timer")
    _sleep_until(timer.due_at)

    # timer, then the reminder's service task, then its mail: one pass runs the chain
    assert run_due_jobs(db.factory, FAST) == 3

    assert _human_tasks(db, instance_id) == {"answer": "ready"}
    assert _instance(db, instance_id).status == InstanceStatus.RUNNING
    assert [j.state for j in _jobs(db, instance_id, "timer")] == [JobState.DONE]
    assert [j.state for j in _jobs(db, instance_id, "service")] == [JobState.DONE]
    with db.tx() as session:
        [message] = session.scalars(select(MailMessage).where(MailMessage.instance_id == instance_id))
        assert message.recipients == "bidb-network@example.edu.tr"
        assert message.subject == "Hatırlatma: Ağ arızası"
        assert message.body == "Bu talep yanıt bekliyor: Ağ arızası"
        assert message.state == "outbox"  # no SMTP host configured
    assert _data(db, instance_id, "send_reminder")["reminder_mail"] == {"mail_id": message.id}

    # the reminder fired once; the task is still there to be answered, which ends the instance
    assert run_due_jobs(db.factory, FAST) == 0
    _complete(db, instance_id, "answer")
    assert _instance(db, instance_id).status == InstanceStatus.COMPLETED
    assert _count_events(db, "timer.fired", instance_id) == 1


def test_completing_the_task_first_cancels_the_pending_timer(jobs_deployed):
    db = jobs_deployed
    instance_id = _start(db, "boundary_interrupt", {"limit": "PT1H"})
    [timer] = _jobs(db, instance_id, "timer")
    assert timer.state == JobState.PENDING

    _complete(db, instance_id, "review")

    [timer] = _jobs(db, instance_id, "timer")
    assert timer.state == JobState.CANCELLED
    assert timer.finished_at is not None
    assert _human_tasks(db, instance_id) == {"review": "completed"}
    assert _instance(db, instance_id).status == InstanceStatus.COMPLETED
    with db.tx() as session:
        assert jobs.claim_next(session, now=utcnow() + timedelta(hours=2)) is None


def test_timer_start_event_waits_then_starts_the_work(jobs_deployed):
    db = jobs_deployed
    instance_id = _start(db, "timer_start")

    assert _instance(db, instance_id).status == InstanceStatus.WAITING
    assert _human_tasks(db, instance_id) == {}
    [timer] = _jobs(db, instance_id, "timer")
    assert timer.state == JobState.PENDING
    assert run_due_jobs(db.factory, FAST) == 0

    _sleep_until(timer.due_at)
    assert run_due_jobs(db.factory, FAST) == 1

    assert _jobs(db, instance_id, "timer")[0].state == JobState.DONE
    assert _human_tasks(db, instance_id) == {"check": "ready"}
    assert _data(db, instance_id, "check")["started_by_timer"] is True
    assert _instance(db, instance_id).status == InstanceStatus.RUNNING


def test_timer_due_while_no_worker_ran_fires_once_when_a_worker_comes_back(jobs_deployed, tmp_path):
    db = jobs_deployed
    instance_id = _start(db, "timer_catch", {"wait": "PT0.5S"})
    [timer] = _jobs(db, instance_id, "timer")
    _sleep_until(timer.due_at + timedelta(seconds=0.3))  # well overdue: nobody was running

    env = {k: v for k, v in os.environ.items() if not k.startswith("SMTP_")}
    env.update(DATABASE_URL=db.url, SEK_DATA_DIR=str(tmp_path))
    command = [str(Path(sys.executable).parent / "sek"), "worker", "--once"]

    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "1 job(s) run"
    assert _human_tasks(db, instance_id) == {"follow_up": "ready"}
    assert _jobs(db, instance_id, "timer")[0].state == JobState.DONE
    assert _count_events(db, "timer.fired", instance_id) == 1

    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "0 job(s) run"
    assert _count_events(db, "timer.fired", instance_id) == 1
    assert _human_tasks(db, instance_id) == {"follow_up": "ready"}


# -- service tasks -------------------------------------------------------------------------


def test_service_task_is_queued_then_run_by_the_worker(jobs_deployed, operators):
    db = jobs_deployed
    instance_id = _start(db, "service_add", {"x": 3})

    # nothing ran inline: the task waits in STARTED with a pending job
    assert operators["calls"] == []
    assert _instance(db, instance_id).status == InstanceStatus.WAITING
    assert _data(db, instance_id, "call").get("sum") is None
    [job] = _jobs(db, instance_id, "service")
    assert (job.state, job.payload["operator"], job.due_at <= utcnow()) == (JobState.PENDING, "test_add", True)
    with db.tx() as session:
        workflow = runtime.load_instance(session, instance_id).workflow
        [call] = workflow.get_tasks(spec_name="call")
        assert call.state == SpiffState.STARTED

    assert run_due_jobs(db.factory, FAST) == 1

    assert operators["calls"] == [{"instance_id": instance_id, "a": 2, "b": 3}]
    [job] = _jobs(db, instance_id, "service")
    assert (job.state, job.attempts) == (JobState.DONE, 1)
    assert _data(db, instance_id, "check")["sum"] == {"total": 5, "inputs": [2, 3]}
    assert _human_tasks(db, instance_id) == {"check": "ready"}
    assert _instance(db, instance_id).status == InstanceStatus.RUNNING
    assert _count_events(db, "service.completed", instance_id) == 1
    assert run_due_jobs(db.factory, FAST) == 0
    assert len(operators["calls"]) == 1


def test_failing_service_retries_with_backoff_then_marks_the_instance_error(jobs_deployed, operators):
    db = jobs_deployed
    settings = WorkerSettings(backoff_seconds=0.2)
    instance_id = _start(db, "service_flaky", {"ticket": "T-42"})
    [job] = _jobs(db, instance_id, "service")
    assert job.max_attempts == 3  # <spiffworkflow:retry retries="2"/>

    for attempt in (1, 2):
        _sleep_until(job.due_at)
        ran_at = utcnow()
        assert run_due_jobs(db.factory, settings) == 1
        [job] = _jobs(db, instance_id, "service")
        assert (job.state, job.attempts) == (JobState.PENDING, attempt)
        assert job.last_error == "RuntimeError: LDAP sunucusu yanıt vermiyor (T-42)"
        backoff = timedelta(seconds=0.2 * 2 ** (attempt - 1))
        assert ran_at + backoff <= job.due_at <= utcnow() + backoff
        assert _instance(db, instance_id).status == InstanceStatus.WAITING
        assert run_due_jobs(db.factory, settings) == 0  # not due again yet

    _sleep_until(job.due_at)
    assert run_due_jobs(db.factory, settings) == 1
    [job] = _jobs(db, instance_id, "service")
    assert (job.state, job.attempts) == (JobState.FAILED, 3)
    assert job.finished_at is not None
    instance = _instance(db, instance_id)
    assert instance.status == InstanceStatus.ERROR
    assert "LDAP sunucusu yanıt vermiyor (T-42)" in instance.error_message
    assert "after 3 attempts" in instance.error_message
    with db.tx() as session:
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "job.failed"))
        assert event.instance_id == instance_id
        assert event.data["job_id"] == job.id and event.data["attempts"] == 3
    assert len(operators["calls"]) == 3
    time.sleep(0.5)
    assert run_due_jobs(db.factory, settings) == 0  # a failed job waits for an admin

    operators["state"]["broken"] = False
    with db.tx() as session:
        jobs.retry_job(session, job.id, actor="admin")
    [job] = _jobs(db, instance_id, "service")
    assert (job.state, job.attempts, job.finished_at) == (JobState.PENDING, 0, None)
    assert _instance(db, instance_id).status == InstanceStatus.WAITING
    assert _count_events(db, "job.retried", instance_id) == 1

    assert run_due_jobs(db.factory, settings) == 1
    [job] = _jobs(db, instance_id, "service")
    assert job.state == JobState.DONE
    instance = _instance(db, instance_id)
    assert (instance.status, instance.error_message) == (InstanceStatus.RUNNING, None)
    assert _data(db, instance_id, "check")["outcome"] == {"ticket": "T-42", "status": "açıldı"}
    assert _human_tasks(db, instance_id) == {"check": "ready"}


def test_retry_job_refuses_a_job_that_has_not_failed(jobs_deployed):
    db = jobs_deployed
    instance_id = _start(db, "timer_catch", {"wait": "PT1H"})
    [timer] = _jobs(db, instance_id, "timer")
    with pytest.raises(ConflictError, match="is pending, not failed"), db.tx() as session:
        jobs.retry_job(session, timer.id, actor="admin")
    assert _jobs(db, instance_id, "timer")[0].state == JobState.PENDING


# -- mail ----------------------------------------------------------------------------------

MAIL_DATA = {
    "requester": "ayse.yilmaz@ktu.edu.tr",
    "subject": "Talebiniz alındı: Ağ bağlantısı çalışmıyor",
    "body": "Sayın Ayşe Yılmaz,\nŞifre sıfırlama talebiniz işleme alındı.\nİyi çalışmalar: ığüşöç ĞÜŞİÖÇ",
}


def _queue_notification(db) -> tuple[int, MailMessage]:
    """Start ``notify`` and let the worker run its send_mail service task (not yet the mail)."""
    instance_id = _start(db, "notify", MAIL_DATA)
    assert run_due_jobs(db.factory, FAST, limit=1) == 1
    with db.tx() as session:
        [message] = session.scalars(select(MailMessage).where(MailMessage.instance_id == instance_id))
    [mail_job] = _jobs(db, instance_id, "mail")
    assert (message.state, mail_job.state, mail_job.payload) == ("queued", JobState.PENDING, {"mail_id": message.id})
    assert _data(db, instance_id, "check")["mail"] == {"mail_id": message.id}
    return instance_id, message


def _mail(db, mail_id: int) -> MailMessage:
    with db.tx() as session:
        return session.get(MailMessage, mail_id)


def test_mail_is_delivered_through_smtp(jobs_deployed, smtp_server):
    db = jobs_deployed
    port, received = smtp_server
    instance_id, message = _queue_notification(db)
    assert received == []

    settings = WorkerSettings(mail=MailSettings(host="127.0.0.1", port=port, sender="sek@ktu.edu.tr", timeout=5))
    assert run_due_jobs(db.factory, settings) == 1

    [envelope] = received
    assert envelope.mail_from == "sek@ktu.edu.tr"
    assert envelope.rcpt_tos == ["ayse.yilmaz@ktu.edu.tr"]
    parsed = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
    assert parsed["To"] == "ayse.yilmaz@ktu.edu.tr"
    assert parsed["Subject"] == "Talebiniz alındı: Ağ bağlantısı çalışmıyor"
    assert parsed.get_content().replace("\r\n", "\n").rstrip("\n") == MAIL_DATA["body"]  # CRLF: SMTP's line end
    sent = _mail(db, message.id)
    assert (sent.state, sent.error) == ("sent", None)
    assert sent.sent_at is not None
    assert _jobs(db, instance_id, "mail")[0].state == JobState.DONE
    assert run_due_jobs(db.factory, settings) == 0
    assert len(received) == 1


def test_mail_without_smtp_host_stays_in_the_outbox(jobs_deployed):
    db = jobs_deployed
    instance_id, message = _queue_notification(db)

    assert run_due_jobs(db.factory, WorkerSettings(mail=MailSettings(host=None))) == 1

    kept = _mail(db, message.id)
    assert (kept.state, kept.sent_at, kept.error) == ("outbox", None, None)
    assert (kept.subject, kept.body) == (MAIL_DATA["subject"], MAIL_DATA["body"])
    assert _jobs(db, instance_id, "mail")[0].state == JobState.DONE


def test_mail_with_smtp_down_retries_then_fails_visibly_and_can_be_resent(jobs_deployed, smtp_server):
    db = jobs_deployed
    instance_id, message = _queue_notification(db)
    down = WorkerSettings(mail=MailSettings(host="127.0.0.1", port=_free_port(), timeout=2), backoff_seconds=0.01)

    # One attempt a run (limit=1): with a 10 ms backoff, a loaded machine would otherwise
    # reach the next attempt within the same run.
    assert run_due_jobs(db.factory, down, limit=1) == 1
    [mail_job] = _jobs(db, instance_id, "mail")
    assert (mail_job.state, mail_job.attempts) == (JobState.PENDING, 1)
    assert mail_job.last_error.startswith("ConnectionRefusedError")
    assert _mail(db, message.id).state == "queued"

    runs = 1
    while mail_job.state == JobState.PENDING and runs < 20:
        _sleep_until(mail_job.due_at)
        runs += run_due_jobs(db.factory, down, limit=1)
        [mail_job] = _jobs(db, instance_id, "mail")
    assert (mail_job.state, mail_job.attempts, runs) == (JobState.FAILED, 5, 5)

    failed = _mail(db, message.id)
    assert failed.state == "failed"
    assert failed.error.startswith("ConnectionRefusedError")
    assert (failed.recipients, failed.subject, failed.body) == (
        MAIL_DATA["requester"], MAIL_DATA["subject"], MAIL_DATA["body"])
    with db.tx() as session:
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "job.failed"))
        assert (event.data["kind"], event.data["job_id"]) == ("mail", mail_job.id)
    # DESIGN.md: a job that exhausts its retries marks its instance error, visibly
    broken = _instance(db, instance_id)
    assert broken.status == InstanceStatus.ERROR
    assert f"mail job {mail_job.id} failed after 5 attempts" in broken.error_message

    port, received = smtp_server
    with db.tx() as session:
        jobs.retry_job(session, mail_job.id, actor="admin")
    assert _mail(db, message.id).state == "queued"
    assert _instance(db, instance_id).status == InstanceStatus.RUNNING  # its user task is open
    up = WorkerSettings(mail=MailSettings(host="127.0.0.1", port=port, timeout=5))
    assert run_due_jobs(db.factory, up) == 1
    assert _mail(db, message.id).state == "sent"
    [envelope] = received
    assert envelope.rcpt_tos == [MAIL_DATA["requester"]]
