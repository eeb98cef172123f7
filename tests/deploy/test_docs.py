"""docs/admin: the configuration reference is current; the guides cover what an admin needs."""

from __future__ import annotations

import re
from pathlib import Path

from datadive_hub import docs_config

DOCS = Path(__file__).resolve().parents[2] / "docs" / "admin"


def test_config_reference_is_up_to_date():
    committed = (DOCS / "config-reference.md").read_text()
    assert committed == docs_config.render(), (
        "docs/admin/config-reference.md is out of date: run "
        "PYTHONPATH=.:contents .venv/bin/python -m datadive_hub.docs_config "
        "> docs/admin/config-reference.md` and commit it"
    )


def test_reference_lists_every_configure_option_and_authenticator_trait():
    from datadive_hub.auth.oidc import DatadiveOAuthenticator
    from datadive_hub.configure import OPTIONS

    text = docs_config.render()
    for name in OPTIONS:
        assert f"| `{name}` |" in text
    for name in DatadiveOAuthenticator.class_own_traits(config=True):
        assert f"| `{name}` |" in text


def test_deploy_guide_covers_secrets_install_and_dns_tls():
    text = (DOCS / "deploy.md").read_text()
    for needle in (
        "helm upgrade --install",
        "create secret generic datadive-s3",
        "create secret generic datadive-db",
        "create secret generic datadive-oidc",
        "helm-values/datadive.yaml",
        "examples/2000-users.yaml",
        "proxy.https",
    ):
        assert needle in text, needle


def test_upgrade_guide_covers_database_migrations():
    text = (DOCS / "upgrade.md").read_text()
    assert "datadive db upgrade" in text
    assert re.search(r"back ?up", text, re.I)
