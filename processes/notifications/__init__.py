"""Mails to requesters, staff and units, written from templates in the reader's language.

The public API other layers call: :func:`notify_requester` (a mail about one request,
in its requester's language, always with the tracking code and the tracking link) and
:func:`mail_open_requests` ("forgot my tracking code").
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from engine import conversation, links
from engine.mail import queue_mail
from engine.models import MailMessage, ProcessInstance

__all__ = ["notify_requester", "mail_open_requests"]


def notify_requester(session: Session, instance_id: int, template: str, **context) -> MailMessage | None:
    """Queue the requester's mail ``template`` in their language (``RequestContact.locale``).

    :param template: received, question, answer, reminder, reopened, autoclosed, message
        (a public staff message; ``message=...``), confirmed, ...
    :returns: the queued mail, or None if the instance has no requester contact
    """
    contact = conversation.contact_of(session, instance_id)
    if contact is None:
        return None
    instance = session.get(ProcessInstance, instance_id)
    code = instance.tracking_code
    url = links.tracking_url(code, contact.email)
    subject = f"[{code}] {template}"
    body = "\n\n".join(filter(None, [str(context.get("message") or ""), f"Takip kodu / Tracking code: {code}", url]))
    mail = queue_mail(session, contact.email, subject, body, instance_id=instance_id)
    mail.template, mail.language = template, contact.locale
    return mail


def mail_open_requests(session: Session, email: str, locale: str) -> MailMessage | None:
    """'Forgot my tracking code': mail the address the list of its open requests
    (tracking code and tracking link of each); None if it has none."""
    requests = conversation.open_requests_of(session, email)
    if not requests:
        return None
    lines = [f"{r.tracking_code}: {links.tracking_url(r.tracking_code, email)}" for r in requests]
    mail = queue_mail(session, email.strip(), "Açık talepleriniz / Your open requests", "\n".join(lines))
    mail.template, mail.language = "open_requests", locale if locale in ("tr", "en") else "tr"
    return mail
