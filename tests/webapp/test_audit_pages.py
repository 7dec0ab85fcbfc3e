"""The auditor's pages: who may open them, the search, an instance's history, the chain
verification, the exports, and the requester's personal data masked until a recorded view."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from sqlalchemy import select, text

from engine import conversation, runtime
from engine.models import AuditEvent, HumanTask

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
XES = "{http://www.xes-standard.org/}"
FORMULA = "=HYPERLINK(\"http://evil\")"


def _request(db, deploy, category="Kablosuz Ağ (eduroam)", name="Elif Şahin", email="elif@ogr.example.edu.tr",
             subject="eduroam bağlanmıyor"):
    deploy(BPMN / "user_support.bpmn", BPMN / "user_support.routing.dmn", *sorted(BPMN.glob("user_support.*.json")))
    with db.tx() as session:
        instance = runtime.start_instance(session, "user_support", actor="portal", data={
            "category": category, "subject": subject, "requester": name, "requester_email": email})
        conversation.record_contact(session, instance.id, name=name, email=email, national_id="12345678950",
                                    phone="0532 123 45 00", unit="Fen Fakültesi")
        task_id = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance.id))
        return instance.id, task_id, instance.tracking_code


@pytest.fixture
def people(make_user):
    make_user("denetci", groups=(), roles=("auditor",))
    make_user("admin", groups=(), roles=("admin",))
    make_user("ag", groups=("network",))
    make_user("yazilim", groups=("software",))


AUDIT_PAGES = ("/audit", "/audit/verify", "/audit/export", "/audit/export?format=csv")


def test_staff_may_not_open_the_audit_pages(client, auth, db, deploy, people):
    instance_id, _, _ = _request(db, deploy)
    auth.login("ag")
    page = client.get("/inbox").get_data(as_text=True)
    assert 'data-testid="nav-audit"' not in page
    for path in (*AUDIT_PAGES, f"/audit/instances/{instance_id}"):
        assert client.get(path).status_code == 403, path


def test_auditors_read_and_never_write(client, auth, db, deploy, people):
    instance_id, task_id, code = _request(db, deploy)
    auth.login("denetci")
    page = client.get("/inbox").get_data(as_text=True)
    assert 'data-testid="nav-audit"' in page
    for path in (*AUDIT_PAGES, f"/audit/instances/{instance_id}"):
        assert client.get(path).status_code == 200, path
    assert code in client.get("/audit").get_data(as_text=True)
    # read-only: an auditor may not act on the task
    token = auth.csrf("/audit")
    assert client.post(f"/tasks/{task_id}/claim", data={"csrf_token": token}).status_code == 403
    with db.tx() as session:
        assert session.get(HumanTask, task_id).assignee is None
    assert client.post("/audit", data={"csrf_token": token}).status_code == 405


def _result_ids(page: str) -> set[int]:
    return {int(i) for i in re.findall(r'data-instance-id="(\d+)"', page)}


def test_the_search_filters_by_each_criterion(client, auth, db, deploy, people):
    wifi, wifi_task, _ = _request(db, deploy)
    mail, _, _ = _request(db, deploy, category="Personel E-posta", name="Mehmet Öz", email="mehmet@example.edu.tr")
    with db.tx() as session:
        session.execute(text("UPDATE process_instance SET created_at = :at WHERE id = :id"),
                        {"at": "2023-03-15 09:00:00.000000", "id": wifi})
    auth.login("ag")
    client.post(f"/tasks/{wifi_task}/claim", data={"csrf_token": auth.csrf(f"/tasks/{wifi_task}")})
    auth.logout()
    auth.login("denetci")

    def found(**args):
        response = client.get("/audit", query_string=args)
        assert response.status_code == 200
        return _result_ids(response.get_data(as_text=True))

    assert found() == {wifi, mail}
    assert found(process="user_support", version="1", status="running") == {wifi, mail}
    assert found(version="7") == set()
    assert found(**{"from": "2023-03-01", "to": "2023-03-31"}) == {wifi}
    assert found(**{"from": "2023-03-16"}) == {mail}
    assert found(category="Personel E-posta") == {mail}
    assert found(team="network") == {wifi}
    assert found(team="systems") == {mail}
    assert found(requester="mehmet") == {mail}
    assert found(actor="ag") == {wifi}
    response = client.get("/audit", query_string={"from": "2023-13-45"})
    assert 'data-testid="error"' in response.get_data(as_text=True) and _result_ids(response.get_data(as_text=True)) == set()


def test_the_history_shows_actor_time_action_and_before_after(client, auth, db, deploy, people):
    instance_id, _, code = _request(db, deploy, subject="<b>kalın</b>")
    with db.tx() as session:
        from processes.user_support.recategorize import recategorize
        recategorize(session, instance_id, "VPN Bağlantısı", by="admin", note="yanlış kategori")
    auth.login("denetci")
    page = client.get(f"/audit/instances/{instance_id}").get_data(as_text=True)
    assert code in page
    assert re.search(r'data-action="instance.started".*?data-testid="actor">portal<', page, re.S)
    moved = page[page.index('data-action="message.delivered"'):]
    assert re.search(r"<th scope=\"row\">category</th><td data-testid=\"before\">Kablosuz Ağ \(eduroam\)</td>\s*"
                     r"<td aria-hidden=\"true\">→</td><td data-testid=\"after\">VPN Bağlantısı</td>", moved)
    assert 'data-testid="actor">admin<' in moved
    assert "<b>kalın</b>" not in page and "&lt;b&gt;kalın&lt;/b&gt;" in page


def test_verification_is_green_then_names_the_edited_event(client, auth, db, deploy, people, run_cli=None):
    instance_id, _, _ = _request(db, deploy)
    auth.login("denetci")
    page = client.get("/audit/verify").get_data(as_text=True)
    assert 'data-testid="verify-ok"' in page and "every chain intact" in page
    with db.tx() as session:
        first = session.scalar(select(AuditEvent).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.seq))
        session.execute(text("UPDATE audit_event SET actor = 'mehmet' WHERE id = :id"), {"id": first.id})

    for path in ("/audit/verify", f"/audit/verify?instance={instance_id}"):
        page = client.get(path).get_data(as_text=True)
        assert 'data-testid="verify-broken"' in page
        assert f'data-testid="broken-event">{first.id}<' in page
        assert f'data-testid="broken-chain">instance:{instance_id}<' in page
        assert "the event was edited" in page
    other, _, _ = _request(db, deploy, name="Ali Can", email="ali@example.edu.tr")
    assert 'data-testid="verify-ok"' in client.get(f"/audit/verify?instance={other}").get_data(as_text=True)


def test_exports_parse_back_and_neutralize_formulas(client, auth, db, deploy, people):
    instance_id, task_id, code = _request(db, deploy, name=FORMULA, subject="-2+3")
    auth.login("ag")
    client.post(f"/tasks/{task_id}/claim", data={"csrf_token": auth.csrf(f"/tasks/{task_id}")})
    with db.tx() as session:
        session.execute(text("UPDATE audit_event SET actor = '@ag' WHERE action = 'task.claimed'"))
        session.execute(text("UPDATE audit_chain SET head_hash = head_hash"))
    auth.logout()
    auth.login("denetci")
    with db.tx() as session:
        total = len(list(session.scalars(select(AuditEvent.id))))

    response = client.get("/audit/export", query_string={"format": "csv"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == total
    claimed = next(r for r in rows if r["action"] == "task.claimed")
    assert claimed["actor"] == "'@ag" and claimed["tracking_code"] == code
    for row in rows:
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row.values()), row

    events = client.get("/audit/export", query_string={"format": "json"}).get_json()
    assert len(events) == total
    started = next(e for e in events if e["action"] == "instance.started")
    assert started["data"]["data"]["requester"] == FORMULA and started["tracking_code"] == code

    response = client.get("/audit/export", query_string={"format": "xes"})
    root = ET.fromstring(response.get_data())
    traces = root.findall(f"{XES}trace")
    assert [t.find(f"{XES}string[@key='concept:name']").get("value") for t in traces] == [code]
    names = [(e.find(f"{XES}string[@key='concept:name']").get("value"),
              e.find(f"{XES}string[@key='lifecycle:transition']").get("value"),
              e.find(f"{XES}date[@key='time:timestamp']") is not None)
             for e in traces[0].findall(f"{XES}event")]
    assert names[0] == ("instance.started", "complete", True)
    assert any(name.endswith("(task.claimed)") for name, _, _ in names)
    resources = [r.get("value") for r in traces[0].iter(f"{XES}string") if r.get("key") == "org:resource"]
    assert "@ag" in resources and "portal" in resources

    # a period with nothing in it, and a bad one
    empty = client.get("/audit/export", query_string={"format": "json", "from": "2001-01-01", "to": "2001-01-31"})
    assert empty.get_json() == []
    bad = client.get("/audit/export", query_string={"format": "csv", "from": "2023-02-01", "to": "2023-01-01"})
    assert bad.status_code == 422 and 'data-testid="error"' in bad.get_data(as_text=True)


def _contact(page: str) -> str:
    return page[page.index('data-testid="contact"'):page.index("</dl>", page.index('data-testid="contact"'))]


def _views(db, instance_id):
    with db.tx() as session:
        return [(e.actor, e.data) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.instance_id == instance_id, AuditEvent.action == "personal_data.viewed"))]


@pytest.mark.parametrize(("user", "path", "shown", "tc_clear"), [
    ("ag", "/tasks/{task}", ["email", "phone"], False),
    ("denetci", "/instances/{instance}", ["email", "phone", "national_id"], True),
    ("admin", "/instances/{instance}", ["email", "phone", "national_id"], True),
])
def test_personal_data_is_masked_until_a_recorded_view(client, auth, db, deploy, people, user, path, shown, tc_clear):
    instance_id, task_id, _ = _request(db, deploy)
    page_path = path.format(task=task_id, instance=instance_id)
    auth.login(user)
    contact = _contact(client.get(page_path).get_data(as_text=True))
    assert "Elif Şahin" in contact
    assert "e***@ogr.example.edu.tr" in contact and "0532 *** ** 00" in contact and "123******50" in contact
    assert "elif@ogr" not in contact and "12345678950" not in contact and "123 45" not in contact
    assert _views(db, instance_id) == []

    token = auth.csrf(page_path)
    assert client.post(f"/instances/{instance_id}/personal-data", data={"next": page_path}).status_code == 400
    response = client.post(f"/instances/{instance_id}/personal-data", data={"csrf_token": token, "next": page_path})
    assert response.status_code == 302 and response.headers["Location"].endswith(page_path + "#conversation")
    assert _views(db, instance_id) == [(user, {"fields": shown})]

    contact = _contact(client.get(page_path).get_data(as_text=True))
    assert "elif@ogr.example.edu.tr" in contact and "0532 123 45 00" in contact
    assert ("12345678950" in contact) is tc_clear and ("123******50" in contact) is not tc_clear
    # shown once: the next visit is masked again, until the next recorded view
    assert "elif@ogr" not in _contact(client.get(page_path).get_data(as_text=True))


def test_staff_who_may_not_see_the_request_cannot_reveal_it(client, auth, db, deploy, people):
    instance_id, _, _ = _request(db, deploy)
    auth.login("yazilim")
    response = client.post(f"/instances/{instance_id}/personal-data",
                           data={"csrf_token": auth.csrf("/inbox"), "next": "https://evil.example/"})
    assert response.status_code == 403
    assert _views(db, instance_id) == []


def test_the_reveal_never_redirects_off_site(client, auth, db, deploy, people):
    instance_id, _, _ = _request(db, deploy)
    auth.login("admin")
    for target in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        response = client.post(f"/instances/{instance_id}/personal-data",
                               data={"csrf_token": auth.csrf("/inbox"), "next": target})
        assert response.headers["Location"].endswith(f"/instances/{instance_id}#conversation"), target


def test_the_api_never_gives_the_national_id(client, auth, db, deploy, people):
    instance_id, _, _ = _request(db, deploy)
    auth.login("admin")
    for path in (f"/api/v1/instances/{instance_id}", f"/api/v1/instances/{instance_id}/events"):
        body = client.get(path).get_data(as_text=True)
        assert "12345678950" not in body and "national_id" not in body, path


@pytest.mark.parametrize("path", ["/tasks/{task}", "/instances/{instance}"])
def test_the_data_panel_and_timeline_mask_the_requesters_address_too(client, auth, db, deploy, people, path):
    """The portal copies the e-mail and phone into the process data: the data table and the
    history show them masked as well, so the recorded button is the only way to the clear values."""
    instance_id, task_id, _ = _request(db, deploy)
    auth.login("ag")
    page = client.get(path.format(task=task_id, instance=instance_id)).get_data(as_text=True)
    # the data panel leaves the contact to the conversation's card; neither shows the address
    assert 'data-testid="data-panel"' in page
    assert "e***@ogr.example.edu.tr" in page
    assert "elif@ogr.example.edu.tr" not in page
