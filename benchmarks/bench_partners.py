"""Rare-aware composite partners: effective looks on VOC 07+12 and COCO val2017, and speed.

Table 1, per dataset and composite size ``k`` (4 = Mosaic, 2 = MixUp/CutMix), with anchors
either uniform (every image once per epoch) or drawn from the default ``InterClassBalancer``
plan (``BalancedSampler``): the coefficient of variation (CV) of the expected per-class looks
per epoch (``curate.augment.effective_looks``: anchor + partner instances, computed exactly
from the probabilities) for uniform partners and for ``PartnerSampler`` partners at the same
number of composites, the rarest class's looks under both, and how spread the partners stay
(``effective partners = 1 / Σ q²`` as a share of N; uniform = 100 %).

Tables 2–3 list the per-class looks (VOC: every class; COCO: the 10 rarest and the 5 most
frequent). Table 4 checks the exact expectation against one simulated epoch of partner draws
(``epoch_partners``). Table 5 times ``PartnerSampler.partners`` (one call per item, as inside
``__getitem__``) at 10^6 samples (10^5 with ``--quick``), the one-time fit, and a whole
epoch of vectorised draws.

Usage: ``python benchmarks/bench_partners.py [--quick] [--out PATH]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import peak_rss_mb, print_table, write_results

import curate
from curate.augment import PartnerSampler, effective_looks
from curate.io import read_table

DATASETS = Path(os.environ.get("CURATE_DATASETS",
                               Path(__file__).resolve().parents[2] / "shared" / "datasets"))
VOC_0712 = {"voc2007_trainval", "voc2012_train", "voc2012_val"}


def load(name: str) -> curate.LabelTable:
    """VOC 07+12 trainval (16,552 images) or all of COCO val2017 (4,952 images)."""
    path = DATASETS / name / "labels.parquet"
    if not path.is_file():
        raise SystemExit(f"{path} not found; set CURATE_DATASETS to the shared datasets folder")
    table = read_table(path, column="labels", id_column="sample_id")
    if name == "voc_detection":
        split = pd.read_parquet(path, columns=["split"])["split"].to_numpy()
        table = table.select(np.flatnonzero(np.isin(split, list(VOC_0712))))
    return table


def cv(values: np.ndarray) -> float:
    return float(values.std() / values.mean())


def compare(table: curate.LabelTable, plan: Any, k: int) -> tuple[list[Any], pd.DataFrame]:
    """One row of table 1 and the per-class looks for one dataset, anchors and k."""
    ps = PartnerSampler(table, plan, k=k, seed=0)
    uni = effective_looks(table, None, plan, k=k).to_numpy()
    rare = effective_looks(table, ps, plan).to_numpy()
    counts = table.counts.to_numpy()
    r = int(np.argmin(counts))
    below = np.flatnonzero(uni < uni.mean())  # classes seen less than average
    worst = below[np.argmin(rare[below] / uni[below])]
    row = [
        "balanced (plan)" if plan is not None else "uniform",
        k,
        cv(uni),
        cv(rare),
        100 * (1 - cv(rare) / cv(uni)),
        table.classes[r],
        uni[r],
        rare[r],
        rare[r] / uni[r],
        f"{table.classes[worst]} {rare[worst] / uni[worst]:.2f}",
        100 * ps.details["effective_partners"] / table.n_samples,
        ps.details["max_share"],
        ps.details["iterations"],
    ]
    per_class = pd.DataFrame(
        {"count": counts, "uniform": uni, "rare-aware": rare, "ratio": rare / uni},
        index=pd.Index(table.classes, name="class"),
    )
    return row, per_class


def simulate(table: curate.LabelTable, k: int, epochs: int) -> list[list[Any]]:
    """Expected looks vs the mean of ``epochs`` simulated epochs of partner draws."""
    ps = PartnerSampler(table, k=k, seed=1)
    expected = effective_looks(table, ps).to_numpy()
    m = table.matrix.T.tocsr().astype(np.float64)
    sim = np.zeros(table.n_classes)
    for e in range(epochs):
        members = ps.epoch_partners(e).ravel()
        sim += np.asarray(table.matrix.sum(axis=0)).ravel()
        sim += m @ np.bincount(members, minlength=table.n_samples)
    sim /= epochs
    rel = np.abs(sim - expected) / expected
    r = int(np.argmin(table.counts.to_numpy()))
    return [[k, epochs, float(np.median(rel)), float(rel.max()), table.classes[r],
             expected[r], sim[r]]]


def speed(n: int, calls: int) -> list[list[Any]]:
    table = curate.datasets.make_long_tailed(n, 200, seed=0)
    rows = []
    for k in (4, 2):
        t0 = time.perf_counter()
        ps = PartnerSampler(table, k=k, seed=0)
        fit_s = time.perf_counter() - t0
        idx = np.random.default_rng(k).integers(0, n, calls).tolist()
        partners = ps.partners
        t0 = time.perf_counter()
        for i in idx:
            partners(i, 7)
        per_call = (time.perf_counter() - t0) / calls * 1e6
        t0 = time.perf_counter()
        block = ps.epoch_partners(7)
        epoch_s = time.perf_counter() - t0
        assert all(block[i].tolist() == partners(i, 7) for i in idx[:2000])
        rows.append([n, k, per_call, fit_s, epoch_s, peak_rss_mb()])
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10^5 samples for the speed table")
    ap.add_argument("--out", type=Path, default=None, help="results JSON path")
    args = ap.parse_args(argv)

    rows, per_class = [], {}
    for name, label in [("voc_detection", "VOC 07+12"), ("coco_val2017_detection", "COCO val2017")]:
        table = load(name)
        plan = curate.InterClassBalancer().fit(table)
        for anchors in (None, plan):
            for k in (4, 2):
                row, frame = compare(table, anchors, k)
                rows.append([label, *row])
                per_class[(label, row[0], k)] = frame
    cols1 = ["dataset", "anchors", "k", "CV uniform", "CV rare-aware", "CV lower %",
             "rarest class", "rarest looks uniform", "rarest looks rare-aware", "rarest ×",
             "lowest × of a below-mean class", "effective partners % of N",
             "max share (× uniform)", "fit steps"]
    print_table("Effective looks per epoch: uniform vs rare-aware partners", cols1, rows)

    tables = [{"title": "Effective looks per epoch: uniform vs rare-aware partners",
               "columns": cols1, "rows": rows,
               "notes": "Same anchors and number of composites in each pair; looks = expected "
                        "instances per class per epoch (anchor + k-1 partners), computed exactly "
                        "from the partner probabilities. max_factor=5 (default)."}]
    for label, keep in [("VOC 07+12", None), ("COCO val2017", 10)]:
        frame = per_class[(label, "uniform", 4)].sort_values("count")
        if keep:
            frame = pd.concat([frame.head(keep), frame.tail(5)])
        cols = ["class", "count", "looks uniform", "looks rare-aware", "×"]
        body = [[c, int(r["count"]), float(r["uniform"]), float(r["rare-aware"]),
                 float(r["ratio"])] for c, r in frame.iterrows()]
        title = f"{label}: per-class looks per epoch, Mosaic (k=4), uniform anchors"
        if keep:
            title += f" ({keep} rarest and 5 most frequent classes)"
        print_table(title, cols, body)
        tables.append({"title": title, "columns": cols, "rows": body, "notes": ""})

    coco = load("coco_val2017_detection")
    sim_rows = simulate(coco, 4, 20 if args.quick else 100)
    cols4 = ["k", "epochs simulated", "median rel. error", "max rel. error", "rarest class",
             "expected looks", "simulated looks"]
    print_table("COCO val2017: exact expectation vs simulated epochs", cols4, sim_rows)
    tables.append({"title": "COCO val2017: exact expectation vs simulated epochs",
                   "columns": cols4, "rows": sim_rows, "notes": ""})

    n = 100_000 if args.quick else 1_000_000
    speed_rows = speed(n, 50_000 if args.quick else 200_000)
    cols5 = ["n_samples", "k", "µs per partners() call", "fit s", "epoch_partners s",
             "peak RSS MiB"]
    print_table("PartnerSampler speed (make_long_tailed, 200 classes)", cols5, speed_rows)
    tables.append({"title": "PartnerSampler speed (make_long_tailed, 200 classes)",
                   "columns": cols5, "rows": speed_rows,
                   "notes": "One partners(index, epoch) call per item, as inside __getitem__; "
                            "fit = PartnerSampler construction (once)."})
    path = write_results("partners", tables, out=args.out)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
