"""``evaluate()``: per-class and averaged scores, baselines and the accuracy-paradox verdict."""

from __future__ import annotations

import json
import math
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from itertools import islice
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from curate._atomic import atomic_write_text
from curate._format import jsonable, markdown_table
from curate._tags import TAG_SCHEMES, detect_suffix, odd_tags, parse_tag, scheme_from_codes
from curate._validation import (
    Interval,
    Options,
    check_int,
    param_error,
    user_stacklevel,
    validate_params,
)
from curate.exceptions import CurateError, CurateValueError, CurateWarning, UndefinedMetricWarning
from curate.labels._parse import normalize_id2label
from curate.metrics._counts import Counts, count_multiclass, count_multilabel, restrict
from curate.metrics._paradox import ParadoxVerdict, default_rare, judge
from curate.metrics._ranking import (
    apply_thresholds,
    as_array,
    average_precision,
    tune_thresholds,
)
from curate.metrics._scores import (
    Scores,
    _nanaverage,
    average_scores,
    prf,
    zero_division_value,
)
from curate.metrics._sequence import encode_tags, entity_counts, token_counts

__all__ = ["Evaluation", "evaluate"]

_AVERAGES = ("micro", "macro", "weighted")


@dataclass(frozen=True, eq=False)
class Evaluation:
    """Scores of one prediction run, at one level, with its accuracy-paradox verdict.

    Built by :func:`evaluate`; read the attributes, or render with :meth:`to_dict`,
    :meth:`to_frame`, :meth:`to_markdown` or :meth:`to_json`.

    Attributes
    ----------
    task : {"multiclass", "multilabel", "tags"}
        The task scored (the one ``task="auto"`` detected, if so).
    level : {"sample", "token", "entity"}
        What one counted item is. For ``task="tags"`` the main evaluation is entity level
        and :attr:`token` holds the token-level one.
    per_class : pandas.DataFrame
        One row per class (index ``class``): ``precision``, ``recall``, ``f1``, ``support``
        (true count) and ``predicted`` (predicted count).
    micro, macro, weighted : Scores
        ``(precision, recall, f1)`` averaged over the classes in :attr:`averaged_classes`
        (every class but the background).
    accuracy : float
        Share of items predicted exactly (token accuracy for tags, subset accuracy for
        multi-label).
    balanced_accuracy : float
        Mean recall over the classes that occur in ``y_true`` (all classes, background too).
    majority_baseline : float
        Accuracy of always predicting the most frequent true label (for multi-label: the
        micro-F1 of always predicting that one label).
    majority_label : str
        That label.
    paradox : ParadoxVerdict
        The verdict (see :mod:`curate.metrics`).
    background : str or None, default=None
        The class left out of the averages, or ``None``.
    averaged_classes : tuple of str, default=()
        The classes the micro, macro and weighted averages run over.
    samples : Scores or None, default=None
        Per-sample average (multi-label only).
    n_items : int or float, default=0
        Number of items scored: samples, or tokens for ``task="tags"`` (both levels); the
        sum of ``sample_weight`` when it is given.
    token : Evaluation or None, default=None
        Token-level evaluation of a ``tags`` run.
    options : dict, default={}
        The settings :func:`evaluate` ran with: ``task``, ``mode``, ``scheme`` (the one
        detected when ``scheme="auto"``), ``suffix``, ``beta``, ``zero_division``,
        ``weighted`` and the paradox thresholds.
    mean_average_precision : float or None, default=None
        Macro mean of the per-class ``average_precision`` column (multi-label scores given
        with ``thresholds=``), else None.

    Examples
    --------
    >>> ev = evaluate(["a", "a", "a", "b"], ["a", "a", "a", "a"], zero_division=0)
    >>> ev.accuracy, ev.majority_baseline, ev.paradox.flagged
    (0.75, 0.75, True)
    """

    task: str
    level: str
    per_class: pd.DataFrame
    micro: Scores
    macro: Scores
    weighted: Scores
    accuracy: float
    balanced_accuracy: float
    majority_baseline: float
    majority_label: str
    paradox: ParadoxVerdict
    background: str | None = None
    averaged_classes: tuple[str, ...] = ()
    samples: Scores | None = None
    n_items: int | float = 0
    token: Evaluation | None = None
    options: dict[str, Any] = field(default_factory=dict)
    mean_average_precision: float | None = None

    @property
    def classes(self) -> list[str]:
        """Class names in row order.

        Examples
        --------
        >>> evaluate([1, 2], [1, 2]).classes
        ['1', '2']
        """
        return [str(c) for c in self.per_class.index]

    def _averages(self) -> dict[str, Scores]:
        out = {f"{a} avg": getattr(self, a) for a in _AVERAGES}
        if self.samples is not None:
            out["samples avg"] = self.samples
        return out

    def to_frame(self) -> pd.DataFrame:
        """Per-class rows followed by the average rows (like scikit-learn's report).

        Examples
        --------
        >>> evaluate([0, 1, 1], [0, 1, 0]).to_frame().index.tolist()
        ['0', '1', 'micro avg', 'macro avg', 'weighted avg']
        """
        sub = self.per_class.loc[list(self.averaged_classes)]
        support = _count(np.sum(sub["support"].to_numpy()), self.per_class["support"])
        predicted = _count(np.sum(sub["predicted"].to_numpy()), self.per_class["predicted"])
        rows = pd.DataFrame(
            [[*s, support, predicted] for s in self._averages().values()],
            index=list(self._averages()),
            columns=["precision", "recall", "f1", "support", "predicted"],
        )
        cols = ["precision", "recall", "f1", "support", "predicted"]
        return pd.concat([self.per_class[cols], rows]).rename_axis("class")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict keyed like ``classification_report(output_dict=True)``.

        Per-class entries and ``"micro avg"``, ``"macro avg"``, ``"weighted avg"``
        (``"samples avg"`` for multi-label) hold ``precision``, ``recall``, ``f1-score``,
        ``support`` (and ``predicted``); ``"accuracy"`` is a float. curate adds
        ``balanced_accuracy``, ``majority_baseline``, ``majority_label``, ``paradox``,
        ``task``, ``level``, ``classes``, ``averaged_classes``, ``background``,
        ``n_items`` and ``token`` (a nested dict for tags, else None).

        Examples
        --------
        >>> d = evaluate(["a", "b"], ["a", "a"], zero_division=0).to_dict()
        >>> d["a"]["recall"], d["accuracy"], d["paradox"]["flagged"]
        (1.0, 0.5, True)
        """
        out: dict[str, Any] = {}
        for name, row in self.per_class.iterrows():
            out[str(name)] = {
                "precision": float(row["precision"]), "recall": float(row["recall"]),
                "f1-score": float(row["f1"]),
                "support": _count(row["support"], self.per_class["support"]),
                "predicted": _count(row["predicted"], self.per_class["predicted"]),
            }
            if "average_precision" in self.per_class:
                out[str(name)]["average_precision"] = float(row["average_precision"])
        out["accuracy"] = float(self.accuracy)
        frame = self.to_frame()
        for key in self._averages():
            row = frame.loc[key]
            out[key] = {"precision": float(row["precision"]), "recall": float(row["recall"]),
                        "f1-score": float(row["f1"]),
                        "support": _count(row["support"], self.per_class["support"])}
        out.update({
            "balanced_accuracy": float(self.balanced_accuracy),
            "majority_baseline": float(self.majority_baseline),
            "majority_label": self.majority_label,
            "paradox": self.paradox.to_dict(),
            "task": self.task,
            "level": self.level,
            "classes": self.classes,
            "averaged_classes": list(self.averaged_classes),
            "background": self.background,
            "n_items": self.n_items,
            "token": None if self.token is None else self.token.to_dict(),
            "mean_average_precision": self.mean_average_precision,
        })
        return out

    def to_json(self, path: str | os.PathLike[str] | None = None, *, indent: int = 2) -> str:
        """:meth:`to_dict` as JSON (NaN written as ``null``); written atomically to ``path``.

        Parameters
        ----------
        path : str or path-like, default=None
            File to write the JSON to (replaced atomically); ``None`` only returns it.
        indent : int, default=2
            Indentation of the JSON text, as in :func:`json.dumps`.

        Returns
        -------
        str
            The JSON text.

        Examples
        --------
        >>> evaluate([0, 1], [0, 1]).to_json()[:1]
        '{'
        """
        text = json.dumps(jsonable(self.to_dict()), indent=indent, allow_nan=False)
        if path is not None:
            atomic_write_text(path, text)
        return text

    @property
    def macro_recall(self) -> float:
        """Mean recall over the averaged classes that occur in ``y_true``.

        The number the paradox verdict judges and :meth:`summary_line` prints. It differs
        from ``macro.recall`` only when an averaged class has no true item (``labels=``
        naming an absent class, or a class only predicted), whose recall is 0/0.

        Examples
        --------
        >>> ev = evaluate(["a", "a", "b"], ["a", "c", "b"], zero_division=1)
        >>> ev.macro_recall, round(ev.macro.recall, 4)
        (0.75, 0.8333)
        """
        return _macro_recall(self.per_class, self.averaged_classes)

    def summary_line(self) -> str:
        """Accuracy, balanced accuracy, macro recall and the baseline in one line.

        The macro recall printed is :attr:`macro_recall`, the one the verdict quotes.

        Examples
        --------
        >>> evaluate([0, 1], [0, 1]).summary_line()[:38]
        'accuracy 1.0000 · balanced accuracy 1.'
        """
        return (f"accuracy {self.accuracy:.4f} · balanced accuracy "
                f"{self.balanced_accuracy:.4f} · macro recall {self.macro_recall:.4f} · "
                f"majority baseline {self.majority_baseline:.4f} ('{self.majority_label}')")

    def to_text(self, digits: int = 2) -> str:
        """The per-class report as plain text, laid out like scikit-learn's and seqeval's.

        Rows are the classes, then the averages (``accuracy`` in place of ``micro avg``
        for single-label runs where the averaged classes cover every item, as scikit-learn
        prints it). ``support`` is a count, or a weighted sum with ``sample_weight``.

        Parameters
        ----------
        digits : int, default=2
            Decimals of the scores.

        Returns
        -------
        str
            The report.

        Examples
        --------
        >>> print(evaluate(["a", "a", "b"], ["a", "b", "b"]).to_text())
                      precision    recall  f1-score   support
        <BLANKLINE>
                   a       1.00      0.50      0.67         2
                   b       0.50      1.00      0.67         1
        <BLANKLINE>
            accuracy                           0.67         3
           macro avg       0.75      0.75      0.67         3
        weighted avg       0.83      0.67      0.67         3
        <BLANKLINE>
        """
        digits = int(check_int("digits", digits, "Evaluation.to_text", low=0))  # type: ignore[arg-type]
        return _text_report(self, digits)

    def to_markdown(self) -> str:
        """The verdict first, then the per-class table (and the token level for tags).

        Examples
        --------
        >>> print(evaluate([0, 1], [0, 1]).to_markdown().splitlines()[0])
        **Verdict:** no accuracy paradox.
        """
        parts = [self._verdict_markdown(), "", f"{self.summary_line()}", ""]
        frame = self.to_frame()
        parts.append(markdown_table(
            [f"class ({self.level})", *frame.columns],
            [[i, *row] for i, row in zip(frame.index, frame.itertuples(index=False), strict=True)],
            unit="score",
        ))
        if self.token is not None:
            tf = self.token.to_frame()
            rows = [[i, *r] for i, r in zip(tf.index, tf.itertuples(index=False), strict=True)]
            parts += ["", "Token level (background excluded from the averages):", "",
                      markdown_table(["class (token)", *tf.columns], rows, unit="score")]
        return "\n".join(parts) + "\n"

    def _verdict_markdown(self) -> str:
        if self.paradox.note:
            return f"**Verdict:** none. {self.paradox.note}"
        if not self.paradox.flagged:
            return "**Verdict:** no accuracy paradox."
        return "**Verdict: accuracy paradox.**\n\n" + "\n".join(
            f"- {r}" for r in self.paradox.reasons)


# ------------------------------------------------------------------------------- helpers


def _count(value: Any, column: pd.Series) -> int | float:
    """A support/predicted value as int for plain counts, float for weighted sums."""
    return int(value) if column.dtype.kind in "iu" else float(value)


def _text_report(ev: Evaluation, digits: int) -> str:
    frame = ev.to_frame()
    names = [str(n) for n in ev.per_class.index]
    width = max([len(n) for n in names] + [len("weighted avg"), digits])
    headers = ["precision", "recall", "f1-score", "support"]
    out = ("{:>{width}s} " + " {:>9}" * 4).format("", *headers, width=width) + "\n\n"
    row_fmt = "{:>{width}s} " + " {:>9.{digits}f}" * 3 + " {:>9}\n"
    for name, row in zip(names, ev.per_class.itertuples(index=False), strict=True):
        d = row._asdict()
        out += row_fmt.format(name, d["precision"], d["recall"], d["f1"],
                              _count(d["support"], ev.per_class["support"]), width=width,
                              digits=digits)
    out += "\n"
    for key in ev._averages():
        row = frame.loc[key]
        support = _count(row["support"], ev.per_class["support"])
        if key == "micro avg" and ev.options.get("micro_is_accuracy"):
            fmt = "{:>{width}s} " + " {:>9.{digits}}" * 2 + " {:>9.{digits}f} {:>9}\n"
            out += fmt.format("accuracy", "", "", ev.accuracy, support, width=width,
                              digits=digits)
            continue
        out += row_fmt.format(key, row["precision"], row["recall"], row["f1"], support,
                              width=width, digits=digits)
    return out


_WARN_TEXT = {"precision": ("Precision", "predicted"), "recall": ("Recall", "true"),
              "f-score": ("F-score", "true nor predicted")}


def _emit(masks: dict[str, np.ndarray], names: list[str], average: str | None) -> None:
    """scikit-learn's UndefinedMetricWarning texts (per label, or for one average)."""
    for key, (metric, modifier) in _WARN_TEXT.items():
        bad = [n for n, m in zip(names, masks[key], strict=True) if m]
        if not bad:
            continue
        if average is None:
            where = (f"in labels with no {modifier} samples: {bad[:10]}"
                     f"{' ...' if len(bad) > 10 else ''}")
        else:
            where = f"due to no {modifier} samples ({average} average)"
        warnings.warn(
            f"{metric} is ill-defined and being set to 0.0 {where}. Use `zero_division` "
            "parameter to control this behavior.",
            UndefinedMetricWarning,
            stacklevel=user_stacklevel(),
        )


