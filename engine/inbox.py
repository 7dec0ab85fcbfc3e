"""The staff inbox: open tasks of a user and of the user's groups, from ``human_task`` only.

The inbox never deserializes a workflow: every figure it shows comes from the
``human_task`` mirror, so it stays fast however long the history grows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from .errors import Problem, ValidationError
from .models import OPEN_TASK_STATES, HumanTask, TaskState, User, utcnow

SECTIONS = ("mine", "group")
SORTS = ("due", "created")
MAX_PER_PAGE = 100


@dataclass(frozen=True)
class InboxFilter:
    """What the inbox shows: a section, optional filters, an order and a page."""

    section: str = "mine"
    process: str | None = None
    group: str | None = None
    overdue: bool = False
    sort: str = "due"
    page: int = 1
    per_page: int = 25

    def check(self) -> None:
        problems = []
        if self.section not in SECTIONS:
            problems.append(Problem("section", f"one of {', '.join(SECTIONS)}"))
        if self.sort not in SORTS:
            problems.append(Problem("sort", f"one of {', '.join(SORTS)}"))
        if self.page < 1:
            problems.append(Problem("page", "must be 1 or more"))
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            problems.append(Problem("per_page", f"between 1 and {MAX_PER_PAGE}"))
        if problems:
            raise ValidationError("bad inbox filter", problems)


@dataclass(frozen=True)
class Page:
    items: list[HumanTask]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class Overview:
    """Everything around the task list: section sizes, per-group badges, process choices."""

    sections: dict[str, int]
    groups: list[dict]
    processes: list[str]


def visible_groups(user: User) -> set[str] | None:
    """The groups whose tasks a user sees; ``None`` means every group (admins)."""
    return None if user.has_role("admin") else user.group_slugs


def _section_query(user: User, section: str):
    if section == "mine":
        return select(HumanTask).where(HumanTask.state == TaskState.CLAIMED,
                                       HumanTask.assignee == user.username)
    query = select(HumanTask).where(HumanTask.state == TaskState.READY)
    groups = visible_groups(user)
    if groups is not None:
        query = query.where(HumanTask.group_name.in_(sorted(groups)))
    return query


def inbox_page(session: Session, user: User, flt: InboxFilter, *, now: datetime | None = None,
               overview_: Overview | None = None) -> Page:
    """One page of a user's inbox section ("mine": claimed by the user; "group":
    unclaimed tasks of the user's groups), filtered and sorted.

    :param overview_: the user's :func:`overview` of this transaction, if already known:
        an unfiltered section then takes its size from there instead of counting again
    :raises ValidationError: a bad section, sort, page or page size
    """
    flt.check()
    now = now or utcnow()
    query = _section_query(user, flt.section)
    if flt.process:
        query = query.where(HumanTask.process_key == flt.process)
    if flt.group:
        query = query.where(HumanTask.group_name == flt.group)
    if flt.overdue:
        query = query.where(HumanTask.due_at < now)
    if overview_ is not None and not (flt.process or flt.group or flt.overdue):
        total = overview_.sections[flt.section]
    else:
        total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    if flt.sort == "due":
        order = (HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.id)
    else:
        order = (HumanTask.created_at.desc(), HumanTask.id.desc())
    items = list(session.scalars(query.order_by(*order).limit(flt.per_page)
                                 .offset((flt.page - 1) * flt.per_page)))
    return Page(items, total, flt.page, flt.per_page)


def overview(session: Session, user: User, *, now: datetime | None = None) -> Overview:
    """Section counts, per-group counts (unclaimed, claimed, overdue) and the processes
    with open tasks, from ONE aggregate over the open tasks the user can see.

    Its cost follows the open backlog of the user's groups, not the history.
    """
    now = now or utcnow()
    groups = visible_groups(user)
    mine = and_(HumanTask.state == TaskState.CLAIMED, HumanTask.assignee == user.username)
    query = (
        select(HumanTask.group_name, HumanTask.state, HumanTask.process_key, mine.label("mine"),
               func.count(), func.count().filter(HumanTask.due_at < now))
        .where(HumanTask.state.in_(OPEN_TASK_STATES))
        .group_by(HumanTask.group_name, HumanTask.state, HumanTask.process_key, mine)
    )
    if groups is not None:
        query = query.where(or_(HumanTask.group_name.in_(sorted(groups)), mine))
    sections = {"mine": 0, "group": 0}
    badges = {slug: {"group": slug, "ready": 0, "claimed": 0, "overdue": 0} for slug in sorted(groups or ())}
    processes = set()
    for group, state, process_key, is_mine, count, late in session.execute(query):
        if is_mine:
            sections["mine"] += count
        if groups is not None and group not in groups:
            continue  # claimed by the user in a group they have left: only "mine" shows it
        if state == TaskState.READY:
            sections["group"] += count
        row = badges.setdefault(group, {"group": group, "ready": 0, "claimed": 0, "overdue": 0})
        row[state] += count
        row["overdue"] += late
        processes.add(process_key)
    return Overview(sections, [badges[slug] for slug in sorted(badges)], sorted(processes))
