"""Report plots drawn with matplotlib from the report structure, returned as PNG bytes.

matplotlib is imported lazily, inside :func:`render_plots`, and only its object-oriented API
is used (``Figure`` + the Agg canvas): pyplot's global figure registry and the global backend
are never touched, so nothing needs closing and nothing leaks between calls.

With many classes (1,000 and more) bar charts show the ``max_classes // 2`` largest and
smallest classes with one hatched "others" band in between, spanning the range of the classes
left out, so every plot keeps a bounded size and legible labels.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from curate._optional import require

__all__ = ["PLOT_NAMES", "render_plots", "select_classes"]

PLOT_NAMES = {
    "dataset": ("distribution", "cumulative", "labels_per_sample", "cooccurrence", "plan",
                "frontier"),
    "evaluation": ("summary", "per_class", "deltas"),
}
_DPI = 100
_OUTSIDE = {"fontsize": 8, "frameon": False, "loc": "upper left", "bbox_to_anchor": (1.0, 1.0)}
_BLUE, _ORANGE, _GREY, _GREEN, _RED = "#3b6ea8", "#e08a2c", "#9a9a9a", "#3a9a5b", "#c0392b"


def select_classes(n: int, max_classes: int) -> tuple[list[int], list[int], int]:
    """Positions to show: the first and last ``max_classes // 2`` of ``n`` sorted classes.

    Returns ``(head, tail, n_others)``; ``tail`` is empty and ``n_others == 0`` when all
    ``n`` fit.

    Examples
    --------
    >>> select_classes(5, 10)
    ([0, 1, 2, 3, 4], [], 0)
    >>> head, tail, others = select_classes(1000, 6)
    >>> head, tail, others
    ([0, 1, 2], [997, 998, 999], 994)
    """
    if n <= max_classes:
        return list(range(n)), [], 0
    half = max(max_classes // 2, 1)
    return list(range(half)), list(range(n - half, n)), n - 2 * half


def _figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI, metadata={"Software": None})
    fig.clear()
    return buf.getvalue()


def _style(ax: Any, title: str, xlabel: str = "", ylabel: str = "") -> None:
    ax.set_title(title, fontsize=11, loc="left")
    ax.set_xlabel(xlabel, fontsize=9)
    ax.set_ylabel(ylabel, fontsize=9)
    ax.tick_params(labelsize=8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="y", alpha=0.3, linewidth=0.6)


def _bars_with_band(
    ax: Any,
    names: Sequence[str],
    series: Sequence[tuple[str, Sequence[Any], str]],
    max_classes: int,
    colors: Sequence[str] | None = None,
) -> None:
    """Grouped bars of ``series`` over ``names`` (already sorted) with an "others" band."""
    head, tail, n_others = select_classes(len(names), max_classes)
    shown = head + tail
    x = np.arange(len(shown), dtype=float)
    if n_others:
        x[len(head):] += 1  # leave one slot for the band
    width = 0.8 / len(series)
    for j, (label, values, color) in enumerate(series):
        vals = np.array([np.nan if values[i] is None else values[i] for i in shown], dtype=float)
        offset = (j - (len(series) - 1) / 2) * width
        bar_colors = colors if colors is not None and len(series) == 1 else color
        ax.bar(x + offset, vals, width=width, color=bar_colors, label=label)
        if n_others:
            rest = np.array([v for v in values[len(head): len(names) - len(tail)] if v is not None],
                            dtype=float)
            rest = rest[np.isfinite(rest)]
            if rest.size:
                lo, hi = float(rest.min()), float(rest.max())
                ax.bar(len(head) + offset, max(hi - lo, 1e-9), bottom=lo, width=width,
                       color="none", edgecolor=color, hatch="///", linewidth=0.8)
    labels = [str(names[i]) for i in shown]
    ticks = list(x)
    if n_others:
        ticks.insert(len(head), float(len(head)))
        labels.insert(len(head), f"… {n_others:,} others")
    ax.set_xticks(ticks)
    ax.set_xticklabels(labels, rotation=90, fontsize=7)
    ax.set_xlim(-0.8, max(ticks, default=0) + 0.8)


# ---------------------------------------------------------------------------- dataset plots
def _distribution(data: Mapping[str, Any]) -> Any:
    cls = data["classes"]
    fig = _figure(10, 4.2)
    ax = fig.add_subplot()
    colors = [_GREY if bg else _BLUE for bg in cls["background"]]
    shown_colors = _colors_for(colors, len(cls["name"]), data["display"]["max_classes"])
    _bars_with_band(ax, cls["name"], [("count", cls["count"], _BLUE)],
                    data["display"]["max_classes"], colors=shown_colors)
    ax.set_yscale("log")
    _style(ax, f"Class distribution ({data['level']} counts, log scale)", "", "count")
    if data["background"] is not None:
        from matplotlib.patches import Patch

        ax.legend(handles=[Patch(color=_BLUE, label="class"),
                           Patch(color=_GREY, label=f"background ({data['background']})")],
                  **_OUTSIDE)
    return fig


def _colors_for(colors: Sequence[str], n: int, max_classes: int) -> list[str]:
    head, tail, _ = select_classes(n, max_classes)
    return [colors[i] for i in head + tail]


def _cumulative(data: Mapping[str, Any]) -> Any:
    cum = data["cumulative"]
    share = np.asarray(cum["share"], dtype=float)
    fig = _figure(10, 3.6)
    ax = fig.add_subplot()
    ax.plot(np.arange(1, len(share) + 1), share, color=_BLUE, linewidth=1.6)
    for q, key, color in ((0.5, "classes_for_50", _ORANGE), (0.9, "classes_for_90", _RED)):
        k = cum[key]
        ax.axhline(q, color=color, linestyle=":", linewidth=1)
        ax.axvline(k, color=color, linestyle="--", linewidth=1)
        ax.annotate(f"{k:,} classes hold {int(q * 100)} %", (k, q), xytext=(6, -14),
                    textcoords="offset points", fontsize=8, color=color)
    ax.set_ylim(0, 1.02)
    if len(share) > 100:
        ax.set_xscale("log")
    _style(ax, "Cumulative share of labels (classes sorted by count)", "number of classes",
           "share of labels")
    return fig


def _labels_per_sample(data: Mapping[str, Any]) -> Any:
    dist = data["labels_per_sample"]
    values = np.asarray(dist["value"], dtype=float)
    samples = np.asarray(dist["samples"], dtype=float)
    fig = _figure(10, 3.4)
    ax = fig.add_subplot()
    if len(values) <= 60:
        ax.bar(values, samples, width=0.8, color=_BLUE)
    else:
        ax.hist(values, bins=50, weights=samples, color=_BLUE)
    _style(ax, f"Labels per sample ({data['level']})", "labels in the sample", "samples")
    return fig


def _cooccurrence(data: Mapping[str, Any]) -> Any:
    co = data["cooccurrence"]
    names = co["classes"]
    fig = _figure(8.5, 7)
    ax = fig.add_subplot()
    if not names:
        ax.text(0.5, 0.5, "no classes", ha="center", va="center")
        return fig
    mat = np.array(co["conditional"], dtype=float)
    np.fill_diagonal(mat, np.nan)  # always 1: left blank so the off-diagonal shades show
    im = ax.imshow(mat, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=90, fontsize=7)
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels(names, fontsize=7)
    ax.set_title(
        f"Co-occurrence of the top {len(names)} classes: share of row-class samples "
        "that also hold the column class (diagonal blank)", fontsize=10, loc="left",
    )
    fig.colorbar(im, ax=ax, shrink=0.8)
    return fig


def _plan(data: Mapping[str, Any]) -> Any:
    plan = data["plan"]
    order = np.argsort(-np.asarray(plan["before"], dtype=float), kind="stable")
    names = [plan["classes"][i] for i in order]
    before = [plan["before"][i] for i in order]
    after = [plan["after"][i] for i in order]
    fig = _figure(10, 4.4)
    ax = fig.add_subplot()
    _bars_with_band(ax, names, [("before", before, _GREY), ("after", after, _BLUE)],
                    data["display"]["max_classes"])
    ax.set_yscale("log")
    ax.legend(**_OUTSIDE)
    _style(ax, f"Class totals before and after the plan ({plan['count']}, log scale)", "",
           plan["count"])
    return fig


def _frontier(data: Mapping[str, Any]) -> Any:
    fr = data["frontier"]
    cols = fr["columns"]
    fig = _figure(8, 4.6)
    ax = fig.add_subplot()
    col = {c: i for i, c in enumerate(cols)}
    methods: dict[str, list[tuple[float, float]]] = {}
    for row in fr["rows"]:
        x, y = row[col["duplicates"]], row[col["imbalance_ratio"]]
        if x is None or y is None:
            continue
        name = str(row[col["method"]]) if "method" in col else "frontier"
        methods.setdefault(name, []).append((float(x), float(y)))
    markers = iter(["o", "s", "^", "D", "v", "P", "X"])
    for name, pts in methods.items():
        pts.sort()
        xs, ys = zip(*pts, strict=False)
        style = "-" if len(pts) > 1 else ""
        ax.plot(xs, ys, linestyle=style or "none", marker=next(markers, "o"), label=name,
                markersize=5)
    chosen = fr["chosen"]
    if chosen and chosen["duplicates"] is not None and chosen["imbalance_ratio"] is not None:
        ax.plot([chosen["duplicates"]], [chosen["imbalance_ratio"]], marker="*", markersize=16,
                color=_RED, linestyle="none", label="chosen plan")
    ax.set_yscale("log")
    ax.legend(fontsize=8, frameon=False)
    _style(ax, "Trade-off: imbalance ratio vs duplicates", "duplicates", "imbalance ratio (log)")
    return fig


# ---------------------------------------------------------------------------- evaluation plots
def _summary(data: Mapping[str, Any]) -> Any:
    runs = data["runs"]
    metrics = [("accuracy", "accuracy"), ("majority_baseline", "majority baseline"),
               ("macro_recall", "macro recall"), ("balanced_accuracy", "balanced accuracy")]
    fig = _figure(8, 3.6)
    ax = fig.add_subplot()
    width = 0.8 / len(runs)
    x = np.arange(len(metrics))
    for j, (run, color) in enumerate(zip(runs, (_BLUE, _ORANGE), strict=False)):
        vals = [np.nan if run[k] is None else run[k] for k, _ in metrics]
        bars = ax.bar(x + (j - (len(runs) - 1) / 2) * width, vals, width=width, color=color,
                      label=run["name"])
        ax.bar_label(bars, fmt="%.3f", fontsize=8)
    ax.set_xticks(x)
    ax.set_xticklabels([label for _, label in metrics], fontsize=9)
    ax.set_ylim(0, 1.1)
    ax.legend(**_OUTSIDE)
    _style(ax, "Accuracy vs majority-class baseline vs macro recall", "", "score")
    return fig


def _per_class(data: Mapping[str, Any]) -> Any:
    pc = data["runs"][0]["per_class"]
    fig = _figure(10, 4.2)
    ax = fig.add_subplot()
    series = [(m, pc[m], c) for m, c in (("recall", _BLUE), ("precision", _ORANGE)) if m in pc]
    _bars_with_band(ax, pc["name"], series, data["display"]["max_classes"])
    ax.set_ylim(0, 1.05)
    ax.legend(**_OUTSIDE)
    _style(ax, f"Per-class recall and precision ({data['runs'][0]['name']}), "
           "classes sorted by support", "", "score")
    return fig


def _deltas(data: Mapping[str, Any]) -> Any:
    cmp = data["comparison"]
    deltas = cmp["recall_delta"]
    colors = [_GREEN if d is not None and d >= 0 else _RED for d in deltas]
    fig = _figure(10, 4.0)
    ax = fig.add_subplot()
    shown = _colors_for(colors, len(deltas), data["display"]["max_classes"])
    _bars_with_band(ax, cmp["classes"], [("recall delta", deltas, _BLUE)],
                    data["display"]["max_classes"], colors=shown)
    ax.axhline(0, color="black", linewidth=0.8)
    _style(ax, f"Per-class recall: {cmp['names'][0]} minus {cmp['names'][1]} "
           "(sorted by support)", "", "Δ recall")
    return fig


_MAKERS: dict[str, Callable[[Mapping[str, Any]], Any]] = {
    "distribution": _distribution, "cumulative": _cumulative,
    "labels_per_sample": _labels_per_sample, "cooccurrence": _cooccurrence, "plan": _plan,
    "frontier": _frontier, "summary": _summary, "per_class": _per_class, "deltas": _deltas,
}
_NEEDS = {"plan": "plan", "frontier": "frontier", "deltas": "comparison"}


def render_plots(data: Mapping[str, Any]) -> dict[str, bytes]:
    """Draw every plot that ``data`` has the content for; return ``{name: png_bytes}``.

    Examples
    --------
    >>> import curate
    >>> from curate.report import dataset_report
    >>> t = curate.LabelTable.from_labels([["cat", "dog"], ["cat"], ["bird"]])
    >>> sorted(render_plots(dataset_report(t).data))
    ['cooccurrence', 'cumulative', 'distribution', 'labels_per_sample']
    """
    mpl = require("matplotlib", "Report plots")
    out = {}
    # Class names are data: "$x$" must show as typed, not as mathtext (or fail to parse).
    with mpl.rc_context({"text.parse_math": False}):
        for name in PLOT_NAMES[data["kind"]]:
            if data.get(_NEEDS.get(name, "kind")) is None:
                continue
            out[name] = _png(_MAKERS[name](data))
    return out