def _per_class(counts: Counts, zero_division: Any, warn: bool, beta: float) -> pd.DataFrame:
    p, r, f, masks = prf(counts.tp, counts.pred, counts.true, zero_division, beta)
    if warn:
        _emit(masks, counts.names, None)
    frame = pd.DataFrame(
        {"precision": p, "recall": r, "f1": f, "support": counts.true,
         "predicted": counts.pred},
        index=pd.Index(counts.names, name="class", dtype=object),
    )
    return frame


def _samples_avg(counts: Counts, zero_division: Any, warn: bool, beta: float) -> Scores:
    def rows(m: Any) -> np.ndarray:
        return np.asarray(m.sum(axis=1)).ravel()

    tp, pred, true = rows(counts.sample_tp), rows(counts.sample_pred), rows(counts.sample_true)
    w = counts.sample_weight
    if w is not None:  # as sklearn: a row's counts are weighted, so a 0-weight row is 0/0
        unweighted = np.asarray(w) == 0
        tp, pred, true = (np.where(unweighted, 0, x) for x in (tp, pred, true))
    p, r, f, masks = prf(tp, pred, true, zero_division, beta)
    if warn:
        for key, (metric, modifier) in _WARN_TEXT.items():
            if masks[key].any():
                warnings.warn(
                    f"{metric} is ill-defined and being set to 0.0 in samples with no "
                    f"{modifier} labels. Use `zero_division` parameter to control this "
                    "behavior.", UndefinedMetricWarning, stacklevel=user_stacklevel())
    return Scores(_nanaverage(p, w), _nanaverage(r, w), _nanaverage(f, w))


