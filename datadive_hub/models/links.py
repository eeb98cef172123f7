"""Public links: a project file or notebook, pinned to one stored version, served without sign-in."""

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow
from .projects import new_id


class PublicLink(Base):
    """A published file (``kind`` "file") or notebook rendered as HTML (``kind`` "notebook").

    Only the SHA-256 of the link's token is kept: the URL is shown once, when it is made (as
    JupyterHub does with API tokens). A revoked link is deleted; an expired one stays listed.
    """

    __tablename__ = "public_links"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    path: Mapped[str] = mapped_column(String(1024))
    version_id: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(10))
    hide_code: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True, default=None)
