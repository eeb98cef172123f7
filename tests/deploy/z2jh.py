"""What the zero-to-jupyterhub chart does with a values file, reproduced for offline tests.

- ``merged_values(chart_dir, *files)``: deep-merge values files over the chart's ``values.yaml``
  (dicts merge key by key, everything else is replaced; as Helm and the chart's
  ``tools/validate-against-schema.py`` do).
- ``schema_errors(chart_dir, values)``: JSON Schema (draft-07) errors against ``values.schema.yaml``.
- ``hub_config(values)``: the traitlets ``Config`` the chart's ``jupyterhub_config.py`` builds from
  the values that matter for user pods (``singleuser.*``, ``hub.config``, ``hub.services``,
  ``hub.loadRoles``), then runs ``hub.extraConfig`` in key order, exactly as the chart does.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import jsonschema
import yaml
from traitlets.config import Config


def deep_merge(base: dict, override: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in override.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def load_yaml(path: Path) -> dict:
    return yaml.safe_load(Path(path).read_text()) or {}


def merged_values(chart_dir: Path, *files: Path | dict) -> dict:
    values = load_yaml(chart_dir / "values.yaml")
    for f in files:
        values = deep_merge(values, f if isinstance(f, dict) else load_yaml(f))
    return values


def schema_errors(chart_dir: Path, values: dict) -> list[str]:
    schema = load_yaml(chart_dir / "values.schema.yaml")
    validator = jsonschema.Draft7Validator(schema)
    return [
        f"{'.'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message}"
        for e in sorted(validator.iter_errors(values), key=lambda e: list(map(str, e.path)))
    ]


def _camel(s: str) -> str:
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), s)


def _get(values: dict, dotted: str):
    cur = values
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


# singleuser.<key> -> KubeSpawner.<trait>, as in the chart's files/hub/jupyterhub_config.py
SINGLEUSER_TRAITS = {
    "start_timeout": None,
    "uid": None,
    "fs_gid": None,
    "allow_privilege_escalation": None,
    "node_selector": None,
    "lifecycle_hooks": None,
    "init_containers": None,
    "extra_containers": None,
    "mem_limit": "memory.limit",
    "mem_guarantee": "memory.guarantee",
    "cpu_limit": "cpu.limit",
    "cpu_guarantee": "cpu.guarantee",
    "extra_resource_limits": "extraResource.limits",
    "extra_resource_guarantees": "extraResource.guarantees",
    "environment": "extraEnv",
    "profile_list": None,
    "extra_pod_config": None,
    "extra_labels": None,
    "extra_annotations": None,
}


def hub_config(values: dict) -> Config:
    c = Config()
    for section, traits in (_get(values, "hub.config") or {}).items():
        for trait, value in traits.items():
            c[section][trait] = value
    c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"
    for trait, key in SINGLEUSER_TRAITS.items():
        value = _get(values, "singleuser." + (key or _camel(trait)))
        if value is not None and value != {} and value != []:
            c.KubeSpawner[trait] = copy.deepcopy(value)
    image = _get(values, "singleuser.image.name")
    if image:
        tag = _get(values, "singleuser.image.tag")
        c.KubeSpawner.image = f"{image}:{tag}" if tag else image
    if _get(values, "singleuser.cmd"):
        c.Spawner.cmd = _get(values, "singleuser.cmd")
    if _get(values, "singleuser.defaultUrl"):
        c.Spawner.default_url = _get(values, "singleuser.defaultUrl")
    if _get(values, "singleuser.storage.type") == "dynamic":
        c.KubeSpawner.storage_pvc_ensure = True
        c.KubeSpawner.storage_capacity = _get(values, "singleuser.storage.capacity")
        name = _get(values, "singleuser.storage.dynamic.volumeNameTemplate")
        c.KubeSpawner.volumes = [
            {"name": name, "persistentVolumeClaim": {"claimName": "claim-{username}"}}
        ]
        c.KubeSpawner.volume_mounts = [
            {"mountPath": _get(values, "singleuser.storage.homeMountPath"), "name": name}
        ]
    services = []
    for name, svc in (_get(values, "hub.services") or {}).items():
        svc = dict(svc, name=name)
        if "apiToken" in svc:
            svc["api_token"] = svc.pop("apiToken")
        services.append(svc)
    c.JupyterHub.services = services
    c.JupyterHub.load_roles = [
        dict(role, name=name) for name, role in (_get(values, "hub.loadRoles") or {}).items()
    ]
    for _, code in sorted((_get(values, "hub.extraConfig") or {}).items()):
        exec(compile(code, "hub.extraConfig", "exec"), {"c": c, "get_config": lambda: c})
    return c
