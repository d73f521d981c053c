"""Beyond one process: streaming overhead, the partitioned label pass, and online balancing.

Table 1 — ``BalancedIterable`` overhead. A WebDataset shard set is written to a temporary
folder (``--stream-samples`` samples, a 32×32 PNG and a JSON label each). "plain" iterates
the WebDataset pipeline and decodes every sample (PIL PNG decode + ``json.loads``);
"identity plan" does the same through ``BalancedIterable`` with every multiplicity 1 (pure
machinery: key lookup, buffer, RNG); "balanced plan" uses a real plan (the epoch has the same
size, with removals and repeats). Times are CPU seconds of this process per yielded sample,
least of 5 runs (wall time on a shared 2-core machine is mostly other jobs). A second row pair
iterates an in-memory list (no I/O, no decoding): the machinery's own cost per sample, the
worst case for the relative overhead.

Table 2 — the label pass on a synthetic parquet dataset (``--rows``, written in chunks of
10^6 rows; a list<string> column with 1–2 labels per row from a Zipf law over 200 classes):
``curate.count_labels`` (one process), ``curate.engine.label_pass`` in-process, and on a
local Ray cluster of 2 workers (time with and without starting Ray; peak RSS per worker).
Each result is checked against ``count_labels``.

Table 3 — per-epoch class totals on the single-label shared sets, the stream in a seeded
random order: the original, the plan-driven stream (``InterClassBalancer``; totals of
``plan.draw(e)``, which the stream reproduces exactly), the online mode (no first pass), and
the online rejection / Poisson approach of pytorch-resample (M. Halford,
github.com/MaxHalford/pytorch-resample, ``UnderSampler`` and ``HybridSampler`` with a uniform
``desired_dist``; re-implemented here from its documented algorithm: running label counts,
accept-with-ratio against the pivot class, Poisson copies). Reported: epoch size, the max/min
class-total ratio and the coefficient of variation of class totals, mean over 3 epochs.

Usage: ``python benchmarks/bench_scale.py [--quick] [--rows 1e8] [--out PATH]``.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import print_table, write_results

import curate
from curate.balance import BalancePlan
from curate.stream import BalancedIterable

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
SINGLE_LABEL = [("places_lt", "label"), ("reuters_r52", "label"), ("ohsumed_text", "label"),
                ("trec_text", "label")]


# ----------------------------------------------------------------------------- table 1
def _write_shards(folder: Path, n: int, n_shards: int = 8) -> tuple[list[str], list[list[str]]]:
    import webdataset as wds

    rng = np.random.default_rng(0)
    keys, labels = [], []
    per = -(-n // n_shards)
    for s in range(n_shards):
        with wds.TarWriter(str(folder / f"shard-{s:03d}.tar")) as sink:
            for i in range(s * per, min(n, (s + 1) * per)):
                u = rng.random()
                lab = ["a"] if u < 0.8 else (["a", "b"] if u < 0.95 else ["c"])
                key = f"{i:08d}"
                pixels = rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)
                png = io.BytesIO()
                Image.fromarray(pixels).save(png, format="PNG")
                sink.write({"__key__": key, "json": json.dumps({"labels": lab}).encode(),
                            "png": png.getvalue()})
                keys.append(key)
                labels.append(lab)
    return keys, labels


def _decode(sample: dict) -> tuple[list[str], int]:
    image = np.asarray(Image.open(io.BytesIO(sample["png"])).convert("RGB"))
    return json.loads(sample["json"])["labels"], int(image[::8, ::8].sum())


def _best(fn: Callable[[], int], repeats: int = 5) -> tuple[float, int]:
    """Least CPU time of this process over ``repeats`` runs (robust on a shared machine)."""
    best, n = math.inf, 0
    for _ in range(repeats):
        start = time.process_time()
        n = fn()
        best = min(best, time.process_time() - start)
    return best, n


def _plan_for(keys: list[str], labels: list[list[str]]) -> tuple[BalancePlan, BalancePlan]:
    table = curate.LabelTable.from_labels(labels, sample_ids=keys)
    identity = BalancePlan.from_multiplicity(table, np.ones(len(keys)))
    return identity, curate.InterClassBalancer().fit(table)


def bench_stream(n: int) -> dict[str, Any]:
    import warnings

    import webdataset as wds

    warnings.simplefilter("ignore", ResourceWarning)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        keys, labels = _write_shards(Path(tmp), n)
        identity, plan = _plan_for(keys, labels)
        urls = sorted(str(p) for p in Path(tmp).glob("shard-*.tar"))

        def source() -> Any:
            return wds.WebDataset(urls, shardshuffle=False)

        def plain() -> int:
            return sum(1 for s in source() if _decode(s) is not None)

        def through(p: BalancePlan) -> Callable[[], int]:
            return lambda: sum(1 for _ in BalancedIterable(source(), p, transform=_decode))

        base, n_plain = _best(plain)
        for name, fn in [("plain WebDataset + decode", plain),
                         ("identity plan", through(identity)),
                         ("balanced plan", through(plan))]:
            t, m = _best(fn) if fn is not plain else (base, n_plain)
            rows.append([f"webdataset: {name}", m, t / m * 1e6, (t / m) / (base / n_plain) - 1])
        memory = [{"__key__": k} for k in keys]
        base_t, _ = _best(lambda: sum(1 for _ in memory))
        t_id, m_id = _best(lambda: sum(1 for _ in BalancedIterable(memory, identity)))
        rows.append(["in-memory list: plain", n, base_t / n * 1e6, 0.0])
        rows.append(["in-memory list: identity plan", m_id, t_id / m_id * 1e6,
                     (t_id / m_id) / (base_t / n) - 1])
    return {"title": f"BalancedIterable overhead ({n} samples, 8 WebDataset shards, CPU time)",
            "columns": ["pipeline", "samples yielded", "µs per sample", "overhead"],
            "rows": rows,
            "notes": "overhead = time per yielded sample relative to the plain pipeline; goal "
                     "≤ 5 % on a real (I/O + decode) pipeline. The in-memory rows isolate "
                     "the machinery's own cost per sample."}


# ----------------------------------------------------------------------------- table 2
def _synthetic_parquet(folder: Path, rows: int, chunk: int = 1_000_000) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(1)
    classes = np.asarray([f"c{j:03d}" for j in range(200)], dtype=object)
    p = 1.0 / np.arange(1, 201) ** 1.1
    p /= p.sum()
    path = folder / "synthetic.parquet"
    with pq.ParquetWriter(path, pa.schema([("labels", pa.list_(pa.string()))])) as writer:
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            sizes = rng.integers(1, 3, size=n)
            flat = classes[rng.choice(200, size=int(sizes.sum()), p=p)]
            offsets = np.zeros(n + 1, dtype=np.int32)
            np.cumsum(sizes, out=offsets[1:])
            arr = pa.ListArray.from_arrays(pa.array(offsets), pa.array(flat, pa.string()))
            writer.write_table(pa.table({"labels": arr}), row_group_size=250_000)
    return path


def bench_label_pass(rows: int, workers: int) -> dict[str, Any]:
    from curate.engine import label_pass
    from curate.io import count_labels

    out = []
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        path = _synthetic_parquet(Path(tmp), rows)
        print(f"wrote {rows} rows in {time.perf_counter() - start:.1f} s", flush=True)
        start = time.perf_counter()
        reference = count_labels(path, column="labels", progress=False)
        out.append(["count_labels (1 process)", time.perf_counter() - start, "", "", "yes"])
        local = label_pass(path, column="labels", engine="local")
        out.append(["label_pass engine='local'", local.details["seconds"], "",
                    local.n_signatures, str(local.counts.equals(reference))])
        try:
            import logging

            import ray
        except ImportError:
            out.append(["label_pass engine='ray'", None, "", "", "ray not installed"])
        else:
            start = time.perf_counter()
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False,
                     logging_level=logging.ERROR)
            boot = time.perf_counter() - start
            try:
                result = label_pass(path, column="labels", engine="ray", num_workers=workers)
            finally:
                ray.shutdown()
            peaks = sorted(v / 2**20 for v in result.details["worker_peak_rss"].values())
            out.append([f"label_pass engine='ray', {workers} workers (+{boot:.1f} s ray.init)",
                        result.details["seconds"], ", ".join(f"{v:.0f}" for v in peaks),
                        result.n_signatures, str(result.counts.equals(reference))])
    return {"title": f"Label pass over {rows:.3g} rows (synthetic parquet, 200 classes)",
            "columns": ["path", "seconds", "peak RSS per worker MiB", "signatures",
                        "equals count_labels"],
            "rows": out,
            "notes": "One row group of 250k rows per partition. The Ray time excludes "
                     "ray.init (shown in the label); a 2-core machine shared with other "
                     "jobs, so Ray's two workers compete with the driver."}


# ----------------------------------------------------------------------------- table 3
def _under_sampler(stream: Iterable[str], seed: int) -> Iterator[str]:
    """pytorch-resample's UnderSampler, uniform desired_dist (re-implemented)."""
    rng = random.Random(seed)
    seen: Counter[str] = Counter()
    pivot = None
    for y in stream:
        seen[y] += 1
        if y == pivot:
            yield y
            continue
        pivot = max(seen, key=lambda c: 1.0 / seen[c])  # f[c] / g[c] with f uniform
        ratio = (1.0 / seen[y]) / (1.0 / seen[pivot])
        if ratio < 1 and rng.random() < ratio:
            yield y


