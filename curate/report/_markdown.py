"""Render a report structure as GitHub-flavoured Markdown (tables; plots are left out).

Markdown renders the same :func:`~curate.report._build.layout` as HTML, so both show the
same numbers. Plots are not embedded (most Markdown viewers block ``data:`` images); each
plot position carries a pointer to the HTML report instead. Every string that can come from
the data (class names, titles, run names, messages) goes through
:func:`curate._format.markdown_escape`, so a label cannot inject HTML or Markdown markup.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from curate._format import markdown_escape, markdown_table
from curate.report._build import layout

__all__ = ["render_markdown"]


def _block(block: Mapping[str, Any]) -> list[str]:
    kind = block["type"]
    if kind == "cards":
        return markdown_table(["", "value"], block["items"]).splitlines()
    if kind == "table":
        return markdown_table(block["columns"], block["rows"], note=block["note"]).splitlines()
    if kind == "text":
        body = markdown_escape(block["text"])
        return [f"*{body}*" if block["style"] else body]
    if kind == "list":
        return [f"- **{markdown_escape(sev)}**: {markdown_escape(msg)}"
                for sev, msg in block["items"]]
    if kind == "banner":
        mark = "⚠️ " if block["flagged"] else "✅ "
        return ([f"> **{mark}{markdown_escape(block['text'])}**"]
                + [f"> - {markdown_escape(r)}" for r in block["reasons"]])
    if kind == "plot":
        return [f"*Plot: {markdown_escape(block['alt'])} (see the HTML report).*"]
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
    lines = [f"# {markdown_escape(data['title'])}", "",
             f"*curate {data['curate_version']} · report schema {data['schema_version']}*"]
    for sec in layout(data):
        lines += ["", f"## {markdown_escape(sec['title'])}"]
        for block in sec["blocks"]:
            lines += ["", *_block(block)]
    return "\n".join(lines) + "\n"
