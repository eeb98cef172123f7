"""Datadive for JupyterHub: the hub service, authenticators, spawner hooks and ``configure(c)``."""

__version__ = "0.1.0"

# Imported eagerly: importing the submodule ``datadive_hub.configure`` lazily would replace this
# package attribute with the module, so a second ``datadive_hub.configure(c)`` would fail.
from .configure import configure  # noqa: E402

__all__ = ["__version__", "configure"]