def _scored(
    counts: Counts, *, background: str | None, zero_division: Any, warn: bool, beta: float,
    seqeval_weighted: bool = False,
) -> tuple[pd.DataFrame, dict[str, Scores], tuple[str, ...]]:
    frame = _per_class(counts, zero_division, warn, beta)
    keep = np.array([n != background for n in counts.names], dtype=bool)
    avgs = average_scores(counts.tp[keep], counts.pred[keep], counts.true[keep], zero_division,
                          beta)
    if warn and any(avgs["micro"][1].values()):
        _emit({k: np.array([v]) for k, v in avgs["micro"][1].items()}, ["micro avg"], "micro")
    scores = {a: avgs[a][0] for a in _AVERAGES}
    if seqeval_weighted and counts.true[keep].sum() == 0:
        # seqeval: with no true entity the weighted average is zero_division (0 for "warn")
        # for recall, and for precision and F only when nothing was predicted either
        zd = zero_division_value(zero_division)
        none_predicted = counts.pred[keep].sum() == 0
        scores["weighted"] = Scores(zd if none_predicted else 0.0, zd,
                                    zd if none_predicted else 0.0)
    return frame, scores, tuple(n for n, k in zip(counts.names, keep, strict=True) if k)


def _macro_recall(frame: pd.DataFrame, averaged: Sequence[str]) -> float:
    sub = frame.loc[list(averaged)]
    sub = sub[sub["support"] > 0]
    return float(sub["recall"].mean()) if len(sub) else float("nan")


