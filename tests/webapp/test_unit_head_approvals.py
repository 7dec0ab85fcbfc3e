"""Scoped approvals: a VPN request goes to the head group of its requester's unit.

Another unit's head neither sees it (inbox, API) nor can open, claim or complete it (page,
API, the engine command the CLI uses); a unit without a head group sends it to every unit
head and the request's history says why; admins set a unit's head group on the units page.
"""

from __future__ import annotations

import html
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import clock, runtime, tasks, users
from engine.errors import PermissionDeniedError
from engine.models import AuditEvent, HumanTask, OrgUnit
from engine.workdays import ZONE
from processes import portal

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
UNITS = {"Mühendislik Fakültesi": "unithead-muhendislik", "Fen Fakültesi": "unithead-fen"}


@pytest.fixture
def heads(db, deploy, make_user):
    """Two units with heads (amir.muh, amir.fen), a unit without one, and the fallback group's member."""
    deploy(*sorted(BPMN.glob("vpn_request.*")))
    make_user("amir.muh", groups=(UNITS["Mühendislik Fakültesi"],))
    make_user("amir.fen", groups=(UNITS["Fen Fakültesi"],))
    make_user("birim", groups=("unitheads",))
    with db.tx() as session:
        for name, group in UNITS.items():
            portal.set_unit_head_group(session, portal.add_unit(session, name, actor="root").id, group, actor="root")
        portal.add_unit(session, "Tıp Fakültesi", actor="root")


def _vpn(db, unit: str) -> tuple[int, int]:
    """Start a VPN request from ``unit``; its instance id and the approval task's id."""
    today = clock.now().astimezone(ZONE).date()
    with db.tx() as session:
        instance_id = runtime.start_instance(session, "vpn_request", actor="portal", data={
            "requester": "Canan Aydın", "requester_email": "canan.aydin@example.edu.tr", "unit": unit,
            "subject": "VPN erişimi", "purpose": "Proje verilerine kampüs dışından erişmek",
            "target_systems": ["lab-sunucu-1"], "start_date": today.isoformat(),
            "end_date": (today + timedelta(days=30)).isoformat()}).id
        task_id = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance_id))
    return instance_id, task_id


def _bearer(db, username: str) -> dict:
    with db.tx() as session:
        return {"Authorization": f"Bearer {users.create_token(session, username)}"}


def _task(db, task_id: int) -> HumanTask:
    with db.tx() as session:
        return session.get(HumanTask, task_id)


def test_the_request_goes_to_its_units_heads_only(db, heads, client, auth):
    instance_id, task_id = _vpn(db, "Mühendislik Fakültesi")
    assert _task(db, task_id).group_name == "unithead-muhendislik"

    # The other faculty's head: not in the inbox, nor the API, and cannot act on it.
    auth.login("amir.fen")
    assert f"/tasks/{task_id}" not in client.get("/inbox").get_data(as_text=True)
    assert client.get(f"/instances/{instance_id}").status_code in (403, 404)
    assert client.get(f"/tasks/{task_id}").status_code in (403, 404)
    assert client.post(f"/tasks/{task_id}/claim", data={"csrf_token": auth.csrf("/inbox")}).status_code in (403, 404)
    fen = _bearer(db, "amir.fen")
    assert task_id not in [t["id"] for t in client.get("/api/v1/tasks?state=ready", headers=fen).get_json()]
    assert client.post(f"/api/v1/tasks/{task_id}/claim", headers=fen).status_code in (403, 404)
    assert client.post(f"/api/v1/tasks/{task_id}/complete", headers=fen,
                       json={"data": {"approval": "approve"}}).status_code in (403, 404)
    with db.tx() as session, pytest.raises(PermissionDeniedError):     # what `sek claim --as` runs
        tasks.claim_task(session, task_id, users.get_user(session, "amir.fen"))
    assert (_task(db, task_id).state, _task(db, task_id).assignee) == ("ready", None)
    auth.logout()

    # Every unit head's group (the fallback) does not see it either.
    auth.login("birim")
    assert f"/tasks/{task_id}" not in client.get("/inbox").get_data(as_text=True)
    auth.logout()

    # Its own head sees it and approves it, through the API.
    auth.login("amir.muh")
    assert f"/tasks/{task_id}" in client.get("/inbox").get_data(as_text=True)
    muh = _bearer(db, "amir.muh")
    assert task_id in [t["id"] for t in client.get("/api/v1/tasks?state=ready", headers=muh).get_json()]
    assert client.post(f"/api/v1/tasks/{task_id}/claim", headers=muh).status_code == 200
    assert client.post(f"/api/v1/tasks/{task_id}/complete", headers=muh,
                       json={"data": {"approval": "approve"}}).status_code == 200
    done = _task(db, task_id)
    assert (done.state, done.completed_by) == ("completed", "amir.muh")


