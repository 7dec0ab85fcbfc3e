"""The staff inbox: open tasks of a user and of the user's groups, with what staff need to
pick one (subject, requester, category, priority), filtered and sorted.

The inbox never deserializes a workflow: it reads the ``human_task`` mirror, joined by
instance to the request's summary row (``request_fact``: subject, category, priority) and
its requester (``request_contact``: name), so it stays fast however long the history grows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from .errors import Problem, ValidationError
from .models import (
    OPEN_TASK_STATES,
    PRIORITIES,
    HumanTask,
    RequestContact,
    RequestFact,
    TaskState,
    User,
    utcnow,
)

SECTIONS = ("mine", "group")
# Each sort has its natural direction (priority: urgent first; due: soonest first; created:
# newest first; text: A to Z); a leading "-" turns it round. Empty values sort last either way.
SORT_KEYS = ("priority", "due", "created", "subject", "requester", "category", "process", "step")
SORTS = SORT_KEYS + tuple(f"-{key}" for key in SORT_KEYS)
# "Due within": overdue tasks are due within any window; "none": tasks without a due date.
DUE_WINDOWS = {"24h": timedelta(hours=24), "3d": timedelta(days=3), "7d": timedelta(days=7)}
DUE_CHOICES = (*DUE_WINDOWS, "none")
# "Waiting longer than": tasks created before now minus the window.
AGES = {"1d": timedelta(days=1), "3d": timedelta(days=3), "7d": timedelta(days=7)}
MAX_PER_PAGE = 100
TEXT_MAX = 100      # the subject / requester filter: a few words, not a search
VALUE_MAX = 300     # a category, process or step name (the longest column they come from)
DEFAULT_PRIORITY = "normal"   # a request without a summary row counts as normal
PRIORITY_RANK = {name: rank for rank, name in enumerate(reversed(PRIORITIES))}   # urgent 0 .. low 3


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
    priority: str | None = None
    category: str | None = None
    step: str | None = None
    due: str | None = None        # one of DUE_CHOICES
    age: str | None = None        # one of AGES
    text: str | None = None       # in the subject or the requester's name

    def check(self) -> None:
        """:raises ValidationError: a value the inbox does not know, named by its field"""
        problems = []
        for name, value, allowed in (("section", self.section, SECTIONS), ("sort", self.sort, SORTS),
                                     ("priority", self.priority, PRIORITIES), ("due", self.due, DUE_CHOICES),
                                     ("age", self.age, AGES)):
            if value is not None and value not in allowed:
                problems.append(Problem(name, f"one of {', '.join(allowed)}"))
        if self.page < 1:
            problems.append(Problem("page", "must be 1 or more"))
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            problems.append(Problem("per_page", f"between 1 and {MAX_PER_PAGE}"))
        for name in ("process", "group", "category", "step"):
            if len(getattr(self, name) or "") > VALUE_MAX:
                problems.append(Problem(name, f"at most {VALUE_MAX} characters"))
        if len(self.text or "") > TEXT_MAX:
            problems.append(Problem("text", f"at most {TEXT_MAX} characters"))
        if problems:
            raise ValidationError("bad inbox filter", problems)

    @property
    def narrowed(self) -> bool:
        """True when anything beyond the section limits the list."""
        return any((self.process, self.group, self.overdue, self.priority, self.category, self.step,
                    self.due, self.age, self.text))

    def query(self) -> str:
        """The filter as the inbox's query string, without the page: what a saved filter
        keeps. The section is always named (the inbox opens on "group" when "mine" is empty)."""
        defaults = InboxFilter()
        pairs = [(name, "1" if value is True else str(value)) for name, value in asdict(self).items()
                 if name == "section" or (name != "page" and value not in (None, False, "")
                                          and value != getattr(defaults, name))]
        return urlencode(pairs)

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> InboxFilter:
        """A filter from query-string arguments; unknown or malformed values fall back to
        their default (a link from an old bookmark still opens the inbox)."""
        def choice(name, allowed, default=None):
            value = args.get(name)
            return value if value in allowed else default

        def text(name, limit=VALUE_MAX):
            value = (args.get(name) or "").strip()
            return value[:limit] or None

        def number(name, default, low, high):
            try:
                return min(high, max(low, int(args.get(name, default))))
            except (TypeError, ValueError):
                return default

        return cls(section=choice("section", SECTIONS, "mine"), process=text("process"), group=text("group"),
                   overdue=args.get("overdue") == "1", sort=choice("sort", SORTS, "due"),
                   page=number("page", 1, 1, 10**6), per_page=number("per_page", 25, 1, MAX_PER_PAGE),
                   priority=choice("priority", PRIORITIES), category=text("category"), step=text("step"),
                   due=choice("due", DUE_CHOICES), age=choice("age", AGES), text=text("text", TEXT_MAX))

    @classmethod
    def from_query(cls, query: str) -> InboxFilter:
        """A filter from a query string such as :meth:`query` writes."""
        return cls.from_args(dict(parse_qsl(query or "", keep_blank_values=True)))


@dataclass(frozen=True)
class InboxRow:
    """One task of the list with what staff need to pick it."""

    task: HumanTask
    subject: str | None
    requester: str | None
    category: str | None
    priority: str

    @property
    def id(self) -> int:
        return self.task.id


@dataclass(frozen=True)
class Page:
    items: list[InboxRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class Overview:
    """Everything around the task list: section sizes, per-group badges and the filters' choices."""

    sections: dict[str, int]
    groups: list[dict]
    processes: list[str]
    categories: list[str] = field(default_factory=list)
    # (process key, step name) pairs: a step's name reads in its own process's words
    steps: list[tuple[str, str]] = field(default_factory=list)