def _verdict(
    frame: pd.DataFrame, averaged: Sequence[str], *, score: float, score_name: str,
    baseline: float, majority: str, rare: Sequence[str] | None, thresholds: dict[str, float],
    threshold_check: dict[str, Any] | None = None,
) -> ParadoxVerdict:
    sub = frame.loc[list(averaged)]
    rare_list = list(rare) if rare is not None else default_rare(
        [str(i) for i in sub.index], sub["support"].tolist())
    return judge(score=score, score_name=score_name, baseline=baseline, majority_label=majority,
                 macro_recall=_macro_recall(frame, averaged),
                 recalls={str(k): float(v) for k, v in sub["recall"].items()},
                 rare=rare_list, threshold_check=threshold_check, **thresholds)


def _is_seq(x: Any) -> bool:
    return isinstance(x, list | tuple | np.ndarray | pd.Series | set | frozenset)


def _tag_share(values: set[Any]) -> float:
    """Share of distinct string values that are well-formed tags (the better style)."""
    strings = [v for v in values if isinstance(v, str)]
    if not strings or len(strings) != len(values):
        return 0.0
    prefix = sum(parse_tag(v) is not None for v in strings)
    suffix = sum(parse_tag(v, suffix=True) is not None for v in strings)
    return max(prefix, suffix) / len(strings)


def detect_task(y_true: Any, y_pred: Any, *, ignore_index: int = -100,
                labels: Any = None) -> str:
    """The task ``task="auto"`` picks.

    Sparse matrices and 2-d 0/1 arrays are multi-label, other 2-d integer arrays are
    padded tag ids, 1-d arrays are multi-class. Nested lists are tags when more than half
    of the distinct values in ``y_true`` (its first 5000 non-empty rows) are well-formed
    tags (``O``, ``B-PER``, ``PER-B``...; see :func:`curate._tags.parse_tag`) or when
    integer rows hold ``ignore_index`` or their ids are named as tags by ``labels`` (an
    id2label dict or a list indexed by id); other nested lists are multi-label. Sequence
    lengths play no part, so ragged tag sequences are scored (and rejected) as tags, and
    one odd tag does not turn a tag corpus into a multi-label one.

    Parameters
    ----------
    y_true : array-like
        True labels, in any form :func:`evaluate` accepts: 1-d labels, an indicator matrix
        (dense or scipy sparse), per-sample label lists, or tag sequences.
    y_pred : array-like
        Predicted labels in the same form (used when ``y_true`` holds no value at all).
    ignore_index : int, default=-100
        Integer tag id marking positions to skip; nested integer lists holding it are
        taken as tags.
    labels : dict or sequence, default=None
        ``evaluate``'s ``labels=``: when it names the integer ids of nested lists with
        tags (``{0: "O", 1: "B-PER"}``), they are tags.

    Returns
    -------
    {"multiclass", "multilabel", "tags"}
        The detected task.

    Examples
    --------
    >>> detect_task([1, 0], [1, 1]), detect_task([["a"], []], [["a"], ["b"]])
    ('multiclass', 'multilabel')
    >>> detect_task([["B-PER", "O"]], [["O", "O"]])
    'tags'
    >>> detect_task([["B-PER", "O", "X-PER"], ["O"]], [["O", "O", "O"], ["O"]])
    'tags'
    >>> detect_task([[1, 0]], [[0, 0]], labels={0: "O", 1: "B-PER"})
    'tags'
    """
    y_true, y_pred = _as_input(y_true), _as_input(y_pred)
    if sp.issparse(y_true):
        return "multilabel"
    if isinstance(y_true, np.ndarray) and y_true.dtype != object:
        if y_true.ndim == 1 or (y_true.ndim == 2 and y_true.shape[1] == 1):
            return "multiclass"
        return "multilabel" if np.isin(np.unique(y_true), (0, 1)).all() else "tags"
    items = list(islice((s for s in y_true if _is_seq(s)), 1))
    if not items:
        return "multiclass"
    values: set[Any] = set()
    for source in (y_true, y_pred):
        try:  # the distinct values of the first 5000 non-empty rows decide
            rows = (row for row in source if _is_seq(row) and len(row))
            for row in islice(rows, 5000):
                values.update(row)
        except TypeError:
            return "multilabel"
        if values:
            break
    if not values:
        raise CurateValueError(
            "y_true and y_pred hold only empty sequences, so the task cannot be told; pass "
            "task='tags' (scored like seqeval) or task='multilabel'")
    if _tag_share(values) > 0.5:
        return "tags"
    if any(isinstance(x, int | np.integer) and x == ignore_index for x in values):
        return "tags"
    if labels is not None and _ids_named_as_tags(values, labels):
        return "tags"
    return "multilabel"


def _ids_named_as_tags(values: set[Any], labels: Any) -> bool:
    """Whether ``labels`` (id2label: a dict or a list indexed by id) names the integer
    ``values`` mostly with tags: Hugging Face ``ner_tags`` with their names, which scored
    as multi-label sets (no entities, ragged predictions accepted) before."""
    ints = [int(x) for x in values if isinstance(x, int | np.integer) and not isinstance(x, bool)]
    if not ints or len(ints) != len(values) or isinstance(labels, str | os.PathLike):
        return False
    try:
        ids, named = normalize_id2label(labels.tolist() if isinstance(labels, np.ndarray)
                                        else labels)
    except CurateError:  # not an id2label (a class list of another shape): not tags by name
        return False
    name_of = dict(zip(ids.tolist(), named, strict=True))
    names = {name_of[k] for k in ints if k in name_of}
    return bool(names) and _tag_share(names) > 0.5


