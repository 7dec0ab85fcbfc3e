"""Browser sign-ins kept on the server, so that signing out really ends one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class UserSession(Base):
    """One browser's sign-in. The signed session cookie carries a random key; only its
    SHA-256 is kept here. Signing out deletes the row, so a copy of the cookie taken
    before no longer signs anyone in."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A sign-in lasts at most this long, however busy the browser keeps it.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
