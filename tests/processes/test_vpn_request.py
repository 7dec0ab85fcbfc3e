"""SEK 08-04-34 VPN Hizmeti Alma: every path of ``vpn_request`` through the engine.

Dates sent back, the unit head's rejection and approval, the unit head's reminder after
two working days, the set-up, the end-date timer (17:00 Istanbul) and the revocation;
the end-date timer once through a real ``sek worker --once`` with SEK_CLOCK_SHIFT.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import clock, forms, runtime, tasks, users
from engine.errors import ValidationError
from engine.jobs import WorkerSettings
from engine.models import AuditEvent, HumanTask, InstanceStatus, Job, MailMessage, ProcessInstance, utcnow
from engine.workdays import ZONE, add_working_days
from engine.worker import run_due_jobs

ROOT = Path(__file__).resolve().parents[2]
BPMN = ROOT / "bpmn"
SEK = ROOT / ".venv" / "bin" / "sek"
FAST = WorkerSettings(backoff_seconds=0.01, poll_seconds=0.01)
KEY = "vpn_request"
REQUESTER = "elif.sahin@example.edu.tr"
UNIT_HEADS = "bidb-unitheads@example.edu.tr"
SETUP = {"vpn_username": "elif.sahin-vpn",
         "setup_notes": "FortiClient ile vpn.example.edu.tr adresine bağlanın; yalnızca BYS sunucusuna erişim açıktır."}


def _today() -> date:
    return datetime.now(ZONE).date()


def _request_data(**changes) -> dict:
    data = {
        "requester": "Elif Şahin", "requester_email": REQUESTER, "unit": "Kimya Bölümü",
        "purpose": "Evden BYS not girişi ve laboratuvar sunucusunun yönetimi",
        "target_systems": ["bys.example.edu.tr", "10.12.4.20"],
        "start_date": _today().isoformat(), "end_date": (_today() + timedelta(days=14)).isoformat(),
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture(autouse=True)
def _setup(db, deploy, make_user):
    deploy(*sorted(BPMN.glob(f"{KEY}.*")))
    make_user("kimya.baskan", groups=("unitheads",))
    make_user("ag.uzmani", groups=("network",))
    yield
    clock.set_shift(timedelta(0))


def _start(db, **changes) -> int:
    with db.tx() as session:
        instance_id = runtime.start_instance(session, KEY, data=_request_data(**changes), actor="portal").id
    _work(db)
    return instance_id


def _work(db) -> int:
    return run_due_jobs(db.factory, FAST)


def _status(db, instance_id: int) -> str:
    with db.tx() as session:
        return session.get(ProcessInstance, instance_id).status


def _human_tasks(db, instance_id: int) -> list[tuple[str, str, str]]:
    with db.tx() as session:
        rows = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id).order_by(HumanTask.id))
        return [(row.bpmn_id, row.group_name, row.state) for row in rows]


def _task(db, instance_id: int, bpmn_id: str) -> HumanTask:
    with db.tx() as session:
        return session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                      HumanTask.bpmn_id == bpmn_id))


def _complete(db, instance_id: int, bpmn_id: str, username: str, data: dict) -> None:
    """Claim and complete the open task ``bpmn_id`` as ``username``, then run the worker."""
    with db.tx() as session:
        row = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                     HumanTask.bpmn_id == bpmn_id,
                                                     HumanTask.state == "ready"))
        user = users.acting_user(session, username)
        tasks.claim_task(session, row.id, user)
        tasks.complete_task(session, row.id, user, data)
    _work(db)


def _refused_fields(db, instance_id: int, bpmn_id: str, username: str, data: dict) -> list[str]:
    with db.tx() as session, pytest.raises(ValidationError) as caught:
        row = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                     HumanTask.bpmn_id == bpmn_id))
        tasks.complete_task(session, row.id, users.acting_user(session, username), data)
    return [problem.location for problem in caught.value.problems]


def _mails(db, instance_id: int) -> list[MailMessage]:
    with db.tx() as session:
        return list(session.scalars(select(MailMessage).where(MailMessage.instance_id == instance_id)
                                    .order_by(MailMessage.id)))


def _actions(db, instance_id: int) -> list[str]:
    with db.tx() as session:
        return list(session.scalars(select(AuditEvent.action).where(AuditEvent.instance_id == instance_id)
                                    .order_by(AuditEvent.id)))


def _pending_timers(db, instance_id: int) -> list[datetime]:
    with db.tx() as session:
        return list(session.scalars(select(Job.due_at).where(Job.instance_id == instance_id, Job.kind == "timer",
                                                             Job.state == "pending").order_by(Job.due_at)))


def _clock_at(when: datetime) -> None:
    """Shift the engine's clock so that its "now" is ``when``."""
    clock.set_shift(timedelta(0))
    clock.set_shift(when - utcnow())


