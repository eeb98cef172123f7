"""The requirements and lock files: what is accepted, what is refused and how it is said."""

from __future__ import annotations

import pytest

from datadive_server_ext.environments import spec


def test_add_replaces_the_line_of_the_same_package_and_keeps_comments():
    text = "# for the SEM chapter\nTinyPkg<2  # old\nother>=1\n"
    new, req = spec.add_package(text, "tinypkg==2.0")
    assert req.name == "tinypkg"
    assert new == "# for the SEM chapter\ntinypkg==2.0\nother>=1\n"
    assert spec.add_package("", "semopy>=2.3")[0] == "semopy>=2.3\n"


def test_remove_names_what_is_there_when_the_package_is_not():
    assert spec.remove_package("a\nb>=1\n", "B") == "a\n"
    assert spec.remove_package("a\n", "a") == ""
    with pytest.raises(spec.SpecError, match=r"'c' is not in requirements.txt.*a, b"):
        spec.remove_package("a\nb\n", "c")


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("git+https://github.com/x/y", "URLs and local paths are not allowed"),
        ("pkg @ https://x/y.whl", "URLs and local paths are not allowed"),
        ("./local-folder", "URLs and local paths are not allowed"),
        ("--index-url https://evil/simple", "pip options are not allowed"),
        ("-e .", "pip options are not allowed"),
        ("numpy >>> 3", "is not a package requirement"),
    ],
)
def test_refused_lines_say_which_line_and_what_to_write(line, says):
    with pytest.raises(spec.SpecError) as e:
        spec.parse_requirements(f"ok==1\n{line}\n")
    assert says in e.value.message
    assert "line 2" in e.value.message and "e.g. 'semopy>=2.3'" in e.value.message


def test_a_package_listed_twice_is_refused():
    with pytest.raises(spec.SpecError, match="lines 1 and 3 both name"):
        spec.parse_requirements("a>=1\nb\nA<3\n")


def test_requirements_digest_ignores_comments_and_order():
    assert spec.requirements_digest("a\n# x\nb>=1\n") == spec.requirements_digest("b >= 1\na\n")
    assert spec.requirements_digest("a\n") != spec.requirements_digest("a==1\n")


def test_lock_pins_with_comments_hashes_and_markers():
    text = (
        "# Locked by Datadive with uv from requirements.txt (sha256 " + "a" * 64 + ").\n"
        "tinydep==1.0\n    # via tinytop\n"
        "tinypkg==2.0 ; python_version >= '3.8' \\\n    --hash=sha256:abc\n"
    )
    pins = spec.parse_lock(text)
    assert [p.line() for p in pins] == ["tinydep==1.0", "tinypkg==2.0 ; python_version >= '3.8'"]
    assert spec.lock_source_digest(text) == "a" * 64
    reordered = "tinypkg==2.0 ; python_version >= '3.8'\ntinydep==1.0\n"
    assert spec.lock_digest(spec.parse_lock(reordered)) == spec.lock_digest(pins)


@pytest.mark.parametrize(
    "nonsense",
    ["tinypkg>=1.0\n", "tinypkg==1.0\nhello world\n", "tinypkg==not a version\n", "<<<<<<< HEAD\n"],
)
def test_a_lock_edited_into_nonsense_is_refused_with_the_fix(nonsense):
    with pytest.raises(spec.SpecError) as e:
        spec.parse_lock(nonsense)
    assert "is not a pin" in e.value.message
    assert "edit requirements.txt instead" in e.value.message


def test_a_lock_pinning_a_package_twice_is_refused():
    with pytest.raises(spec.SpecError, match="line 2 pins TinyPkg a second time"):
        spec.parse_lock("tinypkg==1.0\nTinyPkg==2.0\n")
