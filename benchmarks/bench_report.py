"""Time to build and render a dataset report, and the size of what it writes.

For long-tailed tables of N samples and K classes: seconds to build the JSON structure
(``dataset_report``, which runs ``imbalance_stats``), to draw the plots and render the HTML,
and the sizes of the HTML page (with plots), the Markdown and the JSON. No plan or frontier
(their cost is the balancer's, measured in the balancer benchmarks).

Usage: ``python benchmarks/bench_report.py [--quick] [--out PATH]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import peak_rss_mb, print_table, write_results

from curate.datasets import make_long_tailed
from curate.report import dataset_report

FULL = [(5_000, 80), (50_000, 80), (50_000, 1_000), (200_000, 1_000)]
QUICK = [(500, 20), (2_000, 200)]


def _row(n: int, k: int) -> list[object]:
    table = make_long_tailed(n, k, seed=0)
    start = time.perf_counter()
    report = dataset_report(table, weights="inverse_sqrt")
    build = time.perf_counter() - start
    start = time.perf_counter()
    page = report.to_html()
    render = time.perf_counter() - start
    md, js = report.to_markdown(), report.to_json()
    kb = 1024
    return [n, k, round(build, 3), round(render, 3), round(len(page) / kb, 1),
            round(len(md) / kb, 1), round(len(js) / kb, 1), round(peak_rss_mb(), 1)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--out", default=None, help="results JSON path")
    args = parser.parse_args(argv)
    columns = ["N", "K", "build_s", "plots+html_s", "html_kb", "md_kb", "json_kb", "peak_rss_mb"]
    rows = [_row(n, k) for n, k in (QUICK if args.quick else FULL)]
    title = "Dataset report: build and render time, output sizes"
    print_table(title, columns, rows)
    notes = ("make_long_tailed(N, K, seed=0), weights='inverse_sqrt', no plan; plots are PNG "
             "at 100 dpi; max_classes=40. Wall times on a shared machine.")
    path = write_results("report", [{"title": title, "columns": columns, "rows": rows,
                                     "notes": notes}], out=args.out)
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
