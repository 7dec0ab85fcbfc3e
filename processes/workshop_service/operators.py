"""Service operators of SEK 08-04-07 (workshop_service).

``mail_unit_head`` mails the heads of the requester's unit (the members of its head
group, the same people ``candidateGroups="unithead:unit"`` gives a task to), or every unit
head when the unit is unknown or has no head group.
"""

from __future__ import annotations

from sqlalchemy import select

from engine import assignment, mail
from engine.jobs import ServiceContext
from engine.models import Group, User
from engine.models.user import user_group


def unit_head_addresses(session, unit) -> tuple[str, list[str]]:
    """The head group of ``unit`` (by name) and its active members' addresses.

    :returns: ``(group slug, addresses)``; the fallback group when the unit has no head group
    """
    group = assignment.unit_head(session, unit).group
    addresses = list(session.scalars(
        select(User.email).join(user_group, user_group.c.user_id == User.id)
        .join(Group, Group.id == user_group.c.group_id)
        .where(Group.slug == group, User.active.is_(True), User.email.is_not(None), User.email != "")
        .order_by(User.username)))
    return group, addresses


def mail_unit_head(ctx: ServiceContext, subject: str, body: str, unit_field: str = "unit") -> dict:
    """Mail the heads of the unit named in the data field ``unit_field``.

    :returns: ``{"group": ..., "mail_id": ...}``; no ``mail_id`` when nobody has an address
    """
    group, addresses = unit_head_addresses(ctx.session, ctx.data.get(unit_field))
    if not addresses:
        return {"group": group}
    message = mail.queue_mail(ctx.session, addresses, subject, body, instance_id=ctx.instance_id)
    return {"group": group, "mail_id": message.id}


OPERATORS = {"mail_unit_head": mail_unit_head}
