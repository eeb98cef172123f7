"""Datadive for JupyterHub: the hub service, authenticators, spawner hooks and ``configure(c)``."""

__version__ = "0.1.0"


def configure(c, **options):
    """Wire Datadive into a ``jupyterhub_config.py``: ``datadive_hub.configure(c)``."""
    from .configure import configure as _configure

    return _configure(c, **options)


__all__ = ["__version__", "configure"]
