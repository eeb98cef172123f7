"""``configure(c, **options)``: one call in ``jupyterhub_config.py`` that wires Datadive in.

It registers the Datadive hub service and the least-privilege roles around it (users may reach
the service; the service may read users and groups; a user server's token reaches its own server
and the service; the idle culler may list, read activity and stop servers), the custom scopes,
the authenticator (``local`` or ``oidc``), the spawner (``local`` or ``kubernetes``) with hooks that
keep storage credentials out of user servers, and optionally the idle culler.

Every option is listed in ``OPTIONS`` (name → (default, help)); an unknown option or a value out
of range is refused with a message naming the valid ones.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from typing import Any

from traitlets.config import Config

from . import spawner as hooks
from .guest_servers import GROUP as GUEST_GROUP

SERVICE_NAME = "datadive"
CULLER_NAME = "idle-culler"
SERVICE_SCOPES = [
    "list:users",
    "read:users",
    "list:groups",
    "read:groups",
    # guest servers: a guest whose editor invitations all ended is removed (server stopped)
    f"delete:users!group={GUEST_GROUP}",
]
SERVER_TOKEN_SCOPES = [
    "users:activity!user",
    "access:servers!server",
    f"access:services!service={SERVICE_NAME}",
]
CULLER_SCOPES = ["list:users", "read:users:activity", "read:servers", "delete:servers"]
# Custom scopes (JupyterHub >= 3): granted by roles, visible to the service in a user's OAuth model.
CUSTOM_SCOPES = {
    "custom:datadive:templates:publish": {
        "description": "Publish cell templates in Datadive's shared template library.",
    },
}
TEMPLATE_AUTHOR_ROLE = "datadive-template-author"
# Environment the hub process may hold and the service needs (never given to user servers).
SERVICE_ENV_PASSTHROUGH = (
    "DATADIVE_DB_URL",
    "DATADIVE_STORE_URL",
    "DATADIVE_SERVICE_CONFIG",  # a traitlets config file for DatadiveService (e.g. max_upload_bytes)
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
)
# The service's PostgreSQL password. JupyterHub's own database (z2jh ``hub.db``) reads PGPASSWORD
# in the same hub pod, so the service's password has a name of its own and becomes PGPASSWORD in
# the service's environment only; a PGPASSWORD of the hub is passed on only without it.
SERVICE_DB_PASSWORD_ENV = "DATADIVE_DB_PASSWORD"

OPTIONS: dict[str, tuple[object, str]] = {
    "data_dir": (None, "Folder for the embedded defaults (SQLite files, local store, passwords)."),
    "db_url": (
        None,
        "The Datadive service's database URL (default: $DATADIVE_DB_URL, else SQLite in data_dir).",
    ),
    "store_url": (
        None,
        "Object store URL, e.g. s3://bucket/prefix (default: $DATADIVE_STORE_URL, else file://<data_dir>/store).",
    ),
    "store_options": (
        None,
        "Extra object-store arguments for the service, e.g. {'region': 'eu-west-1'}; no credentials "
        "(those come from AWS_* environment variables, set from Secrets).",
    ),
    "service_port": (10101, "Port the Datadive service listens on (hub-internal)."),
    "service_host": (
        "127.0.0.1",
        "Host name the proxy and user servers use to reach the service (Kubernetes: 'hub').",
    ),
    "service_bind_host": (
        None,
        "Address the service binds to when service_host is a DNS name (Kubernetes: '0.0.0.0').",
    ),
    "server_service_url": (
        None,
        "URL user servers use to reach the service (default http://<service_host>:<service_port>/services/datadive/).",
    ),
    "authenticator": (
        "local",
        "'local' (password file), 'oidc' (DatadiveOAuthenticator) or None (leave as configured).",
    ),
    "oidc_issuer": (
        None,
        "OIDC issuer URL (authenticator='oidc'); endpoints come from its discovery document.",
    ),
    "oidc_client_id": (None, "OIDC client id (default: $OAUTH_CLIENT_ID)."),
    "oidc_client_secret": (None, "OIDC client secret (default: $OAUTH_CLIENT_SECRET)."),
    "oidc_callback_url": (
        None,
        "OIDC redirect URI, https://<hub>/hub/oauth_callback (default: $OAUTH_CALLBACK_URL).",
    ),
    "allowed_groups": (
        None,
        "Identity-provider groups whose members may sign in (authenticator='oidc').",
    ),
    "admin_groups": (
        None,
        "Identity-provider groups whose members are hub admins (authenticator='oidc').",
    ),
    "template_author_groups": (
        ("datadive-template-authors",),
        "JupyterHub groups whose members may publish cell templates (granted "
        "custom:datadive:templates:publish; the service checks the same groups).",
    ),
    "spawner": (
        "local",
        "'local' (SimpleLocalProcessSpawner: every server runs as the hub's account), "
        "'system-users' (each user's server runs as their own system account, made on first "
        "spawn; needs root), 'kubernetes' (KubeSpawner) or None (leave as configured).",
    ),
    "server_python": (
        None,
        "Python that local user servers and kernels run with (default: the hub's); with "
        "spawner='system-users' every account must be able to run it.",
    ),
    "contents_manager": (True, "User servers use datadive_contents.DatadiveContentsManager."),
    "stop_grace_seconds": (
        60,
        "Seconds a stopping user server gets to flush its working copy (KubeSpawner "
        "delete_grace_period; LocalProcessSpawner interrupt_timeout).",
    ),
    "cull_idle_timeout": (
        0,
        "Stop user servers idle this many seconds with jupyterhub-idle-culler as a hub service; 0 = off (z2jh runs its own culler: cull.enabled).",
    ),
    "cull_every": (
        None,
        "Seconds between culler checks (default: half of cull_idle_timeout, at most 600).",
    ),
    "bootstrap_token": (None, "Admin API token for scripts (default: $DATADIVE_BOOTSTRAP_TOKEN)."),
}
DEFAULTS = {name: default for name, (default, _) in OPTIONS.items()}
CHOICES = {
    "authenticator": ("local", "oidc", None),
    "spawner": ("local", "system-users", "kubernetes", None),
}


def _check(options: dict[str, Any]) -> dict[str, Any]:
    unknown = set(options) - set(OPTIONS)
    if unknown:
        raise TypeError(
            f"datadive_hub.configure() got unknown option(s) {', '.join(sorted(unknown))}; "
            f"valid options are: {', '.join(sorted(OPTIONS))}"
        )
    opts: dict[str, Any] = {**DEFAULTS, **options}
    for name, choices in CHOICES.items():
        if opts[name] not in choices:
            raise ValueError(
                f"datadive_hub.configure({name}={opts[name]!r}): use one of "
                + ", ".join(repr(c) for c in choices)
            )
    for name in ("service_port", "stop_grace_seconds", "cull_idle_timeout"):
        if not isinstance(opts[name], int) or opts[name] < 0:
            raise ValueError(
                f"datadive_hub.configure({name}={opts[name]!r}): give a whole number >= 0"
            )
    for name in ("allowed_groups", "admin_groups", "template_author_groups"):
        if isinstance(opts[name], str):
            raise ValueError(
                f"datadive_hub.configure({name}={opts[name]!r}): give a list of group names, "
                f"e.g. {name}=[{opts[name]!r}]"
            )
    secret_keys = [
        k for k in (opts["store_options"] or {}) if hooks.is_credential(k) or "secret" in k
    ]
    if secret_keys:
        raise ValueError(
            f"datadive_hub.configure(store_options=...): {', '.join(secret_keys)} would appear on "
            "the service's command line; give credentials as AWS_ACCESS_KEY_ID / "
            "AWS_SECRET_ACCESS_KEY in the hub's environment (from a Kubernetes Secret) instead"
        )
    if (opts["allowed_groups"] or opts["admin_groups"] or opts["oidc_issuer"]) and opts[
        "authenticator"
    ] != "oidc":
        raise ValueError(
            "datadive_hub.configure(): oidc_issuer, allowed_groups and admin_groups need "
            "authenticator='oidc'"
        )
    return opts


def _service_env(opts: dict[str, Any]) -> dict[str, Any]:
    env = {k: os.environ[k] for k in SERVICE_ENV_PASSTHROUGH if k in os.environ}
    password = os.environ.get(SERVICE_DB_PASSWORD_ENV) or os.environ.get("PGPASSWORD")
    if password:
        env["PGPASSWORD"] = password
    if opts["data_dir"]:
        env["DATADIVE_DATA_DIR"] = opts["data_dir"]
    if opts["db_url"]:
        env["DATADIVE_DB_URL"] = opts["db_url"]
    if opts["store_url"]:
        env["DATADIVE_STORE_URL"] = opts["store_url"]
    env["DATADIVE_TEMPLATE_AUTHOR_GROUPS"] = ",".join(opts["template_author_groups"] or [])
    return env


def _merge_service(mine: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
    """An entry the admin wrote (e.g. z2jh ``hub.services.datadive``) completes ours: their keys
    win, environments and allowed scopes are combined."""
    merged = {**mine, **theirs}
    if "environment" in mine or "environment" in theirs:
        merged["environment"] = {**mine.get("environment", {}), **theirs.get("environment", {})}
    scopes = [
        *mine.get("oauth_client_allowed_scopes", []),
        *theirs.get("oauth_client_allowed_scopes", []),
    ]
    if scopes:
        merged["oauth_client_allowed_scopes"] = list(dict.fromkeys(scopes))
    return merged


def _merge_role(mine: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
    """Our scopes stand (least privilege); members the admin listed are kept."""
    merged = dict(mine)
    for kind in ("users", "groups", "services"):
        members = [*theirs.get(kind, []), *mine.get(kind, [])]
        if members:
            merged[kind] = list(dict.fromkeys(members))
    return merged


def _combine(
    items: list[dict[str, Any]],
    new: list[dict[str, Any]],
    merge: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]],
) -> list[dict[str, Any]]:
    existing = {i.get("name"): i for i in items}
    names = {n["name"] for n in new}
    return [i for i in items if i.get("name") not in names] + [
        merge(n, existing[n["name"]]) if n["name"] in existing else n for n in new
    ]


def _add_args(existing: list[Any], *args: str) -> list[Any]:
    """``existing`` + the ``args`` it lacks (so a second configure(c) adds nothing)."""
    return [*existing, *(a for a in args if a not in existing)]


def configure(c: Config, **options: Any) -> Config:
    """Apply Datadive's configuration to the traitlets config ``c`` of a JupyterHub."""
    opts = _check(options)
    service_url = f"http://{opts['service_host']}:{opts['service_port']}"
    command = [sys.executable, "-m", "datadive_hub.service"]
    if opts["service_bind_host"]:
        command.append(
            f"--DatadiveService.service_url=http://{opts['service_bind_host']}:{opts['service_port']}"
        )
    if opts["store_options"]:
        command.append(f"--DatadiveService.store_options={opts['store_options']!r}")

    services: list[dict[str, Any]] = [
        {
            "name": SERVICE_NAME,
            "display": True,
            "url": service_url,
            "command": command,
            "environment": _service_env(opts),
            "oauth_no_confirm": True,
            # custom scopes a user holds are passed on in the service's OAuth token
            "oauth_client_allowed_scopes": list(CUSTOM_SCOPES),
        }
    ]
    roles: list[dict[str, Any]] = [
        {
            "name": "user",
            "description": "Standard user privileges, plus access to the Datadive service",
            "scopes": ["self", f"access:services!service={SERVICE_NAME}"],
        },
        {
            "name": "datadive-service",
            "description": "What the Datadive service reads from JupyterHub: users and groups",
            "scopes": SERVICE_SCOPES,
            "services": [SERVICE_NAME],
        },
        {
            "name": TEMPLATE_AUTHOR_ROLE,
            "description": "May publish cell templates in Datadive",
            "scopes": list(CUSTOM_SCOPES),
            "groups": list(opts["template_author_groups"] or []),
        },
    ]
    if opts["cull_idle_timeout"]:
        every = opts["cull_every"] or min(600, max(1, opts["cull_idle_timeout"] // 2))
        services.append(
            {
                "name": CULLER_NAME,
                "command": [
                    sys.executable,
                    "-m",
                    "jupyterhub_idle_culler",
                    f"--timeout={opts['cull_idle_timeout']}",
                    f"--cull-every={every}",
                ],
            }
        )
        roles.append(
            {
                "name": "datadive-idle-culler",
                "description": "Stop idle user servers: list users, read activity, stop servers",
                "scopes": CULLER_SCOPES,
                "services": [CULLER_NAME],
            }
        )
    c.JupyterHub.services = _combine(
        list(c.JupyterHub.get("services", [])), services, _merge_service
    )
    c.JupyterHub.load_roles = _combine(list(c.JupyterHub.get("load_roles", [])), roles, _merge_role)
    c.JupyterHub.custom_scopes = {**c.JupyterHub.get("custom_scopes", {}), **CUSTOM_SCOPES}

    c.Spawner.server_token_scopes = SERVER_TOKEN_SCOPES
    server_url = opts["server_service_url"] or f"{service_url}/services/{SERVICE_NAME}/"
    c.Spawner.environment = {
        **c.Spawner.get("environment", {}),
        **hooks.server_environment(server_url),
    }
    c.Spawner.pre_spawn_hook = hooks.pre_spawn_hook
    # the guests' sign-in of Datadive's authenticators (guest servers) redeems tickets here
    c.GuestLoginMixin.datadive_service_url = server_url
    c.Spawner.default_url = "/lab"
    if opts["contents_manager"]:
        c.Spawner.args = _add_args(
            list(c.Spawner.get("args", [])),
            "--ServerApp.contents_manager_class=datadive_contents.DatadiveContentsManager",
        )

    if opts["spawner"] in ("local", "system-users"):
        _configure_local_spawner(c, opts)
    elif opts["spawner"] == "kubernetes":
        _configure_kubespawner(c, opts)

    if opts["authenticator"] == "local":
        c.JupyterHub.authenticator_class = "datadive_hub.auth.local.LocalPasswordAuthenticator"
        if opts["data_dir"]:
            c.LocalPasswordAuthenticator.password_file = os.path.join(
                opts["data_dir"], "passwords.json"
            )
    elif opts["authenticator"] == "oidc":
        _configure_oidc(c, opts)

    token = opts["bootstrap_token"] or os.environ.get("DATADIVE_BOOTSTRAP_TOKEN")
    if token:
        c.JupyterHub.api_tokens = {**c.JupyterHub.get("api_tokens", {}), token: "admin"}
        c.Authenticator.admin_users = {*c.Authenticator.get("admin_users", set()), "admin"}
    return c


def _configure_local_spawner(c: Config, opts: dict[str, Any]) -> None:
    """User servers as local processes: all as the hub's account ('local') or each as its own
    system account ('system-users', see datadive_hub.system_users)."""
    python = opts["server_python"] or sys.executable
    c.Spawner.cmd = [python, "-m", "datadive_server_ext.singleuser"]
    # kernels and terminals find the server's Python first
    path = os.pathsep.join([os.path.dirname(python), os.environ.get("PATH", os.defpath)])
    c.Spawner.environment = {**c.Spawner.get("environment", {}), "PATH": path}
    home = os.path.join(opts["data_dir"], "users", "{username}") if opts["data_dir"] else None
    if opts["spawner"] == "system-users":
        c.JupyterHub.spawner_class = "datadive_hub.system_users.SystemUserSpawner"
        # kernels on Unix sockets in the account's runtime dir, not on ports others can reach
        c.Spawner.args = _add_args(list(c.Spawner.get("args", [])), "--KernelManager.transport=ipc")
        if home:
            c.SystemUserSpawner.home_dir_template = home
    else:
        c.JupyterHub.spawner_class = "jupyterhub.spawner.SimpleLocalProcessSpawner"
        c.Spawner.args = _add_args(list(c.Spawner.get("args", [])), "--allow-root")
        if home:
            c.SimpleLocalProcessSpawner.home_dir_template = home
    # SIGINT, then SIGTERM after this many seconds: time to flush the working copy
    c.LocalProcessSpawner.interrupt_timeout = opts["stop_grace_seconds"]
    c.Spawner.start_timeout = 120
    c.Spawner.http_timeout = 120


def _configure_kubespawner(c: Config, opts: dict[str, Any]) -> None:
    """KubeSpawner settings Datadive relies on (image, resources and profiles come from the chart)."""
    c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"
    c.KubeSpawner.modify_pod_hook = hooks.modify_pod_hook
    # SIGTERM → the server flushes its working copy to the store before the pod is killed
    c.KubeSpawner.delete_grace_period = opts["stop_grace_seconds"]
    c.KubeSpawner.extra_pod_config = {
        **c.KubeSpawner.get("extra_pod_config", {}),
        "terminationGracePeriodSeconds": opts["stop_grace_seconds"],
    }
    c.KubeSpawner.allow_privilege_escalation = False
    # the chart sets KubeSpawner.environment from singleuser.extraEnv, which would hide Spawner's
    c.KubeSpawner.environment = {
        **c.KubeSpawner.get("environment", {}),
        **{k: v for k, v in c.Spawner.environment.items() if k.startswith("DATADIVE_")},
    }
    c.KubeSpawner.container_security_context = {
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def _configure_oidc(c: Config, opts: dict[str, Any]) -> None:
    c.JupyterHub.authenticator_class = "datadive_hub.auth.oidc.DatadiveOAuthenticator"
    a = c.DatadiveOAuthenticator
    if opts["oidc_issuer"]:
        a.oidc_issuer = opts["oidc_issuer"]
    if opts["oidc_client_id"]:
        a.client_id = opts["oidc_client_id"]
    if opts["oidc_client_secret"]:
        a.client_secret = opts["oidc_client_secret"]
    if opts["oidc_callback_url"]:
        a.oauth_callback_url = opts["oidc_callback_url"]
    if opts["allowed_groups"] is not None:
        a.allowed_groups = set(opts["allowed_groups"])
    if opts["admin_groups"] is not None:
        a.admin_groups = set(opts["admin_groups"])
    a.manage_groups = True
    a.enable_pkce = True


def proxy_command() -> list[str]:
    """configurable-http-proxy from .venv/node (installed by ./dev) or from PATH."""
    venv_chp = os.path.join(sys.prefix, "node", "node_modules", ".bin", "configurable-http-proxy")
    if os.path.exists(venv_chp):
        return [venv_chp]
    found = shutil.which("configurable-http-proxy")
    return [found] if found else ["configurable-http-proxy"]
