"""SEK 08-04-18 data restore from backup: every path through the engine, on both databases."""

from __future__ import annotations

import os
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from SpiffWorkflow.util.task import TaskState as SpiffState
from sqlalchemy import select

from engine import clock, runtime, tasks, users
from engine.errors import NotFoundError, ValidationError
from engine.jobs import WorkerSettings
from engine.models import (
    AuditEvent,
    HumanTask,
    InstanceStatus,
    Job,
    MailMessage,
    MessageSubscription,
    ProcessInstance,
    utcnow,
)
from engine.worker import run_due_jobs

ROOT = Path(__file__).resolve().parents[2]
BPMN = ROOT / "bpmn"
SEK = ROOT / ".venv" / "bin" / "sek"
FAST = WorkerSettings(backoff_seconds=0.01, poll_seconds=0.01)
KEY = "backup_restore"
REQUESTER = "hakan.demir@example.edu.tr"
RESTORED = {"outcome": "restored", "restored_to": "\\\\dosya01\\muhasebe\\geri_yukleme_2026-11-20"}


@pytest.fixture
def site(db, deploy, make_user):
    make_user("selin.sistem", groups=("systems",))
    deploy(*sorted(BPMN.glob(f"{KEY}.*")))
    yield db
    clock.set_shift(timedelta(0))


def _start(db, **changes) -> int:
    data = {
        "requester": "Hakan Demir", "requester_email": REQUESTER, "unit": "Strateji Geliştirme Daire Başkanlığı",
        "system": "Dosya sunucusu (dosya01)", "item_type": "Dosya / klasör", "item": "\\\\dosya01\\muhasebe\\2026",
        "restore_date": "2026-11-20", "restore_time": "17:30", "reason": "Klasör yanlışlıkla silindi.",
        "destination": "other", "target_path": "\\\\dosya01\\muhasebe\\geri_yukleme",
    }
    with db.tx() as session:
        return runtime.start_instance(session, KEY, data={**data, **changes}, actor="portal",
                                      check_start_form=True).id


def _complete(db, instance_id: int, bpmn_id: str, data: dict) -> None:
    with db.tx() as session:
        row = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                     HumanTask.bpmn_id == bpmn_id, HumanTask.state == "ready"))
        tasks.complete_task(session, row.id, users.acting_user(session, "selin.sistem"), data)
    run_due_jobs(db.factory, FAST)


def _confirm(db, instance_id: int, payload: dict, *, by_tracking_code: bool = True) -> None:
    """The portal's answer for the requester: by tracking code, or straight to the instance."""
    with db.tx() as session:
        if by_tracking_code:
            target = {"correlation_key": session.get(ProcessInstance, instance_id).tracking_code}
        else:
            target = {"instance_id": instance_id}
        assert runtime.deliver_message(session, "restore_confirmed", payload, actor="portal", **target) == [
            instance_id]
    run_due_jobs(db.factory, FAST)


def _status(db, instance_id: int) -> str:
    with db.tx() as session:
        return session.get(ProcessInstance, instance_id).status


def _human_tasks(db, instance_id: int) -> list[tuple[str, str, str]]:
    with db.tx() as session:
        rows = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id).order_by(HumanTask.id))
        return [(row.bpmn_id, row.group_name, row.state) for row in rows]


def _mails(db, instance_id: int) -> list[tuple[str, str]]:
    with db.tx() as session:
        rows = session.scalars(select(MailMessage).where(MailMessage.instance_id == instance_id)
                               .order_by(MailMessage.id))
        return [(m.recipients, m.subject) for m in rows]


def _bodies(db, instance_id: int) -> list[str]:
    with db.tx() as session:
        return list(session.scalars(select(MailMessage.body).where(MailMessage.instance_id == instance_id)
                                    .order_by(MailMessage.id)))


def _actions(db, instance_id: int) -> list[str]:
    with db.tx() as session:
        return list(session.scalars(select(AuditEvent.action).where(AuditEvent.instance_id == instance_id)
                                    .order_by(AuditEvent.id)))


