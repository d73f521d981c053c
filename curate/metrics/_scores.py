"""Precision, recall and F1 from per-class counts, with scikit-learn's zero-division rules.

Every score here is a pure function of three count vectors (``tp``, ``pred``, ``true``), so
counts summed over chunks give the same scores as one-shot counting.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

__all__ = ["Scores", "average_scores", "prf", "zero_division_value"]


class Scores(NamedTuple):
    """An averaged ``(precision, recall, f1)`` triple.

    Attributes
    ----------
    precision : float
        Averaged precision, in [0, 1] (or the ``zero_division`` value, possibly ``nan``).
    recall : float
        Averaged recall, in [0, 1] (or the ``zero_division`` value, possibly ``nan``).
    f1 : float
        Averaged F1 score, in [0, 1] (or the ``zero_division`` value, possibly ``nan``).

    Examples
    --------
    >>> Scores(0.5, 1.0, 2 / 3).f1
    0.6666666666666666
    """

    precision: float
    recall: float
    f1: float


def zero_division_value(zero_division: Any) -> float:
    """The value a 0/0 score takes: ``"warn"`` -> 0.0, else the number (``nan`` allowed).

    Examples
    --------
    >>> zero_division_value("warn"), zero_division_value(1)
    (0.0, 1.0)
    """
    if isinstance(zero_division, str):
        return 0.0
    return float(zero_division)


def _divide(
    num: np.ndarray, den: np.ndarray, zero_division: Any
) -> tuple[np.ndarray, np.ndarray]:
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    mask = den == 0
    out = num / np.where(mask, 1.0, den)
    out[mask] = zero_division_value(zero_division)
    return out, mask


def prf(
    tp: np.ndarray, pred: np.ndarray, true: np.ndarray, zero_division: Any = "warn",
    beta: float = 1.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Per-class precision, recall, F-beta and the masks where each was 0/0.

    ``f = (1 + beta**2) tp / (beta**2 true + pred)`` (scikit-learn >= 1.3), ``zero_division``
    where that is 0/0; ``beta=inf`` gives recall.

    Examples
    --------
    >>> p, r, f, undefined = prf(np.array([1, 0]), np.array([2, 0]), np.array([1, 1]), 0)
    >>> p.tolist(), r.tolist(), f.tolist(), undefined["precision"].tolist()
    ([0.5, 0.0], [1.0, 0.0], [0.6666666666666666, 0.0], [False, True])
    """
    precision, p_mask = _divide(tp, pred, zero_division)
    recall, r_mask = _divide(tp, true, zero_division)
    if np.isposinf(beta):
        f1, f_mask = recall.copy(), r_mask
    else:
        b2 = beta * beta
        f1, f_mask = _divide((1 + b2) * np.asarray(tp, dtype=np.float64),
                             b2 * np.asarray(true, dtype=np.float64) + pred, zero_division)
    return precision, recall, f1, {"precision": p_mask, "recall": r_mask, "f-score": f_mask}


def _nanaverage(values: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Weighted mean ignoring NaN; NaN when nothing is left; equal weights if all are 0."""
    values = np.asarray(values, dtype=np.float64)
    keep = ~np.isnan(values)
    if not keep.any():
        return float("nan")
    if weights is None:
        return float(values[keep].mean())
    w = np.asarray(weights, dtype=np.float64)[keep]
    if w.sum() == 0:
        return float(values[keep].mean())
    return float(np.average(values[keep], weights=w))


def average_scores(
    tp: np.ndarray,
    pred: np.ndarray,
    true: np.ndarray,
    zero_division: Any = "warn",
    beta: float = 1.0,
) -> dict[str, tuple[Scores, dict[str, bool]]]:
    """Micro, macro and weighted averages of the classes given, with their 0/0 flags.

    Examples
    --------
    >>> out = average_scores(np.array([1, 1]), np.array([1, 3]), np.array([2, 2]))
    >>> out["micro"][0], out["macro"][0].precision
    (Scores(precision=0.5, recall=0.5, f1=0.5), 0.6666666666666666)
    """
    tp, pred, true = (np.asarray(a) for a in (tp, pred, true))
    p, r, f, masks = prf(tp, pred, true, zero_division, beta)
    mp, mr, mf, mmasks = prf(
        np.array([tp.sum()]), np.array([pred.sum()]), np.array([true.sum()]), zero_division,
        beta,
    )
    any_masks = {k: bool(v.any()) for k, v in masks.items()}
    return {
        "micro": (Scores(float(mp[0]), float(mr[0]), float(mf[0])),
                  {k: bool(v[0]) for k, v in mmasks.items()}),
        "macro": (Scores(_nanaverage(p), _nanaverage(r), _nanaverage(f)), any_masks),
        "weighted": (
            Scores(_nanaverage(p, true), _nanaverage(r, true), _nanaverage(f, true)),
            any_masks,
        ),
    }
