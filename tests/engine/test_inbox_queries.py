"""The inbox queries (engine.inbox) and instance visibility (engine.instances)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

import engine.jobs  # noqa: F401  (registers send_mail, which support_ticket uses)
from engine import clock, conversation, inbox, instances, runtime, saved_filters, tasks, users
from engine.errors import NotFoundError, PermissionDeniedError, ValidationError
from engine.inbox import InboxFilter
from engine.models import HumanTask, RequestFact, utcnow

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


@pytest.fixture
def pinned():
    """The engine's clock at a known Tuesday morning, put back afterwards."""
    moment = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
    clock.pin(moment)
    yield moment
    clock.set_shift(timedelta(0))


def _triage_queue(db, pinned):
    """Five help-desk requests: subject, requester, category, priority, due and age differ."""
    rows = [  # subject, requester, category, priority, due in hours, created hours ago
        ("Yazıcı çalışmıyor", "Zeynep Kaya", "Donanım / Arıza", "low", 100, 1),
        ("VPN bağlanmıyor", "Ali Çelik", "VPN Bağlantısı", "urgent", 30, 30),
        ("E-posta şifresi", "Bora Er", None, "high", -2, 100),
        ("Eduroam %100 kopuyor", "Ayla Tan", "Kablosuz Ağ (eduroam)", "urgent", 5, 200),
        ("Web sayfası", None, "Web Sayfaları", None, None, 2),    # no summary row: counts as normal
    ]
    ids = {}
    for subject, requester, category, priority, due, age in rows:
        instance_id = _start(db, subject)
        with db.tx() as session:
            if requester:
                conversation.record_contact(session, instance_id, name=requester, email="x@example.edu.tr")
            fact = session.get(RequestFact, instance_id)
            if priority is None:
                session.delete(fact)
            else:
                fact.category, fact.priority = category, priority
            task = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id))
            task.due_at = pinned + timedelta(hours=due) if due is not None else None
            task.created_at = pinned - timedelta(hours=age)
            ids[subject] = task.id
    return ids


def test_rows_show_the_request_and_sort_on_each_column(db, deploy, people, pinned):
    deploy(SUPPORT)
    ids = _triage_queue(db, pinned)
    subject_of = {task_id: subject for subject, task_id in ids.items()}

    def order(sort, **kwargs):
        with db.tx() as session:
            page = inbox.inbox_page(session, _user(session, "ayse"),
                                    InboxFilter(section="group", sort=sort), **kwargs)
        return [subject_of[row.id] for row in page.items]

    with db.tx() as session:
        page = inbox.inbox_page(session, _user(session, "ayse"), InboxFilter(section="group", sort="subject"))
        first = page.items[0]
        assert (first.subject, first.requester, first.category, first.priority, first.task.name) == (
            "E-posta şifresi", "Bora Er", None, "high", "Talebi değerlendir ve yönlendir")
        assert page.items[-1].priority == "normal" and page.items[-1].requester is None

    # urgent first, then high, normal, low; within a priority the soonest due first
    assert order("priority") == ["Eduroam %100 kopuyor", "VPN bağlanmıyor", "E-posta şifresi", "Web sayfası",
                                 "Yazıcı çalışmıyor"]
    assert order("-priority")[0] == "Yazıcı çalışmıyor"
    assert order("due") == ["E-posta şifresi", "Eduroam %100 kopuyor", "VPN bağlanmıyor", "Yazıcı çalışmıyor",
                            "Web sayfası"]                                   # no due date: last
    assert order("-due")[:2] == ["Yazıcı çalışmıyor", "VPN bağlanmıyor"]      # and still last reversed
    assert order("created")[0] == "Yazıcı çalışmıyor" and order("-created")[0] == "Eduroam %100 kopuyor"
    assert order("requester")[:3] == ["VPN bağlanmıyor", "Eduroam %100 kopuyor", "E-posta şifresi"]
    assert order("requester")[-1] == "Web sayfası" and order("-requester")[-1] == "Web sayfası"
    assert order("category")[:2] == ["Yazıcı çalışmıyor", "Eduroam %100 kopuyor"]
    assert order("-subject")[0] == "Yazıcı çalışmıyor"
    assert len(set(order("step"))) == 5


