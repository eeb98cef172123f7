"""``datadive_hub.configure(c)`` on a bare traitlets Config: roles, scopes, hooks, refusals."""

from __future__ import annotations

import pytest
from traitlets.config import Config

from datadive_hub.auth.oidc import DatadiveOAuthenticator
from datadive_hub.configure import (
    CULLER_SCOPES,
    OPTIONS,
    SERVER_TOKEN_SCOPES,
    SERVICE_SCOPES,
    configure,
)


def roles(c) -> dict:
    return {r["name"]: r for r in c.JupyterHub.load_roles}


def services(c) -> dict:
    return {s["name"]: s for s in c.JupyterHub.services}


def test_defaults_register_the_service_with_least_privilege_roles():
    c = configure(Config())
    svc = services(c)["datadive"]
    assert svc["url"] == "http://127.0.0.1:10101"
    assert svc["command"][1:] == ["-m", "datadive_hub.service"]
    r = roles(c)
    assert r["user"]["scopes"] == ["self", "access:services!service=datadive"]
    assert r["datadive-service"]["scopes"] == SERVICE_SCOPES
    assert r["datadive-service"]["services"] == ["datadive"]
    # the service may read, never change, users and groups; it is no admin. One exception: it
    # removes the hub users of guests whose invitations ended (guest servers), and only those
    changing = [s for s in SERVICE_SCOPES if s.startswith(("admin", "delete", "servers", "tokens"))]
    assert changing == ["delete:users!group=datadive-guests"]
    assert c.Spawner.server_token_scopes == SERVER_TOKEN_SCOPES
    assert c.Spawner.environment["DATADIVE_SERVICE_URL"] == (
        "http://127.0.0.1:10101/services/datadive/"
    )
    assert c.JupyterHub.spawner_class == "jupyterhub.spawner.SimpleLocalProcessSpawner"
    assert c.JupyterHub.authenticator_class == "datadive_hub.auth.local.LocalPasswordAuthenticator"
    assert "idle-culler" not in services(c)


def test_custom_scope_granted_to_template_authors_and_passed_to_the_service():
    c = configure(Config(), template_author_groups=["stats-team"])
    assert "custom:datadive:templates:publish" in c.JupyterHub.custom_scopes
    role = roles(c)["datadive-template-author"]
    assert role["scopes"] == ["custom:datadive:templates:publish"]
    assert role["groups"] == ["stats-team"]
    assert services(c)["datadive"]["oauth_client_allowed_scopes"] == [
        "custom:datadive:templates:publish"
    ]


def test_unknown_option_is_refused_naming_the_valid_ones():
    with pytest.raises(TypeError) as e:
        configure(Config(), storeurl="s3://x")
    msg = str(e.value)
    assert "storeurl" in msg
    for name in ("store_url", "authenticator", "spawner", "cull_idle_timeout"):
        assert name in msg


@pytest.mark.parametrize(
    "options, words",
    [
        ({"spawner": "docker"}, ["'local'", "'kubernetes'"]),
        ({"authenticator": "ldap"}, ["'local'", "'oidc'"]),
        ({"cull_idle_timeout": -5}, ["whole number"]),
        (
            {"authenticator": "oidc", "allowed_groups": "researchers"},
            ["allowed_groups=['researchers']"],
        ),
        ({"allowed_groups": ["researchers"]}, ["authenticator='oidc'"]),
    ],
)
def test_bad_values_are_refused_with_the_fix(options, words):
    with pytest.raises(ValueError) as e:
        configure(Config(), **options)
    for w in words:
        assert w in str(e.value)


def test_every_option_has_help():
    assert all(help_ for _, help_ in OPTIONS.values())


def test_existing_services_and_roles_are_kept():
    c = Config()
    c.JupyterHub.services = [{"name": "grafana", "url": "http://127.0.0.1:3000"}]
    c.JupyterHub.load_roles = [
        {"name": "grafana", "scopes": ["read:metrics"], "services": ["grafana"]}
    ]
    configure(c)
    configure(c)  # applying twice does not duplicate anything
    assert sorted(services(c)) == ["datadive", "grafana"]
    assert [r["name"] for r in c.JupyterHub.load_roles].count("user") == 1
    assert "grafana" in roles(c)


def test_storage_credentials_go_to_the_service_only(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "very-secret")
    monkeypatch.setenv("DATADIVE_DB_URL", "postgresql+psycopg://dd:pw@db/dd")
    monkeypatch.setenv("DATADIVE_DB_PASSWORD", "datadive-db-pw")
    c = configure(Config(), store_url="s3://bucket/prefix")
    env = services(c)["datadive"]["environment"]
    assert env["AWS_SECRET_ACCESS_KEY"] == "very-secret"
    assert env["DATADIVE_DB_URL"].startswith("postgresql")
    assert env["DATADIVE_STORE_URL"] == "s3://bucket/prefix"
    assert env["PGPASSWORD"] == "datadive-db-pw"  # libpq's name, in the service's process only
    text = repr(c.Spawner) + repr(c.get("KubeSpawner", {}))
    for secret in ("very-secret", "AKIAEXAMPLE", "pw@db", "datadive-db-pw"):
        assert secret not in text


