"""Deployed process definitions: one row a version, its files stored once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow


class ProcessDefinition(Base):
    """One deployed version of one executable BPMN process (``key`` = process id)."""

    __tablename__ = "process_definition"
    __table_args__ = (
        UniqueConstraint("key", "version"),
        UniqueConstraint("key", "content_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(300), default="")
    content_hash: Mapped[str] = mapped_column(String(64))
    # The Spiff spec and its subprocess specs, serialized once per version.
    # Deferred: only loaded when the in-memory spec cache misses.
    serialized_spec: Mapped[dict] = mapped_column(JSON, deferred=True)
    note: Mapped[str] = mapped_column(Text, default="")
    deployed_by: Mapped[str | None] = mapped_column(String(150))
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    files: Mapped[list[DefinitionFile]] = relationship(
        back_populates="definition", cascade="all, delete-orphan", order_by="DefinitionFile.name"
    )


class DefinitionFile(Base):
    """A BPMN, DMN or JSON form file that belongs to a definition version."""

    __tablename__ = "definition_file"
    __table_args__ = (UniqueConstraint("definition_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)

    definition: Mapped[ProcessDefinition] = relationship(back_populates="files")
