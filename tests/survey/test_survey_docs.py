"""docs/survey-data.md keeps up with the codebook schema, the levels and the size setting."""

from __future__ import annotations

from pathlib import Path

from datadive_server_ext.app import DatadiveExtension
from datadive_server_ext.survey import LEVELS
from datadive_server_ext.survey.codebook import schema

DOC = (Path(__file__).resolve().parents[2] / "docs" / "survey-data.md").read_text()


def test_every_codebook_field_and_level_is_documented():
    fields = schema()["$defs"]["column"]["properties"]
    missing = [f for f in fields if f"`{f}`" not in DOC]
    assert not missing, f"docs/survey-data.md does not explain codebook fields {missing}"
    assert all(f"`{level}`" in DOC for level in LEVELS)


def test_size_setting_is_documented_with_its_default():
    trait = DatadiveExtension.class_traits()["codebook_max_data_mb"]
    assert f"DatadiveExtension.codebook_max_data_mb` megabytes (default {trait.default():g})" in DOC
