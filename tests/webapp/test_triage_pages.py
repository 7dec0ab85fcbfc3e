"""The triage panel of the task page and the request page: priority, category and
duplicate link, each a POST with CSRF and a permission check."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import clock, conversation, runtime, tasks, users
from engine.jobs import WorkerSettings
from engine.models import HumanTask, MailMessage, ProcessInstance, RequestFact
from engine.workdays import ZONE
from engine.worker import run_due_jobs
from processes import duplicates

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
MONDAY = datetime(2026, 11, 2, 10, 0, tzinfo=ZONE)


@pytest.fixture
def desk(db, deploy, make_user):
    clock.pin(MONDAY)
    make_user("destek", groups=("helpdesk",))
    make_user("ag", groups=("network",))
    make_user("yazilim", groups=("software",))
    deploy(*sorted(BPMN.glob("user_support.*")))
    yield db
    clock.set_shift(timedelta(0))


def _start(db, email="ali@example.edu.tr", category="Diğer"):
    """A request; "Diğer" goes to the help desk's own queue."""
    with db.tx() as session:
        return runtime.start_instance(session, "user_support", actor="portal", data={
            "category": category, "subject": "VPN bağlanmıyor", "requester": "Ali Veli",
            "requester_email": email}).id


def _task(db, instance_id):
    with db.tx() as session:
        return session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id)
                              .order_by(HumanTask.id.desc()).limit(1))


def _code(db, instance_id):
    with db.tx() as session:
        return session.get(ProcessInstance, instance_id).tracking_code


def _fact(db, instance_id):
    with db.tx() as session:
        return session.get(RequestFact, instance_id)


def test_the_help_desk_sets_priority_from_its_task_and_the_due_date_moves(client, auth, desk):
    db = desk
    instance_id = _start(db)
    task = _task(db, instance_id)
    auth.login("destek")
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert 'data-testid="triage"' in page and 'data-testid="triage-category"' in page
    assert "Acil" in page                                  # the priorities in Turkish

    refused = client.post(f"/tasks/{task.id}/triage/priority", data={"priority": "urgent"})
    assert refused.status_code == 400                      # no CSRF token
    assert _fact(db, instance_id).priority == "normal"

    response = client.post(f"/tasks/{task.id}/triage/priority", data={
        "priority": "urgent", "csrf_token": auth.csrf(f"/tasks/{task.id}")}, follow_redirects=True)
    assert response.status_code == 200 and "Öncelik Acil olarak ayarlandı" in response.get_data(as_text=True)
    assert _fact(db, instance_id).priority == "urgent"
    assert _task(db, instance_id).due_at.astimezone(ZONE).hour == 14     # four working hours from 10:00
    assert "Öncelik değişti: Normal → Acil" in response.get_data(as_text=True)   # the history says so


def test_only_those_who_may_see_the_request_triage_it(client, auth, desk):
    db = desk
    instance_id = _start(db, category="VPN Bağlantısı")
    task = _task(db, instance_id)
    auth.login("yazilim")                                  # another team: the request is not theirs
    token = auth.csrf("/inbox")
    assert client.post(f"/tasks/{task.id}/triage/priority", data={
        "priority": "urgent", "csrf_token": token}).status_code == 403
    assert client.post(f"/instances/{instance_id}/priority", data={
        "priority": "urgent", "csrf_token": token}).status_code == 403
    auth.logout()
    auth.login("ag")                                       # the team working it: priority yes, moving no
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert 'data-testid="triage-priority"' in page and 'data-testid="triage-category"' not in page
    assert client.post(f"/tasks/{task.id}/triage/category", data={
        "category": "BYS / Yazılım", "csrf_token": auth.csrf(f"/tasks/{task.id}")}).status_code == 403
    assert _task(db, instance_id).group_name == "network"
    assert _fact(db, instance_id).priority == "normal"


