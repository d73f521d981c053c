"""Multi-label ranking metrics from scores: per-class average precision, mAP, thresholds.

:func:`average_precision` equals :func:`sklearn.metrics.average_precision_score` with
``average=None`` (one number per class, ties between scores handled as one threshold).
:func:`tune_thresholds` picks one decision threshold per class that maximises F-beta on a
validation split; :func:`apply_thresholds` turns scores into an indicator matrix with them.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp

from curate._validation import Interval, Options, user_stacklevel, validate_params
from curate.exceptions import CurateTypeError, CurateValueError, UndefinedMetricWarning
from curate.metrics._counts import check_sample_weight

__all__ = ["apply_thresholds", "average_precision", "mean_average_precision",
           "tune_thresholds"]


def as_array(y: Any) -> Any:
    """numpy for torch tensors (moved with ``.cpu()``) and pandas objects; else unchanged.

    Examples
    --------
    >>> import pandas as pd
    >>> as_array(pd.Series([1, 2])).tolist()
    [1, 2]
    """
    if type(y).__module__.split(".")[0] == "torch" and hasattr(y, "detach"):
        return y.detach().cpu().numpy()
    if hasattr(y, "to_numpy") and type(y).__module__.split(".")[0] == "pandas":
        return y.to_numpy()
    return y


def _scores(scores: Any, name: str = "scores") -> np.ndarray:
    arr = as_array(scores)
    try:
        arr = np.asarray(arr, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise CurateTypeError(f"{name} must be an array of numbers (n_samples, n_classes); "
                              f"got {type(scores).__name__}") from exc
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise CurateValueError(f"{name} must be 2-d (n_samples, n_classes); got shape "
                               f"{arr.shape}")
    bad = np.argwhere(~np.isfinite(arr))
    if bad.size:
        i, j = bad[0].tolist()
        raise CurateValueError(f"{name}[{i}, {j}] is {arr[i, j].tolist()!r}; scores must be "
                               "finite numbers")
    return arr


def _truth(y_true: Any, shape: tuple[int, int]) -> np.ndarray:
    y = as_array(y_true)
    y = y.toarray() if sp.issparse(y) else np.asarray(y)
    if y.ndim == 1:
        y = y[:, None]
    if y.shape != shape:
        raise CurateValueError(f"y_true has shape {y.shape} but scores have shape {shape}; "
                               "give one 0/1 column per class")
    if y.dtype == object or not np.isin(y, (0, 1)).all():
        bad = y[~np.isin(y, (0, 1))].ravel()[:1].tolist()
        raise CurateValueError(f"y_true has value {bad[0]!r}; a label indicator matrix holds "
                               "only 0 and 1")
    if shape[0] == 0:
        raise CurateValueError("y_true and scores are empty (0 samples); at least 1 sample "
                               "is required")
    return y.astype(bool)


def _curve(y: np.ndarray, s: np.ndarray, w: np.ndarray | None = None
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True and false positives at each distinct score, highest first: ``(tp, fp, score)``.

    With weights ``w``, the (weighted) sums; samples of weight 0 are left out first, as
    scikit-learn does, so they are never a cut of their own.
    """
    if w is not None:
        keep = w != 0
        y, s, w = y[keep], s[keep], w[keep]
    order = np.argsort(-s, kind="stable")
    s, y = s[order], y[order]
    last = np.flatnonzero(np.concatenate((s[1:] != s[:-1], [True])))
    if w is None:
        tp = np.cumsum(y)[last]
        return tp, (last + 1) - tp, s[last]
    w = w[order]
    return np.cumsum(w * y)[last], np.cumsum(w * ~y)[last], s[last]


def _positives(y: np.ndarray, w: np.ndarray | None) -> float:
    return float(y.sum()) if w is None else float(w[y].sum())


def average_precision(y_true: Any, scores: Any, *, sample_weight: Any = None) -> np.ndarray:
    """Average precision of each class, ``AP = sum_n (R_n - R_{n-1}) P_n``.

    Precision ``P_n`` and recall ``R_n`` are taken at every distinct score (tied scores
    form one threshold), exactly as scikit-learn's ``average_precision_score``. A class
    with no positive sample gets 0.0 with an :class:`~curate.exceptions.UndefinedMetricWarning`,
    as in scikit-learn.

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_classes)
        0/1 indicator matrix (numpy, scipy sparse, pandas or a torch tensor); a 1-d array
        is one class.
    scores : array-like of shape (n_samples, n_classes)
        Scores (probabilities or logits); higher means more likely positive.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each sample in the true and false positive counts (as scikit-learn).

    Returns
    -------
    numpy.ndarray of shape (n_classes,)
        AP of each class.

    See Also
    --------
    mean_average_precision : the macro mean of these values.

    Examples
    --------
    >>> y = [[1, 0], [0, 1], [1, 1], [0, 0]]
    >>> s = [[0.9, 0.1], [0.2, 0.8], [0.6, 0.3], [0.7, 0.2]]
    >>> average_precision(y, s).round(4).tolist()
    [0.8333, 1.0]
    """
    s = _scores(scores)
    y = _truth(y_true, s.shape)
    w = check_sample_weight(sample_weight, s.shape[0])
    out = np.zeros(s.shape[1])
    empty = []
    for j in range(s.shape[1]):
        positives = _positives(y[:, j], w)
        if positives == 0:
            empty.append(j)
            continue
        tp, fp, _ = _curve(y[:, j], s[:, j], w)
        precision = tp / (tp + fp)
        recall = tp / positives
        out[j] = float(np.sum(np.diff(np.concatenate(([0.0], recall))) * precision))
    if empty:
        warnings.warn(
            f"Average precision is ill-defined for classes {empty[:10]} with no positive "
            "sample in y_true and is set to 0.0 (as scikit-learn).",
            UndefinedMetricWarning, stacklevel=user_stacklevel())
    return out


