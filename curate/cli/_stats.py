"""``curate stats INPUT``: label statistics and advice, as a table or JSON."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from curate._format import fmt_number
from curate._tags import parse_tag
from curate.cli._common import add_input_arguments, read_input
from curate.labels import LabelTable
from curate.labels._parse import detect_tags
from curate.stats import ImbalanceStats, imbalance_stats

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``stats`` subcommand.

    Examples
    --------
    >>> import argparse
    >>> sub = argparse.ArgumentParser().add_subparsers()
    >>> register(sub)
    """
    p = subparsers.add_parser(
        "stats",
        help="print per-class counts, imbalance measures and advice",
        description="Read labels and print how imbalanced they are: per-class counts and "
        "shares, imbalance ratio, entropy, Gini, empty samples and advice.",
    )
    add_input_arguments(p)
    p.add_argument("--top", type=int, default=30,
                   help="per-class rows shown in the table (default: 30; 0 = all)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``curate stats``; return the exit status.

    Examples
    --------
    >>> import argparse, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "train.conll"
    >>> _ = p.write_text("John B-PER\\nran O\\n")
    >>> args = argparse.Namespace(input=str(p), format=None, column=None, background=None,
    ...                           level="entity", top=30, json=True)
    >>> run(args)  # doctest: +ELLIPSIS
    {
      "n_samples": 1,
    ...
    0
    """
    table = read_input(args)
    stats = imbalance_stats(table)
    tags = _tag_summary(table, args)
    if args.json:
        print(json.dumps({**stats.to_dict(), **({"tags": tags} if tags else {})}, indent=2))
    else:
        _print_rich(stats, args.input, args.top, tags)
    return 0


def _tag_summary(table: LabelTable, args: argparse.Namespace) -> dict[str, Any] | None:
    """Scheme, background and entity counts when the table counts token tags."""
    if table.level != "token":
        return None
    found = detect_tags([list(table.classes)])
    if found is None:
        return None
    entities = read_input(argparse.Namespace(**{**vars(args), "level": "entity",
                                                "background": None}))
    counts = entities.counts.sort_values(ascending=False, kind="stable")
    scheme = found.scheme
    if scheme in ("IOB1", "IOB2"):
        # tag names alone tell IOB1 only by an I- type without any B- (IOB2 opens every
        # chunk with B-); else either fits (the entity counts above were read from the
        # tags' positions): say so instead of guessing IOB2
        parsed = [parse_tag(c, suffix=found.suffix) for c in table.classes]
        begins = {p[1] for p in parsed if p is not None and p[0] == "B"}
        insides = {p[1] for p in parsed if p is not None and p[0] == "I"}
        scheme = "IOB1" if insides - begins else "IOB1 or IOB2"
    return {"scheme": scheme, "suffix": found.suffix, "background": table.background,
            "entity_counts": {str(k): int(v) for k, v in counts.items()}}


def _tag_line(tags: dict[str, Any]) -> str:
    style = " (suffix style)" if tags["suffix"] else ""
    return f"{tags['scheme']}{style}, background {tags['background']}"


def _print_rich(s: ImbalanceStats, source: str, top: int,
                tags: dict[str, Any] | None = None) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(file=sys.stdout, highlight=False)
    head = Table(title=escape(f"curate stats: {Path(source).name}"), show_header=False)
    head.add_column("measure")
    head.add_column("value", justify="right")
    rows = [
        ("samples", f"{s.n_samples:,}"), ("classes", f"{s.n_classes:,}"),
        (f"labels ({s.level})", f"{s.n_labels:,}"), ("background", str(s.background)),
        ("majority class", f"{s.majority_class} ({100 * s.majority_share:.1f} %)"),
        ("imbalance ratio (max/min)", fmt_number(s.imbalance_ratio)),
        ("entropy (nats)", fmt_number(s.entropy)),
        ("normalized entropy", fmt_number(s.normalized_entropy)),
        ("effective classes", fmt_number(s.effective_classes)), ("Gini", fmt_number(s.gini)),
        ("empty samples", f"{s.n_empty:,}"),
        ("background-only samples", f"{s.n_background_only:,}"),
    ]
    if tags is not None:
        shown = ", ".join(f"{k} {v:,}" for k, v in tags["entity_counts"].items())
        rows[3:3] = [("tags", _tag_line(tags)),
                     (f"entities ({sum(tags['entity_counts'].values()):,})", shown)]
    for k, v in rows:
        head.add_row(k, escape(v))
    console.print(head)
    frame = s.per_class.sort_values("count", ascending=False, kind="stable")
    shown = frame if top <= 0 else frame.head(top)
    per = Table(title=f"per class ({len(shown)} of {len(frame)}, by count)")
    for col in ("class", "count", "share", "support", "support share"):
        per.add_column(col, justify="left" if col == "class" else "right")
    for name, r in shown.iterrows():
        per.add_row(escape(str(name)), f"{int(r['count']):,}", f"{100 * r['share']:.2f} %",
                    f"{int(r['support']):,}", f"{100 * r['support_share']:.2f} %")
    console.print(per)
    for a in s.advice:
        style = "bold yellow" if a.severity == "warning" else "cyan"
        console.print(f"[{style}]{a.severity}[/] {escape(f'[{a.code}]')} {escape(a.message)}")
