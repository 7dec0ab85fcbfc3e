"""Recurring starts: a schedule per timer start event with a cycle, and one row per fired period."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class RecurringSchedule(Base):
    """The schedule of one timer start event (``timeCycle``) of the newest version of a process.

    ``next_index`` is the number of the next period of the cycle (0: its start) and
    ``next_period`` that period as the cycle names it, before any working-day shift;
    ``None`` once an ``R<n>`` cycle has run its ``n`` periods. A new version
    takes the row over (same process and start event), so no period fires twice.
    """

    __tablename__ = "recurring_schedule"
    __table_args__ = (UniqueConstraint("process_key", "start_event"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(200))
    start_event: Mapped[str] = mapped_column(String(200))
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id", ondelete="CASCADE"))
    cycle: Mapped[str] = mapped_column(String(200))
    working_day: Mapped[str | None] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(default=True)
    next_period: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_index: Mapped[int] = mapped_column(Integer, default=0)
    job_id: Mapped[int | None] = mapped_column(Integer)
    last_period: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_instance_id: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RecurringStart(Base):
    """One period of a schedule that was started (or is being started): at most one per period."""

    __tablename__ = "recurring_start"
    __table_args__ = (UniqueConstraint("process_key", "start_event", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(200))
    start_event: Mapped[str] = mapped_column(String(200))
    period: Mapped[datetime] = mapped_column(UTCDateTime)
    missed_periods: Mapped[int] = mapped_column(Integer, default=0)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
