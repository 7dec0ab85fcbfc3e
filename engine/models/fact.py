"""The per-request summary row the reports read (never the workflows).

Kept current by :mod:`engine.facts` from the engine's own write paths; the
meaning of each figure (received, first answer, resolved, SLA met) is written
there.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime

PRIORITIES = ("low", "normal", "high", "urgent")   # in rising order


class RequestFact(Base):
    """One process instance, as the reports count it."""

    __tablename__ = "request_fact"
    __table_args__ = (
        # The yearly/monthly report filters on received_at and groups by these.
        Index("ix_request_fact_received_process", "received_at", "process_key"),
    )

    instance_id: Mapped[int] = mapped_column(
        ForeignKey("process_instance.id", ondelete="CASCADE"), primary_key=True)
    process_key: Mapped[str] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(200))    # user_support's data.category
    team: Mapped[str | None] = mapped_column(String(100))        # the group that worked it
    status: Mapped[str] = mapped_column(String(20))              # the instance's status
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    first_answer_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Whole seconds after received_at, so percentiles are plain ORDER BY on both databases.
    first_answer_seconds: Mapped[int | None] = mapped_column(Integer)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_seconds: Mapped[int | None] = mapped_column(Integer)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)   # the first team task's due
    sla_met: Mapped[bool | None] = mapped_column(Boolean)          # NULL while unknown
    reopened: Mapped[int] = mapped_column(Integer, default=0)
    rating: Mapped[int | None] = mapped_column(Integer)            # 1-5
    call_outcome: Mapped[str | None] = mapped_column(String(20))   # call_record: answered/lost/called_back
    # What staff see of the request in lists (the inbox, search): its subject and priority.
    subject: Mapped[str | None] = mapped_column(String(300))
    priority: Mapped[str] = mapped_column(String(10), default="normal", server_default="normal")
    # This request is a duplicate of that one (a campus outage makes dozens): one answer
    # to the main request reaches every linked requester.
    duplicate_of: Mapped[int | None] = mapped_column(
        ForeignKey("process_instance.id", ondelete="SET NULL"), index=True)
