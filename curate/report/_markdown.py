"""Render a report structure as GitHub-flavoured Markdown (tables; plots are left out).

Markdown renders the same :func:`~curate.report._build.layout` as HTML, so both show the
same numbers. Plots are not embedded (most Markdown viewers block ``data:`` images); each
plot position carries a pointer to the HTML report instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from curate.report._build import layout

__all__ = ["render_markdown"]


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(block: Mapping[str, Any]) -> list[str]:
    cols = block["columns"]
    lines = ["| " + " | ".join(_cell(c) for c in cols) + " |",
             "|" + "|".join(":---" if i == 0 else "---:" for i in range(len(cols))) + "|"]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in block["rows"]]
    if block["note"]:
        lines += ["", f"*{block['note']}*"]
    return lines


def _block(block: Mapping[str, Any]) -> list[str]:
    kind = block["type"]
    if kind == "cards":
        return _table({"columns": ["", "value"], "rows": block["items"], "note": ""})
    if kind == "table":
        return _table(block)
    if kind == "text":
        return [f"*{block['text']}*" if block["style"] else block["text"]]
    if kind == "list":
        return [f"- **{sev}**: {msg}" for sev, msg in block["items"]]
    if kind == "banner":
        mark = "⚠️ " if block["flagged"] else "✅ "
        return [f"> **{mark}{block['text']}**"] + [f"> - {r}" for r in block["reasons"]]
    if kind == "plot":
        return [f"*Plot: {block['alt']} (see the HTML report).*"]
    raise ValueError(f"unknown block type {kind!r}")  # pragma: no cover


def render_markdown(data: Mapping[str, Any]) -> str:
    """Return the report as Markdown text.

    Examples
    --------
    >>> import curate
    >>> from curate.report import dataset_report
    >>> t = curate.LabelTable.from_labels([["cat", "dog"], ["cat"]])
    >>> render_markdown(dataset_report(t).data).splitlines()[0]
    '# Dataset report'
    """
    lines = [f"# {data['title']}", "",
             f"*curate {data['curate_version']} · report schema {data['schema_version']}*"]
    for sec in layout(data):
        lines += ["", f"## {sec['title']}"]
        for block in sec["blocks"]:
            lines += ["", *_block(block)]
    return "\n".join(lines) + "\n"
