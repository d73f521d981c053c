"""Reports: every JSON number traces to imbalance_stats / the plan / evaluate; renderers agree."""

from __future__ import annotations

import itertools
import json
import re
import struct
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import curate
from curate._format import fmt_number, markdown_escape
from curate.balance import BalancePlan
from curate.datasets import make_long_tailed
from curate.report import Report, dataset_report, evaluation_report
from curate.report._build import layout
from curate.report._plots import select_classes
from curate.report._sections.plan import build_epoch_stats

ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def table() -> curate.LabelTable:
    return make_long_tailed(1500, 30, seed=3)


@pytest.fixture(scope="module")
def ner_table() -> curate.LabelTable:
    rng = np.random.default_rng(7)
    names = ["O", "PER", "LOC", "ORG", "MISC"]
    p = [0.8, 0.08, 0.06, 0.04, 0.02]
    rows = [list(rng.choice(names, size=int(rng.integers(0, 9)), p=p)) for _ in range(300)]
    return curate.LabelTable.from_labels(rows, background="O")


@pytest.fixture(scope="module")
def plan(table: curate.LabelTable) -> BalancePlan:
    x = np.random.default_rng(0).integers(0, 3, size=table.n_samples)
    return BalancePlan.from_multiplicity(table, x, method="custom")


@pytest.fixture(scope="module")
def full_report(table: curate.LabelTable, plan: BalancePlan) -> Report:
    frame = pd.DataFrame({
        "method": ["balancer", "balancer", "repeat_factor(t=0.01)"],
        "budget": [0.0, 100.0, np.nan],
        "imbalance_ratio": [40.0, 12.5, 20.0],
        "duplicates": [0, 100, 250],
        "removals": [0, 80, 0],
    })
    return dataset_report(table, plan, ["inverse_sqrt", "effective"], frontier=frame)


def _cell(text: str) -> str:
    return markdown_escape(text, cell=True)


def _headline(report: Report) -> dict:
    return {h["key"]: h["value"] for h in report.data["headline"]}


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", png[16:24])


# ---------------------------------------------------------------------------- JSON structure
@pytest.mark.parametrize("name", ["table", "ner_table"])
def test_headline_and_advice_equal_imbalance_stats(name, request):
    t = request.getfixturevalue(name)
    stats = curate.imbalance_stats(t)
    report = dataset_report(t, plots=False)
    head = _headline(report)
    for key in ("n_samples", "n_classes", "n_labels", "n_empty", "n_background_only"):
        assert head[key] == getattr(stats, key)
    for key in ("imbalance_ratio", "majority_share", "effective_classes", "normalized_entropy",
                "gini"):
        assert head[key] == pytest.approx(getattr(stats, key), rel=0, abs=0)
    assert head["majority_class"] == stats.majority_class
    assert report.data["advice"] == [
        {"code": a.code, "severity": str(a.severity), "message": a.message} for a in stats.advice
    ]
    assert report.data["background"] == stats.background


@pytest.mark.parametrize("name", ["table", "ner_table"])
def test_classes_section_is_per_class_sorted_by_count(name, request):
    t = request.getfixturevalue(name)
    pc = curate.imbalance_stats(t).per_class
    cls = dataset_report(t, plots=False).data["classes"]
    expected = pc.loc[cls["name"]]
    assert sorted(cls["name"]) == sorted(pc.index)
    assert cls["count"] == expected["count"].tolist()
    assert cls["count"] == sorted(cls["count"], reverse=True)
    assert cls["share"] == expected["share"].tolist()
    assert cls["support"] == expected["support"].tolist()
    assert cls["support_share"] == expected["support_share"].tolist()
    assert cls["background"] == [c == t.background for c in cls["name"]]


@pytest.mark.parametrize("name", ["table", "ner_table"])
def test_cumulative_counts_match_brute_force(name, request):
    t = request.getfixturevalue(name)
    counts = t.counts.drop(t.background) if t.background else t.counts
    total = counts.sum()
    ordered = np.sort(counts.to_numpy())[::-1]
    cum = dataset_report(t, plots=False).data["cumulative"]
    for q in (50, 90):
        brute = next(k for k in range(1, len(ordered) + 1)
                     if ordered[:k].sum() >= q / 100 * total)
        assert cum[f"classes_for_{q}"] == brute
    assert cum["share"] == pytest.approx(np.cumsum(ordered) / total)


