"""Recurring starts: a timer start event with a cycle starts one instance per period.

The clock is pinned (Monday 2 November 2026 10:00 in Istanbul) and moved on by pinning
again; the worker is the engine's own loop, and a real ``sek worker --once`` where it
matters (a restart, two workers racing).
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine import clock, jobs, recurring, runtime
from engine.errors import ValidationError
from engine.jobs import WorkerSettings
from engine.models import (
    AuditEvent,
    HumanTask,
    InstanceStatus,
    Job,
    JobKind,
    JobState,
    ProcessInstance,
    RecurringSchedule,
    RecurringStart,
)
from engine.worker import run_due_jobs

DATA = Path(__file__).resolve().parent.parent / "data" / "recurring"
MONTHLY = DATA / "monthly_check.bpmn"
ZONE = recurring.ZONE
MONDAY = datetime(2026, 11, 2, 10, 0, tzinfo=ZONE)
FAST = WorkerSettings(backoff_seconds=0.01, poll_seconds=0.01)
SEK = Path(sys.executable).parent / "sek"


def _variant(tmp_path: Path, name: str = "monthly_check.bpmn", **replace: str) -> Path:
    """A copy of the monthly fixture with some text replaced, in a folder of its own."""
    text = MONTHLY.read_text(encoding="utf-8")
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    folder = tmp_path / name.removesuffix(".bpmn")
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _cycle(tmp_path, cycle: str, *, working_day: bool = True, tag: str = "v") -> Path:
    old = '"R/2026-01-04T09:00:00+03:00/P1M"'
    text = MONTHLY.read_text(encoding="utf-8").replace(old, cycle)
    if not working_day:
        text = text.replace('<spiffworkflow:property name="workingDay" value="next" />', "")
    folder = tmp_path / tag
    folder.mkdir(exist_ok=True)
    (folder / "monthly_check.bpmn").write_text(text, encoding="utf-8")
    return folder


def _run(db) -> int:
    return run_due_jobs(db.factory, FAST)


def _instances(db) -> list[ProcessInstance]:
    with db.tx() as session:
        return list(session.scalars(select(ProcessInstance).order_by(ProcessInstance.id)))


def _start_data(db, instance_id: int) -> dict:
    with db.tx() as session:
        workflow = runtime.load_instance(session, instance_id).workflow
        return dict(workflow.get_tasks(spec_name="check")[-1].data)


def _schedule(db) -> RecurringSchedule:
    with db.tx() as session:
        return session.scalar(select(RecurringSchedule))


def _open_tasks(db, instance_id: int) -> list[str]:
    with db.tx() as session:
        return list(session.scalars(select(HumanTask.bpmn_id).where(HumanTask.instance_id == instance_id)))


def _waiting_jobs(db, instance_id: int) -> list[str]:
    with db.tx() as session:
        return list(session.scalars(select(Job.kind).where(Job.instance_id == instance_id,
                                                            Job.state == JobState.PENDING)))


def _local(moment: datetime) -> str:
    return moment.astimezone(ZONE).isoformat()


@pytest.fixture
def monday(pinned_clock):
    pinned_clock(MONDAY)
    return MONDAY


# -- starting at one start event ---------------------------------------------------------------


def test_a_normal_start_runs_the_none_start_only(db, deploy, monday):
    deploy(MONTHLY)
    with db.tx() as session:
        instance = runtime.start_instance(session, "monthly_check", data={"note": "elle"}, actor="ayse")
    # The person's request is at its first task, started by hand; nothing waits for the cycle in it.
    assert _open_tasks(db, instance.id) == ["check"]
    assert _start_data(db, instance.id)["origin"] == "hand"
    assert _waiting_jobs(db, instance.id) == []
    with db.tx() as session:
        active = runtime.load_instance(session, instance.id)
        kinds = {t.task_spec.name: t.state for t in active.workflow.get_tasks()}
    from SpiffWorkflow.util.task import TaskState
    assert kinds["every_month"] == TaskState.CANCELLED


def test_a_start_at_the_timer_start_event_runs_as_if_it_fired(db, deploy, monday):
    deploy(MONTHLY)
    with db.tx() as session:
        instance = runtime.start_instance(session, "monthly_check", data={"scheduled_for": "x", "missed_periods": 0},
                                          start_event="every_month")
    assert _open_tasks(db, instance.id) == ["check"]
    data = _start_data(db, instance.id)
    assert data["origin"] == "schedule" and data["scheduled_for"] == "x"
    assert _waiting_jobs(db, instance.id) == []
    with db.tx() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.instance_id == instance.id,
                                                        AuditEvent.action == "instance.started"))
        assert event.data["start_event"] == "every_month"


def test_an_unknown_start_event_is_refused(db, deploy, monday):
    deploy(MONTHLY)
    from engine.errors import NotFoundError
    with pytest.raises(NotFoundError, match="no start event 'nope'"), db.tx() as session:
        runtime.start_instance(session, "monthly_check", start_event="nope")


def test_a_process_with_only_a_timer_start_still_waits_for_it(db, deploy, monday):
    deploy(DATA.parent / "jobs" / "timer_start.bpmn")
    with db.tx() as session:
        instance = runtime.start_instance(session, "timer_start", actor="ayse")
    assert _open_tasks(db, instance.id) == []
    assert _waiting_jobs(db, instance.id) == ["timer"]


# -- the schedule ------------------------------------------------------------------------------


def test_deploy_schedules_the_next_period_and_the_worker_starts_it_once(db, deploy, monday):
    deploy(MONTHLY)
    schedule = _schedule(db)
    # 4 November 2026 is a Wednesday: the next period, at 09:00 Istanbul time.
    assert schedule.next_period == datetime(2026, 11, 4, 9, 0, tzinfo=ZONE)
    assert _run(db) == 0 and _instances(db) == []

    clock.pin(datetime(2026, 11, 4, 9, 0, 30, tzinfo=ZONE))
    assert _run(db) == 1
    [instance] = _instances(db)
    assert instance.started_by is None and instance.status == InstanceStatus.RUNNING
    assert _open_tasks(db, instance.id) == ["check"]
    data = _start_data(db, instance.id)
    assert data["origin"] == "schedule"
    assert data["scheduled_for"] == "2026-11-04T09:00:00+03:00" and data["missed_periods"] == 0
    assert _run(db) == 0 and len(_instances(db)) == 1
    schedule = _schedule(db)
    assert schedule.next_period == datetime(2026, 12, 4, 9, 0, tzinfo=ZONE)
    assert schedule.last_instance_id == instance.id
    with db.tx() as session:
        fired = session.scalar(select(AuditEvent).where(AuditEvent.action == "schedule.fired"))
        assert fired.actor is None and fired.data["start_event"] == "every_month"


def test_after_downtime_missed_periods_collapse_into_one_start(db, deploy, monday):
    deploy(MONTHLY)
    # Down from November to 10 March 2027: five periods passed (4 Nov, 4 Dec, 4 Jan, 4 Feb, 4 Mar).
    clock.pin(datetime(2027, 3, 10, 10, 0, tzinfo=ZONE))
    assert _run(db) == 1
    [instance] = _instances(db)
    data = _start_data(db, instance.id)
    assert data["scheduled_for"] == "2027-03-04T09:00:00+03:00" and data["missed_periods"] == 4
    # 4 April 2027 is a Sunday: the next period moves to Monday 5 April, 09:00.
    assert _schedule(db).next_period == datetime(2027, 4, 4, 9, 0, tzinfo=ZONE)
    with db.tx() as session:
        job = session.get(Job, _schedule(db).job_id)
        assert job.state == JobState.PENDING and job.due_at == datetime(2027, 4, 5, 9, 0, tzinfo=ZONE)
    assert _run(db) == 0 and len(_instances(db)) == 1


def test_working_day_next_moves_a_holiday_to_the_next_working_day(db, deploy, monday, tmp_path):
    # 1 January 2027 is a Friday and New Year's Day: the start moves to Monday 4 January, 09:00.
    deploy(_cycle(tmp_path, '"R3/2027-01-01T09:00:00+03:00/P1M"'))
    with db.tx() as session:
        [view] = recurring.schedules(session, "monthly_check")
    assert view.next_at == datetime(2027, 1, 4, 9, 0, tzinfo=ZONE) and view.unit == "month" and view.remaining == 3
    clock.pin(datetime(2027, 1, 2, 12, 0, tzinfo=ZONE))
    assert _run(db) == 0 and _instances(db) == []
    clock.pin(datetime(2027, 1, 4, 9, 1, tzinfo=ZONE))
    assert _run(db) == 1
    [instance] = _instances(db)
    assert _start_data(db, instance.id)["scheduled_for"] == "2027-01-04T09:00:00+03:00"


def test_without_working_day_a_holiday_period_starts_on_the_holiday(db, deploy, monday, tmp_path):
    deploy(_cycle(tmp_path, '"R3/2027-01-01T09:00:00+03:00/P1M"', working_day=False))
    clock.pin(datetime(2027, 1, 1, 9, 1, tzinfo=ZONE))
    assert _run(db) == 1
    assert _start_data(db, _instances(db)[0].id)["scheduled_for"] == "2027-01-01T09:00:00+03:00"


def test_a_counted_cycle_stops_after_its_periods(db, deploy, monday, tmp_path):
    deploy(_cycle(tmp_path, '"R2/2026-11-03T09:00:00+03:00/P1D"', working_day=False))
    for day in (3, 4, 5, 6):
        clock.pin(datetime(2026, 11, day, 9, 30, tzinfo=ZONE))
        _run(db)
    scheduled = sorted(_start_data(db, i.id)["scheduled_for"] for i in _instances(db))
    assert scheduled == ["2026-11-03T09:00:00+03:00", "2026-11-04T09:00:00+03:00"]
    schedule = _schedule(db)
    assert schedule.next_period is None
    with db.tx() as session:
        assert session.get(Job, schedule.job_id).state == JobState.DONE
        [view] = recurring.schedules(session, "monthly_check")
        assert view.next_at is None and view.remaining == 0


def test_a_new_version_replaces_the_schedule_without_firing_twice(db, deploy, monday, tmp_path):
    deploy(MONTHLY)
    clock.pin(datetime(2026, 11, 4, 9, 5, tzinfo=ZONE))
    assert _run(db) == 1
    # The same cycle in a new version: it goes on at December, not at November again.
    [result] = deploy(_variant(tmp_path, **{'name="Her ay"': 'name="Her ay (v2)"'}))
    assert result.version == 2 and result.created
    schedule = _schedule(db)
    assert schedule.definition_id == result.definition_id
    assert schedule.next_period == datetime(2026, 12, 4, 9, 0, tzinfo=ZONE)
    assert _run(db) == 0 and len(_instances(db)) == 1
    # A weekly cycle in version 3: its first period from now on, on version 3.
    [v3] = deploy(_cycle(tmp_path, '"R/2026-11-02T09:00:00+03:00/P1W"', tag="v3"))
    with db.tx() as session:
        pending = list(session.scalars(select(Job).where(Job.kind == JobKind.RECURRING,
                                                         Job.state == JobState.PENDING)))
    assert len(pending) == 1 and pending[0].due_at == datetime(2026, 11, 9, 9, 0, tzinfo=ZONE)
    clock.pin(datetime(2026, 11, 9, 9, 5, tzinfo=ZONE))
    assert _run(db) == 1
    newest = _instances(db)[-1]
    with db.tx() as session:
        assert session.get(ProcessInstance, newest.id).definition_id == v3.definition_id
    # A version without the timer start event stops the schedule.
    text = MONTHLY.read_text(encoding="utf-8")
    start = text.index('    <bpmn:startEvent id="every_month"')
    end = text.index("</bpmn:startEvent>", start) + len("</bpmn:startEvent>\n")
    text = text[:start] + text[end:]
    text = text.replace('<bpmn:flowNodeRef>every_month</bpmn:flowNodeRef>', '')
    text = text.replace('<bpmn:sequenceFlow id="to_by_schedule" sourceRef="every_month" targetRef="by_schedule"/>',
                        '')
    text = text.replace("<bpmn:incoming>to_by_schedule</bpmn:incoming>", "")
    folder = tmp_path / "v4"
    folder.mkdir()
    (folder / "monthly_check.bpmn").write_text(text, encoding="utf-8")
    deploy(folder)
    assert _schedule(db).active is False
    clock.pin(datetime(2026, 12, 30, 9, 5, tzinfo=ZONE))
    assert _run(db) == 0 and len(_instances(db)) == 2


@pytest.mark.parametrize("cycle, words", [
    ('"every month"', "is not a repeating interval"),
    ('"R/2027-01-04/P1X"', "is not a duration"),
    ('"R/yarın/P1M"', "is not a date and time"),
    ('"R0/2027-01-04T09:00:00+03:00/P1M"', "repeats zero times"),
    ("1 / 0", "timeCycle expression failed"),
])
def test_a_bad_cycle_is_refused_at_deploy(db, deploy, monday, tmp_path, cycle, words):
    with pytest.raises(ValidationError) as refused:
        deploy(_cycle(tmp_path, cycle))
    [problem] = refused.value.problems
    assert problem.location == "monthly_check.bpmn:every_month"
    assert words in problem.message
    with db.tx() as session:
        assert session.scalar(select(func.count()).select_from(RecurringSchedule)) == 0


def test_working_day_must_be_next_and_one_none_start(db, deploy, monday, tmp_path):
    path = _variant(tmp_path, **{'value="next"': 'value="sonraki"'})
    with pytest.raises(ValidationError, match="workingDay must be one of next"):
        deploy(path)
    path = _variant(tmp_path, name="two_starts.bpmn", **{
        '<bpmn:startEvent id="every_month" name="Her ay">':
            '<bpmn:startEvent id="second" name="İkinci"><bpmn:outgoing>to_second</bpmn:outgoing></bpmn:startEvent>'
            '<bpmn:sequenceFlow id="to_second" sourceRef="second" targetRef="by_hand"/>'
            '<bpmn:startEvent id="every_month" name="Her ay">'})
    with pytest.raises(ValidationError, match="one start event without an event"):
        deploy(path)


def test_a_start_the_process_refuses_is_a_failed_job_and_the_schedule_goes_on(db, deploy, monday, tmp_path):
    # The scheduled start event's own form asks for a device that nothing gives it.
    folder = _variant(tmp_path, **{'<spiffworkflow:property name="workingDay" value="next" />\n'
                                   '        </spiffworkflow:properties>':
                                   '<spiffworkflow:property name="workingDay" value="next" />\n'
                                   '        </spiffworkflow:properties>'
                                   '<spiffworkflow:formJsonSchemaFilename>start.schema.json'
                                   '</spiffworkflow:formJsonSchemaFilename>'}).parent
    (folder / "start.schema.json").write_text(
        '{"type": "object", "required": ["device"], "properties": {"device": {"type": "string"}}}',
        encoding="utf-8")
    deploy(folder)
    clock.pin(datetime(2026, 11, 4, 9, 5, tzinfo=ZONE))
    _run(db)
    assert _instances(db) == []
    with db.tx() as session:
        [failed] = session.scalars(select(Job).where(Job.kind == JobKind.RECURRING_START))
        assert failed.state == JobState.FAILED and "device" in failed.last_error
        assert session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "job.failed")) == 1
        [view] = recurring.schedules(session, "monthly_check")
        assert view.last_error and view.next_at == datetime(2026, 12, 4, 9, 0, tzinfo=ZONE)
    # The next period is tried again (and fails again: the schema did not change).
    clock.pin(datetime(2026, 12, 4, 9, 5, tzinfo=ZONE))
    _run(db)
    with db.tx() as session:
        assert session.scalar(select(func.count()).select_from(Job).where(
            Job.kind == JobKind.RECURRING_START, Job.state == JobState.FAILED)) == 2


def test_the_unique_period_is_the_backstop_against_a_second_start(db, deploy, monday):
    deploy(MONTHLY)
    with db.tx() as session:
        session.add(RecurringStart(process_key="monthly_check", start_event="every_month",
                                   period=datetime(2026, 11, 4, 9, 0, tzinfo=ZONE), missed_periods=0))
    clock.pin(datetime(2026, 11, 4, 9, 5, tzinfo=ZONE))
    _run(db)
    assert _instances(db) == []
    assert _schedule(db).next_period == datetime(2026, 12, 4, 9, 0, tzinfo=ZONE)


def test_a_failed_start_retried_by_an_admin_starts_once(db, deploy, monday):
    deploy(MONTHLY)
    clock.pin(datetime(2026, 11, 4, 9, 5, tzinfo=ZONE))
    with db.tx() as session:   # the tick ran, its start job is queued
        job = jobs.claim_next(session)
        assert job.kind == JobKind.RECURRING
        jobs.execute(session, job, FAST)
    _run(db)
    with db.tx() as session:
        start_job = session.scalar(select(Job).where(Job.kind == JobKind.RECURRING_START))
        start_job.state = JobState.FAILED
    with db.tx() as session:
        jobs.retry_job(session, start_job.id, actor="admin")
    _run(db)
    assert len(_instances(db)) == 1


# -- real workers ------------------------------------------------------------------------------


def _worker_env(db, tmp_path, at: datetime) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "SEK_DATA_DIR", "SEK_CLOCK_SHIFT", "SEK_CLOCK_AT")
           and not k.startswith("SMTP_")}
    env.update(SEK_DATA_DIR=str(tmp_path), DATABASE_URL=db.url, PYTHONUTF8="1",
               SEK_CLOCK_AT=at.isoformat(), SEK_CLOCK_SHIFT="PT0S")
    return env


def test_a_real_worker_starts_the_period_and_a_second_run_does_nothing(db, deploy, monday, tmp_path):
    deploy(MONTHLY)
    env = _worker_env(db, tmp_path, datetime(2026, 11, 4, 9, 10, tzinfo=ZONE))
    for _ in range(2):
        proc = subprocess.run([str(SEK), "worker", "--once"], env=env, capture_output=True, encoding="utf-8",
                              timeout=120)
        assert proc.returncode == 0, proc.stderr
    [instance] = _instances(db)
    assert _start_data(db, instance.id)["scheduled_for"] == "2026-11-04T09:00:00+03:00"


def test_two_workers_racing_start_each_period_exactly_once(db, deploy, monday, tmp_path):
    deploy(MONTHLY)
    # Long after the first period: catch-up and the race at once.
    env = _worker_env(db, tmp_path, datetime(2027, 2, 10, 9, 10, tzinfo=ZONE))
    procs = [subprocess.Popen([str(SEK), "worker", "--once"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, encoding="utf-8") for _ in range(2)]
    for proc in procs:
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    [instance] = _instances(db)
    data = _start_data(db, instance.id)
    assert data["scheduled_for"] == "2027-02-04T09:00:00+03:00" and data["missed_periods"] == 3
    with db.tx() as session:
        assert session.scalar(select(func.count()).select_from(RecurringStart)) == 1


def test_the_cycle_is_parsed_on_the_calendar():
    cycle = recurring.parse_cycle("R/2027-01-31T09:00:00+03:00/P1M")
    assert [cycle.period(i).date().isoformat() for i in range(4)] == [
        "2027-01-31", "2027-02-28", "2027-03-31", "2027-04-30"]
    assert recurring.parse_cycle("R5/2027-01-04T09:00:00/P2W").parts == {"weeks": 2}
    with pytest.raises(ValueError, match="shorter than a minute"):
        recurring.parse_cycle("R/2027-01-04T09:00:00+03:00/PT30S")
