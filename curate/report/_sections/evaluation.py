"""Evaluation sections: the accuracy-paradox verdict, summary, per-class scores, deltas.

Scores (accuracy, precision, recall, F1) are shown with four decimals (``unit="score"`` of
:func:`curate._format.fmt_number`), deltas with a sign, the same as
:meth:`curate.Evaluation.to_markdown`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from curate._format import fmt_number, jsonable
from curate.exceptions import CurateTypeError
from curate.report._sections._blocks import capped_rows, plot, section, table, text

__all__ = ["AVERAGES", "build_comparison", "build_run", "layout"]

AVERAGES = ("micro", "macro", "weighted")
_SUMMARY = (("accuracy", "accuracy"), ("majority_baseline", "majority baseline"),
            ("macro_recall", "macro recall"), ("balanced_accuracy", "balanced accuracy"))


def _get(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)


def _float(value: Any) -> float | None:
    return jsonable(None if value is None else float(value))  # type: ignore[no-any-return]


def _average(ev: Any, name: str) -> dict[str, Any] | None:
    avg = _get(ev, name)
    if avg is None:
        return None
    out = {}
    for key in ("precision", "recall", "f1"):
        value = _get(avg, key)
        if value is None and key == "f1":
            value = _get(avg, "f1-score")
        out[key] = _float(value)
    return out


def _verdict(ev: Any) -> dict[str, Any]:
    v = _get(ev, "verdict") or _get(ev, "paradox")
    if v is None:
        return {"flagged": False, "reasons": [], "rules": []}
    return {"flagged": bool(_get(v, "flagged")),
            "reasons": [str(r) for r in (_get(v, "reasons") or [])],
            "rules": jsonable(list(_get(v, "rules") or []))}


def _sentence(verdict: Mapping[str, Any], acc: Any, base: Any, recall: Any) -> str:
    nums = (f"accuracy {fmt_number(acc, 'score')}, majority-class baseline "
            f"{fmt_number(base, 'score')}, macro recall {fmt_number(recall, 'score')}")
    if verdict["flagged"]:
        return (f"Accuracy paradox: {nums} — the accuracy mostly reflects the majority class, "
                "while rare classes are poorly recalled.")
    return f"No accuracy paradox: {nums} — accuracy is not hiding poor rare-class recall."


def build_run(ev: Any, name: str) -> dict[str, Any]:
    """The JSON of one :class:`~curate.Evaluation`, per-class rows sorted by support."""
    if not hasattr(ev, "per_class"):
        raise CurateTypeError(
            "evaluation_report needs Evaluation objects from curate.evaluate; "
            f"got {type(ev).__name__}"
        )
    pc = ev.per_class.sort_values("support", ascending=False, kind="stable")
    per_class: dict[str, Any] = {"name": [str(c) for c in pc.index]}
    for col in ("precision", "recall", "f1", "support", "predicted"):
        if col in pc.columns:
            dtype = np.int64 if col in ("support", "predicted") else np.float64
            per_class[col] = jsonable(pc[col].to_numpy().astype(dtype))
    macro = _average(ev, "macro")
    accuracy, baseline = _float(_get(ev, "accuracy")), _float(_get(ev, "majority_baseline"))
    recall = None if macro is None else macro["recall"]
    verdict = _verdict(ev)
    return {
        "name": name,
        "task": jsonable(_get(ev, "task")),
        "level": jsonable(_get(ev, "level")),
        "background": jsonable(_get(ev, "background")),
        "accuracy": accuracy,
        "balanced_accuracy": jsonable(_get(ev, "balanced_accuracy")),
        "majority_baseline": baseline,
        "macro_recall": recall,
        "averages": {a: _average(ev, a) for a in AVERAGES},
        "per_class": per_class,
        "verdict": verdict,
        "sentence": _sentence(verdict, accuracy, baseline, recall),
    }


def _diff(x: Any, y: Any) -> float | None:
    return None if x is None or y is None else float(x - y)


def build_comparison(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    """Per-class recall and precision deltas ``a - b`` over the classes both runs have."""
    def pairs(run: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
        pc = run["per_class"]
        return dict(zip(pc["name"], zip(pc["recall"], pc["precision"], strict=True),
                        strict=True))

    pa, pb = pairs(a), pairs(b)
    support = dict(zip(a["per_class"]["name"], a["per_class"]["support"], strict=True))
    names = [c for c in a["per_class"]["name"] if c in pb]
    return {
        "names": [a["name"], b["name"]],
        "classes": names,
        "support": [support[c] for c in names],
        "recall_delta": [_diff(pa[c][0], pb[c][0]) for c in names],
        "precision_delta": [_diff(pa[c][1], pb[c][1]) for c in names],
        "accuracy_delta": _diff(a["accuracy"], b["accuracy"]),
        "macro_recall_delta": _diff(a["macro_recall"], b["macro_recall"]),
    }


def _summary(runs: list[Mapping[str, Any]]) -> dict[str, Any]:
    rows = [[r["name"], *(fmt_number(r[k], "score") for k, _ in _SUMMARY)] for r in runs]
    avg_rows = [[r["name"], a, *(fmt_number(v[k], "score") for k in ("precision", "recall", "f1"))]
                for r in runs for a, v in r["averages"].items() if v is not None]
    return section("summary", "Accuracy vs baseline vs macro recall", [
        plot("summary", "Accuracy, majority baseline and macro recall side by side"),
        table(["run", *(label for _, label in _SUMMARY)], rows),
        table(["run", "average", "precision", "recall", "f1"], avg_rows),
    ])


def _per_class(run: Mapping[str, Any], max_classes: int) -> dict[str, Any]:
    pc = run["per_class"]
    cols = [c for c in ("support", "predicted", "precision", "recall", "f1") if c in pc]

    def row(i: int) -> list[str]:
        return [pc["name"][i], *(fmt_number(pc[c][i], "" if c in ("support", "predicted")
                                            else "score") for c in cols)]

    rows, note = capped_rows(len(pc["name"]), max_classes, row, len(cols) + 1)
    return section("per-class", "Per-class recall and precision", [
        plot("per_class", "Per-class recall and precision sorted by support"),
        table(["class", *cols], rows, note),
    ])


def _comparison(cmp: Mapping[str, Any], max_classes: int) -> dict[str, Any]:
    a, b = cmp["names"]

    def row(i: int) -> list[str]:
        return [cmp["classes"][i], fmt_number(cmp["support"][i]),
                fmt_number(cmp["recall_delta"][i], "delta"),
                fmt_number(cmp["precision_delta"][i], "delta")]

    rows, note = capped_rows(len(cmp["classes"]), max_classes, row, 4)
    return section("comparison", f"Per-class deltas: {a} minus {b}", [
        text(f"Accuracy changes by {fmt_number(cmp['accuracy_delta'], 'delta')} and macro recall "
             f"by {fmt_number(cmp['macro_recall_delta'], 'delta')} ({a} minus {b})."),
        plot("deltas", "Per-class recall deltas"),
        table(["class", "support", "Δ recall", "Δ precision"], rows, note),
    ])


def layout(d: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Verdict banner first, then the summary, per-class scores and (two runs) the deltas."""
    mc = d["display"]["max_classes"]
    first = d["runs"][0]
    sections = [
        section("verdict", "Verdict", [
            {"type": "banner", "text": d["verdict"]["sentence"],
             "flagged": d["verdict"]["flagged"], "reasons": first["verdict"]["reasons"]}]),
        _summary(d["runs"]),
        _per_class(first, mc),
    ]
    if d["comparison"]:
        sections.append(_comparison(d["comparison"], mc))
    return sections
