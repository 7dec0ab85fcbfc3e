"""Service operators of the 7/24 hotline: mail a unit a signed reply link."""

from __future__ import annotations

from engine import links
from engine.jobs import ServiceContext
from engine.mail import queue_mail

from .texts import link_mail, unit_purpose

MESSAGE = "unit_answer"


def create_unit_link(ctx: ServiceContext, to: str, unit_name: str, kind: str = "hotline",
                     reminder: bool = False) -> dict:
    """Create a signed single-use reply link for the unit and queue the mail that carries it.

    The token itself is kept out of the instance data and the audit trail: it lives only
    in the mail. A new link (a reminder, a send-back) makes the earlier one stop working.

    :param to: the unit's e-mail address
    :param kind: ``hotline`` (7/24 KLU Hat message) or ``call`` (a call-centre record)
    :param reminder: word the mail as a reminder
    """
    purpose = unit_purpose(ctx.data, kind)
    token = links.create_link(ctx.session, ctx.instance_id, MESSAGE, purpose=purpose, recipient=to)
    subject, body = link_mail(unit_name, purpose, links.link_url(token), kind=kind, reminder=reminder)
    message = queue_mail(ctx.session, to, subject, body, instance_id=ctx.instance_id,
                         template="unit_link", language="tr")
    return {"mail_id": message.id, "recipient": to, "reminder": bool(reminder)}


OPERATORS = {"create_unit_link": create_unit_link}
