"""``curate stats`` run in-process through ``main(argv)``."""

from __future__ import annotations

import importlib
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import curate.cli as cli


@pytest.fixture(autouse=True)
def _only_available_commands(monkeypatch):
    # other subcommands are written in parallel; register only those that import
    available = []
    for name in cli.COMMANDS:
        try:
            importlib.import_module(f"curate.cli._{name}")
        except ImportError:
            continue
        available.append(name)
    monkeypatch.setattr(cli, "COMMANDS", tuple(available))


@pytest.fixture()
def conll(tmp_path):
    p = tmp_path / "train.conll"
    p.write_text("John B-PER\nlives O\nin O\nParis B-LOC\n\nOk O\n")
    return p


def test_stats_json(conll, capsys):
    assert cli.main(["stats", str(conll), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["background"] == "O" and out["n_labels"] == 5
    assert out["per_class"]["O"]["count"] == 3 and out["majority_class"] == "O"


def test_stats_entity_level_table(conll, capsys):
    assert cli.main(["stats", str(conll), "--level", "entity"]) == 0
    out = capsys.readouterr().out
    assert "imbalance ratio" in out and "PER" in out and "LOC" in out


def test_stats_parquet_column_and_background(tmp_path, capsys):
    p = tmp_path / "l.parquet"
    pq.write_table(pa.table({"objs": [["bg", "car"], ["bg"], ["bg", "bg"]]}), p)
    assert cli.main(["stats", str(p), "--column", "objs", "--background", "bg", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["background"] == "bg" and out["n_background_only"] == 2
    assert any(a["code"] == "majority-share" for a in out["advice"]) is False  # 80 % < 90 %


@pytest.mark.parametrize(("argv", "match"), [
    (["--column", "nope"], r"column 'nope' is not in"),
    (["--background", "Z"], r"background is 'Z', a class that never occurs"),
])
def test_stats_errors_exit_1(conll, tmp_path, capsys, argv, match):
    p = tmp_path / "l.parquet"
    pq.write_table(pa.table({"labels": [["a"]]}), p)
    assert cli.main(["stats", str(p), *argv]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: CurateValueError") and err.count("\n") == 1
    import re
    assert re.search(match, err)


def test_stats_missing_file_and_bad_format(tmp_path, capsys):
    assert cli.main(["stats", str(tmp_path / "none.json")]) == 1
    assert "does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        cli.main(["stats", "x", "--format", "excel"])
    assert exc.value.code == 2
