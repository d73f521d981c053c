"""``curate weights INPUT --scheme inverse_sqrt --alpha 0.5 --background O --out weights.json``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from curate.cli._common import (
    add_input_arguments,
    check_distinct,
    check_out,
    input_paths,
    read_input,
)

__all__ = ["register", "run"]


def _background_weight(text: str) -> float | str:
    if text in ("lowest", "scaled"):
        return text
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"expected a float in (0, 1], 'lowest' or 'scaled'; got {text!r}"
        ) from exc
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"expected a float in (0, 1]; got {text!r}")
    return value


def register(subparsers: Any) -> None:
    """Add the ``weights`` subcommand to ``subparsers``."""
    p = subparsers.add_parser(
        "weights",
        help="compute class weights for a weighted loss and save them",
        description="Compute one loss weight per class from the label counts of INPUT "
        "(curate.class_weights), print them as a table and as a TOML [class_weights] block "
        "with label ids, and optionally save the artifact (.json, or .pt for torch).",
    )
    add_input_arguments(p)
    p.add_argument("--scheme", default="inverse_sqrt",
                   choices=("inverse", "inverse_sqrt", "effective", "balanced"))
    p.add_argument("--alpha", type=float, default=0.5, help="exponent of inverse_sqrt")
    p.add_argument("--beta", type=float, default=0.999, help="beta of effective")
    p.add_argument("--background-weight", type=_background_weight, default="lowest",
                   help="'lowest' (default: no class weighs less than the background), "
                   "'scaled', or a float in (0, 1]")
    p.add_argument("--normalize", default="auto", choices=("auto", "mean", "all", "none"))
    p.add_argument("--clip", type=float, nargs=2, default=None, metavar=("LO", "HI"))
    p.add_argument("--out", default=None, help="save the artifact: weights.json or weights.pt; "
                   "with --label-names, position i of the saved weights is label id i")
    p.add_argument("--no-toml", action="store_true", help="do not print the TOML block")
    p.set_defaults(func=run)


def _print_table(weights: Any) -> None:
    if sys.stdout.isatty():
        try:
            from rich.console import Console
            from rich.markup import escape
            from rich.table import Table
        except ImportError:  # pragma: no cover - rich is a dependency
            pass
        else:
            table = Table(title=escape(f"class weights ({weights.scheme})"))
            for col in ("id", "class", "count", "weight"):
                table.add_column(col, justify="left" if col == "class" else "right")
            for i, (c, n, w) in enumerate(zip(weights.classes, weights.counts.tolist(),
                                              weights.weights.tolist(), strict=True)):
                name = f"{c} (background)" if c == weights.background else c
                table.add_row(str(i), escape(str(name)), str(n), f"{w:.4f}")
            Console().print(table)
            return
    print(repr(weights))


def run(args: argparse.Namespace) -> int:
    """Read the labels, compute the weights with the public API, print and save them."""
    import curate
    check_distinct({"--out": args.out}, input_paths(args))
    if args.out:
        check_out(args.out, (".json", ".pt", ".pth"))
    background: Any = False if args.background == "none" else args.background
    table = read_input(argparse.Namespace(**{**vars(args), "background": (
        None if args.background in (None, "none") else args.background)}))
    weights = curate.class_weights(
        table, scheme=args.scheme, alpha=args.alpha, beta=args.beta, background=background,
        background_weight=args.background_weight, normalize=args.normalize,
        clip=tuple(args.clip) if args.clip else None,
    )
    _print_table(weights)
    if not args.no_toml:
        print()
        print(weights.to_toml())
    if args.out:
        path = weights.save(args.out)
        print(f"\nsaved {path}", file=sys.stderr)
    return 0
