"""Count 10^8 labels from parquet: ``curate.count_labels`` vs ``pandas explode().value_counts()``.

The data is a ``list<string>`` column (one list of class names per row, 1-19 labels per row,
1000 classes with Zipf-like frequencies), written with pyarrow into a temporary folder
(parquet stores the strings dictionary-encoded; curate reads them as dictionaries, pandas
as Python strings). Each measurement runs in its own subprocess so that its peak RSS
(``ru_maxrss``) is its own. pandas at 10^8 needs far more memory than this shared machine
allows, so pandas runs at ``--pandas-max`` labels and curate runs at both that size (for the
speed ratio) and at ``--n-labels`` (for memory flatness). Counts of both are checked equal.

Usage::

    python benchmarks/bench_counting.py            # 1e8 labels, pandas at 2e7
    python benchmarks/bench_counting.py --quick    # 1e6 labels, a smoke run
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import peak_rss_mb, print_table, write_results

N_CLASSES = 1000


def generate(path: Path, n_labels: int, seed: int = 0) -> int:
    """Write ``n_labels`` labels (approximately, whole rows) and return the exact number."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    names = pa.array([f"class_{k:04d}" for k in range(N_CLASSES)])
    p = np.arange(1, N_CLASSES + 1, dtype=np.float64) ** -1.1
    p /= p.sum()
    schema = pa.schema([("labels", pa.list_(pa.string()))])
    written, chunk = 0, 5_000_000
    with pq.ParquetWriter(path, schema, compression="zstd") as w:
        while written < n_labels:
            lengths = rng.integers(1, 20, size=max(1, chunk // 10))
            lengths = lengths[np.cumsum(lengths) <= min(chunk, n_labels - written)]
            if lengths.size == 0:
                lengths = np.array([n_labels - written])
            codes = rng.choice(N_CLASSES, size=int(lengths.sum()), p=p)
            offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
            values = names.take(pa.array(codes))
            arr = pa.ListArray.from_arrays(pa.array(offsets), values)
            w.write_table(pa.table({"labels": arr}, schema=schema), row_group_size=1_000_000)
            written += int(lengths.sum())
    return written


def worker(kind: str, path: str, out: str) -> None:
    """Count in this process and write seconds, peak RSS and the counts to ``out``."""
    import pandas as pd  # imports are not timed

    from curate.io import count_labels

    t0 = time.perf_counter()
    if kind == "curate":
        counts = count_labels(path, column="labels", progress=False)
    else:
        counts = pd.read_parquet(path, columns=["labels"])["labels"].explode().value_counts()
    seconds = time.perf_counter() - t0
    result = {"seconds": seconds, "peak_rss_mb": peak_rss_mb(),
              "counts": {str(k): int(v) for k, v in counts.items()}}
    Path(out).write_text(json.dumps(result))


def measure(kind: str, path: Path, tmp: Path) -> dict:
    out = tmp / f"{kind}-{path.stem}.json"
    subprocess.run([sys.executable, __file__, "--worker", kind, "--file", str(path),
                    "--result", str(out)], check=True)
    return json.loads(out.read_text())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-labels", type=float, default=1e8)
    ap.add_argument("--pandas-max", type=float, default=2e7,
                    help="largest size pandas is run at (memory); default 2e7")
    ap.add_argument("--quick", action="store_true", help="1e6 labels, for a smoke run")
    ap.add_argument("--out", default=None, help="results JSON (default benchmarks/results/)")
    ap.add_argument("--worker", choices=("curate", "pandas"), help=argparse.SUPPRESS)
    ap.add_argument("--file", help=argparse.SUPPRESS)
    ap.add_argument("--result", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(args.worker, args.file, args.result)
        return 0
    n_big = int(1e6 if args.quick else args.n_labels)
    n_pd = min(n_big, int(args.pandas_max))
    rows = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        sizes = sorted({n_pd, n_big})
        files = {}
        for n in sizes:
            files[n] = tmp / f"labels_{n}.parquet"
            exact = generate(files[n], n)
            assert exact == n, (exact, n)
        results = {}
        for n in sizes:
            results[("curate", n)] = measure("curate", files[n], tmp)
        results[("pandas", n_pd)] = measure("pandas", files[n_pd], tmp)
        same = results[("curate", n_pd)]["counts"] == results[("pandas", n_pd)]["counts"]
        if not same:
            raise SystemExit("curate and pandas counts differ")
        for (kind, n), r in sorted(results.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            mb = files[n].stat().st_size / 2**20
            rows.append([kind, f"{n:.0e}", round(mb, 1), round(r["seconds"], 2),
                         round(n / r["seconds"] / 1e6, 1), round(r["peak_rss_mb"])])
        ratio = results[("pandas", n_pd)]["seconds"] / results[("curate", n_pd)]["seconds"]
    columns = ["method", "labels", "file MiB", "seconds", "Mlabels/s", "peak RSS MiB"]
    title = "Counting labels of a parquet list<string> column (1000 Zipf classes)"
    print_table(title, columns, rows)
    print(f"\nspeed-up of count_labels over pandas at {n_pd:.0e} labels: {ratio:.1f}x "
          "(counts identical)")
    notes = (f"pandas = read_parquet(...)['labels'].explode().value_counts(), measured at "
             f"{n_pd:.0e} labels only (memory); count_labels at {n_pd:.0e} and {n_big:.0e}. "
             f"Speed-up at {n_pd:.0e}: {ratio:.1f}x. Each row is a fresh subprocess; peak RSS "
             "= ru_maxrss. Shared 2-core machine: timings are noisy.")
    write_results("counting", [{"title": title, "columns": columns, "rows": rows,
                                "notes": notes}], out=args.out,
                  extra={"speedup": ratio, "counts_equal": True})
    return 0


if __name__ == "__main__":
    sys.exit(main())
