"""The human task mirror the inbox reads; it never deserializes workflows."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class TaskState(enum.StrEnum):
    READY = "ready"
    CLAIMED = "claimed"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


OPEN_TASK_STATES = (TaskState.READY, TaskState.CLAIMED)


class HumanTask(Base):
    """One user task of one instance, as staff see it."""

    __tablename__ = "human_task"
    __table_args__ = (
        Index("ix_human_task_group_state_due", "group_name", "state", "due_at"),
        Index("ix_human_task_group_state_created", "group_name", "state", "created_at"),
        Index("ix_human_task_assignee_state", "assignee", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    process_key: Mapped[str] = mapped_column(String(200))
    task_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    bpmn_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    group_name: Mapped[str] = mapped_column(String(100))
    assignee: Mapped[str | None] = mapped_column(String(150))
    state: Mapped[str] = mapped_column(String(20), default=TaskState.READY)
    form_file: Mapped[str | None] = mapped_column(String(300))
    ui_file: Mapped[str | None] = mapped_column(String(300))
    instructions: Mapped[str | None] = mapped_column(Text)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_by: Mapped[str | None] = mapped_column(String(150))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
