"""Task forms rendered from JSON Schema + UI schema, and submissions read back into data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from engine import runtime
from engine.models import AuditEvent, HumanTask
from webapp.inbox.forms import build_fields, read_submission

DATA = Path(__file__).resolve().parents[1] / "data" / "webapp"
SCHEMA = json.loads((DATA / "equipment.schema.json").read_text())
UI = json.loads((DATA / "equipment.ui.json").read_text())


@pytest.fixture
def equipment_task(db, deploy, make_user):
    make_user("ayse", groups=("helpdesk",))
    deploy(DATA)
    with db.tx() as session:
        instance = runtime.start_instance(session, "equipment_loan", data={"days": 3}, actor="ayse")
        return session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance.id))


def test_fields_follow_ui_order_widgets_and_help(app):
    with app.test_request_context():
        fields = build_fields(SCHEMA, UI, {"days": 3, "accessories": ["charger", "bag"]})
    by_name = {f.name: f for f in fields}
    assert [f.name for f in fields][:3] == ["borrower_email", "device", "days"]
    assert {name: f.kind for name, f in by_name.items()} == {
        "borrower_email": "email", "device": "select", "days": "integer", "condition": "radio",
        "deposit": "number", "return_date": "date", "insured": "checkbox", "accessories": "lines",
        "rooms": "checkboxes", "notes": "textarea",
    }
    assert by_name["device"].options == [("laptop", "Laptop"), ("projector", "Projector"), ("camera", "Camera")]
    assert by_name["days"].help == "At most a month." and by_name["days"].value == "3"
    assert by_name["accessories"].value == "charger\nbag"
    assert by_name["notes"].placeholder == "Anything the next person should know"
    assert by_name["days"].required and not by_name["notes"].required


def test_submission_converts_types_and_reports_what_cannot_be_read(app):
    form = MultiDict([("device", "camera"), ("borrower_email", " a@b.edu.tr "), ("days", "abc"),
                      ("deposit", "12,5"), ("return_date", "2026-12-01"), ("insured", "on"),
                      ("accessories", "charger\n\n bag \n"), ("rooms", "A101"), ("rooms", "B202"),
                      ("notes", "")])
    with app.test_request_context():
        fields = build_fields(SCHEMA, UI)
        data = read_submission(fields, SCHEMA, form)
    by_name = {f.name: f for f in fields}
    assert data == {"device": "camera", "borrower_email": "a@b.edu.tr", "deposit": 12.5,
                    "return_date": "2026-12-01", "insured": True, "accessories": ["charger", "bag"],
                    "rooms": ["A101", "B202"]}
    assert by_name["days"].errors == ["Bir tam sayı girin."] and by_name["days"].value == "abc"


def test_rich_form_page_errors_then_completion(client, auth, db, equipment_task):
    auth.login("ayse")
    page = client.get(f"/tasks/{equipment_task}").get_data(as_text=True)
    assert "<strong>serial number</strong>" in page
    assert 'type="date"' in page and 'type="email"' in page and 'type="radio"' in page
    assert 'id="field-days" name="days" value="3"' in page   # filled from the process data

    token = auth.csrf(f"/tasks/{equipment_task}")
    bad = client.post(f"/tasks/{equipment_task}/complete", data={
        "csrf_token": token, "device": "camera", "borrower_email": "not-an-address", "days": "45",
        "return_date": "2026-12-01", "notes": "Kılıfıyla verildi"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert "Geçerli bir e-posta adresi girin." in html
    assert "30 veya daha küçük bir değer girin." in html
    assert "Kılıfıyla verildi" in html and 'value="not-an-address"' in html
    with db.tx() as session:
        assert session.get(HumanTask, equipment_task).state == "ready"

    good = client.post(f"/tasks/{equipment_task}/complete", data={
        "csrf_token": token, "device": "camera", "borrower_email": "ali@example.edu.tr", "days": "14",
        "return_date": "2026-12-01", "insured": "on", "rooms": ["A101"], "notes": "Kılıfıyla verildi"})
    assert good.status_code == 302
    with db.tx() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "task.completed"))
    assert event.data["data"] == {"device": "camera", "borrower_email": "ali@example.edu.tr", "days": 14,
                                  "return_date": "2026-12-01", "insured": True, "accessories": [],
                                  "rooms": ["A101"], "notes": "Kılıfıyla verildi"}
