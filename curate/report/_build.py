"""The JSON structure of a report: the single source every renderer and plot reads.

A report is a plain ``dict`` of JSON types (str, int, float, bool, None, list, dict), built
once from curate's result objects (:class:`~curate.ImbalanceStats`, :class:`~curate.BalancePlan`,
:class:`~curate.ClassWeights`, :class:`~curate.Evaluation`). Renderers (HTML, Markdown) and
plots only read it; nothing is computed while formatting. Non-finite floats (an infinite
imbalance ratio, an undefined metric) are stored as ``None`` and shown as ``–``.

Top-level keys of a dataset report (``kind == "dataset"``)::

    schema_version, kind, title, curate_version, display, headline, advice, classes,
    cumulative, labels_per_sample, cooccurrence, weights, plan, frontier

and of an evaluation report (``kind == "evaluation"``)::

    schema_version, kind, title, curate_version, display, verdict, runs, comparison
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from curate.exceptions import CurateTypeError

__all__ = [
    "SCHEMA_VERSION",
    "build_dataset",
    "build_evaluation",
    "fmt",
    "jsonable",
    "layout",
]

SCHEMA_VERSION = 1
COOC_TOP = 20  # classes shown in the co-occurrence heatmap


# ---------------------------------------------------------------------------- values
def jsonable(value: Any) -> Any:
    """Convert numpy/pandas values and containers to plain JSON types (non-finite -> None).

    Examples
    --------
    >>> import numpy as np
    >>> jsonable({"a": np.int64(2), "b": [np.float64("inf"), 0.5]})
    {'a': 2, 'b': [None, 0.5]}
    """
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, pd.Series):
        return jsonable(value.tolist())
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "value") and isinstance(value.value, str):  # Enum
        return value.value
    return str(value)


def fmt(value: Any, unit: str = "") -> str:
    """Format one number the way every renderer shows it.

    ``unit="percent"`` shows a share in [0, 1] as a percentage; ints get thousands
    separators; other floats keep four significant digits; ``None`` is ``–``;
    ``unit="infinite"`` (an infinite value stored as ``null``) is ``∞``.

    Examples
    --------
    >>> fmt(12345), fmt(0.91234, "percent"), fmt(3.14159), fmt(None)
    ('12,345', '91.23 %', '3.142', '–')
    """
    if unit == "infinite":
        return "∞"
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    if unit == "percent":
        return f"{100 * value:.2f} %"
    if isinstance(value, int):
        return f"{value:,}"
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:.4g}"


def _item(key: str, label: str, value: Any, unit: str = "") -> dict[str, Any]:
    item = {"key": key, "label": label, "value": jsonable(value), "unit": unit}
    if isinstance(value, float) and math.isinf(value):
        item["unit"] = "infinite"  # stored as null; shown as ∞
    return item


def _base(kind: str, title: str, max_classes: int) -> dict[str, Any]:
    from curate import __version__

    return {
        "schema_version": SCHEMA_VERSION,
        "kind": kind,
        "title": title,
        "curate_version": __version__,
        "display": {"max_classes": int(max_classes), "table_classes": max(max_classes // 2, 2)},
    }


# ---------------------------------------------------------------------------- dataset
def _headline(stats: Any) -> list[dict[str, Any]]:
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


def _advice(stats: Any) -> list[dict[str, Any]]:
    out = []
    for a in stats.advice:
        out.append(
            {
                "code": str(a.code),
                "severity": str(getattr(a.severity, "value", a.severity)),
                "message": str(a.message),
            }
        )
    return out


def _classes(stats: Any, background: str | None) -> dict[str, Any]:
    pc = stats.per_class
    order = pc.sort_values("count", ascending=False, kind="stable").index
    pc = pc.loc[order]
    return {
        "name": [str(c) for c in pc.index],
        "count": jsonable(pc["count"].astype(np.int64)),
        "share": jsonable(pc["share"].astype(float)),
        "support": jsonable(pc["support"].astype(np.int64)),
        "support_share": jsonable(pc["support_share"].astype(float)),
        "background": [str(c) == background for c in pc.index],
    }


def _cumulative(classes: Mapping[str, Any]) -> dict[str, Any]:
    keep = [c for c, bg in zip(classes["count"], classes["background"], strict=True) if not bg]
    counts = np.array(keep, dtype=np.float64)
    total = counts.sum()
    share = np.cumsum(counts) / total if total > 0 else np.zeros_like(counts)
    at = {}
    for q in (0.5, 0.9):
        k = int(np.searchsorted(share, q - 1e-12) + 1) if total else 0
        at[f"classes_for_{int(q * 100)}"] = k
    return {"share": jsonable(share), "excludes_background": True, **at}


def _distribution(series: Any) -> dict[str, Any]:
    s = pd.Series(series).sort_index()
    return {"value": jsonable(s.index.to_numpy()), "samples": jsonable(s.to_numpy())}


def _cooccurrence(stats: Any, background: str | None, top: int) -> dict[str, Any]:
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


def _weights_section(items: Sequence[Any]) -> list[dict[str, Any]]:
    out = []
    for w in items:
        out.append(
            {
                "scheme": str(getattr(w.scheme, "value", w.scheme)),
                "params": jsonable(dict(getattr(w, "params", {}) or {})),
                "classes": [str(c) for c in w.classes],
                "weights": jsonable(np.asarray(w.weights, dtype=np.float64)),
            }
        )
    return out


def _plan_quality(plan: Any) -> dict[str, Any]:
    try:
        from curate.balance import plan_quality
    except ImportError:  # pragma: no cover - until curate.balance exports it
        from curate.balance._quality import plan_quality
    return dict(plan_quality(plan))


def _plan_section(plan: Any) -> dict[str, Any]:
    before, after = plan.counts_before, plan.counts_after
    q = _plan_quality(plan)
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
    }


def _frontier_section(frame: pd.DataFrame, plan: Mapping[str, Any] | None) -> dict[str, Any]:
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


def build_dataset(
    stats: Any,
    *,
    plan: Any = None,
    weights: Sequence[Any] = (),
    frontier: pd.DataFrame | None = None,
    title: str = "Dataset report",
    max_classes: int = 40,
) -> dict[str, Any]:
    """Build the dataset (EDA) report structure from already computed results.

    Parameters
    ----------
    stats : ImbalanceStats
        From :func:`curate.imbalance_stats`.
    plan : BalancePlan, default=None
        A balancing plan of the same table.
    weights : sequence of ClassWeights, default=()
        Suggested class weights, one entry per scheme.
    frontier : DataFrame, default=None
        From :func:`curate.balance.frontier`.
    title : str, default="Dataset report"
        Report title.
    max_classes : int, default=40
        Classes shown individually in tables and plots (top and bottom halves).

    Returns
    -------
    dict
        A JSON-serialisable structure (see the module docstring).
    """
    data = _base("dataset", title, max_classes)
    background = None if stats.background is None else str(stats.background)
    classes = _classes(stats, background)
    data["headline"] = _headline(stats)
    data["level"] = str(stats.level)
    data["background"] = background
    data["advice"] = _advice(stats)
    data["classes"] = classes
    data["cumulative"] = _cumulative(classes)
    data["labels_per_sample"] = _distribution(stats.labels_per_sample)
    data["classes_per_sample"] = _distribution(stats.classes_per_sample)
    data["cooccurrence"] = _cooccurrence(stats, background, COOC_TOP)
    data["weights"] = _weights_section(weights) if weights else None
    data["plan"] = _plan_section(plan) if plan is not None else None
    data["frontier"] = (
        _frontier_section(frontier, data["plan"]) if frontier is not None else None
    )
    return data


# ---------------------------------------------------------------------------- evaluation
_AVERAGES = ("micro", "macro", "weighted")


def _get(obj: Any, name: str) -> Any:
    value = obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)
    return value


def _average(ev: Any, name: str) -> dict[str, Any] | None:
    avg = _get(ev, name)
    if avg is None:
        return None
    out = {}
    for key in ("precision", "recall", "f1"):
        value = _get(avg, key)
        if value is None and key == "f1":
            value = _get(avg, "f1-score")
        out[key] = jsonable(None if value is None else float(value))
    return out


def _verdict(ev: Any) -> dict[str, Any]:
    v = _get(ev, "verdict") or _get(ev, "paradox")
    flagged = bool(_get(v, "flagged")) if v is not None else False
    reasons = [str(r) for r in (_get(v, "reasons") or [])] if v is not None else []
    rules = jsonable(list(_get(v, "rules") or [])) if v is not None else []
    return {"flagged": flagged, "reasons": reasons, "rules": rules}


def _run(ev: Any, name: str) -> dict[str, Any]:
    if not hasattr(ev, "per_class"):
        raise CurateTypeError(
            f"evaluation_report needs Evaluation objects from curate.evaluate; "
            f"got {type(ev).__name__}"
        )
    pc = ev.per_class.sort_values("support", ascending=False, kind="stable")
    per_class = {"name": [str(c) for c in pc.index]}
    for col in ("precision", "recall", "f1", "support", "predicted"):
        if col in pc.columns:
            values = pc[col].to_numpy()
            per_class[col] = jsonable(values.astype(np.int64 if col in ("support", "predicted")
                                                    else np.float64))
    macro = _average(ev, "macro")
    accuracy = _get(ev, "accuracy")
    baseline = _get(ev, "majority_baseline")
    verdict = _verdict(ev)
    return {
        "name": name,
        "task": jsonable(_get(ev, "task")),
        "level": jsonable(_get(ev, "level")),
        "background": jsonable(_get(ev, "background")),
        "accuracy": jsonable(None if accuracy is None else float(accuracy)),
        "balanced_accuracy": jsonable(_get(ev, "balanced_accuracy")),
        "majority_baseline": jsonable(None if baseline is None else float(baseline)),
        "macro_recall": None if macro is None else macro["recall"],
        "averages": {a: _average(ev, a) for a in _AVERAGES},
        "per_class": per_class,
        "verdict": verdict,
        "sentence": _sentence(verdict, accuracy, baseline, macro),
    }


def _sentence(verdict: Mapping[str, Any], acc: Any, base: Any, macro: Any) -> str:
    recall = None if macro is None else macro["recall"]
    nums = f"accuracy {fmt(acc)}, majority-class baseline {fmt(base)}, macro recall {fmt(recall)}"
    if verdict["flagged"]:
        return (
            f"Accuracy paradox: {nums} — the accuracy mostly reflects the majority class, "
            "while rare classes are poorly recalled."
        )
    return f"No accuracy paradox: {nums} — accuracy is not hiding poor rare-class recall."


def _comparison(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    def pairs(run: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
        pc = run["per_class"]
        return dict(zip(pc["name"], zip(pc["recall"], pc["precision"], strict=True),
                        strict=True))

    pa, pb = pairs(a), pairs(b)
    support = dict(zip(a["per_class"]["name"], a["per_class"]["support"], strict=True))
    names = [c for c in a["per_class"]["name"] if c in pb]

    def diff(x: Any, y: Any) -> float | None:
        return None if x is None or y is None else float(x - y)

    return {
        "names": [a["name"], b["name"]],
        "classes": names,
        "support": [support[c] for c in names],
        "recall_delta": [diff(pa[c][0], pb[c][0]) for c in names],
        "precision_delta": [diff(pa[c][1], pb[c][1]) for c in names],
        "accuracy_delta": diff(a["accuracy"], b["accuracy"]),
        "macro_recall_delta": diff(a["macro_recall"], b["macro_recall"]),
    }


def build_evaluation(
    runs: Sequence[Any],
    *,
    names: Sequence[str],
    title: str = "Evaluation report",
    max_classes: int = 40,
) -> dict[str, Any]:
    """Build the evaluation report structure from one or two :class:`~curate.Evaluation`.

    With two runs, ``comparison`` holds per-class deltas ``first - second`` (the reported run
    minus the reference, for example balanced minus unbalanced).

    Parameters
    ----------
    runs : sequence of Evaluation
        One or two evaluations.
    names : sequence of str
        A name per run.
    title : str, default="Evaluation report"
        Report title.
    max_classes : int, default=40
        Classes shown individually in tables and plots.

    Returns
    -------
    dict
    """
    data = _base("evaluation", title, max_classes)
    data["runs"] = [_run(ev, str(n)) for ev, n in zip(runs, names, strict=False)]
    data["verdict"] = {
        "flagged": data["runs"][0]["verdict"]["flagged"],
        "sentence": data["runs"][0]["sentence"],
    }
    data["comparison"] = _comparison(*data["runs"]) if len(data["runs"]) == 2 else None
    return data


# ---------------------------------------------------------------------------- layout
# The layout is the ordered list of sections both renderers draw. Each section is a dict
# {"id", "title", "blocks"}; a block is a dict with "type" in
# {"cards", "table", "text", "list", "plot", "banner"} holding already formatted strings,
# so HTML and Markdown cannot show different numbers.


def _table(columns: Sequence[str], rows: Sequence[Sequence[Any]], note: str = "") -> dict:
    return {"type": "table", "columns": list(columns),
            "rows": [[str(v) for v in r] for r in rows], "note": note}


def _text(text: str, style: str = "") -> dict[str, Any]:
    return {"type": "text", "text": text, "style": style}


def _plot(name: str, alt: str) -> dict[str, Any]:
    return {"type": "plot", "name": name, "alt": alt}


def _capped_rows(n: int, max_classes: int, row: Any, ncols: int) -> tuple[list, str]:
    from curate.report._plots import select_classes

    head, tail, others = select_classes(n, max(max_classes // 2, 2))  # tables: half the plots'
    rows = [row(i) for i in head]
    if others:
        rows.append([f"… {others:,} more classes (see the JSON report)"] + [""] * (ncols - 1))
    rows += [row(i) for i in tail]
    note = f"Showing the {len(head)} largest and {len(tail)} smallest of {n:,} classes." \
        if others else ""
    return rows, note


def _dataset_layout(d: Mapping[str, Any]) -> list[dict[str, Any]]:
    mc = d["display"]["max_classes"]
    cls = d["classes"]
    cards = [(h["label"], fmt(h["value"], h["unit"])) for h in d["headline"]]
    sections = [{"id": "headline", "title": "Headline numbers",
                 "blocks": [{"type": "cards", "items": cards}]}]
    advice = [(a["severity"], f"{a['message']} ({a['code']})") for a in d["advice"]]
    sections.append({"id": "advice", "title": "Advice", "blocks": [
        {"type": "list", "items": advice} if advice else _text("No advice flags raised.")]})

    def class_row(i: int) -> list[str]:
        name = cls["name"][i] + (" (background)" if cls["background"][i] else "")
        return [name, fmt(cls["count"][i]), fmt(cls["share"][i], "percent"),
                fmt(cls["support"][i]), fmt(cls["support_share"][i], "percent")]

    rows, note = _capped_rows(len(cls["name"]), mc, class_row, 5)
    sections.append({"id": "distribution", "title": "Class distribution", "blocks": [
        _plot("distribution", "Class counts, sorted, log scale"),
        _table(["class", "count", "share", "samples holding it", "sample share"], rows, note)]})
    cum = d["cumulative"]
    sections.append({"id": "cumulative", "title": "Cumulative share", "blocks": [
        _text(f"{fmt(cum['classes_for_50'])} of {fmt(len(cum['share']))} classes hold 50 % of "
              f"the labels and {fmt(cum['classes_for_90'])} hold 90 % (background excluded)."),
        _plot("cumulative", "Cumulative share of labels by number of classes")]})
    lps = d["labels_per_sample"]
    head = list(zip(lps["value"], lps["samples"], strict=False))
    sections.append({"id": "labels-per-sample", "title": "Labels per sample", "blocks": [
        _plot("labels_per_sample", "Histogram of labels per sample"),
        _table(["labels", "samples"], [[fmt(v), fmt(s)] for v, s in head[:mc]],
               f"First {mc} of {len(head)} values." if len(head) > mc else "")]})
    co = d["cooccurrence"]
    sections.append({"id": "cooccurrence", "title": "Co-occurrence of the top classes", "blocks": [
        _text("Each cell is the share of samples holding the row class that also hold the column "
              "class. Classes that travel together cannot be balanced independently, which is "
              "why perfect balance is impossible in multi-label data."),
        _plot("cooccurrence", "Co-occurrence heatmap of the top classes")]
        + ([] if len(co["classes"]) else [_text("No classes to show.")])})
    if d["weights"]:
        sections.append(_weights_layout(d["weights"], mc))
    if d["plan"]:
        sections.append(_plan_layout(d["plan"], mc))
    if d["frontier"]:
        sections.append(_frontier_layout(d["frontier"]))
    return sections


def _weights_layout(weights: Sequence[Mapping[str, Any]], mc: int) -> dict[str, Any]:
    names = weights[0]["classes"]
    pos = [{c: i for i, c in enumerate(w["classes"])} for w in weights]

    def row(i: int) -> list[str]:
        c = names[i]
        cells = [fmt(w["weights"][p[c]]) if c in p else "–"
                 for w, p in zip(weights, pos, strict=True)]
        return [c, *cells]

    columns = ["class"] + [
        w["scheme"] + (" (" + ", ".join(f"{k}={fmt(v)}" for k, v in w["params"].items()
                                         if isinstance(v, int | float | str)) + ")"
                       if w["params"] else "") for w in weights]
    rows, note = _capped_rows(len(names), mc, row, len(columns))
    return {"id": "weights", "title": "Suggested class weights",
            "blocks": [_table(columns, rows, note)]}


def _plan_layout(p: Mapping[str, Any], mc: int) -> dict[str, Any]:
    facts = [
        ("method", p["method"]), ("status", p["status"]), ("counting", p["count"]),
        ("samples before", fmt(p["n_samples"])), ("epoch size after", fmt(p["epoch_size"])),
        ("duplicates", fmt(p["n_duplicates"])), ("removals", fmt(p["n_removed"])),
        ("imbalance ratio before", fmt(p["imbalance_ratio_before"])),
        ("imbalance ratio after", fmt(p["imbalance_ratio_after"])),
        ("objective", fmt(p["objective"])), ("lower bound (LP)", fmt(p["lower_bound"])),
        ("gap", fmt(p["gap"], "percent") if p["gap"] is not None else "–"),
        ("solve time (s)", fmt(p["solve_seconds"])),
    ]
    order = sorted(range(len(p["classes"])), key=lambda i: -p["before"][i])

    def row(j: int) -> list[str]:
        i = order[j]
        b, a = p["before"][i], p["after"][i]
        return [p["classes"][i], fmt(b), fmt(a), fmt(a - b)]

    rows, note = _capped_rows(len(order), mc, row, 4)
    blocks = [_table(["", "value"], facts)]
    if p["message"]:
        blocks.append(_text(p["message"], "note"))
    blocks += [_plot("plan", "Class totals before and after the plan"),
               _table(["class", "before", "after", "change"], rows, note)]
    return {"id": "plan", "title": "Balancing plan", "blocks": blocks}


def _frontier_layout(fr: Mapping[str, Any]) -> dict[str, Any]:
    keep = [c for c in ("method", "budget", "imbalance_ratio", "cv", "kl", "duplicates",
                        "removals") if c in fr["columns"]]
    idx = [fr["columns"].index(c) for c in keep]
    rows = [[fmt(r[i]) for i in idx] for r in fr["rows"]]
    return {"id": "frontier", "title": "Trade-off frontier", "blocks": [
        _text("Each point is a plan: how far from balanced (imbalance ratio) it ends up for how "
              "many duplicated samples. The star is the chosen plan; baselines such as the "
              "repeat-factor sampler are shown beside the balancer's frontier."),
        _plot("frontier", "Imbalance ratio versus duplicates, chosen plan marked"),
        _table(keep, rows)]}


def _evaluation_layout(d: Mapping[str, Any]) -> list[dict[str, Any]]:
    mc = d["display"]["max_classes"]
    first = d["runs"][0]
    sections = [{"id": "verdict", "title": "Verdict", "blocks": [
        {"type": "banner", "text": d["verdict"]["sentence"], "flagged": d["verdict"]["flagged"],
         "reasons": first["verdict"]["reasons"]}]}]
    keys = [("accuracy", "accuracy"), ("majority_baseline", "majority baseline"),
            ("macro_recall", "macro recall"), ("balanced_accuracy", "balanced accuracy")]
    rows = [[r["name"]] + [fmt(r[k]) for k, _ in keys] for r in d["runs"]]
    avg_rows = []
    for r in d["runs"]:
        for a, v in r["averages"].items():
            if v is not None:
                avg_rows.append([r["name"], a, fmt(v["precision"]), fmt(v["recall"]),
                                 fmt(v["f1"])])
    sections.append({"id": "summary", "title": "Accuracy vs baseline vs macro recall", "blocks": [
        _plot("summary", "Accuracy, majority baseline and macro recall side by side"),
        _table(["run"] + [label for _, label in keys], rows),
        _table(["run", "average", "precision", "recall", "f1"], avg_rows)]})
    pc = first["per_class"]
    cols = [c for c in ("support", "predicted", "precision", "recall", "f1") if c in pc]

    def row(i: int) -> list[str]:
        return [pc["name"][i]] + [fmt(pc[c][i]) for c in cols]

    rows, note = _capped_rows(len(pc["name"]), mc, row, len(cols) + 1)
    sections.append({"id": "per-class", "title": "Per-class recall and precision", "blocks": [
        _plot("per_class", "Per-class recall and precision sorted by support"),
        _table(["class", *cols], rows, note)]})
    cmp = d["comparison"]
    if cmp:
        a, b = cmp["names"]

        def drow(i: int) -> list[str]:
            return [cmp["classes"][i], fmt(cmp["support"][i]), fmt(cmp["recall_delta"][i]),
                    fmt(cmp["precision_delta"][i])]

        rows, note = _capped_rows(len(cmp["classes"]), mc, drow, 4)
        sections.append({"id": "comparison", "title": f"Per-class deltas: {a} minus {b}",
                         "blocks": [
            _text(f"Accuracy changes by {fmt(cmp['accuracy_delta'])} and macro recall by "
                  f"{fmt(cmp['macro_recall_delta'])} ({a} minus {b})."),
            _plot("deltas", "Per-class recall deltas"),
            _table(["class", "support", "Δ recall", "Δ precision"], rows, note)]})
    return sections


def layout(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Ordered sections (with formatted strings) that both HTML and Markdown render.

    Examples
    --------
    >>> import curate
    >>> from curate.report import dataset_report
    >>> t = curate.LabelTable.from_labels([["cat", "dog"], ["cat"]])
    >>> [s["id"] for s in layout(dataset_report(t).data)]
    ['headline', 'advice', 'distribution', 'cumulative', 'labels-per-sample', 'cooccurrence']
    """
    return _dataset_layout(data) if data["kind"] == "dataset" else _evaluation_layout(data)
