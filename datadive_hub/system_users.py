"""One system account per user on one machine (``datadive up`` run as root).

Hub user ``NAME`` runs their server and kernels as the account ``datadive-NAME``, made on first
spawn with ``useradd`` (locked password, no login) and home ``<data>/users/NAME`` (mode 0700,
owned by the account). Everything else in the data directory belongs to root, so a kernel reads
only its own home: not the store, the databases, the secrets, other homes or other processes'
environments. Kernels talk to their server over Unix sockets (ZeroMQ ``ipc``) in a private
runtime directory ``/run/datadive/<uid>`` (short: socket paths are limited to 107 bytes), not
over 127.0.0.1 ports where any local account could subscribe to a kernel's output. The mapping
from hub name to account is injective and recorded in the account's comment field, so a
look-alike hub name never lands in someone else's account.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import pwd
import re
import resource
import shutil
import stat
import subprocess
import threading
from collections.abc import Callable

from jupyterhub.spawner import LocalProcessSpawner, set_user_setuid
from traitlets import Unicode

ACCOUNT_MAX = 32  # useradd's limit on Linux
_SAFE = re.compile(r"[a-z][a-z0-9_-]*")
_HASHED = re.compile(r".*-[0-9a-f]{8}")
_useradd_lock = threading.Lock()


def account_name(hub_name: str, prefix: str = "datadive-") -> str:
    """The system account of hub user ``hub_name``: ``prefix + hub_name`` when that is a valid,
    short account name, else a readable stem plus 8 hex digits of the name's SHA-256."""
    plain = prefix + hub_name
    if _SAFE.fullmatch(hub_name) and len(plain) <= ACCOUNT_MAX and not _HASHED.fullmatch(hub_name):
        return plain
    digest = hashlib.sha256(hub_name.encode()).hexdigest()[:8]
    stem = re.sub(r"[^a-z0-9_]+", "-", hub_name.lower()).strip("-")
    stem = stem[: ACCOUNT_MAX - len(prefix) - 9].rstrip("-")
    return f"{prefix}{stem or 'x'}-{digest}"


def account_comment(hub_name: str) -> str:
    """The comment (GECOS) field that marks the account as this hub user's."""
    if hub_name.isprintable() and not set(hub_name) & set(":,\\="):
        return f"Datadive user {hub_name}"
    return "Datadive user sha256=" + hashlib.sha256(hub_name.encode()).hexdigest()[:32]


def useradd_command(account: str, home: str, hub_name: str) -> list[str]:
    """``useradd`` for a locked account with its own group, home ``home`` (made by us)."""
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    return [
        useradd,
        "--no-create-home",
        "--home-dir",
        home,
        "--shell",
        "/bin/bash",
        "--user-group",
        "--comment",
        account_comment(hub_name),
        account,
    ]


def ensure_account(account: str, home: str, hub_name: str) -> pwd.struct_passwd:
    """The account of ``hub_name``, created if missing; refuses an account that exists but is
    not marked as this hub user's (e.g. made by someone else)."""
    with _useradd_lock:
        try:
            entry = pwd.getpwnam(account)
        except KeyError:
            out = subprocess.run(
                useradd_command(account, home, hub_name), capture_output=True, text=True
            )
            if out.returncode != 0:
                raise RuntimeError(
                    f"could not create the system account {account} for {hub_name!r}: "
                    f"{out.stderr.strip() or out.stdout.strip()}"
                ) from None
            entry = pwd.getpwnam(account)
    if entry.pw_gecos != account_comment(hub_name) or entry.pw_uid == 0:
        raise RuntimeError(
            f"the system account {account} exists but is not Datadive's account for "
            f"{hub_name!r} (its comment is {entry.pw_gecos!r}); remove it or set "
            "SystemUserSpawner.account_prefix"
        )
    return entry


