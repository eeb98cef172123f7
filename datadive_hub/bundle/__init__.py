"""Reproducibility bundles: a project (or one of its snapshots) as an RO-Crate zip, and its check.

- :mod:`.crate`: the bundle's layout and its RO-Crate metadata (writing and reading, checked);
- :mod:`.export`: ``datadive bundle export``: the exact file versions from the service;
- :mod:`.outputs`: how a re-run cell's outputs are compared with the recorded ones;
- :mod:`.verify`: ``datadive bundle verify``: re-runs the notebooks in a clean kernel;
- :mod:`.cli`: the command line.

See docs/history.md ("Bundles").
"""
