"""docs/assistant.md shows every test of the decision table and the exact CLI keys."""

from __future__ import annotations

from pathlib import Path

from datadive_server_ext.assistant import ANSWER_KEYS, table

DOC = (Path(__file__).resolve().parents[2] / "docs" / "assistant.md").read_text(encoding="utf-8")


def test_every_test_of_the_decision_table_is_documented():
    for test_id in table()["tests"]:
        assert f"(`{test_id}`)" in DOC, test_id


def test_the_cli_keys_are_documented_in_order():
    at = [DOC.index(f"`{k}`", DOC.index("--json` prints exactly")) for k in ANSWER_KEYS]
    assert at == sorted(at)
