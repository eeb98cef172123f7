"""The ``datadive`` ExtensionApp: wires the hub-service client and the route modules."""

from __future__ import annotations

import importlib
import logging
import os
import signal
import threading
from typing import TYPE_CHECKING

from datadive_contents.serviceclient import ServiceClient
from jupyter_server.extension.application import ExtensionApp
from jupyter_server.utils import url_path_join
from traitlets import Bool, Float, List, TraitError, Unicode, default, validate
from traitlets.utils.bunch import Bunch

from . import __version__

if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp

    from .environments.service import Environments

INDEX_SCHEMES = ("https://", "http://", "file://")

# route modules under datadive_server_ext.handlers, listed explicitly (each exports ``routes``);
# one per line, in alphabetical order: a module that fails to import stops the server loudly
ROUTE_MODULES = [
    "assist",
    "cells",
    "codebook",
    "environments",
    "history",
    "hubproxy",
    "landing",
    "sync",
    "templates",
    "values",
]


def stop_cleanly_on_sigint(serverapp: ServerApp, log: logging.Logger) -> bool:
    """Under JupyterHub, make SIGINT stop the server as SIGTERM does: with cleanup, so
    ``stop_extension`` flushes the working copy. JupyterHub's local spawners stop a server with
    SIGINT; jupyter-server lets it raise KeyboardInterrupt (or, on a terminal, asks for
    confirmation), and either way leaves without cleanup, so a culled server would lose the files
    its kernels wrote. (JupyterHub's own pre-extension single-user app made the same mapping.)"""
    if not os.environ.get("JUPYTERHUB_API_TOKEN"):
        return False
    if threading.current_thread() is not threading.main_thread():
        return False
    current = signal.getsignal(signal.SIGINT)
    if current is not signal.default_int_handler and current != serverapp._handle_sigint:
        return False  # someone chose another handler
    signal.signal(signal.SIGINT, serverapp._signal_stop)
    log.debug("Datadive: SIGINT stops the server with cleanup (working copies are flushed)")
    return True


