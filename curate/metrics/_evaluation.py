"""``evaluate()``: per-class and averaged scores, baselines and the accuracy-paradox verdict."""

from __future__ import annotations

import json
import math
import os
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from curate._atomic import atomic_write_text
from curate._validation import Interval, Options, user_stacklevel, validate_params
from curate.exceptions import CurateValueError, UndefinedMetricWarning
from curate.metrics._counts import Counts, count_multiclass, count_multilabel, restrict
from curate.metrics._paradox import ParadoxVerdict, default_rare, judge
from curate.metrics._scores import Scores, _nanaverage, average_scores, prf
from curate.metrics._sequence import encode_tags, entity_counts, token_counts

__all__ = ["Evaluation", "evaluate"]

_TAG = re.compile(r"^(O|[BIESLU](-.+)?)$")
_AVERAGES = ("micro", "macro", "weighted")


def _clean(x: Any) -> Any:
    """Floats that JSON can hold (NaN -> None), recursively."""
    if isinstance(x, float) and math.isnan(x):
        return None
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    return x


def _fmt(x: Any) -> str:
    if isinstance(x, float):
        return "nan" if math.isnan(x) else f"{x:.4f}"
    return str(x)


def markdown_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub Markdown table; numbers right-aligned, floats with 4 decimals.

    Examples
    --------
    >>> print(markdown_table(["class", "f1"], [["a", 0.5]]))
    | class | f1 |
    |---|---:|
    | a | 0.5000 |
    """
    align = ["---"] + ["---:"] * (len(columns) - 1)
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


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
    n_items : int, default=0
        Number of items scored: samples, or tokens for ``task="tags"`` (both levels).
    token : Evaluation or None, default=None
        Token-level evaluation of a ``tags`` run.
    options : dict, default={}
        The settings :func:`evaluate` ran with: ``task``, ``mode``, ``scheme``,
        ``zero_division`` and the paradox thresholds.

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
    n_items: int = 0
    token: Evaluation | None = None
    options: dict[str, Any] = field(default_factory=dict)

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
        support = int(self.per_class.loc[list(self.averaged_classes), "support"].sum())
        predicted = int(self.per_class.loc[list(self.averaged_classes), "predicted"].sum())
        rows = pd.DataFrame(
            [[*s, support, predicted] for s in self._averages().values()],
            index=list(self._averages()),
            columns=["precision", "recall", "f1", "support", "predicted"],
        )
        return pd.concat([self.per_class, rows]).rename_axis("class")

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
                "f1-score": float(row["f1"]), "support": int(row["support"]),
                "predicted": int(row["predicted"]),
            }
        out["accuracy"] = float(self.accuracy)
        frame = self.to_frame()
        for key in self._averages():
            row = frame.loc[key]
            out[key] = {"precision": float(row["precision"]), "recall": float(row["recall"]),
                        "f1-score": float(row["f1"]), "support": int(row["support"])}
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
            "n_items": int(self.n_items),
            "token": None if self.token is None else self.token.to_dict(),
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
        text = json.dumps(_clean(self.to_dict()), indent=indent)
        if path is not None:
            atomic_write_text(path, text)
        return text

    def summary_line(self) -> str:
        """Accuracy, balanced accuracy, macro recall and the baseline in one line.

        Examples
        --------
        >>> evaluate([0, 1], [0, 1]).summary_line()[:38]
        'accuracy 1.0000 · balanced accuracy 1.'
        """
        return (f"accuracy {self.accuracy:.4f} · balanced accuracy "
                f"{self.balanced_accuracy:.4f} · macro recall {self.macro.recall:.4f} · "
                f"majority baseline {self.majority_baseline:.4f} ('{self.majority_label}')")

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
        ))
        if self.token is not None:
            tf = self.token.to_frame()
            rows = [[i, *r] for i, r in zip(tf.index, tf.itertuples(index=False), strict=True)]
            parts += ["", "Token level (background excluded from the averages):", "",
                      markdown_table(["class (token)", *tf.columns], rows)]
        return "\n".join(parts) + "\n"

    def _verdict_markdown(self) -> str:
        if not self.paradox.flagged:
            return "**Verdict:** no accuracy paradox."
        return "**Verdict: accuracy paradox.**\n\n" + "\n".join(
            f"- {r}" for r in self.paradox.reasons)


# ------------------------------------------------------------------------------- helpers


def _emit(masks: dict[str, np.ndarray], names: list[str], where: str) -> None:
    texts = {"precision": ("Precision", "predicted"), "recall": ("Recall", "true"),
             "f-score": ("F-score", "true nor predicted")}
    for key, (metric, modifier) in texts.items():
        bad = [n for n, m in zip(names, masks[key], strict=True) if m]
        if bad:
            warnings.warn(
                f"{metric} is ill-defined and being set to 0.0 in {where} with no {modifier} "
                f"samples: {bad[:10]}{' ...' if len(bad) > 10 else ''}. Use `zero_division` "
                "parameter to control this behavior.",
                UndefinedMetricWarning,
                stacklevel=user_stacklevel(),
            )


def _per_class(counts: Counts, zero_division: Any, warn: bool) -> pd.DataFrame:
    p, r, f, masks = prf(counts.tp, counts.pred, counts.true, zero_division)
    if warn:
        _emit(masks, counts.names, "labels")
    frame = pd.DataFrame(
        {"precision": p, "recall": r, "f1": f, "support": counts.true,
         "predicted": counts.pred},
        index=pd.Index(counts.names, name="class", dtype=object),
    )
    return frame


def _samples_avg(counts: Counts, zero_division: Any, warn: bool) -> Scores:
    def rows(m: Any) -> np.ndarray:
        return np.asarray(m.sum(axis=1)).ravel()

    tp, pred, true = rows(counts.sample_tp), rows(counts.sample_pred), rows(counts.sample_true)
    p, r, f, masks = prf(tp, pred, true, zero_division)
    if warn:
        for key, (metric, modifier) in {"precision": ("Precision", "predicted"),
                                        "recall": ("Recall", "true"),
                                        "f-score": ("F-score", "true nor predicted")}.items():
            if masks[key].any():
                warnings.warn(
                    f"{metric} is ill-defined and being set to 0.0 in samples with no "
                    f"{modifier} labels. Use `zero_division` parameter to control this "
                    "behavior.", UndefinedMetricWarning, stacklevel=user_stacklevel())
    return Scores(_nanaverage(p), _nanaverage(r), _nanaverage(f))


def _scored(
    counts: Counts, *, background: str | None, zero_division: Any, warn: bool
) -> tuple[pd.DataFrame, dict[str, Scores], tuple[str, ...]]:
    frame = _per_class(counts, zero_division, warn)
    keep = np.array([n != background for n in counts.names], dtype=bool)
    avgs = average_scores(counts.tp[keep], counts.pred[keep], counts.true[keep], zero_division)
    if warn and avgs["micro"][1]:
        _emit({k: np.array([v]) for k, v in avgs["micro"][1].items()}, ["micro avg"], "the")
    scores = {a: avgs[a][0] for a in _AVERAGES}
    return frame, scores, tuple(n for n, k in zip(counts.names, keep, strict=True) if k)


def _macro_recall(frame: pd.DataFrame, averaged: Sequence[str]) -> float:
    sub = frame.loc[list(averaged)]
    sub = sub[sub["support"] > 0]
    return float(sub["recall"].mean()) if len(sub) else float("nan")


def _verdict(
    frame: pd.DataFrame, averaged: Sequence[str], *, score: float, score_name: str,
    baseline: float, majority: str, rare: Sequence[str] | None, thresholds: dict[str, float],
) -> ParadoxVerdict:
    sub = frame.loc[list(averaged)]
    rare_list = list(rare) if rare is not None else default_rare(
        [str(i) for i in sub.index], sub["support"].tolist())
    return judge(score=score, score_name=score_name, baseline=baseline, majority_label=majority,
                 macro_recall=_macro_recall(frame, averaged),
                 recalls={str(k): float(v) for k, v in sub["recall"].items()},
                 rare=rare_list, **thresholds)


def _is_seq(x: Any) -> bool:
    return isinstance(x, list | tuple | np.ndarray | pd.Series | set | frozenset)


def detect_task(y_true: Any, y_pred: Any, *, ignore_index: int = -100) -> str:
    """The task ``task="auto"`` picks (see the module docs for the rules).

    Parameters
    ----------
    y_true : array-like
        True labels, in any form :func:`evaluate` accepts: 1-d labels, an indicator matrix
        (dense or scipy sparse), per-sample label lists, or tag sequences.
    y_pred : array-like
        Predicted labels in the same form; nested lists whose lengths differ from
        ``y_true``'s pairwise are taken as multi-label.
    ignore_index : int, default=-100
        Integer tag id marking positions to skip; nested integer lists holding it are
        taken as tags.

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
    """
    if sp.issparse(y_true):
        return "multilabel"
    if isinstance(y_true, np.ndarray) and y_true.dtype != object:
        if y_true.ndim == 1 or (y_true.ndim == 2 and y_true.shape[1] == 1):
            return "multiclass"
        values = np.unique(y_true)
        return "multilabel" if np.isin(values, (0, 1)).all() else "tags"
    items = list(islice((s for s in y_true if _is_seq(s)), 1))
    if not items:
        return "multiclass"
    try:
        same = len(y_true) == len(y_pred) and all(
            len(a) == len(b) for a, b in zip(y_true, y_pred, strict=True))
    except TypeError:
        same = False
    if not same:
        return "multilabel"
    sample = {x for s in islice(y_true, 2000) for x in s}
    if sample and all(isinstance(x, str) and _TAG.match(x) for x in sample):
        return "tags"
    if any(isinstance(x, int | np.integer) and x == ignore_index for x in sample):
        return "tags"
    return "multilabel"


def _as_input(y: Any) -> Any:
    if isinstance(y, pd.DataFrame | pd.Series):
        return y.to_numpy()
    return y


def _check_zero_division(zero_division: Any) -> None:
    ok = (isinstance(zero_division, str) and zero_division == "warn") or (
        isinstance(zero_division, int | float) and not isinstance(zero_division, bool)
        and (zero_division in (0, 1) or math.isnan(zero_division)))
    if not ok:
        raise CurateValueError(
            "The 'zero_division' parameter of evaluate must be one of {'warn', 0, 1, nan}. "
            f"Got {zero_division!r} instead.")


_RULES: dict[str, list[Any]] = {
    "task": [Options({"auto", "multiclass", "multilabel", "tags"})],
    "scheme": [Options({"IOB2", "IOBES"})],
    "mode": [Options({"default", "strict"})],
    "ignore_index": [Interval(int, None, None)],
    "baseline_margin": [Interval(float, 0, 1)],
    "recall_gap": [Interval(float, 0, 1)],
    "rare_recall": [Interval(float, 0, 1)],
    "high_accuracy": [Interval(float, 0, 1)],
}


@validate_params(_RULES)
def evaluate(
    y_true: Any,
    y_pred: Any,
    *,
    task: str = "auto",
    labels: Any = None,
    background: Any = "auto",
    scheme: str = "IOB2",
    mode: str = "default",
    ignore_index: int = -100,
    rare: Sequence[str] | None = None,
    zero_division: Any = "warn",
    baseline_margin: float = 0.02,
    recall_gap: float = 0.2,
    rare_recall: float = 0.5,
    high_accuracy: float = 0.8,
) -> Evaluation:
    """Score predictions per class and on average, and judge the accuracy paradox.

    Parameters
    ----------
    y_true, y_pred : array-like
        ``multiclass``: 1-d labels (int or str). ``multilabel``: indicator matrices of shape
        (n_samples, n_classes) (dense or scipy sparse) or per-sample label lists.
        ``tags``: lists of tag sequences (``"B-PER"``...), or padded int arrays / lists of
        int sequences where ``y_true == ignore_index`` marks positions to skip.
    task : {"auto", "multiclass", "multilabel", "tags"}, default="auto"
        ``auto``: sparse or 0/1 2-d arrays -> multilabel, other 2-d int arrays -> tags,
        1-d -> multiclass; nested lists of tag-shaped strings (``O``, ``B-X``...) with equal
        lengths pairwise -> tags; other nested lists -> multilabel.
    labels : array-like or dict, default=None
        multiclass and multi-label lists: restrict to and order by these labels (as in
        scikit-learn; absent labels score zero_division). Indicator matrices: the column
        names. Integer tags: the tag of each id (a list indexed by id or an id2label dict).
    background : str or None, default="auto"
        A class left out of the micro/macro/weighted averages (still shown per class).
        ``"auto"`` means ``"O"`` for tags (token level) and None otherwise.
    scheme : {"IOB2", "IOBES"}, default="IOB2"
        Tagging scheme of ``mode="strict"``.
    mode : {"default", "strict"}, default="default"
        Entity extraction like seqeval: ``default`` (conlleval-compatible, lenient) or
        ``strict`` (spans must be well formed in ``scheme``; tags it does not allow raise).
    ignore_index : int, default=-100
        Integer tag id to skip (positions where ``y_true`` holds it).
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
    y_true, y_pred = _as_input(y_true), _as_input(y_pred)
    if task == "auto":
        task = detect_task(y_true, y_pred, ignore_index=ignore_index)
    if background == "auto":
        background = "O" if task == "tags" else None
    bg = None if background is None else str(background)
    thresholds = {"baseline_margin": baseline_margin, "recall_gap": recall_gap,
                  "rare_recall": rare_recall, "high_accuracy": high_accuracy}
    common = {"zero_division": zero_division, "thresholds": thresholds, "rare": rare}
    options = {"task": task, "mode": mode, "scheme": scheme, "zero_division": zero_division,
               **thresholds}
    if task == "tags":
        return _evaluate_tags(y_true, y_pred, labels=labels, bg=bg, mode=mode, scheme=scheme,
                              ignore_index=ignore_index, options=options, **common)
    if task == "multilabel":
        lists = not (sp.issparse(y_true) or (isinstance(y_true, np.ndarray)
                                             and y_true.ndim == 2 and y_true.dtype != object))
        counts = count_multilabel(y_true, y_pred, column_names=None if lists else labels)
        if lists and labels is not None:
            counts = restrict(counts, _unique_labels(labels))
    else:
        counts = count_multiclass(y_true, y_pred)
        if labels is not None:
            counts = restrict(counts, _unique_labels(labels))
    return _build(counts, task=task, level="sample", bg=bg, options=options, **common)


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
    warn: bool = True,
) -> Evaluation:
    _check_rare(rare, counts.names)
    warn = warn and zero_division == "warn"
    frame, scores, averaged = _scored(counts, background=bg, zero_division=zero_division,
                                      warn=warn)
    n = counts.n
    accuracy = counts.correct / n if n else float("nan")
    samples = None
    if task == "multilabel":
        samples = _samples_avg(counts, zero_division, warn)
        sub = frame.loc[list(averaged)]
        top = str(sub["support"].idxmax()) if len(sub) else ""
        total = int(sub["support"].sum())
        baseline = 2 * int(sub["support"].max()) / (n + total) if n + total else float("nan")
        score, score_name, majority = scores["micro"].f1, "Micro-F1", top
    else:
        baseline = counts.majority_count / n if n else float("nan")
        score, score_name, majority = accuracy, "Accuracy", f"{counts.majority_label}"
    verdict = _verdict(frame, averaged, score=score, score_name=score_name, baseline=baseline,
                       majority=majority, rare=rare, thresholds=thresholds)
    return Evaluation(
        task=task, level=level, per_class=frame, micro=scores["micro"],
        macro=scores["macro"], weighted=scores["weighted"], accuracy=float(accuracy),
        balanced_accuracy=float(counts.balanced_accuracy), majority_baseline=float(baseline),
        majority_label=majority, paradox=verdict, background=bg, averaged_classes=averaged,
        samples=samples, n_items=n, options=options,
    )


