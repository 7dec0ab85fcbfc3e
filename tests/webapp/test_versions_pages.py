"""The versions pages: every staff member sees the versions and their diff; only process
owners of the owning group (systems, for ``disposal``) and admins move requests."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from engine import runtime, tasks, users
from engine.models import AuditEvent, HumanTask, ProcessInstance

DATA = Path(__file__).resolve().parents[1] / "data" / "versions"
# disposal is a catalog process: its requests say who they are from (processes/requester.py).
REQUEST = {"requester": "Selin Acar", "requester_email": "selin@example.edu.tr", "subject": "Eski yazıcılar"}


@pytest.fixture
def two_versions(db, deploy, make_user):
    """v1 with one request waiting at approve and one at check, then v2 deployed."""
    make_user("selin", groups=("systems",), roles=("staff", "process_owner"))
    make_user("ayse", groups=("helpdesk",), roles=("staff",))
    make_user("kaan", groups=("network",), roles=("staff", "process_owner"))
    make_user("root", groups=(), roles=("admin",))
    deploy(DATA / "versions_v1.bpmn", note="first draft")
    with db.tx() as session:
        at_approve = runtime.start_instance(session, "disposal", data=REQUEST, actor="selin").id
        at_check = runtime.start_instance(session, "disposal", data=REQUEST, actor="selin").id
    with db.tx() as session:
        [check] = session.scalars(select(HumanTask).where(HumanTask.instance_id == at_approve)).all()
        tasks.complete_task(session, check.id, users.get_user(session, "selin"), {})
    deploy(DATA / "versions_v2.bpmn", note="archive after approval")
    return at_approve, at_check


def version_of(db, instance_id: int) -> int:
    with db.tx() as session:
        return session.get(ProcessInstance, instance_id).definition.version


def test_staff_see_every_version_and_a_readable_diff(client, auth, two_versions):
    auth.login("ayse")

    listed = client.get("/processes/disposal/versions")
    page = listed.get_data(as_text=True)
    assert listed.status_code == 200
    assert "first draft" in page and "archive after approval" in page and 'data-version="2"' in page
    assert "/versions/2/migrate" not in page   # not a process owner: no migrate link

    compared = client.get("/processes/disposal/versions/compare?a=2&b=1")
    assert compared.status_code == 302 and compared.headers["Location"].endswith("/versions/1/diff/2")
    diff = client.get("/processes/disposal/versions/1/diff/2").get_data(as_text=True)
    assert 'data-element="archive"' in diff and "Archive the record" in diff
    assert 'data-element="approve"' in diff and "Approve the disposal" in diff
    assert 'data-flow="approve_to_done"' in diff and 'data-flow="approve_to_archive"' in diff
    assert client.get("/processes/disposal/versions/1/diff/9").status_code == 404
    assert client.get("/processes/nothing_here/versions").status_code == 404


def test_only_owners_of_the_owning_group_and_admins_may_migrate(client, auth, db, two_versions):
    at_approve, _ = two_versions
    for username in ("ayse", "kaan"):   # staff; a process owner of another group
        auth.login(username)
        assert client.get("/processes/disposal/versions/2/migrate").status_code == 403
        refused = client.post(f"/processes/disposal/versions/2/migrate/{at_approve}",
                              data={"csrf_token": auth.csrf("/processes/disposal/versions")})
        assert refused.status_code == 403
        auth.logout()
    assert version_of(db, at_approve) == 1

    auth.login("root")
    assert client.get("/processes/disposal/versions/2/migrate").status_code == 200


def test_owner_previews_and_migrates_and_refused_ones_say_why(client, auth, db, two_versions, deploy):
    at_approve, at_check = two_versions
    deploy(DATA / "versions_v3.bpmn", note="no more checks")
    auth.login("selin")
    assert "/versions/3/migrate" in client.get("/processes/disposal/versions").get_data(as_text=True)

    page = client.get("/processes/disposal/versions/3/migrate").get_data(as_text=True)
    assert f'data-instance="{at_check}"' in page and "Check the equipment" in page
    assert "Taşınamaz" in page and "not in version 3" in page   # both: check is gone in v3

    page = client.get("/processes/disposal/versions/2/migrate").get_data(as_text=True)
    assert page.count("Taşı</button>") == 2 and "korundu, değişti: Approve the disposal" in page

    no_token = client.post(f"/processes/disposal/versions/2/migrate/{at_approve}")
    assert no_token.status_code == 400 and version_of(db, at_approve) == 1

    done = client.post(f"/processes/disposal/versions/2/migrate/{at_approve}",
                       data={"csrf_token": auth.csrf("/processes/disposal/versions")}, follow_redirects=True)
    assert done.status_code == 200 and "artık sürüm 2 ile çalışıyor" in done.get_data(as_text=True)
    assert version_of(db, at_approve) == 2
    with db.tx() as session:
        actions = session.scalars(select(AuditEvent.action).where(
            AuditEvent.chain == f"instance:{at_approve}")).all()
    assert actions[-1] == "instance.migrated"

    refused = client.post(f"/processes/disposal/versions/3/migrate/{at_check}",
                          data={"csrf_token": auth.csrf("/processes/disposal/versions")}, follow_redirects=True)
    assert "not in version 3" in refused.get_data(as_text=True) and version_of(db, at_check) == 1
