"""``curate evaluate`` through main(argv): files in tmp_path, output and exit codes."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import curate.cli
from curate.cli import main


@pytest.fixture(autouse=True)
def _only_evaluate(monkeypatch):
    """Register only this subcommand, so the test does not depend on the others' modules."""
    monkeypatch.setattr(curate.cli, "COMMANDS", ("evaluate",))


def _conll(path, rows):
    lines = []
    for sent in rows:
        lines += [" ".join(tok) for tok in sent] + [""]
    path.write_text("\n".join(lines), encoding="utf-8")


@pytest.fixture()
def conll_file(tmp_path):
    path = tmp_path / "dev.conll"
    _conll(path, [
        [("John", "B-PER", "O"), ("lives", "O", "O"), ("in", "O", "O"), ("Paris", "B-LOC", "O")],
        [("Hi", "O", "O"), ("there", "O", "O"), ("Bob", "B-PER", "O"), ("!", "O", "O")],
    ])
    return path


def test_conll_same_file_json_and_paradox_exit(conll_file, capsys):
    assert main(["evaluate", str(conll_file), str(conll_file), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["task"] == "tags" and out["paradox"]["flagged"]
    assert out["PER"]["support"] == 2
    assert main(["evaluate", str(conll_file), str(conll_file), "--json",
                 "--fail-on-paradox"]) == 3


def test_conll_good_columns_not_flagged(conll_file, capsys):
    args = ["evaluate", str(conll_file), str(conll_file), "--column", "1", "--pred-column", "1",
            "--markdown", "--fail-on-paradox"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.startswith("**Verdict:** no accuracy paradox.")


def test_parquet_multiclass_with_vs(tmp_path, capsys):
    y = ["cat"] * 8 + ["dog"] * 2
    pd.DataFrame({"label": y}).to_parquet(tmp_path / "true.parquet")
    pd.DataFrame({"prediction": ["cat"] * 10}).to_parquet(tmp_path / "a.parquet")
    pd.DataFrame({"prediction": y}).to_parquet(tmp_path / "b.parquet")
    code = main(["evaluate", str(tmp_path / "true.parquet"), str(tmp_path / "a.parquet"),
                 "--vs", str(tmp_path / "b.parquet"), "--names", "before", "after",
                 "--markdown"])
    assert code == 0
    out = capsys.readouterr().out
    assert out.index("Verdict") < out.index("| class")
    assert "**before:** accuracy paradox flagged" in out
    assert "Improved (f1): cat, dog" in out


def test_jsonl_multilabel_lists(tmp_path, capsys):
    (tmp_path / "t.jsonl").write_text('{"labels": ["a", "b"]}\n{"labels": ["a"]}\n')
    (tmp_path / "p.jsonl").write_text('{"pred": ["a"]}\n{"pred": ["a", "b"]}\n')
    assert main(["evaluate", str(tmp_path / "t.jsonl"), str(tmp_path / "p.jsonl"),
                 "--task", "multilabel", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["task"] == "multilabel" and "samples avg" in out


@pytest.mark.parametrize(
    ("make", "args", "match"),
    [
        (lambda p: pd.DataFrame({"x": [1], "z": [2]}).to_csv(p / "t.csv", index=False),
         ["t.csv", "t.csv"], "none of the usual labels columns"),
        (lambda p: None, ["missing.csv", "missing.csv"], "FileNotFoundError"),
        (lambda p: (p / "t.conll").write_text("a B-X\n"), ["t.conll", "t.conll", "--column",
                                                        "5"], "columns=[5] needs more"),
    ],
)
def test_errors_exit_1(tmp_path, capsys, make, args, match):
    make(tmp_path)
    argv = ["evaluate", *[str(tmp_path / a) if "." in a else a for a in args]]
    assert main(argv) == 1
    assert match in capsys.readouterr().err
