"""SEK 08-04-06 software maintenance: every path through the engine, on both databases."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import conversation, directory, runtime, users, workdays
from engine.models import InstanceStatus, Job, MessageSubscription, ProcessInstance, RequestFact, utcnow

ROOT = Path(__file__).resolve().parents[2]
BPMN = ROOT / "bpmn"
KEY = "software_maintenance"
REQUESTER = "deniz.arslan@example.edu.tr"
APP = "Öğrenci Bilgi Sistemi (OBS)"
FIXED = {"fix_outcome": "fixed", "fix_summary": "Not girişinde ondalık virgül artık kabul ediliyor.",
         "test_instructions": "https://obs-test.example.edu.tr adresinde bir derse 85,5 notu girin.",
         "change_ref": "obs!412"}
RELEASE = {"release_version": "4.12.1", "release_note": "Ondalık virgüllü not girişi düzeltildi."}


LEAD = "yazilim.lider@example.edu.tr"


@pytest.fixture
def site(db, deploy, make_user):
    """A developer and the software group's lead (overdue mails go to ``lead:software``)."""
    make_user("yazilim.gel", groups=("software",))
    with db.tx() as session:
        users.add_user(session, "yazilim.lider", groups=("software",), email=LEAD)
        directory.set_contact(session, "software", "yazilim@bidb.example.edu.tr", "yazilim.lider", actor="test")
    deploy(*sorted(BPMN.glob(f"{KEY}.*")))
    return db


def _bug(**changes) -> dict:
    data = {"requester": "Deniz Arslan", "requester_email": REQUESTER, "unit": "Fen Fakültesi",
            "subject": "OBS not girişi ondalık virgülü kabul etmiyor",
            "application": APP, "report_kind": "bug",
            "what_happens": "85,5 girince 'Geçersiz not' hatası çıkıyor.",
            "steps": "Not girişi > Dersi seç > 85,5 yaz > Kaydet", "impact": "many"}
    return {**data, **changes}


def _work(db, instance_id: int, bpmn_id: str, data: dict, user: str = "yazilim.gel") -> None:
    db.complete(instance_id, bpmn_id, user, data)


def _to_fix(db, priority: str = "high", **start) -> int:
    instance_id = db.start(KEY, _bug(**start))
    _work(db, instance_id, "triage", {"triage_decision": "accept", "triage_note": "Yeniden üretildi."})
    _work(db, instance_id, "prioritize", {"priority": priority}, "yazilim.lider")
    return instance_id


def _headers(db, instance_id: int) -> list[tuple[str, str]]:
    """The requester's mails as ``(template, subject)``, each checked for tracking code and link."""
    return [(mail.template, db.requester_subject(instance_id, mail, mail.template, to=REQUESTER))
            for mail in db.mails(instance_id) if mail.template]


def _accept(db, instance_id: int, ok: bool, note: str = "") -> None:
    with db.tx() as session:
        code = session.get(ProcessInstance, instance_id).tracking_code
        assert runtime.deliver_message(session, "acceptance_confirmed", {"ok": ok, "note": note},
                                       correlation_key=code, actor="portal") == [instance_id]
    db.work()


def _waits(db, instance_id: int) -> list[str]:
    with db.tx() as session:
        return list(session.scalars(select(MessageSubscription.message_name)
                                    .where(MessageSubscription.instance_id == instance_id)))


# -- the start form -----------------------------------------------------------------------


def test_the_start_form_asks_what_the_kind_of_report_needs(site, clock_at):
    db = site
    assert db.refused_start(KEY, _bug(what_happens=None, steps=None)) == ["steps", "what_happens"]
    assert db.refused_start(KEY, _bug(report_kind="change")) == ["change_description", "justification"]
    assert db.refused_start(KEY, _bug(application="Diğer")) == ["application_other"]
    assert db.refused_start(KEY, _bug(deadline="2026-10-30")) == ["deadline"]     # before Monday 2 November

    change = db.start(KEY, _bug(report_kind="change", what_happens=None, steps=None, deadline="2026-12-01",
                                change_description="Transkripte İngilizce ders adları eklensin.",
                                justification="Erasmus öğrencileri için senato kararı."))
    other = db.start(KEY, _bug(application="Diğer", application_other="Mezun Bilgi Sistemi"))
    for instance_id in (change, other):
        assert db.human_tasks(instance_id) == [("triage", "software", "ready")]
        assert db.task(instance_id, "triage").due_at is not None