def test_recategorize_from_the_help_desk_task(client, auth, desk):
    db = desk
    instance_id = _start(db)
    task = _task(db, instance_id)
    auth.login("destek")
    response = client.post(f"/tasks/{task.id}/triage/category", data={
        "category": "BYS / Yazılım", "note": "BYS girişi", "csrf_token": auth.csrf(f"/tasks/{task.id}")})
    assert response.status_code == 302 and response.headers["Location"].endswith("/inbox")
    assert _task(db, instance_id).group_name == "software"


def test_mark_a_duplicate_by_tracking_code_then_unlink_it_on_the_request_page(client, auth, desk):
    db = desk
    main, copy = _start(db), _start(db, "ayse@example.edu.tr")
    code = _code(db, main)
    task = _task(db, copy)
    auth.login("destek")
    token = auth.csrf(f"/tasks/{task.id}")
    bad = client.post(f"/tasks/{task.id}/triage/duplicate", data={"main": "YOKBOYLEKOD", "csrf_token": token},
                      follow_redirects=True)
    assert "YOKBOYLEKOD" in bad.get_data(as_text=True) and _fact(db, copy).duplicate_of is None
    itself = client.post(f"/tasks/{task.id}/triage/duplicate", data={
        "main": _code(db, copy), "csrf_token": token}, follow_redirects=True)
    assert "bir talep kendisinin kopyası olamaz" in itself.get_data(as_text=True)

    response = client.post(f"/tasks/{task.id}/triage/duplicate", data={"main": code, "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/inbox")
    assert _fact(db, copy).duplicate_of == main
    page = client.get(f"/instances/{copy}").get_data(as_text=True)
    assert 'data-testid="triage-main"' in page and f"#{main}" in page
    assert f"Kopya olarak işaretlendi: #{main}" in page
    assert f"#{copy}" in client.get(f"/instances/{main}").get_data(as_text=True)

    # a public message on the main request reaches the waiting duplicate's requester, in English
    with db.tx() as session:
        conversation.record_contact(session, copy, name="Ayşe", email="ayse@example.edu.tr", locale="en")
    client.post(f"/instances/{main}/messages", data={
        "kind": "public", "message": "Kesinti üzerinde çalışıyoruz.", "csrf_token": auth.csrf(f"/instances/{main}")})
    with db.tx() as session:
        assert conversation.messages_of(session, copy)[-1].body == "Kesinti üzerinde çalışıyoruz."
        [mail] = session.scalars(select(MailMessage).where(MailMessage.instance_id == copy)).all()
        assert (mail.recipients, mail.template, mail.language) == ("ayse@example.edu.tr", "message", "en")

    response = client.post(f"/instances/{copy}/duplicate/unlink", data={"csrf_token": auth.csrf(f"/instances/{copy}")},
                           follow_redirects=True)
    assert "artık" in response.get_data(as_text=True)
    assert _fact(db, copy).duplicate_of is None
    assert _task(db, copy).state == "ready"


def test_a_duplicate_that_has_its_answer_offers_no_unlink(client, auth, desk):
    """Unlinking works only while the duplicate waits for the main request: once the answer
    reached it, the panel does not offer a button that can only be refused."""
    db = desk
    main, copy = _start(db), _start(db, "ayse@example.edu.tr")
    with db.tx() as session:
        duplicates.link_request(session, copy, _code(db, main), by="destek")
    auth.login("destek")
    assert 'data-testid="triage-unlink"' in client.get(f"/instances/{copy}").get_data(as_text=True)

    with db.tx() as session:
        tasks.complete_task(session, _task(db, main).id, users.acting_user(session, "destek"),
                            {"action": "answer", "answer": "Kesinti giderildi."})
    run_due_jobs(db.factory, WorkerSettings(backoff_seconds=0.01, poll_seconds=0.01))   # the answer reaches the copy
    with db.tx() as session:
        assert conversation.messages_of(session, copy)[-1].body == "Kesinti giderildi."
    page = client.get(f"/instances/{copy}").get_data(as_text=True)
    assert 'data-testid="triage-main"' in page and f"#{main}" in page     # still said whose duplicate it is
    assert 'data-testid="triage-unlink"' not in page
