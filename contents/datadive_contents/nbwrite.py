"""Notebook bytes for a save: byte-identical to nbformat, validated and signed once, cached per cell.

Saving a notebook the way Jupyter does costs, for a 1 MB notebook of 1,000 cells, ~70 ms of CPU
before any byte reaches storage: the notary's trust check and HMAC (``check_and_sign``), schema
validation, and ``nbformat.writes`` (a deep copy, line splitting, and the pure-Python JSON encoder
that ``indent=1`` forces). All of it is a function of each cell on its own plus the small rest of
the notebook, and between two saves of a notebook almost every cell is unchanged.

:class:`NotebookWriter` therefore keeps, per cell and keyed by the cell's value (its marshal bytes):
the notary's trust verdict, the cell's validity against the notebook schema, its text in the file
(nbformat's layout: indent 1, sorted keys, multi-line strings split) and its bytes in the
signature's input. A save then costs one marshal pass over the notebook plus the work for the
cells that changed; the notebook's bytes, validation result and HMAC are assembled from the
pieces. The skeleton (everything but the cells) goes through ``nbformat.validate`` itself.

Anything unusual takes nbformat's own path, so messages and repairs are nbformat's: not nbformat 4,
unknown top-level keys, cells without ids or with duplicate ids (nbformat repairs those), an
invalid cell or skeleton (for nbformat's exact error message), values JSON cannot encode, or a
notary other than nbformat's ``NotebookNotary``. ``tests/contents/test_nbwrite.py`` checks the
bytes, the validation results and the signatures against nbformat's.
"""

from __future__ import annotations

import hmac
import json
import marshal
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from itertools import compress, repeat
from operator import attrgetter, itemgetter
from typing import Any

import nbformat
from nbformat import sign as nbsign
from nbformat.notebooknode import NotebookNode
from nbformat.v4 import nbjson
from nbformat.v4.rwbase import split_lines, strip_transient
from nbformat.validator import get_validator

#: nbformat.v4.nbjson.JSONWriter.writes' settings
_DUMPS: dict[str, Any] = dict(
    cls=nbjson.BytesEncoder, indent=1, sort_keys=True, separators=(",", ": "), ensure_ascii=False
)
#: cache key of a cell made of plain dict/list/str/int/float/bool/None (what the contents API's
#: JSON parser gives): marshal format 2 (no back-references, so no dependence on reference
#: counts; exact types: True and 1, 1.0 and 1 differ; ~10x faster than the JSON encoder).
#: Other mappings (NotebookNode) are keyed by their compact JSON (C encoder).
_MARSHAL_VERSION = 2
_KEY = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)


#: ``prepare_if_cheap`` limits: work that fits in a couple of milliseconds on the event loop
INLINE_MAX_BYTES = 4 << 20
INLINE_MAX_NEW_CELLS = 8
_DEFER = object()
_TEXT, _SIG, _TRUSTED = attrgetter("text"), attrgetter("sig"), attrgetter("trusted")
_ID = itemgetter("id")


def _cell_keys(cells: list[Any]) -> list[Any]:
    """One cache key per cell, computed in C (map, no Python frame per cell)."""
    try:
        return list(map(marshal.dumps, cells, repeat(_MARSHAL_VERSION, len(cells))))
    except ValueError:  # a dict subclass somewhere (NotebookNode): the cells' JSON
        return list(map(_KEY.encode, cells))


_ENCODER = nbjson.BytesEncoder(**{k: v for k, v in _DUMPS.items() if k != "cls"})
_TOP = frozenset({"cells", "metadata", "nbformat", "nbformat_minor"})
_TRANSIENT_META = ("orig_nbformat", "orig_nbformat_minor", "signature")
_SENTINEL = "\x00datadive-cells\x00"
_SENTINEL_JSON = json.dumps(_SENTINEL)
_FIRST = "\n  "  # what precedes the first cell in the file (after "cells": [)


@dataclass
class Prepared:
    """What a save needs: the file's bytes and what check_and_sign + validation decided."""

    data: bytes
    #: nbformat's ``capture_validation_error`` dict: ``{"ValidationError": e}`` when invalid
    validation_error: dict[str, Any] = field(default_factory=dict)
    #: the notary's check_cells verdict (False: "Notebook ... is not trusted")
    trusted: bool = False
    #: the signature to store in the notary's database (None: not trusted, or nbformat < 3);
    #: on the cached path it is computed by ``signature()`` from ``sign_input``
    digest: str | None = None
    #: True when built from the per-cell cache path (False: nbformat's own path)
    fast: bool = False
    #: cells answered from the cache without any work
    cached_cells: int = 0
    #: (cached path) the pieces of the notary's HMAC input, in order, and its key, for
    #: ``signature()``
    sign_input: list[bytes] | None = None
    sign_key: tuple[Any, ...] | None = None

    def signature(self) -> str | None:
        """The notary's signature (HMAC over ~the notebook's size: call it off the event loop)."""
        if self.digest is None and self.sign_input is not None and self.sign_key is not None:
            secret, digestmod = self.sign_key
            h = hmac.new(secret, digestmod=digestmod)
            deque(map(h.update, self.sign_input), 0)
            self.digest = h.hexdigest()
            self.sign_input = None
        return self.digest


