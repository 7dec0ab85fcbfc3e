"""Server-side sign-ins: a browser session is valid exactly as long as its row is.

The signed session cookie carries a random key beside the user's id and session
epoch; the database keeps the key's SHA-256 and when the sign-in expires. Signing
out deletes that one row (the user's other browsers stay signed in), "sign out
everywhere" deletes all of a user's rows, and expired rows are dropped whenever
someone signs in. API tokens are a separate credential and are not touched here.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload

from . import audit
from .models import User, UserSession, utcnow
from .users import get_user


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def start(session: Session, user: User, lifetime: timedelta) -> str:
    """Record a new sign-in of ``user``, valid for ``lifetime``; return the key its cookie carries.

    Only the key's hash is stored. Expired sign-ins (anyone's) are dropped on the way.
    """
    now = utcnow()
    session.execute(delete(UserSession).where(UserSession.expires_at <= now))
    key = secrets.token_urlsafe(32)
    session.add(UserSession(user_id=user.id, key_hash=_hash(key), created_at=now, expires_at=now + lifetime))
    session.flush()
    return key


def signed_in_user(session: Session, user_id: int, epoch: int, key: str) -> User | None:
    """The user a browser session belongs to, with their groups; ``None`` when the sign-in
    was ended or has expired, the user is deactivated, or the session predates the user's
    current ``session_epoch`` (a password change). One query for the user and the sign-in.
    """
    return session.scalar(
        select(User).join(UserSession, UserSession.user_id == User.id)
        .where(UserSession.key_hash == _hash(key), UserSession.expires_at > utcnow(), User.id == user_id,
               User.active.is_(True), User.session_epoch == epoch)
        .options(selectinload(User.groups)))


def end(session: Session, key: str) -> None:
    """End one sign-in (signing out): a copy of its cookie no longer signs anyone in."""
    session.execute(delete(UserSession).where(UserSession.key_hash == _hash(key)))


def end_all(session: Session, username: str, *, actor: str | None) -> int:
    """End every sign-in of a user, in every browser ("sign out everywhere"); return how many.

    API tokens stay valid: they belong to scripts an admin gave them to, and
    deactivating the account is what ends those.
    """
    user = get_user(session, username)
    ended = session.execute(delete(UserSession).where(UserSession.user_id == user.id)).rowcount or 0
    audit.record(session, "user.signed_out_everywhere", actor=actor, data={"username": username, "sessions": ended})
    return ended


def count_active(session: Session, user_id: int) -> int:
    """How many browsers ``user_id`` is signed in on now."""
    return session.scalar(select(func.count()).select_from(UserSession)
                          .where(UserSession.user_id == user_id, UserSession.expires_at > utcnow())) or 0
