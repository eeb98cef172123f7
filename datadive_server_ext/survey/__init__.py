"""Survey data with its metadata: codebooks for Qualtrics exports (+ ``.qsf``), SPSS ``.sav`` and
plain CSV / Excel, stored beside the data as ``<file>.codebook.json``, applied as a labelled data
frame. Pure Python: the CLI, the server extension and the service import it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .codebook import (
    LEVELS,
    Codebook,
    CodebookInvalid,
    Column,
    SurveyError,
    ValueLabel,
    codebook_path,
)
from .labelled import apply_codebook
from .loadcode import read_code

__all__ = [
    "LEVELS",
    "Codebook",
    "CodebookInvalid",
    "Column",
    "SurveyError",
    "ValueLabel",
    "apply_codebook",
    "build_codebook",
    "codebook_path",
    "load_codebook",
    "read_code",
    "read_raw",
    "read_table",
]

SPSS_SUFFIXES = (".sav", ".zsav")
TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
SUFFIXES = SPSS_SUFFIXES + TEXT_SUFFIXES + EXCEL_SUFFIXES


def check_suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".qsf":
        raise SurveyError(
            f"{path.name} is the survey definition; open the CSV export of the responses (the "
            ".qsf beside it is used for question types and labels)"
        )
    if suffix not in SUFFIXES:
        raise SurveyError(
            f"{path.name}: survey data must be a CSV, TSV, Excel or SPSS .sav file "
            f"({', '.join(SUFFIXES)})"
        )
    return suffix


def build_codebook(path: str | Path) -> tuple[pd.DataFrame, Codebook]:
    """The raw data (codes as stored, user-missing codes not yet NA) and the codebook read from
    the file's own metadata, or inferred from its values."""
    from . import infer, qualtrics, spss

    path = Path(path)
    suffix = check_suffix(path)
    if not path.is_file():
        raise SurveyError(f"No such data file: {path}")
    if suffix in SPSS_SUFFIXES:
        return spss.read(path)
    if suffix in TEXT_SUFFIXES:
        if qualtrics.is_export(path):
            return qualtrics.read(path)
        sep = "\t" if suffix == ".tsv" else ","
        try:
            df = pd.read_csv(path, sep=sep, encoding="utf-8-sig", low_memory=False)
        except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
            raise SurveyError(
                f"{path.name} is not a readable CSV file ({e}); save it as UTF-8 CSV"
            ) from None
        options = {"sep": sep, "encoding": "utf-8-sig"}
        return df, infer.infer_codebook(
            df, {"format": "csv", "file": path.name, "definition": None, "read_options": options}
        )
    try:
        df = pd.read_excel(path, sheet_name=0)
    except (ValueError, ImportError, OSError) as e:
        raise SurveyError(f"{path.name} is not a readable Excel file ({e})") from None
    return df, infer.infer_codebook(
        df,
        {
            "format": "excel",
            "file": path.name,
            "definition": None,
            "read_options": {"sheet_name": 0},
        },
    )


def load_codebook(path: str | Path) -> tuple[Codebook | None, str | None]:
    """The stored codebook beside ``path`` and its text, or (None, None) when there is none."""
    stored = Path(codebook_path(path))
    if not stored.is_file():
        return None, None
    text = stored.read_text(encoding="utf-8")
    try:
        return Codebook.loads(text), text
    except CodebookInvalid as e:
        raise CodebookInvalid(e.field, e.message, file=stored.name) from None


def read_raw(path: str | Path) -> tuple[pd.DataFrame, Codebook]:
    """The data as stored and its codebook (the stored one when it exists, else built now)."""
    df, built = build_codebook(path)
    stored, _ = load_codebook(path)
    return df, stored or built


def read_table(
    path: str | Path, labelled: bool = True, keep_personal: bool = True
) -> tuple[pd.DataFrame, Codebook]:
    """``(data frame, codebook)`` for a Qualtrics export, SPSS ``.sav``, CSV or Excel file, using
    the codebook stored beside it when there is one. The frame is labelled (missing codes as NA,
    labelled nominal / ordinal columns as categoricals, ordinal ones ordered); with
    ``labelled=False`` only the missing codes become NA and the values stay codes."""
    df, codebook = read_raw(path)
    if labelled:
        return apply_codebook(df, codebook, keep_personal=keep_personal), codebook
    from .labelled import missing_to_na

    out = df.copy()
    for col in codebook.columns:
        if col.name in out.columns:
            out[col.name] = missing_to_na(out[col.name], col)
    if not keep_personal:
        out = out.drop(columns=[c for c in codebook.personal_data() if c in out.columns])
    return out, codebook
