"""Labels per sample (and classes per sample, kept in the JSON)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from curate._format import fmt_number, jsonable
from curate.report._sections._blocks import plot, section, table

__all__ = ["build_distribution", "layout"]


def build_distribution(series: Any) -> dict[str, Any]:
    """A value -> number-of-samples histogram, sorted by value."""
    s = pd.Series(series).sort_index()
    return {"value": jsonable(s.index.to_numpy()), "samples": jsonable(s.to_numpy())}


def layout(labels_per_sample: Mapping[str, Any], max_classes: int) -> list[dict[str, Any]]:
    """The "Labels per sample" plot and its first ``max_classes`` values as a table."""
    pairs = list(zip(labels_per_sample["value"], labels_per_sample["samples"], strict=False))
    rows = [[fmt_number(v), fmt_number(s)] for v, s in pairs[:max_classes]]
    note = f"First {max_classes} of {len(pairs)} values." if len(pairs) > max_classes else ""
    return [section("labels-per-sample", "Labels per sample", [
        plot("labels_per_sample", "Histogram of labels per sample"),
        table(["labels", "samples"], rows, note),
    ])]
