"""Datasets linked from other projects: a file of project A, pinned to one stored version,
shown as a read-only file in project B (no bytes copied)."""

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow
from .projects import new_id


class DatasetLink(Base):
    """``path`` in project ``project_id`` reads ``source_path`` of ``source_project_id`` at
    ``version_id``. ``size``, ``etag`` and ``modified`` describe that version, so a listing needs
    no store request. Purging either project removes the link (foreign keys)."""

    __tablename__ = "dataset_links"
    __table_args__ = (UniqueConstraint("project_id", "path"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    path: Mapped[str] = mapped_column(String(1024))
    source_project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    source_path: Mapped[str] = mapped_column(String(1024))
    version_id: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    etag: Mapped[str] = mapped_column(String(255))
    modified: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    pinned_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
