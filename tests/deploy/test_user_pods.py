"""User pods rendered offline by KubeSpawner from the chart values + configure(c).

The hub configuration is built the way the chart builds it (``z2jh.hub_config``: singleuser
values → KubeSpawner traits, then ``hub.extraConfig``, which calls ``datadive_hub.configure``).
KubeSpawner runs with ``_mock=True`` and a stub kubeconfig: no Kubernetes API is contacted.
"""

from __future__ import annotations

import json
import types
from pathlib import Path

import pytest

from datadive_hub.spawner import is_credential

from .z2jh import deep_merge, hub_config, load_yaml, merged_values

try:  # a dev requirement (requirements/dev.txt): missing means a broken setup, not a skip
    import kubespawner
    from kubernetes_asyncio.client import ApiClient
except ImportError as e:
    raise ImportError(
        f"{e.name} is not installed: jupyterhub-kubespawner is in requirements/dev.txt, "
        "run ./dev setup"
    ) from e

HELM = Path(__file__).resolve().parents[2] / "helm-values"
BASE = HELM / "datadive.yaml"

STUB_KUBECONFIG = """
apiVersion: v1
kind: Config
clusters: [{name: stub, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: stub, user: {token: stub}}]
contexts: [{name: stub, context: {cluster: stub, user: stub, namespace: datadive}}]
current-context: stub
"""

SECRET_VALUES = {"AKIA-TEST-KEY-ID", "test-secret-access-key", "postgres-password"}


@pytest.fixture
def kubeconfig(tmp_path, monkeypatch):
    path = tmp_path / "kubeconfig"
    path.write_text(STUB_KUBECONFIG)
    monkeypatch.setenv("KUBECONFIG", str(path))
    # kubernetes_asyncio reads $KUBECONFIG once, at import
    monkeypatch.setattr(
        "kubernetes_asyncio.config.kube_config.KUBE_CONFIG_DEFAULT_LOCATION", str(path)
    )
    # what the hub pod's environment holds in production (from the Secrets): none may leak
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIA-TEST-KEY-ID")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret-access-key")
    monkeypatch.setenv("PGPASSWORD", "postgres-password")
    monkeypatch.setenv("DATADIVE_STORE_URL", "s3://datadive/prod")
    return path


def _user(name: str):
    return types.SimpleNamespace(
        name=name, id=42, url=f"/user/{name}/", escaped_name=name, groups=[], orm_user=None
    )


async def render(values: dict, user: str = "alice", profile: str | None = None):
    """Pod manifest (as a dict) that KubeSpawner would create for ``user``, plus the spawner."""
    c = hub_config(values)
    spawner = kubespawner.KubeSpawner(config=c, _mock=True, user=_user(user))
    spawner.api_token = "user-server-token"
    if c.KubeSpawner.get("profile_list"):
        spawner.user_options = {"profile": profile} if profile else {}
        await spawner.load_user_options()
    if spawner.pre_spawn_hook:
        await spawner.pre_spawn_hook(spawner)
    pod = await spawner.get_pod_manifest()
    if spawner.modify_pod_hook:
        pod = spawner.modify_pod_hook(spawner, pod)
    async with ApiClient() as api:
        return api.sanitize_for_serialization(pod), spawner