def _as_input(y: Any) -> Any:
    y = as_array(y)
    if isinstance(y, list) and y and type(y[0]).__module__.split(".")[0] in ("torch",
                                                                            "pandas"):
        y = [as_array(row) for row in y]
    return y


def _zero_one_rows(y: Any) -> str | None:
    """``"indicator"`` for a Python list of equal-length 0/1 rows that repeat a value
    (``[1, 0, 0]``: not a label list), ``"either"`` when every row is ``[0, 1]`` or
    ``[1, 0]``, else ``None``."""
    if not isinstance(y, list) or not y or not all(isinstance(r, list | tuple) for r in y):
        return None
    width = len(y[0])
    if width < 2 or any(len(r) != width for r in y):
        return None
    for r in y:
        for v in r:
            if not (isinstance(v, int | np.integer) and v in (0, 1)):
                return None
    return "indicator" if any(len(set(r)) < width for r in y) else "either"


def _indicator_rows(y_true: Any, y_pred: Any) -> tuple[Any, Any]:
    """Python lists of equal-length 0/1 rows (``array.tolist()``) are indicator matrices,
    as in scikit-learn; rows that are all ``[0, 1]`` / ``[1, 0]`` on both sides could be
    two classes or both labels, and are refused rather than guessed."""
    kinds = (_zero_one_rows(y_true), _zero_one_rows(y_pred))
    if "indicator" in kinds and None not in kinds:
        return np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    if kinds == ("either", "either"):
        raise CurateValueError(
            "y_true and y_pred are lists of [0, 1] / [1, 0] rows: indicator matrices of 2 "
            "classes, or lists of the labels 0 and 1? Pass np.asarray(...) for indicator "
            "matrices, or the label lists with class names")
    if "indicator" in kinds:  # the other side is not 0/1 rows of that shape
        return (np.asarray(y_true, dtype=np.int64) if kinds[0] else y_true,
                np.asarray(y_pred, dtype=np.int64) if kinds[1] else y_pred)
    return y_true, y_pred


def _check_zero_division(zero_division: Any) -> None:
    ok = (isinstance(zero_division, str) and zero_division == "warn") or (
        isinstance(zero_division, int | float) and not isinstance(zero_division, bool)
        and (zero_division in (0, 1) or math.isnan(zero_division)))
    if not ok:
        wrong_type = isinstance(zero_division, bool) or not isinstance(
            zero_division, str | int | float)
        raise param_error("zero_division", "evaluate", "one of {'warn', 0, 1, nan}",
                          zero_division, wrong_type=wrong_type)


_RULES: dict[str, list[Any]] = {
    "task": [Options({"auto", "multiclass", "multilabel", "tags"})],
    "scheme": [Options({"auto", *TAG_SCHEMES})],
    "mode": [Options({"default", "strict"})],
    "ignore_index": [Interval(int, None, None)],
    "beta": [Interval(float, 0, None)],
    "baseline_margin": [Interval(float, 0, 1)],
    "recall_gap": [Interval(float, 0, 1)],
    "rare_recall": [Interval(float, 0, 1)],
    "high_accuracy": [Interval(float, 0, 1)],
    "threshold_gain": [Interval(float, 0, 1)],
}


