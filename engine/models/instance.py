"""Process instances: status, tracking code and the spec-less workflow state."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow
from .definition import ProcessDefinition


class InstanceStatus(enum.StrEnum):
    RUNNING = "running"      # has open user tasks
    WAITING = "waiting"      # waits for a timer, a message or a service job
    COMPLETED = "completed"
    ERROR = "error"
    CANCELLED = "cancelled"


OPEN_STATUSES = (InstanceStatus.RUNNING, InstanceStatus.WAITING, InstanceStatus.ERROR)


class ProcessInstance(Base):
    """One run of a definition version.

    ``revision`` is the optimistic lock: every write is
    ``UPDATE ... WHERE id = :id AND revision = :rev``; a lost race is a Conflict.
    """

    __tablename__ = "process_instance"

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True, default=InstanceStatus.RUNNING)
    tracking_code: Mapped[str] = mapped_column(String(32), unique=True)
    # Spec-less SpiffWorkflow serialization; deferred so that a cache hit never reads it.
    state: Mapped[dict] = mapped_column(JSON, deferred=True)
    # A fresh random value on every save: the in-process workflow cache is valid
    # only while the row still carries the token it saved.
    state_token: Mapped[str | None] = mapped_column(String(32))
    revision: Mapped[int] = mapped_column(Integer, nullable=False)
    started_by: Mapped[str | None] = mapped_column(String(150))
    error_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    definition: Mapped[ProcessDefinition] = relationship()

    __mapper_args__ = {"version_id_col": revision}


class MessageSubscription(Base):
    """A waiting message catch event of an instance, for delivery by correlation."""

    __tablename__ = "message_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    message_name: Mapped[str] = mapped_column(String(200), index=True)
    task_uuid: Mapped[str] = mapped_column(String(36))
    # Correlation property name -> expected value, as far as the instance knows it.
    correlation: Mapped[dict] = mapped_column(JSON, default=dict)