# -- the paths -----------------------------------------------------------------------------


def test_triage_refuses_a_report_that_is_no_fault_and_the_requester_hears_why(site):
    db = site
    instance_id = db.start(KEY, _bug())
    assert db.refused_fields(instance_id, "triage", "yazilim.gel", {"triage_decision": "reject"}) == [
        "rejection_reason"]

    _work(db, instance_id, "triage", {"triage_decision": "reject",
                                      "rejection_reason": "Ondalık not girişi yönetmelikçe kapalıdır."})

    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert _headers(db, instance_id) == [("maintenance_rejected", "Yazılım bakım talebiniz reddedildi")]
    body = db.mails(instance_id)[0].body
    assert APP in body and "yönetmelikçe kapalıdır" in body


def test_fixed_tested_accepted_and_released(site):
    db = site
    instance_id = _to_fix(db, "high")
    fix = db.task(instance_id, "fix")
    assert (fix.group_name, fix.state) == ("software", "ready")
    # High priority: the request's priority gives the team one working day (engine/priority.py);
    # the lead hears of it after the process's three.
    prioritized = db.task(instance_id, "prioritize").completed_at
    assert abs(fix.due_at - workdays.add_working_days(prioritized, 1)) < timedelta(minutes=1)
    with db.tx() as session:
        assert session.get(RequestFact, instance_id).priority == "high"
    db.timer_due(instance_id, workdays.add_working_days(prioritized, 3))
    assert db.refused_fields(instance_id, "fix", "yazilim.gel", {"fix_outcome": "fixed"}) == [
        "fix_summary", "test_instructions"]

    _work(db, instance_id, "fix", FIXED)

    assert db.status(instance_id) == InstanceStatus.WAITING
    assert _waits(db, instance_id) == ["acceptance_confirmed"]
    assert _headers(db, instance_id) == [("maintenance_test", "Düzeltme test ortamında: lütfen deneyin")]
    assert "obs-test.example.edu.tr" in db.mails(instance_id)[0].body

    _accept(db, instance_id, True, "Çalışıyor, teşekkürler.")
    assert db.human_tasks(instance_id)[-1] == ("release", "software", "ready")
    _work(db, instance_id, "release", RELEASE)

    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert [t for t, _ in _headers(db, instance_id)] == ["maintenance_test", "maintenance_released"]
    released = db.mails(instance_id)[-1].body
    assert "4.12.1" in released and "kabul edilmiş sayıldı" not in released
    assert db.timer_dues(instance_id) == []          # the escalation timers went with their tasks
    assert [a for a in db.actions(instance_id) if a == "task.completed"] == ["task.completed"] * 4


def test_not_accepted_goes_back_to_the_fix_with_the_requesters_note(site):
    db = site
    instance_id = _to_fix(db, "normal")
    _work(db, instance_id, "fix", FIXED)

    _accept(db, instance_id, False, "Virgül tamam ama 100 girince de hata veriyor.")

    assert db.human_tasks(instance_id)[-2:] == [("fix", "software", "completed"), ("fix", "software", "ready")]
    with db.tx() as session:
        data = runtime.load_instance(session, instance_id).workflow.last_task.data
        assert data["acceptance_note"] == "Virgül tamam ama 100 girince de hata veriyor."
    _work(db, instance_id, "fix", {**FIXED, "fix_summary": "100 de kabul ediliyor."})
    _accept(db, instance_id, True)
    _work(db, instance_id, "release", RELEASE)

    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert [t for t, _ in _headers(db, instance_id)] == ["maintenance_test", "maintenance_test",
                                                         "maintenance_released"]


