"""Class distribution (sorted by count, background marked) and the cumulative share curve."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from curate._format import fmt_number, jsonable
from curate.report._sections._blocks import capped_rows, plot, section, table, text

__all__ = ["build_classes", "build_cumulative", "layout"]


def build_classes(stats: Any, background: str | None) -> dict[str, Any]:
    """Per-class count, share, support and support share, sorted by count (stable)."""
    pc = stats.per_class
    pc = pc.loc[pc.sort_values("count", ascending=False, kind="stable").index]
    return {
        "name": [str(c) for c in pc.index],
        "count": jsonable(pc["count"].astype(np.int64)),
        "share": jsonable(pc["share"].astype(float)),
        "support": jsonable(pc["support"].astype(np.int64)),
        "support_share": jsonable(pc["support_share"].astype(float)),
        "background": [str(c) == background for c in pc.index],
    }


def build_cumulative(classes: Mapping[str, Any]) -> dict[str, Any]:
    """Cumulative label share over the classes sorted by count (background excluded)."""
    keep = [c for c, bg in zip(classes["count"], classes["background"], strict=True) if not bg]
    counts = np.array(keep, dtype=np.float64)
    total = counts.sum()
    share = np.cumsum(counts) / total if total > 0 else np.zeros_like(counts)
    at = {}
    for q in (0.5, 0.9):
        k = int(np.searchsorted(share, q - 1e-12) + 1) if total else 0
        at[f"classes_for_{int(q * 100)}"] = k
    return {"share": jsonable(share), "excludes_background": True, **at}


def layout(classes: Mapping[str, Any], cumulative: Mapping[str, Any],
           max_classes: int) -> list[dict[str, Any]]:
    """The "Class distribution" table and plot, and the "Cumulative share" sentence and plot."""
    cls = classes

    def row(i: int) -> list[str]:
        name = cls["name"][i] + (" (background)" if cls["background"][i] else "")
        return [name, fmt_number(cls["count"][i]), fmt_number(cls["share"][i], "percent"),
                fmt_number(cls["support"][i]), fmt_number(cls["support_share"][i], "percent")]

    rows, note = capped_rows(len(cls["name"]), max_classes, row, 5)
    cum = cumulative
    sentence = (f"{fmt_number(cum['classes_for_50'])} of {fmt_number(len(cum['share']))} classes "
                f"hold 50 % of the labels and {fmt_number(cum['classes_for_90'])} hold 90 % "
                "(background excluded).")
    return [
        section("distribution", "Class distribution", [
            plot("distribution", "Class counts, sorted, log scale"),
            table(["class", "count", "share", "samples holding it", "sample share"], rows, note),
        ]),
        section("cumulative", "Cumulative share", [
            text(sentence),
            plot("cumulative", "Cumulative share of labels by number of classes"),
        ]),
    ]