def test_the_hubs_own_pgpassword_is_not_the_services(monkeypatch):
    # JupyterHub's database password (PGPASSWORD of the hub process) stays with JupyterHub
    monkeypatch.setenv("PGPASSWORD", "jupyterhub-db-pw")
    monkeypatch.setenv("DATADIVE_DB_PASSWORD", "datadive-db-pw")
    env = services(configure(Config()))["datadive"]["environment"]
    assert env["PGPASSWORD"] == "datadive-db-pw"
    assert "jupyterhub-db-pw" not in repr(env)
    # one PostgreSQL password only (e.g. a single machine): it is the service's
    monkeypatch.delenv("DATADIVE_DB_PASSWORD")
    env = services(configure(Config()))["datadive"]["environment"]
    assert env["PGPASSWORD"] == "jupyterhub-db-pw"


def test_a_local_server_gets_stop_grace_seconds_to_flush():
    c = configure(Config(), stop_grace_seconds=45)
    assert c.LocalProcessSpawner.interrupt_timeout == 45  # SIGINT, then SIGTERM after 45 s
    from jupyterhub.spawner import SimpleLocalProcessSpawner

    assert SimpleLocalProcessSpawner(config=c).interrupt_timeout == 45


def test_idle_culler_service_has_only_the_scopes_it_needs():
    c = configure(Config(), cull_idle_timeout=3600)
    culler = services(c)["idle-culler"]
    assert culler["command"][1:] == [
        "-m",
        "jupyterhub_idle_culler",
        "--timeout=3600",
        "--cull-every=600",
    ]
    assert roles(c)["datadive-idle-culler"]["scopes"] == CULLER_SCOPES
    assert roles(c)["datadive-idle-culler"]["services"] == ["idle-culler"]


def test_kubernetes_spawner_settings():
    c = configure(
        Config(),
        spawner="kubernetes",
        service_host="hub",
        service_bind_host="0.0.0.0",
        stop_grace_seconds=90,
    )
    assert c.JupyterHub.spawner_class == "kubespawner.KubeSpawner"
    assert c.KubeSpawner.delete_grace_period == 90
    assert c.KubeSpawner.allow_privilege_escalation is False
    assert c.KubeSpawner.container_security_context["runAsNonRoot"] is True
    svc = services(c)["datadive"]
    assert svc["url"] == "http://hub:10101"
    assert "--DatadiveService.service_url=http://0.0.0.0:10101" in svc["command"]
    assert c.Spawner.environment["DATADIVE_SERVICE_URL"] == "http://hub:10101/services/datadive/"
    assert "--allow-root" not in c.Spawner.args


def test_oidc_authenticator_from_configure():
    c = configure(
        Config(),
        authenticator="oidc",
        oidc_client_id="hub",
        oidc_client_secret="s",
        oidc_callback_url="https://hub.example.org/hub/oauth_callback",
        allowed_groups=["researchers"],
        admin_groups=["hub-admins"],
    )
    assert c.JupyterHub.authenticator_class == "datadive_hub.auth.oidc.DatadiveOAuthenticator"
    c.DatadiveOAuthenticator.authorize_url = "https://idp.example.org/auth"
    c.DatadiveOAuthenticator.token_url = "https://idp.example.org/token"
    c.DatadiveOAuthenticator.userdata_url = "https://idp.example.org/userinfo"
    a = DatadiveOAuthenticator(config=c)
    assert a.allowed_groups == {"researchers"} and a.admin_groups == {"hub-admins"}
    assert a.manage_groups and a.enable_pkce
    assert a.scope == ["openid", "profile", "email", "groups"]
    assert a.username_claim == "preferred_username"
    a.check_endpoints()


def test_oidc_without_endpoints_says_what_to_set():
    a = DatadiveOAuthenticator(client_id="x")
    with pytest.raises(ValueError, match="oidc_issuer"):
        a.check_endpoints()


def test_oidc_unreachable_issuer_says_what_to_check(free_port):
    a = DatadiveOAuthenticator(oidc_issuer=f"http://127.0.0.1:{free_port()}", discovery_timeout=2)
    with pytest.raises(ValueError, match="could not read the OpenID Connect discovery document"):
        a.authorize_url  # noqa: B018


def test_pkce_cannot_be_turned_off_by_accident():
    with pytest.raises(ValueError, match="require_pkce"):
        DatadiveOAuthenticator(enable_pkce=False)
    assert DatadiveOAuthenticator(require_pkce=False, enable_pkce=False).enable_pkce is False


