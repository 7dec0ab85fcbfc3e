"""SEK 08-04-18 data restore from backup: every path through the engine, on both databases."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from SpiffWorkflow.util.task import TaskState as SpiffState
from sqlalchemy import select

from engine import conversation, runtime, tasks, users, workdays
from engine.errors import NotFoundError, ValidationError
from engine.models import (
    HumanTask,
    InstanceStatus,
    Job,
    MessageSubscription,
    ProcessInstance,
    utcnow,
)

ROOT = Path(__file__).resolve().parents[2]
BPMN = ROOT / "bpmn"
KEY = "backup_restore"
REQUESTER = "hakan.demir@example.edu.tr"
RESTORED = {"outcome": "restored", "restored_to": "\\\\dosya01\\muhasebe\\geri_yukleme_2026-01-20"}


@pytest.fixture
def site(db, deploy, make_user):
    make_user("selin.sistem", groups=("systems",))
    deploy(*sorted(BPMN.glob(f"{KEY}.*")))
    return db


def _start(db, *, locale: str | None = None, **changes) -> int:
    """Start as the portal does; with ``locale`` the requester's contact is recorded in that language."""
    data = {
        "requester": "Hakan Demir", "requester_email": REQUESTER, "unit": "Strateji Geliştirme Daire Başkanlığı",
        "subject": "Muhasebe klasörü silindi",
        "system": "Dosya sunucusu (dosya01)", "item_type": "Dosya / klasör", "item": "\\\\dosya01\\muhasebe\\2026",
        "restore_date": "2026-01-20", "restore_time": "17:30", "reason": "Klasör yanlışlıkla silindi.",
        "destination": "other", "target_path": "\\\\dosya01\\muhasebe\\geri_yukleme",
    }
    with db.tx() as session:
        instance_id = runtime.start_instance(session, KEY, data={**data, **changes}, actor="portal").id
        if locale:
            conversation.record_contact(session, instance_id, name="Hakan Demir", email=REQUESTER, locale=locale)
        return instance_id


def _headers(db, instance_id: int, language: str = "tr") -> list[tuple[str, str, str]]:
    """The instance's mails as ``(to, template, subject)``. Every one goes to the requester in
    ``language`` with the tracking code (its subject starts with it, left out here) and the
    link to the request's tracking page."""
    return [(mail.recipients, mail.template,
             db.requester_subject(instance_id, mail, mail.template, language, to=REQUESTER))
            for mail in db.mails(instance_id)]


def _complete(db, instance_id: int, bpmn_id: str, data: dict) -> None:
    db.complete(instance_id, bpmn_id, "selin.sistem", data, claim=False)


def _confirm(db, instance_id: int, payload: dict, *, by_tracking_code: bool = True) -> None:
    """The portal's answer for the requester: by tracking code, or straight to the instance."""
    with db.tx() as session:
        if by_tracking_code:
            target = {"correlation_key": session.get(ProcessInstance, instance_id).tracking_code}
        else:
            target = {"instance_id": instance_id}
        assert runtime.deliver_message(session, "restore_confirmed", payload, actor="portal", **target) == [
            instance_id]
    db.work()


def _waits(db, instance_id: int) -> tuple[list, list[str]]:
    """The pending timer jobs' due times and the messages the instance waits for."""
    with db.tx() as session:
        timers = list(session.scalars(select(Job.due_at).where(Job.instance_id == instance_id, Job.kind == "timer",
                                                               Job.state == "pending")))
        messages = list(session.scalars(select(MessageSubscription.message_name)
                                        .where(MessageSubscription.instance_id == instance_id)))
        return timers, messages


def _restored_and_waiting(db) -> int:
    instance_id = _start(db)
    _complete(db, instance_id, "check_right", {"right_confirmed": True, "right_note": "Birim amiri onayı var."})
    _complete(db, instance_id, "restore", RESTORED)
    return instance_id


# -- the start form -----------------------------------------------------------------------


