"""SEK 08-04-05 software_development through the engine: analysis, development and test
(a failed test goes back), the unit's acceptance (requested changes go back), release
and the mail to the requesting unit."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import runtime, tasks, users, workdays
from engine.errors import ValidationError
from engine.models import HumanTask, InstanceStatus, Job, ProcessInstance

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
FROM_REQUEST = {
    "requester": "Aylin Kara", "requester_email": "aylin.kara@example.edu.tr",
    "unit": "Öğrenci İşleri Daire Başkanlığı", "subject": "Mezuniyet anketi", "software_name": "Mezuniyet anketi",
    "need_description": "Mezun olan öğrencilere çevrim içi anket.", "effort_days": 12.5, "priority": "orta",
    "request_instance_id": 1, "request_tracking_code": "ABCDEFGH23",
}
ANALYSIS = {"requirements_note": "Anket soruları birimden; BYS'den mezun listesi.",
            "planned_release_date": "2027-02-15"}
PASSED = {"development_note": "Anket formu ve raporu.", "test_result": "geçti"}
RELEASE = {"version": "1.0.0", "release_note": "İlk sürüm: anket formu ve sonuç raporu."}


@pytest.fixture
def deployed(db, deploy, make_user):
    make_user("yazilimci", groups=("software",))
    deploy(*sorted(BPMN.glob("software_development.*")))
    return db


def start(db, data: dict) -> int:
    with db.tx() as session:
        return runtime.start_instance(session, "software_development", data=data, actor=None).id


def open_task(db, instance_id: int) -> HumanTask | None:
    with db.tx() as session:
        return session.scalar(select(HumanTask).where(
            HumanTask.instance_id == instance_id, HumanTask.state.in_(("ready", "claimed"))))


def complete(db, instance_id: int, bpmn_id: str, data: dict) -> None:
    row = open_task(db, instance_id)
    assert row is not None and row.bpmn_id == bpmn_id, row and row.bpmn_id
    assert row.group_name == "software" and row.due_at is not None
    with db.tx() as session:
        tasks.complete_task(session, row.id, users.acting_user(session, "yazilimci"), data)


def test_analysis_is_due_in_ten_working_days(deployed, every_start):
    db = deployed
    instance_id = start(db, FROM_REQUEST)
    task = open_task(db, instance_id)
    assert (task.bpmn_id, task.name, task.group_name) == ("analysis", "Analiz", "software")
    with db.tx() as session:
        started = session.get(ProcessInstance, instance_id).created_at
    assert abs((task.due_at - workdays.add_working_days(started, 10)).total_seconds()) < 60
    assert abs(started - every_start) < timedelta(minutes=1)
    assert workdays.is_working_day(task.due_at.astimezone(workdays.ZONE).date())


def test_failed_tests_and_requested_changes_go_back_to_development(deployed):
    db = deployed
    instance_id = start(db, FROM_REQUEST)
    complete(db, instance_id, "analysis", ANALYSIS)
    complete(db, instance_id, "develop_and_test", {"test_result": "kaldı", "test_note": "Rapor boş geliyor."})
    complete(db, instance_id, "develop_and_test", PASSED)
    complete(db, instance_id, "user_acceptance", {"acceptance": "değişiklik",
                                                  "acceptance_note": "Bölüm kırılımı da olsun."})
    complete(db, instance_id, "develop_and_test", PASSED)
    complete(db, instance_id, "user_acceptance", {"acceptance": "kabul"})
    complete(db, instance_id, "release", RELEASE)
    assert db.status(instance_id) == InstanceStatus.WAITING         # the mail's service task
    db.work()

    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert db.human_tasks(instance_id) == [
        ("analysis", "software", "completed"),
        ("develop_and_test", "software", "completed"),
        ("develop_and_test", "software", "completed"),
        ("user_acceptance", "software", "completed"),
        ("develop_and_test", "software", "completed"),
        ("user_acceptance", "software", "completed"),
        ("release", "software", "completed"),
    ]
    [released] = db.mails(instance_id)
    assert released.recipients == "aylin.kara@example.edu.tr"
    assert released.subject == "Yazılımınız yayına alındı: Mezuniyet anketi 1.0.0"
    assert "İlk sürüm: anket formu ve sonuç raporu." in released.body
    assert "takip kodu: ABCDEFGH23" in released.body
    assert db.actions(instance_id) == ["instance.started", *["task.completed"] * 7, "service.completed"]


@pytest.mark.parametrize("bpmn_id, steps, data, field", [
    ("develop_and_test", [("analysis", ANALYSIS)], {"test_result": "kaldı"}, "test_note"),
    ("develop_and_test", [("analysis", ANALYSIS)], {"test_result": "belki"}, "test_result"),
    ("user_acceptance", [("analysis", ANALYSIS), ("develop_and_test", PASSED)], {"acceptance": "değişiklik"},
     "acceptance_note"),
    ("release", [("analysis", ANALYSIS), ("develop_and_test", PASSED), ("user_acceptance", {"acceptance": "kabul"})],
     {"version": "bir nokta sıfır", "release_note": "x"}, "version"),
    ("analysis", [], {"requirements_note": "x", "planned_release_date": "15.02.2027"}, "planned_release_date"),
])
def test_forms_refuse_what_the_team_must_explain(deployed, bpmn_id, steps, data, field):
    db = deployed
    instance_id = start(db, FROM_REQUEST)
    for step, step_data in steps:
        complete(db, instance_id, step, step_data)
    with pytest.raises(ValidationError) as caught:
        complete(db, instance_id, bpmn_id, data)
    assert {problem.location for problem in caught.value.problems} == {field}


def test_a_development_started_by_the_team_ends_without_a_mail(deployed):
    db = deployed
    instance_id = start(db, {"software_name": "Nöbet çizelgesi", "need_description": "Destek masası nöbetleri."})
    complete(db, instance_id, "analysis", ANALYSIS)
    complete(db, instance_id, "develop_and_test", PASSED)
    complete(db, instance_id, "user_acceptance", {"acceptance": "kabul"})
    complete(db, instance_id, "release", RELEASE)
    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert db.mails(instance_id) == []
    with db.tx() as session:
        assert session.scalars(select(Job).where(Job.instance_id == instance_id)).all() == []


def test_sek_worker_sends_the_release_mail(deployed, sek_worker):
    """No timer here: a real `sek worker --once` (clock shifted a month) runs only the mail."""
    db = deployed
    instance_id = start(db, FROM_REQUEST)
    complete(db, instance_id, "analysis", ANALYSIS)
    complete(db, instance_id, "develop_and_test", PASSED)
    complete(db, instance_id, "user_acceptance", {"acceptance": "kabul"})
    complete(db, instance_id, "release", RELEASE)
    proc = sek_worker("P30D")
    assert "2 job(s) run" in proc.stdout                # the service task, then its mail
    assert db.status(instance_id) == InstanceStatus.COMPLETED
    [released] = db.mails(instance_id)
    assert (released.recipients, released.state) == ("aylin.kara@example.edu.tr", "outbox")
