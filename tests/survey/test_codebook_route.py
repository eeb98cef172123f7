"""``datadive/api/codebook/<path>`` against a real jupyter server with the datadive extension."""

from __future__ import annotations

import copy
import hashlib
import json

import pytest
from survey_files import LIKERT, write_export, write_sav

MAX_MB = 0.05  # the server below reads at most 50 kB of data for a codebook


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from jpserver import JupyterServer

    root = tmp_path_factory.mktemp("root")
    data = root / "data"
    data.mkdir()
    from survey_files import qsf

    write_export(data / "survey.csv")
    (data / "survey.qsf").write_text(json.dumps(qsf()), encoding="utf-8")
    write_sav(data / "study.sav")
    (data / "big.csv").write_text("x,y\n" + "".join(f"{i},{i * 2}\n" for i in range(12000)))
    (root / "notes.ipynb").write_text("{}")
    srv = JupyterServer(
        root,
        tmp_path_factory.mktemp("jpserver"),
        args=[f"--DatadiveExtension.codebook_max_data_mb={MAX_MB}"],
    ).start()
    try:
        yield srv
    finally:
        srv.stop()


def url(path: str) -> str:
    return "datadive/api/codebook/" + path


def test_get_infers_then_put_stores_then_get_reads_it(server):
    code, got = server.request("GET", url("data/survey.csv"))
    assert code == 200, got
    assert got["path"] == "data/survey.csv" and got["stored"] is False and got["hash"] is None
    cb = got["codebook"]
    cols = {c["name"]: c for c in cb["columns"]}
    assert cb["source"]["definition"] == "survey.qsf"
    assert cols["Q3_1"]["level"] == "ordinal"
    assert [v["label"] for v in cols["Q3_1"]["values"]] == LIKERT
    assert cols["IPAddress"]["personal_data"] is True
    assert not (server.root / "data/survey.csv.codebook.json").exists()  # GET writes nothing

    cols["condition"]["personal_data"] = True
    cols["Q2"]["question"] = "Age in years"
    code, put = server.request("PUT", url("data/survey.csv"), {"codebook": cb, "hash": None})
    assert code == 200, put
    on_disk = (server.root / "data/survey.csv.codebook.json").read_bytes()
    assert put["stored"] is True and put["hash"] == hashlib.sha256(on_disk).hexdigest()
    assert json.loads(on_disk)["columns"] == cb["columns"]

    code, again = server.request("GET", url("data/survey.csv"))
    assert code == 200
    assert again["stored"] is True and again["hash"] == put["hash"]
    again_cols = {c["name"]: c for c in again["codebook"]["columns"]}
    assert again_cols["Q2"]["question"] == "Age in years"
    assert again_cols["condition"]["personal_data"] is True

    # a second editor who read before the save (hash null) is refused, nothing overwritten
    stale = copy.deepcopy(cb)
    stale["columns"][0]["question"] = "overwrite?"
    code, err = server.request("PUT", url("data/survey.csv"), {"codebook": stale, "hash": None})
    assert code == 409 and "changed since you read it" in err["message"]
    # someone edits the file itself (e.g. in Lab's editor): the hash read before is stale
    text = on_disk.decode().replace("Age in years", "Age (years)")
    (server.root / "data/survey.csv.codebook.json").write_text(text)
    code, err = server.request(
        "PUT", url("data/survey.csv"), {"codebook": stale, "hash": put["hash"]}
    )
    assert code == 409
    assert (server.root / "data/survey.csv.codebook.json").read_text() == text
    code, fresh = server.request("GET", url("data/survey.csv"))
    assert fresh["hash"] == hashlib.sha256(text.encode()).hexdigest()
    code, ok = server.request(
        "PUT", url("data/survey.csv"), {"codebook": stale, "hash": fresh["hash"]}
    )
    assert code == 200 and ok["codebook"]["columns"][0]["question"] == "overwrite?"


def test_spss_codebook_over_http(server):
    code, got = server.request("GET", url("data/study.sav"))
    assert code == 200, got
    cols = {c["name"]: c for c in got["codebook"]["columns"]}
    assert cols["satisfaction"]["level"] == "ordinal"
    assert cols["satisfaction"]["missing_ranges"] == [[97.0, 99.0]]
    assert cols["sex"]["missing"] == [9]


def test_put_schema_error_names_the_field(server):
    _, got = server.request("GET", url("data/study.sav"))
    bad = copy.deepcopy(got["codebook"])
    bad["columns"][2]["level"] = "interval"
    code, err = server.request("PUT", url("data/study.sav"), {"codebook": bad, "hash": None})
    assert code == 400
    assert err["message"].startswith("codebook.columns[2].level: 'interval'"), err
    unknown = copy.deepcopy(got["codebook"])
    unknown["columns"][1]["name"] = "gender"
    code, err = server.request("PUT", url("data/study.sav"), {"codebook": unknown, "hash": None})
    assert code == 400 and "'gender' is not a column of data/study.sav" in err["message"]
    code, err = server.request("PUT", url("data/study.sav"), {"hash": None})
    assert code == 400 and '{"codebook"' in err["message"]
    assert not (server.root / "data/study.sav.codebook.json").exists()


