"""Run every benchmark, one after another, then render ``docs/benchmarks.md``.

``make bench`` calls this. Each ``benchmarks/bench_*.py`` script and
``benchmarks/train_effect.py`` runs as its own subprocess, sequentially so that their timings
do not interfere; each writes ``benchmarks/results/<name>.json``. Afterwards
``render_docs.py`` turns every results file into ``docs/benchmarks.md``.

With ``--quick`` every script gets ``--quick`` and writes to ``benchmarks/results/quick/``
(or ``--results-dir``) instead, and the page goes to ``<that folder>/benchmarks.md``: a
smoke run never overwrites the committed numbers.

Usage::

    python benchmarks/run_all.py                     # everything (full runs)
    python benchmarks/run_all.py --quick             # smoke run of everything
    python benchmarks/run_all.py --only sampler train_effect
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def discover() -> list[Path]:
    """``bench_*.py`` in name order, then ``train_effect.py`` (the longest) last."""
    scripts = sorted(HERE.glob("bench_*.py"))
    train = HERE / "train_effect.py"
    return [*scripts, train] if train.is_file() else scripts


def _matches(script: Path, names: list[str]) -> bool:
    stem = script.stem
    return any(n in (stem, stem.removeprefix("bench_"), f"{stem}.py") for n in names)


def run_one(script: Path, *, quick: bool, out_dir: Path | None, timeout: float | None) -> dict:
    """Run one script; returns its name, exit code, wall time and a one-line status."""
    cmd = [sys.executable, str(script)]
    if quick:
        cmd.append("--quick")
    if out_dir is not None:
        cmd += ["--out", str(out_dir / f"{script.stem}.json")]
    print(f"\n=== {script.name}: {' '.join(cmd[1:])}", flush=True)
    start = time.perf_counter()
    try:
        rc = subprocess.run(cmd, cwd=ROOT, timeout=timeout, check=False).returncode
        status = "ok" if rc == 0 else f"exit code {rc}"
    except subprocess.TimeoutExpired:
        rc, status = -1, f"timed out after {timeout:.0f}s"
    return {"script": script.name, "rc": rc, "seconds": time.perf_counter() - start,
            "status": status}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="pass --quick to every script; write to benchmarks/results/quick/")
    parser.add_argument("--only", nargs="+", metavar="NAME", default=None,
                        help="run only these scripts (e.g. sampler, bench_sampler, train_effect)")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds after which a script is stopped (default: none)")
    parser.add_argument("--results-dir", type=Path, default=None,
                        help="write results here (and the page as <dir>/benchmarks.md)")
    parser.add_argument("--no-render", action="store_true",
                        help="do not regenerate the Markdown page")
    args = parser.parse_args(argv)

    scripts = discover()
    if args.only:
        unknown = [n for n in args.only if not any(_matches(s, [n]) for s in scripts)]
        if unknown:
            names = [s.stem for s in scripts]
            parser.error(f"--only {unknown} matches no script; choose from {names}")
        scripts = [s for s in scripts if _matches(s, args.only)]
    default_dir = HERE / "results" / "quick" if args.quick else HERE / "results"
    results_dir = args.results_dir or default_dir
    results_dir.mkdir(parents=True, exist_ok=True)
    committed = results_dir == HERE / "results"  # the full run behind docs/benchmarks.md
    out_dir = None if committed else results_dir

    summary = [run_one(s, quick=args.quick, out_dir=out_dir, timeout=args.timeout)
               for s in scripts]

    print("\n=== summary")
    for r in summary:
        print(f"{r['script']:<24} {r['status']:<22} {r['seconds']:8.1f}s")
    if not args.no_render:
        sys.path.insert(0, str(HERE))
        import render_docs

        page = ROOT / "docs" / "benchmarks.md" if committed else results_dir / "benchmarks.md"
        render_docs.main(["--results", str(results_dir), "--out", str(page)])
    return 0 if all(r["rc"] == 0 for r in summary) else 1


if __name__ == "__main__":
    sys.exit(main())
