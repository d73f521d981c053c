"""Headline numbers and advice of :func:`curate.imbalance_stats`."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from curate._format import fmt_number, jsonable
from curate.report._sections._blocks import section, text

__all__ = ["build_advice", "build_headline", "layout"]


def _item(key: str, label: str, value: Any, unit: str = "") -> dict[str, Any]:
    item = {"key": key, "label": label, "value": jsonable(value), "unit": unit}
    if isinstance(value, float) and math.isinf(value):
        item["unit"] = "infinite"  # stored as null; shown as ∞
    return item


def build_headline(stats: Any) -> list[dict[str, Any]]:
    """One ``{key, label, value, unit}`` item per headline number."""
    return [
        _item("n_samples", "Samples", int(stats.n_samples)),
        _item("n_classes", "Classes", int(stats.n_classes)),
        _item("n_labels", f"Labels ({stats.level})", int(stats.n_labels)),
        _item("imbalance_ratio", "Imbalance ratio (max / min)", float(stats.imbalance_ratio)),
        _item("majority_class", "Majority class", str(stats.majority_class)),
        _item("majority_share", "Majority share", float(stats.majority_share), "percent"),
        _item("effective_classes", "Effective number of classes", float(stats.effective_classes)),
        _item("normalized_entropy", "Normalised entropy", float(stats.normalized_entropy)),
        _item("gini", "Gini coefficient", float(stats.gini)),
        _item("n_empty", "Empty samples", int(stats.n_empty)),
        _item("n_background_only", "Background-only samples", int(stats.n_background_only)),
    ]


def build_advice(stats: Any) -> list[dict[str, Any]]:
    """One ``{code, severity, message}`` item per advice flag."""
    return [
        {"code": str(a.code), "severity": str(getattr(a.severity, "value", a.severity)),
         "message": str(a.message)}
        for a in stats.advice
    ]


def layout(headline: Sequence[Mapping[str, Any]],
           advice: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The "Headline numbers" cards and the "Advice" list."""
    cards = [(h["label"], fmt_number(h["value"], h["unit"])) for h in headline]
    items = [(a["severity"], f"{a['message']} ({a['code']})") for a in advice]
    return [
        section("headline", "Headline numbers", [{"type": "cards", "items": cards}]),
        section("advice", "Advice", [{"type": "list", "items": items} if items
                                     else text("No advice flags raised.")]),
    ]