def _waits(db, instance_id: int) -> tuple[list, list[str]]:
    """The pending timer jobs' due times and the messages the instance waits for."""
    with db.tx() as session:
        timers = list(session.scalars(select(Job.due_at).where(Job.instance_id == instance_id, Job.kind == "timer",
                                                               Job.state == "pending")))
        messages = list(session.scalars(select(MessageSubscription.message_name)
                                        .where(MessageSubscription.instance_id == instance_id)))
        return timers, messages


def _clock_at(when) -> None:
    """Shift the engine's clock so that its "now" is ``when``."""
    clock.set_shift(timedelta(0))
    clock.set_shift(when - utcnow())


def _restored_and_waiting(db) -> int:
    instance_id = _start(db)
    _complete(db, instance_id, "check_right", {"right_confirmed": True, "right_note": "Birim amiri onayı var."})
    _complete(db, instance_id, "restore", RESTORED)
    return instance_id


# -- the start form -----------------------------------------------------------------------


def test_the_start_form_wants_a_place_for_another_destination_and_a_real_time(site):
    db = site
    with pytest.raises(ValidationError) as caught:
        _start(db, target_path=None, restore_time="25:00", restore_date="20.11.2026")
    assert {p.location for p in caught.value.problems} == {"target_path", "restore_time", "restore_date"}
    with pytest.raises(ValidationError) as caught:
        _start(db, destination="somewhere")
    assert [p.location for p in caught.value.problems] == ["destination"]
    with db.tx() as session:
        assert session.scalar(select(ProcessInstance.id)) is None     # nothing was started
    instance_id = _start(db, destination="original", target_path="")
    assert _human_tasks(db, instance_id) == [("check_right", "systems", "ready")]


# -- the paths -----------------------------------------------------------------------------


def test_no_right_to_the_data_the_requester_is_told_why(site):
    db = site
    instance_id = _start(db)
    assert _human_tasks(db, instance_id) == [("check_right", "systems", "ready")]
    with db.tx() as session, pytest.raises(ValidationError) as caught:
        row = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id))
        tasks.complete_task(session, row.id, users.acting_user(session, "selin.sistem"), {"right_confirmed": False})
    assert [p.location for p in caught.value.problems] == ["right_note"]

    _complete(db, instance_id, "check_right", {"right_confirmed": False,
                                                "right_note": "Klasör başka birime ait; birim amirinin onayı yok."})

    assert _status(db, instance_id) == InstanceStatus.COMPLETED
    assert _human_tasks(db, instance_id) == [("check_right", "systems", "completed")]
    assert _mails(db, instance_id) == [(REQUESTER, "Veri kurtarma talebiniz reddedildi")]
    assert "birim amirinin onayı yok" in _bodies(db, instance_id)[0]
    assert _actions(db, instance_id) == ["instance.started", "task.completed", "service.completed"]


def test_no_backup_of_that_date_the_requester_is_told(site):
    db = site
    instance_id = _start(db, restore_date="2025-01-03")
    _complete(db, instance_id, "check_right", {"right_confirmed": True})
    assert _human_tasks(db, instance_id)[-1] == ("restore", "systems", "ready")

    _complete(db, instance_id, "restore", {"outcome": "no_backup", "restore_note": "Yedekler 90 gün saklanır."})

    assert _status(db, instance_id) == InstanceStatus.COMPLETED
    assert _mails(db, instance_id) == [(REQUESTER, "Veri kurtarma yapılamadı")]
    body = _bodies(db, instance_id)[0]
    assert "2025-01-03 tarihli yedek bulunmadığından" in body and "Yedekler 90 gün saklanır." in body
    assert _actions(db, instance_id) == [
        "instance.started", "task.completed", "task.completed", "service.completed"]


def test_restored_and_confirmed_by_the_requester(site):
    db = site
    instance_id = _restored_and_waiting(db)

    assert _status(db, instance_id) == InstanceStatus.WAITING
    assert _mails(db, instance_id) == [(REQUESTER, "Verileriniz yedekten geri yüklendi")]
    assert "geri_yukleme_2026-11-20" in _bodies(db, instance_id)[0]
    timers, messages = _waits(db, instance_id)
    assert messages == ["restore_confirmed"] and len(timers) == 1
    assert timers[0] > utcnow() + timedelta(days=4)                  # five working days

    _confirm(db, instance_id, {"ok": True, "note": "Dosyalar tamam, teşekkürler."})

    assert _status(db, instance_id) == InstanceStatus.COMPLETED
    assert _waits(db, instance_id) == ([], [])                         # the timer went with the gateway
    assert _human_tasks(db, instance_id) == [
        ("check_right", "systems", "completed"), ("restore", "systems", "completed")]
    assert _mails(db, instance_id) == [(REQUESTER, "Verileriniz yedekten geri yüklendi")]
    assert _actions(db, instance_id) == [
        "instance.started", "task.completed", "task.completed", "service.completed", "message.delivered"]