def test_filters_by_priority_category_text_due_and_age(db, deploy, people, pinned):
    deploy(SUPPORT)
    deploy(DATA / "runtime" / "three_steps.bpmn")
    ids = _triage_queue(db, pinned)
    subject_of = {task_id: subject for subject, task_id in ids.items()}

    def found(**kwargs):
        with db.tx() as session:
            page = inbox.inbox_page(session, _user(session, "ayse"), InboxFilter(section="group", **kwargs))
        assert page.total == len(page.items)       # the count agrees with the rows
        return {subject_of[row.id] for row in page.items}

    assert found(priority="urgent") == {"VPN bağlanmıyor", "Eduroam %100 kopuyor"}
    assert found(priority="normal") == {"Web sayfası"}                    # no summary row: normal
    assert found(category="VPN Bağlantısı") == {"VPN bağlanmıyor"}
    assert found(text="vpn") == {"VPN bağlanmıyor"}                       # subject, any case
    assert found(text="Ayla") == {"Eduroam %100 kopuyor"}                 # requester
    assert found(text="%") == {"Eduroam %100 kopuyor"}                    # a literal percent sign
    assert found(text="_") == set()
    assert found(overdue=True) == {"E-posta şifresi"}
    assert found(due="24h") == {"E-posta şifresi", "Eduroam %100 kopuyor"}  # overdue ones are due too
    assert found(due="3d") == {"E-posta şifresi", "Eduroam %100 kopuyor", "VPN bağlanmıyor"}
    assert found(due="none") == {"Web sayfası"}
    assert found(age="1d") == {"VPN bağlanmıyor", "E-posta şifresi", "Eduroam %100 kopuyor"}
    assert found(age="3d") == {"E-posta şifresi", "Eduroam %100 kopuyor"}    # 100 and 200 hours
    assert found(age="7d") == {"Eduroam %100 kopuyor"}
    assert found(priority="urgent", due="24h", text="eduroam") == {"Eduroam %100 kopuyor"}
    assert found(step="Talebi değerlendir ve yönlendir") == set(ids)
    assert found(step="Başka adım", process="support_ticket") == set()
    with db.tx() as session:
        summary = inbox.overview(session, _user(session, "ayse"))
    assert summary.categories == ["Donanım / Arıza", "Kablosuz Ağ (eduroam)", "VPN Bağlantısı"]
    assert summary.steps == [("support_ticket", "Talebi değerlendir ve yönlendir")]


def test_process_sort_follows_the_titles_the_reader_sees(db, deploy, people, pinned):
    deploy(SUPPORT)
    deploy(DATA / "runtime" / "three_steps.bpmn")
    support = _start(db, "destek")
    with db.tx() as session:
        other = runtime.start_instance(session, "three_steps").id
        for task in session.scalars(select(HumanTask).where(HumanTask.instance_id.in_((support, other)))):
            task.group_name = "helpdesk"
    with db.tx() as session:
        ayse = _user(session, "ayse")
        by_key = inbox.inbox_page(session, ayse, InboxFilter(section="group", sort="process"))
        assert [row.task.process_key for row in by_key.items] == ["support_ticket", "three_steps"]
        titled = inbox.inbox_page(session, ayse, InboxFilter(section="group", sort="process"),
                                  process_titles={"support_ticket": "Yardım", "three_steps": "Adımlar"})
        assert [row.task.process_key for row in titled.items] == ["three_steps", "support_ticket"]