def test_the_start_form_wants_a_place_for_another_destination_and_a_real_time(site):
    db = site
    with pytest.raises(ValidationError) as caught:
        _start(db, target_path=None, restore_time="25:00", restore_date="20.01.2026")
    assert {p.location for p in caught.value.problems} == {"target_path", "restore_time", "restore_date"}
    with pytest.raises(ValidationError) as caught:
        _start(db, destination="somewhere")
    assert [p.location for p in caught.value.problems] == ["destination"]
    with db.tx() as session:
        assert session.scalar(select(ProcessInstance.id)) is None     # nothing was started
    instance_id = _start(db, destination="original", target_path="")
    assert db.human_tasks(instance_id) == [("check_right", "systems", "ready")]


# -- the paths -----------------------------------------------------------------------------


def test_no_right_to_the_data_the_requester_is_told_why(site):
    db = site
    instance_id = _start(db)
    assert db.human_tasks(instance_id) == [("check_right", "systems", "ready")]
    with db.tx() as session, pytest.raises(ValidationError) as caught:
        row = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id))
        tasks.complete_task(session, row.id, users.acting_user(session, "selin.sistem"), {"right_confirmed": False})
    assert [p.location for p in caught.value.problems] == ["right_note"]

    _complete(db, instance_id, "check_right", {"right_confirmed": False,
                                                "right_note": "Klasör başka birime ait; birim amirinin onayı yok."})

    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert db.human_tasks(instance_id) == [("check_right", "systems", "completed")]
    assert _headers(db, instance_id) == [(REQUESTER, "restore_refused", "Veri kurtarma talebiniz reddedildi")]
    assert "birim amirinin onayı yok" in db.mail_bodies(instance_id)[0]
    assert db.actions(instance_id) == ["instance.started", "task.completed", "service.completed"]


def test_no_backup_of_that_date_the_requester_is_told(site):
    db = site
    instance_id = _start(db, restore_date="2025-01-03")
    _complete(db, instance_id, "check_right", {"right_confirmed": True})
    assert db.human_tasks(instance_id)[-1] == ("restore", "systems", "ready")

    _complete(db, instance_id, "restore", {"outcome": "no_backup", "restore_note": "Yedekler 90 gün saklanır."})

    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert _headers(db, instance_id) == [(REQUESTER, "restore_no_backup", "Veri kurtarma yapılamadı")]
    body = db.mail_bodies(instance_id)[0]
    assert "2025-01-03 tarihli yedek bulunmadığından" in body and "Yedekler 90 gün saklanır." in body
    assert db.actions(instance_id) == [
        "instance.started", "task.completed", "task.completed", "service.completed"]


def test_restored_and_confirmed_by_the_requester(site):
    db = site
    instance_id = _restored_and_waiting(db)

    assert db.status(instance_id) == InstanceStatus.WAITING
    assert _headers(db, instance_id) == [(REQUESTER, "restore_done", "Verileriniz yedekten geri yüklendi")]
    assert "geri_yukleme_2026-01-20" in db.mail_bodies(instance_id)[0]
    timers, messages = _waits(db, instance_id)
    assert messages == ["restore_confirmed"] and len(timers) == 1
    assert timers[0] > utcnow() + timedelta(days=4)                  # five working days

    _confirm(db, instance_id, {"ok": True, "note": "Dosyalar tamam, teşekkürler."})

    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert _waits(db, instance_id) == ([], [])                         # the timer went with the gateway
    assert db.human_tasks(instance_id) == [
        ("check_right", "systems", "completed"), ("restore", "systems", "completed")]
    assert _headers(db, instance_id) == [(REQUESTER, "restore_done", "Verileriniz yedekten geri yüklendi")]
    assert db.actions(instance_id) == [
        "instance.started", "task.completed", "task.completed", "service.completed", "message.delivered"]


def test_not_right_goes_back_to_the_restore_task_with_the_requesters_note(site):
    db = site
    instance_id = _restored_and_waiting(db)

    _confirm(db, instance_id, {"ok": False, "note": "Ekim klasörü eksik."}, by_tracking_code=False)

    assert db.status(instance_id) == InstanceStatus.RUNNING
    assert db.human_tasks(instance_id)[-2:] == [
        ("restore", "systems", "completed"), ("restore", "systems", "ready")]
    assert _waits(db, instance_id) == ([], [])
    with db.tx() as session:
        workflow = runtime.load_instance(session, instance_id).workflow
        [ready] = [t for t in workflow.get_tasks(spec_name="restore") if t.state == SpiffState.READY]
        assert ready.data["requester_note"] == "Ekim klasörü eksik."

    _complete(db, instance_id, "restore", {**RESTORED, "restore_note": "Ekim klasörü de eklendi."})
    assert _headers(db, instance_id) == [(REQUESTER, "restore_done", "Verileriniz yedekten geri yüklendi")] * 2
    _confirm(db, instance_id, {"ok": True, "note": ""})

    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert [a for a in db.actions(instance_id) if a == "message.delivered"] == ["message.delivered"] * 2


