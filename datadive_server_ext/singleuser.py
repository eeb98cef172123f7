"""Start a Datadive user server: ``jupyterhub-singleuser``, minus a grammar nobody uses.

``jupyter_server`` imports ``jsonschema`` (through ``nbformat`` and ``jupyter-events``), which
imports ``rfc3987_syntax`` when it is installed, only to check the ``iri`` / ``iri-reference``
formats. Importing it builds a Lark grammar: 5-8 s of a server's start on a loaded 2-core machine
(docs/panel.md, "Sign-in to a usable JupyterLab"). Nothing a user server validates uses those
formats, so this launcher hides the module before anything imports ``jsonschema``; ``jsonschema``
then leaves the two formats unchecked, as it does when the package is not installed.

Run as ``python -m datadive_server_ext.singleuser`` (the local spawner) or ``datadive-singleuser``
(the chart's ``singleuser.cmd``); arguments are ``jupyterhub-singleuser``'s.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Run ``jupyterhub-singleuser`` with ``rfc3987_syntax`` hidden from ``jsonschema``."""
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    from jupyterhub.singleuser import main as singleuser_main

    sys.exit(singleuser_main())


if __name__ == "__main__":
    main()