def visible_groups(user: User) -> set[str] | None:
    """The groups whose tasks a user sees; ``None`` means every group (admins)."""
    return None if user.has_role("admin") else user.group_slugs


def _section_clause(user: User, section: str):
    if section == "mine":
        return and_(HumanTask.state == TaskState.CLAIMED, HumanTask.assignee == user.username)
    clause = HumanTask.state == TaskState.READY
    groups = visible_groups(user)
    if groups is not None:
        clause = and_(clause, HumanTask.group_name.in_(sorted(groups)))
    return clause


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _conditions(flt: InboxFilter, now: datetime) -> tuple[list, bool, bool]:
    """The WHERE clauses of the filters, and whether they need the request's summary row
    and its requester."""
    where = []
    if flt.process:
        where.append(HumanTask.process_key == flt.process)
    if flt.group:
        where.append(HumanTask.group_name == flt.group)
    if flt.step:
        where.append(HumanTask.name == flt.step)
    if flt.overdue:
        where.append(HumanTask.due_at < now)
    if flt.due == "none":
        where.append(HumanTask.due_at.is_(None))
    elif flt.due:
        where.append(HumanTask.due_at <= now + DUE_WINDOWS[flt.due])
    if flt.age:
        where.append(HumanTask.created_at < now - AGES[flt.age])
    if flt.priority == DEFAULT_PRIORITY:
        where.append(or_(RequestFact.priority == DEFAULT_PRIORITY, RequestFact.priority.is_(None)))
    elif flt.priority:
        where.append(RequestFact.priority == flt.priority)
    if flt.category:
        where.append(RequestFact.category == flt.category)
    if flt.text:
        pattern = _like(flt.text)
        where.append(or_(RequestFact.subject.ilike(pattern, escape="\\"),
                         RequestContact.name.ilike(pattern, escape="\\")))
    needs_fact = bool(flt.priority or flt.category or flt.text)
    return where, needs_fact, bool(flt.text)


def _priority_rank():
    return case(PRIORITY_RANK, value=RequestFact.priority, else_=PRIORITY_RANK[DEFAULT_PRIORITY])


