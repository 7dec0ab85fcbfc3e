"""Accounts, groups and API tokens (the engine side; sign-in lives in the web app)."""

from __future__ import annotations

import hashlib
import re
import secrets
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from . import audit
from .errors import NotFoundError, PermissionDeniedError, Problem, ValidationError
from .models import ROLES, ApiToken, Group, User, utcnow

LOCALES = ("tr", "en")
# werkzeug's default (scrypt). Tests lower the cost; production never changes it.
PASSWORD_HASH_METHOD = "scrypt"


@cache
def _dummy_hash(method: str) -> str:
    """A hash to check when the user does not exist, so a wrong name costs what a wrong password does."""
    return generate_password_hash("not-a-password", method=method)

SLUG = re.compile(r"^[a-z][a-z0-9_-]{0,99}$")
USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{1,150}$")


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFoundError(f"no user {username!r}")
    return user


def acting_user(session: Session, username: str) -> User:
    """The user a command acts as; refused if deactivated."""
    user = get_user(session, username)
    if not user.active:
        raise PermissionDeniedError(f"user {username} is deactivated")
    return user


def ensure_group(session: Session, slug: str, title: str = "") -> Group:
    """The group with this slug, created if missing."""
    if not SLUG.match(slug):
        raise ValidationError("bad group name", [Problem("group", f"{slug!r} is not a group slug "
                                                         "(lowercase letters, digits, - and _)")])
    group = session.scalar(select(Group).where(Group.slug == slug))
    if group is None:
        group = Group(slug=slug, title=title or slug)
        session.add(group)
        session.flush()
    return group


def add_user(session: Session, username: str, *, groups=(), roles=("staff",), password=None,
             email=None, actor: str | None = None) -> User:
    """Create a user (or update an existing one's groups, roles, password, e-mail)."""
    problems = []
    if not USERNAME.match(username or ""):
        problems.append(Problem("username", "use 1-150 letters, digits and . _ @ -"))
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        problems.append(Problem("role", f"unknown role(s) {', '.join(unknown)}; known: {', '.join(ROLES)}"))
    if password is not None and len(password) < 8:
        problems.append(Problem("password", "at least 8 characters"))
    if problems:
        raise ValidationError("the user was not saved", problems)
    user = session.scalar(select(User).where(User.username == username))
    created = user is None
    if created:
        user = User(username=username, roles=[], groups=[])
        session.add(user)
    user.roles = sorted(set(user.roles or []) | set(roles))
    for slug in groups:
        group = ensure_group(session, slug)
        if group not in user.groups:
            user.groups.append(group)
    if password is not None:
        user.password_hash = generate_password_hash(password, method=PASSWORD_HASH_METHOD)
        user.session_epoch = (user.session_epoch or 0) + 1
    if email is not None:
        user.email = email
    session.flush()
    audit.record(session, "user.created" if created else "user.updated", actor=actor, data={
        "username": username, "groups": sorted(user.group_slugs), "roles": user.roles,
        "password_changed": password is not None,
    })
    return user


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, username: str, *, actor: str | None = None) -> str:
    """A new API token for a user; only its hash is stored."""
    user = acting_user(session, username)
    token = "sek_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=_hash_token(token)))
    audit.record(session, "token.created", actor=actor, data={"username": username})
    return token


def user_for_token(session: Session, token: str) -> User | None:
    """The active user owning a token, or ``None``."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash_token(token)))
    if row is None:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    row.last_used_at = utcnow()
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def list_groups(session: Session) -> list[Group]:
    return list(session.scalars(select(Group).order_by(Group.slug)))


def set_active(session: Session, username: str, active: bool, *, actor: str | None) -> User:
    """Activate or deactivate an account; deactivation ends its sessions at once.

    Signed session cookies carry ``session_epoch``; bumping it makes every cookie
    issued before invalid, and tokens of an inactive user are refused.
    """
    user = get_user(session, username)
    if user.username == actor and not active:
        raise ValidationError("refused", [Problem("active", "you cannot deactivate your own account")])
    if user.active != active:
        user.active = active
        user.session_epoch = (user.session_epoch or 0) + 1
        session.flush()
        audit.record(session, "user.activated" if active else "user.deactivated", actor=actor,
                     data={"username": username})
    return user


def set_groups(session: Session, username: str, slugs, *, actor: str | None) -> User:
    """Make ``slugs`` exactly the user's groups (each must exist)."""
    user = get_user(session, username)
    wanted = sorted(set(slugs))
    groups = list(session.scalars(select(Group).where(Group.slug.in_(wanted))))
    unknown = sorted(set(wanted) - {g.slug for g in groups})
    if unknown:
        raise ValidationError("refused", [Problem("groups", f"unknown group(s): {', '.join(unknown)}")])
    before = sorted(user.group_slugs)
    if before != wanted:
        user.groups = groups
        session.flush()
        audit.record(session, "user.groups_changed", actor=actor,
                     data={"username": username, "before": before, "after": wanted})
    return user


def set_roles(session: Session, username: str, roles, *, actor: str | None) -> User:
    """Make ``roles`` exactly the user's roles."""
    user = get_user(session, username)
    wanted = sorted(set(roles))
    unknown = [r for r in wanted if r not in ROLES]
    if unknown:
        raise ValidationError("refused", [Problem("roles", f"unknown role(s): {', '.join(unknown)}")])
    if user.username == actor and "admin" in user.roles and "admin" not in wanted:
        raise ValidationError("refused", [Problem("roles", "you cannot take the admin role from yourself")])
    before = sorted(user.roles or [])
    if before != wanted:
        user.roles = wanted
        session.flush()
        audit.record(session, "user.roles_changed", actor=actor,
                     data={"username": username, "before": before, "after": wanted})
    return user


def set_locale(session: Session, user: User, locale: str) -> None:
    """Remember the UI language a user chose."""
    if locale not in LOCALES:
        raise ValidationError("refused", [Problem("locale", f"unknown language {locale!r}")])
    user.locale = locale
    session.flush()


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this username and password, or ``None``."""
    user = session.scalar(select(User).where(User.username == username)) if username else None
    hash_ = user.password_hash if user is not None and user.password_hash else _dummy_hash(PASSWORD_HASH_METHOD)
    ok = check_password_hash(hash_, password or "")
    if user is None or not user.password_hash or not ok or not user.active:
        return None
    return user