def test_the_other_units_request_goes_to_the_other_head(db, heads, client, auth):
    _instance_id, task_id = _vpn(db, "Fen Fakültesi")
    assert _task(db, task_id).group_name == "unithead-fen"
    auth.login("amir.muh")
    assert f"/tasks/{task_id}" not in client.get("/inbox").get_data(as_text=True)
    auth.logout()
    auth.login("amir.fen")
    assert f"/tasks/{task_id}" in client.get("/inbox").get_data(as_text=True)


@pytest.mark.parametrize(("unit", "reason"), [
    ("Tıp Fakültesi", "Tıp Fakültesi biriminin amir grubu yok"),
    ("Kimya Bölümü", "Kimya Bölümü birim listesinde yok"),
])
def test_without_a_head_group_every_unit_head_gets_it_and_the_history_says_why(db, heads, client, auth,
                                                                                 unit, reason):
    instance_id, task_id = _vpn(db, unit)
    assert _task(db, task_id).group_name == "unitheads"
    with db.tx() as session:
        actions = list(session.scalars(select(AuditEvent.action).where(AuditEvent.instance_id == instance_id)
                                       .order_by(AuditEvent.id)))
    assert actions == ["instance.started", "task.unit_head_fallback"]

    auth.login("birim")
    assert f"/tasks/{task_id}" in client.get("/inbox").get_data(as_text=True)
    page = html.unescape(client.get(f"/instances/{instance_id}").get_data(as_text=True))
    assert (f"Birim amiri onayı tüm birim amirlerine (Birim Amirleri grubu) gönderildi: {reason}"
            in re.sub(r"\s+", " ", page))


def _units_page(client) -> str:
    return client.get("/admin/units").get_data(as_text=True)


def _head_group(db, name: str) -> str | None:
    with db.tx() as session:
        unit = session.scalar(select(OrgUnit).where(OrgUnit.name == name))
        return unit.head_group.slug if unit.head_group else None


def test_an_admin_sets_a_units_head_group_on_the_units_page(db, heads, client, auth, make_user):
    make_user("root", groups=(), roles=("admin",))
    with db.tx() as session:
        tip = session.scalar(select(OrgUnit.id).where(OrgUnit.name == "Tıp Fakültesi"))
        users.ensure_group(session, "unithead-tip", "Tıp Fakültesi Dekanlığı")
    path = f"/admin/units/{tip}/head-group"

    # Staff may not; an admin's form without its CSRF token is refused.
    auth.login("amir.muh")
    assert client.post(path, data={"csrf_token": auth.csrf("/inbox"), "head_group": "unithead-tip"}).status_code == 403
    auth.logout()
    auth.login("root")
    assert client.post(path, data={"head_group": "unithead-tip"}).status_code == 400
    assert _head_group(db, "Tıp Fakültesi") is None

    # A group that does not exist is refused next to the field, with what was typed.
    token = CSRF.search(_units_page(client)).group(1)
    refused = client.post(path, data={"csrf_token": token, "head_group": "unithead-tpi"})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    error = re.search(r'data-testid="error-head_group">([^<]*)<', page).group(1)
    assert "Bu adda bir grup yok" in html.unescape(error)
    assert 'value="unithead-tpi"' in page and 'aria-invalid="true"' in page
    assert _head_group(db, "Tıp Fakültesi") is None

    assert client.post(path, data={"csrf_token": token, "head_group": "unithead-tip"}).status_code == 302
    assert _head_group(db, "Tıp Fakültesi") == "unithead-tip"
    page = html.unescape(_units_page(client))
    assert "Tıp Fakültesi Dekanlığı · Üye sayısı: 0" in page
    with db.tx() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "unit.head_group_changed")
                               .order_by(AuditEvent.id.desc()).limit(1))
        assert (event.actor, event.data["name"], event.data["before"], event.data["after"]) == (
            "root", "Tıp Fakültesi", None, "unithead-tip")

    # The unit's next request goes to that group; emptying the field sends them to every unit head again.
    assert _task(db, _vpn(db, "Tıp Fakültesi")[1]).group_name == "unithead-tip"
    assert client.post(path, data={"csrf_token": token, "head_group": ""}).status_code == 302
    assert _head_group(db, "Tıp Fakültesi") is None
