"""SQLAlchemy models of the Datadive hub service (one module per area)."""

from .base import Base, utcnow
from .history import FileVersion, Snapshot, TrashEntry
from .links import PublicLink
from .projects import Membership, Notebook, PrincipalKind, Project, Role

__all__ = [
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

# Areas added later register their tables by being imported here.
try:  # noqa: SIM105 - the templates area is optional while it is being built
    from . import templates  # noqa: F401
except ImportError:  # pragma: no cover
    pass
