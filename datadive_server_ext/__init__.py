"""The ``datadive`` jupyter-server extension (and the Datadive panel it serves)."""

__version__ = "0.1.0"


def _jupyter_server_extension_points():
    from .app import DatadiveExtension

    return [{"module": "datadive_server_ext", "app": DatadiveExtension}]


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "@datadive/labextension"}]
