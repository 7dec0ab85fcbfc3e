"""Mails to requesters, staff and units, written from templates in the reader's language.

The public API other layers call: :func:`notify_requester` (a mail about one request,
in its requester's language, always with the tracking code and the tracking link) and
:func:`mail_open_requests` ("forgot my tracking code"). Staff notices (new task, daily
digest, overdue) are in :mod:`.staff`; :func:`install` registers them with the engine.
"""

from __future__ import annotations

import logging

from babel.dates import format_date
from sqlalchemy.orm import Session

from engine import conversation, instances, links, workdays
from engine.errors import EngineError
from engine.mail import queue_mail
from engine.models import MailMessage, ProcessInstance

from .. import i18n
from .render import language_of, render

log = logging.getLogger(__name__)

__all__ = ["notify_requester", "mail_open_requests", "queue_template", "install"]

# What the requester mails say about which request it is: " (category): subject".
ABOUT_MAX = 150


def queue_template(session: Session, to: str | list[str], template: str, language: str, *,
                   instance_id: int | None = None, **context) -> MailMessage:
    """Render ``template`` in ``language`` and queue it, recording template and language."""
    language = language_of(language)
    subject, body = render(template, language, **context)
    return queue_mail(session, to, subject, body, instance_id=instance_id, template=template, language=language)


def _about(session: Session, instance: ProcessInstance, context: dict, language: str = "tr") -> str:
    """Which request a mail is about, the category and process name in the reader's language."""
    category = str(context.get("category") or "").strip()
    subject = str(context.get("subject") or "").strip()
    if not category and not subject:
        # The caller (the portal after a submission) did not say: read the request's data.
        data = instances.current_data(session, instance.id)
        category, subject = str(data.get("category") or "").strip(), str(data.get("subject") or "").strip()
    if not category and not subject and instance.definition is not None:
        category = instance.definition.name or ""
    category = i18n.text(instance.process_key, category, language_of(language))
    text = (f" ({category})" if category else "") + (f": {subject}" if subject else "")
    return text if len(text) <= ABOUT_MAX else text[:ABOUT_MAX - 1] + "…"


def tracking_link(code: str, email: str) -> str:
    """The link that opens a request's tracking page; without a signing secret (never in a
    configured installation) the page that asks for the e-mail address, so the mail still goes."""
    try:
        return links.tracking_url(code, email)
    except EngineError:
        log.warning("tracking links are not configured (no secret key): mailing the plain tracking page")
        return f"{links.base_url()}{links.TRACKING_PATH}{code}"


def notify_requester(session: Session, instance_id: int, template: str, **context) -> MailMessage | None:
    """Queue the requester's mail ``template`` in their language (``RequestContact.locale``).

    Every such mail carries the request's tracking code and the link that opens its
    tracking page (:func:`engine.links.tracking_url`).

    :param template: received, question, answer, reminder, reopened, autoclosed, message
        (a public staff message), routed, outside, confirmed
    :param context: what the template shows: ``message`` (the question, the answer, the
        staff message, the reopening reason), ``category`` and ``subject`` (which request;
        the process's name when both are missing), ``unit_name``, ``author``...
    :returns: the queued mail, or None if the instance has no requester contact
    """
    contact = conversation.contact_of(session, instance_id)
    if contact is None:
        return None
    instance = session.get(ProcessInstance, instance_id)
    code = instance.tracking_code
    values = {**context, "name": context.get("name") or contact.name or "",
              "code": code, "url": tracking_link(code, contact.email),
              "about": _about(session, instance, context, contact.locale)}
    return queue_template(session, contact.email, template, contact.locale, instance_id=instance_id, **values)


def mail_open_requests(session: Session, email: str, locale: str) -> MailMessage | None:
    """'Forgot my tracking code': mail the address the list of its open requests
    (tracking code and tracking link of each); None if it has none.

    The list goes only to the address itself, so asking for it reveals nothing.
    """
    requests = conversation.open_requests_of(session, email)
    if not requests:
        return None
    items = []
    for instance in requests:
        contact = conversation.contact_of(session, instance.id)
        items.append({"code": instance.tracking_code, "url": tracking_link(instance.tracking_code, contact.email),
                      "title": i18n.text(instance.process_key, instance.definition.name or "", language_of(locale))
                      if instance.definition is not None else "",
                      "created": format_date(instance.created_at.astimezone(workdays.ZONE).date(), "d MMMM y",
                                             locale=language_of(locale))})
    return queue_template(session, requests and conversation.contact_of(session, requests[0].id).email,
                          "open_requests", locale, requests=items)


def install() -> None:
    """Register the staff notices with the engine (called by :func:`processes.install`)."""
    from . import staff

    staff.install()
