"""``curate report INPUT --out report.html``: the EDA report of a label file (and a plan)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from curate.cli._common import (
    add_input_arguments,
    amount,
    check_distinct,
    check_out,
    input_paths,
    read_input,
    reject_flags,
)

__all__ = ["register", "run"]

_BALANCER_OPTIONS = (
    "minimize_duplicates", "count", "target_size", "max_duplicates", "max_removals", "solver",
    "time_limit", "seed",
)


def register(subparsers: Any) -> None:
    """Add the ``report`` subcommand to ``subparsers``."""
    p = subparsers.add_parser(
        "report",
        help="write an EDA report (HTML with plots, Markdown or JSON) of a label file",
        description="Write an exploratory report of a label file: headline imbalance "
        "numbers and advice, class distribution, cumulative share, labels per sample, "
        "co-occurrence, optional class weights and an optional balancing plan with its "
        "trade-off frontier. The format follows the --out suffix (.html, .md, .json).",
    )
    add_input_arguments(p)
    p.add_argument("--out", required=True, help="output path: report.html, report.md or .json")
    p.add_argument("--format-out", choices=("html", "md", "json"), default=None,
                   help="output format (default: from the --out suffix)")
    p.add_argument("--title", default="Dataset report", help="report title")
    p.add_argument("--weights", action="append", default=None, metavar="SCHEME",
                   help="add a class-weight table for SCHEME (repeatable): inverse, "
                   "inverse_sqrt, effective, balanced")
    p.add_argument("--no-plots", action="store_true", help="HTML without plots (no matplotlib)")
    p.add_argument("--max-classes", type=int, default=40,
                   help="classes shown individually in tables and plots (default 40)")
    g = p.add_argument_group("balancing (with --balance)")
    g.add_argument("--balance", action="store_true",
                   help="fit curate.InterClassBalancer and add the plan and its frontier")
    g.add_argument("--no-frontier", action="store_true",
                   help="skip the trade-off frontier (it fits the balancer at 6 budgets)")
    g.add_argument("--minimize-duplicates", action="store_true", default=None,
                   help="keep every sample of a below-target class")
    g.add_argument("--count", choices=("instances", "samples"), default=None,
                   help="balance instance totals or samples holding a class")
    g.add_argument("--target-size", type=amount, default=None,
                   help="epoch size: int count or float fraction of N")
    g.add_argument("--max-duplicates", type=amount, default=None,
                   help="budget of duplicates: int count or float fraction of N")
    g.add_argument("--max-removals", type=amount, default=None,
                   help="budget of removals: int count or float fraction of N")
    g.add_argument("--solver", choices=("auto", "lp", "cbc", "highs"), default=None)
    g.add_argument("--time-limit", type=float, default=None, help="seconds per solve")
    g.add_argument("--seed", type=int, default=None, help="seed of the plan's draws")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Read the labels, build the report with the public API, write it, print its path."""
    import curate
    from curate.report import dataset_report
    from curate.report._report import format_from_path

    check_distinct({"--out": args.out}, input_paths(args))
    if not args.balance:
        reject_flags(args, ("no_frontier", *_BALANCER_OPTIONS),
                     "cannot be used without --balance (they set up the balancing plan of the "
                     "report); add --balance, or remove them")
    out = check_out(args.out)
    fmt = args.format_out or format_from_path(out)
    table = read_input(args)
    plan = None
    if args.balance:
        options = {k: getattr(args, k) for k in _BALANCER_OPTIONS if getattr(args, k) is not None}
        plan = curate.InterClassBalancer(**options).fit(table)
    report = dataset_report(
        table, plan, args.weights, frontier=not args.no_frontier, plots=not args.no_plots,
        title=args.title, max_classes=args.max_classes,
    )
    report.save(out, format=fmt)
    print(out.resolve(), file=sys.stdout)
    return 0
