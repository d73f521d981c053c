"""A balancing plan: totals before and after, duplicates, removals, solver numbers.

Hook for per-epoch numbers: when the plan object has an ``epoch_stats(n_epochs)`` method
returning a DataFrame with the columns ``epoch``, ``cv`` and a coverage column
(``seen_fraction`` or ``seen_so_far``: the share of samples drawn at least once up to that
epoch), :func:`build_epoch_stats` stores it under ``plan.epoch_stats`` and :func:`layout`
shows it as the "Per-epoch balance and coverage" table. Plans without the method leave it
``None``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from curate._format import fmt_number, jsonable
from curate.exceptions import CurateTypeError, CurateValueError
from curate.report._sections._blocks import capped_rows, plot, section, table, text

__all__ = ["EPOCH_STATS_COLUMNS", "EPOCH_STATS_EPOCHS", "LOOKS_K", "build", "build_epoch_stats",
           "build_looks", "layout"]

EPOCH_STATS_EPOCHS = 5  # epochs drawn for the per-epoch table
# known columns of plan.epoch_stats, in display order: header and unit of fmt_number
EPOCH_STATS_COLUMNS = {
    "epoch": ("epoch", ""),
    "epoch_size": ("epoch size", ""),
    "cv": ("CV of class totals", ""),
    "seen": ("samples drawn this epoch", "percent"),
    "seen_fraction": ("samples seen so far", "percent"),
    "seen_so_far": ("samples seen so far", "percent"),
}
_COVERAGE = ("seen_fraction", "seen_so_far")


def build_epoch_stats(plan: Any, n_epochs: int = EPOCH_STATS_EPOCHS) -> dict[str, Any] | None:
    """HOOK: per-epoch CV and coverage from ``plan.epoch_stats(n_epochs)``, else ``None``.

    Keeps the known columns (:data:`EPOCH_STATS_COLUMNS`) of the returned DataFrame, as
    ``{column: [values...]}``; ``epoch``, ``cv`` and one coverage column are required.
    """
    method = getattr(plan, "epoch_stats", None)
    if not callable(method):
        return None
    frame = method(n_epochs)
    if not isinstance(frame, pd.DataFrame):
        raise CurateTypeError(
            f"plan.epoch_stats({n_epochs}) must return a pandas DataFrame; "
            f"got {type(frame).__name__}"
        )
    has = set(frame.columns)
    if not {"epoch", "cv"} <= has or not has & set(_COVERAGE):
        raise CurateValueError(
            f"plan.epoch_stats({n_epochs}) returned the columns {sorted(map(str, has))}; it "
            "must have 'epoch', 'cv' and 'seen_fraction' (or 'seen_so_far')"
        )
    return {c: jsonable(frame[c].to_numpy()) for c in EPOCH_STATS_COLUMNS if c in has}


#: Images per composite (Mosaic) for the effective-looks table of the plan section.
LOOKS_K = 4
_LOOKS_HEADERS = {"count": "count", "uniform": "uniform partners",
                  "rare_aware": "rare-aware partners",
                  "balanced_uniform": "plan anchors + uniform",
                  "balanced_rare_aware": "plan anchors + rare-aware"}


def build_looks(table: Any, plan: Any, k: int = LOOKS_K) -> dict[str, Any]:
    """Effective looks per class and epoch when Mosaic-style composites of ``k`` images are
    counted (:func:`curate.augment.looks_table`): uniform vs rare-aware partners, with and
    without the plan's anchors."""
    from curate.augment import looks_table

    frame = looks_table(table, plan, k=k)
    return {"k": int(k), "classes": [str(c) for c in frame.index],
            "columns": [str(c) for c in frame.columns],
            "values": jsonable(frame.to_numpy(dtype=np.float64))}


def _looks_table(looks: Mapping[str, Any], max_classes: int) -> list[dict[str, Any]]:
    cols, values = looks["columns"], looks["values"]
    order = sorted(range(len(looks["classes"])), key=lambda i: -(values[i][0] or 0.0))

    def row(j: int) -> list[str]:
        i = order[j]
        return [looks["classes"][i], *(fmt_number(v) for v in values[i])]

    rows, note = capped_rows(len(order), max_classes, row, len(cols) + 1)
    return [text(f"Effective looks per class and epoch with {looks['k']}-image composites "
                 "(Mosaic; anchor plus partners counted): partners drawn uniformly, as "
                 "augmentation libraries do, against curate.augment.PartnerSampler, which "
                 "picks partners holding rare classes; with the plan's anchors too."),
            table(["class", *(_LOOKS_HEADERS.get(c, c) for c in cols)], rows, note)]


