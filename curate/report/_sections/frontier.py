"""The balancer's trade-off frontier (imbalance ratio against duplicates) with the chosen plan."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from curate._format import fmt_number, jsonable
from curate.report._sections._blocks import plot, section, table, text

__all__ = ["COLUMNS", "build", "layout"]

COLUMNS = ("method", "budget", "imbalance_ratio", "cv", "kl", "duplicates", "removals")


def build(frame: pd.DataFrame, plan: Mapping[str, Any] | None) -> dict[str, Any]:
    """Rows of :func:`curate.balance.frontier` and the point of the chosen plan."""
    df = frame.reset_index(drop=True)
    chosen = None
    if plan is not None:
        chosen = {
            "imbalance_ratio": plan["imbalance_ratio_after"],
            "duplicates": plan["n_duplicates"],
            "removals": plan["n_removed"],
        }
    return {
        "columns": [str(c) for c in df.columns],
        "rows": [jsonable(list(r)) for r in df.itertuples(index=False)],
        "chosen": chosen,
    }


def layout(fr: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The frontier plot and its table (the known columns only)."""
    keep = [c for c in COLUMNS if c in fr["columns"]]
    idx = [fr["columns"].index(c) for c in keep]
    rows = [[fmt_number(r[i]) for i in idx] for r in fr["rows"]]
    return [section("frontier", "Trade-off frontier", [
        text("Each point is a plan: how far from balanced (imbalance ratio) it ends up for how "
             "many duplicated samples. The star is the chosen plan; baselines such as the "
             "repeat-factor sampler are shown beside the balancer's frontier."),
        plot("frontier", "Imbalance ratio versus duplicates, chosen plan marked"),
        table(keep, rows),
    ])]
