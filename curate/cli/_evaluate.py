"""``curate evaluate TRUE PRED``: score predictions read from files; the verdict comes first."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from curate.exceptions import CurateValueError

__all__ = ["register", "run"]

_FORMATS = ("parquet", "csv", "jsonl", "conll")
_CANDIDATES = ("label", "labels", "tags_iob2", "tags", "y_true", "y", "target")
_PRED_CANDIDATES = ("prediction", "predictions", "pred", "y_pred", "tags_pred")


def register(subparsers: Any) -> None:
    """Add the ``evaluate`` subcommand."""
    p = subparsers.add_parser(
        "evaluate",
        help="score predictions per class; flag the accuracy paradox",
        description="Score PRED against TRUE per class and on average, print the "
        "accuracy-paradox verdict first, optionally compare with a second prediction (--vs).",
    )
    p.add_argument("true", metavar="TRUE", help="file with the true labels")
    p.add_argument("pred", metavar="PRED", help="file with the predictions (may be TRUE)")
    p.add_argument("--task", default="auto",
                   choices=("auto", "multiclass", "multilabel", "tags"))
    p.add_argument("--format", choices=_FORMATS, default=None,
                   help="input format (default: from the file suffix)")
    p.add_argument("--column", default=None,
                   help="column of the true labels (CoNLL: 0-based field index, default -1, "
                   "or -2 when PRED is the same file)")
    p.add_argument("--pred-column", default=None,
                   help="column of the predictions (CoNLL: field index, default -1)")
    p.add_argument("--vs", metavar="OTHER_PRED", default=None,
                   help="second prediction file: print the comparison PRED -> OTHER_PRED")
    p.add_argument("--names", nargs=2, metavar=("A", "B"), default=("unbalanced", "balanced"),
                   help="names of PRED and OTHER_PRED in the comparison")
    p.add_argument("--mode", default="default", choices=("default", "strict"))
    p.add_argument("--scheme", default="IOB2", choices=("IOB2", "IOBES"))
    p.add_argument("--zero-division", default="0", choices=("warn", "0", "1", "nan"),
                   help="value of a 0/0 score (default 0, without a warning)")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print JSON instead of a table")
    out.add_argument("--markdown", action="store_true", help="print Markdown")
    p.add_argument("--out", default=None,
                   help="write a report (.html, .md or .json) with curate.report")
    p.add_argument("--fail-on-paradox", action="store_true",
                   help="exit with status 3 when PRED's verdict flags the accuracy paradox")
    p.set_defaults(func=run)


def _format(path: Path, fmt: str | None) -> str:
    if fmt:
        return fmt
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("parquet", "pq"):
        return "parquet"
    if suffix in ("csv", "tsv"):
        return "csv"
    if suffix in ("jsonl", "ndjson", "json"):
        return "jsonl"
    return "conll"


def _read_conll_column(path: Path, column: int) -> list[list[str]]:
    """Whitespace-separated CoNLL: one token per line, blank line between sentences."""
    sentences: list[list[str]] = []
    current: list[str] = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        fields = line.split()
        if not fields:
            if current:
                sentences.append(current)
            current = []
            continue
        if fields[0] == "-DOCSTART-":
            continue
        try:
            current.append(fields[column])
        except IndexError:
            raise CurateValueError(
                f"{path}:{lineno} has {len(fields)} fields, no column {column}; "
                "pass --column/--pred-column") from None
    if current:
        sentences.append(current)
    return sentences


def _read_table(path: Path, fmt: str) -> pd.DataFrame:
    try:
        if fmt == "parquet":
            return pd.read_parquet(path)
        if fmt == "csv":
            return pd.read_csv(path, sep="\t" if path.suffix == ".tsv" else ",")
        return pd.read_json(path, lines=True)
    except (ValueError, OSError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise CurateValueError(f"cannot read {path} as {fmt}: {exc}") from exc


def _pick(frame: pd.DataFrame, column: str | None, candidates: tuple[str, ...],
          path: Path) -> list[Any]:
    if column is None:
        found = [c for c in candidates if c in frame.columns]
        if not found and len(frame.columns) == 1:
            found = list(frame.columns)
        if not found:
            raise CurateValueError(
                f"{path} has columns {list(frame.columns)}; choose one with --column / "
                "--pred-column")
        column = found[0]
    if column not in frame.columns:
        raise CurateValueError(
            f"{path} has no column {column!r}; columns are {list(frame.columns)}")
    values = frame[column].tolist()
    return [list(v) if hasattr(v, "__len__") and not isinstance(v, str) else v for v in values]


def _load(path: str, fmt: str | None, column: str | None, candidates: tuple[str, ...],
          default_field: int) -> list[Any]:
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"no such file: {path}")
    kind = _format(p, fmt)
    if kind == "conll":
        try:
            index = default_field if column is None else int(column)
        except ValueError:
            raise CurateValueError(
                f"--column for CoNLL is a field index such as -1; got {column!r}") from None
        return _read_conll_column(p, index)
    return _pick(_read_table(p, kind), column, candidates, p)


def _print_rich(ev: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    style = "bold red" if ev.paradox.flagged else "bold green"
    console.print(f"[{style}]{ev.paradox}[/]")
    for reason in ev.paradox.reasons:
        console.print(f"  • {reason}")
    console.print(ev.summary_line())
    for sub in (ev, ev.token):
        if sub is None:
            continue
        table = Table(title=f"{sub.task} · {sub.level} level")
        frame = sub.to_frame()
        table.add_column("class")
        for col in frame.columns:
            table.add_column(col, justify="right")
        for name, row in frame.iterrows():
            table.add_row(str(name), *(f"{v:.4f}" if isinstance(v, float) else str(v)
                                       for v in row.tolist()))
        console.print(table)


def _print_comparison(cmp: Any) -> None:
    print(cmp.to_markdown())


def run(args: argparse.Namespace) -> int:
    """Evaluate, print, optionally compare and write a report; 3 on paradox if asked."""
    from curate.metrics import compare, evaluate

    same = Path(args.true).resolve() == Path(args.pred).resolve()
    y_true = _load(args.true, args.format, args.column, _CANDIDATES, -2 if same else -1)
    pred_col = args.pred_column
    pred_candidates = _PRED_CANDIDATES if same else (*_PRED_CANDIDATES, *_CANDIDATES)
    y_pred = _load(args.pred, args.format, pred_col, pred_candidates, -1)
    zd: Any = args.zero_division if args.zero_division == "warn" else float(args.zero_division)
    kw = {"task": args.task, "mode": args.mode, "scheme": args.scheme, "zero_division": zd}
    ev = evaluate(y_true, y_pred, **kw)
    ev_vs = cmp = None
    if args.vs:
        other = _load(args.vs, args.format, pred_col, pred_candidates, -1)
        ev_vs = evaluate(y_true, other, **kw)
        cmp = compare(ev, ev_vs, names=tuple(args.names))
    if args.json:
        payload: dict[str, Any] = json.loads(ev.to_json())
        if cmp is not None:
            payload = {"evaluation": payload, "comparison": cmp.to_dict()}
        print(json.dumps(payload, indent=2))
    elif args.markdown or not sys.stdout.isatty():
        print(ev.to_markdown())
        if cmp is not None:
            _print_comparison(cmp)
    else:
        _print_rich(ev)
        if cmp is not None:
            _print_comparison(cmp)
    if args.out:
        _write_report(ev, ev_vs, Path(args.out))
    return 3 if args.fail_on_paradox and ev.paradox.flagged else 0


def _write_report(ev: Any, ev_vs: Any, path: Path) -> None:
    try:
        from curate.report import evaluation_report
    except ImportError as exc:
        raise CurateValueError(f"--out needs curate.report.evaluation_report: {exc}") from exc
    report = evaluation_report(ev, other=ev_vs)
    suffix = path.suffix.lower()
    writers = {".html": "to_html", ".htm": "to_html", ".md": "to_markdown", ".json": "to_json"}
    if suffix not in writers:
        raise CurateValueError(
            f"--out {path} has suffix {suffix!r}; use .html, .md or .json")
    getattr(report, writers[suffix])(path)
