"""What staff are told by mail: a new task in their group, the daily digest of unclaimed
tasks, a task past its due date. The engine schedules these (:mod:`engine.notices`);
the handlers here decide who gets which mail, in the reader's language.

Staff notices are not part of a request's record: their mails carry no ``instance_id``,
so a mail server that is down never puts a request into ``error``; a failed notice mail
still shows in the admins' outbox.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from engine import links, notices
from engine.models import OPEN_TASK_STATES, AuditEvent, Group, HumanTask, ProcessInstance, TaskState, User
from engine.models.user import user_group

from .. import groups, i18n
from . import queue_template
from .render import language_of


def _members(session: Session, group: str, modes: tuple[str, ...]) -> list[User]:
    """Active members of ``group`` with an e-mail address whose notify_mode is in ``modes``."""
    return list(session.scalars(
        select(User).join(user_group, user_group.c.user_id == User.id)
        .join(Group, Group.id == user_group.c.group_id)
        .where(Group.slug == group, User.active.is_(True), User.notify_mode.in_(modes),
               User.email.is_not(None), User.email != "")
        .order_by(User.username)))


def _caused_by(session: Session, task: HumanTask) -> str | None:
    """Who did what made the task appear: the actor of the instance's first audit event
    written with the task (the event follows the task row in the same command)."""
    return session.scalar(select(AuditEvent.actor).where(AuditEvent.instance_id == task.instance_id,
                                                         AuditEvent.created_at >= task.created_at)
                          .order_by(AuditEvent.id).limit(1))


# "7 Aralık 2026 14:00" / "7 December 2026, 14:00": a due date as the reader writes it
_DUE = {"tr": "d MMMM y HH:mm", "en": "d MMMM y, HH:mm"}


def task_view(session: Session, task: HumanTask, timezone: str, now=None, language: str | None = "tr",
              directory: dict | None = None) -> dict:
    """What a staff mail shows of a task, its names and due date in the reader's ``language``.

    :param directory: the :func:`processes.groups.directory` a handler read once for all its
        mails (read here when not given)
    """
    instance = session.get(ProcessInstance, task.instance_id)
    language = language_of(language)
    due = (format_datetime(task.due_at.astimezone(ZoneInfo(timezone)), _DUE.get(language, _DUE["en"]),
                           locale=language) if task.due_at else None)
    process = (instance.definition.name if instance and instance.definition else "") or task.process_key
    return {"name": i18n.text(task.process_key, task.name, language),
            "group": groups.group_title(task.group_name, language,
                                        groups.directory(session) if directory is None else directory),
            "assignee": task.assignee, "due": due,
            "overdue": bool(now and task.due_at and task.due_at <= now),
            "process": i18n.text(task.process_key, process, language),
            "code": instance.tracking_code if instance else "", "url": f"{links.base_url()}/tasks/{task.id}"}


def _common() -> dict:
    return {"account_url": f"{links.base_url()}/account", "inbox_url": f"{links.base_url()}/inbox"}


def _mail(session: Session, user: User, template: str, **context) -> None:
    queue_template(session, user.email, template, user.locale or "tr", user_name=user.username,
                   **_common(), **context)


def _returned(session: Session, task: HumanTask) -> bool:
    """Whether the task went straight back to who worked it last (engine.sync's
    ``assignPreviousWorker``): that is news for them, unlike a claim of their own."""
    events = session.scalars(select(AuditEvent.data).where(
        AuditEvent.instance_id == task.instance_id, AuditEvent.action == "task.returned",
        AuditEvent.created_at >= task.created_at))
    return any((data or {}).get("task_id") == task.id for data in events)


def on_task_new(session: Session, notice: notices.Notice) -> None:
    """A new task: mail the group's members who chose immediate notices (not the one who caused it)."""
    task = session.scalar(select(HumanTask).where(HumanTask.task_uuid == notice.task_uuid))
    if task is None or task.state not in (TaskState.READY, TaskState.CLAIMED) or (
            task.state == TaskState.CLAIMED and not _returned(session, task)):
        return   # claimed, done or gone already: nothing worth a mail
    actor = _caused_by(session, task)
    for user in _members(session, task.group_name, (notices.IMMEDIATE,)):
        # A claimed task (one that went back to who worked it last, engine.sync) is the assignee's news only.
        if user.username != actor and task.assignee in (None, user.username):
            _mail(session, user, "task_new", task=task_view(session, task, notice.timezone, language=user.locale))


def on_digest(session: Session, notice: notices.Notice) -> None:
    """The daily digest: each "digest" user gets the unclaimed tasks of their groups (none: no mail)."""
    readers = session.scalars(select(User).where(User.active.is_(True), User.notify_mode == notices.DAILY,
                                                 User.email.is_not(None), User.email != "")
                              .order_by(User.username)).all()
    directory = groups.directory(session) if readers else {}
    for user in readers:
        slugs = sorted(user.group_slugs)
        if not slugs:
            continue
        tasks = session.scalars(select(HumanTask).where(HumanTask.group_name.in_(slugs),
                                                        HumanTask.state == TaskState.READY)
                                .order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.id)
                                .limit(200)).all()
        if tasks:
            _mail(session, user, "digest", tasks=[task_view(session, t, notice.timezone, notice.now, user.locale,
                                                            directory) for t in tasks])


def on_overdue(session: Session, notice: notices.Notice) -> None:
    """Tasks that passed their due date since the last look, still open: tell the assignee,
    or the group's "immediate" members when nobody has claimed it."""
    tasks = session.scalars(select(HumanTask).where(
        HumanTask.state.in_(OPEN_TASK_STATES), HumanTask.due_at > notice.since,
        HumanTask.due_at <= notice.now).order_by(HumanTask.due_at, HumanTask.id)).all()
    for task in tasks:
        if task.assignee:
            readers = session.scalars(select(User).where(
                User.username == task.assignee, User.active.is_(True), User.notify_mode != notices.OFF,
                and_(User.email.is_not(None), User.email != ""))).all()
        else:
            readers = _members(session, task.group_name, (notices.IMMEDIATE,))
        for user in readers:
            _mail(session, user, "overdue", task=task_view(session, task, notice.timezone, notice.now, user.locale))


def install() -> None:
    """Register the handlers with the engine."""
    notices.register(notices.TASK_NEW, on_task_new)
    notices.register(notices.DIGEST, on_digest)
    notices.register(notices.OVERDUE, on_overdue)


__all__ = ["install", "on_digest", "on_overdue", "on_task_new", "task_view"]