def _ordering(sort: str, process_titles: Mapping[str, str] | None) -> list:
    key = sort.lstrip("-")
    if key == "process":
        column = (case(dict(process_titles), value=HumanTask.process_key, else_=HumanTask.process_key)
                  if process_titles else HumanTask.process_key)
    else:
        column = {"priority": _priority_rank(), "due": HumanTask.due_at, "created": HumanTask.created_at,
                  "subject": RequestFact.subject, "requester": RequestContact.name,
                  "category": RequestFact.category, "step": HumanTask.name}[key]
    descending = (key == "created") != sort.startswith("-")
    order = [column.is_(None), column.desc() if descending else column.asc()]
    if key == "priority":      # within a priority, the soonest due first
        order += [HumanTask.due_at.is_(None), HumanTask.due_at]
    order.append(HumanTask.id.desc() if descending else HumanTask.id.asc())
    return order


def inbox_page(session: Session, user: User, flt: InboxFilter, *, now: datetime | None = None,
               overview_: Overview | None = None, process_titles: Mapping[str, str] | None = None) -> Page:
    """One page of a user's inbox section ("mine": claimed by the user; "group":
    unclaimed tasks of the user's groups), filtered and sorted.

    :param overview_: the user's :func:`overview` of this transaction, if already known:
        an unfiltered section then takes its size from there instead of counting again
    :param process_titles: process key -> title in the reader's language, so that the
        "process" sort follows the titles the reader sees (the engine knows only keys)
    :raises ValidationError: a bad section, sort, filter value, page or page size
    """
    flt.check()
    now = now or utcnow()
    where, needs_fact, needs_contact = _conditions(flt, now)
    where.insert(0, _section_clause(user, flt.section))
    if overview_ is not None and not flt.narrowed:
        total = overview_.sections[flt.section]
    else:
        counted = select(func.count()).select_from(HumanTask)
        if needs_fact:
            counted = counted.outerjoin(RequestFact, RequestFact.instance_id == HumanTask.instance_id)
        if needs_contact:
            counted = counted.outerjoin(RequestContact, RequestContact.instance_id == HumanTask.instance_id)
        total = session.scalar(counted.where(*where))
    query = (select(HumanTask, RequestFact.subject, RequestContact.name, RequestFact.category, RequestFact.priority)
             .outerjoin(RequestFact, RequestFact.instance_id == HumanTask.instance_id)
             .outerjoin(RequestContact, RequestContact.instance_id == HumanTask.instance_id)
             .where(*where).order_by(*_ordering(flt.sort, process_titles))
             .limit(flt.per_page).offset((flt.page - 1) * flt.per_page))
    items = [InboxRow(task, subject, requester, category, priority or DEFAULT_PRIORITY)
             for task, subject, requester, category, priority in session.execute(query)]
    return Page(items, total, flt.page, flt.per_page)


def overview(session: Session, user: User, *, now: datetime | None = None) -> Overview:
    """Section counts, per-group counts (unclaimed, claimed, overdue) and the processes,
    categories and steps with open tasks, from ONE aggregate over the open tasks the user
    can see.

    Its cost follows the open backlog of the user's groups, not the history.
    """
    now = now or utcnow()
    groups = visible_groups(user)
    mine = and_(HumanTask.state == TaskState.CLAIMED, HumanTask.assignee == user.username)
    keys = (HumanTask.group_name, HumanTask.state, HumanTask.process_key, HumanTask.name, RequestFact.category)
    query = (
        select(*keys, mine.label("mine"), func.count(), func.count().filter(HumanTask.due_at < now))
        .outerjoin(RequestFact, RequestFact.instance_id == HumanTask.instance_id)
        .where(HumanTask.state.in_(OPEN_TASK_STATES))
        .group_by(*keys, mine)
    )
    if groups is not None:
        query = query.where(or_(HumanTask.group_name.in_(sorted(groups)), mine))
    sections = {"mine": 0, "group": 0}
    badges = {slug: {"group": slug, "ready": 0, "claimed": 0, "overdue": 0} for slug in sorted(groups or ())}
    processes, steps, categories = set(), set(), set()
    for group, state, process_key, step, category, is_mine, count, late in session.execute(query):
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
        steps.add((process_key, step))
        if category:
            categories.add(category)
    return Overview(sections, [badges[slug] for slug in sorted(badges)], sorted(processes),
                    sorted(categories), sorted(steps))
