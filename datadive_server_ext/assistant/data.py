"""Reading the data file and its version. SPSS files, Qualtrics exports and any file with a
codebook saved beside it go through the survey reader (the codebook's levels and missing codes
apply) when it is installed; other CSV / Excel files are read with pandas."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from .design import AssistError

if TYPE_CHECKING:
    import pandas as pd

SURVEY_SUFFIXES = {".sav", ".zsav", ".por", ".qsf"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}

Reader = Callable[[str], Any]


def _survey() -> ModuleType | None:
    import importlib

    try:
        return importlib.import_module("datadive_server_ext.survey")
    except ImportError:
        return None


def survey_reader() -> Reader | None:
    """``datadive_server_ext.survey.read_table`` when that package is installed and can also
    write the same loading as pandas lines (``read_code``), so the cell agrees; else None."""
    survey = _survey()
    if survey is None or not hasattr(survey, "read_table") or not hasattr(survey, "read_code"):
        return None
    reader: Reader = survey.read_table
    return reader


def uses_survey(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is read through the survey reader: it is installed and the file is SPSS /
    Qualtrics (.sav, .qsf, a Qualtrics CSV export) or has a ``<file>.codebook.json`` beside it."""
    survey = _survey()
    if survey is None or survey_reader() is None:
        return False
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in SURVEY_SUFFIXES:
        return True
    if hasattr(survey, "codebook_path") and Path(survey.codebook_path(p)).is_file():
        return True
    return suffix in (".csv", ".tsv", ".txt") and p.is_file() and is_qualtrics_csv(p)


def read_table(path: str | os.PathLike[str], reader: Reader | None = None) -> pd.DataFrame:
    """The data frame in ``path``. ``reader(path) -> (df, codebook)`` (or a bare frame) is used
    when given, else the survey reader for the files :func:`uses_survey` names."""
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise AssistError(f"No data file {str(path)!r}; check the path (it is case-sensitive)")
    suffix = p.suffix.lower()
    if reader is None and uses_survey(p):
        reader = survey_reader()
    elif reader is None and suffix in SURVEY_SUFFIXES:  # no survey reader installed
        if suffix in (".sav", ".zsav"):
            return _read_sav(p)
        raise AssistError(
            f"{p.name}: reading {suffix} files needs the survey reader "
            "(datadive_server_ext.survey); export the data as CSV or .sav instead"
        )
    try:
        if reader is not None:
            out = reader(str(p))
            df = out[0] if isinstance(out, tuple) else out
        elif suffix in EXCEL_SUFFIXES:
            df = pd.read_excel(p)
        elif suffix in (".csv", ".txt", ".tsv"):
            df = pd.read_csv(
                p,
                sep="\t" if suffix == ".tsv" else ",",
                skiprows=[1, 2] if is_qualtrics_csv(p) else None,
            )
        else:
            raise AssistError(
                f"{p.name}: the assistant reads CSV, Excel (.xlsx), SPSS (.sav) and Qualtrics "
                "exports; save the data in one of those"
            )
    except AssistError:
        raise
    except Exception as e:  # a malformed file: say which and why
        raise AssistError(f"Could not read {p.name}: {e}") from None
    if df is None or len(df.columns) == 0:
        raise AssistError(f"{p.name} has no columns; is it the right file?")
    return df


def _read_sav(p: Path) -> pd.DataFrame:
    """SPSS without the survey package: value labels applied (categories ordered by their
    codes, so Likert items are ordinal), user-missing codes as NA."""
    try:
        import pyreadstat
    except ImportError:
        raise AssistError(
            f"{p.name}: reading SPSS files needs pyreadstat; export the data as CSV instead"
        ) from None
    try:
        df, meta = pyreadstat.read_sav(str(p))  # user-missing codes become NA
    except Exception as e:
        raise AssistError(f"Could not read {p.name}: {e}") from None
    import pandas as pd

    for col, labels in meta.variable_value_labels.items():
        df[col] = pd.Categorical(
            df[col].map(labels),
            categories=[labels[k] for k in sorted(labels)],
            ordered=meta.variable_measure.get(col) != "nominal",
        )
    return df


def is_qualtrics_csv(p: Path) -> bool:
    """A Qualtrics CSV export: the question texts and ImportId JSON are rows 2 and 3."""
    with open(p, encoding="utf-8-sig", errors="replace") as f:
        head = [f.readline() for _ in range(3)]
    return head[2].startswith('"{""ImportId""') or head[2].startswith('{"ImportId"')


def file_version(path: str | os.PathLike[str], shown_path: str | None = None) -> dict[str, Any]:
    """``{path, sha256, size, mtime}`` of the data file (recorded in the cell's metadata)."""
    p = Path(path)
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    st = p.stat()
    return {
        "path": shown_path if shown_path is not None else str(path),
        "sha256": h.hexdigest(),
        "size": st.st_size,
        "mtime": datetime.fromtimestamp(st.st_mtime, UTC).isoformat(),
    }


def read_code(
    path: str, qualtrics: bool = False, source: str | os.PathLike[str] | None = None
) -> list[str]:
    """pandas lines that load ``path`` into ``df`` in a clean kernel (no Datadive import), the
    frame :func:`read_table` gives. ``path`` is how the cell names the file (relative to the
    notebook); ``source`` is where the file is now: the survey package writes the lines when
    it reads ``source`` (:func:`uses_survey`)."""
    suffix = Path(path).suffix.lower()
    survey = _survey() if source is not None and uses_survey(source) else None
    if survey is not None:
        return list(survey.read_code(source, shown_path=path))
    if suffix in (".sav", ".zsav"):
        return [
            "import pyreadstat",
            f"df, meta = pyreadstat.read_sav({path!r})  # user-missing codes become NA",
            "for col, labels in meta.variable_value_labels.items():  # labels, ordered by code",
            "    df[col] = pd.Categorical(df[col].map(labels), categories=[labels[k] for k in "
            "sorted(labels)], ordered=meta.variable_measure.get(col) != 'nominal')",
        ]
    if suffix in EXCEL_SUFFIXES:
        return [f"df = pd.read_excel({path!r})"]
    extra = ', sep="\\t"' if suffix == ".tsv" else ""
    if qualtrics:  # rows 2 and 3 of a Qualtrics export hold question texts and ImportIds
        return [f"df = pd.read_csv({path!r}{extra}, skiprows=[1, 2])"]
    return [f"df = pd.read_csv({path!r}{extra})"]
