"""The ordinary notebook cell the assistant inserts: pandas + pingouin/scipy, no Datadive import."""

from __future__ import annotations

import inspect
from typing import Any

from . import effects, report
from .data import read_code
from .run import HELPERS, IMPORTS

BASE_HELPERS = ["apa_p", "apa_num", "apa_df"]


def helper_source(names: list[str]) -> str:
    """The source of the self-contained helpers the cell uses."""
    out = []
    for name in names:
        fn = getattr(report, name, None) or getattr(effects, name)
        out.append(inspect.getsource(fn).rstrip())
    return "\n\n\n".join(out)


def cell_source(
    test: str, test_name: str, data_path: str, prep_code: list[str], lines: list[str], **kw: Any
) -> str:
    """The whole cell: imports, helpers, loading, the same preparation steps, the test, output.
    ``source``: where the data file is now (``data_path`` is how the cell names it)."""
    imports = ["import pandas as pd", "import pingouin as pg", *IMPORTS.get(test, [])]
    parts = [
        f"# {test_name} (written by the Datadive assistant; runs without Datadive)",
        "\n".join(sorted(imports, key=lambda s: (s.startswith("from"), s))),
        helper_source(BASE_HELPERS + HELPERS[test]),
        "\n".join(read_code(data_path, kw.get("qualtrics", False), kw.get("source")) + prep_code),
        "\n".join(
            [
                *lines,
                "print(res.to_string())",
                "if post_hoc is not None:",
                "    print(post_hoc.to_string())",
                "print(apa)",
            ]
        ),
    ]
    return "\n\n".join(p for p in parts if p) + "\n"


def cell(source: str, test: str, inputs: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """``{"source", "metadata"}`` of the cell; metadata records the inputs and data version."""
    return {
        "source": source,
        "metadata": {"datadive": {"assistant": {"test": test, "inputs": inputs, "data": data}}},
    }
