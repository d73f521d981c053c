"""The ``curate`` command line: ``curate stats | weights | resample | report | evaluate``.

This module only parses arguments and calls the public API; each subcommand lives in
``curate/cli/_<name>.py`` and defines ``register(subparsers)``. Errors raised by curate
(``CurateError``) are printed as one line and exit with status 1.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from curate import __version__
from curate.exceptions import CurateError

__all__ = ["build_parser", "main"]

COMMANDS = ("stats", "weights", "resample", "report", "evaluate")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every subcommand registered.

    Examples
    --------
    >>> "stats" in build_parser().format_help()
    True
    """
    parser = argparse.ArgumentParser(
        prog="curate",
        description="Measure, rebalance and weight imbalanced labels; evaluate with macro metrics.",
    )
    parser.add_argument("--version", action="version", version=f"curate {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"curate.cli._{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 1 error, 2 usage).

    Examples
    --------
    >>> main(["--version"])  # doctest: +SKIP
    curate 0.1.0
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status = args.func(args)
    except CurateError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except FileNotFoundError as exc:
        print(f"error: FileNotFoundError: {exc}", file=sys.stderr)
        return 1
    return int(status or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
