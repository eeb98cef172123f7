"""Guests (external collaborators) and the invitations that bind them to projects."""

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow
from .projects import new_id


class Guest(Base):
    """Someone without a hub account who accepted an invitation: a display name (unique, case
    folded in ``name_key``, used to sign in again) and a scrypt password hash."""

    __tablename__ = "guests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    display_name: Mapped[str] = mapped_column(String(64))
    name_key: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Invitation(Base):
    """An owner's single-use invitation to a project with role viewer or editor.

    Only the SHA-256 of its token is kept (the link is shown once, as for public links). Once
    accepted it names the guest (``guest_id``) or the hub user (``accepted_by``) it was given to;
    a guest's access to the project lasts while the invitation is neither expired nor revoked.
    """

    __tablename__ = "invitations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(10))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True, default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True, default=None)
    guest_id: Mapped[str | None] = mapped_column(
        ForeignKey("guests.id", ondelete="CASCADE"), nullable=True, index=True, default=None
    )
    accepted_by: Mapped[str | None] = mapped_column(String(255), nullable=True, default=None)