class _Cell:
    """One cell as it goes into the file and into the signature (it passed validation)."""

    __slots__ = ("sig", "size", "text", "trusted")

    def __init__(self, text: bytes, sig: bytes, trusted: bool, size: int) -> None:
        self.text, self.sig, self.trusted, self.size = text, sig, trusted, size


class NotebookWriter:
    """Turns a notebook model's content into the bytes to store (thread-safe).

    ``notary`` is the ContentsManager's ``NotebookNotary`` (only its secret, algorithm and trust
    rules are used here; storing the signature is the caller's job). ``max_bytes`` bounds the
    cache (keys + texts + signature inputs), least recently used cells are dropped first.
    """

    def __init__(self, notary: nbsign.NotebookNotary, max_bytes: int = 64 << 20) -> None:
        self.notary = notary
        self.max_bytes = max_bytes
        self._plain_notary = type(notary) is nbsign.NotebookNotary
        # read once here (the secret may be loaded from / created in a file)
        self._secret = notary.secret
        self._digestmod = notary.digestmod
        #: nbformat_minor → cell key → _Cell, least recently used first
        self._cells: dict[int, OrderedDict[bytes | str, _Cell]] = {}
        self._bytes = 0
        self._lock = threading.Lock()

    # -- public ----------------------------------------------------------------------------
    def prepare(self, content: Any) -> Prepared:
        """Bytes, validation result and signature of ``content`` (a notebook dict)."""
        try:
            fast = self._fast(content, inline=False)
        except Exception:  # anything unexpected: nbformat decides (and reports)
            fast = None
        return fast if isinstance(fast, Prepared) else self.nbformat_path(content)

    def prepare_if_cheap(self, content: Any) -> Prepared | None:
        """``prepare`` when it is cheap enough to run on the event loop — the notebook is at
        most ``INLINE_MAX_BYTES`` and at most ``INLINE_MAX_NEW_CELLS`` cells are not cached
        (an edit, then a save: ~2 ms for 1 MB) — else None: call ``prepare`` in a thread."""
        try:
            fast = self._fast(content, inline=True)
        except Exception:
            return None
        return fast if isinstance(fast, Prepared) else None

    def nbformat_path(self, content: Any) -> Prepared:
        """nbformat's own path: from_dict, check_cells + compute_signature, writes (validates)."""
        nb = nbformat.from_dict(content)
        trusted, digest = False, None
        try:
            trusted = bool(self.notary.check_cells(nb))
            if trusted and nb.nbformat >= 3:
                digest = self.notary.compute_signature(nb)
        except Exception:  # a notebook the notary cannot read is saved, unsigned
            trusted, digest = False, None
        validation_error: dict[str, Any] = {}
        text = nbformat.writes(
            nb, version=nbformat.NO_CONVERT, capture_validation_error=validation_error
        )
        return Prepared(text.encode("utf-8"), validation_error, trusted, digest)

    def clear(self) -> None:
        with self._lock:
            self._cells.clear()
            self._bytes = 0

    # -- the cached path ---------------------------------------------------------------------
    def _fast(self, content: Any, inline: bool) -> Prepared | None | object:
        if not self._plain_notary or not isinstance(content, dict) or content.keys() != _TOP:
            return None
        if type(content["nbformat"]) is not int or content["nbformat"] != 4:
            return None
        minor = content["nbformat_minor"]
        cells, meta = content["cells"], content["metadata"]
        if type(minor) is not int or type(cells) is not list or not isinstance(meta, dict):
            return None
        validator = get_validator(4, minor)
        if validator is None:
            return None
        if minor >= 5:  # nbformat adds missing ids and replaces duplicates (with warnings)
            ids = list(map(_ID, cells))
            if len(set(ids)) != len(ids):
                return None
        keys = _cell_keys(cells)
        if inline and sum(map(len, keys)) > INLINE_MAX_BYTES:
            return _DEFER
        with self._lock:
            cache = self._cells.setdefault(minor, OrderedDict())
            found = list(map(cache.get, keys))
            nmiss = found.count(None)
            hit_keys = keys if not nmiss else list(compress(keys, found))
            deque(map(cache.move_to_end, hit_keys), 0)  # most recently used
        hits = len(cells) - nmiss
        if inline and nmiss > INLINE_MAX_NEW_CELLS:
            return _DEFER
        if nmiss:
            missing = [i for i, e in enumerate(found) if e is None]
            made = self._cells_for([cells[i] for i in missing], minor, validator)
            if made is None:
                return None  # an invalid cell: nbformat's path gives the exact message
            new = []
            for i, e in zip(missing, made, strict=True):
                e.size += len(keys[i])
                found[i] = e
                new.append((keys[i], e))
            self._remember(minor, new)
        entries: list[_Cell] = found  # type: ignore[assignment]
        # the rest of the notebook goes through nbformat's own validate (cells=[]): one call
        skeleton = {"cells": [], "metadata": meta, "nbformat": 4, "nbformat_minor": minor}
        validation_error: dict[str, Any] = {}
        try:
            nbformat.validate(skeleton)
        except nbformat.ValidationError:
            return None
        # check_and_sign: sign when every code cell passes the trust check
        trusted = all(map(_TRUSTED, entries))
        sign_input = None
        if trusted:
            parts: list[bytes] = []
            for key in sorted(content):
                parts.append(key.encode())
                if key == "cells":
                    parts.extend(map(_SIG, entries))
                elif key == "metadata":  # signature_removed()
                    parts.extend(
                        nbsign.yield_everything({k: v for k, v in meta.items() if k != "signature"})
                    )
                else:
                    parts.extend(nbsign.yield_everything(content[key]))
            sign_input = parts  # hashed later, by signature(), off the save's path
        # writes(): the skeleton with transient metadata stripped, the cells' texts spliced in
        wmeta = {k: v for k, v in meta.items() if k not in _TRANSIENT_META}
        skel = {
            "cells": [_SENTINEL] if entries else [],
            "metadata": wmeta,
            "nbformat": 4,
            "nbformat_minor": minor,
        }
        text = json.dumps(skel, **_DUMPS)
        if entries:
            # "cells" sorts first, so the first occurrence of the sentinel is the placeholder
            head, sep, tail = text.partition(_SENTINEL_JSON)
            if not sep or not head.endswith(_FIRST):
                return None
            # each cached text starts with the separator ",\n  "; the first cell's with "\n  "
            pieces = [head[: -len(_FIRST)].encode("utf-8"), entries[0].text[1:]]
            pieces.extend(map(_TEXT, entries[1:]))
            pieces.append(tail.encode("utf-8"))
            data = b"".join(pieces)  # one copy of the notebook's bytes
        else:
            data = text.encode("utf-8")
        return Prepared(
            data,
            validation_error,
            trusted,
            None,
            True,
            hits,
            sign_input,
            (self._secret, self._digestmod),
        )

    def _cells_for(self, cells: list[Any], minor: int, validator: Any) -> list[_Cell] | None:
        """Trust verdict, file text and signature bytes of ``cells`` (None if one is invalid)."""
        # from_dict copies every container (NotebookNode, as nbformat's own path has them)
        copies = [nbformat.from_dict(c) for c in cells]
        out = []
        for c in copies:
            # NotebookNotary.check_cells → _check_cell pops "trusted" from code cells
            trusted = self.notary._check_cell(c, 4) if c["cell_type"] == "code" else True
            out.append(_Cell(b"", b"".join(nbsign.yield_everything(c)), trusted, 0))
        # schema validation of all of them in one call (cells are validated independently)
        batch = {"cells": copies, "metadata": {}, "nbformat": 4, "nbformat_minor": minor}
        if next(iter(validator.iter_errors(batch)), None) is not None:
            return None
        # JSONWriter.writes: split_lines, strip_transient, json.dumps(indent=1); a cell sits at
        # depth 2 in the file (JSON strings never hold a raw newline)
        strip_transient(split_lines(NotebookNode(cells=copies, metadata=NotebookNode())))
        for c, e in zip(copies, out, strict=True):
            e.text = b",\n  " + _ENCODER.encode(c).replace("\n", "\n  ").encode("utf-8")
            e.size = len(e.text) + len(e.sig)
        return out

    def _remember(self, minor: int, new: list[tuple[bytes | str, _Cell]]) -> None:
        with self._lock:
            cache = self._cells.setdefault(minor, OrderedDict())
            for k, e in new:
                if k in cache:
                    continue
                cache[k] = e
                self._bytes += e.size
            # other nbformat minors' cells go first, then this one's least recently used
            for other in (*(c for m, c in self._cells.items() if m != minor), cache):
                while self._bytes > self.max_bytes and other:
                    _, old = other.popitem(last=False)
                    self._bytes -= old.size
