"""Who may change a process: admins, and process owners who are members of its owning group.

One rule for every door that changes what runs or how it runs: deploying (the API, the
modeler, the upload page, ``sek deploy --as``), keeping a drawing as documentation, and
moving running requests to another version. The processes layer registers each catalog
process's owning group (:func:`processes.install`); the engine never imports the catalog.

A process no group owns (its key is not in the catalog) is the admins' alone: otherwise
any process owner could bring in a new process, or replace one that nobody answers for,
by tucking it into a file of their own.
"""

from __future__ import annotations

from collections.abc import Iterable

from .errors import PermissionDeniedError
from .models import User

_owners: dict[str, str] = {}


def register_owner(key: str, group: str) -> None:
    """Make ``group`` (a group slug) the owner of process ``key``."""
    _owners[key] = group


def owner_of(key: str) -> str | None:
    """The group owning process ``key``; ``None``: no group, only admins change it."""
    return _owners.get(key)


def may_change(user: User, key: str) -> bool:
    """True when ``user`` may deploy, document or migrate process ``key``."""
    roles = user.roles or []
    if not user.active:
        return False
    if "admin" in roles:
        return True
    group = _owners.get(key)
    return group is not None and "process_owner" in roles and group in user.group_slugs


def refusal(user: User, key: str) -> str | None:
    """Why ``user`` may not change process ``key`` (one line), or ``None`` when they may."""
    if may_change(user, key):
        return None
    group = _owners.get(key)
    if group is None:
        return "a process of no group in the catalog: only admins may change it"
    return f"owned by group {group}: only its process owners and admins may change it"


def require_change(user: User, keys: Iterable[str], doing: str = "deploy") -> None:
    """Refuse the whole action unless ``user`` may change every process in ``keys``.

    :param doing: what is refused, for the message (``deploy``, ``migrate requests of``, ...)
    :raises PermissionDeniedError: naming every process refused, and why
    """
    reasons = [f"{key} ({reason})" for key in dict.fromkeys(keys) if (reason := refusal(user, key))]
    if reasons:
        raise PermissionDeniedError(f"{user.username} may not {doing} {'; '.join(reasons)}; nothing was changed")
