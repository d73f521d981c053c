"""Per-rank memory of ``curate.engine.ManifestSampler`` at 10^8 rows (issue 14, item 3).

Builds a synthetic parquet dataset (``bench_scale._synthetic_parquet``: 1-2 Zipf labels per
row over 200 classes, row groups of 250k rows = partitions), runs the local label pass, fits
the plan on the signature totals and writes the partitioned manifest; then, in one fresh
process per case, iterates one epoch of rank 0 of ``R`` and records the process's peak RSS
(``ru_maxrss``), next to ``torch.randperm(N)`` in its own fresh process as the baseline.

    python benchmarks/bench_manifest_sampler.py --rows 1e8 --replicas 1 4
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import peak_rss_mb, print_table, write_results


def _hwm_mb() -> float:
    """Peak RSS of this process since the last reset (``VmHWM``), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return peak_rss_mb()  # pragma: no cover - not Linux


def _measure(run: Any) -> dict[str, Any]:
    """Run ``run()`` after the imports, with the peak mark reset to the RSS at that point (a
    child's ``ru_maxrss`` starts at its parent's RSS, so it is not used)."""
    from bench_memory import current_rss_mb, reset_peak

    reset_peak()
    base = current_rss_mb()
    start = time.perf_counter()
    n = run()
    return {"indices": n, "seconds": time.perf_counter() - start, "peak_rss_mb": _hwm_mb(),
            "after_imports_mb": base}


def _rank_worker(folder: str, replicas: int, rank: int) -> dict[str, Any]:
    import torch  # noqa: F401  (imports are not measured)

    from curate.engine import Manifest, ManifestSampler

    def run() -> int:
        sampler = ManifestSampler(Manifest.load(folder), num_replicas=replicas, rank=rank)
        sampler.set_epoch(1)
        return sum(1 for _ in sampler)

    return _measure(run)


def _randperm_worker(n: int) -> dict[str, Any]:
    import torch

    return _measure(lambda: int(torch.randperm(n).numel()))


def _child(*args: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--worker", *args], capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=float, default=1e8)
    ap.add_argument("--replicas", type=int, nargs="+", default=[1, 4])
    ap.add_argument("--out", default=None)
    ap.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        kind, *rest = args.worker
        res = (_rank_worker(rest[0], int(rest[1]), int(rest[2])) if kind == "rank"
               else _randperm_worker(int(rest[0])))
        print(json.dumps(res))
        return 0
    import bench_scale

    from curate.engine import fit_plan, label_pass, write_manifest

    rows = int(args.rows)
    table_rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = bench_scale._synthetic_parquet(Path(tmp), rows)
        start = time.perf_counter()
        lp = label_pass(path, column="labels", engine="local")
        manifest = write_manifest(Path(tmp) / "m", lp, fit_plan(lp), engine="local")
        built = time.perf_counter() - start
        print(f"manifest of {rows} rows ({manifest.n_partitions} partitions) in {built:.1f} s",
              flush=True)
        base = _child("randperm", str(rows))
        table_rows.append(["torch.randperm(N) (baseline)", 1, base["indices"], base["seconds"],
                           base["peak_rss_mb"], base["peak_rss_mb"] - base["after_imports_mb"]])
        for r in args.replicas:
            res = _child("rank", str(Path(tmp) / "m"), str(r), "0")
            table_rows.append([f"ManifestSampler, rank 0 of {r}", r, res["indices"],
                               res["seconds"], res["peak_rss_mb"],
                               res["peak_rss_mb"] - res["after_imports_mb"]])
    columns = ["case", "R", "indices", "seconds", "process peak RSS MiB",
               "peak above imports MiB"]
    title = f"One epoch per rank from a partitioned manifest, {rows:.0e} rows"
    notes = ("Fresh process per case; iterating the sampler (Python ints handed out in chunks). "
             "Peak = VmHWM after resetting it once curate and torch are imported; 'above "
             "imports' subtracts the RSS at that point. Shared 2-core "
             f"machine; manifest built with the local engine in {built:.0f} s.")
    print_table(title, columns, table_rows)
    out = write_results("manifest_sampler", [{"title": title, "columns": columns,
                                              "rows": table_rows, "notes": notes}],
                        out=args.out)
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
