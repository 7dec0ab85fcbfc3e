"""What an auditor searches by, and an instance's history with the data each event changed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update

from engine import audit_search, conversation, runtime, tasks, users
from engine.audit_search import InstanceFilter
from engine.models import AuditEvent, HumanTask, ProcessInstance
from processes.user_support.recategorize import recategorize

BPMN = Path(__file__).resolve().parents[2] / "bpmn"


@pytest.fixture
def requests(db, deploy, make_user):
    """Three user_support requests: eduroam (network, worked by 'ag', made in March),
    staff e-mail (systems, moved to VPN by 'destek'), internship (software, cancelled)."""
    deploy(BPMN / "user_support.bpmn", BPMN / "user_support.routing.dmn", *sorted(BPMN.glob("user_support.*.json")))
    make_user("ag", groups=("network",), password=None)
    make_user("destek", groups=("helpdesk",), password=None)
    made = {}
    for key, category, name, email in (
        ("wifi", "Kablosuz Ağ (eduroam)", "Elif Şahin", "elif@ogr.example.edu.tr"),
        ("mail", "Personel E-posta", "Mehmet Öz", "mehmet.oz@example.edu.tr"),
        ("intern", "Staj Yönetim Sistemi", "Ali 100%_Veli", "ali@example.com"),
    ):
        with db.tx() as session:
            instance = runtime.start_instance(session, "user_support", actor="portal", data={
                "category": category, "subject": f"{key} sorunu", "requester": name, "requester_email": email})
            conversation.record_contact(session, instance.id, name=name, email=email)
            made[key] = instance.id
    with db.tx() as session:
        task = session.scalar(select(HumanTask).where(HumanTask.instance_id == made["wifi"]))
        tasks.claim_task(session, task.id, users.get_user(session, "ag"))
        session.execute(update(ProcessInstance).where(ProcessInstance.id == made["wifi"])
                        .values(created_at=datetime(2023, 3, 15, 9, tzinfo=UTC)))
    with db.tx() as session:
        recategorize(session, made["mail"], "VPN Bağlantısı", by="destek", note="VPN sorunu")
    with db.tx() as session:
        runtime.cancel_instance(session, made["intern"], actor="destek", reason="mükerrer")
    return made


def ids(db, **criteria) -> set[int]:
    with db.tx() as session:
        return {row.id for row in audit_search.search_instances(session, InstanceFilter(**criteria))}


def test_each_criterion_narrows_the_search(db, requests):
    wifi, mail, intern = requests["wifi"], requests["mail"], requests["intern"]

    assert ids(db) == {wifi, mail, intern}
    assert ids(db, process_key="user_support", version=1) == {wifi, mail, intern}
    assert ids(db, version=2) == set()
    assert ids(db, status="cancelled") == {intern}
    assert ids(db, created_from=datetime(2023, 3, 1, tzinfo=UTC), created_to=datetime(2023, 4, 1, tzinfo=UTC)) == {wifi}
    assert ids(db, created_from=datetime(2024, 1, 1, tzinfo=UTC)) == {mail, intern}
    # the category the request has now: the e-mail request was moved to VPN
    assert ids(db, category="VPN Bağlantısı") == {mail}
    assert ids(db, category="Personel E-posta") == set()
    assert ids(db, category="Kablosuz Ağ (eduroam)") == {wifi}
    assert ids(db, team="network") == {wifi, mail}   # the moved request's new task is the network's
    assert ids(db, team="software") == {intern}
    assert ids(db, requester="elif") == {wifi}
    assert ids(db, requester="EXAMPLE.EDU.TR") == {wifi, mail}
    assert ids(db, requester="100%_") == {intern}    # LIKE wildcards are plain text
    assert ids(db, requester="%") == {intern}
    assert ids(db, actor="ag") == {wifi}
    assert ids(db, actor="destek") == {mail, intern}
    assert ids(db, actor="des") == set()
    assert ids(db, team="network", actor="destek") == {mail}


def test_rows_carry_what_the_result_list_shows(db, requests):
    with db.tx() as session:
        rows = audit_search.search_instances(session, InstanceFilter(), limit=2)
        more = audit_search.search_instances(session, InstanceFilter(), limit=2, offset=2)
    assert [r.id for r in rows] == [requests["intern"], requests["mail"]]   # newest first, paginated
    assert [r.id for r in more] == [requests["wifi"]]
    assert (rows[1].requester, rows[1].category, rows[1].version, rows[1].status) == (
        "Mehmet Öz", "VPN Bağlantısı", 1, "running")


def test_history_shows_each_change_before_and_after(db, requests):
    with db.tx() as session:
        history = audit_search.instance_history(session, requests["mail"])
    actions = [h.event.action for h in history]
    assert actions[:2] == ["instance.started", "message.delivered"]
    started, moved = history[0], history[1]
    assert ("category", None, "Personel E-posta") in [(c.field, c.before, c.after) for c in started.changes]
    assert [(c.field, c.before, c.after) for c in moved.changes if c.field == "category"] == [
        ("category", "Personel E-posta", "VPN Bağlantısı")]
    assert moved.event.actor == "destek" and moved.other["message"] == "recategorize"


def test_events_that_record_before_and_after_show_them():
    events = [
        AuditEvent(action="task.reassigned", actor="admin", seq=1,
                         data={"task_id": 4, "before": "ag", "after": "zeynep"}),
        AuditEvent(action="unit.changed", actor="admin", seq=2,
                         data={"unit_id": 1, "before": {"name": "Fen", "email": None},
                               "after": {"name": "Fen Fakültesi", "email": None}}),
        AuditEvent(action="user.notify_mode", actor="ayse", seq=3, data={"from": "each", "to": "digest"}),
    ]
    history = audit_search.describe_history(events)
    assert [[(c.field, c.before, c.after) for c in h.changes] for h in history] == [
        [("", "ag", "zeynep")], [("name", "Fen", "Fen Fakültesi")], [("", "each", "digest")]]
    assert history[0].other == {"task_id": "4"}
