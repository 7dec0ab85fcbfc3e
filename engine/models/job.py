"""The transactional outbox: timers, service calls and mail, run by workers."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class JobKind(enum.StrEnum):
    TIMER = "timer"
    SERVICE = "service"
    MAIL = "mail"
    NOTICE = "notice"      # a staff notice about one new task (engine.notices)
    DIGEST = "digest"      # the daily digest of unclaimed tasks; reschedules itself
    OVERDUE = "overdue"    # looks for tasks past their due date; reschedules itself
    RECURRING = "recurring"              # a recurring start's schedule (engine.recurring); reschedules itself
    RECURRING_START = "recurring_start"  # starts one period's instance of a recurring schedule


class JobState(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"      # retries exhausted; an admin may retry it
    CANCELLED = "cancelled"


class Job(Base):
    """Work due at ``due_at``, written in the same transaction as its cause."""

    __tablename__ = "job"
    __table_args__ = (Index("ix_job_state_due", "state", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    instance_id: Mapped[int | None] = mapped_column(
        ForeignKey("process_instance.id", ondelete="CASCADE"), index=True
    )
    task_uuid: Mapped[str | None] = mapped_column(String(36))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(20), default=JobState.PENDING)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