def test_broken_stored_codebook_is_reported_and_can_be_replaced(server):
    (server.root / "data/my survey.csv").write_text("score,group\n1.5,a\n2.5,b\n3.0,a\n")
    broken = server.root / "data/my survey.csv.codebook.json"
    broken.write_text('{"version": 1, "columns": [{"name": "score", "level": "ratio"}]}')
    code, got = server.request("GET", url("data/my%20survey.csv"))
    assert code == 200, got
    assert got["stored"] is False and got["path"] == "data/my survey.csv"
    assert "columns[0].level" in got["problem"] and "save it to replace" in got["problem"]
    assert got["hash"] == hashlib.sha256(broken.read_bytes()).hexdigest()
    levels = {c["name"]: c["level"] for c in got["codebook"]["columns"]}
    assert levels == {"score": "scale", "group": "nominal"}
    code, put = server.request(
        "PUT", url("data/my%20survey.csv"), {"codebook": got["codebook"], "hash": got["hash"]}
    )
    assert code == 200 and json.loads(broken.read_text()) == got["codebook"]


@pytest.mark.parametrize(
    "path, status",
    [
        ("../../etc/passwd.csv", 400),
        ("data/..%2F..%2Fsecret.csv", 400),
        ("data/missing.csv", 404),
        ("notes.ipynb", 400),
    ],
)
def test_bad_paths(server, path, status):
    for method, body in (("GET", None), ("PUT", {"codebook": {}, "hash": None})):
        code, err = server.request(method, url(path), body)
        assert code == status, (method, path, code, err)
        assert err["message"]


def test_data_file_over_the_limit_is_413(server):
    assert (server.root / "data/big.csv").stat().st_size > MAX_MB * 1e6
    code, err = server.request("GET", url("data/big.csv"))
    assert code == 413 and "codebook_max_data_mb" in err["message"], err
    cb = {"version": 1, "columns": [{"name": "x", "level": "scale"}]}
    code, err = server.request("PUT", url("data/big.csv"), {"codebook": cb, "hash": None})
    assert code == 413
    assert not (server.root / "data/big.csv.codebook.json").exists()


def test_without_a_token_nothing_is_read_or_written(server):
    """401 without valid credentials (missing or wrong token), for reads and writes; the answer
    holds no codebook and nothing is saved."""
    target = server.root / "data/study.sav.codebook.json"
    _, got = server.request("GET", url("data/study.sav"))
    for token in ("wrong", ""):
        code, err = server.request("GET", url("data/study.sav"), token=token)
        assert code == 401 and "Not signed in" in err["message"], (token, code, err)
        assert "codebook" not in err
        code, err = server.request(
            "PUT", url("data/study.sav"), {"codebook": got["codebook"], "hash": None}, token=token
        )
        assert code == 401 and "Not signed in" in err["message"], (token, code, err)
    assert not target.exists()


def test_codebook_reaches_the_project_store_through_datadive_contents(tmp_path):
    """With Datadive's ContentsManager (single-root mode on a local directory store), the data is
    read and the codebook written through it: the saved file is in the store, readable with the
    server stopped."""
    import asyncio

    from datadive_contents.stores import store_from_url
    from jpserver import JupyterServer
    from survey_files import qsf

    export = write_export(tmp_path / "export.csv").read_text(encoding="utf-8-sig")
    root, store_url = tmp_path / "root", f"file://{tmp_path / 'store'}"
    root.mkdir()
    args = [
        "--ServerApp.contents_manager_class=datadive_contents.manager.DatadiveContentsManager",
        f"--DatadiveContentsManager.store_url={store_url}",
    ]
    server = JupyterServer(root, tmp_path / "srv", args=args).start()
    try:
        for name, text in (("survey.csv", export), ("survey.qsf", json.dumps(qsf()))):
            code, _ = server.request(
                "PUT", f"api/contents/{name}", {"type": "file", "format": "text", "content": text}
            )
            assert code in (200, 201), server.log()[-2000:]
        code, got = server.request("GET", url("survey.csv"))
        assert code == 200, got
        assert got["codebook"]["source"]["definition"] == "survey.qsf"
        cb = got["codebook"]
        cb["columns"][-1]["personal_data"] = True
        code, put = server.request("PUT", url("survey.csv"), {"codebook": cb, "hash": None})
        assert code == 200, put
    finally:
        server.stop()

    async def read_back():
        store = store_from_url(store_url)
        data, _ = await store.get("survey.csv.codebook.json")
        return data

    data = asyncio.run(read_back())
    assert hashlib.sha256(data).hexdigest() == put["hash"]
    assert json.loads(data)["columns"][-1] == {**cb["columns"][-1], "personal_data": True}