def test_a_fix_that_will_not_be_made_is_explained_to_the_requester(site):
    db = site
    instance_id = _to_fix(db, "low")
    _work(db, instance_id, "fix", {"fix_outcome": "wont_fix",
                                   "wont_fix_reason": "OBS yeni sürümde değişecek; bu modül kapanıyor."})

    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert _headers(db, instance_id) == [("maintenance_wont_fix", "Bakım talebiniz yerine getirilemeyecek")]
    assert "bu modül kapanıyor" in db.mails(instance_id)[0].body


# -- timers --------------------------------------------------------------------------------


def test_an_untriaged_report_is_mailed_to_the_group_lead_and_stays_with_the_team(site, clock_at, every_start):
    db = site
    instance_id = db.start(KEY, _bug())
    due = db.timer_due(instance_id, workdays.add_working_days(every_start, 1))
    assert abs(db.task(instance_id, "triage").due_at - due) < timedelta(minutes=1)

    clock_at(due - timedelta(minutes=5))
    assert db.work() == 0
    clock_at(due + timedelta(minutes=1))
    db.work()

    assert db.mail_headers(instance_id) == [
        (LEAD, "Ön değerlendirmesi gecikmiş bakım talebi: OBS not girişi ondalık virgülü kabul etmiyor")]
    assert APP in db.mail_bodies(instance_id)[0]
    assert db.human_tasks(instance_id) == [("triage", "software", "ready")]


def test_the_priority_sets_the_fix_deadline_and_the_lead_hears_when_it_passes(site, clock_at):
    db = site
    critical = _to_fix(db, "urgent")
    low = _to_fix(db, "low")
    start = db.task(critical, "prioritize").completed_at
    [due_critical] = db.timer_dues(critical)
    assert due_critical == db.timer_due(critical, workdays.add_working_days(start, 1))
    [due_low] = db.timer_dues(low)
    assert due_low == db.timer_due(low, workdays.add_working_days(start, 20))

    clock_at(due_critical + timedelta(minutes=1))
    db.work()

    assert db.mail_headers(critical) == [
        (LEAD, "Süresi geçen yazılım bakım talebi: OBS not girişi ondalık virgülü kabul etmiyor")]
    assert "(1 iş günü, öncelik: Acil)" in db.mail_bodies(critical)[0]
    assert db.human_tasks(critical)[-1] == ("fix", "software", "ready")
    assert db.mail_headers(low) == []


def test_five_silent_working_days_count_as_acceptance(site, sek_worker):
    db = site
    instance_id = _to_fix(db, "high")
    _work(db, instance_id, "fix", FIXED)
    [due] = db.timer_dues(instance_id)
    assert due == db.timer_due(instance_id, workdays.add_working_days(
        db.task(instance_id, "fix").completed_at, 5))

    sek_worker(due - utcnow() + timedelta(minutes=2))

    assert db.human_tasks(instance_id)[-1] == ("release", "software", "ready")
    assert _waits(db, instance_id) == []
    assert "timer.fired" in db.actions(instance_id)
    _work(db, instance_id, "release", RELEASE)
    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert "kabul edilmiş sayıldı" in db.mails(instance_id)[-1].body


def test_an_english_requester_reads_english_mails(site):
    db = site
    with db.tx() as session:
        instance_id = runtime.start_instance(session, KEY, data=_bug(), actor="portal").id
        conversation.record_contact(session, instance_id, name="Deniz Arslan", email=REQUESTER, locale="en")
    db.work()
    _work(db, instance_id, "triage", {"triage_decision": "accept"})
    _work(db, instance_id, "prioritize", {"priority": "normal"}, "yazilim.lider")
    _work(db, instance_id, "fix", FIXED)
    [mail] = db.mails(instance_id)
    subject = db.requester_subject(instance_id, mail, "maintenance_test", "en", to=REQUESTER)
    assert subject == "The fix is on the test system: please try it"
    assert "within 5 working days" in mail.body


def test_the_timers_wait_in_the_job_table(site):
    db = site
    instance_id = _to_fix(db, "normal")
    with db.tx() as session:
        kinds = list(session.scalars(select(Job.kind).where(Job.instance_id == instance_id, Job.state == "pending")))
    assert kinds == ["timer"]
