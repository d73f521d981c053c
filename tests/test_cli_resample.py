"""`curate resample` round trip: labels -> manifest -> plan / indices / resampled labels."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from curate.balance import BalancePlan, InterClassBalancer
from curate.cli import main
from curate.io import read_labels


@pytest.fixture()
def labels_file(tmp_path):
    rows = [["person", "dog"]] * 20 + [["person"]] * 30 + [["cat"]] * 4 + [[]] * 3
    path = tmp_path / "labels.jsonl"
    path.write_text("".join(json.dumps({"id": f"s{i}", "labels": r}) + "\n"
                            for i, r in enumerate(rows)))
    return path


def test_resample_round_trip(labels_file, tmp_path, capsys):
    out = tmp_path / "m.parquet"
    code = main(["resample", str(labels_file), "--out", str(out), "--seed", "3",
                 "--max-duplicates", "0.2"])
    printed = capsys.readouterr().out
    assert code == 0 and "before  after" in printed and "manifest written" in printed
    plan = BalancePlan.load(out)
    expected = InterClassBalancer(seed=3, max_duplicates=0.2).fit(read_labels(labels_file))
    assert plan.multiplicity.tolist() == expected.multiplicity.tolist()
    assert plan.options["max_duplicates"] == 0.2 and plan.digest == expected.digest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["labels.jsonl", "m.parquet"]

    idx_path, lab_path = tmp_path / "idx.txt", tmp_path / "resampled.parquet"
    assert main(["resample", "--from-manifest", str(out), "--epoch", "1",
                 "--write-indices", str(idx_path), "--write-labels", str(lab_path)]) == 0
    idx = [int(v) for v in idx_path.read_text().split()]
    assert idx == plan.indices(1, shuffle=False).tolist()
    frame = pd.read_parquet(lab_path)
    assert frame["index"].tolist() == idx and len(frame) == plan.draw(1).sum()


def test_resample_options_reach_the_balancer(labels_file, tmp_path):
    out = tmp_path / "m.parquet"
    assert main(["resample", str(labels_file), "--out", str(out), "--minimize-duplicates",
                 "--count", "samples", "--target-size", "60", "--solver", "lp",
                 "--max-removals", "0", "--coverage-epochs", "3"]) == 0
    plan = BalancePlan.load(out)
    assert plan.epoch_size == 60 and plan.n_removed == 0 and plan.count == "samples"
    assert plan.options["minimize_duplicates"] is True and plan.details["solver"] == "lp"
    assert plan.options["coverage_epochs"] == 3


def test_resample_permanent_subset_is_the_same_every_epoch(labels_file, tmp_path):
    out = tmp_path / "m.parquet"
    assert main(["resample", str(labels_file), "--out", str(out), "--permanent",
                 "--solver", "cbc"]) == 0
    plan = BalancePlan.load(out)
    assert plan.options["permanent"] is True
    assert plan.draw(0).tolist() == plan.draw(5).tolist()


def test_resample_infeasible_writes_nothing(tmp_path, capsys):
    path = tmp_path / "two.jsonl"
    path.write_text('{"labels": ["a"]}\n{"labels": ["b"]}\n')
    out = tmp_path / "m.parquet"
    code = main(["resample", str(path), "--out", str(out), "--target-size", "1",
                 "--max-repeats", "1", "--permanent"])
    assert code == 1 and not out.exists()
    assert "InfeasibleError" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["resample"], "needs INPUT and --out"),
        (["resample", "{labels}", "--out", "{out}", "--target-size", "1000"],
         "InfeasibleError: target_size=1000"),
        (["resample", "--from-manifest", "{labels}"], "not a readable manifest"),
    ],
)
def test_resample_errors_exit_1(argv, match, labels_file, tmp_path, capsys):
    argv = [a.format(labels=labels_file, out=tmp_path / "m.parquet") for a in argv]
    assert main(argv) == 1
    assert pytest.importorskip("re").search(match, capsys.readouterr().err)
    assert not (tmp_path / "m.parquet").exists()
