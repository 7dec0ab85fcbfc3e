"""An auditor reads the history of a request whose personal data retention removed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import update

from engine import conversation, retention, runtime
from engine.models import AuthorKind, ProcessInstance, utcnow

BPMN = Path(__file__).resolve().parents[2] / "bpmn"


def test_the_history_of_an_anonymized_request_shows_redacted_values(client, auth, db, deploy, make_user):
    make_user("denetci", groups=(), roles=("auditor",))
    deploy(BPMN / "user_support.bpmn", BPMN / "user_support.routing.dmn", *sorted(BPMN.glob("user_support.*.json")))
    with db.tx() as session:
        instance = runtime.start_instance(session, "user_support", actor="requester:elif@ogr.example.edu.tr", data={
            "category": "Kablosuz Ağ (eduroam)", "subject": "eduroam", "requester": "Elif Şahin",
            "requester_email": "elif@ogr.example.edu.tr", "phone": "0532 123 45 00"})
        conversation.record_contact(session, instance.id, name="Elif Şahin", email="elif@ogr.example.edu.tr",
                                    phone="0532 123 45 00", unit="Fen Fakültesi")
        conversation.add_message(session, instance.id, "Telefonum 0532 123 45 00, arayın",
                                 author_kind=AuthorKind.REQUESTER, author="elif@ogr.example.edu.tr")
        runtime.cancel_instance(session, instance.id, actor="admin", reason="test")
        session.execute(update(ProcessInstance).where(ProcessInstance.id == instance.id)
                        .values(completed_at=utcnow() - timedelta(days=800)))
        instance_id = instance.id
    with db.tx() as session:
        assert retention.apply(session, 1).requests == 1

    auth.login("denetci")
    response = client.get(f"/audit/instances/{instance_id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "[redacted]" in page and 'data-testid="actor">requester:[redacted]<' in page
    assert "Kablosuz Ağ (eduroam)" in page   # what is not personal stays readable
    for personal in ("Elif", "elif@", "0532", "arayın", "$redacted", "_salt"):
        assert personal not in page, personal
    # ... and the auditor's verification is green.
    assert 'data-testid="verify-ok"' in client.get(f"/audit/verify?instance={instance_id}").get_data(as_text=True)
