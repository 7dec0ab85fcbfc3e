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

from engine import conversation, mail
from engine.jobs import ServiceContext
from engine.models import OPEN_TASK_STATES, AuthorKind, Group, HumanTask, TaskState, User
from engine.models.user import user_group

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


def mail_task_group_operator(ctx: ServiceContext, task: str, subject: str, body: str) -> dict:
    """Mail the people who work the instance's open task ``task`` (a BPMN id): its assignee,
    or the active members of its group when nobody claimed it. The group is the one the
    engine gave the task (a unit's head group for ``unithead:unit``), so a reminder reaches
    the same people as the inbox.

    :returns: ``{"group": ..., "mail_id": ...}``; no ``mail_id`` when nobody has an address
    """
    row = ctx.session.scalar(select(HumanTask).where(
        HumanTask.instance_id == ctx.instance_id, HumanTask.bpmn_id == task,
        HumanTask.state.in_(OPEN_TASK_STATES)).order_by(HumanTask.id.desc()).limit(1))
    if row is None:
        return {"group": None}
    people = select(User.email).where(User.active.is_(True), User.email.is_not(None), User.email != "")
    if row.assignee:
        people = people.where(User.username == row.assignee)
    else:
        people = (people.join(user_group, user_group.c.user_id == User.id)
                  .join(Group, Group.id == user_group.c.group_id).where(Group.slug == row.group_name))
    recipients = list(ctx.session.scalars(people.order_by(User.username)))
    if not recipients:
        return {"group": row.group_name}
    message = mail.queue_mail(ctx.session, recipients, subject, body, instance_id=ctx.instance_id)
    return {"group": row.group_name, "mail_id": message.id}


OPERATORS = {"notify_requester": notify_requester_operator, "mail_task_group": mail_task_group_operator}
