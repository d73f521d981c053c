"""The JSON structure of a report: the single source every renderer and plot reads.

A report is a plain ``dict`` of JSON types (str, int, float, bool, None, list, dict), built
once from curate's result objects (:class:`~curate.ImbalanceStats`, :class:`~curate.BalancePlan`,
:class:`~curate.ClassWeights`, :class:`~curate.Evaluation`). Renderers (HTML, Markdown) and
plots only read it; nothing is computed while formatting. Non-finite floats (an infinite
imbalance ratio, an undefined metric) are stored as ``None`` and shown as ``–``.

Each part is built, and laid out, by one module of :mod:`curate.report._sections`; this
module only puts them in order. Values are converted with :func:`curate._format.jsonable` and
numbers shown with :func:`curate._format.fmt_number`, the package's single converter and
formatter.

Top-level keys of a dataset report (``kind == "dataset"``)::

    schema_version, kind, title, curate_version, display, headline, level, background,
    advice, classes, cumulative, labels_per_sample, classes_per_sample, cooccurrence,
    weights, plan, frontier

and of an evaluation report (``kind == "evaluation"``)::

    schema_version, kind, title, curate_version, display, verdict, runs, comparison
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from curate.report._sections import classes as classes_section
from curate.report._sections import cooccurrence as cooccurrence_section
from curate.report._sections import evaluation as evaluation_section
from curate.report._sections import frontier as frontier_section
from curate.report._sections import headline as headline_section
from curate.report._sections import plan as plan_section
from curate.report._sections import samples as samples_section
from curate.report._sections import weights as weights_section

__all__ = ["SCHEMA_VERSION", "build_dataset", "build_evaluation", "layout"]

SCHEMA_VERSION = 1


def _base(kind: str, title: str, max_classes: int) -> dict[str, Any]:
    from curate import __version__

    return {
        "schema_version": SCHEMA_VERSION,
        "kind": kind,
        "title": title,
        "curate_version": __version__,
        "display": {"max_classes": int(max_classes), "table_classes": max(max_classes // 2, 2)},
    }


def _plan_quality(plan_: Any) -> dict[str, Any]:
    from curate.balance import plan_quality

    return dict(plan_quality(plan_))


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

    Examples
    --------
    >>> import curate
    >>> t = curate.LabelTable.from_labels([["cat", "dog"], ["cat"]])
    >>> build_dataset(curate.imbalance_stats(t))["classes"]["name"]
    ['cat', 'dog']
    """
    data = _base("dataset", title, max_classes)
    background = None if stats.background is None else str(stats.background)
    data["headline"] = headline_section.build_headline(stats)
    data["level"] = str(stats.level)
    data["background"] = background
    data["advice"] = headline_section.build_advice(stats)
    data["classes"] = classes_section.build_classes(stats, background)
    data["cumulative"] = classes_section.build_cumulative(data["classes"])
    data["labels_per_sample"] = samples_section.build_distribution(stats.labels_per_sample)
    data["classes_per_sample"] = samples_section.build_distribution(stats.classes_per_sample)
    data["cooccurrence"] = cooccurrence_section.build(stats, background)
    data["weights"] = weights_section.build(weights) if weights else None
    data["plan"] = (plan_section.build(plan, _plan_quality(plan)) if plan is not None
                    else None)
    if data["plan"] is not None:
        data["plan"]["looks"] = plan_section.build_looks(plan.table, plan)
    data["frontier"] = (frontier_section.build(frontier, data["plan"])
                        if frontier is not None else None)
    return data


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

    Examples
    --------
    >>> import curate
    >>> ev = curate.evaluate(["a", "a", "b"], ["a", "a", "a"], zero_division=0)
    >>> build_evaluation([ev], names=["model"])["runs"][0]["accuracy"]
    0.6666666666666666
    """
    data = _base("evaluation", title, max_classes)
    data["runs"] = [evaluation_section.build_run(ev, str(n))
                    for ev, n in zip(runs, names, strict=False)]
    data["verdict"] = {
        "flagged": data["runs"][0]["verdict"]["flagged"],
        "sentence": data["runs"][0]["sentence"],
    }
    data["comparison"] = (evaluation_section.build_comparison(*data["runs"])
                          if len(data["runs"]) == 2 else None)
    return data


def _dataset_layout(d: Mapping[str, Any]) -> list[dict[str, Any]]:
    mc = d["display"]["max_classes"]
    sections = [
        *headline_section.layout(d["headline"], d["advice"]),
        *classes_section.layout(d["classes"], d["cumulative"], mc),
        *samples_section.layout(d["labels_per_sample"], mc),
        *cooccurrence_section.layout(d["cooccurrence"]),
    ]
    if d["weights"]:
        sections += weights_section.layout(d["weights"], mc)
    if d["plan"]:
        sections += plan_section.layout(d["plan"], mc)
    if d["frontier"]:
        sections += frontier_section.layout(d["frontier"])
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
    if data["kind"] == "dataset":
        return _dataset_layout(data)
    return evaluation_section.layout(data)