class DatadiveExtension(ExtensionApp):
    """Backs the Datadive panel: hub-service access, templates, notebook cells, sync state."""

    name = "datadive"
    load_other_extensions = True

    service_url = Unicode(
        config=True,
        help="URL of the Datadive hub service for the panel's routes (default: "
        "$DATADIVE_SERVICE_URL); project files reach it through DatadiveContentsManager.service_url.",
    )

    templates_timeout = Float(
        5.0,
        config=True,
        help="Seconds the template gallery and renderer wait for the Datadive service before "
        "falling back to the last list fetched or the built-in templates (answer: offline).",
    )

    codebook_max_data_mb = Float(
        100.0,
        config=True,
        help="Largest data file (MB) the codebook route reads to build or check a codebook; "
        "larger files answer 413 (`datadive codebook FILE --write` has no limit).",
    )

    history_diff_max_mb = Float(
        20.0,
        config=True,
        help="Largest notebook (MB, each of the two versions) the panel's Compare reads to "
        "compare versions cell by cell (nbdime); larger ones answer 413 with what to do.",
    )

    assistant_preload = Bool(
        True,
        config=True,
        help="Warm the test assistant up in a background thread when the server starts (imports "
        "pandas, scipy, statsmodels and pingouin: a few seconds of CPU and ~230 MB of memory), so "
        "the panel's first question answers as fast as the next ones. Turn off on small servers "
        "that rarely use the assistant: the first question then takes those seconds instead.",
    )

    environments_enabled = Bool(
        True,
        config=True,
        help="Project environments (docs/environments.md): each project's requirements.txt is "
        "locked with uv and built into a cached environment with its own kernel. False turns "
        "the Environment routes off (%pip install then lasts until the server stops).",
    )

    environments_index_urls = List(
        Unicode(),
        ["https://pypi.org/simple"],
        config=True,
        help="Package indexes environments may install from (the first is uv's --index-url, "
        "the others --extra-index-url). An empty list allows no index: only "
        "environments_find_links (an offline wheel folder).",
    )

    environments_find_links = List(
        Unicode(),
        [],
        config=True,
        help="Folders (or URLs) of wheels and sdists uv may install from (uv --find-links), "
        "e.g. an offline wheel folder on a shared volume.",
    )

    environments_max_size_mb = Float(
        2048.0,
        config=True,
        help="Largest environment (MB, what a project installs on top of the image); a larger "
        "build fails with the biggest packages named and the previous environment stays.",
    )

    environments_cache_dir = Unicode(
        config=True,
        help="Where built environments and uv's download cache live, shared by projects (and "
        "users) with the same lock. On Kubernetes, a shared persistent volume (helm-values/"
        "examples/2000-users.yaml). Default: $DATADIVE_ENVIRONMENTS_CACHE, else ~/.cache/datadive/environments.",
    )

    environments_project_kernel_by_default = Bool(
        True,
        config=True,
        help="A notebook of a project whose environment is built starts with the project's "
        "kernel when it asks for the default Python kernel; other kernels start as asked. "
        "False: project kernels start only when chosen in the kernel picker.",
    )

    environments_build_timeout = Float(
        900.0, config=True, help="Seconds one uv step of a build may take before it is stopped."
    )

    record_data_reads = Bool(
        True,
        config=True,
        help="Python kernels note which project files (and which stored version of each) a "
        "cell reads, and a notebook's save records them in its cells' metadata "
        "(metadata.datadive.data_read); figures also carry the data they draw, which "
        "`datadive bundle verify` compares. False: kernels start without the helper.",
    )

    @default("environments_cache_dir")
    def _environments_cache_dir_default(self) -> str:
        return os.environ.get("DATADIVE_ENVIRONMENTS_CACHE") or os.path.join(
            os.path.expanduser("~"), ".cache", "datadive", "environments"
        )

    @validate("environments_max_size_mb")
    def _check_max_size(self, proposal: Bunch) -> float:
        if proposal.value <= 0:
            raise TraitError(
                "DatadiveExtension.environments_max_size_mb must be more than 0; to turn "
                "environments off set environments_enabled = False"
            )
        value: float = proposal.value
        return value

    @default("service_url")
    def _service_url_default(self) -> str:
        return os.environ.get("DATADIVE_SERVICE_URL", "")

    def initialize_settings(self) -> None:
        assert self.serverapp is not None  # set before the extension is initialized
        client = self.service_client = ServiceClient(self.service_url)
        self.settings["datadive_service"] = client
        self.settings["datadive_templates_timeout"] = self.templates_timeout
        self.settings["datadive_codebook_max_data_mb"] = self.codebook_max_data_mb
        self.settings["datadive_history_diff_max_mb"] = self.history_diff_max_mb
        self.environments_off = ""
        self.settings["datadive_environments"] = self.make_environments()
        self.settings["datadive_environments_off"] = self.environments_off
        if self.record_data_reads:
            from . import dataread

            dataread.install(
                self.serverapp.kernel_manager, self.serverapp.contents_manager, self.log
            )
        stop_cleanly_on_sigint(self.serverapp, self.log)
        self.log.info(
            "Datadive server extension %s: service %s, contents manager %s",
            __version__,
            self.service_url or "(not connected)",
            type(self.serverapp.contents_manager).__name__,
        )

    def make_environments(self) -> Environments | None:
        """The project-environment service, or None when turned off."""
        if not self.environments_enabled:
            return None
        from pathlib import Path

        from jupyter_core.paths import jupyter_data_dir

        from .environments.kernelspec import default_kernels_dir
        from .environments.service import Environments
        from .environments.uvcli import Sources, uv_bin

        bad = [u for u in self.environments_index_urls if not u.startswith(INDEX_SCHEMES)]
        if bad:
            # fail closed: a typo must not fall back to an index the admin did not allow
            self.environments_off = (
                f"Project environments are off: DatadiveExtension.environments_index_urls has "
                f"{bad[0]!r}, which is not an index URL; give http(s):// or file:// URLs (a "
                "wheel folder goes in environments_find_links)"
            )
            self.log.error("Datadive: %s", self.environments_off)
            return None
        sources = Sources(
            cache_dir=Path(self.environments_cache_dir),
            index_urls=tuple(self.environments_index_urls),
            find_links=tuple(self.environments_find_links),
            max_env_mb=self.environments_max_size_mb,
            timeout=self.environments_build_timeout,
        )
        self.log.info(
            "Datadive environments: uv %s, cache %s, indexes %s, find-links %s",
            uv_bin(),
            sources.cache_dir,
            list(sources.index_urls) or "none",
            list(sources.find_links) or "none",
        )
        state_dir = Path(jupyter_data_dir()) / "datadive" / "environments"
        if self.environments_project_kernel_by_default:
            from .environments import defaultkernel

            assert self.serverapp is not None
            defaultkernel.install(
                self.serverapp.kernel_manager,
                self.serverapp.contents_manager,
                default_kernels_dir(),
                self.log,
            )
        return Environments(sources, state_dir, default_kernels_dir(), self.log)

    def initialize_handlers(self) -> None:
        prefix = "/datadive"  # ExtensionApp prepends the server's base_url
        for name in ROUTE_MODULES:
            module = importlib.import_module(f"{__package__}.handlers.{name}")
            for pattern, handler in module.routes:
                self.handlers.append((url_path_join(prefix, pattern), handler))

    async def _start_jupyter_server_extension(self, serverapp: ServerApp) -> None:
        """Once the server listens: start the assistant's warm-up (a daemon thread), if enabled."""
        if self.assistant_preload:
            from .assistant import preload

            self.assistant_preload_thread = preload.start(self.log)

    async def stop_extension(self) -> None:
        """Flush the working copy to the store before the server stops (also when culled), then
        close the stores' and the service client's connections."""
        assert self.serverapp is not None
        flush = getattr(self.serverapp.contents_manager, "flush_all", None)
        if flush is not None:
            self.log.info("Datadive: flushing local working copies to the store")
            await flush()
        close_stores = getattr(self.serverapp.contents_manager, "close_stores", None)
        if close_stores is not None:  # their HTTP sessions ("Unclosed client session" otherwise)
            await close_stores()
        client = getattr(self, "service_client", None)
        if client is not None:
            await client.close()
