"""The inbox queries (engine.inbox) and instance visibility (engine.instances)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

import engine.jobs  # noqa: F401  (registers send_mail, which support_ticket uses)
from engine import inbox, instances, runtime, tasks, users
from engine.errors import PermissionDeniedError, ValidationError
from engine.inbox import InboxFilter
from engine.models import HumanTask, utcnow

SUPPORT = Path(__file__).resolve().parents[1] / "data" / "support"
DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def people(db, make_user):
    make_user("ayse", groups=("helpdesk",))
    make_user("mehmet", groups=("network",))
    make_user("root", groups=(), roles=("admin",))
    make_user("denetci", groups=(), roles=("auditor",))


def _start(db, subject, **data):
    with db.tx() as session:
        return runtime.start_instance(session, "support_ticket", data={"subject": subject, **data}).id


def _user(session, name):
    return users.get_user(session, name)


def test_sections_filters_sort_and_pages(db, deploy, people):
    deploy(SUPPORT)
    deploy(DATA / "runtime" / "three_steps.bpmn")
    ids = [_start(db, f"talep {n}") for n in range(7)]
    with db.tx() as session:
        rows = session.scalars(select(HumanTask).where(HumanTask.instance_id.in_(ids))
                               .order_by(HumanTask.id)).all()
        now = utcnow()
        for offset, row in enumerate(rows):          # task n is due in 2n-1 hours: only the first is late
            row.due_at = now + timedelta(hours=2 * offset - 1)
        ayse = _user(session, "ayse")
        tasks.claim_task(session, rows[3].id, ayse)

    with db.tx() as session:
        ayse = _user(session, "ayse")
        group = inbox.inbox_page(session, ayse, InboxFilter(section="group", per_page=4))
        assert (group.total, group.pages, len(group.items)) == (6, 2, 4)
        assert [t.id for t in group.items] == [rows[0].id, rows[1].id, rows[2].id, rows[4].id]
        second = inbox.inbox_page(session, ayse, InboxFilter(section="group", per_page=4, page=2))
        assert [t.id for t in second.items] == [rows[5].id, rows[6].id]
        newest = inbox.inbox_page(session, ayse, InboxFilter(section="group", sort="created", per_page=2))
        assert [t.id for t in newest.items] == [rows[6].id, rows[5].id]
        late = inbox.inbox_page(session, ayse, InboxFilter(section="group", overdue=True))
        assert [t.id for t in late.items] == [rows[0].id]
        mine = inbox.inbox_page(session, ayse, InboxFilter(section="mine"))
        assert [t.id for t in mine.items] == [rows[3].id]
        summary = inbox.overview(session, ayse)
        assert summary.sections == {"mine": 1, "group": 6}
        assert summary.groups == [{"group": "helpdesk", "ready": 6, "claimed": 1, "overdue": 1}]
        assert summary.processes == ["support_ticket"]
        assert inbox.inbox_page(session, ayse, InboxFilter(section="group", process="three_steps")).total == 0

        mehmet = _user(session, "mehmet")
        assert inbox.inbox_page(session, mehmet, InboxFilter(section="group")).total == 0
        assert inbox.overview(session, mehmet) == inbox.Overview(
            {"mine": 0, "group": 0}, [{"group": "network", "ready": 0, "claimed": 0, "overdue": 0}], [])
        root = _user(session, "root")
        assert inbox.inbox_page(session, root, InboxFilter(section="group")).total == 6


@pytest.mark.parametrize("flt, field", [
    (InboxFilter(section="everything"), "section"), (InboxFilter(sort="name"), "sort"),
    (InboxFilter(page=0), "page"), (InboxFilter(per_page=500), "per_page"),
])
def test_bad_filters_name_their_field(db, people, flt, field):
    with db.tx() as session, pytest.raises(ValidationError) as caught:
        inbox.inbox_page(session, _user(session, "ayse"), flt)
    assert field in caught.value.as_dict()


def test_instance_visibility_follows_the_groups_that_touched_it(db, deploy, people):
    deploy(SUPPORT)
    instance_id = _start(db, "VPN", requester="Ali")
    with db.tx() as session:
        assert instances.can_view(session, _user(session, "ayse"), instances.get_visible(
            session, _user(session, "ayse"), instance_id))
        with pytest.raises(PermissionDeniedError):
            instances.get_visible(session, _user(session, "mehmet"), instance_id)
        assert instances.get_visible(session, _user(session, "denetci"), instance_id).id == instance_id
        assert [i.id for i in instances.list_visible(session, _user(session, "mehmet"))] == []
        triage = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id))
        tasks.complete_task(session, triage.id, _user(session, "ayse"), {"category": "VPN Bağlantısı",
                                                                          "team": "network"})
    with db.tx() as session:    # routed to network: now mehmet's group touched it
        mehmet = _user(session, "mehmet")
        assert instances.get_visible(session, mehmet, instance_id).id == instance_id
        assert [i.id for i in instances.list_visible(session, mehmet)] == [instance_id]
        data = instances.current_data(session, instance_id)
        assert (data["requester"], data["team"]) == ("Ali", "network")
        users.set_active(session, "mehmet", False, actor="root")
        assert not instances.can_view(session, mehmet, instances.get_visible(session, _user(session, "root"),
                                                                             instance_id))


def test_deactivation_bumps_the_session_epoch_and_kills_tokens(db, people):
    with db.tx() as session:
        token = users.create_token(session, "ayse")
        before = _user(session, "ayse").get_id()
        assert users.user_for_token(session, token).username == "ayse"
        users.set_active(session, "ayse", False, actor="root")
        assert _user(session, "ayse").get_id() != before
        assert users.user_for_token(session, token) is None
        with pytest.raises(ValidationError):
            users.set_active(session, "root", False, actor="root")


def test_an_unfiltered_page_takes_its_size_from_the_overview(db, deploy, people):
    deploy(SUPPORT)
    for n in range(3):
        _start(db, f"talep {n}")
    with db.tx() as session:
        ayse = _user(session, "ayse")
        summary = inbox.overview(session, ayse)
        for flt in (InboxFilter(section="group"), InboxFilter(section="mine"),
                    InboxFilter(section="group", overdue=True), InboxFilter(section="group", process="x")):
            counted = inbox.inbox_page(session, ayse, flt)
            assert inbox.inbox_page(session, ayse, flt, overview_=summary).total == counted.total
        assert counted.total == 0 and summary.sections["group"] == 3


def test_reading_an_instance_leaves_its_workflow_cached_for_the_next_command(db, deploy, people, monkeypatch):
    """A task page shows the task's data; completing it next must not restore the workflow again."""
    deploy(SUPPORT)
    instance_id = _start(db, "önbellek")
    restored = []
    original = runtime.spiff.workflow_from_dict
    monkeypatch.setattr(runtime.spiff, "workflow_from_dict",
                        lambda *args, **kwargs: restored.append(1) or original(*args, **kwargs))
    with db.tx() as session:
        assert instances.current_data(session, instance_id)["subject"] == "önbellek"
        task = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id))
        assert instances.task_data(session, task)["subject"] == "önbellek"
        tasks.complete_task(session, task.id, _user(session, "ayse"), {"category": "Diğer", "team": "network"})
    assert restored == []     # every step found the workflow the previous one left in the cache
