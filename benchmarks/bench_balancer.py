"""Balancer benchmark: plan quality against the baselines, scale, and DataEval's interclass method.

Three parts, each printed as a table and written to ``benchmarks/results/balancer.json``:

1. **Quality at the same budget**, on every set in ``../shared/datasets`` (training splits;
   CoNLL-2003 and WNUT-17 at entity level). For each baseline plan (``repeat_factor`` at
   t = 0.001 / 0.01 / 0.1, ``class_quota``, ``inverse_frequency``, and ``random_over`` /
   ``random_under`` on single-label sets) the balancer is run with that plan's budgets:
   ``InterClassBalancer(max_duplicates=<its duplicates>, max_removals=<its removals>,
   target_size=<its epoch size>, min_class_fraction=0)`` (the baselines do not keep the
   default 50 % floor per class, so the matched run drops it too). CV and KL-to-uniform of
   the non-background class totals (instances) of both are reported; the verdict says
   whether curate is strictly lower on both. Then the default plan
   (``InterClassBalancer()``) with a check that no baseline dominates it on
   (CV, duplicates, removals), and every returned objective's gap to its LP bound.
2. **Scale** on ``make_long_tailed`` (N = 10^5, K = 80 and N = 10^6, K = 1000), default
   solver, each case in a fresh subprocess so that its peak RSS is its own: signature,
   model-build and solve time, total, peak memory, gap.
3. **DataEval interclass** (``_dataeval_interclass.py``, a faithful re-implementation; it is
   quadratic in N) against curate at N = 2,000 … 16,000 (K = 80) in the same run.

Usage::

    python benchmarks/bench_balancer.py            # full run (~5-10 minutes on 2 cores)
    python benchmarks/bench_balancer.py --quick    # smoke run: two small sets, small sizes
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _common import RESULTS, merge_tables, peak_rss_mb, print_table, write_results
from _dataeval_interclass import IMPLEMENTATION, interclass_multiplicity

import curate
from curate.balance import BalancePlan, InterClassBalancer, plan_quality
from curate.balance._frontier import baseline_plans
from curate.exceptions import InfeasibleError

DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets"
EPS = 1e-9


# ---------------------------------------------------------------------------------- datasets
def _lists(df: pd.DataFrame) -> list[list[str]]:
    return [list(v) for v in df["labels"]]


def _entities(df: pd.DataFrame) -> curate.LabelTable:
    tags = [list(v) for v in df["tags_iob2"]]
    return curate.LabelTable.from_tags(tags, level="entity", sample_ids=df["sample_id"].tolist())


LOADERS: dict[str, tuple[str, str, Callable[[pd.DataFrame], curate.LabelTable]]] = {
    # name: (folder, description of the rows used, builder)
    "voc": ("voc_detection", "VOC07 trainval + VOC12 train/val, instances",
            lambda d: curate.LabelTable.from_labels(_lists(d[d["split"] != "voc2007_test"]))),
    "coco_val2017": ("coco_val2017_detection", "val2017, instances",
                     lambda d: curate.LabelTable.from_labels(_lists(d))),
    "places_lt": ("places_lt", "train, single-label",
                  lambda d: curate.LabelTable.from_array(d.loc[d["split"] == "train", "label"]
                                                         .astype(str).to_numpy())),
    "yeast": ("mulan_yeast", "train, multi-label",
              lambda d: curate.LabelTable.from_labels(_lists(d[d["split"] == "train"]))),
    "r52": ("reuters_r52", "train, single-label",
            lambda d: curate.LabelTable.from_array(d.loc[d["split"] == "train", "label"]
                                                   .astype(str).to_numpy())),
    "conll2003": ("conll2003_ner", "train, entity spans",
                  lambda d: _entities(d[d["split"] == "train"])),
    "wnut17": ("wnut17_ner", "train, entity spans",
               lambda d: _entities(d[d["split"] == "train"])),
}


def load(name: str) -> curate.LabelTable:
    folder, _, build = LOADERS[name]
    return build(pd.read_parquet(DATA / folder / "labels.parquet"))


# ---------------------------------------------------------------------------------- part 1
def _fit(table: curate.LabelTable, time_limit: float | None,
         **options: Any) -> tuple[BalancePlan, float]:
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # time-limit warnings are reported through gap/status
        plan = InterClassBalancer(time_limit=time_limit, **options).fit(table)
    return plan, time.perf_counter() - start


def heldout_like(n: int, k: int, seed: int = 0) -> curate.LabelTable:
    """Zipf-like classes (p_k ∝ 1/k), 1-10 labels per sample (geometric, p=0.25), instance
    counts geometric (p=0.5): at 10^6 x 1000 about 660,000 distinct label vectors, the shape
    of the held-out multi-label generator in issue 11."""
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    p = np.arange(1, k + 1, dtype=np.float64) ** -1.0
    p /= p.sum()
    n_labels = np.minimum(rng.geometric(0.25, size=n), 10)
    rows = np.repeat(np.arange(n), n_labels)
    cls = rng.choice(k, size=rows.size, p=p)
    m = sp.csr_matrix((rng.geometric(0.5, size=rows.size), (rows, cls)), shape=(n, k))
    m.sum_duplicates()
    return curate.LabelTable(m, [f"c{i:04d}" for i in range(k)])


def epochs_table(names: list[str], n_epochs: int = 10) -> list[dict[str, Any]]:
    """Per-epoch balance and coverage of the default plan on every set, both count modes."""
    rows = []
    for name in names:
        table = load(name)
        for count in ("instances", "samples"):
            plan, secs = _fit(table, None, count=count)
            stats = plan.epoch_stats(n_epochs)
            limit = 1.05 * plan.cv() + 0.01
            rows.append({
                "dataset": name, "count": count, "n_samples": table.n_samples,
                "cv_before": plan.cv(np.ones(table.n_samples)), "cv_expected": plan.cv(),
                "cv_epoch_min": float(stats["cv"].min()), "cv_epoch_max": float(stats["cv"].max()),
                "within_limit": bool((stats["cv"] <= limit).all()),
                "seen_epoch0": float(stats["seen"].iloc[0]),
                "seen_2_epochs": float(stats["seen_so_far"].iloc[1]),
                "coverage_epochs": plan.coverage_epochs, "seconds": secs,
            })
        print(f"  epochs {name} done", flush=True)
    return rows


def _gap(plan: BalancePlan) -> float:
    return math.nan if plan.gap is None else float(plan.gap)


def _verdict(base: dict[str, Any], cur: dict[str, Any]) -> str:
    if base["duplicates"] == 0 and base["removals"] == 0:
        return "identity (no budget)"
    if base["cv"] <= EPS and cur["cv"] <= EPS:
        return "tie (both exactly uniform)"
    better = cur["cv"] < base["cv"] - EPS and cur["kl"] < base["kl"] - EPS
    return "curate better" if better else "NOT strictly better"


def quality(names: list[str], time_limit: float) -> tuple[list[dict], list[dict]]:
    """Matched-budget rows and default-plan rows for each dataset."""
    matched: list[dict[str, Any]] = []
    defaults: list[dict[str, Any]] = []
    for name in names:
        table = load(name)
        base_rows = []
        for method, build in baseline_plans(table).items():
            start = time.perf_counter()
            bplan = build()
            b = plan_quality(bplan, count="instances", seconds=time.perf_counter() - start)
            base_rows.append(b | {"method": method})
            try:
                # permanent=True: one fixed subset, like the baseline's epoch-0 draw (the
                # default coverage floor would forbid the baselines' removals of > N/2)
                cplan, secs = _fit(
                    table, time_limit, max_duplicates=b["duplicates"],
                    max_removals=b["removals"], target_size=b["epoch_size"],
                    min_class_fraction=0.0, max_repeats=max(4, int(bplan.multiplicity.max())),
                    permanent=True,
                )
            except InfeasibleError as exc:
                matched.append({"dataset": name, "baseline": method,
                                "duplicates": b["duplicates"], "removals": b["removals"],
                                "cv_baseline": b["cv"], "kl_baseline": b["kl"], "gap": math.nan,
                                "verdict": f"curate infeasible: {exc}"})
                continue
            c = plan_quality(cplan, count="instances", seconds=secs)
            matched.append({
                "dataset": name, "baseline": method,
                "duplicates": b["duplicates"], "removals": b["removals"],
                "epoch_size": b["epoch_size"],
                "cv_baseline": b["cv"], "cv_curate": c["cv"],
                "kl_baseline": b["kl"], "kl_curate": c["kl"],
                "ir_baseline": b["imbalance_ratio"], "ir_curate": c["imbalance_ratio"],
                "curate_duplicates": c["duplicates"], "curate_removals": c["removals"],
                "distinct_baseline": b["distinct"], "distinct_curate": c["distinct"],
                "rare_kept_baseline": b["rare_kept"], "rare_kept_curate": c["rare_kept"],
                "seconds_baseline": b["seconds"], "seconds_curate": secs,
                "gap": _gap(cplan), "status": cplan.status.value,
                "verdict": _verdict(b, c),
            })
        dplan, secs = _fit(table, time_limit)
        d = plan_quality(dplan, count="instances", seconds=secs)
        dominated = [
            r["method"] for r in base_rows
            if r["cv"] <= d["cv"] + EPS and r["duplicates"] <= d["duplicates"]
            and r["removals"] <= d["removals"]
            and (r["cv"] < d["cv"] - EPS or r["duplicates"] < d["duplicates"]
                 or r["removals"] < d["removals"])
        ]
        defaults.append({
            "dataset": name, "n_samples": table.n_samples, "n_classes": table.n_classes,
            "groups": dplan.details.get("n_groups"),
            "cv_before": d["cv_before"], "cv": d["cv"], "kl_before": d["kl_before"], "kl": d["kl"],
            "ir_before": d["imbalance_ratio_before"], "ir": d["imbalance_ratio"],
            "duplicates": d["duplicates"], "removals": d["removals"], "distinct": d["distinct"],
            "rare_kept": d["rare_kept"], "gap": _gap(dplan), "status": dplan.status.value,
            "seconds": secs, "dominated_by": ", ".join(dominated) or "none",
        })
        print(f"  {name}: {table.n_samples} samples x {table.n_classes} classes done", flush=True)
    return matched, defaults


# ---------------------------------------------------------------------------------- part 2
def scale_worker(n: int, k: int, time_limit: float | None) -> dict[str, Any]:
    """Run in a fresh process: generate, fit with the default solver, report."""
    table = heldout_like(n, k, seed=0)
    rss_data = peak_rss_mb()
    plan, secs = _fit(table, time_limit)
    t = plan.details.get("timings", {})
    return {
        "n_samples": n, "n_classes": k, "groups": plan.details.get("n_groups"),
        "signature_s": t.get("signature", math.nan), "build_s": t.get("build", math.nan),
        "solve_s": sum(v for key, v in t.items() if key not in ("signature", "build", "total")),
        "total_s": secs, "peak_rss_mb": peak_rss_mb(), "rss_after_data_mb": rss_data,
        "gap": _gap(plan), "status": plan.status.value, "solver": plan.details.get("solver"),
        "sifting_rounds": plan.details.get("sifting_rounds"), "digest": plan.digest[:16],
        "timings": t,
    }


def scale(cases: list[tuple[int, int]], time_limit: float | None) -> list[dict[str, Any]]:
    """Each case in a fresh process, first on a quiet machine, then with one competing
    process keeping a core busy (what users on shared machines see)."""
    rows = []
    for load in ("quiet", "one busy process"):
        busy = None
        if load != "quiet":
            busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        try:
            for n, k in cases:
                cmd = [sys.executable, str(Path(__file__).resolve()), "--scale-worker", str(n),
                       str(k)] + ([] if time_limit is None else ["--time-limit", str(time_limit)])
                out = subprocess.run(cmd, capture_output=True, text=True, check=False)
                if out.returncode != 0:
                    rows.append({"n_samples": n, "n_classes": k, "load": load, "status": "error",
                                 "error": out.stderr.strip().splitlines()[-1:]})
                    continue
                rows.append({"load": load, **json.loads(out.stdout.strip().splitlines()[-1])})
                print(f"  scale N={n} K={k} ({load}) done", flush=True)
        finally:
            if busy is not None:
                busy.kill()
                busy.wait()
    return rows


# ---------------------------------------------------------------------------------- part 3
def dataeval(sizes: list[int], k: int, time_limit: float) -> list[dict[str, Any]]:
    rows = []
    for n in sizes:
        table = curate.datasets.make_long_tailed(n, k, seed=0)
        start = time.perf_counter()
        x = interclass_multiplicity(table, seed=0)
        de_s = time.perf_counter() - start
        de = plan_quality(BalancePlan.from_multiplicity(table, x, method="dataeval"),
                          count="instances")
        plan, cur_s = _fit(table, time_limit)
        cur = plan_quality(plan, count="instances")
        rows.append({
            "n_samples": n, "n_classes": k, "cv_before": cur["cv_before"],
            "dataeval_s": de_s, "dataeval_cv": de["cv"], "dataeval_duplicates": de["duplicates"],
            "dataeval_removals": de["removals"],
            "curate_s": cur_s, "curate_cv": cur["cv"], "curate_duplicates": cur["duplicates"],
            "curate_removals": cur["removals"], "curate_gap": _gap(plan),
        })
        print(f"  dataeval N={n} done", flush=True)
    return rows


# ---------------------------------------------------------------------------------- output
def _r(v: Any, nd: int = 3) -> Any:
    if isinstance(v, float | np.floating):
        return round(float(v), nd) if math.isfinite(v) else str(v)
    return v


def _table(title: str, records: list[dict[str, Any]], columns: list[str], notes: str) -> dict:
    rows = [[_r(r.get(c)) for c in columns] for r in records]
    print_table(title, columns, rows)
    return {"title": title, "columns": columns, "rows": rows, "notes": notes}


#: Which part each table title (by its start) and record key belongs to.
_PARTS = {"Balancer vs baselines": "quality", "Default plan": "quality",
          "Every epoch": "epochs", "Scale": "scale", "DataEval": "dataeval"}
_RECORD_PARTS = {"matched": "quality", "default": "quality", "epochs": "epochs",
                 "scale": "scale", "dataeval": "dataeval"}


def _merge_previous(out: str | None, skip: set[str], tables: list[dict],
                    records: dict[str, Any]) -> tuple[list[dict], dict[str, Any]]:
    """The skipped parts' tables and records from the previous results file, in part order."""
    redone = set(_PARTS.values()) - skip
    merged = merge_tables("balancer", out, tables, _PARTS, redone)
    path = Path(out) if out else RESULTS / "balancer.json"
    old = json.loads(path.read_text()).get("records", {}) if path.is_file() else {}
    prev = {k: v for k, v in old.items() if _RECORD_PARTS.get(k) in skip}
    return merged, {**prev, **records}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="two small sets, small sizes")
    ap.add_argument("--out", default=None,
                    help="JSON path (default benchmarks/results/balancer.json)")
    ap.add_argument("--datasets", default=None,
                    help="comma-separated subset of " + ",".join(LOADERS))
    ap.add_argument("--time-limit", type=float, default=None,
                    help="balancer time limit in seconds (default: none, deterministic)")
    ap.add_argument("--skip", default="",
                    help="comma-separated parts to skip: quality,epochs,scale,dataeval")
    ap.add_argument("--big", action="store_true", help="also run N=1e7, K=1000 in part 2")
    ap.add_argument("--scale-worker", nargs=2, type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.scale_worker:
        print(json.dumps(scale_worker(*args.scale_worker, args.time_limit), default=float))
        return 0

    skip = set(filter(None, args.skip.split(",")))
    if args.quick:
        names, cases, sizes = ["yeast", "r52"], [(10_000, 80)], [500, 1000]
    else:
        names = list(LOADERS)
        cases = [(n, k) for n in (10_000, 100_000, 1_000_000) for k in (80, 1000)]
        sizes = [2000, 4000, 8000, 16000]
    if args.big:
        cases.append((10_000_000, 1000))
    if args.datasets:
        names = args.datasets.split(",")
    names = [n for n in names if (DATA / LOADERS[n][0] / "labels.parquet").is_file()]

    tables, records = [], {}
    if "quality" not in skip and names:
        print("part 1: quality at matched budgets", flush=True)
        matched, defaults = quality(names, args.time_limit)
        records["matched"], records["default"] = matched, defaults
        n_bad = sum(r["verdict"] == "NOT strictly better" for r in matched)
        gaps = [r["gap"] for r in matched + defaults if math.isfinite(r["gap"])]
        tables.append(_table(
            "Balancer vs baselines at the baseline's own budget "
            "(CV / KL of class totals, instances)",
            matched,
            ["dataset", "baseline", "duplicates", "removals", "cv_baseline", "cv_curate",
             "kl_baseline", "kl_curate", "ir_baseline", "ir_curate", "rare_kept_baseline",
             "rare_kept_curate", "seconds_curate", "gap", "verdict"],
            f"curate = InterClassBalancer(max_duplicates, max_removals, target_size = the "
            f"baseline's epoch-0 draw; min_class_fraction=0, permanent=True: a fixed subset "
            f"against the baseline's one draw). Cases where curate is not strictly lower on "
            f"both CV and KL: {n_bad}. Largest gap to the LP bound: "
            f"{max(gaps) if gaps else float('nan'):.4g}; gaps > 1 %: "
            f"{sum(g > 0.01 for g in gaps)}.",
        ))
        tables.append(_table(
            "Default plan, InterClassBalancer() (epoch size kept at N)", defaults,
            ["dataset", "n_samples", "n_classes", "groups", "cv_before", "cv", "kl_before", "kl",
             "ir_before", "ir", "duplicates", "removals", "distinct", "rare_kept", "gap",
             "seconds", "dominated_by"],
            "dominated_by: baselines with CV, duplicates and removals all <= the default plan's "
            "(one strictly). rare_kept: share of samples holding a bottom-third class that stay.",
        ))
    if "epochs" not in skip and names:
        print("part 1b: per-epoch balance and coverage", flush=True)
        rows = epochs_table(names)
        records["epochs"] = rows
        tables.append(_table(
            "Every epoch balanced and covered: default plan, 10 epochs, both count modes", rows,
            ["dataset", "count", "n_samples", "cv_before", "cv_expected", "cv_epoch_min",
             "cv_epoch_max", "within_limit", "seen_epoch0", "seen_2_epochs", "coverage_epochs",
             "seconds"],
            "cv = std/mean of the balanced classes' totals. within_limit: every epoch's CV <= "
            "1.05 x the plan's expected CV + 0.01 (issue 11). seen_2_epochs: share of samples "
            "drawn at least once in epochs 0-1 (coverage_epochs=2 guarantees 1.0).",
        ))
    if "scale" not in skip:
        print("part 2: scale", flush=True)
        rows = scale(cases, args.time_limit)
        records["scale"] = rows
        tables.append(_table(
            "Scale, held-out-shaped generator (Zipf classes, 1-10 labels with instance counts), "
            "default fit in a fresh process, quiet and with one busy process", rows,
            ["load", "n_samples", "n_classes", "groups", "signature_s", "build_s", "solve_s",
             "total_s", "peak_rss_mb", "gap", "sifting_rounds", "status", "digest"],
            "Issue 11 targets (quiet): 1e4 x 1000 <= 2 s; 1e5 x 80 <= 1 s; 1e6 x 1000 "
            "(~660k signatures) <= 10 s and <= 1.5 GB; gap <= 1 %; contended <= 2x quiet. "
            "digest: the same plan under both loads (deterministic). peak_rss_mb includes "
            "the interpreter and data.",
        ))
    if "dataeval" not in skip:
        print("part 3: DataEval interclass", flush=True)
        rows = dataeval(sizes, 80, args.time_limit)
        records["dataeval"] = rows
        tables.append(_table(
            f"DataEval interclass ({IMPLEMENTATION}) vs curate, make_long_tailed K=80",
            rows,
            ["n_samples", "cv_before", "dataeval_s", "dataeval_cv", "dataeval_duplicates",
             "dataeval_removals", "curate_s", "curate_cv", "curate_duplicates", "curate_removals",
             "curate_gap"],
            "DataEval's selection scores every candidate against the whole selection so far "
            "(quadratic in N). CV of instance totals over all classes.",
        ))
    if skip:  # keep the skipped parts of the previous run, so one part can be re-measured
        tables, records = _merge_previous(args.out, skip, tables, records)
    out = write_results(
        "balancer", tables, out=args.out,
        extra={"records": records, "datasets": {n: LOADERS[n][1] for n in names},
               "quick": bool(args.quick),
               "note": "measured on a shared machine; timings may be noisy"},
    )
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
