"""SEK 08-04-31 Laboratuvarlarda Erişim Kısıtlama: every path of ``lab_access_restriction``.

An instructor's exam restriction refused at the door (times, notice, sites), rejected by the
network team, approved and applied 30 minutes before the exam and lifted at its end (the
apply timer once through a real ``sek worker --once``), not reviewed in time, and applied
late (the network lead told). The requester's statuses and mails at each step.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from engine import conversation, runtime
from engine.errors import ValidationError
from engine.models import InstanceStatus, TaskState, utcnow
from engine.workdays import ZONE
from processes import rules

ROOT = Path(__file__).resolve().parents[2]
BPMN = ROOT / "bpmn"
KEY = "lab_access_restriction"
REQUESTER = "zeynep.aydin@example.edu.tr"
# The clock is pinned on Monday 2 November 2026, 10:00; the exam is on Wednesday.
EXAM_DAY = "2026-11-04"
STARTS = datetime(2026, 11, 4, 9, 30, tzinfo=ZONE)
ENDS = datetime(2026, 11, 4, 11, 0, tzinfo=ZONE)
APPROVE = {"review": "approve", "restriction_plan": "LAB-B204-SINAV erişim listesi"}


def _request(**changes) -> dict:
    data = {
        "requester": "Dr. Zeynep Aydın", "requester_email": REQUESTER, "unit": "Bilgisayar Mühendisliği",
        "subject": "BIL 101 ara sınavı", "course": "BIL 101 Programlamaya Giriş", "lab": "Mühendislik B-204",
        "exam_date": EXAM_DAY, "start_time": "09:30", "end_time": "11:00", "allowed": "sites",
        "allowed_sites": ["docs.python.org", "sinav.example.edu.tr"], "student_count": 40,
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture(autouse=True)
def _setup(db, deploy, make_user, group_directory):
    deploy(*sorted(BPMN.glob(f"{KEY}.*")))
    make_user("ag.uzmani", groups=("network",))


def _subjects(db, instance_id: int) -> list[tuple[str, str]]:
    """The requester's mails as ``(template, subject without the code)``; other mails as ``(to, subject)``."""
    found = []
    for mail in db.mails(instance_id):
        if mail.recipients == REQUESTER:
            found.append((mail.template, db.requester_subject(instance_id, mail, mail.template, to=REQUESTER)))
        else:
            found.append((mail.recipients, mail.subject))
    return found


def _approved(db, **changes) -> int:
    instance_id = db.start(KEY, _request(**changes))
    db.complete(instance_id, "review_restriction", "ag.uzmani", dict(APPROVE))
    return instance_id


# -- the door -----------------------------------------------------------------------------


@pytest.mark.parametrize(("changes", "fields"), [
    ({"start_time": "9.30", "end_time": "25:00"}, ["end_time", "start_time"]),
    ({"allowed": "everything"}, ["allowed"]),
    ({"allowed_sites": None}, ["allowed_sites"]),
    ({"allowed_sites": ["python docs"]}, ["allowed_sites.0"]),
    ({"lab": None, "exam_date": "04.11.2026"}, ["exam_date", "lab"]),
])
def test_a_request_the_form_refuses_never_starts(db, changes, fields):
    assert db.refused_start(KEY, _request(**changes)) == fields


def test_sites_are_asked_only_when_listed_sites_are_allowed(db):
    instance_id = db.start(KEY, _request(allowed="exam_system", allowed_sites=None))
    assert db.human_tasks(instance_id) == [("review_restriction", "network", "ready")]


@pytest.mark.parametrize(("changes", "field", "reason"), [
    ({"exam_date": "2026-11-02"}, "exam_date",
     "Kısıtlama en az bir iş günü önceden istenmelidir: sınav tarihi en erken 03.11.2026 olabilir."),
    ({"start_time": "11:00", "end_time": "11:00"}, "end_time", "Bitiş saati başlangıç saatinden sonra olmalıdır."),
    ({"start_time": "08:30", "end_time": "15:00"}, "end_time", "Bir kısıtlama en fazla 6 saat sürebilir."),
])
def test_the_time_rules_refuse_on_every_door(db, changes, field, reason):
    with db.tx() as session, pytest.raises(ValidationError) as caught:
        runtime.start_instance(session, KEY, data=_request(**changes), actor="portal")
    [problem] = caught.value.problems
    assert (problem.location, rules.worded(problem, "tr")) == (field, reason)
    assert rules.worded(problem, "en") != reason


# -- the network team's review --------------------------------------------------------------


def test_the_network_team_rejects_with_a_reason_the_instructor_reads(db):
    instance_id = db.start(KEY, _request())
    review = db.task(instance_id, "review_restriction")
    assert abs(review.due_at - datetime(2026, 11, 3, 10, 0, tzinfo=ZONE)) < timedelta(minutes=1)
    assert db.refused_fields(instance_id, "review_restriction", "ag.uzmani", {"review": "reject"}) == \
        ["rejection_reason"]

    db.complete(instance_id, "review_restriction", "ag.uzmani",
                {"review": "reject", "rejection_reason": "B-204'te o saatte başka bir sınav var."})

    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert _subjects(db, instance_id) == [("lab_restriction_rejected", "Sınav erişim kısıtlamanız onaylanmadı")]
    assert "B-204'te o saatte başka bir sınav var." in db.mails(instance_id)[0].body
    assert db.requester_statuses(instance_id) == ["Ağ ekibinin onayında", "Reddedildi"]
    assert db.timer_dues(instance_id) == []


