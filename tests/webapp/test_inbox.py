"""The inbox and task pages through the Flask test client: what staff see and do."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from engine.models import AuditEvent, HumanTask


def _task_id(db, instance_id, bpmn_id="triage"):
    with db.tx() as session:
        return session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance_id,
                                                          HumanTask.bpmn_id == bpmn_id))


def test_inbox_lists_group_tasks_and_claim_moves_them_to_mine(client, auth, make_user, support_request, db):
    make_user("ayse", groups=("helpdesk",))
    instance_id = support_request("Eduroam bağlanmıyor")
    task_id = _task_id(db, instance_id)
    auth.login("ayse")
    page = client.get("/inbox?section=group").get_data(as_text=True)
    assert f'data-task-id="{task_id}"' in page
    assert "Talebi değerlendir ve yönlendir" in page

    response = client.post(f"/tasks/{task_id}/claim", data={"csrf_token": auth.csrf("/inbox"),
                                                            "next": "/inbox?section=group"})
    assert response.status_code == 302
    mine = client.get("/inbox?section=mine").get_data(as_text=True)
    assert f'data-task-id="{task_id}"' in mine
    with db.tx() as session:
        task = session.get(HumanTask, task_id)
        assert (task.state, task.assignee) == ("claimed", "ayse")


def test_task_form_errors_keep_typed_values_then_complete(client, auth, make_user, support_request, db):
    make_user("ayse", groups=("helpdesk",))
    instance_id = support_request("Yazıcı çalışmıyor")
    task_id = _task_id(db, instance_id)
    auth.login("ayse")
    token = auth.csrf(f"/tasks/{task_id}")
    bad = client.post(f"/tasks/{task_id}/complete", data={
        "csrf_token": token, "category": "Donanım / Arıza", "team": "", "triage_note": "Önce ağ ekibi baksın",
    })
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert 'data-testid="error-team"' in html
    assert "Bu alan zorunludur" in html                      # Turkish by default
    assert "Önce ağ ekibi baksın" in html                    # what was typed is kept
    assert re.search(r'<option value="Donanım / Arıza" selected', html)
    with db.tx() as session:
        assert session.get(HumanTask, task_id).state == "ready"   # nothing was saved

    good = client.post(f"/tasks/{task_id}/complete", data={
        "csrf_token": token, "category": "Donanım / Arıza", "team": "systems", "triage_note": "",
    })
    assert good.status_code == 302
    with db.tx() as session:
        task = session.get(HumanTask, task_id)
        assert (task.state, task.completed_by) == ("completed", "ayse")
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "task.completed"))
        assert event.data["data"]["team"] == "systems"
        assert session.scalar(select(HumanTask.group_name).where(HumanTask.bpmn_id == "team_work")) == "systems"
    assert f'data-task-id="{task_id}"' not in client.get("/inbox?section=group").get_data(as_text=True)


def test_completed_meanwhile_gives_a_plain_message(client, auth, make_user, support_request, db):
    from engine import tasks, users

    make_user("ayse", groups=("helpdesk",))
    make_user("mehmet", groups=("helpdesk",))
    task_id = _task_id(db, support_request())
    auth.login("ayse")
    token = auth.csrf(f"/tasks/{task_id}")
    with db.tx() as session:
        tasks.complete_task(session, task_id, users.get_user(session, "mehmet"),
                            {"category": "Diğer", "team": "network"})
    response = client.post(f"/tasks/{task_id}/complete", data={
        "csrf_token": token, "category": "Diğer", "team": "systems"})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert 'data-testid="notice"' in html and "mehmet" in html
    with db.tx() as session:
        assert session.scalar(select(HumanTask.group_name).where(HumanTask.bpmn_id == "team_work")) == "network"


def test_instance_page_shows_tasks_data_and_timeline(client, auth, make_user, support_request, db):
    make_user("ayse", groups=("helpdesk",))
    instance_id = support_request("Şifre sıfırlama", requester="Ali Veli")
    auth.login("ayse")
    html = client.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert "Şifre sıfırlama" in html and "Ali Veli" in html
    assert 'data-action="instance.started"' in html
    assert "Talebi değerlendir ve yönlendir" in html


def test_instructions_markdown_is_escaped(client, auth, make_user, support_request, db):
    make_user("ayse", groups=("helpdesk",))
    task_id = _task_id(db, support_request("<script>alert(1)</script>"))
    with db.tx() as session:
        session.get(HumanTask, task_id).instructions = "**Dikkat** <img src=x onerror=alert(1)>"
    auth.login("ayse")
    html = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "<strong>Dikkat</strong>" in html
    assert "<img src=x" not in html and "&lt;img src=x" in html
    assert "<script>alert(1)</script>" not in html


def test_admin_reassigns_to_a_group_member_only(client, auth, make_user, support_request, db):
    make_user("root", groups=(), roles=("admin",))
    make_user("ayse", groups=("helpdesk",))
    make_user("mehmet", groups=("network",))
    task_id = _task_id(db, support_request())
    auth.login("root")
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert '<option value="ayse"' in page and '<option value="mehmet"' not in page

    token = auth.csrf(f"/tasks/{task_id}")
    client.post(f"/tasks/{task_id}/reassign", data={"csrf_token": token, "assignee": "mehmet"})
    with db.tx() as session:
        assert session.get(HumanTask, task_id).assignee is None   # not in helpdesk: refused
    client.post(f"/tasks/{task_id}/reassign", data={"csrf_token": token, "assignee": "ayse"})
    with db.tx() as session:
        task = session.get(HumanTask, task_id)
        assert (task.state, task.assignee) == ("claimed", "ayse")
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "task.reassigned"))
        assert (event.actor, event.data["after"]) == ("root", "ayse")


def test_staff_cannot_reassign(client, auth, make_user, support_request, db):
    make_user("ayse", groups=("helpdesk",))
    make_user("veli", groups=("helpdesk",))
    task_id = _task_id(db, support_request())
    auth.login("ayse")
    assert 'data-testid="reassign"' not in client.get(f"/tasks/{task_id}").get_data(as_text=True)
    response = client.post(f"/tasks/{task_id}/reassign", data={"csrf_token": auth.csrf(f"/tasks/{task_id}"),
                                                               "assignee": "veli"})
    assert response.status_code == 403
    with db.tx() as session:
        assert session.get(HumanTask, task_id).assignee is None


def test_a_process_failing_on_the_answer_saves_nothing_and_says_where(client, auth, make_user, db, deploy):
    from pathlib import Path

    from engine import runtime

    make_user("ayse", groups=("helpdesk",))
    deploy(Path(__file__).resolve().parents[1] / "data" / "webapp" / "broken_route.bpmn")
    with db.tx() as session:
        instance_id = runtime.start_instance(session, "broken_route", data={"divisor": 0}).id
    task_id = _task_id(db, instance_id, "ask")
    auth.login("ayse")
    response = client.post(f"/tasks/{task_id}/complete", data={"csrf_token": auth.csrf(f"/tasks/{task_id}")})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "divide" in html and "hiçbir şey kaydedilmedi" in html
    with db.tx() as session:
        assert session.get(HumanTask, task_id).state == "ready"


def test_page_views_do_not_wait_for_a_writer_on_sqlite(client, auth, make_user, support_request, db):
    """A GET page reads a WAL snapshot: a long write elsewhere does not hold it up."""
    import time

    from sqlalchemy import text

    if db.dialect != "sqlite":
        pytest.skip("the write lock at BEGIN is SQLite's (PostgreSQL readers never wait)")
    make_user("ayse", groups=("helpdesk",))
    task_id = _task_id(db, support_request())
    auth.login("ayse")
    with db.engine.connect() as writer:
        writer.execute(text("UPDATE human_task SET name = 'renamed meanwhile' WHERE id = :id"), {"id": task_id})
        started = time.monotonic()     # the writer holds the write lock (BEGIN IMMEDIATE) ...
        page = client.get("/inbox?section=group")
        waited = time.monotonic() - started
        writer.rollback()
    assert page.status_code == 200 and f'data-task-id="{task_id}"' in page.get_data(as_text=True)
    assert "renamed meanwhile" not in page.get_data(as_text=True)   # ... and is not visible
    assert waited < 5, f"the page waited {waited:.1f}s for the writer (busy timeout is 30s)"
