"""Project environments: the packages a project needs, locked with uv, built once and cached.

- :mod:`.spec`: the requirements and lock files (format, validation, edits)
- :mod:`.uvcli`: running uv with the admin's package sources; uv's errors explained
- :mod:`.lock`: requirements → lock (``uv pip compile``)
- :mod:`.build`: lock → environment, cached by the lock's hash, built atomically
- :mod:`.kernelspec`: the project's "Python (<project>)" kernel and its state file
- :mod:`.launch`: the kernel launcher (picks the environment of the current lock)
- :mod:`.piprecord`: ``%pip install`` in a project kernel, recorded in the project
- :mod:`.defaultkernel`: project notebooks start with the project kernel
- :mod:`.prune`: removing unused environments from the cache
- :mod:`.service`: status, builds in the background, for the server extension's routes

See docs/environments.md.
"""
