"""Published cell templates: one immutable row per (template id, version), and a tombstone per
deleted version so that a version number never comes back with other content."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class TemplateVersion(Base):
    """One published version of a template. Content columns never change after insert;
    only the deprecation fields do."""

    __tablename__ = "template_versions"
    __table_args__ = (
        UniqueConstraint("template_id", "version", name="uq_template_versions_template_id"),
    )

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    template_id: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(100), default="")
    # the validated document (same shape as the YAML file) and the YAML source when published from one
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    source: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)
    content_hash: Mapped[str] = mapped_column(String(80))
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    published_by: Mapped[str] = mapped_column(String(255))
    published_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    deprecated: Mapped[bool] = mapped_column(Boolean, default=False)
    deprecation_message: Mapped[str] = mapped_column(Text, default="")
    deprecated_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True, default=None)


class TemplateTombstone(Base):
    """A deleted (template id, version) and the content it had. Cells that recorded the version
    expect that content, so the version can only be published again with the same content."""

    __tablename__ = "template_tombstones"
    __table_args__ = (
        UniqueConstraint("template_id", "version", name="uq_template_tombstones_template_id"),
    )

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    template_id: Mapped[str] = mapped_column(String(100))
    version: Mapped[str] = mapped_column(String(100))
    content_hash: Mapped[str] = mapped_column(String(80))
    deleted_by: Mapped[str] = mapped_column(String(255))
    deleted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
