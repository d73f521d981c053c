"""``compare()``: two evaluations of the same task side by side, with per-class deltas."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from curate._format import jsonable, markdown_table
from curate._validation import Interval, Options, validate_params
from curate.exceptions import CurateTypeError, CurateValueError
from curate.metrics._evaluation import Evaluation

__all__ = ["Comparison", "compare"]

_METRICS = ("precision", "recall", "f1")


@dataclass(frozen=True, eq=False)
class Comparison:
    """Per-class and summary differences ``b - a`` between two evaluations.

    Attributes
    ----------
    names : tuple of str
        Names of run ``a`` and run ``b``.
    per_class : pandas.DataFrame
        Index ``class`` (union of both runs); columns ``<metric>_<name>`` for precision,
        recall, f1 and support of each run, and ``<metric>_delta`` (b - a).
    summary : pandas.DataFrame
        Rows accuracy, balanced_accuracy, majority_baseline and precision/recall/f1 of the
        micro, macro and weighted averages; columns ``a``, ``b``, ``delta``.
    improved, regressed, unchanged : list of str
        Classes of both runs whose ``metric`` rose, fell (by more than ``tol``) or stayed.
    added, removed : list of str
        Classes only in run ``b`` (added) or only in run ``a`` (removed); their deltas
        are NaN and they are in none of the three lists above.
    undefined : list of str
        Classes of both runs whose ``metric`` is NaN in one or both runs
        (``zero_division=nan``), so the change has no size: neither improved, regressed
        nor unchanged. Their ``a`` and ``b`` columns show what happened.
    metric : {"precision", "recall", "f1"}
        Score that decided which classes improved or regressed.
    a, b : Evaluation
        The two evaluations compared, in the order of ``names``.
    token : Comparison or None
        Token-level comparison of two ``tags`` runs.

    Examples
    --------
    >>> from curate.metrics import evaluate
    >>> a = evaluate(["x", "x", "y"], ["x", "x", "x"], zero_division=0)
    >>> b = evaluate(["x", "x", "y"], ["x", "x", "y"])
    >>> c = compare(a, b)
    >>> c.improved, float(c.summary.loc["macro recall", "delta"])
    (['x', 'y'], 0.5)
    """

    names: tuple[str, str]
    per_class: pd.DataFrame
    summary: pd.DataFrame
    improved: list[str]
    regressed: list[str]
    unchanged: list[str]
    metric: str
    a: Evaluation
    b: Evaluation
    token: Comparison | None = None
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    undefined: list[str] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """The per-class table (a copy).

        Examples
        --------
        >>> from curate.metrics import evaluate
        >>> ev = evaluate([0, 1], [0, 1])
        >>> compare(ev, ev).to_frame()["f1_delta"].tolist()
        [0.0, 0.0]
        """
        return self.per_class.copy()

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable: ``names``, ``metric``, ``task``, ``level``, ``per_class``
        (class -> ``{"a": {...}, "b": {...}, "delta": {...}}`` with precision, recall,
        f1-score, support), ``summary`` (row -> ``{"a", "b", "delta"}``), ``improved``,
        ``regressed``, ``unchanged``, ``added``, ``removed``, ``paradox``
        (``{"a": ..., "b": ...}``) and ``token``.

        Examples
        --------
        >>> from curate.metrics import evaluate
        >>> ev = evaluate([0, 1], [0, 1])
        >>> sorted(compare(ev, ev).to_dict()["per_class"]["0"])
        ['a', 'b', 'delta']
        """
        a, b = self.names
        per_class: dict[str, Any] = {}
        for cls, row in self.per_class.iterrows():
            entry = {}
            for key, name in (("a", a), ("b", b), ("delta", "delta")):
                entry[key] = {
                    "precision": float(row[f"precision_{name}"]),
                    "recall": float(row[f"recall_{name}"]),
                    "f1-score": float(row[f"f1_{name}"]),
                    "support": float(row[f"support_{name}"]),
                }
            per_class[str(cls)] = entry
        summary = {str(k): {c: float(v) for c, v in row.items()}
                   for k, row in self.summary.iterrows()}
        return jsonable({  # type: ignore[no-any-return]
            "names": list(self.names), "metric": self.metric, "task": self.a.task,
            "level": self.a.level, "per_class": per_class, "summary": summary,
            "improved": list(self.improved), "regressed": list(self.regressed),
            "unchanged": list(self.unchanged), "added": list(self.added),
            "removed": list(self.removed), "undefined": list(self.undefined),
            "paradox": {"a": self.a.paradox.to_dict(), "b": self.b.paradox.to_dict()},
            "token": None if self.token is None else self.token.to_dict(),
        })

    def to_markdown(self) -> str:
        """Verdicts of both runs, the summary table, then the per-class deltas.

        Examples
        --------
        >>> from curate.metrics import evaluate
        >>> ev = evaluate([0, 1], [0, 1])
        >>> compare(ev, ev).to_markdown().splitlines()[0]
        '**unbalanced:** no accuracy paradox. **balanced:** no accuracy paradox.'
        """
        def verdict(ev: Evaluation) -> str:
            return "accuracy paradox flagged" if ev.paradox.flagged else "no accuracy paradox"

        a, b = self.names
        lines = [f"**{a}:** {verdict(self.a)}. **{b}:** {verdict(self.b)}.", ""]
        lines.append(markdown_table(["", a, b, "delta"],
                                    [[k, *row] for k, row in self.summary.iterrows()],
                                    unit="score"))
        cols = [f"{m}_{n}" for m in _METRICS for n in (a, b, "delta")]
        lines += ["", markdown_table(["class", *cols], [[k, *row[cols]] for k, row in
                                                        self.per_class.iterrows()], unit="score")]
        lines += ["", f"Improved ({self.metric}): {', '.join(self.improved) or 'none'}. "
                  f"Regressed: {', '.join(self.regressed) or 'none'}."]
        if self.added or self.removed:
            lines += [f"Only in {b} (added): {', '.join(self.added) or 'none'}. "
                      f"Only in {a} (removed): {', '.join(self.removed) or 'none'}."]
        if self.undefined:
            lines += [f"Undefined {self.metric} (NaN) in a run, no delta: "
                      f"{', '.join(self.undefined)}."]
        return "\n".join(lines) + "\n"


