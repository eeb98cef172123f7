"""SQLAlchemy models of the Datadive hub service (one module per area)."""

from . import templates  # noqa: F401 - registers the template tables
from .audit import AuditEvent
from .base import Base, utcnow
from .datasets import DatasetLink
from .guests import Guest, Invitation
from .history import FileName, FileVersion, Snapshot, TrashEntry
from .links import PublicLink
from .projects import Membership, Notebook, PrincipalKind, Project, Role

__all__ = [
    "AuditEvent",
    "Base",
    "DatasetLink",
    "FileName",
    "FileVersion",
    "Guest",
    "Invitation",
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
