"""Datadive's storage layer: object stores and the Datadive ContentsManager."""

__version__ = "0.1.0"


def __getattr__(name: str) -> type:
    if name == "DatadiveContentsManager":
        from .manager import DatadiveContentsManager

        return DatadiveContentsManager
    if name == "DatadiveCheckpoints":
        from .checkpoints import DatadiveCheckpoints

        return DatadiveCheckpoints
    raise AttributeError(name)


__all__ = ["DatadiveCheckpoints", "DatadiveContentsManager", "__version__"]
