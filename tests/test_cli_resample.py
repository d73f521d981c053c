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


def test_resample_without_input_or_out_is_a_usage_error(capsys):
    assert main(["resample"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: curate resample") and "needs INPUT and --out" in err, err


# ------------------------------------------------------- outputs that are inputs (usage, exit 2)
def _usage_error(capsys, *needles):
    err = capsys.readouterr().err
    assert "usage: curate resample" in err and "curate resample: error: " in err, err
    line = err[err.index("curate resample: error: "):]
    for needle in needles:
        assert needle in line, err
    return line


@pytest.fixture()
def manifest(labels_file, tmp_path):
    out = tmp_path / "m.parquet"
    assert main(["resample", str(labels_file), "--out", str(out)]) == 0
    return out


def test_out_that_is_the_input_is_refused_before_any_work(labels_file, tmp_path, capsys):
    before = labels_file.read_bytes()
    same = tmp_path / "sub" / ".." / labels_file.name  # another spelling of the same file
    assert main(["resample", str(labels_file), "--out", str(same)]) == 2
    _usage_error(capsys, f"--out {same} is the same file as INPUT {labels_file}")
    assert labels_file.read_bytes() == before
    link = tmp_path / "link.jsonl"
    link.symlink_to(labels_file)
    assert main(["resample", str(link), "--out", str(labels_file)]) == 2
    _usage_error(capsys, "--out", "INPUT", "same file")
    names = tmp_path / "names.json"
    names.write_text(json.dumps(["person", "dog", "cat"]))
    assert main(["resample", str(labels_file), "--label-names", str(names),
                 "--out", str(names)]) == 2
    _usage_error(capsys, f"--out {names} is the same file as --label-names {names}")
    assert labels_file.read_bytes() == before and json.loads(names.read_text())[0] == "person"


@pytest.mark.parametrize("flags", [["--write-labels", "{m}"], ["--write-indices", "{m}"],
                                   ["--write-indices", "{x}", "--write-labels", "{x}"]])
def test_manifest_outputs_that_are_an_input_or_each_other(manifest, tmp_path, capsys, flags):
    before = manifest.read_bytes()
    argv = [f.format(m=manifest, x=tmp_path / "x.parquet") for f in flags]
    assert main(["resample", "--from-manifest", str(manifest), *argv]) == 2
    err = _usage_error(capsys, "is the same file as")
    assert ("--from-manifest" in err) == ("{m}" in flags)
    assert manifest.read_bytes() == before and not (tmp_path / "x.parquet").exists()
    BalancePlan.load(manifest)  # still a valid manifest


# ------------------------------------------------------------- sample ids of the input (2)
def test_manifest_sample_id_holds_the_input_ids(labels_file, manifest, tmp_path, capsys):
    ids = [json.loads(line)["id"] for line in labels_file.read_text().splitlines()]
    stored = pd.read_parquet(manifest)
    assert stored["sample_id"].tolist() == ids and stored["index"].tolist() == list(range(57))
    lab = tmp_path / "lab.parquet"
    assert main(["resample", "--from-manifest", str(manifest), "--epoch", "2",
                 "--write-labels", str(lab)]) == 0
    frame = pd.read_parquet(lab)
    assert frame["sample_id"].tolist() == [ids[i] for i in frame["index"]]


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_sample_id_column_is_found_and_named(tmp_path, capsys, fmt):
    ids = [f"img{k:03d}" for k in (7, 3, 9, 1, 5, 2, 8, 4)]  # not the row order
    frame = pd.DataFrame({"sample_id": ids, "label": list("aaaaabbc")})
    path = tmp_path / f"in.{fmt}"
    frame.to_parquet(path) if fmt == "parquet" else frame.to_csv(path, index=False)
    out = tmp_path / "m.parquet"
    assert main(["resample", str(path), "--out", str(out)]) == 0
    assert f"sample_id: column 'sample_id' of in.{fmt}" in capsys.readouterr().out
    assert pd.read_parquet(out)["sample_id"].tolist() == ids


def test_id_column_flag_and_fallback_to_positions(tmp_path, capsys):
    path = tmp_path / "in.csv"
    path.write_text("id,file,labels\nr1,x.jpg,a\nr2,y.jpg,a\nr3,z.jpg,b\n")
    out = tmp_path / "m.parquet"
    assert main(["resample", str(path), "--out", str(out), "--id-column", "file"]) == 0
    assert "sample_id: column 'file' of in.csv" in capsys.readouterr().out
    assert pd.read_parquet(out)["sample_id"].tolist() == ["x.jpg", "y.jpg", "z.jpg"]
    assert main(["resample", str(path), "--out", str(out)]) == 0  # `id` when no sample_id
    assert pd.read_parquet(out)["sample_id"].tolist() == ["r1", "r2", "r3"]
    capsys.readouterr()
    bare = tmp_path / "bare.jsonl"
    bare.write_text('{"labels": ["a"]}\n{"labels": ["b"]}\n')
    assert main(["resample", str(bare), "--out", str(out)]) == 0
    assert "sample_id: row positions" in capsys.readouterr().out
    assert pd.read_parquet(out)["sample_id"].tolist() == [0, 1]


@pytest.mark.parametrize(("name", "text", "argv", "needle"), [
    ("in.csv", "id,labels\nr1,a\n", ["--id-column", "nope"],
     "--id-column 'nope' is not a column of in.csv (columns: ['id', 'labels'])"),
    ("in.conll", "John B-PER\n", ["--id-column", "id"],
     "--id-column applies to parquet/csv/jsonl input, not conll"),
])
def test_id_column_errors_name_the_flag(tmp_path, capsys, name, text, argv, needle):
    (tmp_path / name).write_text(text)
    out = tmp_path / "m.parquet"
    assert main(["resample", str(tmp_path / name), "--out", str(out), *argv]) == 1
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1 and not out.exists()


# ---------------------------------------------------------------- ignored flags (6)
@pytest.mark.parametrize(("argv", "needle"), [
    (["{labels}", "--out", "{out}", "--write-indices", "{tmp}/i.txt"],
     "--write-indices cannot be used without --from-manifest"),
    (["{labels}", "--out", "{out}", "--epoch", "0"],
     "--epoch cannot be used without --from-manifest"),
    (["{labels}", "--out", "{out}", "--write-labels", "{tmp}/l.parquet"],
     "--write-labels cannot be used without --from-manifest"),
    (["--from-manifest", "{m}", "{labels}"], "INPUT cannot be used with --from-manifest"),
    (["--from-manifest", "{m}", "--out", "{out}"], "--out cannot be used with --from-manifest"),
    (["--from-manifest", "{m}", "--seed", "0", "--permanent"],
     "--permanent, --seed cannot be used with --from-manifest"),
    (["--from-manifest", "{m}", "--count", "instances", "--max-repeats", "4"],
     "--count, --max-repeats cannot be used with --from-manifest"),
    (["--from-manifest", "{m}", "--column", "labels", "--id-column", "id"],
     "--column, --id-column cannot be used with --from-manifest"),
])
def test_flags_that_would_be_ignored_are_usage_errors(labels_file, manifest, tmp_path, capsys,
                                                       argv, needle):
    out = tmp_path / "new.parquet"
    argv = [a.format(labels=labels_file, out=out, tmp=tmp_path, m=manifest) for a in argv]
    files = sorted(p.name for p in tmp_path.iterdir())
    assert main(["resample", *argv]) == 2
    _usage_error(capsys, needle)
    assert sorted(p.name for p in tmp_path.iterdir()) == files  # nothing written
