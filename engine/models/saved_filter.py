"""A staff member's named inbox filters ("Acil ağ işleri", "Bu hafta dolanlar")."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class SavedFilter(Base):
    """One named inbox filter of one user: the inbox's query string, as
    :func:`engine.inbox.InboxFilter.query` writes it (never a page number)."""

    __tablename__ = "saved_filter"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    query: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
