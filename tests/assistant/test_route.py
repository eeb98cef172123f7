"""``datadive/api/assist`` and ``/recheck`` on a real jupyter server (module-scoped subprocess)."""

from __future__ import annotations

import nbformat
import pytest

from datadive_server_ext.assistant import ANSWER_KEYS

STUDY = "Projects/My study"


def post(server, path, body, token=None, raw=None):
    if raw is not None:
        import urllib.error
        import urllib.request

        req = urllib.request.Request(
            server.url + path,
            data=raw,
            method="POST",
            headers={"Authorization": f"token {server.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()
    return server.request("POST", path, body, token=token, timeout=120)


def test_answer_has_the_contract_keys_and_a_cell_that_runs(jupyter_server, clean_kernel):
    code, out = post(
        jupyter_server,
        "datadive/api/assist",
        {"path": f"{STUDY}/anova.csv", "outcome": "Pain threshold", "group": "Hair color"},
    )
    assert code == 200, out
    assert set(ANSWER_KEYS) | {"test_name", "apa", "cell"} == set(out)
    assert out["test"] == "one_way_anova" and out["test_name"] == "One-way ANOVA"
    assert out["apa"].startswith("F(3, 15) = 6.79, p = .004")
    meta = out["cell"]["metadata"]["datadive"]["assistant"]
    assert meta["data"]["path"] == f"{STUDY}/anova.csv" and len(meta["data"]["sha256"]) == 64
    # the cell names the file relative to the notebook's folder (default: the data's folder)
    assert "pd.read_csv('anova.csv')" in out["cell"]["source"]
    run = clean_kernel.run(out["cell"]["source"])  # the kernel's cwd holds anova.csv
    assert run.error is None and run.stdout.strip().splitlines()[-1] == out["apa"]
    code, out = post(
        jupyter_server,
        "datadive/api/assist",
        {
            "path": f"{STUDY}/anova.csv",
            "outcome": "Pain threshold",
            "mu": 40,
            "notebook": "Projects/analysis.ipynb",
        },
    )
    assert code == 200 and "pd.read_csv('My study/anova.csv')" in out["cell"]["source"]


def test_a_cell_written_in_a_notebook_is_rechecked(jupyter_server):
    code, out = post(
        jupyter_server,
        "datadive/api/assist",
        {"path": f"{STUDY}/tips.csv", "outcome": "tip", "group": "sex"},
    )
    assert code == 200 and out["test"] == "mann_whitney"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(out["cell"]["source"], metadata=out["cell"]["metadata"])]
    nbformat.write(nb, str(jupyter_server.root / STUDY / "analysis.ipynb"))
    meta = nbformat.read(str(jupyter_server.root / STUDY / "analysis.ipynb"), 4).cells[0].metadata
    body = {"path": f"{STUDY}/tips.csv", "metadata": dict(meta["datadive"]["assistant"])}
    code, again = post(jupyter_server, "datadive/api/assist/recheck", body)
    assert code == 200, again
    assert again["changed"] is False and "unchanged" in again["message"]
    assert again["answer"]["test"] == "mann_whitney"
    code, err = post(jupyter_server, "datadive/api/assist/recheck", {"path": f"{STUDY}/tips.csv"})
    assert code == 400 and "metadata" in err["message"]


def test_without_a_token_401(jupyter_server):
    for route in ("datadive/api/assist", "datadive/api/assist/recheck"):
        code, _ = post(jupyter_server, route, {"path": f"{STUDY}/anova.csv"}, token="wrong")
        assert code in (401, 403), code


@pytest.mark.parametrize(
    "path, status",
    [
        ("../secret.csv", 400),
        (f"{STUDY}/../../../etc/passwd", 400),
        ("/etc/passwd", 400),
        ("Projects\\My study\\anova.csv", 400),
        (f"{STUDY}/missing.csv", 404),
        (STUDY, 400),
        (None, 400),
    ],
)
def test_paths_stay_inside_the_root(jupyter_server, path, status):
    code, err = post(jupyter_server, "datadive/api/assist", {"path": path, "outcome": "a"})
    assert code == status, err
    assert err["message"]


def test_a_symlink_out_of_the_root_is_not_followed(jupyter_server, tmp_path):
    outside = tmp_path / "outside.csv"
    outside.write_text("a\n1\n2\n3\n")
    link = jupyter_server.root / "link.csv"
    link.symlink_to(outside)
    code, err = post(jupyter_server, "datadive/api/assist", {"path": "link.csv", "outcome": "a"})
    assert code == 404, err


@pytest.mark.parametrize(
    "body, says",
    [
        ({"outcome": "pain threshold", "group": "Hair color"}, "did you mean 'Pain threshold'?"),
        ({"outcome": "Pain threshold", "group": "Hair color", "x": "Subject"}, "Choose one design"),
        ({"outcome": "Pain threshold", "alpha": "five"}, "alpha must be a number"),
        (
            {
                "outcome": "Pain threshold",
                "group": "Hair color",
                "levels": ["light blond", "Dark Blond"],
            },
            "did you mean 'Light Blond'?",
        ),
    ],
)
def test_bad_questions_get_400_with_a_message(jupyter_server, body, says):
    code, err = post(jupyter_server, "datadive/api/assist", {"path": f"{STUDY}/anova.csv", **body})
    assert code == 400 and says in err["message"], err


def test_bad_bodies(jupyter_server):
    code, _ = post(jupyter_server, "datadive/api/assist", None, raw=b"{not json")
    assert code == 400
    code, _ = post(jupyter_server, "datadive/api/assist", None, raw=b"[1, 2]")
    assert code == 400
    code, _ = post(
        jupyter_server, "datadive/api/assist", None, raw=b'{"path": "' + b"a" * 70000 + b'"}'
    )
    assert code == 413