def test_authenticator_entry_point_resolves_from_the_installed_distribution(repo_root):
    """``datadive`` in the group ``jupyterhub.authenticators`` of the installed ``datadive``
    distribution (its dist-info, not pyproject.toml) loads DatadiveOAuthenticator."""
    import tomllib
    from importlib.metadata import distribution, entry_points

    dist = distribution("datadive")
    eps = [ep for ep in entry_points(group="jupyterhub.authenticators") if ep.name == "datadive"]
    assert len(eps) == 1, f"entry point 'datadive' found {len(eps)} times: {eps}"
    assert eps[0].dist is not None and eps[0].dist.name == dist.name == "datadive"
    assert eps[0].load() is DatadiveOAuthenticator
    # the installed metadata is the current one (./dev setup reinstalls the wheel when it changes)
    declared = tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]
    installed = {
        ep.name: ep.value for ep in dist.entry_points if ep.group == "jupyterhub.authenticators"
    }
    assert installed == declared["entry-points"]["jupyterhub.authenticators"]


def test_jupyterhub_loads_the_authenticator_by_entry_point_name():
    """``c.JupyterHub.authenticator_class = "datadive"`` (as in helm-values/datadive.yaml) is
    resolved by JupyterHub itself through the entry point."""
    from jupyterhub.app import JupyterHub

    c = configure(Config(), authenticator="oidc", oidc_client_id="hub")
    c.JupyterHub.authenticator_class = "datadive"
    c.DatadiveOAuthenticator.authorize_url = "https://idp.example.org/auth"
    c.DatadiveOAuthenticator.token_url = "https://idp.example.org/token"
    c.DatadiveOAuthenticator.userdata_url = "https://idp.example.org/userinfo"
    app = JupyterHub(config=c)
    assert app.authenticator_class is DatadiveOAuthenticator
    authenticator = app.authenticator_class(parent=app)
    assert authenticator.manage_groups and authenticator.enable_pkce  # config=c reached it
    with pytest.raises(Exception, match="datadive-typo"):
        JupyterHub(authenticator_class="datadive-typo")


def test_without_the_contents_manager_option_on_a_bare_config():
    c = configure(Config(), contents_manager=False)
    assert c.Spawner.args == ["--allow-root"]
    c = configure(Config(), contents_manager=False, spawner="kubernetes")
    assert "args" not in c.Spawner


@pytest.mark.parametrize("spawner", ["local", "kubernetes"])
def test_configure_can_be_called_through_the_package_twice(spawner):
    """A jupyterhub_config.py (or two hub.extraConfig snippets) may call configure(c) twice:
    the second call is the function again (the submodule does not shadow it) and changes
    nothing: no second service, role, spawner argument or culler."""
    import copy

    import datadive_hub
    from datadive_hub import configure as configure_module

    assert datadive_hub.configure is configure_module is configure  # the function, not a module
    options = {"spawner": spawner, "cull_idle_timeout": 600, "template_author_groups": ["stats"]}
    c = datadive_hub.configure(Config(), **options)
    once = copy.deepcopy(c)
    assert datadive_hub.configure(c, **options) is c
    assert c == once
    assert [s["name"] for s in c.JupyterHub.services] == ["datadive", "idle-culler"]
    names = [r["name"] for r in c.JupyterHub.load_roles]
    assert sorted(names) == sorted(set(names))
    assert roles(c)["datadive-template-author"]["groups"] == ["stats"]
    args = list(c.Spawner.get("args", []))
    assert len(args) == len(set(args)), args


async def test_pre_spawn_hook_drops_credentials_from_a_local_spawner(caplog):
    import types

    from jupyterhub.spawner import LocalProcessSpawner

    from datadive_hub.spawner import pre_spawn_hook

    spawner = LocalProcessSpawner(
        user=types.SimpleNamespace(name="alice"),
        environment={"AWS_SECRET_ACCESS_KEY": "s", "DATADIVE_DB_URL": "pg://", "MY_VAR": "kept"},
        env_keep=["PATH", "LANG", "AWS_PROFILE", "PGPASSWORD"],
    )
    await pre_spawn_hook(spawner)
    assert spawner.environment == {"MY_VAR": "kept"}
    assert spawner.env_keep == ["PATH", "LANG"]
    assert "AWS_SECRET_ACCESS_KEY" in caplog.text and "alice" in caplog.text


def test_store_options_refuse_credentials_and_pass_the_rest():
    with pytest.raises(ValueError, match="AWS_SECRET_ACCESS_KEY"):
        configure(Config(), store_options={"secret_access_key": "s"})
    c = configure(Config(), store_options={"region": "eu-west-1"})
    assert (
        "--DatadiveService.store_options={'region': 'eu-west-1'}"
        in services(c)["datadive"]["command"]
    )