def test_distributions_and_cooccurrence_equal_stats(table):
    stats = curate.imbalance_stats(table)
    data = dataset_report(table, plots=False).data
    lps = data["labels_per_sample"]
    assert dict(zip(lps["value"], lps["samples"], strict=True)) == \
        stats.labels_per_sample.to_dict()
    cps = data["classes_per_sample"]
    assert dict(zip(cps["value"], cps["samples"], strict=True)) == \
        stats.classes_per_sample.to_dict()
    co = data["cooccurrence"]
    top = stats.per_class["support"].sort_values(ascending=False, kind="stable").index[:20]
    assert co["classes"] == list(top)
    idx = [table.classes.index(c) for c in co["classes"]]
    dense = stats.cooccurrence.toarray()[np.ix_(idx, idx)]
    assert np.array_equal(np.array(co["counts"]), dense)
    assert np.allclose(np.array(co["conditional"]), dense / np.diag(dense)[:, None])


def test_weights_section_equals_class_weights(table):
    cw = curate.class_weights(table, scheme="effective")
    data = dataset_report(table, weights=["inverse_sqrt", cw], plots=False).data
    assert [w["scheme"] for w in data["weights"]] == ["inverse_sqrt", "effective"]
    ref = curate.class_weights(table, scheme="inverse_sqrt")
    assert data["weights"][0]["weights"] == ref.weights.tolist()
    assert data["weights"][1]["weights"] == cw.weights.tolist()
    assert data["weights"][1]["classes"] == list(cw.classes)


def test_plan_section_equals_plan(full_report, plan):
    from curate.balance._quality import plan_quality

    p = full_report.data["plan"]
    assert p["before"] == plan.counts_before.tolist()
    assert p["after"] == plan.counts_after.tolist()
    assert p["classes"] == list(plan.table.classes)
    for key in ("n_duplicates", "n_removed", "epoch_size", "n_samples"):
        assert p[key] == getattr(plan, key)
    assert (p["method"], p["status"], p["count"]) == (plan.method, plan.status.value, plan.count)
    q = plan_quality(plan)
    assert p["imbalance_ratio_after"] == q["imbalance_ratio"]
    assert p["imbalance_ratio_before"] == q["imbalance_ratio_before"]
    assert (p["cv_after"], p["kl_after"]) == (q["cv"], q["kl"])
    fr = full_report.data["frontier"]
    assert fr["chosen"] == {"imbalance_ratio": q["imbalance_ratio"],
                            "duplicates": plan.n_duplicates, "removals": plan.n_removed}
    assert fr["rows"][1][:2] == ["balancer", 100.0]
    assert fr["rows"][2][1] is None  # NaN budget of a baseline -> null


def test_plan_from_balancer_and_computed_frontier():
    t = make_long_tailed(300, 8, seed=1)
    plan = curate.InterClassBalancer(solver="lp", time_limit=20).fit(t)
    report = dataset_report(t, plan, plots=False)
    p = report.data["plan"]
    assert (p["objective"], p["lower_bound"], p["gap"]) == (plan.objective, plan.lower_bound,
                                                           plan.gap)
    assert p["after"] == plan.counts_after.tolist()
    fr = report.data["frontier"]
    ref = curate.balance.frontier(t, **{k: v for k, v in plan.options.items()
                                        if k != "max_duplicates"})
    assert fr["columns"] == list(ref.columns)
    col = fr["columns"].index("method")
    assert [r[col] for r in fr["rows"]] == ref["method"].tolist()
    assert any(str(r[col]).startswith("repeat_factor") for r in fr["rows"])
    assert dataset_report(t, plan, frontier=False, plots=False).data["frontier"] is None


@given(st.lists(st.lists(st.sampled_from("abcde"), max_size=4), min_size=1, max_size=30)
       .filter(lambda rows: any(rows)))
