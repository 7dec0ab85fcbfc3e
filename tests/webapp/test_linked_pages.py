"""Linked requests on the pages (issue 14, C3): the staff request and task pages show the
parent ("Üst talep") and the linked requests ("Bağlı talepler") the reader may see; the
requester's tracking page lists the linked requests opened for the same requester."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from engine import conversation, linked, runtime
from engine.jobs import WorkerSettings
from engine.models import HumanTask
from engine.worker import run_due_jobs

LINKS = Path(__file__).resolve().parents[1] / "data" / "links"
FAST = WorkerSettings(backoff_seconds=0.01, poll_seconds=0.01)
EMAIL = "elif.demir@example.edu.tr"


@pytest.fixture
def family(db, deploy, make_user):
    """A parent (helpdesk) that started a child (network) for its requester."""
    make_user("ayse", groups=("helpdesk",))
    make_user("mert", groups=("network",))
    make_user("root", groups=(), roles=("admin",))
    deploy(LINKS / "link_parent.bpmn", LINKS / "link_child.bpmn", LINKS / "link_child.start.schema.json")
    with db.tx() as session:
        parent = runtime.start_instance(session, "link_parent", actor="ayse", data={
            "child_process": "link_child", "child_data": {"summary": "Port açılması"}})
        conversation.record_contact(session, parent.id, name="Elif Demir", email=EMAIL)
    run_due_jobs(db.factory, FAST)
    with db.tx() as session:
        [child] = linked.children_of(session, parent.id)
        task_id = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == child.instance.id))
        return {"parent": parent.id, "parent_code": parent.tracking_code, "child": child.instance.id,
                "child_code": child.instance.tracking_code, "child_task": task_id}


def _page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def test_an_admin_sees_the_parent_and_its_linked_request(client, auth, family):
    auth.login("root")
    parent = _page(client, f"/instances/{family['parent']}")
    assert "Bağlı talepler" in parent and 'data-testid="linked-child"' in parent
    assert family["child_code"] in parent and f'href="/instances/{family["child"]}"' in parent
    child = _page(client, f"/instances/{family['child']}")
    assert "Üst talep" in child and family["parent_code"] in child
    assert f'href="/instances/{family["parent"]}"' in child


def test_staff_see_only_the_relatives_they_may_see(client, auth, family):
    auth.login("ayse")                          # the help desk worked the parent, not the network's child
    parent = _page(client, f"/instances/{family['parent']}")
    assert 'data-testid="linked-requests"' not in parent and f'href="/instances/{family["child"]}"' not in parent
    assert client.get(f"/instances/{family['child']}").status_code == 403
    auth.logout()
    auth.login("mert")                          # the network team has the child's task, not the parent
    task = _page(client, f"/tasks/{family['child_task']}")
    assert 'data-testid="linked-parent"' not in task and f'href="/instances/{family["parent"]}"' not in task


def test_the_task_page_shows_the_parent_to_who_may_see_it(client, auth, family):
    auth.login("root")
    task = _page(client, f"/tasks/{family['child_task']}")
    assert 'data-testid="linked-parent"' in task and family["parent_code"] in task


def test_the_requester_sees_the_linked_request_on_the_tracking_page(client, db, family):
    answer = client.post("/takip", data={"csrf_token": _csrf(client), "code": family["parent_code"], "email": EMAIL})
    assert answer.status_code == 302
    page = _page(client, f"/takip/{family['parent_code']}")
    assert 'data-testid="track-child"' in page and family["child_code"] in page and "İşlemde" in page


def test_a_linked_request_of_another_requester_is_not_listed(client, db, family):
    with db.tx() as session:
        contact = conversation.contact_of(session, family["child"])
        contact.email, contact.email_key = "baska@example.edu.tr", "baska@example.edu.tr"
    client.post("/takip", data={"csrf_token": _csrf(client), "code": family["parent_code"], "email": EMAIL})
    page = _page(client, f"/takip/{family['parent_code']}")
    assert family["child_code"] not in page and 'data-testid="track-children"' not in page


def _csrf(client) -> str:
    import re
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/takip").get_data(as_text=True)).group(1)