def _evaluate_tags(
    y_true: Any, y_pred: Any, *, labels: Any, bg: str | None, mode: str, scheme: str,
    ignore_index: int, zero_division: Any, thresholds: dict[str, float],
    rare: Sequence[str] | None, options: dict[str, Any],
) -> Evaluation:
    t, p, lengths, vocab = encode_tags(y_true, y_pred, labels=labels, ignore_index=ignore_index)
    tok_counts = token_counts(t, p, vocab)
    token = _build(tok_counts, task="tags", level="token", bg=bg, zero_division=zero_division,
                   thresholds=thresholds, rare=None, options=options, warn=False)
    types, tp, pred, true = entity_counts(t, p, lengths, vocab, mode=mode, scheme=scheme)
    ent = Counts(labels=types, tp=tp, pred=pred, true=true, n=tok_counts.n,
                 correct=tok_counts.correct, balanced_accuracy=tok_counts.balanced_accuracy,
                 majority_label=tok_counts.majority_label,
                 majority_count=tok_counts.majority_count)
    main = _build(ent, task="tags", level="entity", bg=None, zero_division=zero_division,
                  thresholds=thresholds, rare=rare, options=options)
    verdict = _verdict(main.per_class, main.averaged_classes, score=token.accuracy,
                       score_name="Token accuracy", baseline=token.majority_baseline,
                       majority=token.majority_label, rare=rare, thresholds=thresholds)
    return Evaluation(**{**main.__dict__, "paradox": verdict, "token": token,
                         "background": bg})
