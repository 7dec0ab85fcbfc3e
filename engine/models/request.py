"""What a request carries besides its flow state: who asked, the conversation, files,
the requester's rating, and the lists the portal offers (units, canned answers)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow
from .user import Group


class RequestContact(Base):
    """The requester of an instance (no account): how to reach them and in which language."""

    __tablename__ = "request_contact"

    instance_id: Mapped[int] = mapped_column(
        ForeignKey("process_instance.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    # Lower-cased e-mail: the tracking page and "forgot my code" look requests up by it.
    email_key: Mapped[str] = mapped_column(String(320), index=True)
    national_id: Mapped[str | None] = mapped_column(String(11))   # TC Kimlik No
    unit: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(30))
    locale: Mapped[str] = mapped_column(String(5), default="tr")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuthorKind(enum.StrEnum):
    REQUESTER = "requester"
    STAFF = "staff"
    UNIT = "unit"
    SYSTEM = "system"


class RequestMessage(Base):
    """One entry of a request's conversation: public (the requester sees it) or an internal note."""

    __tablename__ = "request_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(
        ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    author_kind: Mapped[str] = mapped_column(String(20))
    author: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Attachment(Base):
    """A file a requester (or staff member) attached; the bytes live under the data folder."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(
        ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("request_message.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(255))          # as uploaded, cleaned
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)   # random, on disk
    content_type: Mapped[str] = mapped_column(String(120))      # found from the content
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ServiceRating(Base):
    """The requester's 1-5 rating of how the request was handled, with a comment."""

    __tablename__ = "service_rating"

    instance_id: Mapped[int] = mapped_column(
        ForeignKey("process_instance.id", ondelete="CASCADE"), primary_key=True)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class OrgUnit(Base):
    """A faculty or unit of the university: the portal's "Biriminiz" list, kept by admins.

    ``head_group`` is the group of the unit's heads: approvals a process gives to "the
    head of the requester's unit" (``candidateGroups="unithead:unit"``, see
    :mod:`engine.assignment`) go to its members only.
    """

    __tablename__ = "org_unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    email: Mapped[str | None] = mapped_column(String(320))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    head_group_id: Mapped[int | None] = mapped_column(ForeignKey("user_group_def.id", ondelete="SET NULL"))

    head_group: Mapped[Group | None] = relationship()


class CannedAnswer(Base):
    """A ready answer staff can start from; ``category`` is a help-desk category or a
    process key, empty for every request. ``body`` is Turkish; ``body_en``, when written,
    is what a requester who chose English gets (:meth:`body_in`)."""

    __tablename__ = "canned_answer"

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(200), default="", index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str | None] = mapped_column(Text)
    updated_by: Mapped[str | None] = mapped_column(String(150))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def body_in(self, locale: str | None) -> str:
        """The text for a requester reading ``locale``: the English one if written, else the Turkish."""
        return self.body_en if locale == "en" and self.body_en else self.body


class RateEvent(Base):
    """One counted attempt (a portal submission, a failed tracking look-up, ...), by key,
    for rate limits that every web process sees alike."""

    __tablename__ = "rate_event"
    __table_args__ = (Index("ix_rate_event_key_at", "key", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(400))   # "<purpose>:<ip|email>:<value>"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
