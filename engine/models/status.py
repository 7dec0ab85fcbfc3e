"""What a request's requester was told it is at: one row each time it changed."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class StatusKind(enum.StrEnum):
    STATUS = "status"      # a step the request waits in ("Birim amirinizin onayında")
    OUTCOME = "outcome"    # how it ended ("Kuruldu", "Reddedildi")


class RequesterStatus(Base):
    """One requester-facing status of an instance, from the BPMN element that declared it
    (``requesterStatus`` / ``requesterOutcome``), with the values it declared worth showing
    (``requesterShows``) as they stood then. The latest row is the current status."""

    __tablename__ = "requester_status"
    __table_args__ = (Index("ix_requester_status_instance_at", "instance_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"))
    bpmn_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10), default=StatusKind.STATUS)
    text: Mapped[str] = mapped_column(String(300))     # as declared (Turkish); translated when shown
    # [{"field", "label", "value"}]: what the requester was mailed at this point
    shown: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
