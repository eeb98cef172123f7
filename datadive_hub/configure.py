"""``configure(c, **options)``: one call in ``jupyterhub_config.py`` that wires Datadive in.

It registers the Datadive hub service (and its least-privilege role), lets users reach it,
gives user servers a token that can reach it (and nothing storage-related), and sets up the
spawner and authenticator for the chosen environment.
"""

import os
import shutil
import sys

SERVICE_NAME = "datadive"
SERVICE_SCOPES = ["list:users", "read:users", "list:groups", "read:groups"]
SERVER_TOKEN_SCOPES = [
    "users:activity!user",
    "access:servers!server",
    f"access:services!service={SERVICE_NAME}",
]

DEFAULTS = {
    "data_dir": None,  # embedded defaults live here (SQLite files, local store, passwords)
    "db_url": None,  # the Datadive service's database; default sqlite in data_dir
    "store_url": None,  # object store; default file://<data_dir>/store
    "store_options": None,  # extra store arguments (credentials: from Secrets in production)
    "service_port": 10101,  # where the service listens (hub-internal)
    "service_host": "127.0.0.1",
    "authenticator": "local",  # "local" (password file) | "oidc" | None (leave as configured)
    "spawner": "local",  # "local" (SimpleLocalProcessSpawner) | None (leave as configured)
    "contents_manager": True,  # user servers use DatadiveContentsManager
    "bootstrap_token": None,  # admin API token for scripts (DATADIVE_BOOTSTRAP_TOKEN)
}


def _service_env(opts: dict) -> dict:
    env = {}
    if opts["data_dir"]:
        env["DATADIVE_DATA_DIR"] = opts["data_dir"]
    if opts["db_url"]:
        env["DATADIVE_DB_URL"] = opts["db_url"]
    if opts["store_url"]:
        env["DATADIVE_STORE_URL"] = opts["store_url"]
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION"):
        if key in os.environ:  # storage credentials go to the service only
            env[key] = os.environ[key]
    return env


def configure(c, **options):
    """Apply Datadive's configuration to the traitlets config ``c`` of a JupyterHub."""
    unknown = set(options) - set(DEFAULTS)
    if unknown:
        raise TypeError(
            f"datadive_hub.configure() got unknown option(s) {', '.join(sorted(unknown))}; "
            f"valid options are: {', '.join(sorted(DEFAULTS))}"
        )
    opts = {**DEFAULTS, **options}
    service_url = f"http://{opts['service_host']}:{opts['service_port']}"

    c.JupyterHub.services = [
        s for s in c.JupyterHub.get("services", []) if s.get("name") != SERVICE_NAME
    ] + [
        {
            "name": SERVICE_NAME,
            "display": True,
            "url": service_url,
            "command": [sys.executable, "-m", "datadive_hub.service"],
            "environment": _service_env(opts),
            "oauth_no_confirm": True,
        }
    ]
    roles = [r for r in c.JupyterHub.get("load_roles", []) if r.get("name") not in
             ("user", "datadive-service")]
    roles += [
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
    ]
    c.JupyterHub.load_roles = roles
    c.Spawner.server_token_scopes = SERVER_TOKEN_SCOPES
    c.Spawner.environment = {
        **c.Spawner.get("environment", {}),
        "DATADIVE_SERVICE_URL": f"{service_url}/services/{SERVICE_NAME}/",
    }
    c.Spawner.default_url = "/lab"
    if opts["contents_manager"]:
        c.Spawner.args = [
            *c.Spawner.get("args", []),
            "--ServerApp.contents_manager_class=datadive_contents.DatadiveContentsManager",
        ]

    if opts["spawner"] == "local":
        c.JupyterHub.spawner_class = "jupyterhub.spawner.SimpleLocalProcessSpawner"
        c.Spawner.cmd = [os.path.join(os.path.dirname(sys.executable), "jupyterhub-singleuser")]
        c.Spawner.args = [*c.Spawner.args, "--allow-root"]
        if opts["data_dir"]:
            c.SimpleLocalProcessSpawner.home_dir_template = os.path.join(
                opts["data_dir"], "users", "{username}"
            )
        c.Spawner.start_timeout = 120
        c.Spawner.http_timeout = 120

    if opts["authenticator"] == "local":
        c.JupyterHub.authenticator_class = "datadive_hub.auth.local.LocalPasswordAuthenticator"
        if opts["data_dir"]:
            c.LocalPasswordAuthenticator.password_file = os.path.join(
                opts["data_dir"], "passwords.json"
            )
    elif opts["authenticator"] == "oidc":
        c.JupyterHub.authenticator_class = "datadive"

    token = opts["bootstrap_token"] or os.environ.get("DATADIVE_BOOTSTRAP_TOKEN")
    if token:
        c.JupyterHub.api_tokens = {**c.JupyterHub.get("api_tokens", {}), token: "admin"}
        c.Authenticator.admin_users = {*c.Authenticator.get("admin_users", set()), "admin"}
    return c


def proxy_command() -> list[str]:
    """configurable-http-proxy from .venv/node (installed by ./dev) or from PATH."""
    venv_chp = os.path.join(sys.prefix, "node", "node_modules", ".bin", "configurable-http-proxy")
    if os.path.exists(venv_chp):
        return [venv_chp]
    found = shutil.which("configurable-http-proxy")
    return [found] if found else ["configurable-http-proxy"]
