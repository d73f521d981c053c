"""Single-machine memory and speed at 10^7-10^8 (issue 14, item 3): before and after.

Three measurements, every case in a fresh subprocess (peak RSS = ``ru_maxrss``):

1. **LabelTable from parquet** (``list<string>`` column, 1-19 labels per row over 1000 Zipf
   classes, the file of ``bench_counting.py``): ``read_table`` (dictionary-encoded path) and
   the decoded path it replaced (strings materialised, then ``table_from_arrow``), against
   ``count_labels`` on the same file. Time and peak RSS per case; the ratio to
   ``count_labels`` is taken within the same run (the same interleaved rounds).
2. **BalancedSampler at 10^8 indices**: a systematic plan of the balancer's shape
   (single-label, one group per class, balanced fractional totals, coverage window 2) over
   ``N`` samples. The plan and its per-plan caches are built first; then the peak RSS mark
   is reset (``/proc/self/clear_refs``) and one steady-state epoch is iterated to the end
   (``iter(sampler)`` consumed): the reported peak is the epoch's own, above the plan.
   Cases: ``plan.draw`` alone (the whole-epoch draw, which the sampler now replaces by a
   blockwise one), the sampler as it is, the sampler as it was (whole draw, int64 order,
   ``permutation`` copy, the whole shard as one Python list; re-implemented here from the
   previous code), and ``torch.randperm(N)`` as the baseline of any shuffled epoch.
3. **``curate resample`` on one-sample classes** (``K`` classes of one sample each): wall
   time, peak RSS and the top cProfile entries.

Usage::

    python benchmarks/bench_memory.py            # 2e7 labels, 1e8 indices, 1e5 classes
    python benchmarks/bench_memory.py --quick    # small sizes, a smoke run
"""

from __future__ import annotations

import argparse
import gc
import json
import operator
import subprocess
import sys
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import merge_tables, peak_rss_mb, print_table, write_results

K = 1000
MIB = 2**20


def current_rss_mb() -> float:
    """Resident memory now, in MiB (``/proc/self/statm``)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * 4096 / MIB


def reset_peak() -> bool:
    """Reset the peak-RSS mark to the current RSS (Linux >= 4.0); False where refused."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


# --------------------------------------------------------------------------- 1. LabelTable
def _old_table(path: str) -> Any:
    """The decoded path replaced by the dictionary-encoded one: every label a string."""
    from curate.io._formats import read_frame
    from curate.labels import LabelTable, _arrow
    from curate.labels._constructors import detect_frame_tags

    frame = read_frame(Path(path), "parquet", ["labels"])
    arr = _arrow.frame_column(frame, "labels", "column")
    detect_frame_tags(arr)
    return _arrow.table_from_arrow(LabelTable, arr, "frame['labels']", classes=None,
                                   sample_ids=None, background=None, level="instance",
                                   ignore_index=-100)


def table_worker(kind: str, path: str) -> dict[str, Any]:
    import pandas as pd  # noqa: F401  (imports are not timed)

    from curate.io import count_labels, read_table

    gc.collect()
    base = current_rss_mb()
    reset_peak()
    t0 = time.perf_counter()
    if kind == "count_labels":
        counts = count_labels(path, column="labels", progress=False)
    elif kind == "read_table":
        counts = read_table(path, column="labels").counts
    else:
        counts = _old_table(path).counts
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "peak_rss_mb": peak_rss_mb(), "base_rss_mb": base,
            "counts": {str(k): int(v) for k, v in counts.items() if v}}


# --------------------------------------------------------------------------- 2. sampler
def systematic_plan(n: int, seed: int = 0) -> Any:
    """A plan of the balancer's shape over ``n`` single-label samples, built lean."""
    import scipy.sparse as sp

    from curate.balance import BalancePlan
    from curate.labels import LabelTable

    y = np.minimum(np.random.default_rng(seed).zipf(1.3, n) - 1, K - 1).astype(np.int64)
    indptr = np.arange(n + 1, dtype=np.int32 if n < 2**31 else np.int64)
    m = sp.csr_matrix((np.ones(n, dtype=np.int64), y.astype(indptr.dtype), indptr),
                      shape=(n, K))
    m.has_canonical_format = True
    table = LabelTable._from_canonical(m, [f"c{i}" for i in range(K)], level="sample")
    counts = np.bincount(y, minlength=K)
    held = counts > 0
    total = np.where(held, n / np.count_nonzero(held), 0.0)
    total = np.minimum(total, 4.0 * counts)  # at most 4 copies a sample, as the balancer
    total = np.maximum(total, counts / 2.0)  # and every sample within 2 epochs
    total *= n / total.sum()
    return BalancePlan(table, y, total, rounding="systematic", window=2, method="bench")


