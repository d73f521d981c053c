"""Co-occurrence of the classes held by the most samples (counts and conditional shares)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from curate._format import jsonable
from curate.report._sections._blocks import plot, section, text

__all__ = ["TOP", "build", "layout"]

TOP = 20  # classes shown in the co-occurrence heatmap


def build(stats: Any, background: str | None, top: int = TOP) -> dict[str, Any]:
    """Counts of samples holding both classes, and their share of the row class's samples."""
    names = list(stats.per_class.index.astype(str))
    pos = {c: i for i, c in enumerate(names)}
    support = stats.per_class["support"].sort_values(ascending=False, kind="stable")
    chosen = [str(c) for c in support.index if str(c) != background][:top]
    idx = [pos[c] for c in chosen]
    sub = stats.cooccurrence.tocsr()[idx][:, idx].toarray().astype(np.int64)
    diag = np.diag(sub).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        cond = np.where(diag[:, None] > 0, sub / np.maximum(diag[:, None], 1), 0.0)
    return {"classes": chosen, "counts": jsonable(sub), "conditional": jsonable(cond)}


def layout(cooccurrence: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The heatmap with a sentence on why co-occurring classes limit balancing."""
    blocks = [
        text("Each cell is the share of samples holding the row class that also hold the column "
             "class. Classes that travel together cannot be balanced independently, which is "
             "why perfect balance is impossible in multi-label data."),
        plot("cooccurrence", "Co-occurrence heatmap of the top classes"),
    ]
    if not cooccurrence["classes"]:
        blocks.append(text("No classes to show."))
    return [section("cooccurrence", "Co-occurrence of the top classes", blocks)]