def test_a_filter_round_trips_through_its_query_string():
    flt = InboxFilter(section="group", priority="urgent", category="VPN Bağlantısı", overdue=True, due="24h",
                      sort="-created", text="şifre & parola", page=3)
    query = flt.query()
    assert "page" not in query and "per_page" not in query
    assert InboxFilter.from_query(query) == InboxFilter(**{**flt.__dict__, "page": 1})
    assert InboxFilter().query() == "section=mine"
    # what a hand-edited or stale link carries is dropped, not refused
    assert InboxFilter.from_query("section=all&sort=name&priority=huge&due=1y&page=x&per_page=999&bogus=1") == \
        InboxFilter(per_page=inbox.MAX_PER_PAGE)
    assert InboxFilter.from_args({"text": "x" * 500}).text == "x" * inbox.TEXT_MAX


@pytest.mark.parametrize("flt, field", [
    (InboxFilter(priority="huge"), "priority"), (InboxFilter(due="1y"), "due"), (InboxFilter(age="old"), "age"),
    (InboxFilter(text="x" * 101), "text"), (InboxFilter(category="x" * 301), "category"),
])
def test_bad_new_filters_name_their_field(flt, field):
    with pytest.raises(ValidationError) as caught:
        flt.check()
    assert field in caught.value.as_dict()


def test_saved_filters_belong_to_their_user(db, people):
    with db.tx() as session:
        ayse, mehmet = _user(session, "ayse"), _user(session, "mehmet")
        urgent = saved_filters.save_filter(session, ayse, "  Acil işler ", InboxFilter(section="group",
                                                                                       priority="urgent", page=4))
        assert (urgent.name, urgent.query) == ("Acil işler", "section=group&priority=urgent")
        again = saved_filters.save_filter(session, ayse, "Acil işler", InboxFilter(section="group", overdue=True))
        assert again.id == urgent.id and again.query == "section=group&overdue=1"     # same name: replaced
        saved_filters.save_filter(session, ayse, "Bana ait", InboxFilter())
        theirs = saved_filters.save_filter(session, mehmet, "Acil işler", InboxFilter(priority="urgent"))
        assert [f.name for f in saved_filters.list_filters(session, ayse)] == ["Acil işler", "Bana ait"]
        assert saved_filters.get_filter(session, ayse, urgent.id).query == "section=group&overdue=1"
        with pytest.raises(PermissionDeniedError):
            saved_filters.get_filter(session, ayse, theirs.id)
        with pytest.raises(PermissionDeniedError):
            saved_filters.delete_filter(session, ayse, theirs.id)
        with pytest.raises(NotFoundError):
            saved_filters.delete_filter(session, ayse, theirs.id + 1000)
        assert saved_filters.delete_filter(session, ayse, urgent.id) == "Acil işler"
    with db.tx() as session:
        assert [f.name for f in saved_filters.list_filters(session, _user(session, "ayse"))] == ["Bana ait"]
        assert [f.name for f in saved_filters.list_filters(session, _user(session, "mehmet"))] == ["Acil işler"]


@pytest.mark.parametrize("name, code", [("   ", "required"), ("x" * 101, "maxLength"), ("a\x00b", "control_character")])
def test_saved_filter_names_are_checked(db, people, name, code):
    with db.tx() as session, pytest.raises(ValidationError) as caught:
        saved_filters.save_filter(session, _user(session, "ayse"), name, InboxFilter())
    assert [p.code for p in caught.value.problems] == [code]


def test_a_user_keeps_a_bounded_number_of_filters(db, people):
    with db.tx() as session:
        ayse = _user(session, "ayse")
        for n in range(saved_filters.FILTERS_MAX):
            saved_filters.save_filter(session, ayse, f"filtre {n:02d}", InboxFilter(page=n + 1))
        with pytest.raises(ValidationError) as caught:
            saved_filters.save_filter(session, ayse, "bir tane daha", InboxFilter())
        assert caught.value.problems[0].code == "maxItems"
        saved_filters.save_filter(session, ayse, "filtre 00", InboxFilter(section="group"))   # replacing is fine
