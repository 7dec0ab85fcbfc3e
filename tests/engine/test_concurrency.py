"""Races on PostgreSQL: many requests completing or claiming one task, many workers on one queue.

The claim races run on SQLite too, where BEGIN IMMEDIATE serializes them.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine import audit, jobs, runtime, tasks, users
from engine.db import make_engine, make_session_factory, transaction
from engine.errors import ConflictError, PermissionDeniedError
from engine.jobs import WorkerSettings
from engine.models import AuditEvent, HumanTask, InstanceStatus, Job, JobState, ProcessInstance, utcnow
from engine.worker import run_due_jobs

pytestmark = pytest.mark.postgres

JOBS = Path(__file__).resolve().parent.parent / "data" / "jobs"
RACERS = 20


@pytest.fixture
def pg(db):
    if db.dialect != "postgresql":
        pytest.skip("row locks and SKIP LOCKED races need PostgreSQL (TEST_DATABASE_URL)")
    return db


@pytest.fixture
def racing_factory(pg):
    """Sessions from a pool big enough for every racer to hold a connection at once."""
    engine = make_engine(pg.url, pool_size=RACERS + 2, max_overflow=0)
    yield make_session_factory(engine)
    engine.dispose()


def _run_threads(count: int, target) -> list:
    """Run ``target(index, barrier)`` in ``count`` threads; returns their results in order."""
    barrier = threading.Barrier(count, timeout=30)
    results: list = [None] * count

    def run(index):
        try:
            results[index] = ("ok", target(index, barrier))
        except Exception as exc:  # noqa: BLE001 - every outcome is checked by the test
            results[index] = (type(exc), exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(t.is_alive() for t in threads), "a racer hung (deadlock?)"
    return results


def _open_task(session, instance_id: int) -> HumanTask:
    return session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                  HumanTask.bpmn_id == "review"))


@pytest.mark.parametrize("same_user", [True, False], ids=["one-user", "twenty-members"])
def test_twenty_requests_complete_one_task_exactly_once(pg, deploy, make_user, racing_factory, same_user):
    names = ["ayse"] * RACERS if same_user else [f"uye{i:02d}" for i in range(RACERS)]
    for name in sorted(set(names)):
        make_user(name, groups=("helpdesk",), password=None)  # no password hashing: 20 users stay fast
    deploy(JOBS / "boundary_interrupt.bpmn")
    with pg.tx() as session:
        raced = runtime.start_instance(session, "boundary_interrupt", data={"limit": "PT1H"}).id
        control = runtime.start_instance(session, "boundary_interrupt", data={"limit": "PT1H"}).id
    with pg.tx() as session:
        task_id = _open_task(session, raced).id
        control_task = _open_task(session, control).id
        start_revision = {i: session.get(ProcessInstance, i).revision for i in (raced, control)}
    # what one completion does to the revision, measured without a race
    with pg.tx() as session:
        tasks.complete_task(session, control_task, users.acting_user(session, names[0]), {"karar": "tamam"})

    def complete(index, barrier):
        with transaction(racing_factory) as session:
            user = users.acting_user(session, names[index])
            # every racer has read the open task and the same instance revision ...
            assert tasks.get_task(session, task_id).state == "ready"
            session.get(ProcessInstance, raced)
            barrier.wait()
            # ... before any of them writes
            tasks.complete_task(session, task_id, user, {"karar": names[index]})
        return names[index]

    results = _run_threads(RACERS, complete)

    winners = [value for kind, value in results if kind == "ok"]
    others = [(kind, value) for kind, value in results if kind != "ok"]
    assert len(winners) == 1, results
    assert len(others) == RACERS - 1
    assert all(kind is ConflictError for kind, _ in others), others
    with pg.tx() as session:
        row = session.get(HumanTask, task_id)
        assert (row.state, row.completed_by) == ("completed", winners[0])
        instance = session.get(ProcessInstance, raced)
        control_instance = session.get(ProcessInstance, control)
        assert instance.status == InstanceStatus.COMPLETED
        assert (instance.revision - start_revision[raced]
                == control_instance.revision - start_revision[control])
        completed = session.scalars(select(AuditEvent).where(AuditEvent.instance_id == raced,
                                                             AuditEvent.action == "task.completed")).all()
        assert [e.actor for e in completed] == [winners[0]]
        assert completed[0].data["data"] == {"karar": winners[0]}
        result = audit.verify(session)
        assert result.ok, str(result)
        [timer] = session.scalars(select(Job).where(Job.instance_id == raced))
        assert timer.state == JobState.CANCELLED


def test_two_workers_fire_each_of_twenty_timers_once(pg, deploy, racing_factory):
    deploy(JOBS / "timer_catch.bpmn")
    with pg.tx() as session:
        ids = [runtime.start_instance(session, "timer_catch", data={"wait": "PT0.5S"}).id for _ in range(RACERS)]
    with pg.tx() as session:
        latest = session.scalar(select(func.max(Job.due_at)).where(Job.state == JobState.PENDING))
        assert session.scalar(select(func.count()).select_from(Job).where(Job.state == JobState.PENDING)) == RACERS
    time.sleep(max(0.0, (latest - utcnow()).total_seconds()) + 0.1)

    def work(index, barrier):
        barrier.wait()
        return run_due_jobs(racing_factory, WorkerSettings(backoff_seconds=0.01))

    results = _run_threads(2, work)

    assert all(kind == "ok" for kind, _ in results), results
    assert sum(count for _, count in results) == RACERS
    assert all(count > 0 for _, count in results), results  # side by side, not one after the other
    with pg.tx() as session:
        rows = session.scalars(select(Job).order_by(Job.instance_id)).all()
        assert [(j.instance_id, j.state, j.attempts) for j in rows] == [(i, JobState.DONE, 1) for i in ids]
        fired = dict(session.execute(
            select(AuditEvent.instance_id, func.count()).where(AuditEvent.action == "timer.fired")
            .group_by(AuditEvent.instance_id)
        ).all())
        assert fired == {i: 1 for i in ids}
        follow_ups = session.scalars(select(HumanTask.instance_id).where(HumanTask.bpmn_id == "follow_up"))
        assert sorted(follow_ups) == ids
        assert audit.verify(session).ok


@pytest.mark.parametrize("worker_first", [True, False], ids=["job-already-claimed", "free-race"])
def test_completing_a_task_while_the_worker_fires_its_boundary_timer(pg, deploy, make_user, racing_factory,
                                                                    worker_first):
    """The user and a due timer race for one instance: one of them wins, the other is refused or finds
    nothing to do; never a deadlock, never both."""
    make_user("ayse", password=None)
    deploy(JOBS / "boundary_interrupt.bpmn")
    rounds = 6
    with pg.tx() as session:
        ids = [runtime.start_instance(session, "boundary_interrupt", data={"limit": "PT0.3S"}).id
               for _ in range(rounds)]
        latest = session.scalar(select(func.max(Job.due_at)))
    time.sleep(max(0.0, (latest - utcnow()).total_seconds()) + 0.1)
    settings = WorkerSettings(backoff_seconds=0.01)
    user_results = {}

    for instance_id in ids:
        with pg.tx() as session:
            task_id = _open_task(session, instance_id).id

        def race(index, barrier, instance_id=instance_id, task_id=task_id):
            if index == 0:  # the worker
                if not worker_first:
                    barrier.wait()
                    return run_due_jobs(racing_factory, settings, limit=1)
                with transaction(racing_factory) as session:
                    job = jobs.claim_next(session)
                    assert job.instance_id == instance_id
                    barrier.wait()
                    return jobs.execute(session, job, settings)
            with transaction(racing_factory) as session:  # the user
                user = users.acting_user(session, "ayse")
                tasks.get_task(session, task_id)
                session.get(ProcessInstance, instance_id)
                barrier.wait()
                tasks.complete_task(session, task_id, user, {})
                return "completed"

        worker, user = _run_threads(2, race)
        assert worker[0] == "ok", worker
        assert user[0] in ("ok", ConflictError), user
        user_results[instance_id] = user[0]

    with pg.tx() as session:
        for instance_id, outcome in user_results.items():
            states = dict(session.execute(select(HumanTask.bpmn_id, HumanTask.state)
                                          .where(HumanTask.instance_id == instance_id)).all())
            [timer] = session.scalars(select(Job).where(Job.instance_id == instance_id))
            fired = session.scalar(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.instance_id == instance_id, AuditEvent.action == "timer.fired"))
            assert timer.last_error is None, timer.last_error
            if outcome == "ok":
                assert (states, timer.state, fired) == ({"review": "completed"}, JobState.CANCELLED, 0)
            else:
                assert (states, timer.state, timer.attempts, fired) == (
                    {"review": "cancelled", "escalate": "ready"}, JobState.DONE, 1, 1)
        assert audit.verify(session).ok
    if worker_first:  # a claimed job is never taken away: the user loses every time
        assert set(user_results.values()) == {ConflictError}


# -- claims --------------------------------------------------------------------------------

CLAIMERS = 8
CLAIMED_TASKS = 20


@pytest.fixture
def claim_factory(db):
    """Sessions for the claimers: on PostgreSQL a pool with a connection for each of them."""
    if db.dialect != "postgresql":
        yield db.factory
        return
    engine = make_engine(db.url, pool_size=CLAIMERS + 2, max_overflow=0)
    yield make_session_factory(engine)
    engine.dispose()


def _claim_events(session, instance_ids) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(
        AuditEvent.instance_id.in_(instance_ids),
        AuditEvent.action.in_(("task.claimed", "task.unclaimed", "task.reassigned"))).order_by(AuditEvent.id)))


def _race_on_task(db, factory, count: int, task_id: int, act) -> list:
    """``count`` threads, each in its own session and transaction, call ``act(session, index)``
    on one task. On PostgreSQL every racer has read the task, still open, before any of them
    acts (the window that let two claimers win); SQLite serializes whole transactions
    (BEGIN IMMEDIATE), so there they only start together."""
    def race(index, barrier):
        if db.dialect != "postgresql":
            barrier.wait()
        with transaction(factory) as session:
            if db.dialect == "postgresql":
                assert tasks.get_task(session, task_id).state in ("ready", "claimed")
                barrier.wait()
            return act(session, index)

    return _run_threads(count, race)


def test_eight_members_claim_each_of_twenty_tasks_one_winner_each(db, deploy, make_user, claim_factory):
    names = [f"uye{i}" for i in range(CLAIMERS)]
    for name in names:
        make_user(name, groups=("helpdesk",), password=None)
    deploy(JOBS / "boundary_interrupt.bpmn")
    with db.tx() as session:
        ids = [runtime.start_instance(session, "boundary_interrupt", data={"limit": "PT1H"}).id
               for _ in range(CLAIMED_TASKS)]
    with db.tx() as session:
        task_ids = [_open_task(session, i).id for i in ids]

    winners = {}
    for task_id in task_ids:
        def claim(session, index, task_id=task_id):
            tasks.claim_task(session, task_id, users.acting_user(session, names[index]))
            return names[index]

        results = _race_on_task(db, claim_factory, CLAIMERS, task_id, claim)
        told_yes = [value for kind, value in results if kind == "ok"]
        refused = [kind for kind, _ in results if kind != "ok"]
        # what each user was told: exactly one "it is yours", everyone else a conflict (409 / a message)
        assert len(told_yes) == 1, (task_id, results)
        assert refused == [ConflictError] * (CLAIMERS - 1), results
        winners[task_id] = told_yes[0]

    with db.tx() as session:
        for task_id in task_ids:
            row = session.get(HumanTask, task_id)
            assert (row.state, row.assignee) == ("claimed", winners[task_id])
        events = _claim_events(session, ids)
        assert sorted((e.data["task_id"], e.action, e.actor) for e in events) == sorted(
            (task_id, "task.claimed", winners[task_id]) for task_id in task_ids)
        assert audit.verify(session).ok


def test_unclaim_reassign_and_claims_racing_leave_a_history_that_adds_up(db, deploy, make_user, claim_factory):
    """The assignee gives the task back, an admin reassigns it and others claim it, all at once:
    whatever wins, every recorded change starts from the state the one before it left."""
    make_user("ayse", groups=("helpdesk",), password=None)
    make_user("veli", groups=("helpdesk",), password=None)
    make_user("yonetici", groups=("helpdesk",), roles=("staff", "admin"), password=None)
    claimers = [make_user(f"uye{i}", groups=("helpdesk",), password=None) for i in range(CLAIMERS - 2)]
    deploy(JOBS / "boundary_interrupt.bpmn")
    rounds = 6
    with db.tx() as session:
        ids = [runtime.start_instance(session, "boundary_interrupt", data={"limit": "PT1H"}).id
               for _ in range(rounds)]
    with db.tx() as session:
        task_ids = [_open_task(session, i).id for i in ids]
        for task_id in task_ids:
            tasks.claim_task(session, task_id, users.acting_user(session, "ayse"))

    for task_id in task_ids:
        def act(session, index, task_id=task_id):
            if index == 0:
                return tasks.unclaim_task(session, task_id, users.acting_user(session, "ayse")).assignee
            if index == 1:
                return tasks.reassign_task(session, task_id, "veli", users.acting_user(session, "yonetici")).assignee
            return tasks.claim_task(session, task_id, users.acting_user(session, claimers[index - 2])).assignee

        results = _race_on_task(db, claim_factory, CLAIMERS, task_id, act)
        # refused because someone else got there first, or (ayse) because it is no longer hers
        assert {kind for kind, _ in results} <= {"ok", ConflictError, PermissionDeniedError}, results

    with db.tx() as session:
        for task_id in task_ids:
            history = [e for e in _claim_events(session, ids) if e.data["task_id"] == task_id]
            assignee = None
            for event in history:
                if event.action == "task.claimed":
                    assert assignee is None, [(e.action, e.actor, e.data) for e in history]
                    assignee = event.actor
                else:
                    assert event.data["before"] == assignee, [(e.action, e.actor, e.data) for e in history]
                    assignee = event.data.get("after")
            row = session.get(HumanTask, task_id)
            assert row.assignee == assignee
            assert row.state == ("claimed" if assignee else "ready")
        assert audit.verify(session).ok
