"""KVKK retention: requests closed long ago lose their personal data, nothing else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from engine import attachments, audit, conversation, instances, reports, retention, runtime
from engine.attachments import Upload
from engine.models import (
    Attachment,
    AuditEvent,
    AuthorKind,
    MailMessage,
    ProcessInstance,
    RequestContact,
    RequestMessage,
    ServiceRating,
    utcnow,
)
from processes import demo_year
from tests.conftest import BPMN

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def _request(session, folder, name: str, email: str, *, closed_days_ago: int) -> int:
    """A portal request with everything personal a requester leaves behind, closed ``closed_days_ago``."""
    data = {"category": "VPN Bağlantısı", "subject": "VPN", "requester": name, "requester_email": email,
            "phone": "3456", "message": "TC'm 10000000146, evden bağlanamıyorum"}
    instance = runtime.start_instance(session, "user_support", data=data, actor=f"requester:{email}")
    conversation.record_contact(session, instance.id, name=name, email=email, national_id="10000000146",
                                unit="Fen Fakültesi", phone="3456")
    first = conversation.add_message(session, instance.id, data["message"], author_kind=AuthorKind.REQUESTER,
                                     author=email)
    conversation.add_message(session, instance.id, f"Merhaba {name}, VPN hesabınız açıldı.",
                             author_kind=AuthorKind.STAFF, author="ag")
    attachments.store(session, folder, instance.id, [Upload("kimlik.png", PNG)], uploaded_by=email,
                      message_id=first.id)
    session.add(ServiceRating(instance_id=instance.id, score=4, comment=f"{name}: teşekkürler"))
    session.add(MailMessage(instance_id=instance.id, recipients=email, subject="Talebiniz yanıtlandı",
                            body=f"Sayın {name}, talebiniz yanıtlandı."))
    session.add(MailMessage(instance_id=instance.id, recipients="ag-lider@example.edu.tr", subject="Süre",
                            body="ekip bildirimi"))
    runtime.cancel_instance(session, instance.id, actor="ag", reason="test")
    session.execute(update(ProcessInstance).where(ProcessInstance.id == instance.id)
                    .values(completed_at=utcnow() - timedelta(days=closed_days_ago)))
    return instance.id


def _leaves(value) -> str:
    """Every string of stored event data, except the digests that redaction markers keep."""
    if audit.is_redacted(value):
        return "[redacted]"
    if isinstance(value, dict):
        return " ".join(_leaves(v) for v in value.values())
    if isinstance(value, list):
        return " ".join(_leaves(v) for v in value)
    return str(value)


def test_old_requests_lose_their_personal_data_younger_ones_keep_it(db, deploy, tmp_path):
    deploy(BPMN)
    folder = tmp_path / "attachments"
    with db.tx() as session:
        old = _request(session, folder, "Ayşe Yılmaz", "ayse.yilmaz@example.edu.tr", closed_days_ago=3 * 365)
        young = _request(session, folder, "Mehmet Demir", "mehmet.demir@example.edu.tr", closed_days_ago=200)
        running = runtime.start_instance(session, "user_support", data={
            "category": "Diğer", "requester": "Ali", "requester_email": "ali@example.edu.tr", "subject": "Yazıcı"}).id
        old_file = folder / session.scalar(select(Attachment.stored_name).where(Attachment.instance_id == old))

    with db.tx() as session:
        result = retention.apply(session, 2, attachments_dir=folder, actor="admin")
    assert str(result) == "1 request(s) anonymized (2 message(s), 1 file(s), 1 mail(s))"
    assert old_file.exists()           # the file goes only once the rows are committed
    retention.delete_files(result)
    assert not old_file.exists()

    with db.tx() as session:
        contact = session.get(RequestContact, old)
        assert (contact.name, contact.email, contact.national_id, contact.phone, contact.unit) == (
            "Anonim", f"anonim-{old}@anonim.invalid", None, None, "Fen Fakültesi")
        bodies = session.scalars(select(RequestMessage.body).where(RequestMessage.instance_id == old)
                                 .order_by(RequestMessage.id)).all()
        assert bodies == ["[anonimleştirildi]", "Merhaba [anonimleştirildi], VPN hesabınız açıldı."]
        file_row = session.scalar(select(Attachment).where(Attachment.instance_id == old))
        assert (file_row.filename, file_row.size, file_row.content_type) == ("[anonimleştirildi]", len(PNG),
                                                                             "image/png")
        mails = dict(session.execute(select(MailMessage.recipients, MailMessage.body)
                                     .where(MailMessage.instance_id == old)).all())
        assert mails == {f"anonim-{old}@anonim.invalid": "[anonimleştirildi]",
                         "ag-lider@example.edu.tr": "ekip bildirimi"}
        rating = session.get(ServiceRating, old)
        assert (rating.score, rating.comment) == (4, "[anonimleştirildi]")
        assert session.get(ProcessInstance, old).started_by == f"requester:anonim-{old}@anonim.invalid"
        data = instances.current_data(session, old)   # the stored workflow still restores
        assert data["requester"] == data["requester_email"] == data["message"] == "[anonimleştirildi]"
        assert data["category"] == "VPN Bağlantısı"
        # The younger request and the running one are untouched.
        assert session.get(RequestContact, young).email == "mehmet.demir@example.edu.tr"
        assert instances.current_data(session, young)["requester"] == "Mehmet Demir"
        assert instances.current_data(session, running)["requester"] == "Ali"
        # One event for the run, naming the request; every chain still verifies.
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "retention.applied")).all()
        assert [(e.actor, e.data["requests"], e.data["instance_ids"]) for e in events] == [("admin", 1, [old])]
        assert audit.verify(session).ok
        # The old request's audit trail no longer says who asked or what they wrote; the younger one's does.
        for instance_id, personal in ((old, False), (young, True)):
            trail = session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance_id)).all()
            text = " ".join(f"{e.actor} {_leaves(e.data)}" for e in trail)
            name, email = ("Ayşe Yılmaz", "ayse.yilmaz") if instance_id == old else ("Mehmet Demir", "mehmet.demir")
            for value in (name, email, "3456", "10000000146", "evden bağlanamıyorum"):
                assert (value in text) is personal, (instance_id, value)
        started = session.scalar(select(AuditEvent.id).where(AuditEvent.instance_id == old,
                                                              AuditEvent.action == "instance.started"))
        assert session.get(AuditEvent, started).actor == "requester:[redacted]"

    with db.tx() as session:   # a redacted event edited afterwards is still caught
        event = session.get(AuditEvent, started)
        event.data = {**event.data, "key": "other_process"}
    with db.tx() as session:
        result = audit.verify(session)
        assert not result.ok and result.event_id == started and "edited" in result.reason
        event = session.get(AuditEvent, started)
        event.data = {**event.data, "key": "user_support"}

    with db.tx() as session:   # done once: a second run finds nothing left
        assert retention.apply(session, 2, attachments_dir=folder).requests == 0


def test_dry_run_changes_nothing(db, deploy, tmp_path):
    deploy(BPMN)
    folder = tmp_path / "attachments"
    with db.tx() as session:
        old = _request(session, folder, "Ayşe Yılmaz", "ayse.yilmaz@example.edu.tr", closed_days_ago=800)
        events = session.scalar(select(func.count()).select_from(AuditEvent))
    with db.tx() as session:
        result = retention.apply(session, 2, attachments_dir=folder, dry_run=True)
    assert str(result) == "1 request(s) would be anonymized (2 message(s), 1 file(s), 1 mail(s))"
    assert result.paths == ()
    with db.tx() as session:
        assert session.get(RequestContact, old).name == "Ayşe Yılmaz"
        assert instances.current_data(session, old)["requester"] == "Ayşe Yılmaz"
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == events
        assert all(p.exists() for p in folder.iterdir())


def test_every_report_gives_the_same_figures_before_and_after(db, deploy):
    deploy(BPMN)
    with db.tx() as session:
        demo_year.load_year(session, 2023)
    with db.tx() as session:
        before = reports.summary(session, 2023), reports.summary(session, 2023, 10), reports.monthly(session, 2023)
    # As if run on 1 March 2024 keeping one year: the requests closed before about March 2023 go.
    when = datetime(2024, 3, 1, tzinfo=UTC)
    with db.tx() as session:
        closed_early = session.scalar(select(func.count()).select_from(ProcessInstance).where(
            ProcessInstance.completed_at < when - timedelta(days=365)))
        result = retention.apply(session, 1, now=when)
    assert 300 < result.requests == closed_early < 1000
    with db.tx() as session:
        after = reports.summary(session, 2023), reports.summary(session, 2023, 10), reports.monthly(session, 2023)
        assert session.scalar(select(func.count()).select_from(RequestContact)
                              .where(RequestContact.email_key.like("%@anonim.invalid"))) == closed_early
    assert after == before
    assert before[0]["received"] == 3481