def _approved_and_set_up(db) -> int:
    instance_id = _start(db)
    _complete(db, instance_id, "approve_request", "kimya.baskan", {"approval": "approve"})
    _complete(db, instance_id, "set_up_vpn", "ag.uzmani", dict(SETUP))
    return instance_id


# -- the start data ------------------------------------------------------------------------


def _one_year_after(day: date) -> date:
    return day.replace(year=day.year + 1, day=28 if (day.month, day.day) == (2, 29) else day.day)


def test_the_start_form_asks_for_purpose_systems_and_real_dates():
    schema = json.loads((BPMN / f"{KEY}.start.schema.json").read_text(encoding="utf-8"))
    forms.validate_form_data(schema, _request_data())
    with pytest.raises(ValidationError) as caught:
        forms.validate_form_data(schema, _request_data(purpose=None, target_systems=[], end_date="2026-13-01"))
    assert sorted(p.location for p in caught.value.problems) == ["end_date", "purpose", "target_systems"]


@pytest.mark.parametrize(("changes", "reason"), [
    ({"start_date": (_today() - timedelta(days=1)).isoformat()}, "Başlangıç tarihi geçmiş bir gün olamaz."),
    ({"end_date": _today().isoformat()}, "Bitiş tarihi başlangıç tarihinden sonra olmalıdır."),
    ({"start_date": (_today() + timedelta(days=5)).isoformat(), "end_date": (_today() + timedelta(days=2)).isoformat()},
     "Bitiş tarihi başlangıç tarihinden sonra olmalıdır."),
    ({"end_date": (_one_year_after(_today()) + timedelta(days=1)).isoformat()},
     f"en geç {_one_year_after(_today()):%d.%m.%Y} olabilir."),
    ({"end_date": "2027-02-30"}, "Bitiş tarihi geçerli bir tarih değil."),
    ({"start_date": "yarın"}, "Başlangıç tarihi geçerli bir tarih değil."),
    ({"end_date": None}, "Bitiş tarihi geçerli bir tarih değil."),
])
def test_an_impossible_period_is_sent_back_to_the_requester(db, changes, reason):
    instance_id = _start(db, **changes)

    assert _status(db, instance_id) == InstanceStatus.COMPLETED
    assert _human_tasks(db, instance_id) == []               # no unit head was bothered
    [mail] = _mails(db, instance_id)
    assert (mail.recipients, mail.subject) == (REQUESTER, "VPN talebiniz geri gönderildi")
    assert mail.body.startswith("Sayın Elif Şahin,") and reason in mail.body
    assert _actions(db, instance_id) == ["instance.started", "service.completed"]


def test_a_period_of_exactly_one_year_goes_to_the_unit_head(db):
    end = _one_year_after(_today())
    before = utcnow()
    instance_id = _start(db, end_date=end.isoformat())

    assert _status(db, instance_id) == InstanceStatus.RUNNING
    assert _human_tasks(db, instance_id) == [("approve_request", "unitheads", "ready")]
    task = _task(db, instance_id, "approve_request")
    assert abs((task.due_at - add_working_days(before, 2)).total_seconds()) < 60
    # the reminder is the only timer while the unit head decides
    [reminder] = _pending_timers(db, instance_id)
    assert abs((reminder - add_working_days(before, 2)).total_seconds()) < 60
    assert _mails(db, instance_id) == []


# -- the unit head -------------------------------------------------------------------------


def test_the_unit_head_rejects_and_the_requester_gets_the_reason(db):
    instance_id = _start(db)
    assert _refused_fields(db, instance_id, "approve_request", "kimya.baskan", {"approval": "reject"}) == [
        "rejection_reason"]                                       # a rejection says why

    _complete(db, instance_id, "approve_request", "kimya.baskan",
              {"approval": "reject", "rejection_reason": "Bu iş için kampüs içinden çalışılabilir."})

    assert _status(db, instance_id) == InstanceStatus.COMPLETED
    assert _human_tasks(db, instance_id) == [("approve_request", "unitheads", "completed")]
    assert _pending_timers(db, instance_id) == []                 # the reminder went with the task
    [mail] = _mails(db, instance_id)
    assert (mail.recipients, mail.subject) == (REQUESTER, "VPN talebiniz onaylanmadı")
    assert "Gerekçe: Bu iş için kampüs içinden çalışılabilir." in mail.body
    assert _actions(db, instance_id) == [
        "instance.started", "task.claimed", "task.completed", "service.completed"]


