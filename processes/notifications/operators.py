"""BPMN service operator ``notify_requester``: a requester mail from a template.

Usage in a model::

    <spiffworkflow:serviceTaskOperator id="notify_requester" resultVariable="mail_answer_result">
      <spiffworkflow:parameters>
        <spiffworkflow:parameter id="template" type="str" value="'answer'" />
        <spiffworkflow:parameter id="text" type="str" value="answer" />
      </spiffworkflow:parameters>
    </spiffworkflow:serviceTaskOperator>

The mail goes out in the requester's language with the tracking code and link.
"""

from __future__ import annotations

from sqlalchemy import select

from engine import conversation
from engine.jobs import ServiceContext
from engine.models import AuthorKind, HumanTask, TaskState

from .. import duplicates
from . import notify_requester

# Templates whose text the requester should also find on the tracking page.
PUBLIC_TEMPLATES = ("question", "answer", "routed", "outside", "message", "confirmed")


def _last_worker(ctx: ServiceContext) -> str:
    """Who completed the instance's last task: the staff member the text comes from."""
    return ctx.session.scalar(select(HumanTask.completed_by).where(
        HumanTask.instance_id == ctx.instance_id, HumanTask.state == TaskState.COMPLETED)
        .order_by(HumanTask.completed_at.desc(), HumanTask.id.desc()).limit(1)) or ""


def _ensure_contact(ctx: ServiceContext) -> bool:
    """A request started by staff or the API has no contact row yet: make one from the
    instance data (``requester``, ``requester_email``, ``locale``) so its tracking link works."""
    if conversation.contact_of(ctx.session, ctx.instance_id) is not None:
        return True
    email = str(ctx.data.get("requester_email") or "").strip()
    if not email:
        return False
    conversation.record_contact(ctx.session, ctx.instance_id, name=str(ctx.data.get("requester") or ""),
                                email=email, locale=str(ctx.data.get("locale") or "tr"))
    return True


def notify_requester_operator(ctx: ServiceContext, template: str, text: str = "", unit_name: str = "") -> dict:
    """Mail the requester ``template``; ``text`` (a question, an answer, a note) goes in the
    mail and, for the templates that speak to them, onto the public conversation.

    :param template: answer, question, reminder, autoclosed, routed, outside, reopened, confirmed...
    :param text: the staff member's words for the requester
    :param unit_name: the unit a request was routed to, or that can solve it

    Templates also get the instance's data as ``data`` (a process's own mails read
    their values there: ``{{ data.vpn_username }}``).
    """
    text = str(text or "").strip()
    if not _ensure_contact(ctx):
        return {"mail_id": None, "template": template, "reason": "no requester e-mail"}
    if text and template in PUBLIC_TEMPLATES:
        author = _last_worker(ctx)
        conversation.add_message(ctx.session, ctx.instance_id, text, author_kind=AuthorKind.STAFF,
                                 author=author, public=True, actor=author or None)
    mail = notify_requester(ctx.session, ctx.instance_id, template, message=text, unit_name=unit_name,
                            category=ctx.data.get("category") or "", subject=ctx.data.get("subject") or "",
                            name=ctx.data.get("requester") or "", data=ctx.data)
    duplicates.follow_main(ctx.session, ctx.instance_id, template, text)   # linked requests follow
    return {"mail_id": mail.id, "template": template, "language": mail.language}


OPERATORS = {"notify_requester": notify_requester_operator}
