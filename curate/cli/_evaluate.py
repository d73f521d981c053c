"""``curate evaluate TRUE PRED``: score predictions read from files; the verdict comes first."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from curate._tags import TAG_SCHEMES
from curate.cli._common import UsageError, check_distinct, check_out, label_names
from curate.exceptions import CurateValueError
from curate.io._common import existing_path
from curate.io._formats import COLUMN_FORMATS, infer_format, read_column

__all__ = ["register", "run"]

_NAMES = ("unbalanced", "balanced")  # default --names of PRED and OTHER_PRED


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
    p.add_argument("--names", nargs=2, metavar=("A", "B"), default=None,
                   help="names of PRED and OTHER_PRED in the comparison and the --out report "
                   "(default: unbalanced balanced)")
    p.add_argument("--mode", default="default", choices=("default", "strict"))
    p.add_argument("--scheme", default="auto", choices=("auto", *TAG_SCHEMES),
                   help="tagging scheme of --mode strict (default: detected from TRUE)")
    p.add_argument("--suffix", default="auto", choices=("auto", "true", "false"),
                   help="tags carry their prefix at the end (PER-B); default: detected")
    p.add_argument("--beta", type=float, default=1.0,
                   help="F-beta instead of F1 (the f1 column then holds F-beta)")
    p.add_argument("--zero-division", default="0", choices=("warn", "0", "1", "nan"),
                   help="value of a 0/0 score (default 0, without a warning)")
    p.add_argument("--label-names", metavar="JSON", default=None,
                   help="names of integer label ids and the class order: a Hugging Face "
                   "config.json (id2label), a JSON {id: name} or a JSON list")
    p.add_argument("--target-names", metavar="A,B,...", default=None,
                   help="display names of the classes in their order, comma-separated")
    p.add_argument("--ignore-index", type=int, default=-100,
                   help="integer tag id to skip (default -100)")
    p.add_argument("--thresholds", metavar="NUM|FILE", default=None,
                   help="PRED holds multi-label scores (one list of floats a row): predict a "
                   "class where score >= threshold; one number, or a JSON file with one "
                   "threshold per class (a list in score-column order or {class: threshold})")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print JSON instead of a table")
    out.add_argument("--markdown", action="store_true", help="print Markdown")
    out.add_argument("--text", action="store_true",
                     help="print the verdict and a plain-text report (scikit-learn's layout)")
    p.add_argument("--digits", type=int, default=None,
                   help="decimals of the terminal table (default 4) and of --text (default 2); "
                   "selects --text when the output is not a terminal")
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


#: id columns by which TRUE and PRED rows are matched when both files have one
_ID_COLUMNS = ("sample_id", "id")


def _ids(path: str, args: argparse.Namespace) -> tuple[str, list[Any]] | None:
    """``(column, ids)`` of a table file's first id column, or None (CoNLL, no id column)."""
    p = Path(path)
    fmt = args.format or infer_format(p)
    if fmt not in ("parquet", "csv", "jsonl"):
        return None
    for name in _ID_COLUMNS:
        try:
            values = read_column(p, column=name, format=fmt, encoding=args.encoding or "utf-8")
        except CurateValueError:
            continue
        return name, values.to_pylist()
    return None


def _align_by_id(args: argparse.Namespace, t: tuple[str, list[Any]] | None, pred_path: str,
                 y_pred: list[Any], role: str) -> list[Any]:
    """``y_pred`` in TRUE's row order when both files carry sample ids (``t``: TRUE's id
    column and ids from :func:`_ids`, read once for PRED and ``--vs``).

    Rows were paired by position only, so predictions written in another order (a shuffled
    or sharded inference run) were scored against the wrong labels, silently. Equal ids in
    the same order change nothing; the same ids in another order are matched; different
    ids are an error naming one.
    """
    p = None if t is None else _ids(pred_path, args)
    if t is None or p is None:
        return y_pred
    (t_col, t_ids), (p_col, p_ids) = t, p
    if t_ids == p_ids:
        return y_pred
    where = {k: i for i, k in enumerate(p_ids)}
    in_true = set(t_ids)
    if len(where) != len(p_ids) or len(in_true) != len(t_ids):
        raise CurateValueError(
            f"TRUE and {role} list their rows in different orders, and a {t_col!r} / "
            f"{p_col!r} column repeats an id, so rows cannot be matched by id; write both "
            "files in one order")
    missing = [k for k in t_ids if k not in where]
    if missing or len(p_ids) != len(t_ids):
        extra = [k for k in p_ids if k not in in_true]
        shown = f"TRUE's {missing[0]!r} is not in {role}" if missing else \
            f"{role}'s {extra[0]!r} is not in TRUE"
        raise CurateValueError(
            f"TRUE ({t_col!r}) and {role} ({p_col!r}) hold different sample ids: {shown}; "
            "score predictions of the same samples")
    print(f"note: {role} rows matched to TRUE by {p_col!r} (the files list them in "
          "different orders)", file=sys.stderr)
    return [y_pred[where[k]] for k in t_ids]


