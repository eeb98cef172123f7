"""History of project files: who wrote each version, what was deleted, named snapshots.

The object store keeps the bytes of every version (and, in its metadata, the author); these rows
are the index the service reads so that a page of versions, the trash and the snapshot list each
cost one query instead of a request per object.
"""

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow
from .projects import new_id


class FileVersion(Base):
    """One version written through the service: who wrote it (the store's version id is the key)."""

    __tablename__ = "file_versions"
    __table_args__ = (Index("ix_file_versions_project_version", "project_id", "version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    path: Mapped[str] = mapped_column(String(1024))
    version_id: Mapped[str] = mapped_column(String(255))
    author: Mapped[str] = mapped_column(String(255))
    written_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class TrashEntry(Base):
    """A file or folder deleted from a project; ``files`` is JSON ``[[path, version_id], ...]``:
    each file's version just before the delete (what a restore makes current again)."""

    __tablename__ = "trash"
    __table_args__ = (Index("ix_trash_project_open", "project_id", "restored_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    path: Mapped[str] = mapped_column(String(1024))
    kind: Mapped[str] = mapped_column(String(10))  # "file" or "folder"
    files: Mapped[str] = mapped_column(Text)
    deleted_by: Mapped[str] = mapped_column(String(255))
    deleted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    restored_by: Mapped[str | None] = mapped_column(String(255), nullable=True, default=None)
    restored_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True, default=None)


class Snapshot(Base):
    """A named snapshot; its manifest (path → version id) is a JSON object in the store at
    ``manifest_key`` (see docs/history.md for why it is not a table)."""

    __tablename__ = "snapshots"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    files: Mapped[int] = mapped_column(Integer, default=0)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    manifest_key: Mapped[str] = mapped_column(String(1024))


class FileName(Base):
    """One name a file had: its versions at ``path`` from ``first_version`` (None: from the
    first) to ``last_version`` (None: the name it has now). A rename closes one name and opens
    the next with the same ``file_id``, so history follows the file (docs/history.md)."""

    __tablename__ = "file_names"
    __table_args__ = (
        Index("ix_file_names_path", "project_id", "path"),
        Index("ix_file_names_file", "project_id", "file_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    file_id: Mapped[str] = mapped_column(String(32), default=new_id)
    path: Mapped[str] = mapped_column(String(1024))
    first_version: Mapped[str | None] = mapped_column(String(255), nullable=True, default=None)
    last_version: Mapped[str | None] = mapped_column(String(255), nullable=True, default=None)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    renamed_by: Mapped[str | None] = mapped_column(String(255), nullable=True, default=None)
    renamed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True, default=None)