@validate_params(_RULES)
def evaluate(
    y_true: Any,
    y_pred: Any,
    *,
    task: str = "auto",
    labels: Any = None,
    target_names: Sequence[str] | None = None,
    background: Any = "auto",
    scheme: str = "auto",
    mode: str = "default",
    suffix: Any = "auto",
    ignore_index: int = -100,
    sample_weight: Any = None,
    beta: float = 1.0,
    thresholds: Any = None,
    rare: Sequence[str] | None = None,
    zero_division: Any = "warn",
    baseline_margin: float = 0.02,
    recall_gap: float = 0.2,
    rare_recall: float = 0.5,
    high_accuracy: float = 0.8,
    threshold_gain: float = 0.05,
) -> Evaluation:
    """Score predictions per class and on average, and judge the accuracy paradox.

    Parameters
    ----------
    y_true, y_pred : array-like
        ``multiclass``: 1-d labels (int or str; float labels must be whole numbers, as in
        scikit-learn). ``multilabel``: indicator matrices of shape (n_samples, n_classes)
        (dense or scipy sparse) or per-sample label lists; with ``thresholds=``, ``y_pred``
        holds scores. ``tags``: lists of tag sequences (``"B-PER"``...), or padded int
        arrays / lists of int sequences where ``y_true == ignore_index`` marks positions
        to skip. numpy arrays, pandas objects, lists and torch tensors (CPU or CUDA) are
        accepted.
    task : {"auto", "multiclass", "multilabel", "tags"}, default="auto"
        See :func:`detect_task` for the ``auto`` rules.
    labels : array-like or dict, default=None
        multiclass and multi-label lists: restrict to and order by these labels (as in
        scikit-learn; absent labels score zero_division). Indicator matrices: the column
        indices to keep, in order (as scikit-learn). Integer tags: the tag of each id (a
        list indexed by id or an id2label dict).
    target_names : list of str, default=None
        Display names of the classes, in the order of ``labels`` (or of the sorted
        classes), as in scikit-learn's ``classification_report``.
    background : str or None, default="auto"
        A class left out of the micro/macro/weighted averages (still shown per class).
        ``"auto"`` means ``"O"`` for tags (token level) and None otherwise.
    scheme : {"auto", "IOB1", "IOB2", "IOE1", "IOE2", "IOBES", "BILOU"}, default="auto"
        Tagging scheme of ``mode="strict"``; ``auto`` detects it from ``y_true`` with
        :func:`curate._tags.detect_scheme` (as seqeval's ``auto_detect``; an ``O``-only
        corpus is IOB2).
    mode : {"default", "strict"}, default="default"
        Entity extraction like seqeval: ``default`` (conlleval-compatible, lenient) or
        ``strict`` (spans must be well formed in ``scheme``; tags it does not allow raise).
    suffix : bool or "auto", default="auto"
        Tags carry their prefix at the end (``PER-B``), as seqeval's ``suffix=True``.
        ``auto``: True when more distinct tags read as suffix style than as prefix style.
    ignore_index : int, default=-100
        Integer tag id to skip (positions where ``y_true`` holds it).
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each sample (multiclass and multi-label, as scikit-learn); counts and
        supports become weighted sums. Not accepted for tags (seqeval ignores it).
    beta : float, default=1.0
        F-beta instead of F1: ``(1 + beta**2) tp / (beta**2 (tp + fn) + tp + fp)``; the
        ``f1`` column and ``Scores.f1`` then hold F-beta.
    thresholds : float or array-like of shape (n_classes,), default=None
        Multi-label scores: ``y_pred`` holds scores and a class is predicted where
        ``score >= threshold`` (one number, or one per class from
        :func:`curate.tune_thresholds`). Adds the ``average_precision`` column and
        ``mean_average_precision``, and the verdict's ``threshold`` rule.
    rare : list of str, default=None
        Classes checked by the rare-recall rule; None: the bottom third (at least one) of
        the non-background classes with support, by support.
    zero_division : {"warn", 0, 1, nan}, default="warn"
        Value of a 0/0 precision, recall or F1; ``"warn"`` acts as 0 and warns with
        :class:`~curate.exceptions.UndefinedMetricWarning`.
    baseline_margin : float, default=0.02
        Rule 1: flagged when accuracy <= majority baseline + baseline_margin.
    recall_gap : float, default=0.2
        Rule 2: flagged when accuracy - macro recall >= recall_gap.
    rare_recall : float, default=0.5
        Rule 3: flagged when accuracy >= high_accuracy and a rare class has recall below this.
    high_accuracy : float, default=0.8
        Rule 3's accuracy level.
    threshold_gain : float, default=0.05
        Rule 4 (scores with one fixed threshold): flagged when per-class thresholds tuned
        on these scores raise macro-F1 by at least this much.

    Returns
    -------
    Evaluation
        Entity level for tags (token level in ``.token``), else sample level.

    Examples
    --------
    >>> y_true = [["B-PER", "I-PER", "O", "O"], ["B-LOC", "O"]]
    >>> y_pred = [["O", "O", "O", "O"], ["O", "O"]]
    >>> ev = evaluate(y_true, y_pred, zero_division=0)
    >>> round(ev.accuracy, 3), ev.macro.recall, ev.paradox.flagged
    (0.5, 0.0, True)
    >>> [round(x, 4) for x in evaluate([0, 1, 2, 2], [0, 1, 2, 1]).macro]
    [0.8333, 0.8333, 0.7778]
    """
    _check_zero_division(zero_division)
    if not (suffix == "auto" or isinstance(suffix, bool)):
        raise param_error("suffix", "evaluate", "a bool or 'auto'", suffix,
                          wrong_type=not isinstance(suffix, str))
    y_true, y_pred = _as_input(y_true), _as_input(y_pred)
    scores = None
    if thresholds is not None:
        if task not in ("auto", "multilabel"):
            raise CurateValueError(
                f"thresholds= turns multi-label scores into predictions; task={task!r} has "
                "no scores. Use task='multilabel' or drop thresholds=")
        scores = _score_matrix(y_pred)
        _check_indicator_truth(y_true, scores.shape)
        y_pred = apply_thresholds(scores, thresholds)
        task = "multilabel"
    if task in ("auto", "multilabel"):
        y_true, y_pred = _indicator_rows(y_true, y_pred)
    if task == "auto":
        task = detect_task(y_true, y_pred, ignore_index=ignore_index, labels=labels)
    if background == "auto":
        background = "O" if task == "tags" else None
    bg = None if background is None else str(background)
    limits = {"baseline_margin": baseline_margin, "recall_gap": recall_gap,
              "rare_recall": rare_recall, "high_accuracy": high_accuracy}
    common = {"zero_division": zero_division, "thresholds": limits, "rare": rare,
              "beta": float(beta)}
    options = {"task": task, "mode": mode, "scheme": scheme, "suffix": suffix,
               "beta": float(beta), "zero_division": zero_division,
               "weighted": sample_weight is not None, **limits,
               "threshold_gain": threshold_gain}
    if task == "tags":
        if sample_weight is not None:
            raise CurateValueError(
                "sample_weight is not supported for task='tags' (seqeval ignores it); "
                "drop sample_weight= or score the tokens with task='multiclass'")
        ev = _evaluate_tags(y_true, y_pred, labels=labels, bg=bg, mode=mode, scheme=scheme,
                            suffix=suffix, ignore_index=ignore_index, options=options,
                            **common)
        return _rename(ev, target_names)
    if task == "multilabel":
        lists = not (sp.issparse(y_true) or (isinstance(y_true, np.ndarray)
                                             and y_true.ndim == 2 and y_true.dtype != object))
        select = None if lists or labels is None else _unique_labels(labels)
        counts = count_multilabel(y_true, y_pred, select=select, sample_weight=sample_weight)
        if lists and labels is not None:
            counts = restrict(counts, _labels_like(_unique_labels(labels), counts.labels))
        options["micro_is_accuracy"] = False
    else:
        counts = count_multiclass(y_true, y_pred, sample_weight=sample_weight)
        present = list(counts.labels)
        if labels is not None:
            wanted = _labels_like(_unique_labels(labels), present)
            counts = restrict(counts, wanted)
            options["micro_is_accuracy"] = set(present) <= set(wanted)
        else:
            options["micro_is_accuracy"] = True
    threshold_check = None
    if scores is not None:
        threshold_check = _threshold_check(y_true, scores, thresholds, counts, beta,
                                           threshold_gain, sample_weight)
    ev = _build(counts, task=task, level="sample", bg=bg, options=options,
                threshold_check=threshold_check, **common)
    if scores is not None:
        ev = _with_ap(ev, y_true, scores, counts, sample_weight)
    return _rename(ev, target_names)


