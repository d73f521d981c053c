"""Options shared by the subcommands that read a label file (stats, weights, resample, report)."""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from curate.exceptions import CurateValueError
from curate.io import FORMATS, read_labels
from curate.io._common import existing_path
from curate.io._formats import infer_format
from curate.labels import LabelTable
from curate.labels._parse import normalize_id2label

__all__ = [
    "UsageError", "add_input_arguments", "amount", "check_distinct", "check_out", "flag",
    "input_paths", "label_names", "read_input", "reject_flags",
]

LEVELS = ("token", "entity", "instance", "sample")


class UsageError(CurateValueError):
    """A flag or path the command cannot use as given.

    :func:`curate.cli.main` prints it as argparse prints its own errors (the command's usage
    line, then ``curate COMMAND: error: ...``) and returns 2. Raised before any work is done.
    """


def flag(dest: str) -> str:
    """The command-line spelling of the argparse destination ``dest``.

    Examples
    --------
    >>> flag("write_indices"), flag("input")
    ('--write-indices', 'INPUT')
    """
    return "INPUT" if dest == "input" else "--" + dest.replace("_", "-")


def reject_flags(args: argparse.Namespace, dests: tuple[str, ...], reason: str) -> None:
    """Raise :class:`UsageError` naming every flag of ``dests`` that was given.

    A flag counts as given when its value is neither ``None`` nor ``False`` (the options
    checked this way default to ``None``, or ``False`` for on/off switches).

    Examples
    --------
    >>> ns = argparse.Namespace(seed=0, permanent=False, epoch=None)
    >>> reject_flags(ns, ("permanent", "epoch"), "cannot be used here")  # none given
    >>> reject_flags(ns, ("seed", "epoch"), "cannot be used without --balance")
    Traceback (most recent call last):
    ...
    curate.cli._common.UsageError: --seed cannot be used without --balance
    """
    given = [flag(d) for d in dests
             if (v := getattr(args, d, None)) is not None and v is not False]  # 0 is given
    if given:
        raise UsageError(f"{', '.join(given)} {reason}")


def _same_path(a: str, b: str) -> bool:
    """``a`` and ``b`` name one file: :func:`os.path.samefile` when both exist, else equal
    resolved paths."""
    pa, pb = Path(a), Path(b)
    try:
        if pa.exists() and pb.exists():
            return os.path.samefile(pa, pb)
        return pa.resolve() == pb.resolve()
    except (OSError, RuntimeError):  # unreadable / symlink loop: compare the spelled paths
        return os.path.abspath(a) == os.path.abspath(b)


def check_distinct(outputs: Mapping[str, str | None], inputs: Mapping[str, str | None]) -> None:
    """Refuse an output path that is one of the inputs (or another output).

    Parameters
    ----------
    outputs : mapping of str to str or None
        Flag name (``"--out"``) to the path the command writes; ``None`` is skipped.
    inputs : mapping of str to str or None
        Flag name (``"INPUT"``, ``"--label-names"``) to a path the command reads.

    Raises
    ------
    UsageError
        Naming both flags and both paths, before anything is read or written.

    Examples
    --------
    >>> check_distinct({"--out": "m.parquet"}, {"INPUT": "labels.parquet"})
    >>> check_distinct({"--out": "./labels.parquet"}, {"INPUT": "labels.parquet"})
    Traceback (most recent call last):
    ...
    curate.cli._common.UsageError: --out ./labels.parquet is the same file as INPUT ...
    """
    seen = [(k, v, "the input") for k, v in inputs.items() if v is not None]
    for out_flag, out in outputs.items():
        if out is None:
            continue
        for in_flag, path, what in seen:
            if _same_path(out, path):
                raise UsageError(
                    f"{out_flag} {out} is the same file as {in_flag} {path}; writing it would "
                    f"overwrite {what}: pass another {out_flag} path")
        seen.append((out_flag, out, "that output"))


def input_paths(args: argparse.Namespace) -> dict[str, str | None]:
    """The files a label-reading command reads: ``INPUT``, ``--label-names``, ``--data-yaml``.

    Examples
    --------
    >>> ns = argparse.Namespace(input="a.parquet", label_names=None)
    >>> input_paths(ns)
    {'INPUT': 'a.parquet', '--label-names': None, '--data-yaml': None}
    """
    return {flag(d): getattr(args, d, None) for d in ("input", "label_names", "data_yaml")}