def test_five_working_days_without_an_answer_close_the_request(site, clock_at, every_start):
    db = site
    instance_id = _restored_and_waiting(db)
    [due], _ = _waits(db, instance_id)
    assert due == db.timer_due(instance_id, workdays.add_working_days(every_start, 5))
    assert workdays.is_working_day(due.astimezone(workdays.ZONE).date()) and due - every_start >= timedelta(days=5)

    clock_at(due - timedelta(minutes=5))
    assert db.work() == 0
    clock_at(due + timedelta(minutes=1))
    assert db.work() == 3                       # timer, the mail's service, the mail

    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert _headers(db, instance_id) == [
        (REQUESTER, "restore_done", "Verileriniz yedekten geri yüklendi"), (REQUESTER, "restore_auto_closed", "Veri kurtarma talebiniz kapatıldı")]
    assert "onaylanmış sayıldı" in db.mail_bodies(instance_id)[1]
    assert _waits(db, instance_id) == ([], [])
    with db.tx() as session, pytest.raises(NotFoundError):         # too late to answer
        runtime.deliver_message(session, "restore_confirmed", {"ok": False}, instance_id=instance_id)
    assert db.actions(instance_id)[-2:] == ["timer.fired", "service.completed"]


def test_sek_worker_once_with_a_shifted_clock_closes_the_request(site, sek_worker):
    db = site
    instance_id = _restored_and_waiting(db)
    [due], _ = _waits(db, instance_id)

    proc = sek_worker(due - utcnow() + timedelta(minutes=2))

    assert "3 job(s) run" in proc.stdout
    assert db.status(instance_id) == InstanceStatus.COMPLETED
    last = db.mails(instance_id)[-1]
    code = db.instance(instance_id).tracking_code
    assert (last.recipients, last.template, last.subject) == (
        REQUESTER, "restore_auto_closed", f"[{code}] Veri kurtarma talebiniz kapatıldı")
    assert f"/takip/{code}?k=" in last.body            # signed with the worker's own secret
    assert "timer.fired" in db.actions(instance_id)


def test_a_requester_who_chose_english_gets_every_mail_in_english(site, clock_at):
    db = site
    refused = _start(db, locale="en")
    _complete(db, refused, "check_right", {"right_confirmed": False, "right_note": "Klasör başka birime ait."})
    assert _headers(db, refused, "en") == [(REQUESTER, "restore_refused", "Your data recovery request has been refused")]
    assert "from backup has been refused: Klasör başka birime ait." in db.mail_bodies(refused)[0]

    no_backup = _start(db, locale="en", restore_date="2025-01-03")
    _complete(db, no_backup, "check_right", {"right_confirmed": True})
    _complete(db, no_backup, "restore", {"outcome": "no_backup", "restore_note": "Yedekler 90 gün saklanır."})
    assert _headers(db, no_backup, "en") == [(REQUESTER, "restore_no_backup", "Your data could not be recovered")]
    assert "there is no backup dated 2025-01-03" in db.mail_bodies(no_backup)[0]

    restored = _start(db, locale="en")
    _complete(db, restored, "check_right", {"right_confirmed": True})
    _complete(db, restored, "restore", RESTORED)
    [due], _ = _waits(db, restored)
    clock_at(due + timedelta(minutes=1))
    db.work()
    assert _headers(db, restored, "en") == [
        (REQUESTER, "restore_done", "Your data has been restored from backup"),
        (REQUESTER, "restore_auto_closed", "Your data recovery request has been closed")]
    done, closed = db.mail_bodies(restored)
    assert "has been restored to: \\\\dosya01\\muhasebe\\geri_yukleme_2026-01-20" in done
    assert "within 5 working days" in done and "taken as confirmed" in closed