def test_the_unit_head_is_reminded_after_two_working_days_and_can_still_decide(db):
    instance_id = _start(db)
    [due] = _pending_timers(db, instance_id)
    _clock_at(due - timedelta(hours=1))
    assert _work(db) == 0                                         # not yet

    _clock_at(due + timedelta(minutes=1))
    assert _work(db) == 3                                         # the timer, the mail task, the mail

    [mail] = _mails(db, instance_id)
    assert (mail.recipients, mail.subject) == (UNIT_HEADS, "Hatırlatma: onay bekleyen VPN talebi (Elif Şahin)")
    assert "iki iş günüdür" in mail.body and "Evden BYS not girişi" in mail.body
    assert _human_tasks(db, instance_id) == [("approve_request", "unitheads", "ready")]
    assert _status(db, instance_id) == InstanceStatus.RUNNING
    _clock_at(due + timedelta(days=3))
    assert _work(db) == 0                                         # one reminder, not one a day

    _complete(db, instance_id, "approve_request", "kimya.baskan", {"approval": "approve"})
    assert _human_tasks(db, instance_id)[-1] == ("set_up_vpn", "network", "ready")
    assert _actions(db, instance_id) == [
        "instance.started", "timer.fired", "service.completed", "task.claimed", "task.completed"]


# -- approved: set up, then revoked at the end date ----------------------------------------


def test_approved_access_is_set_up_and_revoked_at_17_on_the_end_date(db):
    instance_id = _start(db)
    _complete(db, instance_id, "approve_request", "kimya.baskan", {"approval": "approve"})
    assert _human_tasks(db, instance_id) == [("approve_request", "unitheads", "completed"),
                                             ("set_up_vpn", "network", "ready")]
    assert _refused_fields(db, instance_id, "set_up_vpn", "ag.uzmani", {"vpn_username": "x"}) == ["setup_notes"]

    _complete(db, instance_id, "set_up_vpn", "ag.uzmani", dict(SETUP))

    [instructions] = _mails(db, instance_id)
    assert (instructions.recipients, instructions.subject) == (REQUESTER, "VPN erişiminiz tanımlandı")
    end = _today() + timedelta(days=14)
    assert "VPN profili / kullanıcı adı: elif.sahin-vpn" in instructions.body
    assert f"Geçerlilik: {_today():%d.%m.%Y} - {end:%d.%m.%Y}" in instructions.body
    assert "bys.example.edu.tr, 10.12.4.20" in instructions.body and "FortiClient" in instructions.body
    assert _status(db, instance_id) == InstanceStatus.WAITING

    ends_at = datetime.combine(end, time(17, 0), ZONE)
    assert _pending_timers(db, instance_id) == [ends_at.astimezone(UTC)]
    _clock_at(ends_at - timedelta(minutes=5))
    assert _work(db) == 0                                         # access lasts the whole last day
    _clock_at(ends_at + timedelta(minutes=1))
    assert _work(db) == 1

    assert _human_tasks(db, instance_id)[-1] == ("revoke_vpn", "network", "ready")
    revoke = _task(db, instance_id, "revoke_vpn")
    assert abs((revoke.due_at - add_working_days(utcnow(), 1)).total_seconds()) < 60
    assert _refused_fields(db, instance_id, "revoke_vpn", "ag.uzmani", {"revoked": False}) == ["revoked"]
    _complete(db, instance_id, "revoke_vpn", "ag.uzmani", {"revoked": True, "revoke_note": "Profil silindi."})

    assert _status(db, instance_id) == InstanceStatus.COMPLETED
    assert [(m.recipients, m.subject) for m in _mails(db, instance_id)] == [
        (REQUESTER, "VPN erişiminiz tanımlandı"), (REQUESTER, "VPN erişiminiz sona erdi")]
    assert "(elif.sahin-vpn) kaldırıldı" in _mails(db, instance_id)[-1].body
    assert _human_tasks(db, instance_id) == [("approve_request", "unitheads", "completed"),
                                             ("set_up_vpn", "network", "completed"),
                                             ("revoke_vpn", "network", "completed")]
    assert _actions(db, instance_id) == [
        "instance.started", "task.claimed", "task.completed", "task.claimed", "task.completed",
        "service.completed", "timer.fired", "task.claimed", "task.completed", "service.completed"]


def test_the_end_date_timer_fires_through_sek_worker_once(db, tmp_path):
    instance_id = _approved_and_set_up(db)
    [ends_at] = _pending_timers(db, instance_id)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMTP_")}
    env.update(DATABASE_URL=db.url, SEK_DATA_DIR=str(tmp_path), PYTHONUTF8="1")

    def worker(shift: timedelta) -> str:
        text = f"P{shift.days}DT{shift.seconds}S"
        proc = subprocess.run([str(SEK), "worker", "--once"], env={**env, "SEK_CLOCK_SHIFT": text},
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.strip()

    assert worker(ends_at - utcnow() - timedelta(hours=2)) == "0 job(s) run"
    assert _human_tasks(db, instance_id)[-1] == ("set_up_vpn", "network", "completed")
    assert worker(ends_at - utcnow() + timedelta(minutes=2)) == "1 job(s) run"

    assert _human_tasks(db, instance_id)[-1] == ("revoke_vpn", "network", "ready")
    assert _status(db, instance_id) == InstanceStatus.RUNNING
    assert _actions(db, instance_id)[-1] == "timer.fired"
