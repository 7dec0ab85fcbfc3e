"""Named inbox filters, one list per staff member ("Acil ağ işleri", "Bu hafta dolanlar").

A saved filter is the inbox's query string (:meth:`engine.inbox.InboxFilter.query`),
normalized on saving, so applying one is opening the inbox with it. Each user sees,
applies and deletes only their own.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import textinput
from .errors import NotFoundError, PermissionDeniedError, Problem, ValidationError
from .inbox import InboxFilter
from .models import SavedFilter, User

NAME_MAX = 100
FILTERS_MAX = 30   # a short menu, not a store


def list_filters(session: Session, user: User) -> list[SavedFilter]:
    """The user's saved filters, by name."""
    return list(session.scalars(select(SavedFilter).where(SavedFilter.user_id == user.id)
                                .order_by(SavedFilter.name, SavedFilter.id)))


def save_filter(session: Session, user: User, name: str, flt: InboxFilter) -> SavedFilter:
    """Keep ``flt`` under ``name`` for ``user``; a filter of the same name is replaced.

    :raises ValidationError: an empty, too long or malformed name, a bad filter, or one
        filter too many
    """
    name = (name or "").strip()
    problems = textinput.text_problems(name, "name", max_length=NAME_MAX)
    if not name:
        problems.append(Problem("name", "a name is required", "required"))
    if problems:
        raise ValidationError("the filter name was refused", problems)
    flt.check()
    query = flt.query()
    saved = session.scalar(select(SavedFilter).where(SavedFilter.user_id == user.id, SavedFilter.name == name))
    if saved is None:
        count = session.scalar(select(func.count()).select_from(SavedFilter).where(SavedFilter.user_id == user.id))
        if count >= FILTERS_MAX:
            raise ValidationError("too many saved filters", [Problem(
                "name", f"at most {FILTERS_MAX} saved filters; delete one first", "maxItems",
                {"limit": FILTERS_MAX})])
        saved = SavedFilter(user_id=user.id, name=name, query=query)
        session.add(saved)
    else:
        saved.query = query
    session.flush()
    return saved


def get_filter(session: Session, user: User, filter_id: int) -> SavedFilter:
    """The user's own saved filter ``filter_id``.

    :raises NotFoundError: no such filter
    :raises PermissionDeniedError: it is another user's
    """
    saved = session.get(SavedFilter, filter_id)
    if saved is None:
        raise NotFoundError(f"saved filter {filter_id} not found")
    if saved.user_id != user.id:
        raise PermissionDeniedError(f"saved filter {filter_id} belongs to another user")
    return saved


def delete_filter(session: Session, user: User, filter_id: int) -> str:
    """Delete the user's own saved filter; returns its name.

    :raises NotFoundError: no such filter
    :raises PermissionDeniedError: it is another user's
    """
    saved = get_filter(session, user, filter_id)
    name = saved.name
    session.delete(saved)
    session.flush()
    return name