def mean_average_precision(y_true: Any, scores: Any, *, sample_weight: Any = None) -> float:
    """Macro mean of :func:`average_precision` over the classes (scikit-learn's ``macro``).

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_classes)
        0/1 indicator matrix.
    scores : array-like of shape (n_samples, n_classes)
        Scores, higher means more likely positive.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each sample (as in :func:`average_precision`).

    Returns
    -------
    float
        mAP.

    Examples
    --------
    >>> round(mean_average_precision([[1, 0], [0, 1], [1, 1]], [[.9, .2], [.1, .7], [.8, .6]]), 4)
    1.0
    """
    return float(np.mean(average_precision(y_true, scores, sample_weight=sample_weight)))


def _fbeta(tp: np.ndarray, fp: np.ndarray, positives: float, beta: float) -> np.ndarray:
    b2 = beta * beta
    return (1 + b2) * tp / (b2 * positives + tp + fp)


@validate_params({"metric": [Options({"f1", "fbeta"})], "beta": [Interval(float, 0, None,
                                                                            "neither")],
                  "default": [Interval(float, None, None)]})
def tune_thresholds(
    y_true: Any, scores: Any, *, metric: str = "f1", beta: float = 1.0, default: float = 0.5,
    sample_weight: Any = None,
) -> np.ndarray:
    """One decision threshold per class that maximises F1 (or F-beta) on these samples.

    Pass a validation split (not the test set): the thresholds are fitted to it. A sample
    is predicted positive for class ``j`` when ``scores[:, j] >= thresholds[j]``.

    For each class every distinct score is a candidate cut; the cut with the highest
    F-beta wins. **Tie rule:** among cuts with the same F-beta, the highest cut (fewest
    positive predictions) wins. The returned threshold is the midpoint between the winning
    score and the next lower distinct score (the winning score itself when none is lower),
    so the validation predictions are the same for any threshold in that gap and unseen
    scores fall on the side of the nearer neighbour. A class with no positive sample keeps
    ``default``. The result is deterministic: it depends only on the values given.

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_classes)
        0/1 indicator matrix of the validation split (numpy, scipy sparse, pandas, torch).
    scores : array-like of shape (n_samples, n_classes)
        The model's scores on the same samples (probabilities or logits).
    metric : {"f1", "fbeta"}, default="f1"
        What the thresholds maximise; ``"fbeta"`` uses ``beta``.
    beta : float, default=1.0
        Weight of recall in F-beta (``metric="fbeta"``), ``> 0``.
    default : float, default=0.5
        Threshold of classes with no positive sample.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each sample in the F-beta counts; samples of weight 0 are no candidate.

    Returns
    -------
    numpy.ndarray of shape (n_classes,)
        The thresholds; pass them to :func:`apply_thresholds` or to
        ``curate.evaluate(y_true, scores, thresholds=...)``.

    Examples
    --------
    >>> y = [[1, 0], [0, 1], [1, 0], [0, 0]]
    >>> s = [[0.30, 0.9], [0.20, 0.6], [0.25, 0.4], [0.10, 0.7]]
    >>> tune_thresholds(y, s).tolist()
    [0.225, 0.5]
    >>> apply_thresholds(s, [0.225, 0.5]).tolist()
    [[1, 1], [0, 1], [1, 0], [0, 1]]
    """
    s = _scores(scores)
    y = _truth(y_true, s.shape)
    w = check_sample_weight(sample_weight, s.shape[0])
    use_beta = beta if metric == "fbeta" else 1.0
    out = np.full(s.shape[1], float(default))
    for j in range(s.shape[1]):
        positives = _positives(y[:, j], w)
        if positives == 0:
            continue
        tp, fp, cuts = _curve(y[:, j], s[:, j], w)
        f = _fbeta(tp, fp, positives, use_beta)
        best = int(np.flatnonzero(f == f.max())[0])  # cuts run high -> low: first = highest
        cut = float(cuts[best])
        lower = float(cuts[best + 1]) if best + 1 < cuts.size else cut
        mid = lower / 2 + cut / 2  # halves first: no overflow near the float maximum
        # adjacent floats have no midpoint strictly above the lower one: keep the cut itself
        out[j] = mid if lower < mid <= cut else cut
    return out


def apply_thresholds(scores: Any, thresholds: Any) -> np.ndarray:
    """Indicator matrix ``scores >= thresholds`` (one threshold, or one per class).

    Parameters
    ----------
    scores : array-like of shape (n_samples, n_classes)
        Scores.
    thresholds : float or array-like of shape (n_classes,)
        A threshold for all classes, or one per class (:func:`tune_thresholds`).

    Returns
    -------
    numpy.ndarray of int8, shape (n_samples, n_classes)

    Examples
    --------
    >>> apply_thresholds([[0.2, 0.7]], 0.5).tolist()
    [[0, 1]]
    """
    s = _scores(scores)
    t = np.asarray(as_array(thresholds), dtype=np.float64)
    if t.ndim > 1 or (t.ndim == 1 and t.shape[0] != s.shape[1]):
        raise CurateValueError(
            f"thresholds must be one number or one per class ({s.shape[1]}); got shape "
            f"{t.shape}")
    if not np.isfinite(t).all():
        raise CurateValueError("thresholds must be finite numbers")
    return (s >= t).astype(np.int8)
