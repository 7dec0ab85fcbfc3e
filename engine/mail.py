"""Outgoing mail: queued in the caller's transaction, delivered by the worker."""

from __future__ import annotations

import re
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

from sqlalchemy.orm import Session

from .directory import resolve_recipients
from .models import Job, JobKind, MailMessage, MailState, utcnow
from .personal import mask_email

# What an SMTP server's answer calls an address (``<a@b.c>``, ``a@b.c``).
_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


class DeliveryError(Exception):
    """The SMTP server refused a mail; the message names no address in clear.

    A failed mail's error reaches the job, the mail row and the instance's error message,
    which staff read: the recipient (a requester) must not be named there unmasked.
    """


@dataclass(frozen=True)
class MailSettings:
    """SMTP settings; with no ``host`` mail is kept in the outbox for admins."""

    host: str | None = None
    port: int = 25
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    sender: str = "sek@localhost"
    timeout: float = 30.0


def queue_mail(session: Session, recipients: list[str] | str, subject: str, body: str,
               *, instance_id: int | None = None, template: str | None = None,
               language: str | None = None) -> MailMessage:
    """Write a mail and the job that will send it, in the caller's transaction.

    :param instance_id: the request the mail is about; its job failing for good puts the
        instance in ``error`` (mail to a requester must not be lost quietly). Staff notices
        leave it None.
    :param recipients: addresses, or the directory's tokens ``group:<slug>`` / ``lead:<slug>``
        (:func:`engine.directory.resolve_recipients`; an unknown group raises its RecipientError)
    :param template: which template wrote it, and ``language`` in which language (the outbox shows both)
    """
    recipients = resolve_recipients(session, recipients)   # group:<slug> and lead:<slug> tokens
    if not recipients:
        raise ValueError("a mail needs at least one recipient")
    message = MailMessage(instance_id=instance_id, recipients=", ".join(recipients),
                          subject=subject[:500], body=body, template=template, language=language)
    session.add(message)
    session.flush()
    session.add(Job(kind=JobKind.MAIL, instance_id=instance_id, payload={"mail_id": message.id}))
    return message


def deliver(message: MailMessage, settings: MailSettings) -> None:
    """Send one queued mail (or put it in the outbox when no SMTP is configured).

    Raises on SMTP failure so that the job is retried.
    """
    if not settings.host:
        message.state = MailState.OUTBOX
        return
    email = EmailMessage()
    email["From"] = settings.sender
    email["To"] = message.recipients
    email["Subject"] = message.subject
    email["Auto-Submitted"] = "auto-generated"   # no out-of-office replies to a robot
    email.set_content(message.body)
    if message.language:   # after set_content, which drops Content-* headers
        email["Content-Language"] = message.language
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as smtp:
            if settings.starttls:
                smtp.starttls()
            if settings.user:
                smtp.login(settings.user, settings.password or "")
            smtp.send_message(email)
    except smtplib.SMTPRecipientsRefused as exc:
        answers = "; ".join(f"{code} {_masked(text)}" for code, text in exc.recipients.values())
        raise DeliveryError(f"the mail server refused the recipient: {answers}") from None
    except smtplib.SMTPException as exc:
        raise DeliveryError(f"{type(exc).__name__}: {_masked(exc)}") from None
    message.state = MailState.SENT
    message.sent_at = utcnow()


def _masked(answer) -> str:
    text = answer.decode("utf-8", "replace") if isinstance(answer, bytes) else str(answer)
    return _ADDRESS.sub(lambda match: mask_email(match.group()), text)
