"""Working days and the engine's clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import clock, runtime, workdays
from engine.models import HumanTask, Job
from engine.workdays import ZONE, add_working_days

DATA = Path(__file__).resolve().parents[1] / "data"


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZONE)


@pytest.fixture
def restore_engine_settings():
    yield
    workdays.configure(None)
    clock.set_shift(timedelta(0))


@pytest.mark.parametrize("start, days, due", [
    ("2026-11-20 10:00", 1, "2026-11-23 10:00"),   # Friday -> Monday
    ("2026-11-21 10:00", 1, "2026-11-24 08:30"),   # Saturday: counts from Monday 08:30
    ("2026-11-23 16:45", 0, "2026-11-23 16:45"),
    ("2026-05-26 10:00", 1, "2026-06-01 10:00"),   # arife works; Kurban Bayramı and a Sunday follow
    ("2026-10-28 09:00", 1, "2026-10-30 09:00"),   # 29 Ekim Cumhuriyet Bayramı
    ("2026-12-31 14:00", 1, "2027-01-04 14:00"),   # Yılbaşı, then the weekend
    ("2026-03-19 11:00", 1, "2026-03-23 11:00"),   # Ramazan Bayramı (20-22 March)
])
def test_add_working_days(start, days, due):
    assert add_working_days(local(start), days) == local(due)


def test_configured_holidays_count_and_bad_ones_are_refused(restore_engine_settings):
    workdays.configure("2026-11-23, 2026-11-24")
    assert add_working_days(local("2026-11-20 10:00"), 1) == local("2026-11-25 10:00")
    with pytest.raises(ValueError, match="SEK_HOLIDAYS"):
        workdays.configure("2026-13-01")


def test_clock_shift_parsing(restore_engine_settings):
    assert clock.parse_shift("P3D") == timedelta(days=3)
    assert clock.parse_shift("p1dt2h30m") == timedelta(days=1, hours=2, minutes=30)
    assert clock.parse_shift("") == timedelta(0)
    for bad in ("3D", "P", "PT", "-P1D", "P1W"):
        with pytest.raises(ValueError, match="SEK_CLOCK_SHIFT"):
            clock.parse_shift(bad)
    before = clock.now()
    clock.set_shift(timedelta(days=2))
    assert timedelta(days=2) <= clock.now() - before < timedelta(days=2, minutes=1)


def test_working_days_in_a_due_date_and_a_timer(db, deploy, make_user, restore_engine_settings):
    """``dueIn`` and timers say "n working days" through the sandbox helper, and the
    pinned clock lets the timer fire without waiting four days."""
    make_user("ayse", groups=("callcenter",))
    deploy(DATA / "runtime" / "workday_due.bpmn")
    clock.pin(local("2026-11-06 16:00"))                                   # a Friday afternoon
    with db.tx() as session:
        instance_id = runtime.start_instance(session, "workday_due").id
        task = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id))
        timer = session.scalar(select(Job).where(Job.instance_id == instance_id))
    assert abs(task.due_at - local("2026-11-09 16:00")) < timedelta(minutes=1)      # Monday
    assert abs(timer.due_at - local("2026-11-10 16:00")) < timedelta(minutes=1)     # Tuesday
    clock.pin(timer.due_at - timedelta(minutes=1))
    with db.tx() as session:
        assert runtime.fire_due_timers(session, instance_id)[0] == []     # not yet
    clock.pin(timer.due_at + timedelta(minutes=1))
    with db.tx() as session:
        fired, _waiting = runtime.fire_due_timers(session, instance_id)
    assert fired == [timer.task_uuid]
    with db.tx() as session:
        assert runtime.load_instance(session, instance_id).workflow.get_tasks(spec_name="note_late")
    with pytest.raises(ValueError):
        workdays.working_days(1.5)


def test_a_pinned_clock_starts_at_its_moment_in_the_past_too_and_runs_on(restore_engine_settings):
    monday = local("2026-11-02 10:00")

    clock.pin(monday)

    assert timedelta(0) <= clock.now() - monday < timedelta(seconds=5)
    assert clock.ShiftedDatetime.now(ZONE).date().isoformat() == "2026-11-02"   # what Spiff's timers read
    assert workdays.working_days(1).startswith("2026-11-03T10:00")
    clock.set_shift(timedelta(0))
    assert abs(clock.now() - datetime.now(ZONE)) < timedelta(seconds=5)
    with pytest.raises(ValueError, match="time zone"):
        clock.pin(datetime(2026, 11, 2, 10, 0))
    with pytest.raises(ValueError, match="forward"):
        clock.set_shift(timedelta(days=-1))       # only a test's pin goes back in time


def test_sek_clock_at_pins_a_command_and_sek_clock_shift_moves_it_on(restore_engine_settings):
    clock.configure("P1DT2H", "2026-05-26T10:00+03:00")
    assert timedelta(0) <= clock.now() - local("2026-05-27 12:00") < timedelta(seconds=5)
    before = datetime.now(ZONE)
    clock.configure("P1D")
    assert timedelta(days=1) <= clock.now() - before < timedelta(days=1, seconds=5)
    for bad in ("tomorrow", "2026-05-26T10:00"):                            # no offset: refused
        with pytest.raises(ValueError, match="SEK_CLOCK_AT"):
            clock.configure(None, bad)
