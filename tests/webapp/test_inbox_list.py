"""The inbox list as staff use it all day (rows that say what the request is, filters they
keep, claim and open in one click) and where each role lands after signing in."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from engine import clock, conversation
from engine.models import HumanTask, RequestFact, SavedFilter

NOW = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)      # a Tuesday morning


@pytest.fixture
def pinned():
    clock.pin(NOW)
    yield NOW
    clock.set_shift(timedelta(0))


def _task(db, instance_id) -> HumanTask:
    with db.tx() as session:
        return session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id))


def _queue(db, support_request):
    """Two help-desk requests: an urgent, overdue VPN one from Ali, a low printer one."""
    vpn = support_request("VPN bağlanmıyor")
    printer = support_request("Yazıcı çalışmıyor")
    with db.tx() as session:
        conversation.record_contact(session, vpn, name="Ali Çelik", email="ali.celik@example.edu.tr")
        fact = session.get(RequestFact, vpn)
        fact.category, fact.priority = "VPN Bağlantısı", "urgent"
        session.get(RequestFact, printer).priority = "low"
        # a requester who typed their address as their name: the list masks it like any address
        conversation.record_contact(session, printer, name="zeynep.kaya@example.edu.tr",
                                    email="zeynep.kaya@example.edu.tr")
        for instance_id, due, age in ((vpn, -5, 72), (printer, 30, 1)):
            task = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id))
            task.due_at, task.created_at = NOW + timedelta(hours=due), NOW - timedelta(hours=age)
    return _task(db, vpn).id, _task(db, printer).id


def _row(page: str, task_id: int) -> str:
    match = re.search(rf'<tr[^>]*data-task-id="{task_id}".*?</tr>', page, re.S)
    assert match, f"no row for task {task_id}"
    return match.group(0)


def test_rows_say_what_the_request_is_and_filters_narrow_them(client, auth, make_user, support_request, db,
                                                                pinned):
    make_user("ayse", groups=("helpdesk",))
    vpn, printer = _queue(db, support_request)
    auth.login("ayse")
    page = client.get("/inbox?section=group&sort=priority").get_data(as_text=True)
    row = _row(page, vpn)
    for text in ("VPN bağlanmıyor", "Ali Çelik", "VPN Bağlantısı", "Acil", "Talebi değerlendir ve yönlendir",
                 "3 gün önce", "Gecikti", "5 saat önce"):
        assert text in row, text
    assert "ali.celik@" not in page                                   # the name only, never the address
    assert "Düşük" in _row(page, printer) and "Gecikti" not in _row(page, printer)
    assert "z***@example.edu.tr" in _row(page, printer) and "zeynep.kaya@" not in page
    assert "30 saat sonra" in _row(page, printer) or "1 gün sonra" in _row(page, printer)
    assert page.index(f'data-task-id="{vpn}"') < page.index(f'data-task-id="{printer}"')   # urgent first
    low_first = client.get("/inbox?section=group&sort=-priority").get_data(as_text=True)
    assert low_first.index(f'data-task-id="{printer}"') < low_first.index(f'data-task-id="{vpn}"')

    urgent = client.get("/inbox?section=group&priority=urgent").get_data(as_text=True)
    assert f'data-task-id="{vpn}"' in urgent and f'data-task-id="{printer}"' not in urgent
    by_name = client.get("/inbox?section=group&text=ali").get_data(as_text=True)
    assert f'data-task-id="{vpn}"' in by_name and f'data-task-id="{printer}"' not in by_name
    soon = client.get("/inbox?section=group&due=24h&category=VPN+Bağlantısı").get_data(as_text=True)
    assert f'data-task-id="{vpn}"' in soon and f'data-task-id="{printer}"' not in soon
    # the form shows the filter it applied
    assert '<option value="24h" selected>' in soon and '<option value="VPN Bağlantısı" selected>' in soon
    none = client.get("/inbox?section=group&age=7d").get_data(as_text=True)
    assert 'data-testid="empty-inbox"' in none and "Bu filtreye uyan görev yok." in none


def test_claim_and_open_lands_on_the_task_and_says_so_when_someone_was_quicker(client, auth, make_user,
                                                                                support_request, db):
    make_user("ayse", groups=("helpdesk",))
    make_user("mehmet", groups=("helpdesk",))
    task_id = _task(db, support_request()).id
    auth.login("ayse")
    token = auth.csrf("/inbox?section=group")
    response = client.post(f"/tasks/{task_id}/claim-and-open",
                           data={"csrf_token": token, "next": "/inbox?section=group"})
    assert response.status_code == 302 and response.headers["Location"] == f"/tasks/{task_id}"
    with db.tx() as session:
        assert (session.get(HumanTask, task_id).state, session.get(HumanTask, task_id).assignee) == (
            "claimed", "ayse")

    auth.logout()
    auth.login("mehmet")
    late = client.post(f"/tasks/{task_id}/claim-and-open",
                       data={"csrf_token": auth.csrf("/inbox"), "next": "/inbox?section=group"})
    assert late.status_code == 302 and late.headers["Location"] == "/inbox?section=group"
    assert "Bu görev üstlenilemedi" in client.get("/inbox?section=group").get_data(as_text=True)
    with db.tx() as session:
        assert session.get(HumanTask, task_id).assignee == "ayse"


def test_saved_filters_are_kept_applied_and_deleted_by_their_owner_only(client, auth, make_user, db):
    make_user("ayse", groups=("helpdesk",))
    make_user("mehmet", groups=("helpdesk",))
    auth.login("ayse")
    query = "section=group&overdue=1&priority=urgent"     # as the inbox writes it
    assert client.post("/inbox/filters", data={"name": "Acil", "query": query}).status_code == 400   # no token
    token = auth.csrf(f"/inbox?{query}")
    saved = client.post("/inbox/filters", data={"csrf_token": token, "name": " Acil gecikenler ",
                                                 "query": query + "&page=3&bogus=1"})
    assert saved.status_code == 302 and saved.headers["Location"] == f"/inbox?{query}"
    page = client.get("/inbox").get_data(as_text=True)
    assert "Filtre kaydedildi: Acil gecikenler" in page
    with db.tx() as session:
        filter_id, kept = session.execute(select(SavedFilter.id, SavedFilter.query)).one()
    assert kept == query
    assert client.get(f"/inbox/filters/{filter_id}").headers["Location"] == f"/inbox?{query}"
    unnamed = client.post("/inbox/filters", data={"csrf_token": token, "name": "  ", "query": query})
    assert unnamed.status_code == 302 and "Filtreye bir ad verin." in client.get("/inbox").get_data(as_text=True)

    auth.logout()
    auth.login("mehmet")
    assert f'data-saved-filter="{filter_id}"' not in client.get("/inbox").get_data(as_text=True)
    assert client.get(f"/inbox/filters/{filter_id}").status_code == 403
    assert client.post(f"/inbox/filters/{filter_id}/delete", data={"csrf_token": auth.csrf("/inbox")}).status_code \
        == 403
    auth.logout()
    auth.login("ayse")
    token = auth.csrf("/inbox")
    assert client.post(f"/inbox/filters/{filter_id}/delete", data={"csrf_token": token}).status_code == 302
    assert client.get(f"/inbox/filters/{filter_id}").status_code == 404
    with db.tx() as session:
        assert session.scalar(select(SavedFilter.id)) is None


@pytest.mark.parametrize("roles, groups, landing", [
    (("manager",), (), "/reports"),
    (("auditor",), (), "/audit"),
    (("process_owner",), (), "/processes"),
    (("staff",), ("helpdesk",), "/inbox"),
    (("admin",), (), "/inbox"),
    (("manager", "auditor"), (), "/reports"),
    (("auditor", "staff"), ("network",), "/inbox"),         # staff work first
    (("staff", "process_owner"), ("systems",), "/inbox"),
])
def test_each_role_lands_where_its_work_is(client, auth, make_user, roles, groups, landing):
    make_user("kisi", groups=groups, roles=roles)
    response = auth.login("kisi")
    assert response.status_code == 302 and response.headers["Location"] == landing
    assert client.get(landing).status_code == 200
    assert client.get("/login").headers["Location"] == landing          # signed in already
    auth.logout()
    asked = client.post("/login?next=/instances", data={"username": "kisi", "password": "parola123",
                                                        "csrf_token": auth.csrf("/login")})
    assert asked.headers["Location"] == "/instances"                    # a page asked for still wins


def test_a_yearly_report_has_its_own_address(client, auth, make_user):
    make_user("yonetici", groups=(), roles=("manager",))
    make_user("ayse", groups=("helpdesk",))
    auth.login("yonetici")
    page = client.get("/reports/2023")
    assert page.status_code == 200
    assert '<option value="2023" selected>' in page.get_data(as_text=True)
    absurd = client.get("/reports/1900")
    assert absurd.status_code == 404
    assert "1900 yılı için rapor yok: raporlar 2000 ile 2100 arasındaki yılları kapsar." in absurd.get_data(
        as_text=True)
    auth.logout()
    auth.login("ayse")
    assert client.get("/reports/2023").status_code == 403
