"""``curate weights``: in-process through the CLI runner, on a parquet file written in tmp_path."""

from __future__ import annotations

import argparse
import json

import pandas as pd
import pytest

import curate
from curate.cli import _weights
from curate.exceptions import CurateError

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11

TAGS = [["B-PER", "I-PER", "O", "O"], ["O", "B-LOC", "O"], ["O", "O"], ["B-MISC", "O"]]


def _run(argv: list[str]) -> int:
    """Call the subcommand as ``curate.cli.main`` does (CurateError -> exit 1)."""
    parser = argparse.ArgumentParser(prog="curate")
    _weights.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except CurateError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=__import__("sys").stderr)
        return 1


@pytest.fixture()
def parquet(tmp_path):
    path = tmp_path / "tags.parquet"
    pd.DataFrame({"tags": TAGS}).to_parquet(path)
    return path


def test_weights_command_prints_table_and_toml_and_saves(parquet, tmp_path, capsys):
    out = tmp_path / "w.json"
    code = _run(["weights", str(parquet), "--column", "tags", "--level", "token",
                 "--background", "O", "--scheme", "inverse_sqrt", "--alpha", "0.5",
                 "--out", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "B-MISC" in text and "[class_weights]" in text
    toml = tomllib.loads(text[text.index("[class_weights]"):])["class_weights"]
    saved = curate.ClassWeights.load(out)
    table = curate.io.read_labels(parquet, column="tags", level="token", background="O")
    expected = curate.class_weights(table, scheme="inverse_sqrt", alpha=0.5, background="O")
    assert saved.to_dict() == expected.to_dict()
    assert toml["labels"] == list(expected.classes)
    assert toml["weights"] == pytest.approx(expected.weights.tolist(), rel=1e-5)
    assert json.loads(out.read_text())["params"]["alpha"] == 0.5


def test_weights_command_pt_and_options(parquet, tmp_path, capsys):
    out = tmp_path / "w.pt"
    code = _run(["weights", str(parquet), "--column", "tags", "--level", "token",
                 "--background", "O", "--background-weight", "scaled", "--scheme", "effective",
                 "--beta", "0.9", "--clip", "0.05", "5", "--no-toml", "--out", str(out)])
    assert code == 0
    assert "[class_weights]" not in capsys.readouterr().out
    w = curate.ClassWeights.load(out)
    assert w.scheme == "effective" and w.params["background_weight"] == "scaled"


def test_bad_option_exits_1_with_one_line(parquet, capsys):
    code = _run(["weights", str(parquet), "--column", "tags", "--level", "token",
                 "--alpha", "1.5"])
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'alpha' parameter of class_weights" in err[0]


def test_through_main(parquet, capsys):
    from curate.cli import main

    code = main(["weights", str(parquet), "--column", "tags", "--level", "token"])
    assert code == 0 and "[class_weights.by_id]" in capsys.readouterr().out


def test_label_names_round_trip_with_a_model_label_order(tmp_path, capsys):
    """weights.to_tensor()[i] is the weight of the model's label id i (not alphabetical)."""
    id2label = {0: "O", 1: "B-PER", 2: "I-PER", 3: "B-LOC", 4: "B-MISC", 5: "I-LOC"}
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"id2label": {str(k): v for k, v in id2label.items()},
                               "label2id": {v: k for k, v in id2label.items()}}))
    label2id = {v: k for k, v in id2label.items()}
    tokenized = [[-100, label2id[t], -100] for seq in TAGS for t in seq]  # HF-style ids
    for name, frame in (("tags.parquet", pd.DataFrame({"tags": TAGS})),
                        ("ids.parquet", pd.DataFrame({"labels": tokenized}))):
        frame.to_parquet(tmp_path / name)
        out = tmp_path / f"{name}.pt"
        with pytest.warns(curate.exceptions.ZeroCountWarning, match="I-LOC"):
            assert _run(["weights", str(tmp_path / name), "--label-names", str(cfg),
                         "--no-toml", "--out", str(out)]) == 0
        w = curate.ClassWeights.load(out)
        assert w.classes == tuple(id2label[i] for i in range(len(id2label)))
        # oracle: the same formula on counts taken with plain Python, in the model's order
        flat = [t for seq in TAGS for t in seq]
        counts = {id2label[i]: flat.count(id2label[i]) for i in range(len(id2label))}
        with pytest.warns(curate.exceptions.ZeroCountWarning):
            ref = curate.class_weights(counts, background="O")
        tensor = w.to_tensor()
        for i, label in id2label.items():
            assert tensor[i].item() == pytest.approx(ref.to_dict()[label], rel=1e-6)
        assert w.counts.tolist() == [counts[id2label[i]] for i in range(len(id2label))]
        assert tensor[0] == tensor.min()  # O (id 0) has the lowest weight
    capsys.readouterr()


def _strip_ansi(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def test_out_that_is_an_input_is_a_usage_error(tmp_path, capsys):
    from curate.cli import main

    src = tmp_path / "w.json"  # JSON lines of labels, and the --out of the weights
    src.write_text('{"labels": ["a"]}\n{"labels": ["b"]}\n')
    before = src.read_bytes()
    assert main(["weights", str(src), "--out", str(src)]) == 2
    err = capsys.readouterr().err
    assert "usage: curate weights" in err
    assert f"curate weights: error: --out {src} is the same file as INPUT {src}" in err
    assert src.read_bytes() == before
    names = tmp_path / "names.json"
    names.write_text('["a", "b"]')
    assert main(["weights", str(src), "--label-names", str(names), "--out",
                 str(tmp_path / "." / "names.json")]) == 2
    assert "is the same file as --label-names" in capsys.readouterr().err
    assert names.read_text() == '["a", "b"]'


def test_class_names_are_not_markup_on_a_terminal(tmp_path, capsys, monkeypatch):
    import sys

    from curate.cli import main

    path = tmp_path / "odd.parquet"
    pd.DataFrame({"label": ["[b]bold[/b]"] * 5 + ["[/]"] * 2 + ["x"]}).to_parquet(path)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)  # the rich table
    monkeypatch.setenv("COLUMNS", "120")
    out = tmp_path / "w.json"
    assert main(["weights", str(path), "--no-toml", "--out", str(out)]) == 0
    text = _strip_ansi(capsys.readouterr().out)
    import re

    assert re.search(r"│ \[b\]bold\[/b\] +│", text) and re.search(r"│ \[/\] +│", text), text
    assert curate.ClassWeights.load(out).classes == ("[/]", "[b]bold[/b]", "x")
