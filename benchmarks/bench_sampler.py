"""Sampler speed: one epoch of indices, and DataLoader iteration overhead.

Table 1 times what a ``DataLoader`` pays at the start of an epoch (``it = iter(sampler);
next(it)``: the draw, the shuffle, the shard and the list) for

* ``BalancedSampler`` on a grouped plan (single-label, Zipf-distributed over 1000 classes,
  one group per class, balanced whole totals: the balancer's plan shape), and on a
  per-sample fractional plan (repeat factors, stochastically rounded every epoch);
* ``WeightedSampler`` with per-sample weights, ``num_samples = N``;
* torch's ``WeightedRandomSampler`` (``torch.multinomial``; refuses more than 2^24 weights);
* a re-implementation of detectron2's ``RepeatFactorTrainingSampler`` epoch generation
  (stochastic rounding with ``torch.rand``, a Python loop extending a list per sample, then
  ``torch.randperm``), written from its documented algorithm.

The first epoch of a ``BalancedSampler`` also pays the plan's one-time member ordering; it is
reported separately. Table 2 iterates a ``DataLoader`` over a ``TensorDataset`` of ``N`` ints
(batch 256, ``num_workers=0``) and reports the time relative to ``RandomSampler``.

Usage: ``python benchmarks/bench_sampler.py [--quick] [--out PATH]``.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from torch.utils.data import DataLoader, RandomSampler, TensorDataset, WeightedRandomSampler

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import peak_rss_mb, print_table, write_results

from curate.balance import BalancePlan
from curate.labels import LabelTable
from curate.sampler import BalancedSampler, WeightedSampler

K = 1000


def _table(n: int, seed: int = 0) -> tuple[LabelTable, np.ndarray]:
    y = np.minimum(np.random.default_rng(seed).zipf(1.3, n) - 1, K - 1)
    m = sp.csr_matrix((np.ones(n, dtype=np.int64), (np.arange(n), y)), shape=(n, K))
    return LabelTable(m, [f"c{i}" for i in range(K)], level="sample"), y


def grouped_plan(n: int) -> BalancePlan:
    """One group per class, totals as even as the data allows (the balancer's plan shape)."""
    table, y = _table(n)
    counts = np.bincount(y, minlength=K)
    total = np.where(counts > 0, round(n / np.count_nonzero(counts)), 0).astype(float)
    return BalancePlan(table, y.astype(np.int64), total, method="grouped")


def repeat_factors(n: int) -> np.ndarray:
    """LVIS-style repeat factors r = max(1, sqrt(t / f_c)) of each sample's class."""
    _, y = _table(n)
    freq = np.bincount(y, minlength=K) / n
    return np.maximum(1.0, np.sqrt(1e-3 / np.maximum(freq[y], 1e-12)))


class Detectron2RFS:
    """Epoch generation of detectron2's RepeatFactorTrainingSampler (own re-implementation)."""

    def __init__(self, factors: np.ndarray, seed: int = 0) -> None:
        r = torch.as_tensor(factors, dtype=torch.float32)
        self.int_part, self.frac_part = torch.trunc(r), r - torch.trunc(r)
        self.seed = seed

    def epoch(self, epoch: int) -> list[int]:
        g = torch.Generator().manual_seed(self.seed + epoch)
        rands = torch.rand(len(self.frac_part), generator=g)
        reps = self.int_part + (rands < self.frac_part).float()
        indices: list[int] = []
        for i, rep in enumerate(reps.tolist()):
            indices.extend([i] * int(rep))
        idx = torch.tensor(indices, dtype=torch.int64)
        return idx[torch.randperm(len(idx), generator=g)].tolist()


def _time(fn: Callable[[], Any], repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _epoch_start(sampler: Any) -> None:
    it = iter(sampler)
    next(it)


def epoch_table(sizes: list[int], repeat: int) -> dict[str, Any]:
    rows = []
    for n in sizes:
        plan = grouped_plan(n)
        s = BalancedSampler(plan)
        setup = _time(lambda s=s: _epoch_start(s))  # epoch 0: includes the plan's member order
        s.set_epoch(1)
        t = _time(lambda s=s: (s.__dict__.update(_cache=None), _epoch_start(s)), repeat)
        rows.append(["BalancedSampler (grouped plan)", n, len(s), round(setup, 3), round(t, 3)])
        del s, plan
        rf = repeat_factors(n)
        table, _ = _table(n)
        s = BalancedSampler(BalancePlan.from_multiplicity(table, rf, method="repeat_factor"))
        setup = _time(lambda s=s: _epoch_start(s))
        s.set_epoch(1)
        t = _time(lambda s=s: (s.__dict__.update(_cache=None), _epoch_start(s)), repeat)
        rows.append(["BalancedSampler (repeat-factor plan)", n, len(s), round(setup, 3),
                     round(t, 3)])
        del s, table
        w = WeightedSampler(rf, n, seed=0)
        t = _time(lambda w=w: (w.__dict__.update(_cache=None), _epoch_start(w)), repeat)
        rows.append(["WeightedSampler", n, n, "", round(t, 3)])
        del w
        wrs = WeightedRandomSampler(torch.as_tensor(rf), n,
                                    generator=torch.Generator().manual_seed(0))
        t = _time(lambda wrs=wrs: _epoch_start(wrs), repeat)
        rows.append(["torch WeightedRandomSampler", n, n, "", round(t, 3)])
        d2 = Detectron2RFS(rf)
        t = _time(lambda d2=d2: d2.epoch(1), 1)
        rows.append(["detectron2 RepeatFactorTrainingSampler (re-impl.)", n, len(d2.epoch(2)),
                     "", round(t, 3)])
        del d2, rf, wrs
    limit = 2**24 + 1
    try:
        WeightedRandomSampler(torch.ones(limit, dtype=torch.float64), 10).__iter__().__next__()
        refused = "accepted"
    except RuntimeError as exc:
        refused = f"refused: {str(exc).splitlines()[0]}"
    return {
        "title": "One epoch of indices (iter(sampler) + first index), seconds",
        "columns": ["sampler", "N", "indices per epoch", "first epoch (setup)", "per epoch"],
        "rows": rows,
        "notes": (f"Best of {repeat} for 'per epoch' (cache cleared each time). "
                  f"WeightedRandomSampler with {limit} weights: {refused}. "
                  "WeightedSampler: same epoch with any number of weights."),
    }


def loader_table(n: int, repeat: int) -> dict[str, Any]:
    ds = TensorDataset(torch.arange(n))
    plan = BalancePlan.from_multiplicity(_table(n)[0], np.ones(n))
    samplers = {
        "RandomSampler": RandomSampler(ds, generator=torch.Generator().manual_seed(0)),
        "BalancedSampler": BalancedSampler(plan),
        "WeightedSampler": WeightedSampler(np.ones(n), n, seed=0),
    }
    times = {}
    for epoch in range(repeat):  # interleave samplers so machine noise hits all alike
        for name, s in samplers.items():
            if hasattr(s, "set_epoch"):
                s.set_epoch(epoch)
            loader = DataLoader(ds, batch_size=256, sampler=s, num_workers=0)
            t = _time(lambda loader=loader: sum(1 for _ in loader))
            times[name] = min(times.get(name, float("inf")), t)
    base = times["RandomSampler"]
    rows = [[name, n, round(t, 3), round(t / base, 3)] for name, t in times.items()]
    return {
        "title": "DataLoader epoch over TensorDataset (batch 256, num_workers=0), seconds",
        "columns": ["sampler", "N", "epoch time", "vs RandomSampler"],
        "rows": rows,
        "notes": (f"Best of {repeat} epochs each, interleaved; "
                  "includes each epoch's index generation."),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    parser.add_argument("--out", default=None, help="results JSON path")
    args = parser.parse_args(argv)
    sizes = [10**4, 10**5] if args.quick else [10**6, 10**7]
    repeat = 1 if args.quick else 3
    tables = [epoch_table(sizes, repeat),
              loader_table(2 * 10**4 if args.quick else 10**6, 2 if args.quick else 5)]
    for t in tables:
        print_table(t["title"], t["columns"], t["rows"])
        print(t["notes"])
    path = write_results("sampler", tables, out=args.out,
                         extra={"peak_rss_mb": round(peak_rss_mb(), 1), "quick": args.quick})
    print(f"\npeak RSS {peak_rss_mb():.0f} MiB; wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