def test_not_right_goes_back_to_the_restore_task_with_the_requesters_note(site):
    db = site
    instance_id = _restored_and_waiting(db)

    _confirm(db, instance_id, {"ok": False, "note": "Ekim klasörü eksik."}, by_tracking_code=False)

    assert _status(db, instance_id) == InstanceStatus.RUNNING
    assert _human_tasks(db, instance_id)[-2:] == [
        ("restore", "systems", "completed"), ("restore", "systems", "ready")]
    assert _waits(db, instance_id) == ([], [])
    with db.tx() as session:
        workflow = runtime.load_instance(session, instance_id).workflow
        [ready] = [t for t in workflow.get_tasks(spec_name="restore") if t.state == SpiffState.READY]
        assert ready.data["requester_note"] == "Ekim klasörü eksik."

    _complete(db, instance_id, "restore", {**RESTORED, "restore_note": "Ekim klasörü de eklendi."})
    assert _mails(db, instance_id) == [(REQUESTER, "Verileriniz yedekten geri yüklendi")] * 2
    _confirm(db, instance_id, {"ok": True, "note": ""})

    assert _status(db, instance_id) == InstanceStatus.COMPLETED
    assert [a for a in _actions(db, instance_id) if a == "message.delivered"] == ["message.delivered"] * 2


def test_five_working_days_without_an_answer_close_the_request(site):
    db = site
    instance_id = _restored_and_waiting(db)
    [due], _ = _waits(db, instance_id)

    _clock_at(due - timedelta(minutes=5))
    assert run_due_jobs(db.factory, FAST) == 0
    _clock_at(due + timedelta(minutes=1))
    assert run_due_jobs(db.factory, FAST) == 3                       # timer, the mail's service, the mail

    assert _status(db, instance_id) == InstanceStatus.COMPLETED
    assert _mails(db, instance_id) == [
        (REQUESTER, "Verileriniz yedekten geri yüklendi"), (REQUESTER, "Veri kurtarma talebiniz kapatıldı")]
    assert "onaylanmış sayıldı" in _bodies(db, instance_id)[1]
    assert _waits(db, instance_id) == ([], [])
    with db.tx() as session, pytest.raises(NotFoundError):         # too late to answer
        runtime.deliver_message(session, "restore_confirmed", {"ok": False}, instance_id=instance_id)
    assert _actions(db, instance_id)[-2:] == ["timer.fired", "service.completed"]


def _iso(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    return f"P{seconds // 86400}DT{seconds % 86400 // 3600}H{seconds % 3600 // 60}M{seconds % 60}S"


def test_sek_worker_once_with_a_shifted_clock_closes_the_request(site, tmp_path):
    db = site
    instance_id = _restored_and_waiting(db)
    [due], _ = _waits(db, instance_id)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SEK_DATA_DIR", "SEK_CLOCK_SHIFT")}
    env.update(SEK_DATA_DIR=str(tmp_path), DATABASE_URL=db.url, PYTHONUTF8="1",
               SEK_CLOCK_SHIFT=_iso(due - utcnow() + timedelta(minutes=2)))

    proc = subprocess.run([str(SEK), "worker", "--once"], env=env, capture_output=True, encoding="utf-8",
                          timeout=120)

    assert proc.returncode == 0, proc.stderr
    assert "3 job(s) run" in proc.stdout
    assert _status(db, instance_id) == InstanceStatus.COMPLETED
    assert _mails(db, instance_id)[-1] == (REQUESTER, "Veri kurtarma talebiniz kapatıldı")
    assert "timer.fired" in _actions(db, instance_id)
