"""``make demo``: curate's main job end to end on the built-in long-tailed dataset.

Run with ``python -m curate.demo [--n-samples N] [--n-classes K] [--out report.html]``. It
measures the imbalance, suggests class weights, balances the data with the integer program,
shows one sampler epoch next to the unbalanced one, and writes an HTML report.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

import curate
from curate.datasets import make_long_tailed

__all__ = ["main"]


def _totals_table(title: str, frame: pd.DataFrame, shown: Sequence[str]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("class")
    for col in frame.columns:
        table.add_column(str(col), justify="right")
    for name in shown:
        table.add_row(name, *(f"{v:,}" for v in frame.loc[name].tolist()))
    return table


def _shown_classes(counts: pd.Series, k: int = 4) -> list[str]:
    order = counts.sort_values(ascending=False).index.tolist()
    return order[:k] + order[-k:] if len(order) > 2 * k else order


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo; return 0.

    Parameters
    ----------
    argv : sequence of str, default=None
        Command-line arguments (``--n-samples``, ``--n-classes``, ``--seed``, ``--out``);
        ``None`` reads ``sys.argv``.

    Returns
    -------
    int
        The exit status, 0.

    Examples
    --------
    >>> main(["--n-samples", "300", "--n-classes", "8", "--out", "-"])  # doctest: +SKIP
    0
    """
    parser = argparse.ArgumentParser(prog="python -m curate.demo", description=__doc__)
    parser.add_argument("--n-samples", type=int, default=5000)
    parser.add_argument("--n-classes", type=int, default=80)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="report.html", help="report path, or - for none")
    args = parser.parse_args(argv)
    console = Console()

    table = make_long_tailed(args.n_samples, args.n_classes, seed=args.seed)
    console.rule("[bold]1. The data: curate.datasets.make_long_tailed")
    console.print(table)

    stats = curate.imbalance_stats(table)
    console.rule("[bold]2. How imbalanced is it? curate.imbalance_stats")
    console.print(
        f"imbalance ratio {stats.imbalance_ratio:,.0f}x · majority {stats.majority_class!r} "
        f"holds {stats.majority_share:.0%} of labels · effective classes "
        f"{stats.effective_classes:.1f} of {stats.n_classes} · {stats.n_empty} empty samples"
    )
    for advice in stats.advice:
        console.print(f"  [yellow]![/yellow] {advice.message}")

    weights = curate.class_weights(table, scheme="inverse_sqrt", alpha=0.5)
    console.rule("[bold]3. Loss weights: curate.class_weights(scheme='inverse_sqrt')")
    w = pd.Series(weights.to_numpy(), index=list(weights.classes))
    console.print(
        f"lowest {w.idxmin()!r} {w.min():.3f} · highest {w.idxmax()!r} {w.max():.3f} · "
        f"mean {w.mean():.3f}"
    )

    console.rule("[bold]4. Rebalance: curate.InterClassBalancer().fit(table)")
    plan = curate.InterClassBalancer(seed=args.seed).fit(table)
    console.print(plan.summary())

    console.rule("[bold]5. Per epoch: curate.BalancedSampler(plan)")
    sampler = curate.BalancedSampler(plan)
    epochs = {}
    for epoch in (0, 1):
        sampler.set_epoch(epoch)
        idx = np.fromiter(iter(sampler), dtype=np.int64)
        epochs[f"epoch {epoch}"] = np.asarray(table.matrix[idx].sum(axis=0)).ravel()
    frame = pd.DataFrame({"unbalanced": table.counts.to_numpy(), **epochs}, index=table.classes)
    console.print(_totals_table("class totals (4 most and 4 least frequent)", frame,
                                _shown_classes(table.counts)))
    seen = plan.draw(0) + plan.draw(1) > 0
    console.print(
        f"epoch length {len(sampler):,} (unbalanced {table.n_samples:,}); "
        f"distinct samples seen in 2 epochs: {int(seen.sum()):,} of {table.n_samples:,} "
        f"(epoch 0 alone: {int((plan.draw(0) > 0).sum()):,}): every sample is drawn at least "
        f"once in every {plan.coverage_epochs} consecutive epochs"
    )

    if args.out != "-":
        out = Path(args.out).resolve()
        console.rule("[bold]6. Report: curate.report.dataset_report(table, plan=plan)")
        curate.report.dataset_report(table, plan=plan, weights=weights).to_html(out)
        console.print(f"wrote {out}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