def build(plan: Any, quality: Mapping[str, Any]) -> dict[str, Any]:
    """The plan's numbers; ``quality`` is :func:`curate.balance.plan_quality` of the plan."""
    before, after = plan.counts_before, plan.counts_after
    q = quality
    return {
        "method": str(plan.method),
        "status": jsonable(plan.status),
        "success": bool(plan.success),
        "message": str(plan.message),
        "count": str(plan.count),
        "objective": jsonable(plan.objective),
        "lower_bound": jsonable(plan.lower_bound),
        "gap": jsonable(plan.gap),
        "solve_seconds": jsonable(plan.solve_seconds),
        "n_samples": int(plan.n_samples),
        "epoch_size": int(plan.epoch_size),
        "n_duplicates": int(plan.n_duplicates),
        "n_removed": int(plan.n_removed),
        "imbalance_ratio_before": jsonable(float(q["imbalance_ratio_before"])),
        "imbalance_ratio_after": jsonable(float(q["imbalance_ratio"])),
        "cv_before": jsonable(float(q["cv_before"])),
        "cv_after": jsonable(float(q["cv"])),
        "kl_before": jsonable(float(q["kl_before"])),
        "kl_after": jsonable(float(q["kl"])),
        "options": jsonable(dict(plan.options)),
        "classes": [str(c) for c in before.index],
        "before": jsonable(before.astype(np.int64)),
        "after": jsonable(after.astype(np.int64)),
        "epoch_stats": build_epoch_stats(plan),
    }


def _facts(p: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [
        ("method", p["method"]), ("status", p["status"]), ("counting", p["count"]),
        ("samples before", fmt_number(p["n_samples"])),
        ("epoch size after", fmt_number(p["epoch_size"])),
        ("duplicates", fmt_number(p["n_duplicates"])), ("removals", fmt_number(p["n_removed"])),
        ("imbalance ratio before", fmt_number(p["imbalance_ratio_before"])),
        ("imbalance ratio after", fmt_number(p["imbalance_ratio_after"])),
        ("objective", fmt_number(p["objective"])),
        ("lower bound (LP)", fmt_number(p["lower_bound"])),
        ("gap", fmt_number(p["gap"], "percent")),
        ("solve time (s)", fmt_number(p["solve_seconds"])),
    ]


def _epoch_table(stats: Mapping[str, Any]) -> list[dict[str, Any]]:
    cols = [c for c in EPOCH_STATS_COLUMNS if c in stats]
    if "seen_fraction" in cols and "seen_so_far" in cols:
        cols.remove("seen_so_far")  # the same quantity under its older name
    rows = [[fmt_number(stats[c][i], EPOCH_STATS_COLUMNS[c][1]) for c in cols]
            for i in range(len(stats["epoch"]))]
    return [text("Per-epoch balance and coverage: each epoch draws the plan anew; CV is the "
                 "coefficient of variation of that epoch's class totals, and coverage is the "
                 "share of samples drawn at least once up to that epoch."),
            table([EPOCH_STATS_COLUMNS[c][0] for c in cols], rows)]


def layout(p: Mapping[str, Any], max_classes: int) -> list[dict[str, Any]]:
    """Facts table, solver message, before/after plot and per-class table, epoch table."""
    order = sorted(range(len(p["classes"])), key=lambda i: -p["before"][i])

    def row(j: int) -> list[str]:
        i = order[j]
        b, a = p["before"][i], p["after"][i]
        return [p["classes"][i], fmt_number(b), fmt_number(a), fmt_number(a - b)]

    rows, note = capped_rows(len(order), max_classes, row, 4)
    blocks = [table(["", "value"], _facts(p))]
    if p["message"]:
        blocks.append(text(p["message"], "note"))
    blocks += [plot("plan", "Class totals before and after the plan"),
               table(["class", "before", "after", "change"], rows, note)]
    if p.get("epoch_stats"):  # absent in reports written before the hook existed
        blocks += _epoch_table(p["epoch_stats"])
    if p.get("looks"):
        blocks += _looks_table(p["looks"], max_classes)
    return [section("plan", "Balancing plan", blocks)]
