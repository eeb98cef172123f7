"""Sign-in for one machine without an identity provider: hashed passwords in a file.

``datadive up`` creates the admin ``admin`` with a generated password printed once;
``datadive users add NAME`` adds people (each gets a generated password, printed once).
"""

import hmac
import json
import os
import secrets
import tempfile
from pathlib import Path
from typing import Any

from jupyterhub.auth import Authenticator
from traitlets import Unicode, default

from ..guest_login import GuestLoginMixin
from .scrypt import scrypt_hex


class PasswordFile:
    """A JSON file ``{name: {"salt": hex, "hash": hex, "admin": bool}}`` written atomically."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)

    def load(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        return data

    def _save(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".passwords-")
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=1)
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)

    def set_password(self, name: str, password: str | None = None, admin: bool = False) -> str:
        """Set (or generate) ``name``'s password; returns the password."""
        password = password or secrets.token_urlsafe(12)
        salt = secrets.token_bytes(16)
        data = self.load()
        data[name] = {"salt": salt.hex(), "hash": scrypt_hex(password, salt), "admin": admin}
        self._save(data)
        return password

    def verify(self, name: str, password: str) -> bool:
        entry = self.load().get(name)
        if not entry:
            return False
        expected = scrypt_hex(password, bytes.fromhex(entry["salt"]))
        return hmac.compare_digest(expected, entry["hash"])

    def names(self, admin_only: bool = False) -> set[str]:
        return {n for n, e in self.load().items() if e.get("admin") or not admin_only}


class LocalPasswordAuthenticator(GuestLoginMixin, Authenticator):  # type: ignore[misc]
    """Users and hashed passwords from a local file (for ``datadive up`` on one machine)."""

    password_file = Unicode(
        config=True, help="Path of the password file (JSON, hashed with scrypt)."
    )

    @default("password_file")
    def _password_file_default(self) -> str:
        return os.path.join(os.environ.get("DATADIVE_DATA_DIR", os.getcwd()), "passwords.json")

    @property
    def passwords(self) -> PasswordFile:
        return PasswordFile(self.password_file)

    @default("allowed_users")
    def _allowed_default(self) -> set[str]:
        # JupyterHub creates allowed users at start-up, so they can be added to projects
        # before their first sign-in.
        return self.passwords.names()

    async def authenticate(self, handler: Any, data: dict[str, Any]) -> dict[str, Any] | None:
        name = self.normalize_username(data.get("username", ""))
        if name and self.passwords.verify(name, data.get("password", "")):
            return {"name": name, "admin": name in self.passwords.names(admin_only=True) or None}
        self.log.warning("Failed sign-in for %r", name)
        return None

    async def check_allowed(
        self, username: str, authentication: dict[str, Any] | None = None
    ) -> bool:
        return username in self.passwords.names()
