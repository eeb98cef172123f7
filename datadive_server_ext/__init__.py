"""The ``datadive`` jupyter-server extension (and the Datadive panel it serves)."""

from typing import Any

__version__ = "0.1.0"


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .app import DatadiveExtension

    return [{"module": "datadive_server_ext", "app": DatadiveExtension}]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "@datadive/labextension"}]