def _print_rich(ev: Any, digits: int) -> None:
    """The verdict, its reasons and the per-class tables on a terminal; every data string
    (class names inside the verdict and reasons too) is escaped, never read as markup."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    style = "bold red" if ev.paradox.flagged else "bold green"
    console.print(f"[{style}]{escape(str(ev.paradox))}[/]")
    for reason in ev.paradox.reasons:
        console.print(f"  • {escape(str(reason))}")
    console.print(escape(ev.summary_line()))
    for sub in (ev, ev.token):
        if sub is None:
            continue
        table = Table(title=escape(f"{sub.task} · {sub.level} level"))
        frame = sub.to_frame()
        table.add_column("class")
        for col in frame.columns:
            table.add_column(escape(str(col)), justify="right")
        for name, row in frame.iterrows():
            table.add_row(escape(str(name)), *(
                f"{v:.{digits}f}" if isinstance(v, float) else escape(str(v))
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


def _output(args: argparse.Namespace) -> str:
    """``json``, ``markdown``, ``text`` or ``rich``; --digits only where decimals are chosen."""
    chosen = "json" if args.json else "markdown" if args.markdown else "text" if args.text \
        else None
    if args.digits is not None:
        if args.digits < 0:
            raise UsageError(f"--digits {args.digits}: pass a number of decimals >= 0")
        if chosen in ("json", "markdown"):
            raise UsageError(
                f"--digits sets the decimals of the terminal table and of --text; --{chosen} "
                f"does not use it (Markdown shows 4 decimals, JSON full precision): remove "
                f"--digits or --{chosen}")
    if chosen is not None:
        return chosen
    if sys.stdout.isatty():
        return "rich"
    return "text" if args.digits is not None else "markdown"


def _csv_text_if_mixed(args: argparse.Namespace, columns: tuple[Any, ...]) -> tuple[Any, ...]:
    """CSV integer labels are read as ints (numeric class order); when another column holds
    strings, a CSV column goes back to its text so that ``2`` and ``"2"`` stay one class."""
    paths = (args.true, args.pred, args.vs)
    flats = [None if c is None else _flat(c) for c in columns]
    if not any(f and any(isinstance(v, str) for v in f) for f in flats):
        return columns
    out = []
    for path, col, flat in zip(paths, columns, flats, strict=True):
        is_csv = path is not None and (args.format or infer_format(Path(path))) == "csv"
        if col is not None and is_csv and flat and all(_is_int(v) for v in flat):
            col = [[str(x) for x in v] if isinstance(v, list) else None if v is None
                   else str(v) for v in col]
        out.append(col)
    return tuple(out)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _flat(values: list[Any]) -> list[Any]:
    """Every label of ``values``: the items of list rows, the scalars themselves."""
    out: list[Any] = []
    for v in values:
        if isinstance(v, list | tuple):
            out.extend(_flat(list(v)))
        elif v is not None:
            out.append(v)
    return out


def _target_names(args: argparse.Namespace) -> list[str] | None:
    """--target-names a,b,c as a list (None when not given)."""
    if args.target_names is None:
        return None
    target = [n.strip() for n in args.target_names.split(",")]
    if not all(target):
        raise CurateValueError(f"--target-names {args.target_names!r} has an empty name; "
                               "pass the class names separated by commas, e.g. a,b,c")
    return target


def _class_options(args: argparse.Namespace, y_true: list[Any], task: str) -> dict[str, Any]:
    """``labels=`` / ``target_names=`` of evaluate from --label-names and --target-names."""
    target = _target_names(args)
    if args.label_names is None:
        return {} if target is None else {"target_names": target}
    names = label_names(args.label_names)
    shown = [v for v in _flat(y_true) if not _is_int(v)][:3]
    if shown:
        raise CurateValueError(
            f"--label-names names integer label ids, but TRUE holds {shown!r}; remove "
            "--label-names (or rename the classes with --target-names)")
    if task == "tags":  # the tag of each id; ignore_index positions are skipped
        return {"labels": names} if target is None else {"labels": names, "target_names": target}
    if target is not None:
        raise CurateValueError("--label-names already names the classes; pass --label-names "
                               "or --target-names, not both")
    return {"labels": list(range(len(names))), "target_names": names}


def _thresholds(text: str, classes: list[str] | None) -> Any:
    """--thresholds: one float, or a JSON list (score-column order) / {class: threshold}."""
    try:
        return float(text)
    except ValueError:
        pass
    path = existing_path(text, "--thresholds")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CurateValueError(f"--thresholds {text}: not a number and not a JSON file "
                               f"({exc})") from exc
    if isinstance(data, dict):
        if classes is None:
            raise CurateValueError(
                f"--thresholds {text} maps class names to thresholds, but the score columns "
                "have no names; pass a JSON list in score-column order, or --label-names")
        missing = [c for c in classes if c not in data]
        if missing:
            raise CurateValueError(f"--thresholds {text} has no threshold for {missing[:5]}; "
                                   "give one for every class")
        return [data[c] for c in classes]
    if not isinstance(data, list):
        raise CurateValueError(f"--thresholds {text} holds {type(data).__name__}; pass a JSON "
                               "list of floats or an object {class: threshold}")
    return data


def _indicator(y_true: list[Any], k: int, names: list[str] | None) -> tuple[Any, Any]:
    """TRUE of a score run as a 0/1 matrix whose column j is score column j, and its classes.

    Rows of ``k`` zeros and ones already are that matrix; int label lists are ids (id j is
    column j); str label lists follow ``names`` (--label-names), else their sorted order.
    """
    import numpy as np

    rows = [[] if r is None else list(r) if isinstance(r, list | tuple) else [r]
            for r in y_true]
    if rows and all(len(r) == k and all(v in (0, 1) and not isinstance(v, str) for v in r)
                    for r in rows):
        return np.asarray(rows, dtype=np.int8), names
    labels = _flat(rows)
    order: list[Any]
    if all(_is_int(v) for v in labels):
        order = list(range(k))
        bad = [v for v in labels if not 0 <= v < k]
        if bad:
            raise CurateValueError(f"TRUE has label id {bad[0]} but PRED rows hold {k} scores; "
                                   f"ids must be 0..{k - 1} (id j = score column j)")
    else:
        order = names if names is not None else sorted({str(v) for v in labels})
        if len(order) != k:
            raise CurateValueError(
                f"TRUE has {len(order)} classes {order[:5]} but PRED rows hold {k} scores; "
                "pass --label-names with the classes in score-column order")
        labels_in = {str(v) for v in labels} - set(order)
        if labels_in:
            raise CurateValueError(f"TRUE has classes {sorted(labels_in)[:5]} that "
                                   "--label-names does not name; add them")
    col = {str(c): j for j, c in enumerate(order)}
    mat = np.zeros((len(rows), k), dtype=np.int8)
    for i, r in enumerate(rows):
        for v in r:
            mat[i, v if _is_int(v) else col[str(v)]] = 1
    return mat, None if order == list(range(k)) else [str(c) for c in order]


def _score_inputs(args: argparse.Namespace, y_true: list[Any], y_pred: list[Any],
                  kw: dict[str, Any]) -> Any:
    """--thresholds: TRUE as an indicator matrix; sets the thresholds and class names in kw."""
    widths = {len(r) for r in y_pred if isinstance(r, list | tuple)}
    if len(widths) != 1 or len(y_pred) == 0 or not all(isinstance(r, list | tuple)
                                                        for r in y_pred):
        raise CurateValueError(
            "--thresholds needs PRED rows of scores, one float per class and the same number "
            f"in every row (found row lengths {sorted(widths)[:5]}); drop --thresholds for "
            "label predictions")
    names = label_names(args.label_names) if args.label_names is not None else None
    truth, classes = _indicator(y_true, widths.pop(), names)
    kw["thresholds"] = _thresholds(args.thresholds, classes)
    if classes is not None and "target_names" not in kw:
        kw["target_names"] = classes
    kw["task"] = "multilabel"
    return truth


def run(args: argparse.Namespace) -> int:
    """Evaluate, print, optionally compare and write a report; 3 on paradox if asked."""
    from curate.metrics import compare, evaluate
    from curate.metrics._evaluation import detect_task

    check_distinct({"--out": args.out}, _input_paths(args))
    if args.out:
        check_out(args.out, (".html", ".htm", ".md", ".json"))
    output = _output(args)
    same = Path(args.true).resolve() == Path(args.pred).resolve()
    y_true = _load(args.true, args, args.column, "labels", -2 if same else -1)
    pred_col = args.pred_column
    if same and pred_col is None and (args.format or infer_format(Path(args.pred))) != "conll":
        pred_col = _prediction_column(Path(args.pred))
    y_pred = _load(args.pred, args, pred_col, "predictions", -1)
    true_ids = _ids(args.true, args) if not same or args.vs else None
    if not same:
        y_pred = _align_by_id(args, true_ids, args.pred, y_pred, "PRED")
    zd: Any = args.zero_division if args.zero_division == "warn" else float(args.zero_division)
    suffix: Any = {"auto": "auto", "true": True, "false": False}[args.suffix]
    kw: dict[str, Any] = {"task": args.task, "mode": args.mode, "scheme": args.scheme,
                          "suffix": suffix, "beta": args.beta, "zero_division": zd,
                          "ignore_index": args.ignore_index}
    if args.thresholds is not None:
        if args.target_names is not None:
            kw["target_names"] = _target_names(args)
        y_true = _score_inputs(args, y_true, y_pred, kw)
    elif args.label_names is not None or args.target_names is not None:
        task = args.task if args.task != "auto" else detect_task(
            y_true, y_pred, ignore_index=args.ignore_index,
            labels=None if args.label_names is None else label_names(args.label_names))
        kw.update(_class_options(args, y_true, task))
    other = _load(args.vs, args, args.pred_column, "predictions", -1) if args.vs else None
    if other is not None and Path(args.vs).resolve() != Path(args.true).resolve():
        other = _align_by_id(args, true_ids, args.vs, other, "--vs")
    y_true, y_pred, other = _csv_text_if_mixed(args, (y_true, y_pred, other))
    ev = evaluate(y_true, y_pred, **kw)
    ev_vs = cmp = None
    if other is not None:
        ev_vs = evaluate(y_true, other, **kw)
        cmp = compare(ev, ev_vs, names=tuple(args.names or _NAMES))
    if output == "json":
        payload: dict[str, Any] = json.loads(ev.to_json())
        if cmp is not None:
            payload = {"evaluation": payload, "comparison": cmp.to_dict()}
        print(json.dumps(payload, indent=2))
    else:
        if output == "markdown":
            print(ev.to_markdown())
        elif output == "text":
            _print_text(ev, 2 if args.digits is None else args.digits)
        else:
            _print_rich(ev, 4 if args.digits is None else args.digits)
        if cmp is not None:
            _print_comparison(cmp)
    if args.out:
        _write_report(ev, ev_vs, Path(args.out), args.names)
    return 3 if args.fail_on_paradox and ev.paradox.flagged else 0


def _input_paths(args: argparse.Namespace) -> dict[str, str | None]:
    """The files evaluate reads: TRUE, PRED, --vs, --label-names and a --thresholds file."""
    thresholds = args.thresholds
    if thresholds is not None:
        try:
            float(thresholds)
        except ValueError:
            pass  # a JSON file
        else:
            thresholds = None  # one number
    return {"TRUE": args.true, "PRED": args.pred, "--vs": args.vs,
            "--label-names": args.label_names, "--thresholds": thresholds}


def _print_text(ev: Any, digits: int) -> None:
    lines = [str(ev.paradox), *(f"  - {r}" for r in ev.paradox.reasons), ev.summary_line(), ""]
    print("\n".join(lines))
    for sub, title in ((ev, None), (ev.token, "Token level (background excluded from the "
                                                "averages):")):
        if sub is None:
            continue
        if title:
            print(title + "\n")
        print(sub.to_text(digits=digits))


def _write_report(ev: Any, ev_vs: Any, path: Path, names: list[str] | None) -> None:
    """Write the evaluation report of PRED, or with --vs the comparison PRED -> OTHER_PRED.

    The report's deltas are ``first run - second run``; the printed comparison's are
    ``OTHER_PRED - PRED``. With --vs the report therefore leads with OTHER_PRED (the run
    compared, e.g. balanced) and takes PRED as its reference, so both show the same signs,
    and each run carries its --names name. Without --vs, PRED is named A of --names (default
    ``model``).
    """
    try:
        from curate.report import evaluation_report
    except ImportError as exc:
        raise CurateValueError(f"--out needs curate.report.evaluation_report: {exc}") from exc
    if ev_vs is None:
        report = evaluation_report(ev, names=(names[0] if names else "model",))
    else:
        a, b = names or _NAMES
        report = evaluation_report(ev_vs, other=ev, names=(b, a))
    suffix = path.suffix.lower()
    writers = {".html": "to_html", ".htm": "to_html", ".md": "to_markdown", ".json": "to_json"}
    if suffix not in writers:
        raise CurateValueError(
            f"--out {path} has suffix {suffix!r}; use .html, .md or .json")
    getattr(report, writers[suffix])(path)