def _summary(a: Evaluation, b: Evaluation) -> pd.DataFrame:
    rows: dict[str, tuple[float, float]] = {}
    for key in ("accuracy", "balanced_accuracy", "majority_baseline"):
        rows[key] = (getattr(a, key), getattr(b, key))
    for avg in ("micro", "macro", "weighted"):
        for metric in _METRICS:
            rows[f"{avg} {metric}"] = (getattr(getattr(a, avg), metric),
                                       getattr(getattr(b, avg), metric))
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=["a", "b"])
    frame["delta"] = frame["b"] - frame["a"]
    return frame


@validate_params({"metric": [Options({"precision", "recall", "f1"})],
                  "tol": [Interval(float, 0, None)]})
def compare(
    ev_a: Evaluation,
    ev_b: Evaluation,
    *,
    names: Sequence[str] = ("unbalanced", "balanced"),
    metric: str = "f1",
    tol: float = 1e-12,
) -> Comparison:
    """Compare two evaluations of the same task: per-class and averaged deltas (b - a).

    Parameters
    ----------
    ev_a, ev_b : Evaluation
        Results of :func:`evaluate` on the same task and level (e.g. a model trained on
        the unbalanced data, then on the balanced data).
    names : tuple of two str, default=("unbalanced", "balanced")
        Column suffixes and labels of the two runs.
    metric : {"precision", "recall", "f1"}, default="f1"
        Score that decides which classes improved or regressed.
    tol : float, default=1e-12
        Changes of at most ``tol`` count as unchanged.

    Returns
    -------
    Comparison

    Examples
    --------
    >>> from curate.metrics import evaluate
    >>> a = evaluate([0, 0, 0, 1], [0, 0, 0, 0], zero_division=0)
    >>> b = evaluate([0, 0, 0, 1], [0, 0, 1, 1])
    >>> c = compare(a, b)
    >>> c.improved, c.regressed, float(c.per_class.loc["1", "recall_delta"])
    (['1'], ['0'], 1.0)
    """
    for i, ev in enumerate((ev_a, ev_b)):
        if not isinstance(ev, Evaluation):
            raise CurateTypeError(
                f"compare() argument {i + 1} must be an Evaluation from curate.evaluate; "
                f"got {type(ev).__name__}")
    if (ev_a.task, ev_a.level) != (ev_b.task, ev_b.level):
        raise CurateValueError(
            f"compare() needs two evaluations of the same task and level; got "
            f"{ev_a.task}/{ev_a.level} and {ev_b.task}/{ev_b.level}")
    if len(names) != 2 or len({str(n) for n in names}) != 2 or "delta" in names:
        raise CurateValueError(
            f"names must be two different strings other than 'delta'; got {list(names)!r}")
    na, nb = (str(n) for n in names)
    cols = [*_METRICS, "support"]
    left = ev_a.per_class[cols].add_suffix(f"_{na}")
    right = ev_b.per_class[cols].add_suffix(f"_{nb}")
    frame = left.join(right, how="outer")
    for col in cols:
        frame[f"{col}_{na}"] = frame[f"{col}_{na}"].astype(float)
        frame[f"{col}_{nb}"] = frame[f"{col}_{nb}"].astype(float)
        frame[f"{col}_delta"] = frame[f"{col}_{nb}"] - frame[f"{col}_{na}"]
    order = [c for c in ev_a.classes] + [c for c in ev_b.classes if c not in ev_a.classes]
    frame = frame.loc[order].rename_axis("class")
    added = [c for c in ev_b.classes if c not in set(ev_a.classes)]
    removed = [c for c in ev_a.classes if c not in set(ev_b.classes)]
    delta = frame[f"{metric}_delta"].drop(index=added + removed)
    token = None
    if ev_a.token is not None and ev_b.token is not None:
        token = compare(ev_a.token, ev_b.token, names=(na, nb), metric=metric, tol=tol)
    return Comparison(
        names=(na, nb), per_class=frame, summary=_summary(ev_a, ev_b),
        improved=[str(c) for c in delta.index[delta > tol]],
        regressed=[str(c) for c in delta.index[delta < -tol]],
        unchanged=[str(c) for c in delta.index[(delta <= tol) & (delta >= -tol)]],
        undefined=[str(c) for c in delta.index[delta.isna()]],
        metric=metric, a=ev_a, b=ev_b, token=token, added=added, removed=removed,
    )
