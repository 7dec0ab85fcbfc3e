"""Webhooks: a named door for another system's signed messages, and every delivery to it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class HookMode:
    START = "start"           # the message starts the processes that catch it
    CORRELATE = "correlate"   # the message reaches the instances waiting for it


class Hook(Base):
    """A webhook (``POST /api/v1/hooks/<name>``): which message it sends and how its
    start data is taken from the body. Its secret is never stored: it is derived from
    the app's secret key and ``salt`` (see :mod:`engine.hooks`); rotating it draws a new salt."""

    __tablename__ = "hook"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    message: Mapped[str] = mapped_column(String(200))
    mode: Mapped[str] = mapped_column(String(20), default=HookMode.START)
    # correlate mode: the JSON pointer of the correlation key in the body
    correlation_pointer: Mapped[str | None] = mapped_column(String(500))
    # start-data field -> JSON pointer into the body, or {"const": value}
    mapping: Mapped[dict] = mapped_column(JSON, default=dict)
    salt: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str | None] = mapped_column(String(150))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class HookDelivery(Base):
    """One request to a hook, accepted or refused (never its secret or signature).

    ``accepted_key`` is the idempotency key of an accepted delivery only: unique per hook,
    so two deliveries with one key can never both be accepted, even at the same moment.
    """

    __tablename__ = "hook_delivery"
    __table_args__ = (UniqueConstraint("hook_id", "accepted_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hook_id: Mapped[int | None] = mapped_column(ForeignKey("hook.id", ondelete="CASCADE"), index=True)
    hook_name: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    accepted_key: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(30))
    status_code: Mapped[int] = mapped_column(Integer)
    instance_ids: Mapped[list] = mapped_column(JSON, default=list)
    # the accepted answer, given again to a replay
    result: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[str] = mapped_column(Text, default="")
