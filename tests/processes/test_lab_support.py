"""SEK 08-04-08 Öğrenci Laboratuvarları Destek: every path of ``lab_support`` through the engine.

The three kinds of a coordinator's request (course software by its deadline, a faulty
seat, an image redeploy), each routed to its team with its due time and its lead's
warning; the date rules; the done mail, the five-working-day reopen window (a reopening
goes back to the same team) closed once through a real ``sek worker --once``; a request
that cannot be done.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import assets, clock, conversation, directory, instances, runtime, users
from engine.errors import ValidationError
from engine.models import HumanTask, InstanceStatus, ProcessInstance, utcnow
from engine.workdays import ZONE, add_working_days, is_working_day
from processes import rules

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
KEY = "lab_support"
REQUESTER = "selin.kara@example.edu.tr"
LINK_SECRET = "process-test-secret"
LEADS = {"general": "lab.sefi", "systems": "sistem.sefi", "workshop": "atolye.sefi"}          # the tracking links' secret of tests/processes/conftest.py
SOFTWARE = {"kind": "course_software", "course_code": "BIL 2003", "software_name": "MATLAB",
            "software_version": "R2026a", "licence_type": "campus"}
SEAT = {"kind": "faulty_seat", "labs": ["Mühendislik B-204"], "seat_no": "17",
        "seat_fault": "Açılmıyor, güç düğmesine basınca ışık yanmıyor."}
IMAGE = {"kind": "image_redeploy", "labs": ["Fen A-101"], "redeploy_reason": "Virüs bulaştı, sınav öncesi temiz kurulum."}


def _today() -> date:
    return clock.now().astimezone(ZONE).date()


def _working_day_before(day: date) -> date:
    day -= timedelta(days=1)
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


def _data(kind: dict, **changes) -> dict:
    data = {"requester": "Selin Kara", "requester_email": REQUESTER, "unit": "Mühendislik Fakültesi",
            "subject": "Laboratuvar talebi", "labs": ["Mühendislik B-204", "Mühendislik B-205"], **kind}
    if data["kind"] == "course_software":
        data.setdefault("needed_by", (_today() + timedelta(days=28)).isoformat())
    if data["kind"] == "image_redeploy":
        data.setdefault("redeploy_date", (_today() + timedelta(days=3)).isoformat())
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture(autouse=True)
def _setup(db, deploy, make_user):
    deploy(*sorted(BPMN.glob(f"{KEY}.*")))
    make_user("lab.destek", groups=("general",))
    make_user("sistemci", groups=("systems",))
    make_user("teknisyen", groups=("workshop",))
    with db.tx() as session:        # the group directory: each team's address and lead
        for slug, lead in LEADS.items():
            users.add_user(session, lead, groups=(slug,), email=f"{lead}@bidb.example.edu.tr")
            directory.set_contact(session, slug, f"{slug}@bidb.example.edu.tr", lead, actor="test")


def _start(db, kind: dict, **changes) -> int:
    return db.start(KEY, _data(kind, **changes))


def _newest_task(db, instance_id: int) -> HumanTask:
    with db.tx() as session:
        return session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id)
                              .order_by(HumanTask.id.desc()).limit(1))


def _subject(db, instance_id: int, mail, template: str, language: str = "tr") -> str:
    return db.requester_subject(instance_id, mail, template, language, to=REQUESTER)


# -- the form --------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "missing"), [
    ({"kind": "course_software"}, ["course_code", "licence_type", "needed_by", "software_name", "software_version"]),
    ({"kind": "faulty_seat"}, ["seat_fault", "seat_no"]),
    ({"kind": "image_redeploy"}, ["redeploy_date", "redeploy_reason"]),
])
def test_each_kind_asks_for_its_own_fields(db, kind, missing):
    assert db.refused_start(KEY, {k: v for k, v in _data(kind).items()
                                  if k not in ("needed_by", "redeploy_date")}) == missing


def test_a_course_code_must_look_like_one_and_a_lab_is_named(db):
    assert db.refused_start(KEY, _data(SOFTWARE, course_code="matlab dersi", labs=[])) == ["course_code", "labs"]


def test_course_software_is_asked_for_ten_working_days_ahead(db):
    first = add_working_days(clock.now(), 10).astimezone(ZONE).date()
    with db.tx() as session, pytest.raises(ValidationError) as caught:
        runtime.start_instance(session, KEY, data=_data(SOFTWARE, needed_by=(first - timedelta(days=1)).isoformat()),
                               actor="portal")
    [problem] = caught.value.problems
    assert (problem.location, rules.worded(problem, "tr")) == (
        "needed_by", f"Ders yazılımı en az 10 iş günü önceden istenmelidir: en erken {first:%d.%m.%Y} seçilebilir.")
    assert rules.worded(problem, "en").startswith("Course software must be requested at least 10 working days")
    assert db.start(KEY, _data(SOFTWARE, needed_by=first.isoformat()))        # the first day allowed starts


def test_a_redeploy_is_asked_for_tomorrow_or_later(db):
    with db.tx() as session, pytest.raises(ValidationError) as caught:
        runtime.start_instance(session, KEY, data=_data(IMAGE, redeploy_date=_today().isoformat()), actor="portal")
    [problem] = caught.value.problems
    tomorrow = _today() + timedelta(days=1)
    assert (problem.location, rules.worded(problem, "tr")) == (
        "redeploy_date", f"İmaj yükleme en erken yarın ({tomorrow:%d.%m.%Y}) için istenebilir.")


# -- course software -----------------------------------------------------------------------------


def test_course_software_goes_to_systems_due_before_the_day_needed_and_the_lead_is_warned(db, clock_at):
    needed = _today() + timedelta(days=28)
    instance_id = _start(db, SOFTWARE, needed_by=needed.isoformat())

    assert db.human_tasks(instance_id) == [("prepare_software", "systems", "ready")]
    last = _working_day_before(needed)
    due = datetime.combine(last, time(17, 0), ZONE)
    assert db.task(instance_id, "prepare_software").due_at == due
    warn = datetime.combine(_working_day_before(_working_day_before(_working_day_before(last))), time(9, 0), ZONE)
    assert db.timer_dues(instance_id) == [warn]
    assert db.mails(instance_id) == []

    clock_at(warn - timedelta(minutes=5))
    assert db.work() == 0
    clock_at(warn + timedelta(minutes=1))
    assert db.work() == 3                                       # the timer, the mail task, the mail
    [mail] = db.mails(instance_id)
    assert (mail.recipients, mail.subject) == ("sistem.sefi@bidb.example.edu.tr", "Gecikme: laboratuvar talebi "
                                               "(Mühendislik B-204, Mühendislik B-205)")
    assert f"Gerekli olduğu gün: {needed:%d.%m.%Y}" in mail.body and "Selin Kara" in mail.body
    assert db.human_tasks(instance_id) == [("prepare_software", "systems", "ready")]

    assert db.refused_fields(instance_id, "prepare_software", "sistemci", {"work_result": "done"}) == [
        "installed_version"]
    db.complete(instance_id, "prepare_software", "sistemci",
                {"work_result": "done", "installed_version": "R2026a Update 1", "licence_note": "Kampüs lisansı, 2027-09"})
    done = db.mails(instance_id)[-1]
    assert _subject(db, instance_id, done, "lab_done") == "Laboratuvar talebiniz tamamlandı"
    assert ("BIL 2003 dersi için MATLAB R2026a Update 1 laboratuvar imajına eklendi ve şu laboratuvarlara "
            "yüklendi: Mühendislik B-204, Mühendislik B-205.") in done.body
    assert "Lisans: Kampüs lisansı, 2027-09" in done.body
    assert db.status(instance_id) == InstanceStatus.WAITING
    with db.tx() as session:
        assert conversation.stage_of(session, db.instance(instance_id)) == conversation.Stage.RESOLVED


def test_software_without_a_licence_cannot_be_installed_and_the_coordinator_is_told(db):
    instance_id = _start(db, {**SOFTWARE, "licence_type": "none"})
    assert db.refused_fields(instance_id, "prepare_software", "sistemci", {"work_result": "not_possible"}) == [
        "work_note"]
    db.complete(instance_id, "prepare_software", "sistemci",
                {"work_result": "not_possible", "work_note": "Lisans yok; yazılım alım talebi açılmalı."})
    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert db.timer_dues(instance_id) == []
    [mail] = db.mails(instance_id)
    assert _subject(db, instance_id, mail, "lab_not_done") == "Laboratuvar talebiniz yerine getirilemedi"
    assert "Neden: Lisans yok; yazılım alım talebi açılmalı." in mail.body


# -- a faulty seat: reopened -----------------------------------------------------------------------


def test_a_faulty_seat_goes_to_the_workshop_whose_lead_is_told_after_two_working_days(db, clock_at, every_start):
    instance_id = _start(db, SEAT)
    assert db.human_tasks(instance_id) == [("repair_seat", "workshop", "ready")]
    due = db.timer_due(instance_id, add_working_days(every_start, 2))
    assert abs(db.task(instance_id, "repair_seat").due_at - due) < timedelta(minutes=1)
    clock_at(due + timedelta(minutes=1))
    assert db.work() == 3
    [mail] = db.mails(instance_id)
    assert mail.recipients == "atolye.sefi@bidb.example.edu.tr" and "Mühendislik B-204" in mail.subject


def test_a_reopened_seat_goes_back_to_the_workshop_then_closes_after_five_working_days(db, clock_at):
    instance_id = _start(db, SEAT)
    db.complete(instance_id, "repair_seat", "teknisyen", {"work_result": "done", "seat_action": "fixed_on_site"})
    done = db.mails(instance_id)[-1]
    assert "Mühendislik B-204 laboratuvarındaki 17 numaralı bilgisayarın arızası giderildi." in done.body
    assert "5 iş günü içinde" in done.body

    with db.tx() as session:
        conversation.reopen(session, db.instance(instance_id), "Bilgisayar yine açılmıyor.", email=REQUESTER)
    db.work()

    reopened = db.mails(instance_id)[-1]
    assert _subject(db, instance_id, reopened, "reopened").startswith("Talebiniz yeniden açıldı")
    assert db.human_tasks(instance_id)[-1] == ("repair_seat", "workshop", "ready")
    assert abs(_newest_task(db, instance_id).due_at - add_working_days(utcnow(), 2)) < timedelta(minutes=1)
    db.complete(instance_id, "repair_seat", "teknisyen", {"work_result": "done", "seat_action": "swapped"})

    close = db.timer_due(instance_id, add_working_days(utcnow(), 5))
    clock_at(close - timedelta(hours=1))
    assert db.work() == 0
    clock_at(close + timedelta(minutes=1))
    db.work()
    assert db.status(instance_id) == InstanceStatus.COMPLETED
    assert [task[0] for task in db.human_tasks(instance_id)] == ["repair_seat", "repair_seat"]


# -- an image redeploy ------------------------------------------------------------------------------


def test_an_image_redeploy_is_due_the_working_day_before_and_closes_through_sek_worker(db, sek_worker):
    wanted = _today() + timedelta(days=3)
    instance_id = _start(db, IMAGE, redeploy_date=wanted.isoformat())
    assert db.human_tasks(instance_id) == [("redeploy_image", "general", "ready")]
    assert db.task(instance_id, "redeploy_image").due_at == datetime.combine(_working_day_before(wanted),
                                                                             time(17, 0), ZONE)
    db.complete(instance_id, "redeploy_image", "lab.destek", {"work_result": "done", "image_name": "LAB-W11-2026-11"})
    done = db.mails(instance_id)[-1]
    assert "Fen A-101 laboratuvar(lar)ına LAB-W11-2026-11 imajı yeniden yüklendi." in done.body

    [close] = db.timer_dues(instance_id)
    sek_worker(close - utcnow() - timedelta(hours=1), SECRET_KEY=LINK_SECRET, SEK_BASE_URL="http://sek.test")
    assert db.status(instance_id) == InstanceStatus.WAITING
    sek_worker(close - utcnow() + timedelta(minutes=2), SECRET_KEY=LINK_SECRET, SEK_BASE_URL="http://sek.test")
    assert db.status(instance_id) == InstanceStatus.COMPLETED


def test_a_redeploy_not_done_by_its_due_time_is_told_to_the_lab_staff_lead(db, clock_at):
    wanted = _today() + timedelta(days=3)
    instance_id = _start(db, IMAGE, redeploy_date=wanted.isoformat())
    due = datetime.combine(_working_day_before(wanted), time(17, 0), ZONE)
    assert db.timer_dues(instance_id) == [due]
    clock_at(due + timedelta(minutes=1))
    assert db.work() == 3
    [mail] = db.mails(instance_id)
    assert (mail.recipients, mail.subject) == ("lab.sefi@bidb.example.edu.tr",
                                               "Gecikme: laboratuvar talebi (Fen A-101)")
    assert f"Gerekli olduğu gün: {wanted:%d.%m.%Y}" in mail.body
    assert db.human_tasks(instance_id) == [("redeploy_image", "general", "ready")]


def test_a_coordinator_who_chose_english_gets_the_lab_mails_in_english(db):
    with db.tx() as session:
        instance_id = runtime.start_instance(session, KEY, data=_data(IMAGE), actor="portal").id
        conversation.record_contact(session, instance_id, name="Selin Kara", email=REQUESTER, locale="en")
    db.work()
    db.complete(instance_id, "redeploy_image", "lab.destek",
                {"work_result": "not_possible", "work_note": "Ağ önyükleme sunucusu bakımda."})
    [mail] = db.mails(instance_id)
    assert _subject(db, instance_id, mail, "lab_not_done", "en") == "Your lab request could not be done"
    assert "Reason: Ağ önyükleme sunucusu bakımda." in mail.body


# -- the seat's inventory number ------------------------------------------------------------------


def test_a_seat_inventory_number_must_be_a_registered_lab_seat_or_computer(db):
    with db.tx() as session:
        assets.register(session, {"inventory_no": "253.02.01-2024-000017", "kind": "lab_seat",
                                  "site": "Mühendislik", "room": "B-204"}, actor="test")
        assets.register(session, {"inventory_no": "253.02.03-2022-0009", "kind": "network_device"}, actor="test")
    assert db.refused_start(KEY, _data(SEAT, seat_inventory_no="253.02.01-2024-999999")) == ["seat_inventory_no"]
    assert db.refused_start(KEY, _data(SEAT, seat_inventory_no="253.02.03-2022-0009")) == ["seat_inventory_no"]
    instance_id = _start(db, SEAT, seat_inventory_no="253.02.01-2024-000017")
    assert db.human_tasks(instance_id) == [("repair_seat", "workshop", "ready")]


# -- the pre-semester preparation (recurring) --------------------------------------------------------


def _preparations(db) -> list[ProcessInstance]:
    with db.tx() as session:
        return list(session.scalars(select(ProcessInstance).where(ProcessInstance.process_key == KEY)
                                    .order_by(ProcessInstance.id)))


def _prepare(db, instance_id: int) -> None:
    db.complete(instance_id, "update_images", "lab.destek", {
        "images_labs": ["Mühendislik B-204", "Fen A-101"], "images_name": "LAB-W11-2027-02",
        "images_checks": ["İşletim sistemi güncellemeleri", "Dönemin ders yazılımları imajda"]})
    db.complete(instance_id, "renew_licences", "sistemci", {
        "licence_checks": ["Süresi dolan lisanslar yenilendi", "Lisans sunucusu çalışıyor"],
        "licences_renewed": ["MATLAB – 31.01.2028"]})
    db.complete(instance_id, "check_seats", "teknisyen", {
        "seats_labs": ["Mühendislik B-204", "Fen A-101"], "seats_checks": ["Bilgisayarlar açılıyor ve ağa bağlanıyor"],
        "seats_faulty": "B-204 / 12: monitör yok"})


def test_the_spring_preparation_starts_itself_before_the_semester_through_sek_worker(db, sek_worker):
    spring = datetime(2027, 1, 25, 9, 0, tzinfo=ZONE)             # a Monday, three weeks before classes
    assert _preparations(db) == []

    sek_worker(spring - utcnow() - timedelta(hours=1))
    assert _preparations(db) == []                                # not yet
    sek_worker(spring - utcnow() + timedelta(minutes=1))
    sek_worker(spring - utcnow() + timedelta(minutes=2))          # the same period never starts twice

    [preparation] = _preparations(db)
    assert sorted(db.human_tasks(preparation.id)) == [("check_seats", "workshop", "ready"),
                                                      ("renew_licences", "systems", "ready"),
                                                      ("update_images", "general", "ready")]
    with db.tx() as session:
        data = instances.current_data(session, preparation.id)
    assert data["subject"] == "Bahar dönemi laboratuvar hazırlığı 2027"
    assert (data["semester"], data["academic_year"], data["missed_periods"]) == ("Bahar", "2026-2027", 0)
    assert datetime.fromisoformat(data["scheduled_for"]) == spring
    due = datetime.combine(add_working_days(spring, 10).date(), time(17, 0), ZONE)
    assert db.task(preparation.id, "update_images").due_at == due
    assert db.mails(preparation.id) == []                          # nobody requested it: no requester mails

    _prepare(db, preparation.id)
    assert db.human_tasks(preparation.id)[-1] == ("review_preparation", "general", "ready")
    assert db.refused_fields(preparation.id, "review_preparation", "lab.destek", {"labs_ready": "open_issues"}) == [
        "preparation_note"]
    db.complete(preparation.id, "review_preparation", "lab.destek",
                {"labs_ready": "open_issues", "preparation_note": "B-204 / 12 için arıza talebi açıldı."})
    assert db.status(preparation.id) == InstanceStatus.COMPLETED


def test_a_worker_down_over_both_dates_starts_each_semester_once(db, sek_worker):
    fall = datetime(2027, 9, 1, 9, 0, tzinfo=ZONE)
    sek_worker(fall - utcnow() + timedelta(minutes=1))
    sek_worker(fall - utcnow() + timedelta(minutes=5))

    started = []
    for instance in _preparations(db):
        with db.tx() as session:
            data = instances.current_data(session, instance.id)
        started.append((data["semester"], data["academic_year"], datetime.fromisoformat(data["scheduled_for"])))
    assert sorted(started) == [("Bahar", "2026-2027", datetime(2027, 1, 25, 9, 0, tzinfo=ZONE)),
                               ("Güz", "2027-2028", fall)]
