"""``curate evaluate TRUE PRED``: score predictions read from files; the verdict comes first."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from curate.cli._common import check_out
from curate.exceptions import CurateValueError
from curate.io._common import existing_path
from curate.io._formats import COLUMN_FORMATS, infer_format, read_column

__all__ = ["register", "run"]


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
    p.add_argument("--format", choices=COLUMN_FORMATS, default=None,
                   help="input format (default: inferred as for every command, see curate.io)")
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
    p.add_argument("--delimiter", default=None,
                   help="CSV: split a cell into several labels on this string, e.g. '|'")
    p.add_argument("--encoding", default=None, help="text encoding (default utf-8)")
    p.add_argument("--fail-on-paradox", action="store_true",
                   help="exit with status 3 when PRED's verdict flags the accuracy paradox")
    p.set_defaults(func=run)


def _load(path: str, args: argparse.Namespace, column: str | None, role: str,
          default_field: int) -> list[Any]:
    """One column of labels or predictions through the shared reader (curate.io.read_column)."""
    p = existing_path(path, "path")
    fmt = args.format or infer_format(p)
    if fmt == "conll" and column is None:
        column = str(default_field)
    values = read_column(p, column=column, format=fmt, role=role, delimiter=args.delimiter,
                         encoding=args.encoding or "utf-8")
    return list(values.to_pylist())


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


def _prediction_column(path: Path) -> str:
    """TRUE and PRED are one file: its prediction column must be one of the usual names."""
    from curate.io._formats import PREDICTION_COLUMNS, read_frame

    names = list(read_frame(path, infer_format(path), []).column_names)
    found = [c for c in PREDICTION_COLUMNS if c in names]
    if not found:
        raise CurateValueError(
            f"{path.name} is both TRUE and PRED but has none of the prediction columns "
            f"{list(PREDICTION_COLUMNS)} (columns: {names}); pass --pred-column")
    return found[0]


def _print_comparison(cmp: Any) -> None:
    print(cmp.to_markdown())


def run(args: argparse.Namespace) -> int:
    """Evaluate, print, optionally compare and write a report; 3 on paradox if asked."""
    from curate.metrics import compare, evaluate

    if args.out:
        check_out(args.out, (".html", ".htm", ".md", ".json"))
    same = Path(args.true).resolve() == Path(args.pred).resolve()
    y_true = _load(args.true, args, args.column, "labels", -2 if same else -1)
    pred_col = args.pred_column
    if same and pred_col is None and (args.format or infer_format(Path(args.pred))) != "conll":
        pred_col = _prediction_column(Path(args.pred))
    y_pred = _load(args.pred, args, pred_col, "predictions", -1)
    zd: Any = args.zero_division if args.zero_division == "warn" else float(args.zero_division)
    kw = {"task": args.task, "mode": args.mode, "scheme": args.scheme, "zero_division": zd}
    ev = evaluate(y_true, y_pred, **kw)
    ev_vs = cmp = None
    if args.vs:
        other = _load(args.vs, args, args.pred_column, "predictions", -1)
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
