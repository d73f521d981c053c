"""Suggested class weights, one column per scheme."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from curate._format import fmt_number, jsonable
from curate.report._sections._blocks import capped_rows, section, table

__all__ = ["build", "layout"]


def build(items: Sequence[Any]) -> list[dict[str, Any]]:
    """Scheme, parameters, classes and weights of each :class:`~curate.ClassWeights`."""
    return [
        {
            "scheme": str(getattr(w.scheme, "value", w.scheme)),
            "params": jsonable(dict(getattr(w, "params", {}) or {})),
            "classes": [str(c) for c in w.classes],
            "weights": jsonable(np.asarray(w.weights, dtype=np.float64)),
        }
        for w in items
    ]


def _column(w: Mapping[str, Any]) -> str:
    params = [f"{k}={fmt_number(v)}" for k, v in w["params"].items()
              if isinstance(v, int | float | str)]
    return w["scheme"] + (f" ({', '.join(params)})" if w["params"] else "")


def layout(weights: Sequence[Mapping[str, Any]], max_classes: int) -> list[dict[str, Any]]:
    """One row per class of the first scheme, one column per scheme."""
    names = weights[0]["classes"]
    pos = [{c: i for i, c in enumerate(w["classes"])} for w in weights]

    def row(i: int) -> list[str]:
        c = names[i]
        return [c, *(fmt_number(w["weights"][p[c]]) if c in p else fmt_number(None)
                     for w, p in zip(weights, pos, strict=True))]

    columns = ["class", *(_column(w) for w in weights)]
    rows, note = capped_rows(len(names), max_classes, row, len(columns))
    return [section("weights", "Suggested class weights", [table(columns, rows, note)])]