class OldBalancedSampler:
    """``BalancedSampler.__iter__`` as it was: int64 order, a permutation copy, one list."""

    def __init__(self, plan: Any, num_replicas: int, rank: int) -> None:
        self.plan, self.num_replicas, self.rank = plan, num_replicas, rank

    def __iter__(self) -> Any:
        plan = self.plan
        idx = np.repeat(np.arange(plan.n_samples, dtype=np.int64), plan.draw(1))
        idx = np.random.default_rng([plan.seed, 1, 2]).permutation(idx)
        order = np.ascontiguousarray(idx, dtype=np.int64)
        r = self.num_replicas
        per_rank = -(-len(order) // r)
        total = per_rank * r
        if total <= len(order):
            shard = order[self.rank:total:r]
        else:
            shard = np.concatenate([order, np.resize(order, total - len(order))])[self.rank::r]
        return iter(shard.tolist())


def sampler_worker(kind: str, n: int, replicas: int) -> dict[str, Any]:
    import torch

    from curate.sampler import BalancedSampler

    result: dict[str, Any] = {}
    if kind == "randperm":
        gc.collect()
        base = current_rss_mb()
        reset_peak()
        t0 = time.perf_counter()
        perm = torch.randperm(n)
        result["seconds"] = time.perf_counter() - t0
        result["epoch_size"] = int(perm.numel())
        del perm
    else:
        t0 = time.perf_counter()
        plan = systematic_plan(n)
        plan.draw(0)  # the plan's one-time caches (member order, layout) are not the epoch's
        result["plan_seconds"] = time.perf_counter() - t0
        result["plan_rss_mb"] = current_rss_mb()
        m = plan.table.matrix
        arrays = [m.data, m.indices, m.indptr, plan.group, plan._systematic._members[1]]
        result["plan_arrays_mb"] = sum(a.nbytes for a in arrays) / MIB
        gc.collect()
        base = current_rss_mb()
        reset_peak()
        t0 = time.perf_counter()
        if kind == "draw":
            x = plan.draw(1)
            result["epoch_size"] = int(x.sum())
            del x
        else:
            if kind == "sampler":
                sampler: Any = BalancedSampler(plan, num_replicas=replicas, rank=0)
                sampler.set_epoch(1)
            else:
                sampler = OldBalancedSampler(plan, replicas, 0)
            it = iter(sampler)
            result["shard_size"] = operator.length_hint(it) if kind == "old" else len(sampler)
            deque(it, maxlen=0)  # pull every index, as a DataLoader does
        result["seconds"] = time.perf_counter() - t0
    result["base_rss_mb"] = base
    result["peak_rss_mb"] = peak_rss_mb()
    result["peak_above_base_mb"] = result["peak_rss_mb"] - base
    return result


# --------------------------------------------------------------------------- 3. resample
def resample_worker(n: int, tmp: str, profile: bool) -> dict[str, Any]:
    import contextlib
    import cProfile
    import io
    import pstats

    import pyarrow as pa
    import pyarrow.parquet as pq

    from curate.cli import main

    warm = Path(tmp) / "warm.parquet"  # imports and first calls are not the measurement
    pq.write_table(pa.table({"label": ["a", "a", "b"]}), warm)
    with contextlib.redirect_stdout(io.StringIO()):
        main(["resample", str(warm), "--out", str(Path(tmp) / "warm_manifest.parquet")])
    path = Path(tmp) / f"one_sample_classes_{n}.parquet"
    pq.write_table(pa.table({"label": [f"c{i:07d}" for i in range(n)]}), path)
    out = Path(tmp) / f"manifest_{n}.parquet"
    gc.collect()
    base = current_rss_mb()
    reset_peak()
    prof = cProfile.Profile() if profile else None
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        if prof is not None:
            prof.enable()
        rc = main(["resample", str(path), "--out", str(out)])
        if prof is not None:
            prof.disable()
    seconds = time.perf_counter() - t0
    top = []
    if prof is not None:
        stats = pstats.Stats(prof)
        rows = [(fn, st[3], st[2]) for fn, st in stats.stats.items()]  # type: ignore[attr-defined]
        for (file, line, name), cum, tot in sorted(rows, key=lambda r: -r[2])[:6]:
            short = file.split("/curate/")[-1] if "/curate/" in file else Path(file).name
            top.append([f"{short}:{line}({name})", round(tot, 2), round(cum, 2)])
    return {"seconds": seconds, "rc": rc, "peak_rss_mb": peak_rss_mb(), "base_rss_mb": base,
            "profile_top_tottime": top}


# --------------------------------------------------------------------------- driver
#: The section each table title starts with.
_SECTIONS = {"LabelTable": "table", "One BalancedSampler": "sampler", "curate resample": "resample"}


def run_case(args: list[str], timeout: float | None = None) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
        out = fh.name
    cmd = [sys.executable, __file__, "--worker", *args, "--result", out]
    try:
        subprocess.run(cmd, check=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"timed_out": timeout}
    result = json.loads(Path(out).read_text())
    Path(out).unlink()
    return result


def table_section(n_labels: int, rounds: int, tmp: Path) -> dict[str, Any]:
    from bench_counting import generate

    path = tmp / f"labels_{n_labels}.parquet"
    generate(path, n_labels)
    kinds = ("count_labels", "read_table", "decoded (before)")
    results: dict[str, list[dict[str, Any]]] = {k: [] for k in kinds}
    for _ in range(rounds):  # interleaved: machine noise hits every case alike
        for k in kinds:
            results[k].append(run_case(["table", k, str(path)]))
    counts = {k: r[0]["counts"] for k, r in results.items()}
    if not counts["count_labels"] == counts["read_table"] == counts["decoded (before)"]:
        raise SystemExit("count_labels, read_table and the decoded path disagree")
    best = {k: min(r["seconds"] for r in rs) for k, rs in results.items()}
    rows = []
    for k in kinds:
        rss = max(r["peak_rss_mb"] - r["base_rss_mb"] for r in results[k])
        rows.append([k, n_labels, round(best[k], 3), round(best[k] / best["count_labels"], 2),
                     round(rss), round(min(r["peak_rss_mb"] for r in results[k]))])
    return {
        "title": f"LabelTable from parquet ({n_labels:.0e} labels, list<string>, {K} classes)",
        "columns": ["path", "labels", "seconds (best)", "vs count_labels",
                    "peak RSS above start MiB", "process peak RSS MiB"],
        "rows": rows,
        "notes": (f"Fresh subprocess per case, {rounds} interleaved rounds, best time. "
                  "Counts of all three paths are identical. 'decoded (before)' is the path "
                  "read_table took before (strings materialised). Shared 2-core machine."),
    }


def sampler_section(n: int, replicas: list[int], rounds: int) -> dict[str, Any]:
    rows = []
    perm = [run_case(["sampler", "randperm", str(n), "1"]) for _ in range(rounds)]
    perm_s = min(r["seconds"] for r in perm)
    perm_mb = max(r["peak_above_base_mb"] for r in perm)
    rows.append(["torch.randperm(N) (baseline)", 1, n, round(perm_s, 2), 1.0, round(perm_mb),
                 1.0, "", "", round(max(r["peak_rss_mb"] for r in perm))])
    draw = run_case(["sampler", "draw", str(n), "1"])
    rows.append(["plan.draw(epoch) alone (the plan's work)", 1, draw["epoch_size"],
                 round(draw["seconds"], 2), round(draw["seconds"] / perm_s, 2),
                 round(draw["peak_above_base_mb"]),
                 round(draw["peak_above_base_mb"] / perm_mb, 2), round(draw["plan_rss_mb"]),
                 round(draw["plan_arrays_mb"]), round(draw["peak_rss_mb"])])
    for r in replicas:
        for kind, label in (("sampler", "BalancedSampler epoch (now)"),
                            ("old", "BalancedSampler epoch (before)")):
            res = [run_case(["sampler", kind, str(n), str(r)]) for _ in range(rounds)]
            s = min(x["seconds"] for x in res)
            mb = max(x["peak_above_base_mb"] for x in res)
            rows.append([label, r, res[0]["shard_size"], round(s, 2), round(s / perm_s, 2),
                         round(mb), round(mb / perm_mb, 2), round(res[0]["plan_rss_mb"]),
                         round(res[0]["plan_arrays_mb"]),
                         round(max(x["peak_rss_mb"] for x in res))])
    return {
        "title": f"One BalancedSampler epoch of {n:.0e} indices, rank 0 of R (per process)",
        "columns": ["case", "R", "indices (this rank)", "seconds", "vs randperm",
                    "epoch peak RSS above plan MiB", "vs randperm", "plan RSS MiB",
                    "plan arrays MiB", "process peak RSS MiB"],
        "rows": rows,
        "notes": ("Fresh subprocess per case. The plan (table, groups, member order) is "
                  "built first; the peak-RSS mark is then reset, so the memory column is the "
                  "epoch's own peak above the plan: the draw, the order and the indices "
                  "pulled through iter(). 'now' draws the systematic plan in blocks of 2^20 "
                  "rows (one byte a sample), builds the int32 order and shuffles it in place; "
                  "'before' re-implements the previous __iter__ (whole plan.draw, int64 "
                  "repeat, permutation copy, whole shard as one Python list). "
                  "'plan.draw alone' is the whole-epoch draw the sampler no longer calls. "
                  "plan RSS: the process after building the plan (Python, numpy, torch and "
                  "the plan); plan arrays: the plan's per-sample arrays (count matrix, group "
                  "ids, member ranks); process peak: the rank's whole peak during the epoch."),
    }


def resample_section(sizes: list[int], tmp: Path, timeout: float) -> dict[str, Any]:
    rows, notes = [], []
    for n in sizes:
        r = run_case(["resample", str(n), str(tmp), "1"], timeout=timeout)
        if "timed_out" in r:
            rows.append([n, f"> {timeout:.0f}", None, "stopped (timeout)"])
            continue
        rows.append([n, round(r["seconds"], 1), round(r["peak_rss_mb"]),
                     "; ".join(f"{name} {tot} s" for name, tot, _ in
                               r["profile_top_tottime"][:3])])
        notes.append(f"K={n}: " + "; ".join(f"{name}: tottime {tot} s, cumtime {cum} s"
                                            for name, tot, cum in r["profile_top_tottime"]))
    return {
        "title": "curate resample on K one-sample classes",
        "columns": ["classes (= samples)", "seconds (under cProfile)", "peak RSS MiB",
                    "top entries by own time"],
        "rows": rows,
        "notes": " | ".join(notes) or "no run finished",
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    ap.add_argument("--labels", type=float, default=2e7, help="labels in the parquet file")
    ap.add_argument("--indices", type=float, default=1e8, help="samples of the sampler plan")
    ap.add_argument("--replicas", type=int, nargs="+", default=[1, 4],
                    help="world sizes for the sampler cases (rank 0 measured)")
    ap.add_argument("--classes", type=float, nargs="+", default=[1e4, 1e5],
                    help="one-sample classes for curate resample")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds of the table cases")
    ap.add_argument("--sampler-rounds", type=int, default=1,
                    help="runs of each sampler case (each builds a plan of --indices samples)")
    ap.add_argument("--resample-timeout", type=float, default=900.0)
    ap.add_argument("--only", nargs="+", choices=("table", "sampler", "resample"),
                    default=["table", "sampler", "resample"])
    ap.add_argument("--out", default=None, help="results JSON (default benchmarks/results/)")
    ap.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    ap.add_argument("--result", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        what, *rest = args.worker
        if what == "table":
            res = table_worker(rest[0], rest[1])
        elif what == "sampler":
            res = sampler_worker(rest[0], int(rest[1]), int(rest[2]))
        else:
            res = resample_worker(int(rest[0]), rest[1], rest[2] == "1")
        Path(args.result).write_text(json.dumps(res))
        return 0
    if args.quick:
        args.labels, args.indices, args.classes, args.rounds = 2e5, 1e5, [300], 1
        args.sampler_rounds = 1
    tables = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if "table" in args.only:
            tables.append(table_section(int(args.labels), args.rounds, tmp))
        if "sampler" in args.only:
            tables.append(sampler_section(int(args.indices), args.replicas,
                                          args.sampler_rounds))
        if "resample" in args.only:
            tables.append(resample_section([int(c) for c in args.classes], tmp,
                                           args.resample_timeout))
    for t in tables:
        print_table(t["title"], t["columns"], t["rows"])
        print(t["notes"])
    if set(args.only) != {"table", "sampler", "resample"}:
        tables = merge_tables("memory", args.out, tables, _SECTIONS, args.only)
    path = write_results("memory", tables, out=args.out, extra={"quick": args.quick})
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
