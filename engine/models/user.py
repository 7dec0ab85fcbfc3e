"""Staff accounts, groups and API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow

ROLES = ("staff", "process_owner", "auditor", "manager", "admin")

user_group = Table(
    "user_group",
    Base.metadata,
    Column("user_id", ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("user_group_def.id", ondelete="CASCADE"), primary_key=True),
)


class Group(Base):
    """A team (``helpdesk``, ``network``, ...); BPMN lanes and candidateGroups name its slug."""

    __tablename__ = "user_group_def"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    # The username of the member who leads the group (``lead:<slug>`` mail recipients).
    lead: Mapped[str | None] = mapped_column(String(150))
    # The group's own address (``group:<slug>`` mail recipients); None: its members'.
    email: Mapped[str | None] = mapped_column(String(300))

    members: Mapped[list[User]] = relationship(secondary=user_group, back_populates="groups")


class User(Base):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(150), unique=True)
    email: Mapped[str | None] = mapped_column(String(300))
    password_hash: Mapped[str | None] = mapped_column(String(300))
    roles: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on deactivation or password change: signed sessions carrying an older
    # value stop working at once.
    session_epoch: Mapped[int] = mapped_column(default=0)
    # The UI language this user chose ("tr" or "en"); None: the default.
    locale: Mapped[str | None] = mapped_column(String(5))
    # New tasks of my groups by mail: "immediate", "digest" (once a day) or "off".
    notify_mode: Mapped[str] = mapped_column(String(10), default="immediate", server_default="immediate")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    groups: Mapped[list[Group]] = relationship(secondary=user_group, back_populates="members")

    @property
    def group_slugs(self) -> set[str]:
        return {g.slug for g in self.groups}

    def has_role(self, role: str) -> bool:
        return role in (self.roles or []) or "admin" in (self.roles or [])

    # The identity protocol of sign-in sessions (Flask-Login reads these names).
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return bool(self.active)

    def get_id(self) -> str:
        """What a signed session stores: the id and the session epoch it was issued in."""
        return f"{self.id}:{self.session_epoch or 0}"


class ApiToken(Base):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