def test_invariants_on_random_tables(rows):
    t = curate.LabelTable.from_labels(rows, classes=list("abcde"))
    data = dataset_report(t, plots=False).data
    assert sum(data["classes"]["count"]) == t.matrix.sum()
    assert sum(data["labels_per_sample"]["samples"]) == t.n_samples
    share = data["cumulative"]["share"]
    assert all(b >= a for a, b in itertools.pairwise(share))
    assert share[-1] == pytest.approx(1.0)
    json.loads(Report(data).to_json())  # strict JSON (no NaN/inf)


def test_json_round_trip_renders_identically(full_report, tmp_path):
    path = tmp_path / "r.json"
    text = full_report.to_json(path)
    assert path.read_text() == text
    again = Report.from_json(path)
    assert again.data == full_report.data
    assert again.to_markdown() == full_report.to_markdown()
    assert again.to_html(plots=False) == full_report.to_html(plots=False)


def test_data_is_a_copy_and_inputs_unchanged(table):
    before = table.matrix.copy()
    report = dataset_report(table, plots=False)
    report.data["headline"].clear()
    assert report.data["headline"]
    assert (table.matrix != before).nnz == 0


# ---------------------------------------------------------------------------- renderers
DATASET_SECTIONS = ["headline", "advice", "distribution", "cumulative", "labels-per-sample",
                    "cooccurrence", "weights", "plan", "frontier"]
DATASET_PLOTS = ["distribution", "cumulative", "labels_per_sample", "cooccurrence", "plan",
                 "frontier"]


def test_html_has_every_section_and_plot(full_report):
    page = full_report.to_html()
    ids = re.findall(r'<section id="([^"]+)"', page)
    assert ids == DATASET_SECTIONS
    plots = re.findall(r'<figure data-plot="([^"]+)"><img [^>]*src="data:image/png;base64,', page)
    assert plots == DATASET_PLOTS
    assert "<script" not in page
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.I)
    assert "@media print" in page


def test_markdown_and_html_show_the_json_headline(full_report):
    page, md = full_report.to_html(plots=False), full_report.to_markdown()
    for h in full_report.data["headline"]:
        shown = fmt_number(h["value"], h["unit"])
        assert f'<div class="value">{shown}</div><div class="label">{h["label"]}' in page
        assert f"| {_cell(h['label'])} | {_cell(shown)} |" in md
    headings = re.findall(r"^## (.+)$", md, re.M)
    assert headings == [s["title"] for s in layout(full_report.data)]


def test_markdown_and_html_tables_agree(full_report):
    page, md = full_report.to_html(plots=False), full_report.to_markdown()
    for sec in layout(full_report.data):
        for block in sec["blocks"]:
            if block["type"] == "table":
                for row in block["rows"]:
                    assert "<td>" + "</td><td>".join(row) + "</td>" in page.replace(
                        "&#x27;", "'")
                    assert "| " + " | ".join(map(_cell, row)) + " |" in md


def test_large_k_plots_and_tables_stay_bounded():
    t = make_long_tailed(4000, 1000, zipf_exponent=0.6, seed=0)
    report = dataset_report(t, frontier=None, max_classes=40)
    images = report.images()
    for name, png in images.items():
        w, h = _png_size(png)
        assert w <= 1000 and h <= 720, name
        assert len(png) < 250_000, name
    page = report.to_html()
    assert "… 980 more classes" in page
    assert page.count("<tr") < 120
    assert len(page) < 1_500_000
    head, tail, others = select_classes(1000, 40)
    assert (len(head), len(tail), others) == (20, 20, 960)


