"""Spawner hooks: what a user server gets from the hub, and what it must never get.

User servers hold no storage credentials (DESIGN decision 3): the hub service is the only holder.
``pre_spawn_hook`` sets the environment a user server needs (the service URL) and drops anything
that looks like a storage or database credential from the spawner's environment;
``modify_pod_hook`` does the same for the containers of a KubeSpawner pod (e.g. a
``singleuser.extraEnv`` entry that reads a storage Secret).  Dropped names are logged.
"""

from __future__ import annotations

import fnmatch
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jupyterhub.spawner import Spawner

from . import guest_login

# Environment variable names a user server must never receive (case-insensitive globs).
CREDENTIAL_ENV_PATTERNS = (
    "AWS_*",
    "S3_*",
    "*SECRET_ACCESS_KEY*",
    "*ACCESS_KEY_ID*",
    "*SESSION_TOKEN*",
    "DATADIVE_STORE_*",
    "DATADIVE_DB_*",
    "DATABASE_URL",
    "PG*",
    "POSTGRES*",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "AZURE_STORAGE_*",
)


def is_credential(name: str) -> bool:
    """True if ``name`` is an environment variable a user server must not see."""
    upper = name.upper()
    return any(fnmatch.fnmatchcase(upper, p) for p in CREDENTIAL_ENV_PATTERNS)


def server_environment(service_url: str) -> dict[str, str]:
    """Environment every Datadive user server gets (no credentials: it uses its own hub token)."""
    return {"DATADIVE_SERVICE_URL": service_url}


async def pre_spawn_hook(spawner: Spawner) -> None:
    """Drop credential-like variables from ``spawner.environment`` and ``spawner.env_keep``; for
    a guest's server, the service's permission and limits (:mod:`datadive_hub.guest_login`)."""
    dropped = sorted(k for k in spawner.environment if is_credential(k))
    if dropped:
        spawner.environment = {k: v for k, v in spawner.environment.items() if k not in dropped}
    kept = [k for k in spawner.env_keep if is_credential(k)]
    if kept:
        spawner.env_keep = [k for k in spawner.env_keep if k not in kept]
    if dropped or kept:
        spawner.log.warning(
            "Datadive: not passing %s to %s's server; user servers hold no storage credentials",
            ", ".join(dropped + kept),
            spawner.user.name,
        )
    await guest_login.check_guest_spawn(spawner)


def modify_pod_hook(spawner: Spawner, pod: Any) -> Any:
    """Remove credential-like env entries from every container of a KubeSpawner pod."""
    dropped = []
    for container in [*(pod.spec.containers or []), *(pod.spec.init_containers or [])]:
        env = container.env or []
        keep = [e for e in env if not is_credential(_env_name(e))]
        dropped += [_env_name(e) for e in env if is_credential(_env_name(e))]
        container.env = keep
    if dropped:
        spawner.log.warning(
            "Datadive: removed %s from %s's pod; user servers hold no storage credentials",
            ", ".join(sorted(set(dropped))),
            spawner.user.name,
        )
    return pod


def _env_name(entry: Any) -> str:
    """The name of a container env entry (a dict or a kubernetes ``V1EnvVar``)."""
    return str(entry["name"] if isinstance(entry, dict) else entry.name)
