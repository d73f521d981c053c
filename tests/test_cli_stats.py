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


# ---------------------------------------------------------------- every command, bad inputs
def _bad_inputs(tmp_path):
    """name -> (path, extra argv): each must fail with one line, never a traceback."""
    (tmp_path / "dict.jsonl").write_text('{"labels": {"a": 1}}\n')
    (tmp_path / "mixed.jsonl").write_text('{"label": 1}\n{"label": "1"}\n')
    (tmp_path / "latin.conll").write_bytes("Müller B-PER\n".encode("latin-1"))
    coco = {"images": [{"id": 1}, {"id": 1}], "categories": [{"id": 1, "name": "a"}],
            "annotations": []}
    (tmp_path / "dup.json").write_text(json.dumps(coco))
    (tmp_path / "cvat").mkdir()
    (tmp_path / "cvat" / "annotations.xml").write_text("<annotations><version>1.1</version>"
                                                       "</annotations>")
    (tmp_path / "yolo").mkdir()
    (tmp_path / "yolo" / "a.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    (tmp_path / "x.xyz").write_text("?")
    pq.write_table(pa.table({"labels": [["a"], ["b"]]}), tmp_path / "ok.parquet")
    return {
        "dict-jsonl": (tmp_path / "dict.jsonl", []),
        "mixed-types": (tmp_path / "mixed.jsonl", []),
        "non-utf8": (tmp_path / "latin.conll", []),
        "coco-dup-ids": (tmp_path / "dup.json", []),
        "cvat-no-images": (tmp_path / "cvat", []),
        "yolo-no-names": (tmp_path / "yolo", []),
        "unknown-suffix": (tmp_path / "x.xyz", []),
        "missing": (tmp_path / "none.parquet", []),
        "no-column": (tmp_path / "ok.parquet", ["--column", "nope"]),
        "label-names-missing": (tmp_path / "ok.parquet", ["--label-names", str(tmp_path / "c")]),
        "delimiter-on-parquet": (tmp_path / "ok.parquet", ["--delimiter", "|"]),
    }


COMMANDS = {
    "stats": [],
    "weights": [],
    "resample": ["--out", "{tmp}/m.parquet", "--time-limit", "5"],
    "report": ["--out", "{tmp}/r.md", "--no-plots"],
}


@pytest.mark.parametrize("command", [*COMMANDS, "evaluate"])
@pytest.mark.parametrize("case", [
    "dict-jsonl", "mixed-types", "non-utf8", "coco-dup-ids", "cvat-no-images", "yolo-no-names",
    "unknown-suffix", "missing", "no-column", "label-names-missing", "delimiter-on-parquet"])
def test_every_command_fails_with_one_line(tmp_path, capsys, command, case):
    path, extra = _bad_inputs(tmp_path)[case]
    if command == "evaluate":
        argv = ["evaluate", str(path), str(path), *extra]
    else:
        argv = [command, str(path), *[a.format(tmp=tmp_path) for a in COMMANDS[command]], *extra]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "internal error" not in err and "Traceback" not in err, err


@pytest.mark.parametrize(("argv", "code", "needle"), [
    (["weights", "{ok}", "--out", "{tmp}"], 2, "is a folder"),
    (["report", "{ok}", "--out", "{tmp}"], 2, "is a folder"),
    (["resample", "{ok}", "--out", "{tmp}"], 2, "is a folder"),
    (["evaluate", "{ok}", "{ok}", "--pred-column", "labels", "--out", "{tmp}"], 2,
     "is a folder"),
    (["weights", "{ok}", "--out", "{tmp}/nowhere/w.json"], 1, "does not exist"),
])
def test_out_pointing_at_a_folder_is_a_usage_error(tmp_path, capsys, argv, code, needle):
    ok = tmp_path / "ok.parquet"
    pq.write_table(pa.table({"labels": [["a"], ["b"]]}), ok)
    assert cli.main([a.format(ok=ok, tmp=tmp_path) for a in argv]) == code
    err = capsys.readouterr().err
    line = err.splitlines()[-1]
    assert needle in line and line.startswith(f"curate {argv[0]}: error: " if code == 2
                                              else "error: "), err
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize("command", ["resample", "report"])
@pytest.mark.parametrize("value", ["inf", "nan", "-1"])
def test_infinite_target_size_is_a_usage_error(tmp_path, capsys, command, value):
    ok = tmp_path / "ok.parquet"
    pq.write_table(pa.table({"labels": [["a"], ["b"]]}), ok)
    with pytest.raises(SystemExit) as exc:
        cli.main([command, str(ok), "--out", str(tmp_path / "o.md"), f"--target-size={value}"])
    assert exc.value.code == 2
    assert "expected a finite count or fraction >= 0" in capsys.readouterr().err


def test_csv_delimiter_option_splits_cells(tmp_path, capsys):
    p = tmp_path / "l.csv"
    p.write_text("labels\ncat|dog\ndog\n")
    assert cli.main(["stats", str(p), "--delimiter", "|", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {k: v["count"] for k, v in out["per_class"].items()} == {"cat": 1, "dog": 2}


def test_tag_column_shows_scheme_background_and_entities(tmp_path, capsys):
    p = tmp_path / "t.parquet"
    tags = [["B-PER", "I-PER", "O"], ["O", "B-LOC"], ["O"]]
    pq.write_table(pa.table({"tags": tags}), p)
    assert cli.main(["stats", str(p)]) == 0
    out = capsys.readouterr().out
    assert "IOB1 or IOB2, background O" in out and "PER 1" in out and "LOC 1" in out
    assert cli.main(["stats", str(p), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["level"] == "token" and out["background"] == "O"
    assert out["tags"] == {"scheme": "IOB1 or IOB2", "suffix": False, "background": "O",
                           "entity_counts": {"LOC": 1, "PER": 1}}
    assert cli.main(["stats", str(p), "--level", "instance", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["level"] == "instance" and out["background"] is None and "tags" not in out


def test_class_names_are_not_read_as_markup(tmp_path, capsys):
    p = tmp_path / "[bold]odd.parquet"
    pq.write_table(pa.table({"label": ["[b]bold[/b]"] * 5 + ["[/]"] * 2 + ["x"]}), p)
    assert cli.main(["stats", str(p), "--top", "0"]) == 0
    out = capsys.readouterr().out
    rows = [line.split("│")[1].strip() for line in out.splitlines()
            if line.startswith("│") and "%" in line and "majority" not in line]
    assert rows == ["[b]bold[/b]", "[/]", "x"], out
    assert "curate stats: [bold]odd.parquet" in out


def test_stats_does_not_call_an_iob1_file_iob2(tmp_path, capsys):
    # the scheme was judged from the sorted tag names as if they were a sentence: IOB2 for
    # an IOB1 file; names alone cannot tell the two apart unless an I- type has no B-
    p = tmp_path / "iob1.conll"
    p.write_text("John I-PER\nlives O\nin O\nParis I-LOC\n\nAnn I-PER\nBob B-PER\n\n"
                 "Rome I-LOC\nNice B-LOC\n")
    assert cli.main(["stats", str(p), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["tags"]["scheme"] == "IOB1 or IOB2"
    q = tmp_path / "iob1_no_b.conll"
    q.write_text("John I-PER\nlives O\nin O\nParis I-LOC\n")
    assert cli.main(["stats", str(q), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["tags"]["scheme"] == "IOB1"