def test_no_plots_path_never_imports_matplotlib(tmp_path):
    code = textwrap.dedent(f"""
        import sys
        sys.modules["matplotlib"] = None
        import curate
        from curate.report import dataset_report
        t = curate.datasets.make_long_tailed(200, 6, seed=0)
        page = dataset_report(t, plots=False).to_html({str(tmp_path / "r.html")!r})
        assert "<img" not in page and 'id="distribution"' in page
        try:
            dataset_report(t).to_html()
        except ModuleNotFoundError as exc:
            print("needs:", exc)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tmp_path, timeout=600)
    assert out.returncode == 0, out.stderr
    assert "Report plots needs matplotlib. Install it with: pip install matplotlib" in out.stdout
    assert (tmp_path / "r.html").is_file()


def test_writes_are_atomic_and_follow_the_suffix(full_report, tmp_path):
    for suffix, start in ((".html", "<!DOCTYPE html>"), (".md", "# Dataset report"),
                          (".json", "{")):
        path = full_report.save(tmp_path / f"r{suffix}")
        assert path.read_text(encoding="utf-8").startswith(start)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html", "r.json", "r.md"]


# ---------------------------------------------------------------------------- errors
def _other_plan():
    t = curate.LabelTable.from_labels([["a"], ["b"]])
    return BalancePlan.from_multiplicity(t, [1, 1])


ERRORS = [
    (lambda t: dataset_report("labels.csv"), TypeError, "'table' parameter of dataset_report"),
    (lambda t: dataset_report(t, plan=5), TypeError, "'plan' parameter of dataset_report"),
    (lambda t: dataset_report(t, plan=_other_plan()), ValueError, "fit the plan on the same"),
    (lambda t: dataset_report(t, weights=5), TypeError, "'weights' parameter"),
    (lambda t: dataset_report(t, weights=[3.0]), TypeError,
     r"must be a list of scheme names or ClassWeights\. Got \[3\.0\] instead"),
    (lambda t: dataset_report(t, frontier="yes"), TypeError, "'frontier' parameter"),
    (lambda t: dataset_report(t, frontier=pd.DataFrame({"x": [1]})), ValueError,
     r"missing the columns \['duplicates', 'imbalance_ratio'\]"),
    (lambda t: dataset_report(t, max_classes=1), ValueError,
     r"'max_classes' parameter of dataset_report must be an int in the range \[2, inf\)"),
    (lambda t: dataset_report(t, plots="no"), TypeError,
     r"^The 'plots' parameter of dataset_report must be a bool\. Got 'no' instead\.$"),
    (lambda t: dataset_report(t, plots=1), TypeError, r"must be a bool\. Got 1 instead"),
    (lambda t: Report(dataset_report(t, plots=False).data, plots=0), TypeError,
     r"'plots' parameter of Report must be a bool"),
    (lambda t: dataset_report(t, max_classes=2.0), TypeError,
     r"'max_classes' parameter of dataset_report must be an int"),
    (lambda t: dataset_report(t, title=3), TypeError,
     r"^The 'title' parameter of dataset_report must be a str\. Got 3 instead\.$"),
    (lambda t: dataset_report(t, plots=False).save("r.html", format="pdf"),
     ValueError, r"'format' parameter of Report.save must be one of \{'html', 'json', 'md'\}"),
    (lambda t: Report({"kind": "nope"}), ValueError, "kind 'dataset' or 'evaluation'"),
    (lambda t: Report({"kind": "dataset", "schema_version": 99}), ValueError, "schema_version"),
    (lambda t: dataset_report(t, plots=False).save("r.txt"), ValueError,
     "cannot tell the report format"),
    (lambda t: Report.from_json("{not json"), ValueError, "could not be parsed"),
]


@pytest.mark.parametrize(("call", "exc", "match"), ERRORS)
def test_errors(table, call, exc, match):
    with pytest.raises(exc, match=match):
        call(table)


# ---------------------------------------------------------------------------- CLI
@pytest.fixture()
def main():
    from curate.cli import main

    return main


def test_cli_report_writes_each_format(main, tmp_path, capsys):
    rows = [["cat", "dog"], ["cat"], ["cat"], ["bird"], []]
    src = tmp_path / "labels.jsonl"
    src.write_text("\n".join(json.dumps({"labels": r}) for r in rows) + "\n")
    for name in ("r.html", "r.md", "r.json"):
        out = tmp_path / name
        argv = ["report", str(src), "--out", str(out), "--column", "labels", "--no-plots",
                "--weights", "inverse"]
        assert main(argv) == 0
        assert capsys.readouterr().out.strip() == str(out.resolve())
    data = json.loads((tmp_path / "r.json").read_text())
    assert {h["key"]: h["value"] for h in data["headline"]}["n_samples"] == 5
    assert data["weights"][0]["scheme"] == "inverse"
    assert "<img" not in (tmp_path / "r.html").read_text()


def test_cli_report_with_balance(main, tmp_path, capsys):
    rows = [["cat"]] * 12 + [["dog"]] * 3 + [["bird"]]
    src = tmp_path / "labels.jsonl"
    src.write_text("\n".join(json.dumps({"labels": r}) for r in rows) + "\n")
    out = tmp_path / "r.json"
    argv = ["report", str(src), "--out", str(out), "--column", "labels", "--balance",
            "--no-frontier", "--max-duplicates", "4", "--time-limit", "10"]
    assert main(argv) == 0
    plan = json.loads(out.read_text())["plan"]
    assert plan["n_duplicates"] <= 4
    assert plan["options"]["max_duplicates"] == 4


def test_cli_report_error_is_one_line(main, tmp_path, capsys):
    assert main(["report", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "r.xyz"),
                 "--no-plots"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err


# ---------------------------------------------------------------------------- evaluation
@pytest.fixture(scope="module")
def two_runs():
    rng = np.random.default_rng(11)
    y = rng.choice(["bg", "a", "b", "c"], size=600, p=[0.9, 0.05, 0.03, 0.02])
    lazy = np.where(rng.random(600) < 0.9, "bg", y)
    good = np.where(rng.random(600) < 0.8, y, "bg")
    return curate.evaluate(y, lazy, zero_division=0), curate.evaluate(y, good, zero_division=0)


def test_evaluation_structure_equals_evaluate(two_runs):
    lazy, good = two_runs
    data = evaluation_report(good, lazy, names=("balanced", "unbalanced"), plots=False).data
    run = data["runs"][0]
    assert run["name"] == "balanced"
    assert run["accuracy"] == good.accuracy
    assert run["majority_baseline"] == good.majority_baseline
    assert run["macro_recall"] == good.macro.recall
    pc = good.per_class.sort_values("support", ascending=False, kind="stable")
    assert run["per_class"]["name"] == list(pc.index)
    for col in ("precision", "recall", "support"):
        assert run["per_class"][col] == pytest.approx(pc[col].tolist(), nan_ok=True)
    cmp = data["comparison"]
    delta = (good.per_class["recall"] - lazy.per_class["recall"]).loc[cmp["classes"]]
    assert cmp["recall_delta"] == pytest.approx(delta.tolist())
    assert cmp["macro_recall_delta"] == pytest.approx(good.macro.recall - lazy.macro.recall)


def test_evaluation_verdict_banner_comes_first(two_runs):
    lazy, _ = two_runs
    report = evaluation_report(lazy)
    page = report.to_html()
    ids = re.findall(r'<section id="([^"]+)"', page)
    assert ids == ["verdict", "summary", "per-class"]
    assert ("banner flagged" in page) == bool(report.data["verdict"]["flagged"])
    assert report.data["verdict"]["sentence"] in page.replace("&#x27;", "'")
    plots = re.findall(r'<figure data-plot="([^"]+)">', page)
    assert plots == ["summary", "per_class"]
    md = report.to_markdown()
    assert report.data["verdict"]["sentence"] in md


def test_evaluation_with_two_runs_has_deltas(two_runs):
    lazy, good = two_runs
    page = evaluation_report(good, lazy, names=["balanced", "unbalanced"]).to_html()
    assert re.findall(r'<section id="([^"]+)"', page)[-1] == "comparison"
    assert re.findall(r'<figure data-plot="([^"]+)">', page) == ["summary", "per_class",
                                                                "deltas"]


@pytest.mark.parametrize(("kwargs", "exc", "match"), [
    ({"names": ["same", "same"]}, ValueError,
     r"must be a sequence of 2 distinct str, one per run\. Got \['same', 'same'\] instead"),
    ({"names": [1, 2]}, TypeError, r"'names' parameter of evaluation_report must be a "
     r"sequence of 2 distinct str, one per run\. Got \[1, 2\] instead"),
    ({"names": ["only"]}, ValueError, r"Got \['only'\] instead"),
    ({"max_classes": 0}, ValueError, "'max_classes' parameter of evaluation_report"),
])
def test_evaluation_errors(two_runs, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        evaluation_report(two_runs[0], two_runs[1], **kwargs)


def test_evaluation_rejects_non_evaluation():
    with pytest.raises(TypeError, match="needs Evaluation objects"):
        evaluation_report({"accuracy": 1.0})


@pytest.mark.slow
def test_benchmark_quick_smoke(tmp_path):
    out = tmp_path / "report.json"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_report.py"), "--quick",
                           "--out", str(out)], capture_output=True, text=True, cwd=tmp_path,
                          timeout=900)
    assert proc.returncode == 0, proc.stderr
    table = json.loads(out.read_text())["tables"][0]
    assert table["columns"][:2] == ["N", "K"] and len(table["rows"]) == 2


def test_infinite_imbalance_ratio_is_null_and_shown_as_infinity():
    t = curate.LabelTable(np.array([[3, 0, 0], [1, 0, 1], [0, 0, 0]]), ["a", "b", "c"])
    assert curate.imbalance_stats(t).imbalance_ratio == np.inf
    report = dataset_report(t, plots=False)
    item = next(h for h in report.data["headline"] if h["key"] == "imbalance_ratio")
    assert (item["value"], item["unit"]) == (None, "infinite")
    assert '<div class="value">∞</div>' in report.to_html()
    assert "| Imbalance ratio (max / min) | ∞ |" in report.to_markdown()
    json.loads(report.to_json())


# ---------------------------------------------------------------------------- escaping
HOSTILE = ["<img src=x onerror=alert(1)>", "a|b", "**bold**", "[link](http://x)", "x_", "R&D"]


def test_markdown_escapes_class_names_and_titles():
    rows = [[HOSTILE[i % len(HOSTILE)]] for i in range(30)]
    t = curate.LabelTable.from_labels(rows)
    report = dataset_report(t, plots=False, title="<script>x</script>")
    md = report.to_markdown()
    assert not re.search(r"(?<!\\)[<>]", md)  # no unescaped angle bracket: no raw HTML
    assert "**bold**" not in md and not re.search(r"(?<!\\)\]\(", md)
    assert md.startswith("# \\<script\\>x\\</script\\>\n")
    assert "| \\<img src=x onerror=alert(1)\\> |" in md
    assert "| a\\|b |" in md and "| R\\&D |" in md
    # every table row still has as many cells as its header: no label splits a cell
    for block in (b for s in layout(report.data) for b in s["blocks"] if b["type"] == "table"):
        for row in block["rows"]:
            line = "| " + " | ".join(map(_cell, row)) + " |"
            assert line in md
            assert len(re.findall(r"(?<!\\)\|", line)) == len(block["columns"]) + 1
    page = report.to_html(plots=False)
    assert "<img" not in page and "&lt;img src=x" in page


def test_evaluation_markdown_run_names_are_escaped(two_runs):
    lazy, good = two_runs
    md = evaluation_report(good, lazy, names=["<b>new</b>", "old|run"], plots=False).to_markdown()
    assert not re.search(r"(?<!\\)<", md)
    assert "## Per-class deltas: \\<b\\>new\\</b\\> minus old\\|run" in md


# ---------------------------------------------------------------------------- number format
def test_evaluation_scores_use_four_decimals_like_evaluation_markdown(two_runs):
    lazy, good = two_runs
    report = evaluation_report(good, lazy, names=["balanced", "unbalanced"], plots=False)
    md = report.to_markdown()
    assert f"| balanced | {good.accuracy:.4f} | {good.majority_baseline:.4f} | " \
        f"{good.macro.recall:.4f} |" in md
    pc = good.per_class.sort_values("support", ascending=False, kind="stable")
    first = pc.index[0]
    assert f"| {first} | {pc['support'].iloc[0]:,} |" in md
    assert f"{pc['recall'].iloc[0]:.4f}" in md
    delta = good.macro.recall - lazy.macro.recall
    assert f"macro recall by {delta:+.4f}" in md
    assert f"{good.accuracy:.4f}" in report.data["verdict"]["sentence"]


# ---------------------------------------------------------------------------- epoch stats hook
class _PlanWithEpochStats(BalancePlan):
    """A stand-in plan whose ``epoch_stats`` returns fixed, known numbers."""

    calls: ClassVar[list[int]] = []

    def epoch_stats(self, n_epochs):
        self.calls.append(n_epochs)
        return pd.DataFrame({"epoch": list(range(n_epochs)),
                             "cv": [0.5 / (e + 1) for e in range(n_epochs)],
                             "seen_fraction": [min(1.0, 0.3 * (e + 1)) for e in range(n_epochs)]})


class _PlanWithoutEpochStats(BalancePlan):
    epoch_stats = None  # an attribute, not a method: the hook must skip it


def test_epoch_stats_hook_renders_the_plans_table():
    t = make_long_tailed(200, 6, seed=2)
    x = np.random.default_rng(1).integers(0, 3, size=t.n_samples)
    plan = _PlanWithEpochStats.from_multiplicity(t, x, method="custom")
    assert isinstance(plan, _PlanWithEpochStats)
    report = dataset_report(t, plan, plots=False, frontier=False)
    stats = report.data["plan"]["epoch_stats"]
    n = plan.calls[-1]
    assert stats == {"epoch": list(range(n)), "cv": [0.5 / (e + 1) for e in range(n)],
                     "seen_fraction": [min(1.0, 0.3 * (e + 1)) for e in range(n)]}
    md = report.to_markdown()
    assert "| epoch | CV of class totals | samples seen so far |" in md
    assert "| 1 | 0.25 | 60.00 % |" in md
    page = report.to_html(plots=False)
    assert "<td>1</td><td>0.25</td><td>60.00 %</td>" in page
    again = Report.from_json(report.to_json())
    assert again.to_markdown() == md


def test_epoch_stats_hook_absent_or_broken():
    t = make_long_tailed(200, 6, seed=2)
    x = np.ones(t.n_samples, dtype=int)
    plan = _PlanWithoutEpochStats.from_multiplicity(t, x, method="custom")
    data = dataset_report(t, plan, plots=False, frontier=False).data
    assert data["plan"]["epoch_stats"] is None
    assert "CV of class totals" not in Report(data).to_markdown()
    legacy = dict(data, plan={k: v for k, v in data["plan"].items() if k != "epoch_stats"})
    assert "CV of class totals" not in Report(legacy).to_markdown()  # older JSON reports

    class Wrong:
        def epoch_stats(self, n):
            return pd.DataFrame({"epoch": [0], "cv": [0.1]})

    with pytest.raises(ValueError, match=r"must have 'epoch', 'cv' and 'seen_fraction'"):
        build_epoch_stats(Wrong())


def test_epoch_stats_of_a_real_plan_match_its_method(plan):
    stats = build_epoch_stats(plan, 3)
    if not callable(getattr(plan, "epoch_stats", None)):
        assert stats is None
        return
    frame = plan.epoch_stats(3)
    assert stats["epoch"] == frame["epoch"].tolist()
    assert stats["cv"] == pytest.approx(frame["cv"].tolist())


def test_plots_draw_class_names_literally_not_as_mathtext():
    """'$\\frac{b$' used to end in a matplotlib ParseSyntaxException."""
    t = curate.LabelTable.from_labels([["a$\\frac{b$"], ["US$"], ["$x^2$"]] * 3)
    images = dataset_report(t).images()
    assert sorted(images) == ["cooccurrence", "cumulative", "distribution", "labels_per_sample"]
    assert all(png[:4] == b"\x89PNG" for png in images.values())


def test_plan_section_shows_effective_looks_of_composites():
    # issue 16: the dataset report shows per-class looks with uniform vs rare-aware partners
    import curate
    from curate.augment import looks_table

    table = curate.datasets.make_long_tailed(800, 8, seed=3)
    plan = curate.InterClassBalancer().fit(table)
    report = curate.report.dataset_report(table, plan=plan, plots=False)
    looks = report.data["plan"]["looks"]
    expected = looks_table(table, plan, k=4)
    assert looks["classes"] == [str(c) for c in expected.index]
    assert np.allclose(np.asarray(looks["values"], dtype=float), expected.to_numpy())
    assert "rare-aware partners" in report.to_markdown()
