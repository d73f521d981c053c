"""Smoke tests of the benchmark runner, the docs generator and the training experiment.

The training experiment runs in ``--quick`` mode (1 seed, 2 epochs, subsets) through the
runner, in a subprocess, writing only into ``tmp_path``; its metric and bootstrap code is
checked against scikit-learn and seqeval on every resample; the renderer is tested on
fixture results files, including broken ones it must survive.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import dataset_path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))

import render_docs  # noqa: E402
import run_all  # noqa: E402
import train_effect  # noqa: E402


def _results(name: str = "bench_demo", **overrides: object) -> dict:
    data = {
        "name": name,
        "command": f"python benchmarks/{name}.py --quick",
        "date": "2025-01-02T03:04:05+00:00",
        "machine": {"cpu": "Test CPU 3000", "cores": 2, "ram_gb": 24.0,
                    "versions": {"python": "3.11.0", "torch": "2.13.0"}},
        "tables": [{"title": "Demo table", "columns": ["method", "time s", "ratio"],
                    "rows": [["curate", 0.123456, 12], ["baseline|x", None, 3.5e-05]],
                    "notes": "Measured on a busy machine."}],
    }
    data.update(overrides)
    return data


def _write(folder: Path, name: str, payload: object) -> None:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    (folder / f"{name}.json").write_text(text, encoding="utf-8")


# ----------------------------------------------------------------------------- render_docs
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "—"),
        (True, "yes"),
        (0.123456, "0.1235"),
        (1234.5, "1,234"),
        (3.5e-05, "3.5e-05"),
        (float("nan"), "nan"),
        (12, "12"),
        (123456, "123,456"),
        ("a|b", "a\\|b"),
        ([1, 2.5], "1, 2.5"),
        ({"k": 1}, "k=1"),
    ],
)
def test_fmt_cells(value: object, expected: str) -> None:
    assert render_docs.fmt(value) == expected


def test_render_well_formed_results(tmp_path: Path) -> None:
    _write(tmp_path, "bench_demo", _results())
    _write(tmp_path, "train_effect", _results("train_effect", links=[
        {"title": "Report", "path": str(tmp_path / "docs" / "r.html")}],
        description=["first finding", "second | finding"]))
    out = tmp_path / "docs" / "benchmarks.md"
    assert render_docs.main(["--results", str(tmp_path), "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    # one machine for both files: described once in the header, not per section
    assert page.count("Test CPU 3000; 2 cores; 24.0 GB RAM") == 1
    assert page.count("Versions: python 3.11.0, torch 2.13.0") == 2
    assert "Command: `python benchmarks/bench_demo.py --quick`" in page
    assert "Date: 2025-01-02T03:04:05+00:00" in page
    assert "| method | time s | ratio |" in page
    assert "| curate | 0.1235 | 12 |" in page
    assert "| baseline\\|x | — | 3.5e-05 |" in page
    assert "Measured on a busy machine." in page
    assert "[Report](r.html)" in page
    assert "- first finding\n- second \\| finding\n" in page
    # unknown names (bench_demo) come before the training experiment, which is always last
    assert page.index("## bench_demo") < page.index("## train_effect")


def test_render_puts_train_effect_follow_ups_after_it(tmp_path: Path) -> None:
    for name in ("train_effect_plan_costs", "train_effect", "zz_other"):
        _write(tmp_path, name, _results(name))
    page = render_docs.render(tmp_path, tmp_path / "x.md")
    assert (page.index("## zz_other") < page.index("## train_effect\n")
            < page.index("## train_effect_plan_costs"))


def test_render_different_machines_named_per_section(tmp_path: Path) -> None:
    _write(tmp_path, "a", _results("a"))
    other = _results("b")
    other["machine"] = {"cpu": "Other CPU", "cores": 16}
    _write(tmp_path, "b", other)
    page = render_docs.render(tmp_path, tmp_path / "x.md")
    assert "Machine: Other CPU; 16 cores" in page
    assert "Machine: Test CPU 3000" in page


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("{not json", r"Could not read `broken\.json`"),
        ("[1, 2]", r"holds a list, not a results object"),
        ({"name": "x", "score": 0.5, "nested": {"a": [1, 2]}},
         r"unrecognised shape(.|\n)*\| score \| 0\.5 \|(.|\n)*\| nested \| \{\"a\": \[1, 2\]\} \|"),
        ({"tables": [{"title": "t", "columns": "oops", "rows": 3}]}, r"unrecognised shape"),
        ({"tables": [{"columns": ["a"], "rows": [[1, 2], 3]}], "machine": "weird"},
         r"\| a \|  \|\n\|---\|---\|\n\| 1 \| 2 \|\n\| 3 \|  \|"),
    ],
)
def test_render_survives_odd_files(tmp_path: Path, payload: object, expected: str) -> None:
    import re

    _write(tmp_path, "broken", payload)
    out = tmp_path / "page.md"
    assert render_docs.main(["--results", str(tmp_path), "--out", str(out)]) == 0
    assert re.search(expected, out.read_text(encoding="utf-8"))


def test_render_empty_folder(tmp_path: Path) -> None:
    page = render_docs.render(tmp_path / "missing", tmp_path / "x.md")
    assert "No results yet" in page


# ----------------------------------------------------------------------------- run_all
def test_runner_discovers_every_script_train_effect_last() -> None:
    scripts = run_all.discover()
    assert scripts[-1].name == "train_effect.py"
    assert [s.name for s in scripts[:-1]] == sorted(p.name for p in BENCH.glob("bench_*.py"))


@pytest.mark.parametrize(
    ("name", "hit"),
    [("sampler", True), ("bench_sampler", True), ("bench_sampler.py", True),
     ("samp", False), ("train_effect", True)],
)
def test_runner_only_names(name: str, hit: bool) -> None:
    script = BENCH / ("train_effect.py" if name.startswith("train") else "bench_sampler.py")
    assert run_all._matches(script, [name]) is hit


def test_runner_rejects_unknown_only(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        run_all.main(["--only", "no_such_bench", "--no-render"])
    assert exc.value.code == 2
    assert "matches no script" in capsys.readouterr().err


# ----------------------------------------------------------------------------- train_effect

def _repeat(w: np.ndarray, *arrays: np.ndarray) -> list[np.ndarray]:
    """The resample a weight row stands for: sample i repeated w[i] times."""
    idx = np.repeat(np.arange(len(w)), w.astype(int))
    return [a[idx] for a in arrays]


def test_single_label_metrics_equal_sklearn_on_each_resample() -> None:
    from sklearn.metrics import balanced_accuracy_score, f1_score, recall_score

    rng = np.random.default_rng(3)
    k, n = 5, 60
    y = rng.integers(0, k, n)
    pred = np.where(rng.random(n) < 0.6, y, rng.integers(0, k - 1, n))  # class 4 rarely predicted
    w = train_effect.resample_weights(n, 25, seed=1)
    got = train_effect.single_metrics(y, pred, k, w, rare=[3, 4])
    for b in range(len(w)):
        yb, pb = _repeat(w[b], y, pred)
        assert got["macro_f1"][b] == pytest.approx(f1_score(yb, pb, average="macro"))
        assert got["balanced_accuracy"][b] == pytest.approx(balanced_accuracy_score(yb, pb))
        present = np.unique(yb)
        rec = recall_score(yb, pb, labels=present, average=None, zero_division=0)
        assert got["worst_recall"][b] == pytest.approx(rec.min())
        rare = [r for c, r in zip(present, rec, strict=True) if c in (3, 4)]
        assert got["rare_recall"][b] == pytest.approx(np.mean(rare))


def test_weighted_average_precision_equals_sklearn_with_ties() -> None:
    from sklearn.metrics import average_precision_score

    import curate

    rng = np.random.default_rng(5)
    n = 80
    y = (rng.random(n) < 0.3).astype(float)
    score = np.round(rng.random(n) + 0.4 * y, 1)  # one decimal: many tied scores
    w = train_effect.resample_weights(n, 20, seed=2)
    got = train_effect.weighted_ap(y, score, w)
    for b in range(len(w)):
        yb, sb = _repeat(w[b], y, score)
        assert got[b] == pytest.approx(average_precision_score(yb, sb))
    ones = train_effect.weighted_ap(y, score, np.ones((1, n)))[0]
    assert ones == pytest.approx(float(curate.average_precision(y, score)[0]))
    assert np.isnan(train_effect.weighted_ap(np.zeros(n), score, np.ones((1, n)))[0])


def test_multilabel_f1_and_map_equal_sklearn() -> None:
    from sklearn.metrics import average_precision_score, f1_score

    rng = np.random.default_rng(9)
    n, k = 70, 4
    y = (rng.random((n, k)) < [0.5, 0.3, 0.2, 0.1]).astype(float)
    scores = np.clip(rng.random((n, k)) * 0.7 + 0.3 * y, 0, 1)
    p05, tuned = (scores >= 0.5).astype(float), (scores >= 0.4).astype(float)
    w = train_effect.resample_weights(n, 10, seed=4)
    got = train_effect.multi_metrics(y, scores, p05, tuned, w, rare=[3])
    for b in range(len(w)):
        yb, sb, pb, tb = _repeat(w[b], y, scores, p05, tuned)
        assert got["macro_f1_05"][b] == pytest.approx(
            f1_score(yb, pb, average="macro", zero_division=0))
        assert got["macro_f1_tuned"][b] == pytest.approx(
            f1_score(yb, tb, average="macro", zero_division=0))
        has = yb.sum(0) > 0
        aps = [average_precision_score(yb[:, j], sb[:, j]) for j in np.flatnonzero(has)]
        assert got["map"][b] == pytest.approx(np.mean(aps))
        assert got["worst_ap"][b] == pytest.approx(min(aps))


def test_entity_metrics_equal_seqeval_default_mode() -> None:
    from seqeval.metrics import classification_report, f1_score

    y_true = [["B-PER", "I-PER", "O", "B-LOC"], ["O", "B-ORG", "I-ORG"], ["B-LOC", "O"],
              ["I-PER", "O", "B-MISC"], ["O", "O"]]
    y_pred = [["B-PER", "I-PER", "O", "B-ORG"], ["O", "B-ORG", "O"], ["B-LOC", "O"],
              ["B-PER", "O", "O"], ["B-LOC", "O"]]  # lenient I- start: default mode
    types = ["LOC", "MISC", "ORG", "PER"]
    counts = train_effect.entity_counts(y_true, y_pred, types)
    w = np.array([[1, 1, 1, 1, 1], [2, 0, 1, 3, 0], [0, 2, 2, 1, 1]], dtype=float)
    got = train_effect.entity_metrics(counts, w, rare=[1, 2])
    for b in range(len(w)):
        idx = np.repeat(np.arange(len(y_true)), w[b].astype(int))
        tb, pb = [y_true[i] for i in idx], [y_pred[i] for i in idx]
        assert got["macro_f1"][b] == pytest.approx(
            f1_score(tb, pb, average="macro", zero_division=0))
        assert got["micro_f1"][b] == pytest.approx(f1_score(tb, pb, zero_division=0))
        rep = classification_report(tb, pb, output_dict=True, zero_division=0)
        recalls = {t: rep[t]["recall"] for t in types if t in rep and rep[t]["support"] > 0}
        assert got["worst_recall"][b] == pytest.approx(min(recalls.values()))
        rare = [recalls[t] for t in ("MISC", "ORG") if t in recalls]
        assert got["rare_recall"][b] == pytest.approx(np.mean(rare))


def test_paired_delta_is_the_mean_seed_difference() -> None:
    a = train_effect.Scored([{"m": 0.5}, {"m": 0.7}],
                            [{"m": np.array([0.4, 0.5, 0.6])}, {"m": np.array([0.6, 0.7, 0.8])}],
                            [{}, {}])
    b = train_effect.Scored([{"m": 0.6}, {"m": 0.9}],
                            [{"m": np.array([0.4, 0.7, 0.9])}, {"m": np.array([0.6, 0.8, 1.0])}],
                            [{}, {}])
    point, lo, hi = train_effect.delta(a, b, "m")
    assert point == pytest.approx(0.15)
    diffs = np.array([0.0, 0.15, 0.25])  # per resample, mean over the two seeds
    assert (lo, hi) == pytest.approx(tuple(np.percentile(diffs, [2.5, 97.5])))


@pytest.mark.datasets
def test_train_effect_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    dataset_path("mulan_emotions", "features.parquet")
    args = ["--quick", "--datasets", "mulan_emotions", "--models", "linear", "--configs",
            "none", "sampler_default", "weighted_sampler"]
    runs = []
    for i in range(2):
        assert train_effect.main([*args, "--out", str(tmp_path / f"r{i}.json")]) == 0
        data = json.loads((tmp_path / f"r{i}.json").read_text())
        runs.append({c: [{k: v for k, v in r.items() if k != "seconds"} for r in rs]
                     for c, rs in data["runs"]["mulan_emotions"]["linear"].items()})
    assert runs[0] == runs[1]
    assert list(runs[0]) == ["none", "sampler_default", "weighted_sampler"]


@pytest.mark.slow
@pytest.mark.datasets
def test_train_effect_quick_through_runner(tmp_path: Path) -> None:
    for name in ("trec_text", "ohsumed_text", "mulan_yeast", "mulan_emotions", "wnut17_ner"):
        dataset_path(name)
    proc = subprocess.run(
        [sys.executable, str(BENCH / "run_all.py"), "--quick", "--only", "train_effect",
         "--results-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=1800, check=False,  # generous: busy machines
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    data = json.loads((tmp_path / "train_effect.json").read_text())
    assert data["quick"] is True and data["seeds"] == [0]
    titles = [t["title"] for t in data["tables"]]
    for ds in train_effect.DATASET_NAMES:
        table = data["tables"][titles.index(f"{ds}: test scores by model and configuration")]
        ner = ds in train_effect.NER
        models = ["bilstm"] if ner else list(train_effect.MODELS)
        configs = list(train_effect.configs_of(ds))
        expected = [c for _ in models for c in configs] if ner else [
            [m, c] for m in models for c in configs]
        assert [r[0] if ner else r[:2] for r in table["rows"]] == expected
        for row in table["rows"]:
            model, config = ("bilstm", row[0]) if ner else (row[0], row[1])
            (run,) = data["runs"][ds][model][config]
            key = "map" if ds in train_effect.MULTI else "macro_f1"
            assert 0.0 <= run[key] <= 1.0
            cell = row[1 if ner else 2]  # the table cell is the run's value (one seed: std 0)
            assert cell == f"{run[key]:.3f} ± 0.000"
            delta_cell = row[2 if ner else 3]
            assert (delta_cell == "—") is (config == "none")
    verdicts = data["tables"][titles.index("Targets (issue 13), as measured")]["rows"]
    assert {r[0] for r in verdicts} == set(train_effect.DATASET_NAMES)
    assert all(r[6] in ("met", "NOT met") for r in verdicts)
    curve = data["runs"]["wnut17_ner"]["bilstm"]["none"][0]["curve"]
    assert len(curve) == data["runs"]["wnut17_ner"]["bilstm"]["none"][0]["epochs_run"]
    page = (tmp_path / "benchmarks.md").read_text()
    assert "## train_effect" in page and "entity macro-F1" in page
    assert "Where curate's tools do not help, as measured" in page


@pytest.mark.datasets
def test_train_effect_plan_costs_sweep(tmp_path: Path) -> None:
    dataset_path("mulan_emotions", "features.parquet")
    out = tmp_path / "costs.json"
    assert train_effect.main(["--quick", "--datasets", "mulan_emotions", "wnut17_ner",
                              "--models", "linear", "--plan-costs", "0.5", "50",
                              "--out", str(out)]) == 0
    assert list(train_effect.TUNED_PLANS) == ["costs 0.1", "costs 2", "minimize_duplicates"]
    table = json.loads(out.read_text())["tables"][0]
    rows = table["rows"]
    assert [r[:3] for r in rows] == [["mulan_emotions", "linear", "0.5"],
                                     ["mulan_emotions", "linear", "50"]]  # NER is skipped
    assert rows[0][3] == rows[0][4] > 0  # epoch size kept: one sit-out per copy
    assert rows[1][3:6] == [0, 0, 0]  # copies priced out: the identity plan
    assert all(r[6] == "mAP" for r in rows)
