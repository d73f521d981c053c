"""curate.evaluate vs scikit-learn (10^7 multiclass labels) and seqeval (CoNLL-2003 x10).

Both comparisons assert that the numbers are identical (to 1e-12) before timing counts.

    python benchmarks/bench_metrics.py            # full run, writes results/metrics.json
    python benchmarks/bench_metrics.py --quick    # small smoke run
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import peak_rss_mb, print_table, write_results

from curate.metrics import evaluate

CONLL = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "conll2003_ner"
KEYS = ("precision", "recall", "f1-score", "support")


def _same(mine: dict, ref: dict) -> bool:
    for key, row in ref.items():
        if isinstance(row, dict):
            if any(abs(float(mine[key][k]) - float(row[k])) > 1e-12 for k in KEYS):
                return False
        elif abs(float(mine[key]) - float(row)) > 1e-12:
            return False
    return True


def _time(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def bench_multiclass(n: int, k: int, repeat: int) -> list:
    from sklearn.metrics import classification_report

    rng = np.random.default_rng(0)
    p = 1 / np.arange(1, k + 1) ** 1.2
    y_true = rng.choice(k, size=n, p=p / p.sum())
    y_pred = np.where(rng.random(n) < 0.8, y_true, rng.integers(0, k, n))
    t_cur, ev = _time(lambda: evaluate(y_true, y_pred, zero_division=0), repeat)
    t_sk, ref = _time(lambda: classification_report(y_true, y_pred, output_dict=True,
                                                    zero_division=0), 1)
    same = _same(ev.to_dict(), ref)
    assert same, "curate and scikit-learn disagree"
    return [f"multiclass {n:.0e} labels, {k} classes", "sklearn classification_report",
            round(t_sk, 3), round(t_cur, 3), round(t_sk / t_cur, 1), same]


def bench_tags(copies: int, repeat: int, mode: str | None) -> list:
    from seqeval.metrics import classification_report

    df = pd.read_parquet(CONLL / "labels.parquet", columns=["tags_iob2"])
    base = [list(s) for s in df["tags_iob2"]]
    vocab = sorted({t for s in base for t in s})
    rng = np.random.default_rng(1)
    y_true, y_pred = [], []
    for _ in range(copies):
        for seq in base:
            pred = list(seq)
            for i in np.flatnonzero(rng.random(len(seq)) < 0.05):
                pred[i] = vocab[rng.integers(len(vocab))]
            y_true.append(seq)
            y_pred.append(pred)
    n_tok = sum(map(len, y_true))
    t_cur, ev = _time(lambda: evaluate(y_true, y_pred, mode=mode or "default"), repeat)
    kw = {"mode": "strict", "scheme": __import__("seqeval.scheme").scheme.IOB2} if mode else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_sq, ref = _time(lambda: classification_report(y_true, y_pred, output_dict=True, **kw),
                          1)
    same = _same(ev.to_dict(), ref)
    assert same, "curate and seqeval disagree"
    return [f"entity level ({mode or 'default'}) CoNLL-2003 x{copies}, {n_tok:,} tokens",
            "seqeval classification_report", round(t_sq, 3), round(t_cur, 3),
            round(t_sq / t_cur, 1), same]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--out", default=None, help="results JSON path")
    args = parser.parse_args(argv)
    n, copies, repeat = (10**5, 1, 1) if args.quick else (10**7, 10, 3)
    rows = [bench_multiclass(n, 20, repeat)]
    if (CONLL / "labels.parquet").is_file():
        rows.append(bench_tags(copies, repeat, None))
        if not args.quick:
            rows.append(bench_tags(copies, repeat, "strict"))
    cols = ["case", "reference", "reference s", "curate s", "speed-up", "same numbers"]
    print_table("curate.evaluate vs reference implementations", cols, rows)
    print(f"peak RSS {peak_rss_mb():.0f} MiB")
    note = (f"Best of {repeat} runs for curate, one run for the reference; identical numbers "
            f"asserted to 1e-12. Peak RSS {peak_rss_mb():.0f} MiB.")
    name = "metrics_quick" if args.quick and args.out is None else "metrics"
    out = args.out or (None if not args.quick else
                       str(Path(__file__).parent / "results" / "metrics_quick.json"))
    write_results(name, [{"title": "curate.evaluate speed", "columns": cols, "rows": rows,
                          "notes": note}], out=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
