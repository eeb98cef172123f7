"""The test assistant: from a question and the data to the textbook test, its assumption checks,
an APA result and a cell that reproduces it (``docs/assistant.md``).

Entry points: :func:`assist_file` (CLI and route), :func:`assist` (a data frame),
:func:`recheck` (a written cell against the current data).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .analysis import ANSWER_KEYS, assist, table
from .data import Reader, file_version, is_qualtrics_csv, read_table
from .design import FIELDS, AssistError, Question
from .report import apa_line, format_p

__all__ = [
    "ANSWER_KEYS",
    "FIELDS",
    "AssistError",
    "Question",
    "apa_line",
    "assist",
    "assist_file",
    "format_p",
    "read_table",
    "recheck",
    "table",
]


def assist_file(
    path: str | Path,
    question: Question | dict[str, Any],
    shown_path: str | None = None,
    reader: Reader | None = None,
) -> dict[str, Any]:
    """Answer ``question`` on the data file at ``path``; the cell loads it as ``shown_path``."""
    q = question if isinstance(question, Question) else Question.from_dict(question)
    try:
        import pingouin  # noqa: F401
        import scipy  # noqa: F401
    except ImportError as e:
        raise AssistError(
            f"The assistant needs the analysis packages ({e.name} is missing); install "
            "datadive[analysis] in this server's environment"
        ) from None
    df = read_table(path, reader=reader)
    shown = shown_path if shown_path is not None else str(path)
    qualtrics = Path(path).suffix.lower() == ".csv" and is_qualtrics_csv(Path(path))
    source = path if reader is None else None  # a reader of one's own: no survey loading code
    return assist(df, q, shown, file_version(path, shown), qualtrics=qualtrics, source=source)


def recheck(
    metadata: dict[str, Any], path: str | Path, shown_path: str | None = None
) -> dict[str, Any]:
    """Re-run a written cell's question on the current data: ``{changed, message, answer}``
    (``changed``: the recommended test is not the one in the cell)."""
    if not isinstance(metadata, dict) or not isinstance(metadata.get("inputs"), dict):
        raise AssistError(
            "This is not a cell the assistant wrote: its metadata has no datadive.assistant "
            "inputs; insert the analysis again"
        )
    before = metadata.get("test")
    old = metadata.get("data") or {}
    shown = shown_path if shown_path is not None else old.get("path", str(path))
    answer = assist_file(path, metadata["inputs"], shown_path=shown)
    now = answer["cell"]["metadata"]["datadive"]["assistant"]["data"]
    data_changed = old.get("sha256") != now["sha256"]
    changed = answer["test"] != before
    name = table()["tests"]
    was = name.get(before, {}).get("name", before)
    if changed:
        message = (
            f"The data {'changed' if data_changed else 'was re-checked'} and the checks now "
            f"recommend {answer['test_name']} instead of {was}; replace the cell with the new one."
        )
    elif data_changed:
        message = (
            f"The data changed since the cell was written; the checks still recommend {was}. "
            "Re-run the cell for the new numbers."
        )
    else:
        message = f"The data is unchanged; {was} is still the recommended test."
    return {"changed": changed, "data_changed": data_changed, "message": message, "answer": answer}
