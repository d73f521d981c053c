"""Options shared by the subcommands that read a label file (stats, weights, resample, report)."""

from __future__ import annotations

import argparse
from typing import Any

from curate.io import FORMATS, read_labels
from curate.labels import LabelTable

__all__ = ["add_input_arguments", "read_input"]

LEVELS = ("token", "entity", "instance", "sample")


def add_input_arguments(parser: argparse.ArgumentParser, *, optional: bool = False) -> None:
    """Add ``INPUT --format --column --background --level`` to ``parser``.

    Examples
    --------
    >>> p = argparse.ArgumentParser()
    >>> add_input_arguments(p)
    >>> p.parse_args(["data.conll", "--level", "entity"]).level
    'entity'
    """
    parser.add_argument("input", metavar="INPUT", nargs="?" if optional else None,
                        help="label file or folder (see curate.io)")
    parser.add_argument("--format", choices=FORMATS, default=None,
                        help="input format (default: inferred from the path)")
    parser.add_argument("--column", default=None,
                        help="label column for parquet/csv/jsonl "
                        "(default: the first of labels, label, tags, ...)")
    parser.add_argument("--background", default=None,
                        help="background class, e.g. O (default for token-level tags: O)")
    parser.add_argument("--level", choices=LEVELS, default=None,
                        help="what to count: token tags or entity spans (conll / tag columns), "
                        "instances or samples")


def read_input(args: argparse.Namespace, **options: Any) -> LabelTable:
    """Read ``args.input`` with the shared options through :func:`curate.io.read_labels`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "train.conll"
    >>> _ = path.write_text("John B-PER\\nran O\\n")
    >>> ns = argparse.Namespace(input=str(path), format=None, column=None, background=None,
    ...                         level="entity")
    >>> read_input(ns).counts.to_dict()
    {'PER': 1}
    """
    return read_labels(args.input, format=args.format, column=args.column,
                       background=args.background, level=args.level, **options)
