"""`sek worker` across database outages: it waits instead of exiting, says so once per outage,
and runs what came due meanwhile once the database is back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

import processes
from engine import definitions, runtime, services, validation
from engine.models import AuditEvent, HumanTask, Job, JobKind, JobState
from tests.polling import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

JOBS = Path(__file__).resolve().parent.parent / "data" / "jobs"




def _count(db, query) -> int:
    with db.tx() as session:
        return session.scalar(query)


def test_worker_waits_out_outages_and_then_runs_the_timer_due_meanwhile(pg_outage, tmp_path):
    db = pg_outage.database
    processes.install()
    with db.tx() as session:
        definitions.deploy(session, validation.load_paths([str(JOBS / "timer_catch.bpmn")]),
                           known_operators=services.operator_names())
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMTP_")}
    env.update(DATABASE_URL=pg_outage.url, SEK_DATA_DIR=str(tmp_path / "data"), SEK_WORKER_POLL_SECONDS="0.2",
               SEK_DB_CONNECT_TIMEOUT_SECONDS="2")
    log_path = tmp_path / "worker.log"

    # 1. the database is away when the worker starts: it waits for it
    pg_outage.down()
    with open(log_path, "w") as log:
        worker = subprocess.Popen([str(Path(sys.executable).parent / "sek"), "worker"], env=env,
                                  stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: "database unavailable" in log_path.read_text() or worker.poll() is not None, 30,
                  "the worker trying the database")
        time.sleep(1)
        assert worker.poll() is None, log_path.read_text()
        pg_outage.up()
        periodic = select(func.count()).select_from(Job).where(Job.kind.in_((JobKind.DIGEST, JobKind.OVERDUE)))
        wait_for(lambda: _count(db, periodic) == 2, 30, "the worker starting its work once the database is back")

        # 2. the database goes away while the worker runs, and a timer comes due meanwhile
        with db.tx() as session:
            instance_id = runtime.start_instance(session, "timer_catch", data={"wait": "PT1S"}).id
        pg_outage.down()
        time.sleep(3)
        assert worker.poll() is None, log_path.read_text()
        fired = select(func.count()).select_from(AuditEvent).where(
            AuditEvent.instance_id == instance_id, AuditEvent.action == "timer.fired")
        pg_outage.up()
        wait_for(lambda: _count(db, fired) == 1, 60, "the timer due during the outage firing after it")
        time.sleep(1)
        assert worker.poll() is None, log_path.read_text()
    finally:
        worker.send_signal(signal.SIGINT)
        worker.wait(10)

    with db.tx() as session:
        assert session.scalar(select(HumanTask.bpmn_id).where(HumanTask.instance_id == instance_id)) == "follow_up"
        [timer] = session.scalars(select(Job).where(Job.instance_id == instance_id))
        assert (timer.state, timer.attempts) == (JobState.DONE, 1)
    assert _count(db, fired) == 1
    # one line when each outage starts, one when it ends; never a traceback
    lines = log_path.read_text().splitlines()
    assert "Traceback (most recent call last):" not in lines, "\n".join(lines)
    assert len([line for line in lines if "database unavailable" in line]) == 2, lines
    assert len([line for line in lines if "database reachable again" in line]) == 2, lines