def add_input_arguments(parser: argparse.ArgumentParser, *, optional: bool = False) -> None:
    """Add ``INPUT`` and the reader options (``--format --column --background --level`` ...).

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
                        help="background class, e.g. O (default for tag columns: O)")
    parser.add_argument("--level", choices=LEVELS, default=None,
                        help="what to count: token tags or entity spans (conll / tag columns), "
                        "instances or samples (instance: read a tag column as plain labels)")
    add_reader_options(parser)


def add_reader_options(parser: argparse.ArgumentParser) -> None:
    """Add the format-specific reader options (``--delimiter``, ``--label-names``, ...)."""
    g = parser.add_argument_group("reader options")
    g.add_argument("--delimiter", default=None,
                   help="CSV: split a cell into several labels on this string, e.g. '|'")
    g.add_argument("--label-names", metavar="JSON", default=None,
                   help="names of label ids and the class order: a Hugging Face config.json "
                   "(id2label), a JSON {id: name} or a JSON list")
    g.add_argument("--ignore-index", type=int, default=None,
                   help="integer label never counted (default -100)")
    g.add_argument("--data-yaml", default=None, help="YOLO: data.yaml with the class names")
    g.add_argument("--names", default=None,
                   help="YOLO: class names in id order, comma-separated (a,b,c)")
    g.add_argument("--split", default=None,
                   help="VOC: ImageSets/Main/<split>.txt list; YOLO: labels/<split>/")
    g.add_argument("--encoding", default=None, help="text encoding (default utf-8)")


def label_names(path: str) -> list[str]:
    """Names of a label-names file in id order (ids ``0..K-1``).

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "config.json"
    >>> _ = p.write_text(json.dumps({"id2label": {"1": "B-PER", "0": "O"}}))
    >>> label_names(str(p))
    ['O', 'B-PER']
    """
    ids, names = normalize_id2label(Path(path))
    order = sorted(range(len(ids)), key=lambda k: int(ids[k]))
    if [int(ids[k]) for k in order] != list(range(len(ids))):
        raise CurateValueError(
            f"--label-names {path} has ids {sorted(ids.tolist())}; ids must be 0..K-1 so that "
            "position i is label id i")
    return [names[k] for k in order]


def _options(args: argparse.Namespace) -> dict[str, Any]:
    """Reader options of ``args``, translated for the input's format."""
    opts: dict[str, Any] = {
        "delimiter": getattr(args, "delimiter", None),
        "ignore_index": getattr(args, "ignore_index", None),
        "data_yaml": getattr(args, "data_yaml", None),
        "split": getattr(args, "split", None),
        "encoding": getattr(args, "encoding", None),
    }
    names = getattr(args, "names", None)
    if names is not None:
        opts["names"] = [n.strip() for n in names.split(",") if n.strip()]
    path = getattr(args, "label_names", None)
    if path is not None:
        fmt = args.format or infer_format(existing_path(args.input, "INPUT"))
        if fmt in ("parquet", "csv", "jsonl"):
            opts["id2label"] = path
        elif fmt == "yolo":
            opts["names"] = label_names(path)
        elif fmt in ("conll", "voc", "cvat"):
            opts["classes"] = label_names(path)
        else:
            raise CurateValueError(f"--label-names does not apply to {fmt} input (its file "
                                   "names the classes); remove it")
    return opts


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
    opts = {**_options(args), **options}
    return read_labels(args.input, format=args.format, column=args.column,
                       background=args.background, level=args.level, **opts)


def amount(text: str) -> int | float:
    """An int count (``"120"``) or a float fraction of N (``"0.1"``), finite and >= 0.

    Examples
    --------
    >>> amount("120"), amount("0.25")
    (120, 0.25)
    """
    try:
        value: int | float = int(text)
    except ValueError:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected a count (int) or a fraction (float); got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(
            f"expected a finite count or fraction >= 0; got {text!r}")
    return value


def check_out(path: str, suffixes: tuple[str, ...] | None = None) -> Path:
    """``--out`` as a Path: not a folder, its folder exists, and a known suffix.

    Examples
    --------
    >>> check_out("report.md", (".md", ".html")).name
    'report.md'
    """
    p = Path(path)
    if p.is_dir():
        raise UsageError(f"--out {path} is a folder; pass a file path inside it, "
                               f"e.g. {p / ('out' + (suffixes[0] if suffixes else ''))}")
    if not p.parent.is_dir():
        raise CurateValueError(f"--out {path}: folder {str(p.parent)!r} does not exist; "
                               "create it first")
    if suffixes is not None and p.suffix.lower() not in suffixes:
        raise CurateValueError(f"--out {path} has suffix {p.suffix!r}; use one of "
                               f"{list(suffixes)}")
    return p



