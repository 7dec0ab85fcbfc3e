"""A worker frozen in the middle of a job (``kill -STOP``) does not keep it: PostgreSQL ends its
idle transaction, another worker runs the job, and the frozen one, woken up, changes nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine import audit, runtime, services
from engine.models import AuditEvent, Job, JobState, MailMessage
from tests.polling import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

SLOW = Path(__file__).resolve().parent.parent / "data" / "slow_service"
IDLE_SECONDS = 3        # SEK_DB_IDLE_IN_TRANSACTION_SECONDS of the workers
OPERATOR_SECONDS = 1.5  # how long the operator works, inside the job's transaction

# A `sek worker` with one more service operator: it notes that it started, works a while, then
# queues a mail in the job's transaction (the effect that must happen once).
WORKER = '''
import os, sys, time
from engine import mail, services

def test_slow(ctx, seconds):
    with open(os.environ["SEK_TEST_MARKS"], "a") as marks:
        marks.write(f"{os.getpid()} started\\n")
    time.sleep(seconds)
    message = mail.queue_mail(ctx.session, "ag@example.edu.tr", "Servis bitti", f"{os.getpid()} bitirdi",
                              instance_id=ctx.instance_id)
    return {"by": os.getpid(), "mail_id": message.id}

services.register_operator("test_slow", test_slow)
from webapp.cli import main
sys.exit(main(["worker"]))
'''


@pytest.fixture
def pg(db):
    if db.dialect != "postgresql":
        pytest.skip("row locks and session timeouts are PostgreSQL's (TEST_DATABASE_URL)")
    return db


@pytest.fixture
def workers(pg, tmp_path):
    """Starts `sek worker` processes (with the test operator) on the test database; stops them after."""
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    marks = tmp_path / "marks"
    marks.touch()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMTP_")}
    env.update(DATABASE_URL=pg.url, SEK_DATA_DIR=str(tmp_path / "data"), SEK_TEST_MARKS=str(marks),
               SEK_WORKER_POLL_SECONDS="0.2", SEK_JOB_BACKOFF_SECONDS="0.2",
               SEK_DB_IDLE_IN_TRANSACTION_SECONDS=str(IDLE_SECONDS), SEK_DB_LOCK_TIMEOUT_SECONDS="2")
    started = []

    def start(name: str) -> subprocess.Popen:
        log = open(tmp_path / f"{name}.log", "w")
        process = subprocess.Popen([sys.executable, str(script)], env=env, stdout=log, stderr=subprocess.STDOUT)
        started.append((process, log))
        return process

    start.marks = marks
    start.log = lambda name: (tmp_path / f"{name}.log").read_text()
    yield start
    for process, log in started:
        if process.poll() is None:
            process.send_signal(signal.SIGCONT)
            process.terminate()
            process.wait(10)
        log.close()




def _starts(marks: Path) -> list[int]:
    return [int(line.split()[0]) for line in marks.read_text().splitlines()]


def test_a_frozen_workers_job_is_run_by_another_worker_once(pg, deploy, workers):
    services.register_operator("test_slow", lambda ctx, seconds: {})  # known to the deployment check
    deploy(SLOW)
    with pg.tx() as session:
        instance_id = runtime.start_instance(session, "slow_service", data={"seconds": OPERATOR_SECONDS}).id
        job_id = session.scalar(select(Job.id).where(Job.instance_id == instance_id, Job.kind == "service"))

    first = workers("first")
    wait_for(lambda: _starts(workers.marks), 30, "the first worker starting the job")
    first.send_signal(signal.SIGSTOP)   # mid-job: its transaction holds the job's row lock
    frozen_at = time.monotonic()
    second = workers("second")

    def done_by():
        with pg.tx() as session:
            job = session.get(Job, job_id)
            return job.state == JobState.DONE and session.scalar(select(AuditEvent).where(
                AuditEvent.instance_id == instance_id, AuditEvent.action == "service.completed"))

    event = wait_for(done_by, IDLE_SECONDS + 30, "another worker running the frozen worker's job")
    taken_over_after = time.monotonic() - frozen_at
    assert event.data["result"]["by"] == second.pid
    assert taken_over_after < IDLE_SECONDS + 10, taken_over_after

    first.send_signal(signal.SIGCONT)   # it wakes up and finishes what it was doing ...
    wait_for(lambda: "not finished, it stays pending" in workers.log("first"), 15,
              "the woken worker noticing its lost session")
    time.sleep(1)   # ... and runs a few more passes
    assert first.poll() is None, workers.log("first")   # alive, not crashed
    assert second.poll() is None, workers.log("second")

    # the operator started twice, but what it did happened once: one mail, one completion
    assert _starts(workers.marks) == [first.pid, second.pid]
    with pg.tx() as session:
        job = session.get(Job, job_id)
        assert (job.state, job.attempts, job.last_error) == (JobState.DONE, 1, None)
        mails = session.scalars(select(MailMessage).where(MailMessage.instance_id == instance_id)).all()
        assert [m.body for m in mails] == [f"{second.pid} bitirdi"]
        completed = session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.instance_id == instance_id, AuditEvent.action == "service.completed"))
        assert completed == 1
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "job.failed")) == 0
        data = runtime.load_instance(session, instance_id).workflow.get_tasks(spec_name="check")[0].data
        assert data["outcome"] == {"by": second.pid, "mail_id": mails[0].id}
        assert audit.verify(session).ok
