"""A mail the SMTP server refuses fails visibly, without naming the recipient in clear.

Staff read a failed mail's error on the instance page (its error message) and in the
``job.failed`` event: the recipient is a requester, whose address they may only see
through the recorded "show personal data" view.
"""

from __future__ import annotations

import socket
import time

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from engine import mail
from engine.jobs import WorkerSettings
from engine.mail import MailSettings
from engine.models import AuditEvent, Job, JobState, MailMessage
from engine.worker import run_due_jobs

ADDRESS = "gizli.kisi@example.org"


class _Refusing:
    """Refuses every recipient the way Postfix does, quoting the address back."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's hook
        return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"


@pytest.fixture
def refusing_smtp():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(_Refusing(), hostname="127.0.0.1", port=port)
    controller.start()
    yield port
    controller.stop()


def test_a_refused_recipient_fails_the_mail_with_the_address_masked(db, refusing_smtp):
    with db.tx() as session:
        message_id = mail.queue_mail(session, ADDRESS, "Talebiniz alındı", "Merhaba").id
    settings = WorkerSettings(mail=MailSettings(host="127.0.0.1", port=refusing_smtp, timeout=5),
                              backoff_seconds=0.01)

    for _ in range(20):  # five attempts, a hundredth of a second apart
        run_due_jobs(db.factory, settings)
        with db.tx() as session:
            if session.scalar(select(Job.state).where(Job.kind == "mail")) == JobState.FAILED:
                break
        time.sleep(0.05)

    with db.tx() as session:
        job = session.scalar(select(Job).where(Job.kind == "mail"))
        failed = session.get(MailMessage, message_id)
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "job.failed"))
        assert job.state == JobState.FAILED
        assert failed.state == "failed"
        assert failed.recipients == ADDRESS  # the admins' outbox keeps the mail as addressed
        for text in (job.last_error, failed.error, str(event.data)):
            assert "refused the recipient: 550" in text
            assert "g***@example.org" in text
            assert ADDRESS not in text

