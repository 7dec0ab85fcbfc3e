"""The help desk moves a waiting user_support request to another category from its page."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from engine import runtime
from engine.models import AuditEvent, HumanTask

BPMN = Path(__file__).resolve().parents[2] / "bpmn"


def _start(db, deploy, category="VPN Bağlantısı"):
    deploy(BPMN / "user_support.bpmn", BPMN / "user_support.routing.dmn",
           *sorted(BPMN.glob("user_support.*.json")))
    with db.tx() as session:
        return runtime.start_instance(session, "user_support", actor="portal", data={
            "category": category, "subject": "Bağlanamıyorum", "requester": "Ali Veli",
            "requester_email": "ali@example.edu.tr"}).id


def _open_groups(db, instance_id):
    with db.tx() as session:
        return [t.group_name for t in session.scalars(select(HumanTask).where(
            HumanTask.instance_id == instance_id, HumanTask.state.in_(["ready", "claimed"])))]


def test_helpdesk_moves_a_request_to_another_team(client, auth, make_user, db, deploy):
    make_user("destek", groups=("helpdesk",))
    make_user("ag", groups=("network",))
    instance_id = _start(db, deploy)
    assert _open_groups(db, instance_id) == ["network"]
    auth.login("destek")
    page = client.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert 'data-testid="recategorize"' in page
    response = client.post(f"/instances/{instance_id}/recategorize", data={
        "csrf_token": auth.csrf(f"/instances/{instance_id}"), "category": "BYS / Yazılım",
        "note": "Sorun BYS girişinde"})
    assert response.status_code == 302
    assert _open_groups(db, instance_id) == ["software"]
    with db.tx() as session:
        moved = session.scalar(select(AuditEvent).where(AuditEvent.action == "message.delivered"))
    assert (moved.actor, moved.data["payload"]["category"]) == ("destek", "BYS / Yazılım")

    bad = client.post(f"/instances/{instance_id}/recategorize", data={
        "csrf_token": auth.csrf(f"/instances/{instance_id}"), "category": "Uzay"}, follow_redirects=True)
    assert "Talep taşınmadı" in bad.get_data(as_text=True)
    assert _open_groups(db, instance_id) == ["software"]


def test_only_the_help_desk_moves_requests(client, auth, make_user, db, deploy):
    make_user("ag", groups=("network",))
    instance_id = _start(db, deploy)
    auth.login("ag")
    page = client.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert 'data-testid="recategorize"' not in page
    response = client.post(f"/instances/{instance_id}/recategorize", data={
        "csrf_token": auth.csrf(f"/instances/{instance_id}"), "category": "BYS / Yazılım"})
    assert response.status_code == 403
    assert _open_groups(db, instance_id) == ["network"]
