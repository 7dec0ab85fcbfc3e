"""Admins keep the portal's units ("Biriminiz"): add, rename, reorder, deactivate, activate;
others may not; the portal offers the active ones in the admins' order."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.models import AuditEvent, OrgUnit
from processes.portal import ensure_units

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def admin(client, auth, make_user):
    make_user("root", groups=(), roles=("admin",))
    auth.login("root")
    return client


def _token(client) -> str:
    return CSRF.search(client.get("/admin/units").get_data(as_text=True)).group(1)


def _units(db) -> list[tuple[str, str | None, bool]]:
    with db.tx() as session:
        return [(u.name, u.email, u.active) for u in
                session.scalars(select(OrgUnit).order_by(OrgUnit.position, OrgUnit.name))]


def _id(db, name: str) -> int:
    with db.tx() as session:
        return session.scalar(select(OrgUnit.id).where(OrgUnit.name == name))


def _listed(page: str) -> list[str]:
    return [html.unescape(n) for n in re.findall(r'<tr data-unit="([^"]+)"', page)]


def test_admin_adds_units_and_sees_them_listed(admin, db):
    page = admin.get("/admin/units").get_data(as_text=True)
    assert 'href="/admin/units"' in page                    # the admin nav links here
    token = _token(admin)
    for name, email in (("Tıp Fakültesi", ""), ("Mühendislik Fakültesi", "muhendislik@example.edu.tr")):
        response = admin.post("/admin/units", data={"csrf_token": token, "name": f"  {name} ", "email": email})
        assert response.status_code == 302
    page = admin.get("/admin/units").get_data(as_text=True)
    assert _listed(page) == ["Tıp Fakültesi", "Mühendislik Fakültesi"]
    assert _units(db) == [("Tıp Fakültesi", None, True), ("Mühendislik Fakültesi", "muhendislik@example.edu.tr", True)]
    with db.tx() as session:
        assert session.scalar(select(AuditEvent.actor).where(AuditEvent.action == "unit.added")) == "root"


@pytest.mark.parametrize(("name", "email", "field"), [
    ("", "", "name"), ("x" * 201, "", "name"), ("tıp fakültesi", "", "name"), ("Yeni Birim", "not-an-email", "email"),
])
def test_adding_a_wrong_unit_shows_the_error_next_to_its_field(admin, db, name, email, field):
    with db.tx() as session:
        ensure_units(session, ["tıp fakültesi"])
    response = admin.post("/admin/units", data={"csrf_token": _token(admin), "name": name, "email": email})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(rf'data-testid="error-{field}">', page)
    assert f'value="{html.escape(email)}"' in page                   # what was typed is kept
    assert _units(db) == [("tıp fakültesi", None, True)]


def test_rename_reorder_deactivate_and_activate(admin, db):
    with db.tx() as session:
        ensure_units(session, ["A Fakültesi", "B Fakültesi", "C Fakültesi"])
    token = _token(admin)
    b = _id(db, "B Fakültesi")
    assert admin.post(f"/admin/units/{b}", data={"csrf_token": token, "name": "B Enstitüsü",
                                                 "email": "b@example.edu.tr"}).status_code == 302
    refused = admin.post(f"/admin/units/{b}", data={"csrf_token": token, "name": "A Fakültesi", "email": ""})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert f'id="unit-{b}-name-errors"' in page and 'value="A Fakültesi"' in page
    assert admin.post(f"/admin/units/{b}/move", data={"csrf_token": token, "direction": "up"}).status_code == 302
    c = _id(db, "C Fakültesi")
    admin.post(f"/admin/units/{c}/move", data={"csrf_token": token, "direction": "down"})   # already last
    assert [name for name, *_ in _units(db)] == ["B Enstitüsü", "A Fakültesi", "C Fakültesi"]
    assert admin.post(f"/admin/units/{c}/active", data={"csrf_token": token, "active": "0"}).status_code == 302
    assert _units(db)[2] == ("C Fakültesi", None, False)
    page = admin.get("/admin/units").get_data(as_text=True)
    assert 'data-unit="C Fakültesi" data-active="false"' in page
    admin.post(f"/admin/units/{c}/active", data={"csrf_token": token, "active": "1"})
    assert _units(db)[2] == ("C Fakültesi", None, True)


def test_the_portal_offers_active_units_in_the_admins_order(admin, client, db, deploy):
    deploy(BPMN / "user_support.bpmn", BPMN / "user_support.routing.dmn", *sorted(BPMN.glob("user_support.*.json")))
    with db.tx() as session:
        ensure_units(session, ["Z Birimi", "A Birimi", "Kapalı Birim"])
    token = _token(admin)
    admin.post(f"/admin/units/{_id(db, 'Kapalı Birim')}/active", data={"csrf_token": token, "active": "0"})
    page = client.get("/talep/user_support?kategori=Di%C4%9Fer").get_data(as_text=True)
    options = re.findall(r'<option value="([^"]+)"', page.split('name="unit"')[1].split("</select>")[0])
    assert options == ["Z Birimi", "A Birimi"]


def test_only_admins_manage_units(client, auth, make_user, db):
    with db.tx() as session:
        ensure_units(session, ["A Fakültesi"])
    unit_id = _id(db, "A Fakültesi")
    assert client.get("/admin/units").status_code == 302                     # signed out: to sign-in
    make_user("ayse")
    auth.login("ayse")
    token = auth.csrf("/inbox")
    assert client.get("/admin/units").status_code == 403
    for path, data in (("/admin/units", {"name": "X"}), (f"/admin/units/{unit_id}", {"name": "Y"}),
                       (f"/admin/units/{unit_id}/move", {"direction": "up"}),
                       (f"/admin/units/{unit_id}/active", {"active": "0"})):
        assert client.post(path, data={"csrf_token": token, **data}).status_code == 403, path
    assert _units(db) == [("A Fakültesi", None, True)]


def test_unit_changes_need_the_csrf_token(admin, db):
    response = admin.post("/admin/units", data={"name": "Sahte Birim"})
    assert response.status_code == 400
    assert _units(db) == []