def size(text: str) -> int:
    """'4G' → bytes, as JupyterHub's ByteSpecification reads it."""
    units = {"K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
    return int(float(text[:-1]) * units[text[-1]])


def notebook(pod: dict) -> dict:
    return next(x for x in pod["spec"]["containers"] if x["name"] == "notebook")


def env_of(container: dict) -> dict:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


@pytest.fixture
def values(z2jh_dir):
    return merged_values(z2jh_dir, BASE)


async def test_image_command_and_environment(kubeconfig, values):
    pod, _ = await render(values)
    nb = notebook(pod)
    assert nb["image"] == "ghcr.io/datadive/datadive-singleuser:0.1.0"
    assert nb["args"][0] == "datadive-singleuser"
    env = env_of(nb)
    assert env["DATADIVE_SERVICE_URL"] == "http://hub:10101/services/datadive/"
    assert env["JUPYTERHUB_USER"] == "alice"
    assert env["JUPYTERHUB_DEFAULT_URL"] == "/lab"
    assert (
        "--ServerApp.contents_manager_class=datadive_contents.DatadiveContentsManager" in nb["args"]
    )
    assert "--allow-root" not in nb["args"]


async def test_resource_limits_of_the_default_profile(kubeconfig, values):
    pod, _ = await render(values)
    res = notebook(pod)["resources"]
    assert res["limits"] == {"cpu": 2, "memory": size("4G")}
    assert res["requests"] == {"cpu": 0.5, "memory": size("2G")}


async def test_profile_list_and_the_large_profile(kubeconfig, values):
    _, spawner = await render(values)
    assert [p["slug"] for p in spawner.profile_list] == ["standard", "large"]
    pod, _ = await render(values, profile="large")
    res = notebook(pod)["resources"]
    assert res["limits"] == {"cpu": 4, "memory": size("16G")}
    assert res["requests"] == {"cpu": 1, "memory": size("8G")}


@pytest.mark.parametrize("example", ["50-users.yaml", "2000-users.yaml"])
async def test_examples_render_with_their_sizes(kubeconfig, z2jh_dir, example):
    ex = load_yaml(HELM / "examples" / example)
    pod, _ = await render(merged_values(z2jh_dir, BASE, ex))
    res = notebook(pod)["resources"]
    assert res["requests"]["memory"] == size(ex["singleuser"]["memory"]["guarantee"])
    assert res["requests"]["cpu"] == ex["singleuser"]["cpu"]["guarantee"]
    assert res["limits"]["cpu"] == ex["singleuser"]["cpu"]["limit"]


async def test_security_context_is_not_root(kubeconfig, values):
    pod, spawner = await render(values)
    sc = notebook(pod)["securityContext"]
    assert sc["runAsUser"] == 1000 and sc["runAsUser"] != 0
    assert sc["runAsNonRoot"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert pod["spec"]["securityContext"]["fsGroup"] == 100
    # time to flush the working copy on stop (node drain and hub-initiated deletes alike)
    assert pod["spec"]["terminationGracePeriodSeconds"] == 60
    assert spawner.delete_grace_period == 60
    assert not pod["spec"].get("automountServiceAccountToken")


def _assert_no_credentials(pod: dict):
    text = json.dumps(pod)
    for secret in SECRET_VALUES:
        assert secret not in text
    for needle in ("secretKeyRef", "datadive-s3", "datadive-db", "datadive-oidc", "s3://datadive"):
        assert needle not in text, f"{needle} found in the user pod"
    for container in pod["spec"]["containers"] + pod["spec"].get("initContainers", []):
        leaked = [n for n in env_of(container) if is_credential(n)]
        assert leaked == [], f"{container['name']} gets {leaked}"


async def test_no_storage_credentials_anywhere_in_the_pod(kubeconfig, values):
    pod, _ = await render(values)
    _assert_no_credentials(pod)
    pod, _ = await render(values, profile="large")
    _assert_no_credentials(pod)


async def test_credentials_put_in_singleuser_env_by_mistake_are_removed(kubeconfig, values, caplog):
    mistake = deep_merge(
        values,
        {
            "singleuser": {
                "extraEnv": {
                    "AWS_SECRET_ACCESS_KEY": {
                        "valueFrom": {
                            "secretKeyRef": {"name": "datadive-s3", "key": "secret-access-key"}
                        }
                    },
                    "DATADIVE_DB_URL": "postgresql://datadive:postgres-password@db/datadive",
                    "MY_SETTING": "kept",
                }
            }
        },
    )
    pod, _ = await render(mistake)
    _assert_no_credentials(pod)
    env = env_of(notebook(pod))
    assert env["MY_SETTING"] == "kept"
    assert env["DATADIVE_SERVICE_URL"] == "http://hub:10101/services/datadive/"
    assert "user servers hold no storage credentials" in caplog.text
