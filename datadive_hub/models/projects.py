"""Projects, their members (users and JupyterHub groups with a role) and their notebooks."""

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from .base import Base, utcnow


class Role(enum.IntEnum):
    """A member's role; higher values include the rights of lower ones."""

    viewer = 1
    editor = 2
    owner = 3

    @classmethod
    def parse(cls, value: str) -> "Role":
        try:
            return cls[value]
        except (KeyError, TypeError):
            raise ValueError(
                f"role must be one of {', '.join(r.name for r in cls)}, not {value!r}"
            ) from None


class PrincipalKind(enum.StrEnum):
    user = "user"
    group = "group"


def new_id() -> str:
    return uuid.uuid4().hex


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))
    # lower-cased name, for the "no two live projects of one creator share a name" rule
    name_key: Mapped[str] = mapped_column(String(100), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(255), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True, default=None)

    members: Mapped[list["Membership"]] = relationship(
        back_populates="project", cascade="all, delete-orphan", lazy="selectin"
    )
    notebooks: Mapped[list["Notebook"]] = relationship(
        back_populates="project", cascade="all, delete-orphan"
    )


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("project_id", "kind", "name"),
        # "my projects, by name, one page": an index range scan per principal, in list order
        Index("ix_memberships_principal_order", "name", "kind", "project_key", "project_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[PrincipalKind] = mapped_column(Enum(PrincipalKind, native_enum=False, length=10))
    name: Mapped[str] = mapped_column(String(255), index=True)
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=10))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # a copy of the project's name_key, so that listings page through this table's index in name
    # order (kept in step by _keep_project_keys below)
    project_key: Mapped[str] = mapped_column(String(100), default="")

    project: Mapped[Project] = relationship(back_populates="members")


class Notebook(Base):
    __tablename__ = "notebooks"
    __table_args__ = (UniqueConstraint("project_id", "path"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    path: Mapped[str] = mapped_column(String(1024))
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    project: Mapped[Project] = relationship(back_populates="notebooks")


@event.listens_for(Session, "before_flush")
def _keep_project_keys(session: Session, _context: object, _instances: object) -> None:
    """Every membership carries its project's current ``name_key`` (new members, renames)."""
    for obj in (*session.new, *session.dirty):
        if isinstance(obj, Project):
            for m in obj.members:
                if m.project_key != obj.name_key:
                    m.project_key = obj.name_key
        elif isinstance(obj, Membership) and obj.project is not None:
            obj.project_key = obj.project.name_key