def _poisson(rate: float, rng: random.Random) -> int:
    """Knuth's Poisson sampler (what pytorch-resample uses for its copies)."""
    limit, k, p = math.exp(-rate), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _hybrid_sampler(stream: Iterable[str], n_classes: int, seed: int) -> Iterator[str]:
    """pytorch-resample's HybridSampler, uniform desired_dist, sampling_rate=1."""
    rng = random.Random(seed)
    seen: Counter[str] = Counter()
    n = 0
    for y in stream:
        seen[y] += 1
        n += 1
        for _ in range(_poisson((1.0 / n_classes) / (seen[y] / n), rng)):
            yield y


def _shape(totals: Counter[str], classes: list[str]) -> tuple[int, float, float]:
    values = np.asarray([totals.get(c, 0) for c in classes], dtype=np.float64)
    ratio = values.max() / values.min() if values.min() > 0 else math.inf
    return int(values.sum()), float(ratio), float(values.std() / values.mean())


def bench_online(epochs: int = 3) -> dict[str, Any]:
    from curate.io import read_table

    rows = []
    for name, column in SINGLE_LABEL:
        path = DATASETS / name / "labels.parquet"
        if not path.is_file():
            continue
        table = read_table(path, column=column)
        classes = list(table.classes)
        y = np.asarray(classes, dtype=object)[table.matrix.indices].tolist()
        plan = curate.InterClassBalancer().fit(table)
        results: dict[str, list[tuple[int, float, float]]] = {}
        for epoch in range(epochs):
            order = np.random.default_rng([7, epoch]).permutation(len(y))
            stream = [y[i] for i in order]
            draw = plan.draw(epoch)
            runs = {
                "original": Counter(stream),
                "plan (BalancedIterable)": Counter(
                    {c: int(v) for c, v in plan.class_totals(draw).items()}),
                "online (BalancedIterable)": Counter(
                    s["y"] for s in BalancedIterable([{"y": v} for v in stream], labels="y",
                                                     seed=epoch)),
                "pytorch-resample UnderSampler": Counter(_under_sampler(stream, epoch)),
                "pytorch-resample HybridSampler": Counter(
                    _hybrid_sampler(stream, len(classes), epoch)),
            }
            for method, totals in runs.items():
                results.setdefault(method, []).append(_shape(totals, classes))
        for method, shapes in results.items():
            arr = np.asarray(shapes, dtype=np.float64)
            rows.append([name, method, float(arr[:, 0].mean()), float(arr[:, 1].mean()),
                         float(arr[:, 2].mean())])
    return {"title": f"Per-epoch class totals, single-label shared sets (mean of {epochs} "
                     "epochs, stream in a seeded random order)",
            "columns": ["dataset", "method", "epoch size", "max/min class total",
                        "CV of class totals"],
            "rows": rows,
            "notes": "plan: exact totals of plan.draw(e) (the stream yields exactly these); "
                     "online and pytorch-resample: totals of one pass over the stream. "
                     "max/min is inf when a class gets no sample in the epoch."}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    parser.add_argument("--rows", type=float, default=2e6, help="label-pass rows (1e8: big run)")
    parser.add_argument("--stream-samples", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    rows = int(2e5 if args.quick else args.rows)
    samples = 2_000 if args.quick else args.stream_samples
    tables = [bench_stream(samples), bench_label_pass(rows, args.workers), bench_online()]
    for t in tables:
        print_table(t["title"], t["columns"], t["rows"])
    path = write_results("scale", tables, out=args.out)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