def _score_matrix(y_pred: Any) -> np.ndarray:
    """Scores of ``thresholds=``: a dense float matrix (n_samples, n_classes), or an error."""
    try:
        scores = None if sp.issparse(y_pred) else np.asarray(y_pred, dtype=np.float64)
    except (TypeError, ValueError):  # ragged rows or non-numbers: reported below
        scores = None
    if scores is None or scores.ndim != 2:
        raise CurateValueError(
            "with thresholds=, y_pred must hold scores of shape (n_samples, n_classes) (one "
            "float per class in every row); pass a dense score matrix or drop thresholds=")
    return scores


def _check_indicator_truth(y_true: Any, shape: tuple[int, ...]) -> None:
    """With scores, ``y_true`` must be a 0/1 indicator matrix whose columns are the scores'."""
    if sp.issparse(y_true):
        got = tuple(y_true.shape)
    else:
        try:
            got = np.asarray(y_true, dtype=np.float64).shape
        except (TypeError, ValueError):  # label lists (ragged or str): no column order
            got = ()
    if got != tuple(shape):
        raise CurateValueError(
            f"with thresholds=, y_true must be a 0/1 indicator matrix of the scores' shape "
            f"{tuple(shape)} (column j = class of score column j); got "
            f"{'shape ' + str(got) if got else 'per-sample label lists'}. Turn label lists "
            "into an indicator matrix in the scores' class order (e.g. sklearn's "
            "MultiLabelBinarizer(classes=...)) or drop thresholds=")


def _with_ap(ev: Evaluation, y_true: Any, scores: np.ndarray, counts: Counts,
             sample_weight: Any) -> Evaluation:
    cols = [int(c) for c in counts.labels]
    truth = y_true.toarray() if sp.issparse(y_true) else np.asarray(y_true)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        ap = average_precision(truth[:, cols], scores[:, cols], sample_weight=sample_weight)
    frame = ev.per_class.copy()
    frame["average_precision"] = ap
    keep = [i for i, n in enumerate(ev.classes) if n in ev.averaged_classes]
    return replace(ev, per_class=frame,
                   mean_average_precision=float(np.mean(ap[keep])) if keep else float("nan"))


def _threshold_check(
    y_true: Any, scores: np.ndarray, thresholds: Any, counts: Counts, beta: float,
    gain: float, sample_weight: Any,
) -> dict[str, Any] | None:
    """Rule 4's numbers: macro-F1 at the given fixed threshold and at tuned thresholds,
    both weighted by ``sample_weight`` when given (the counts of the fixed one are)."""
    fixed = np.asarray(thresholds, dtype=np.float64)
    if fixed.ndim != 0:
        return None  # per-class thresholds were given: nothing fixed to blame
    truth = y_true.toarray() if sp.issparse(y_true) else np.asarray(y_true)
    cols = [int(c) for c in counts.labels]
    tuned = tune_thresholds(truth[:, cols], scores[:, cols], metric="fbeta", beta=beta,
                            default=float(fixed), sample_weight=sample_weight)
    pred = apply_thresholds(scores[:, cols], tuned).astype(np.float64)
    t = truth[:, cols].astype(np.float64)
    w = np.ones(len(t)) if sample_weight is None else np.asarray(sample_weight, np.float64)
    f_fixed = prf(counts.tp, counts.pred, counts.true, 0, beta)[2]
    f_tuned = prf(w @ (t * pred), w @ pred, w @ t, 0, beta)[2]
    return {"threshold": float(fixed), "gain": gain, "names": [str(c) for c in cols],
            "f_fixed": f_fixed, "f_tuned": f_tuned}


def _rename(ev: Evaluation, target_names: Sequence[str] | None) -> Evaluation:
    if target_names is None:
        return ev
    names = [str(n) for n in target_names]
    if len(names) != len(ev.classes) or len(set(names)) != len(names):
        raise CurateValueError(
            f"target_names has {len(names)} names for {len(ev.classes)} classes "
            f"{ev.classes[:10]}; give one distinct name per class, in the order of labels=")
    mapping = dict(zip(ev.classes, names, strict=True))
    frame = ev.per_class.rename(index=mapping)
    verdict = ev.paradox
    return replace(
        ev, per_class=frame, averaged_classes=tuple(mapping[c] for c in ev.averaged_classes),
        background=None if ev.background is None else mapping.get(ev.background,
                                                                  ev.background),
        majority_label=mapping.get(ev.majority_label, ev.majority_label), paradox=verdict)


def _labels_like(wanted: list[Any], present: Sequence[Any]) -> list[Any]:
    """``labels=`` of another type than the data's labels (``["1", "2"]`` for ints) would
    match none of them and score every class 0 in silence: refuse it."""
    def kind(v: Any) -> str:
        return "str" if isinstance(v, str) else "number"

    have = {kind(v) for v in present}
    for v in wanted:
        if have and kind(v) not in have:
            shown = list(present)[:5]
            raise CurateValueError(
                f"labels= holds {v!r} ({type(v).__name__}) but the labels in the data are "
                f"{shown} ({', '.join(sorted(have))}); pass labels of the data's type "
                "(name classes in reports with target_names=)")
    return wanted


def _unique_labels(labels: Any) -> list[Any]:
    values = list(np.asarray(labels).tolist()) if not isinstance(labels, list) else labels
    seen: set[Any] = set()
    for i, v in enumerate(values):
        if v in seen:
            raise CurateValueError(f"labels[{i}] repeats {v!r}; give each label once")
        seen.add(v)
    return values


def _check_rare(rare: Sequence[str] | None, names: Sequence[str]) -> None:
    if rare is None:
        return
    for i, name in enumerate(rare):
        if str(name) not in names:
            raise CurateValueError(f"rare[{i}] has class {name!r} not in classes={list(names)}")


