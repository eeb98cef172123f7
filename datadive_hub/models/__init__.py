"""SQLAlchemy models of the Datadive hub service (one module per area)."""

from . import templates  # noqa: F401 - registers the template tables
from .audit import AuditEvent
from .base import Base, utcnow
from .history import FileVersion, Snapshot, TrashEntry
from .links import PublicLink
from .projects import Membership, Notebook, PrincipalKind, Project, Role

__all__ = [
    "AuditEvent",
    "Base",
    "FileVersion",
    "Membership",
    "Notebook",
    "PrincipalKind",
    "Project",
    "PublicLink",
    "Role",
    "Snapshot",
    "TrashEntry",
    "utcnow",
]
