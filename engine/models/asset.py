"""The asset registry (Taşınır Mal Yönetmeliği): every item under its taşınır/demirbaş
number, where it stands, and what happened to it (:mod:`engine.assets`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow

ASSET_KINDS = ("network_device", "server", "ups", "generator", "cooling", "computer", "lab_seat",
               "printer", "cabling", "other")
ASSET_STATUSES = ("in_use", "in_stock", "in_repair", "retired", "disposed")


class Asset(Base):
    """One registered item: its number, what it is, where it stands, its state."""

    __tablename__ = "asset"

    id: Mapped[int] = mapped_column(primary_key=True)
    inventory_no: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    model: Mapped[str] = mapped_column(String(200), default="")
    serial: Mapped[str] = mapped_column(String(100), default="", index=True)
    site: Mapped[str] = mapped_column(String(100), default="")
    room: Mapped[str] = mapped_column(String(60), default="")
    rack: Mapped[str] = mapped_column(String(40), default="")
    rack_unit: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), index=True)
    owner_unit: Mapped[str] = mapped_column(String(100), default="")
    note: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AssetChange(Base):
    """One change of an asset: who, when, the request that made it (if any), the fields'
    values before and after, and why."""

    __tablename__ = "asset_change"
    __table_args__ = (Index("ix_asset_change_asset_id", "asset_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("asset.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str | None] = mapped_column(String(150))
    # the request whose step made the change; no foreign key: the history outlives a
    # request that retention removes
    instance_id: Mapped[int | None] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(20))   # registered, updated, moved, status
    before: Mapped[dict] = mapped_column(JSON, default=dict)
    after: Mapped[dict] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(String(1000), default="")