def _build(
    counts: Counts, *, task: str, level: str, bg: str | None, zero_division: Any,
    thresholds: dict[str, float], rare: Sequence[str] | None, options: dict[str, Any],
    beta: float, warn: bool = True, seqeval_weighted: bool = False,
    threshold_check: dict[str, Any] | None = None,
) -> Evaluation:
    _check_rare(rare, counts.names)
    warn = warn and zero_division == "warn"
    frame, scores, averaged = _scored(counts, background=bg, zero_division=zero_division,
                                      warn=warn, beta=beta, seqeval_weighted=seqeval_weighted)
    n = counts.n
    accuracy = counts.correct / n if n else float("nan")
    samples = None
    if task == "multilabel":
        samples = _samples_avg(counts, zero_division, warn, beta)
        sub = frame.loc[list(averaged)]
        top = str(sub["support"].idxmax()) if len(sub) else ""
        total = sub["support"].sum()
        baseline = 2 * sub["support"].max() / (n + total) if n + total else float("nan")
        score, score_name, majority = scores["micro"].f1, "Micro-F1", top
    else:
        baseline = counts.majority_count / n if n else float("nan")
        score, score_name, majority = accuracy, "Accuracy", f"{counts.majority_label}"
    verdict = _verdict(frame, averaged, score=score, score_name=score_name,
                       baseline=float(baseline), majority=majority, rare=rare,
                       thresholds=thresholds, threshold_check=threshold_check)
    return Evaluation(
        task=task, level=level, per_class=frame, micro=scores["micro"],
        macro=scores["macro"], weighted=scores["weighted"], accuracy=float(accuracy),
        balanced_accuracy=float(counts.balanced_accuracy), majority_baseline=float(baseline),
        majority_label=majority, paradox=verdict, background=bg, averaged_classes=averaged,
        samples=samples, n_items=n, options=options,
    )


def _resolve_tags(
    t: np.ndarray, p: np.ndarray, lengths: np.ndarray, vocab: list[str], *, mode: str,
    scheme: str, suffix: Any,
) -> tuple[str, bool]:
    """The scheme and suffix style to read the tags with; warns or raises on odd tags."""
    seen = np.bincount(t, minlength=len(vocab)) + np.bincount(p, minlength=len(vocab))
    present = [vocab[int(i)] for i in np.flatnonzero(seen)]
    if suffix == "auto":
        suffix = detect_suffix(present)
    odd = odd_tags(present, suffix=suffix)
    style = "suffix style such as 'PER-B'" if suffix else "prefix style such as 'B-PER'"
    if mode == "strict":
        if odd:
            raise CurateValueError(
                f"tag {odd[0]!r} is not a well-formed tag ({style}, or 'O'); mode='strict' "
                f"cannot read it (odd tags: {odd[:10]}); fix the tags or use mode='default'")
        if scheme == "auto":
            found = scheme_from_codes(t, lengths, vocab)
            if found is None or found.suffix != suffix:
                prefixes = sorted({(parse_tag(v, suffix=suffix) or ("?",))[0] for v in present})
                raise CurateValueError(
                    f"cannot detect the tagging scheme of y_true (prefixes {prefixes} fit no "
                    f"single scheme); pass scheme= (one of {list(TAG_SCHEMES)})")
            scheme = found.scheme
        return scheme, bool(suffix)
    letters = (lambda v: v[-1:]) if suffix else (lambda v: v[:1])
    lenient = [v for v in present if v not in odd and v != "O" and letters(v) in "LU"]
    if odd or lenient:
        warnings.warn(
            f"tags {(odd + lenient)[:10]} are not read as entity tags by mode='default' "
            f"(it reads {style} with prefixes B, I, E, S, and 'O'); like seqeval, they are "
            "scored as they fall. Fix the tags, or use mode='strict' (with scheme='BILOU' "
            "for L-/U- tags).", CurateWarning, stacklevel=user_stacklevel())
    return ("IOB2" if scheme == "auto" else scheme), bool(suffix)


def _evaluate_tags(
    y_true: Any, y_pred: Any, *, labels: Any, bg: str | None, mode: str, scheme: str,
    suffix: Any, ignore_index: int, zero_division: Any, thresholds: dict[str, float],
    rare: Sequence[str] | None, options: dict[str, Any], beta: float,
) -> Evaluation:
    t, p, lengths, vocab = encode_tags(y_true, y_pred, labels=labels, ignore_index=ignore_index)
    scheme, suffix = _resolve_tags(t, p, lengths, vocab, mode=mode, scheme=scheme,
                                   suffix=suffix)
    options = {**options, "scheme": scheme if mode == "strict" else None, "suffix": suffix,
               "micro_is_accuracy": False}
    tok_counts = token_counts(t, p, vocab)
    token = _build(tok_counts, task="tags", level="token", bg=bg, zero_division=zero_division,
                   thresholds=thresholds, rare=None, options=options, warn=False, beta=beta)
    types, tp, pred, true = entity_counts(t, p, lengths, vocab, mode=mode, scheme=scheme,
                                          suffix=suffix)
    ent = Counts(labels=types, tp=tp, pred=pred, true=true, n=tok_counts.n,
                 correct=tok_counts.correct, balanced_accuracy=tok_counts.balanced_accuracy,
                 majority_label=tok_counts.majority_label,
                 majority_count=tok_counts.majority_count)
    main = _build(ent, task="tags", level="entity", bg=None, zero_division=zero_division,
                  thresholds=thresholds, rare=rare, options=options, beta=beta,
                  seqeval_weighted=True)
    verdict = _verdict(main.per_class, main.averaged_classes, score=token.accuracy,
                       score_name="Token accuracy", baseline=token.majority_baseline,
                       majority=token.majority_label, rare=rare, thresholds=thresholds)
    return Evaluation(**{**main.__dict__, "paradox": verdict, "token": token,
                         "background": bg})
