"""helm-values/ validated the way the z2jh chart does: merged over values.yaml, draft-07 schema."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from .z2jh import merged_values, schema_errors

HELM = Path(__file__).resolve().parents[2] / "helm-values"
BASE = HELM / "datadive.yaml"
EXAMPLES = sorted((HELM / "examples").glob("*.yaml"))


def test_there_are_two_worked_examples():
    assert [p.name for p in EXAMPLES] == ["2000-users.yaml", "50-users.yaml"]
    for p in EXAMPLES:
        assert "Sizing notes" in p.read_text(), f"{p.name} lacks its sizing notes"


def test_base_values_validate(z2jh_dir):
    assert schema_errors(z2jh_dir, merged_values(z2jh_dir, BASE)) == []


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_validates_alone_and_over_the_base(z2jh_dir, example):
    assert schema_errors(z2jh_dir, merged_values(z2jh_dir, example)) == []
    assert schema_errors(z2jh_dir, merged_values(z2jh_dir, BASE, example)) == []


def test_the_chart_data_itself_validates(z2jh_dir):
    assert schema_errors(z2jh_dir, merged_values(z2jh_dir)) == []


@pytest.mark.parametrize(
    "typo, where",
    [
        ({"singleuser": {"imagee": {"name": "x", "tag": "1"}}}, "singleuser"),
        ({"hub": {"extraEnvv": {}}}, "hub"),
        ({"cull": {"timout": 60}}, "cull"),
        ({"singleuser": {"cpu": {"limt": 2}}}, "singleuser.cpu"),
        ({"singleuser": {"networkPolicy": {"egressAllowRule": {}}}}, "singleuser.networkPolicy"),
    ],
)
def test_a_typo_in_a_key_fails(z2jh_dir, typo, where):
    errors = schema_errors(z2jh_dir, merged_values(z2jh_dir, BASE, typo))
    assert errors, f"the typo {typo} was accepted"
    assert any(e.startswith(where + ":") and "Additional properties" in e for e in errors), errors


def test_a_wrong_type_fails(z2jh_dir):
    errors = schema_errors(z2jh_dir, merged_values(z2jh_dir, BASE, {"cull": {"enabled": "yes"}}))
    assert any(e.startswith("cull.enabled:") for e in errors), errors


def test_base_wires_datadive_in(z2jh_dir):
    v = merged_values(z2jh_dir, BASE)
    hub = v["hub"]
    assert hub["image"]["name"].endswith("datadive-hub")
    assert "datadive" in hub["services"]
    assert "datadive_hub.configure(" in hub["extraConfig"]["00-datadive"]
    assert hub["loadRoles"]["user"]["scopes"] == ["self", "access:services!service=datadive"]
    assert v["singleuser"]["image"]["name"].endswith("datadive-singleuser")
    assert v["cull"]["enabled"] is True
    assert hub["networkPolicy"]["enabled"] and v["singleuser"]["networkPolicy"]["enabled"]
    assert v["singleuser"]["networkPolicy"]["egressAllowRules"]["privateIPs"] is False
    assert v["singleuser"]["networkPolicy"]["egressAllowRules"]["cloudMetadataServer"] is False


def test_storage_and_database_settings_come_from_secrets(z2jh_dir):
    env = merged_values(z2jh_dir, BASE)["hub"]["extraEnv"]
    for name, secret in [
        ("AWS_ACCESS_KEY_ID", "datadive-s3"),
        ("AWS_SECRET_ACCESS_KEY", "datadive-s3"),
        ("DATADIVE_STORE_URL", "datadive-s3"),
        ("DATADIVE_DB_URL", "datadive-db"),
        ("DATADIVE_DB_PASSWORD", "datadive-db"),
        ("OAUTH_CLIENT_SECRET", "datadive-oidc"),
    ]:
        assert env[name]["valueFrom"]["secretKeyRef"]["name"] == secret
    # no literal credential anywhere: every credential-like variable reads a Secret
    from datadive_hub.spawner import is_credential

    for path in [BASE, *EXAMPLES]:
        values = yaml.safe_load(path.read_text())
        for part in ("hub", "singleuser"):
            for name, spec in (values.get(part, {}).get("extraEnv") or {}).items():
                if is_credential(name) or "SECRET" in name:
                    assert isinstance(spec, dict) and "secretKeyRef" in spec.get("valueFrom", {}), (
                        f"{path.name}: {part}.extraEnv.{name} must come from a Secret"
                    )
        assert values.get("hub", {}).get("db", {}).get("password") is None


def test_base_gives_the_hub_process_no_pgpassword(z2jh_dir):
    # PGPASSWORD in the hub pod is JupyterHub's own (libpq reads it for hub.db): not Datadive's
    assert "PGPASSWORD" not in merged_values(z2jh_dir, BASE)["hub"]["extraEnv"]


def test_large_example_two_databases_two_users_two_passwords(z2jh_dir, monkeypatch):
    """The 2,000-user note says "two databases, two users": JupyterHub's database user gets its
    password from its own Secret, the Datadive service gets Datadive's, and neither sees the
    other's."""
    from urllib.parse import urlsplit

    from .z2jh import hub_config

    v = merged_values(z2jh_dir, BASE, HELM / "examples" / "2000-users.yaml")
    env = v["hub"]["extraEnv"]
    assert env["PGPASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "jupyterhub-db",
        "key": "password",
    }
    assert env["DATADIVE_DB_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "datadive-db",
        "key": "password",
    }
    assert env["DATADIVE_DB_URL"]["valueFrom"]["secretKeyRef"]["name"] == "datadive-db"
    assert urlsplit(v["hub"]["db"]["url"]).username == "jupyterhub"
    assert urlsplit(v["hub"]["db"]["url"]).password is None
    # the hub pod's environment as the chart sets it from the Secrets; then hub.extraConfig runs
    monkeypatch.setenv("PGPASSWORD", "jupyterhub-db-password")
    monkeypatch.setenv("DATADIVE_DB_PASSWORD", "datadive-db-password")
    c = hub_config(v)
    service = next(s for s in c.JupyterHub.services if s["name"] == "datadive")
    assert service["environment"]["PGPASSWORD"] == "datadive-db-password"
    assert "jupyterhub-db-password" not in repr(service)
    assert "datadive-db-password" not in repr(c.Spawner) + repr(c.KubeSpawner)


def test_large_example_moves_the_hub_database_to_postgresql(z2jh_dir):
    v = merged_values(z2jh_dir, BASE, HELM / "examples" / "2000-users.yaml")
    assert v["hub"]["db"]["type"] == "postgres"
    assert v["scheduling"]["userPlaceholder"]["enabled"] is True
    small = merged_values(z2jh_dir, BASE, HELM / "examples" / "50-users.yaml")
    assert small["hub"]["db"]["type"] == "sqlite-pvc"
