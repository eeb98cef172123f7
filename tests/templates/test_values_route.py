"""``datadive/api/values/<path>?column=``: the values the panel's group pickers offer, read from the
real file by a real jupyter server (the ``jupyter_server`` fixture)."""

from __future__ import annotations

from urllib.parse import quote

import pandas as pd
import pytest


def values(server, path: str, column: str | None, token: str | None = None):
    query = "" if column is None else f"?column={quote(column)}"
    return server.request("GET", f"datadive/api/values/{quote(path)}{query}", token=token)


@pytest.fixture(scope="module")
def study(jupyter_server):
    folder = jupyter_server.root / "My study"
    folder.mkdir()
    (folder / "survey.csv").write_text(
        "participant,group,score,smoker\n"
        "p1,treatment,7.5,yes\n"
        "p2,control,6.0,no\n"
        "p3,Treatment,8.25,\n"
        "p4,control,5.5,yes\n"
        "p5,treatment,10,no\n"
    )
    return "My study"


def test_values_in_natural_order_with_counts_and_missing(jupyter_server, study):
    code, body = values(jupyter_server, f"{study}/survey.csv", "group")
    assert code == 200, body
    # "Treatment" and "treatment" are different values in the data: both offered, as they are
    assert body["values"] == ["control", "treatment", "Treatment"]
    assert body["counts"] == [2, 2, 1]
    assert body["truncated"] is False and body["missing"] == 0 and body["rows"] == 5

    code, body = values(jupyter_server, f"{study}/survey.csv", "smoker")
    assert body["values"] == ["no", "yes"] and body["missing"] == 1

    code, body = values(jupyter_server, f"{study}/survey.csv", "score")
    assert body["values"] == [5.5, 6, 7.5, 8.25, 10]  # numbers ascending, whole ones as ints


def test_many_distinct_values_are_truncated_to_the_most_frequent(jupyter_server, study):
    rows = ["id,site"] + [f"r{i},{'main' if i % 2 else f's{i}'}" for i in range(1400)]
    (jupyter_server.root / study / "big.csv").write_text("\n".join(rows) + "\n")
    code, body = values(jupyter_server, f"{study}/big.csv", "site")
    assert code == 200
    assert body["truncated"] is True and len(body["values"]) == 500
    assert "main" in body["values"] and body["counts"][body["values"].index("main")] == 700


def test_qualtrics_header_rows_are_not_values(jupyter_server, study):
    (jupyter_server.root / study / "qualtrics.csv").write_text(
        "ResponseId,Q1\n"
        '"Response ID","Do you smoke?"\n'
        '"{""ImportId"":""_recordId""}","{""ImportId"":""QID1""}"\n'
        "R_1,Yes\nR_2,No\nR_3,Yes\n"
    )
    code, body = values(jupyter_server, f"{study}/qualtrics.csv", "Q1")
    assert code == 200, body
    assert body["values"] == ["No", "Yes"] and body["counts"] == [1, 2]


def test_excel_and_spss_files(jupyter_server, study):
    frame = pd.DataFrame({"arm": ["a", "b", "a"], "dose": [1.0, 2.0, 1.0]})
    frame.to_excel(jupyter_server.root / study / "arms.xlsx", index=False)
    code, body = values(jupyter_server, f"{study}/arms.xlsx", "arm")
    assert code == 200, body
    assert body["values"] == ["a", "b"] and body["counts"] == [2, 1]

    pyreadstat = pytest.importorskip("pyreadstat", reason="pyreadstat is in requirements/base")
    pyreadstat.write_sav(
        frame,
        str(jupyter_server.root / study / "arms.sav"),
        variable_value_labels={"dose": {1.0: "low", 2.0: "high"}},
    )
    code, body = values(jupyter_server, f"{study}/arms.sav", "dose")
    assert code == 200, body
    assert body["values"] == [1, 2]  # the codes; the codebook carries their labels


def test_clear_errors(jupyter_server, study):
    code, body = values(jupyter_server, f"{study}/survey.csv", "Group")
    assert code == 404 and "No column 'Group'" in body["message"]
    assert "group" in body["message"]  # lists the columns there are
    code, body = values(jupyter_server, f"{study}/survey.csv", None)
    assert code == 400 and "?column=" in body["message"]
    code, body = values(jupyter_server, f"{study}/absent.csv", "group")
    assert code == 404
    (jupyter_server.root / study / "notes.md").write_text("# notes\n")
    code, body = values(jupyter_server, f"{study}/notes.md", "group")
    assert code == 415 and ".csv" in body["message"]
    (jupyter_server.root / study / "broken.xlsx").write_bytes(b"not a workbook")
    code, body = values(jupyter_server, f"{study}/broken.xlsx", "group")
    assert code == 400 and "Could not read the file" in body["message"]


def test_paths_outside_the_root_are_refused(jupyter_server, study, tmp_path_factory):
    outside = jupyter_server.root.parent / "secret.csv"
    outside.write_text("password\nhunter2\n")
    for path in ["../secret.csv", f"{quote(study)}/../../secret.csv", "%2e%2e/secret.csv"]:
        code, body = jupyter_server.request("GET", f"datadive/api/values/{path}?column=password")
        assert code in (400, 404), (path, code, body)
        assert "hunter2" not in str(body)
    code, body = jupyter_server.request("GET", f"datadive/api/values/{outside}?column=password")
    assert code in (400, 404) and "hunter2" not in str(body)


def test_values_need_authentication(jupyter_server, study):
    code, body = values(jupyter_server, f"{study}/survey.csv", "group", token="wrong")
    assert code in (401, 403) and "treatment" not in str(body)


def test_missing_codes_of_the_saved_codebook_are_not_values(jupyter_server, study):
    (jupyter_server.root / study / "coded.csv").write_text("id,arm\n1,1\n2,2\n3,-99\n4,1\n5,-99\n")
    path = f"{quote(study)}/coded.csv"
    code, body = values(jupyter_server, f"{study}/coded.csv", "arm")
    assert code == 200 and body["values"] == [-99, 1, 2]  # no codebook yet: -99 is a value
    code, current = jupyter_server.request("GET", f"datadive/api/codebook/{path}")
    assert code == 200, current
    for column in current["codebook"]["columns"]:
        if column["name"] == "arm":
            column["missing"] = [-99]
    code, saved = jupyter_server.request(
        "PUT",
        f"datadive/api/codebook/{path}",
        body={"codebook": current["codebook"], "hash": current["hash"]},
    )
    assert code == 200, saved
    code, body = values(jupyter_server, f"{study}/coded.csv", "arm")
    assert body["values"] == [1, 2] and body["counts"] == [2, 1] and body["missing"] == 2
