"""SQLAlchemy models of the Datadive hub service (one module per area)."""

from . import templates  # noqa: F401 - registers the template tables
from .base import Base, utcnow
from .links import PublicLink
from .projects import Membership, Notebook, PrincipalKind, Project, Role

__all__ = [
    "Base",
    "Membership",
    "Notebook",
    "PrincipalKind",
    "Project",
    "PublicLink",
    "Role",
    "utcnow",
]
