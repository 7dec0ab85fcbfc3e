"""SEK 08-04-33 Sunuculara Dışarıdan Erişim: every path of ``server_external_access``.

Requests sent back (server, ports, end date), the system team's rejection and approval,
the firewall rule opened, the reminder five working days before the end date (or none
when that is already past), the rule closed at 17:00 on the end date; the reminder once
through a real ``sek worker --once`` with SEK_CLOCK_SHIFT. The approved journey runs from
every day of a week and from a holiday's eve (``every_start``).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from engine import clock, conversation, forms, runtime
from engine.errors import ValidationError
from engine.models import InstanceStatus, utcnow
from engine.workdays import ZONE, add_working_days, is_working_day
from processes import rules

ROOT = Path(__file__).resolve().parents[2]
BPMN = ROOT / "bpmn"
KEY = "server_external_access"
REQUESTER = "hasan.ozturk@example.edu.tr"
APPROVE = {"review_decision": "approve", "risk_notes": "Ubuntu 24.04, güncel; yalnızca 443 açılsın."}
OPEN = {"rule_id": "FW-2026-0412", "rule_notes": "NAT 193.140.168.77 -> 10.20.3.15"}


def _today() -> date:
    """Today by the engine's (pinned) clock, in Istanbul."""
    return clock.now().astimezone(ZONE).date()