def test_approved_applied_before_the_exam_and_lifted_at_its_end(db):
    instance_id = _approved(db)

    assert db.status(instance_id) == InstanceStatus.WAITING
    assert _subjects(db, instance_id) == [("lab_restriction_approved", "Sınav erişim kısıtlamanız onaylandı")]
    body = db.mails(instance_id)[0].body
    assert "Sınav: 04.11.2026 09:30-11:00 (BIL 101 Programlamaya Giriş)" in body
    assert "Erişime açık: Yalnızca şu adresler: docs.python.org, sinav.example.edu.tr" in body
    applies_at = db.timer_due(instance_id, STARTS - timedelta(minutes=30))

    # Not a minute early; 30 minutes before the start the network team gets the task.
    assert db.work_at(applies_at - timedelta(minutes=1)) == 0
    db.work_at(applies_at)
    apply = db.task(instance_id, "apply_restriction")
    assert (apply.group_name, apply.state) == ("network", TaskState.READY)
    assert apply.due_at == STARTS
    assert db.refused_fields(instance_id, "apply_restriction", "ag.uzmani", {"applied": False}) == ["applied"]
    db.complete(instance_id, "apply_restriction", "ag.uzmani", {"applied": True})
    assert _subjects(db, instance_id)[-1] == ("lab_restriction_applied", "Laboratuvar erişim kısıtlaması uygulandı")

    # At the end time the lift task; the instructor told when it is lifted.
    ends_at = db.timer_due(instance_id, ENDS)
    db.work_at(ends_at)
    lift = db.task(instance_id, "lift_restriction")
    assert lift.due_at == ENDS + timedelta(hours=1)
    db.complete(instance_id, "lift_restriction", "ag.uzmani", {"lifted": True, "lift_note": "ACL kaldırıldı."})

    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert [template for template, _ in _subjects(db, instance_id)] == [
        "lab_restriction_approved", "lab_restriction_applied", "lab_restriction_lifted"]
    assert db.requester_statuses(instance_id) == [
        "Ağ ekibinin onayında", "Onaylandı: sınavdan önce uygulanacak", "Kısıtlama uygulanıyor",
        "Kısıtlama uygulandı", "Kısıtlama kaldırılıyor", "Kısıtlama uygulandı ve kaldırıldı"]


def test_the_apply_timer_fires_through_sek_worker_once(db, sek_worker):
    instance_id = _approved(db, allowed="nothing", allowed_sites=None)
    applies_at = db.timer_due(instance_id, STARTS - timedelta(minutes=30))

    assert sek_worker(applies_at - utcnow() - timedelta(minutes=5)).stdout.strip() == "0 job(s) run"
    assert sek_worker(applies_at - utcnow() + timedelta(minutes=1)).stdout.strip() == "1 job(s) run"

    assert db.task(instance_id, "apply_restriction").state == TaskState.READY
    assert db.actions(instance_id)[-1] == "timer.fired"


def test_a_request_nobody_reviewed_before_the_apply_time_ends_and_the_lead_is_told(db):
    instance_id = db.start(KEY, _request())
    db.work_at(STARTS - timedelta(minutes=30))

    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert db.human_tasks(instance_id) == [("review_restriction", "network", TaskState.CANCELLED)]
    assert _subjects(db, instance_id) == [
        ("lab_restriction_too_late", "Sınav erişim kısıtlamanız zamanında değerlendirilemedi"),
        ("network@bidb.example.edu.tr", "Değerlendirilmeden kalan sınav kısıtlaması: Mühendislik B-204")]
    assert db.requester_statuses(instance_id)[-1] == "Zamanında değerlendirilemedi"


def test_the_exam_starts_with_the_restriction_not_applied_and_the_lead_is_told(db):
    instance_id = _approved(db)
    db.work_at(STARTS - timedelta(minutes=30))
    db.work_at(STARTS)

    assert db.task(instance_id, "apply_restriction").state == TaskState.READY   # still open
    to, subject = _subjects(db, instance_id)[-1]
    assert (to, subject) == ("network@bidb.example.edu.tr",
                             "ACİL: sınav başladı, erişim kısıtlaması uygulanmadı: Mühendislik B-204")
    assert "Erişime açık: Yalnızca şu adresler" in db.mails(instance_id)[-1].body

    db.complete(instance_id, "apply_restriction", "ag.uzmani", {"applied": True})
    assert db.timer_dues(instance_id) == [ENDS]


def test_an_instructor_who_reads_english_gets_english_mails(db):
    with db.tx() as session:
        instance_id = runtime.start_instance(session, KEY, data=_request(), actor="portal").id
        conversation.record_contact(session, instance_id, name="Dr. Zeynep Aydın", email=REQUESTER, locale="en")
    db.work()
    db.complete(instance_id, "review_restriction", "ag.uzmani", dict(APPROVE))

    [mail] = db.mails(instance_id)
    assert db.requester_subject(instance_id, mail, "lab_restriction_approved", "en", to=REQUESTER) == \
        "Your exam access restriction is approved"
