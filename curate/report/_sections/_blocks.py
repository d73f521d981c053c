"""Layout blocks shared by every section: formatted strings only, never numbers to compute.

A section is ``{"id", "title", "blocks"}``; a block is a dict whose ``"type"`` is one of
``cards``, ``table``, ``text``, ``list``, ``plot`` or ``banner``. The HTML and Markdown
renderers draw exactly these strings, so they cannot show different numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["capped_rows", "plot", "section", "table", "text"]


def section(id_: str, title: str, blocks: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One section of the layout."""
    return {"id": id_, "title": title, "blocks": list(blocks)}


def table(columns: Sequence[str], rows: Sequence[Sequence[Any]], note: str = "") -> dict[str, Any]:
    """A table block; every cell is a str."""
    return {"type": "table", "columns": list(columns),
            "rows": [[str(v) for v in r] for r in rows], "note": note}


def text(body: str, style: str = "") -> dict[str, Any]:
    """A paragraph (``style="note"`` renders it muted / in italics)."""
    return {"type": "text", "text": body, "style": style}


def plot(name: str, alt: str) -> dict[str, Any]:
    """Where plot ``name`` goes (HTML embeds it; Markdown points to the HTML report)."""
    return {"type": "plot", "name": name, "alt": alt}


def capped_rows(
    n: int, max_classes: int, row: Callable[[int], list[str]], ncols: int
) -> tuple[list[list[str]], str]:
    """Rows for the largest and smallest classes with one "… more classes" row between them.

    Tables show half as many classes as the plots (``max_classes // 2``, at least 2).
    """
    from curate.report._plots import select_classes

    head, tail, others = select_classes(n, max(max_classes // 2, 2))
    rows = [row(i) for i in head]
    if others:
        rows.append([f"… {others:,} more classes (see the JSON report)"] + [""] * (ncols - 1))
    rows += [row(i) for i in tail]
    note = (f"Showing the {len(head)} largest and {len(tail)} smallest of {n:,} classes."
            if others else "")
    return rows, note
