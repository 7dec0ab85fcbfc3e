"""The task page: the request first, then a form that asks only what the chosen action needs,
and a data panel that speaks in the process's labels."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from engine import runtime, users
from engine.models import AuditEvent, HumanTask

BPMN = Path(__file__).resolve().parents[2] / "bpmn"


def _support_task(db, deploy, make_user) -> int:
    make_user("ag", groups=("network",))
    deploy(BPMN / "user_support.bpmn", BPMN / "user_support.routing.dmn", *sorted(BPMN.glob("user_support.*.json")))
    with db.tx() as session:
        instance = runtime.start_instance(session, "user_support", actor="portal", data={
            "category": "VPN Bağlantısı", "subject": "VPN bağlanmıyor", "requester": "Ali Veli",
            "requester_email": "ali@example.edu.tr", "message": "Evden VPN ile bağlanamıyorum.\nHata 809."})
        return session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance.id))


def test_the_request_comes_first_and_the_panel_shows_labels_not_keys(client, auth, db, deploy, make_user):
    task_id = _support_task(db, deploy, make_user)
    auth.login("ag")
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    subject, message = page.index('data-testid="request-subject"'), page.index("Hata 809.")
    assert "VPN bağlanmıyor" in page[subject:message]
    assert subject < message < page.index('data-testid="conversation"') < page.index('data-testid="task-form"')
    # one section per action, each saying when it applies (all shown without JavaScript)
    assert 'data-testid="section-action-answer"' in page and 'data-testid="section-action-route"' in page
    assert "“Başka birime yönlendir” seçildiğinde" in page
    route = page[page.index('data-testid="section-action-route"'):page.index('data-testid="section-action-outside"')]
    assert 'name="unit_email"' in route and 'name="answer"' not in route
    panel = page[page.index('data-testid="data-panel"'):]
    panel = panel[:panel.index("</dl>")]
    assert "Konu başlığı (kategori)" in panel and "VPN Bağlantısı" in panel
    assert 'data-key="category"' in panel
    for internal in ("due_at", "lead_email", "team", "due_days"):
        assert f'data-key="{internal}"' not in panel and f">{internal}<" not in panel
    # started without a contact record (no contact card above): the request names the requester,
    # the panel gives the address, masked as everywhere
    assert '<span data-testid="request-requester">Ali Veli</span>' in page
    assert "a***@example.edu.tr" in panel and "ali@example.edu.tr" not in page


def test_only_the_chosen_actions_fields_are_asked_for_and_stored(client, auth, db, deploy, make_user):
    task_id = _support_task(db, deploy, make_user)
    auth.login("ag")
    token = auth.csrf(f"/tasks/{task_id}")
    bad = client.post(f"/tasks/{task_id}/complete", data={
        "csrf_token": token, "action": "route", "unit_name": "Öğrenci İşleri", "answer": "", "question": ""})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert 'data-testid="error-unit_email"' in html and 'data-testid="error-route_note"' in html
    assert 'data-testid="error-answer"' not in html and 'data-testid="error-outside_unit"' not in html
    field = html[html.index('id="field-unit_email"'):]
    field = field[:field.index(">")]
    assert 'aria-invalid="true"' in field and 'aria-describedby="field-unit_email-errors"' in field
    assert 'value="Öğrenci İşleri"' in html                                      # what was typed is kept

    good = client.post(f"/tasks/{task_id}/complete", data={
        "csrf_token": token, "action": "ask", "question": "Hangi istemciyi kullanıyorsunuz?",
        "answer": "yarım kalmış bir yanıt", "unit_email": "bozuk-adres"})
    assert good.status_code == 302
    with db.tx() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "task.completed"))
    assert event.data["data"] == {"action": "ask", "question": "Hangi istemciyi kullanıyorsunuz?"}


def test_the_api_completes_with_the_same_rule(client, db, deploy, make_user):
    task_id = _support_task(db, deploy, make_user)
    with db.tx() as session:
        headers = {"Authorization": f"Bearer {users.create_token(session, 'ag')}"}
    refused = client.post(f"/api/v1/tasks/{task_id}/complete", headers=headers,
                          json={"data": {"action": "outside", "outside_unit": "SKS", "answer": "x"}})
    assert refused.status_code == 422
    assert "outside_note" in refused.get_data(as_text=True) and '"answer"' not in refused.get_data(as_text=True)
    done = client.post(f"/api/v1/tasks/{task_id}/complete", headers=headers, json={"data": {
        "action": "answer", "answer": "İstemciyi güncelleyin.", "unit_name": "eski seçim"}})
    assert done.status_code == 200
    with db.tx() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "task.completed"))
    assert event.data["data"] == {"action": "answer", "answer": "İstemciyi güncelleyin."}


def test_panel_values_read_in_the_page_language(app):
    from datetime import UTC, date, datetime, timedelta

    from processes.data_panel import Row
    from webapp.data_panel import shown
    moment = datetime(2026, 12, 7, 8, 7, tzinfo=UTC)
    with app.test_request_context(headers={"Accept-Language": "tr"}):
        assert shown(Row("at", "An", moment, "datetime")) == "7 Aralık 2026 11:07"
        assert shown(Row("on", "Gün", date(2026, 12, 7), "date")) == "7 Aralık 2026"
        assert shown(Row("for", "Süre", timedelta(days=3), "duration")) == "3 gün"
        assert shown(Row("ok", "Tamam", True, "bool")) == "Evet"


def test_if_then_else_sections_say_when_they_apply(app):
    import json

    from webapp.inbox.forms import build_fields
    schema = json.loads((BPMN / "yurtnet_registration.register.schema.json").read_text(encoding="utf-8"))
    ui = json.loads((BPMN / "yurtnet_registration.register.ui.json").read_text(encoding="utf-8"))
    with app.test_request_context(headers={"Accept-Language": "tr"}):
        fields = {f.name: f for f in build_fields(schema, ui)}
    assert fields["registered"].section is None and fields["registered"].required
    assert fields["network_note"].section.heading == "“Evet, kaydedildi” seçildiğinde"
    assert json.loads(fields["network_note"].section.when) == [
        {"field": "registered", "values": ["true"], "negate": False}]
    assert fields["reason"].section.heading == "“Hayır, kaydedilemedi” seçildiğinde" and fields["reason"].required


def test_a_case_the_page_cannot_tell_is_always_shown_under_its_title(app):
    from webapp.inbox.forms import build_fields
    schema = {"type": "object", "properties": {"amount": {"type": "number", "title": "Tutar"},
                                               "approver": {"type": "string", "title": "Onaylayan"}},
              "if": {"properties": {"amount": {"minimum": 1000}}, "required": ["amount"]},
              "then": {"title": "Tutar 1000 ve üstündeyse", "required": ["approver"]}}
    with app.test_request_context():
        [amount, approver] = build_fields(schema)
    assert amount.section is None
    assert (approver.section.heading, approver.section.when) == ("Tutar 1000 ve üstündeyse", "[]")
