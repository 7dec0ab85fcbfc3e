"""/admin/groups: admins give each group an e-mail address and a lead chosen among its
members (the group directory BPMN mails go through); staff may not."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from engine import users
from engine.models import AuditEvent, Group


@pytest.fixture
def admin(client, auth, make_user, db):
    make_user("mert", groups=("network",))
    make_user("ayse", groups=("helpdesk",))
    make_user("root", groups=(), roles=("admin",))
    with db.tx() as session:
        users.add_user(session, "mert", email="mert@example.edu.tr")
    auth.login("root")
    return auth


def _group(db, slug: str) -> tuple[str | None, str | None]:
    with db.tx() as session:
        group = session.scalar(select(Group).where(Group.slug == slug))
        return group.email, group.lead


def test_admin_sets_a_groups_address_and_lead(client, admin, db):
    page = client.get("/admin/groups").get_data(as_text=True)
    assert 'href="/admin/groups"' in page                          # in the admin nav
    assert "Ağ Hizmetleri" in page and "<code>group:network</code>" in page
    # the lead is chosen among the group's members only
    assert '<option value="mert"' in page
    network_row = page[page.index('data-group="network"'):page.index('data-group="network"') + 4000]
    assert '<option value="ayse"' not in network_row.split("</tr>")[0]

    answer = client.post("/admin/groups/network", data={
        "csrf_token": admin.csrf("/admin/groups"), "email": " ag@bidb.example.edu.tr ", "lead": "mert"},
        follow_redirects=True)
    assert answer.status_code == 200
    assert "Ağ Hizmetleri Planlama Destek Grubu: adres ve sorumlu kaydedildi." in html.unescape(answer.get_data(as_text=True))
    assert _group(db, "network") == ("ag@bidb.example.edu.tr", "mert")
    with db.tx() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "group.contact_changed"))
        assert (event.actor, event.data["after"]) == ("root", {"email": "ag@bidb.example.edu.tr", "lead": "mert"})


def test_a_bad_address_or_a_lead_from_another_group_is_shown_next_to_the_field(client, admin, db):
    answer = client.post("/admin/groups/network", data={
        "csrf_token": admin.csrf("/admin/groups"), "email": "ag@bidb", "lead": "ayse"})
    page = html.unescape(answer.get_data(as_text=True))
    assert answer.status_code == 422
    assert 'data-testid="error-email">Geçerli bir e-posta adresi girin.' in page
    assert 'data-testid="error-lead">Sorumluyu grubun etkin üyeleri arasından seçin.' in page
    assert 'value="ag@bidb"' in page                                # what was typed stays
    assert _group(db, "network") == (None, None)


def test_english_on_request(client, admin, db):
    client.post("/lang", data={"csrf_token": admin.csrf("/admin/groups"), "lang": "en", "next": "/admin/groups"})
    page = client.get("/admin/groups").get_data(as_text=True)
    assert "Ağ Hizmetleri" not in page                                 # the group's English name
    assert "E-mail address and lead" in page


def test_staff_may_not_edit_groups(client, auth, make_user, db):
    make_user("ayse", groups=("helpdesk",))
    auth.login("ayse")
    assert client.get("/admin/groups").status_code == 403
    assert client.post("/admin/groups/helpdesk", data={
        "csrf_token": auth.csrf("/inbox"), "email": "x@example.edu.tr"}).status_code == 403
    assert _group(db, "helpdesk") == (None, None)


def test_an_unknown_group_is_not_found(client, admin):
    assert client.post("/admin/groups/nosuch", data={"csrf_token": admin.csrf("/admin/groups"),
                                                     "email": ""}).status_code == 404