def ensure_home(home: str, uid: int, gid: int) -> None:
    """Make ``home`` (mode 0700) belong to ``uid``; a home left by a single-user start (owned by
    root or by a removed account) is handed over, links are never followed."""
    os.makedirs(os.path.dirname(home), 0o711, exist_ok=True)
    try:
        os.mkdir(home, 0o700)
    except FileExistsError:
        pass
    st = os.lstat(home)
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        raise RuntimeError(f"{home} is not a directory; move it away and start the server again")
    if st.st_uid != uid:
        try:
            pwd.getpwuid(st.st_uid)
            known = st.st_uid != 0
        except KeyError:
            known = False
        if known:
            raise RuntimeError(f"{home} belongs to another account (uid {st.st_uid})")
        _hand_over(home, uid, gid)
    os.chmod(home, 0o700)


def _hand_over(top: str, uid: int, gid: int) -> None:
    os.lchown(top, uid, gid)
    for root, dirs, files in os.walk(top):
        for name in dirs + files:
            path = os.path.join(root, name)
            st = os.lstat(path)
            # a second hard link may be a file outside the home: leave it to root
            if stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
                continue
            os.lchown(path, uid, gid)


def ensure_private_dir(top: str, uid: int, gid: int) -> str:
    """``top/<uid>``: mode 0700, owned by ``uid`` (``top``: root's, mode 0711)."""
    os.makedirs(top, 0o711, exist_ok=True)
    st = os.lstat(top)
    if st.st_uid != 0 or not stat.S_ISDIR(st.st_mode):
        raise RuntimeError(f"{top} must be a directory owned by root")
    os.chmod(top, 0o711)
    path = os.path.join(top, str(uid))
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid not in (0, uid):
        raise RuntimeError(f"{path} is not a directory of uid {uid}; remove it")
    os.lchown(path, uid, gid)
    os.chmod(path, 0o700)
    return path


class SystemUserSpawner(LocalProcessSpawner):  # type: ignore[misc]
    """LocalProcessSpawner that runs each user's server as their own system account,
    created on first spawn (the hub must run as root)."""

    account_prefix = Unicode(
        "datadive-",
        config=True,
        help="Prefix of each hub user's system account: prefix + hub name, or prefix + a "
        "readable stem + 8 hex digits of a hash when the name is no valid account name.",
    )
    home_dir_template = Unicode(
        "/home/{username}",
        config=True,
        help="Home of each user's account ({username}: the hub name); made mode 0700 at spawn.",
    )

    runtime_root = Unicode(
        "/run/datadive",
        config=True,
        help="Folder of each account's private Jupyter runtime directory (<runtime_root>/<uid>: "
        "kernel connection files and sockets); keep it short (socket paths max 107 bytes).",
    )

    @property
    def account(self) -> str:
        return account_name(self.user.name, self.account_prefix)

    @property
    def home(self) -> str:
        name = self.user.name
        if not name or "/" in name or "\0" in name or name in (".", ".."):
            raise RuntimeError(f"{name!r} cannot name a home directory")
        return self.home_dir_template.format(username=name)

    async def start(self) -> tuple[str, int]:
        entry = await asyncio.to_thread(ensure_account, self.account, self.home, self.user.name)
        await asyncio.to_thread(ensure_home, self.home, entry.pw_uid, entry.pw_gid)
        await asyncio.to_thread(ensure_private_dir, self.runtime_root, entry.pw_uid, entry.pw_gid)
        self.log.info("Starting %s's server as system account %s", self.user.name, self.account)
        address: tuple[str, int] = await super().start()
        return address

    def make_preexec_fn(self, name: str) -> Callable[[], None]:
        become = set_user_setuid(self.account, chdir=False)
        home = self.home
        limit = self.mem_limit  # guests' servers (datadive_hub.guest_login): bytes or None

        def preexec() -> None:
            if limit:
                # the server's and every kernel's data segment (heap and anonymous mappings):
                # an allocation beyond it fails (MemoryError) instead of starving the machine
                resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
            become()
            os.chdir(home)

        return preexec

    def user_env(self, env: dict[str, str]) -> dict[str, str]:
        entry = pwd.getpwnam(self.account)
        env["USER"] = env["LOGNAME"] = self.account
        env["HOME"] = self.home
        env["SHELL"] = entry.pw_shell or "/bin/bash"
        env["JUPYTER_RUNTIME_DIR"] = os.path.join(self.runtime_root, str(entry.pw_uid))
        return env

    async def move_certs(self, paths: dict[str, str]) -> None:
        raise NotImplementedError("SystemUserSpawner does not support internal_ssl")
