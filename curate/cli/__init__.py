"""The ``curate`` command line: ``curate stats | weights | resample | report | evaluate``.

This module only parses arguments and calls the public API; each subcommand lives in
``curate/cli/_<name>.py`` and defines ``register(subparsers)``. Errors raised by curate
(``CurateError``) and file-system errors (missing file, a folder where a file was expected,
no permission) are printed as one line and exit with status 1. A usage error found after
parsing (``curate.cli._common.UsageError``: flags that do not go together, an output path that
is an input) is printed as argparse prints its own (usage line, ``curate COMMAND: error: ...``)
and exits with status 2, as argparse does. Any other exception is a bug in curate: it is printed
as one line asking for a report, with the traceback only when ``CURATE_DEBUG=1`` is set.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from curate import __version__
from curate.cli._common import UsageError
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

    Parameters
    ----------
    argv : sequence of str, default=None
        The arguments after ``curate`` (``["stats", "train.parquet"]``); ``None`` reads
        ``sys.argv[1:]``.

    Returns
    -------
    int
        0 on success, 1 on an error (printed to stderr as one line), 2 on a usage error found
        after parsing (argparse's own usage errors raise ``SystemExit(2)``), 3 when
        ``evaluate --fail-on-paradox`` flags the paradox.

    Examples
    --------
    >>> main(["stats", "no-such-file.parquet"])  # "error: ..." goes to stderr as one line
    1
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status = args.func(args)
    except UsageError as exc:
        command = _command_parser(parser, args.command)
        command.print_usage(sys.stderr)
        print(f"{command.prog}: error: {exc}", file=sys.stderr)
        return 2
    except (CurateError, OSError) as exc:
        print(f"error: {type(exc).__name__}: {_one_line(exc)}", file=sys.stderr)
        return 1
    except Exception as exc:
        if os.environ.get("CURATE_DEBUG") == "1":
            raise
        print(f"error: internal error in curate ({type(exc).__name__}: {_one_line(exc)}); "
              "please report it, rerun with CURATE_DEBUG=1 for the traceback", file=sys.stderr)
        return 1
    return int(status or 0)


def _command_parser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    """The subparser of command ``name`` (for its usage line)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices[name]
    return parser  # pragma: no cover - build_parser always adds the subcommands


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
