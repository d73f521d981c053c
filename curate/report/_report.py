"""``Report`` and the two builders: :func:`dataset_report` and :func:`evaluation_report`."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from curate._atomic import atomic_write_text
from curate._validation import (
    InstanceOf,
    Options,
    check_bool,
    check_instance,
    check_int,
    check_param,
    param_error,
)
from curate.exceptions import CurateValueError
from curate.report._build import SCHEMA_VERSION, build_dataset, build_evaluation

__all__ = ["Report", "dataset_report", "evaluation_report"]


class Report:
    """A report: one JSON-serialisable structure and its HTML, Markdown and JSON renderings.

    The structure (:attr:`data`) is the single source: HTML, Markdown and every plot are
    rendered from it, so they never disagree. Build reports with :func:`dataset_report` or
    :func:`evaluation_report`, or reload a saved JSON report with :meth:`from_json`.

    Parameters
    ----------
    data : dict
        The report structure (``schema_version``, ``kind``, sections).
    plots : bool, default=True
        Default for :meth:`to_html`: embed plots (needs matplotlib) or not.

    Examples
    --------
    >>> import curate
    >>> from curate.report import dataset_report
    >>> t = curate.LabelTable.from_labels([["cat", "dog"], ["cat"], []])
    >>> report = dataset_report(t, plots=False)
    >>> report.kind, report.data["headline"][0]["value"]
    ('dataset', 3)
    >>> Report.from_json(report.to_json()).to_markdown() == report.to_markdown()
    True
    """

    def __init__(self, data: Mapping[str, Any], *, plots: bool = True) -> None:
        if not isinstance(data, Mapping) or data.get("kind") not in ("dataset", "evaluation"):
            raise CurateValueError(
                "data must be a report structure with kind 'dataset' or 'evaluation'; "
                "build it with dataset_report or evaluation_report"
            )
        if data.get("schema_version") != SCHEMA_VERSION:
            raise CurateValueError(
                f"report schema_version {data.get('schema_version')!r} is not supported; "
                f"this curate reads version {SCHEMA_VERSION}"
            )
        check_bool("plots", plots, "Report")
        self._data = json.loads(json.dumps(data, allow_nan=False))  # a private deep copy
        self._plots = bool(plots)
        self._images: dict[str, bytes] | None = None

    @property
    def data(self) -> dict[str, Any]:
        """The report structure (a copy: editing it does not change the report)."""
        return json.loads(json.dumps(self._data))

    @property
    def kind(self) -> str:
        """``"dataset"`` or ``"evaluation"``."""
        return str(self._data["kind"])

    @classmethod
    def from_json(cls, source: str | os.PathLike[str], *, plots: bool = True) -> Report:
        """Load a report from JSON text or a ``.json`` file written by :meth:`to_json`.

        Parameters
        ----------
        source : str or path-like
            JSON text (starting with ``{``) or the path of a JSON report.
        plots : bool, default=True
            Default of :meth:`to_html` for the loaded report.

        Returns
        -------
        Report

        Examples
        --------
        >>> import curate
        >>> from curate.report import dataset_report
        >>> t = curate.LabelTable.from_labels([["a"], ["b"]])
        >>> Report.from_json(dataset_report(t).to_json()).kind
        'dataset'
        """
        text = str(source)
        if not text.lstrip().startswith("{"):
            text = Path(source).read_text(encoding="utf-8")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CurateValueError(f"report JSON could not be parsed: {exc}") from exc
        return cls(data, plots=plots)

    def images(self) -> dict[str, bytes]:
        """PNG bytes of every plot, by name (drawn once, then cached; needs matplotlib).

        Returns
        -------
        dict of str to bytes
            Plot name (``"distribution"``, ``"summary"``, ...) to PNG bytes.

        Examples
        --------
        >>> import curate
        >>> from curate.report import dataset_report
        >>> t = curate.LabelTable.from_labels([["a"], ["b"], ["a"]])
        >>> dataset_report(t).images()["distribution"][:4]
        b'\\x89PNG'
        """
        if self._images is None:
            from curate.report._plots import render_plots

            self._images = render_plots(self._data)
        return dict(self._images)

    def to_json(self, path: str | os.PathLike[str] | None = None, *, indent: int = 2) -> str:
        """Return the structure as JSON text; also write it (atomically) when ``path`` is given.

        Parameters
        ----------
        path : str or path-like, default=None
            Where to write the JSON.
        indent : int, default=2
            Indentation of the JSON text.

        Returns
        -------
        str
            The JSON text (strict: no NaN or infinity).

        Examples
        --------
        >>> import json, curate
        >>> from curate.report import dataset_report
        >>> t = curate.LabelTable.from_labels([["a"], ["b"]])
        >>> json.loads(dataset_report(t).to_json())["kind"]
        'dataset'
        """
        text = json.dumps(self._data, indent=indent, allow_nan=False, ensure_ascii=False) + "\n"
        if path is not None:
            atomic_write_text(path, text)
        return text

    def to_markdown(self, path: str | os.PathLike[str] | None = None) -> str:
        """Return the report as Markdown; also write it (atomically) when ``path`` is given.

        Parameters
        ----------
        path : str or path-like, default=None
            Where to write the Markdown.

        Returns
        -------
        str
            The Markdown text (tables; plots are not embedded).

        Examples
        --------
        >>> import curate
        >>> from curate.report import dataset_report
        >>> t = curate.LabelTable.from_labels([["a"], ["b"]])
        >>> "## Headline numbers" in dataset_report(t).to_markdown()
        True
        """
        from curate.report._markdown import render_markdown

        text = render_markdown(self._data)
        if path is not None:
            atomic_write_text(path, text)
        return text

    def to_html(
        self, path: str | os.PathLike[str] | None = None, *, plots: bool | None = None
    ) -> str:
        """Return one self-contained HTML page; also write it (atomically) when ``path`` is given.

        Parameters
        ----------
        path : str or path-like, default=None
            Where to write the page.
        plots : bool, default=None
            Embed the plots as PNG images (needs matplotlib). ``False`` never imports
            matplotlib. ``None`` uses the report's default.

        Returns
        -------
        str
            The HTML document.

        Examples
        --------
        >>> import curate
        >>> from curate.report import dataset_report
        >>> t = curate.LabelTable.from_labels([["a"], ["b"]])
        >>> page = dataset_report(t).to_html(plots=False)
        >>> "<img" in page, 'id="distribution"' in page
        (False, True)
        """
        from curate.report._html import render_html

        use = self._plots if plots is None else plots
        use = check_bool("plots", use, "Report.to_html")
        text = render_html(self._data, self.images() if use else None)
        if path is not None:
            atomic_write_text(path, text)
        return text

    def save(self, path: str | os.PathLike[str], *, format: str | None = None) -> Path:
        """Write the report in the format named by ``format`` or by the file suffix.

        ``.html``/``.htm`` -> HTML, ``.md``/``.markdown`` -> Markdown, ``.json`` -> JSON.

        Parameters
        ----------
        path : str or path-like
            Where to write the report.
        format : {"html", "md", "json"}, default=None
            Output format; ``None`` takes it from the suffix of ``path``.

        Returns
        -------
        pathlib.Path
            The path written.

        Examples
        --------
        >>> import curate, tempfile, pathlib
        >>> from curate.report import dataset_report
        >>> t = curate.LabelTable.from_labels([["a"], ["b"]])
        >>> with tempfile.TemporaryDirectory() as d:
        ...     dataset_report(t).save(pathlib.Path(d) / "r.json").suffix
        '.json'
        """
        target = Path(path)
        fmt = format_from_path(target) if format is None else format
        check_param("format", fmt, [_FORMATS], "Report.save")
        {"html": self.to_html, "md": self.to_markdown, "json": self.to_json}[fmt](target)
        return target

    def _repr_html_(self) -> str:  # pragma: no cover - notebooks
        return self.to_html()

    def __repr__(self) -> str:
        return f"Report(kind={self.kind!r}, title={self._data['title']!r})"


_FORMATS = Options(frozenset({"html", "md", "json"}))
_SUFFIXES = {".html": "html", ".htm": "html", ".md": "md", ".markdown": "md", ".json": "json"}


def format_from_path(path: str | os.PathLike[str]) -> str:
    """Report format for a file name: ``"html"``, ``"md"`` or ``"json"``.

    Examples
    --------
    >>> format_from_path("out/report.MD")
    'md'
    """
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIXES:
        raise CurateValueError(
            f"cannot tell the report format from the file name {str(path)!r}; use a "
            ".html, .md or .json suffix, or pass format= (--format-out on the command line)"
        )
    return _SUFFIXES[suffix]


# ---------------------------------------------------------------------------- builders
def _check_table(table: Any) -> Any:
    from curate.labels import LabelTable

    return check_instance("table", table, "dataset_report", LabelTable, "a curate.LabelTable")


def _check_plan(plan: Any, table: Any) -> Any:
    if plan is None:
        return None
    from curate.balance import BalancePlan

    check_param("plan", plan, [InstanceOf((BalancePlan,), "a curate.BalancePlan"), None],
                "dataset_report")
    if plan.table.n_samples != table.n_samples or plan.table.classes != table.classes:
        raise CurateValueError(
            f"plan was made for a table with {plan.table.n_samples} samples and "
            f"{plan.table.n_classes} classes, not this one ({table.n_samples} samples, "
            f"{table.n_classes} classes); fit the plan on the same table"
        )
    return plan


def _weights(table: Any, weights: Any) -> list[Any]:
    if weights is None:
        return []
    items = [weights] if isinstance(weights, str) or hasattr(weights, "scheme") else weights
    if not isinstance(items, Sequence):
        raise param_error("weights", "dataset_report",
                          "None, a scheme name, a ClassWeights or a list of those", weights,
                          wrong_type=True)
    from curate.weights import class_weights

    out = []
    for item in items:
        if isinstance(item, str):
            out.append(class_weights(table, scheme=item))  # type: ignore[arg-type]
        elif hasattr(item, "scheme") and hasattr(item, "weights"):
            out.append(item)
        else:
            raise param_error("weights", "dataset_report",
                              "a list of scheme names or ClassWeights", weights, wrong_type=True)
    return out


_FRONTIER_SKIP = {"max_duplicates"}


def _frontier(table: Any, plan: Any, frontier: Any) -> pd.DataFrame | None:
    if frontier is None or frontier is False:
        return None
    if isinstance(frontier, pd.DataFrame):
        missing = {"imbalance_ratio", "duplicates"} - set(frontier.columns)
        if missing:
            raise CurateValueError(
                f"frontier is missing the columns {sorted(missing)}; pass the DataFrame "
                "returned by curate.balance.frontier"
            )
        return frontier
    if frontier is not True:
        raise param_error("frontier", "dataset_report", "a bool, a DataFrame or None", frontier,
                          wrong_type=True)
    if plan is None or plan.method not in ("interclass", "balancer"):
        return None
    from curate.balance import frontier as compute_frontier

    options = {k: v for k, v in dict(plan.options).items() if k not in _FRONTIER_SKIP}
    return compute_frontier(table, **options)


def dataset_report(
    table: Any,
    plan: Any = None,
    weights: Any = None,
    *,
    frontier: bool | pd.DataFrame | None = True,
    plots: bool = True,
    title: str = "Dataset report",
    max_classes: int = 40,
) -> Report:
    """Exploratory report of a label table: imbalance, distribution, co-occurrence, plan.

    Contents: headline numbers and advice from :func:`curate.imbalance_stats`; the class
    distribution (log-scale bars, background marked); the cumulative share curve (how many
    classes hold 50 % and 90 % of the labels); labels per sample; a co-occurrence heatmap of
    the top 20 classes; suggested class weights when asked; and with a plan, class totals
    before and after, duplicates, removals, objective, LP bound and gap, and the balancer's
    trade-off frontier with the chosen plan marked next to the baselines.

    Parameters
    ----------
    table : LabelTable
        The labels to describe.
    plan : BalancePlan, default=None
        A plan fitted on ``table`` (for example by :class:`curate.InterClassBalancer`).
    weights : str, ClassWeights or list of those, default=None
        Class-weight schemes to tabulate: a scheme name is computed with
        :func:`curate.class_weights` (default options); ``ClassWeights`` are used as given.
    frontier : bool or DataFrame, default=True
        ``True``: with a balancer plan, compute :func:`curate.balance.frontier` with the
        plan's options (this fits the balancer at several budgets: it takes a few solver
        runs). A DataFrame from ``frontier`` is used as given; ``False``/``None`` omits it.
    plots : bool, default=True
        Default of :meth:`Report.to_html`: embed plots (needs matplotlib).
    title : str, default="Dataset report"
        Title of the report.
    max_classes : int, default=40
        Classes shown individually in tables and plots; with more classes the largest and
        smallest ``max_classes // 2`` are shown with an "others" band between them. The
        JSON always holds every class.

    Returns
    -------
    Report
        The report; write it with :meth:`Report.to_html`, :meth:`Report.to_markdown` or
        :meth:`Report.to_json`.

    Examples
    --------
    >>> import curate
    >>> from curate.report import dataset_report
    >>> t = curate.datasets.make_long_tailed(500, 12, seed=0)
    >>> report = dataset_report(t, weights="inverse_sqrt", plots=False)
    >>> report.data["headline"][0]
    {'key': 'n_samples', 'label': 'Samples', 'value': 500, 'unit': ''}
    >>> report.data["cumulative"]["classes_for_50"] <= report.data["cumulative"]["classes_for_90"]
    True
    """
    from curate.stats import imbalance_stats

    table = _check_table(table)
    plan = _check_plan(plan, table)
    check_int("max_classes", max_classes, "dataset_report", low=2)
    plots = check_bool("plots", plots, "dataset_report")
    check_instance("title", title, "dataset_report", str, "a str")
    data = build_dataset(
        imbalance_stats(table),
        plan=plan,
        weights=_weights(table, weights),
        frontier=_frontier(table, plan, frontier),
        title=title,
        max_classes=max_classes,
    )
    return Report(data, plots=plots)


def evaluation_report(
    ev: Any,
    other: Any = None,
    *,
    names: Sequence[str] = ("model", "reference"),
    plots: bool = True,
    title: str = "Evaluation report",
    max_classes: int = 40,
) -> Report:
    """Report of an evaluation: the accuracy-paradox verdict first, then the evidence.

    Shows a verdict banner (is accuracy hiding poor rare-class recall?), accuracy next to
    the majority-class baseline and macro recall, per-class recall and precision sorted by
    support, and with ``other`` the per-class deltas ``ev - other`` (for example a model
    trained on balanced data minus one trained on the original data).

    Parameters
    ----------
    ev : Evaluation
        From :func:`curate.evaluate`.
    other : Evaluation, default=None
        A reference run to compare against.
    names : sequence of two str, default=("model", "reference")
        Names of ``ev`` and ``other``.
    plots : bool, default=True
        Default of :meth:`Report.to_html`: embed plots (needs matplotlib).
    title : str, default="Evaluation report"
        Title of the report.
    max_classes : int, default=40
        Classes shown individually in tables and plots (largest and smallest support).

    Returns
    -------
    Report
        The report; write it with :meth:`Report.to_html`, :meth:`Report.to_markdown` or
        :meth:`Report.to_json`.

    Examples
    --------
    >>> import curate
    >>> from curate.report import evaluation_report
    >>> ev = curate.evaluate(["a"] * 8 + ["b", "c"], ["a"] * 10, zero_division=0)
    >>> report = evaluation_report(ev, plots=False)
    >>> report.data["verdict"]["flagged"]
    True
    """
    check_int("max_classes", max_classes, "evaluation_report", low=2)
    plots = check_bool("plots", plots, "evaluation_report")
    check_instance("title", title, "evaluation_report", str, "a str")
    runs = [ev] if other is None else [ev, other]
    expected = f"a sequence of {len(runs)} distinct str, one per run"
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, Sequence) or not all(isinstance(n, str) for n in names):
        raise param_error("names", "evaluation_report", expected, names, wrong_type=True)
    names = list(names)
    if len(names) < len(runs) or len(set(names[: len(runs)])) < len(runs):
        raise param_error("names", "evaluation_report", expected, names)
    data = build_evaluation(runs, names=names[: len(runs)], title=title,
                            max_classes=max_classes)
    return Report(data, plots=plots)