def _request_data(**changes) -> dict:
    data = {
        "requester": "Hasan Öztürk", "requester_email": REQUESTER, "unit": "Bilgisayar Mühendisliği",
        "subject": "Proje sunucusuna dışarıdan erişim",
        "server": "lab1.ceng.example.edu.tr", "ports": [443, "80/tcp"],
        "purpose": "Bölüm proje sunucusuna öğrencilerin evden erişmesi",
        "responsible_person": "Dr. Öğr. Üyesi Ahmet Kara",
        "end_date": (_today() + timedelta(days=30)).isoformat(),
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture(autouse=True)
def _setup(db, deploy, make_user):
    deploy(*sorted(BPMN.glob(f"{KEY}.*")))
    make_user("sistem.uzmani", groups=("systems",))
    make_user("ag.uzmani", groups=("network",))


def _start(db, **changes) -> int:
    return db.start(KEY, _request_data(**changes))


def _start_in_english(db, **changes) -> int:
    """Start as the portal does for a requester who chose English: their contact says ``en``."""
    with db.tx() as session:
        instance_id = runtime.start_instance(session, KEY, data=_request_data(**changes), actor="portal").id
        conversation.record_contact(session, instance_id, name="Hasan Öztürk", email=REQUESTER, locale="en")
    db.work()
    return instance_id


def _requester_subject(db, instance_id: int, mail, template: str, language: str = "tr") -> str:
    return db.requester_subject(instance_id, mail, template, language, to=REQUESTER)


def _subjects(db, instance_id: int) -> list[tuple[str, str]]:
    """The instance's mails (every one to the requester, checked as above) as ``(template, subject)``."""
    return [(mail.template, _requester_subject(db, instance_id, mail, mail.template)) for mail in db.mails(instance_id)]


def _data(db, instance_id: int) -> dict:
    with db.tx() as session:
        workflow = runtime.load_instance(session, instance_id).workflow
        return dict(workflow.get_tasks(spec_name="request_valid")[-1].data)


def _five_working_days_before(day: date) -> datetime:
    counted = 0
    while counted < 5:
        day -= timedelta(days=1)
        counted += is_working_day(day)
    return datetime.combine(day, time(9, 0), ZONE)


def _opened(db, **changes) -> int:
    instance_id = _start(db, **changes)
    db.complete(instance_id, "security_review", "sistem.uzmani", dict(APPROVE))
    db.complete(instance_id, "open_rule", "ag.uzmani", dict(OPEN))
    return instance_id


def _one_year_after(day: date) -> date:
    return day.replace(year=day.year + 1, day=28 if (day.month, day.day) == (2, 29) else day.day)


# -- the start data ------------------------------------------------------------------------


def test_the_start_form_wants_a_host_name_or_ipv4_and_ports():
    schema = json.loads((BPMN / f"{KEY}.start.schema.json").read_text(encoding="utf-8"))
    forms.validate_form_data(schema, _request_data())
    forms.validate_form_data(schema, _request_data(server="193.140.168.77", ports=["1194/udp", 22]))
    with pytest.raises(ValidationError) as caught:
        forms.validate_form_data(schema, _request_data(server="proje sunucusu!", ports=[0, "443/sctp", 443],
                                                       end_date="2026-13-01"))
    assert sorted(p.location for p in caught.value.problems) == ["end_date", "ports.0", "ports.1", "server"]


@pytest.mark.parametrize(("changes", "fields"), [
    ({"server": "proje sunucusu!"}, ["server"]),
    ({"server": None}, ["server"]),
    ({"ports": [0, 70000, "443/sctp", "https", True]}, ["ports.0", "ports.1", "ports.2", "ports.3", "ports.4"]),
    ({"ports": []}, ["ports"]),
    ({"end_date": None}, ["end_date"]),
    ({"server": "999.1.1.1", "ports": ["65536"], "end_date": "31.12.2026"}, ["end_date"]),
])
def test_data_the_start_form_refuses_never_starts(db, changes, fields):
    """Whatever the door (portal, API, CLI), the start form is checked first: nothing starts."""
    assert db.refused_start(KEY, _request_data(**changes)) == fields


@pytest.mark.parametrize(("changes", "reasons"), [
    ({"server": "193.140.300.7"}, ["Sunucu adresi geçerli bir IPv4 adresi değil."]),
    ({"server": "10.20.3"}, ["Sunucu adresi geçerli bir IPv4 adresi değil."]),
    ({"server": "lab1.2026"}, ["son bölüm yalnızca rakamlardan oluşamaz"]),
    ({"ports": ["70000", "443"]}, ["'70000' geçerli bir port değil"]),
    ({"server": "999.1.1.1", "ports": ["65536"]}, ["IPv4 adresi değil", "'65536' geçerli bir port değil"]),
])
def test_a_request_that_cannot_be_opened_is_sent_back_with_every_reason(db, changes, reasons):
    changes = {key: value() if callable(value) else value for key, value in changes.items()}
    reasons = [reason() if callable(reason) else reason for reason in reasons]
    instance_id = _start(db, **changes)

    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert db.human_tasks(instance_id) == []               # the system team never sees it
    [mail] = db.mails(instance_id)
    assert _requester_subject(db, instance_id, mail, "server_access_refused") == "Sunucu erişim talebiniz geri gönderildi"
    assert mail.body.startswith("Sayın Hasan Öztürk,")
    for reason in reasons:
        assert reason in mail.body
    assert mail.body.count("\n- ") == len(reasons)
    assert db.actions(instance_id) == ["instance.started", "service.completed"]


@pytest.mark.parametrize(("changes", "reason"), [
    # Dates of the pinned clock's today: read when the test runs, not when it is collected.
    ({"end_date": lambda: _today().isoformat()}, "Erişim bitiş tarihi bugünden sonra olmalıdır."),
    ({"end_date": lambda: (_one_year_after(_today()) + timedelta(days=1)).isoformat()},
     lambda: f"Dışarıdan erişim en fazla bir yıl için açılır: bitiş tarihi en geç "
             f"{_one_year_after(_today()):%d.%m.%Y} olabilir."),
])
def test_an_end_date_the_form_rules_refuse_never_starts(db, changes, reason):
    """The date rules of processes/server_external_access/validate.py, on every door."""
    changes = {key: value() if callable(value) else value for key, value in changes.items()}
    reason = reason() if callable(reason) else reason
    with db.tx() as session, pytest.raises(ValidationError) as caught:
        runtime.start_instance(session, KEY, data=_request_data(**changes), actor="portal")
    [problem] = caught.value.problems
    assert (problem.location, rules.worded(problem, "tr")) == ("end_date", reason)


@pytest.mark.parametrize(("server", "ports", "normal_server", "ports_text"), [
    ("Lab1.CENG.example.edu.tr", [443, "80", "1194/UDP", "443/tcp"], "lab1.ceng.example.edu.tr",
     "443/tcp, 80/tcp, 1194/udp"),
    ("193.140.168.77", ["22/tcp"], "193.140.168.77", "22/tcp"),
])
def test_a_valid_request_is_normalized_and_goes_to_the_system_team(db, server, ports, normal_server, ports_text):
    before = utcnow()
    end = _one_year_after(_today())                          # exactly one year is allowed
    instance_id = _start(db, server=server, ports=ports, end_date=end.isoformat())

    assert db.status(instance_id) == InstanceStatus.RUNNING
    assert db.human_tasks(instance_id) == [("security_review", "systems", "ready")]
    review = db.task(instance_id, "security_review")
    assert abs((review.due_at - add_working_days(before, 2)).total_seconds()) < 60
    data = _data(db, instance_id)
    assert (data["server"], data["ports_text"]) == (normal_server, ports_text)
    assert data["rule_expires_at"] == f"{end.isoformat()}T17:00:00+03:00"
    assert data["request_problem"] == ""
    assert db.mails(instance_id) == []


# -- the security review -------------------------------------------------------------------


def test_the_system_team_rejects_and_the_requester_gets_the_reason(db):
    instance_id = _start(db)
    assert db.refused_fields(instance_id, "security_review", "sistem.uzmani",
                             {"review_decision": "reject", "risk_notes": "Eski PHP sürümü."}) == ["rejection_reason"]

    db.complete(instance_id, "security_review", "sistem.uzmani", {
        "review_decision": "reject", "risk_notes": "PHP 5.6, yamasız.",
        "rejection_reason": "Sunucudaki yazılımlar güncel değil; güncellendikten sonra yeniden başvurun."})

    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert db.human_tasks(instance_id) == [("security_review", "systems", "completed")]
    [mail] = db.mails(instance_id)
    assert _requester_subject(db, instance_id, mail, "server_access_rejected") == "Sunucu erişim talebiniz onaylanmadı"
    assert "lab1.ceng.example.edu.tr sunucusunun" in mail.body
    assert "Gerekçe: Sunucudaki yazılımlar güncel değil" in mail.body
    assert "PHP 5.6" not in mail.body                            # risk notes stay in the record
    assert db.actions(instance_id) == [
        "instance.started", "task.claimed", "task.completed", "service.completed"]


# -- approved: opened, reminded, closed ----------------------------------------------------


def test_approved_rule_is_opened_reminded_five_working_days_ahead_and_closed_at_the_end(db, clock_at, every_start):
    end = _today() + timedelta(days=30)
    instance_id = _start(db)
    db.complete(instance_id, "security_review", "sistem.uzmani", dict(APPROVE))
    assert db.human_tasks(instance_id)[-1] == ("open_rule", "network", "ready")
    assert db.refused_fields(instance_id, "open_rule", "ag.uzmani", {"rule_notes": "?"}) == ["rule_id"]

    db.complete(instance_id, "open_rule", "ag.uzmani", dict(OPEN))

    [opened] = db.mails(instance_id)
    assert _requester_subject(db, instance_id, opened, "server_access_opened") == (
        "Sunucunuz kampüs dışından erişime açıldı")
    assert "şu portlarda kampüs dışından erişime açıldı: 443/tcp, 80/tcp." in opened.body
    assert "Kural numarası: FW-2026-0412" in opened.body and f"{end:%d.%m.%Y} günü saat 17:00" in opened.body
    assert db.status(instance_id) == InstanceStatus.WAITING
    remind_at = _five_working_days_before(end)
    closes_at = datetime.combine(end, time(17, 0), ZONE)
    assert db.timer_dues(instance_id) == [remind_at.astimezone(UTC), closes_at.astimezone(UTC)]

    clock_at(remind_at - timedelta(minutes=5))
    assert db.work() == 0
    clock_at(remind_at + timedelta(minutes=1))
    assert db.work() == 3                                         # the timer, the mail task, the mail
    reminder = db.mails(instance_id)[-1]
    assert _requester_subject(db, instance_id, reminder, "server_access_expiry") == (
        "Hatırlatma: sunucu erişiminizin süresi doluyor")
    assert f"{end:%d.%m.%Y} günü saat 17:00’de kapatılacak" in reminder.body
    assert db.timer_dues(instance_id) == [closes_at.astimezone(UTC)]
    assert db.status(instance_id) == InstanceStatus.WAITING

    clock_at(closes_at - timedelta(minutes=5))
    assert db.work() == 0
    clock_at(closes_at + timedelta(minutes=1))
    assert db.work() == 1
    assert db.human_tasks(instance_id)[-1] == ("close_rule", "network", "ready")
    close = db.task(instance_id, "close_rule")
    assert abs((close.due_at - add_working_days(utcnow(), 1)).total_seconds()) < 60
    assert db.refused_fields(instance_id, "close_rule", "ag.uzmani", {"rule_closed": False}) == ["rule_closed"]

    db.complete(instance_id, "close_rule", "ag.uzmani", {"rule_closed": True, "close_note": "Kural silindi."})

    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert _subjects(db, instance_id) == [
        ("server_access_opened", "Sunucunuz kampüs dışından erişime açıldı"),
        ("server_access_expiry", "Hatırlatma: sunucu erişiminizin süresi doluyor"),
        ("server_access_closed", "Sunucunuzun dışarıdan erişimi kapatıldı")]
    assert "(443/tcp, 80/tcp, kural FW-2026-0412) süresi dolduğu için kapatıldı" in db.mails(instance_id)[-1].body
    assert db.human_tasks(instance_id) == [("security_review", "systems", "completed"),
                                           ("open_rule", "network", "completed"),
                                           ("close_rule", "network", "completed")]
    assert db.actions(instance_id) == [
        "instance.started", "task.claimed", "task.completed", "task.claimed", "task.completed",
        "service.completed", "timer.fired", "service.completed", "timer.fired", "task.claimed",
        "task.completed", "service.completed"]


def test_a_period_shorter_than_five_working_days_has_no_reminder(db, clock_at):
    end = _today() + timedelta(days=2)
    instance_id = _opened(db, end_date=end.isoformat())

    closes_at = datetime.combine(end, time(17, 0), ZONE)
    assert db.timer_dues(instance_id) == [closes_at.astimezone(UTC)]   # the close only
    clock_at(closes_at + timedelta(minutes=1))
    assert db.work() == 1
    db.complete(instance_id, "close_rule", "ag.uzmani", {"rule_closed": True})

    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert _subjects(db, instance_id) == [
        ("server_access_opened", "Sunucunuz kampüs dışından erişime açıldı"),
        ("server_access_closed", "Sunucunuzun dışarıdan erişimi kapatıldı")]


def test_the_expiry_reminder_fires_through_sek_worker_once(db, sek_worker):
    instance_id = _opened(db)
    remind_at, _closes_at = db.timer_dues(instance_id)

    def worker(shift: timedelta) -> str:
        return sek_worker(shift).stdout.strip()

    assert worker(remind_at - utcnow() - timedelta(hours=2)) == "0 job(s) run"
    assert worker(remind_at - utcnow() + timedelta(minutes=2)) == "3 job(s) run"

    last, code = db.mails(instance_id)[-1], db.instance(instance_id).tracking_code
    assert (last.template, last.subject) == ("server_access_expiry", f"[{code}] Hatırlatma: sunucu erişiminizin süresi doluyor")
    assert f"/takip/{code}?k=" in last.body            # signed with the worker's own secret
    assert db.status(instance_id) == InstanceStatus.WAITING
    assert len(db.timer_dues(instance_id)) == 1
    assert db.actions(instance_id)[-2:] == ["timer.fired", "service.completed"]


def test_a_requester_who_chose_english_gets_every_mail_in_english(db, clock_at):
    refused = _start_in_english(db, ports=["70000"])
    [mail] = db.mails(refused)
    assert _requester_subject(db, refused, mail, "server_access_refused", "en") == (
        "Your server access request has been sent back")
    assert mail.body.startswith("Dear Hasan Öztürk,") and "Please correct the details" in mail.body

    rejected = _start_in_english(db)
    db.complete(rejected, "security_review", "sistem.uzmani",
                {"review_decision": "reject", "risk_notes": "PHP 5.6",
                 "rejection_reason": "Yazılımlar güncel değil."})
    [mail] = db.mails(rejected)
    assert _requester_subject(db, rejected, mail, "server_access_rejected", "en") == (
        "Your server access request was not approved")
    assert "open the server lab1.ceng.example.edu.tr" in mail.body and "Reason: Yazılımlar güncel değil." in mail.body

    end = _today() + timedelta(days=30)
    opened = _start_in_english(db)
    db.complete(opened, "security_review", "sistem.uzmani", dict(APPROVE))
    db.complete(opened, "open_rule", "ag.uzmani", dict(OPEN))
    [mail] = db.mails(opened)
    assert _requester_subject(db, opened, mail, "server_access_opened", "en") == (
        "Your server is open to access from outside the campus")
    assert "on these ports: 443/tcp, 80/tcp." in mail.body and "Rule number: FW-2026-0412" in mail.body
    assert f"closed on {end:%d.%m.%Y} at 17:00" in mail.body

    remind_at, closes_at = db.timer_dues(opened)
    clock_at(remind_at + timedelta(minutes=1))
    db.work()
    clock_at(closes_at + timedelta(minutes=1))
    db.work()
    db.complete(opened, "close_rule", "ag.uzmani", {"rule_closed": True})
    _, reminder, closed = db.mails(opened)
    assert _requester_subject(db, opened, reminder, "server_access_expiry", "en") == (
        "Reminder: your server access is about to expire")
    assert _requester_subject(db, opened, closed, "server_access_closed", "en") == (
        "Outside access to your server has been closed")
    assert "(443/tcp, 80/tcp, rule FW-2026-0412) has been closed" in closed.body
