"""How balanced a vector of class totals is, and what a plan costs: pure functions.

The three balance measures take a vector of class totals ``c`` (``K`` entries):

- ``imbalance_ratio(c) = max(c) / min(c)`` (``inf`` when a class has 0, 1 for uniform);
- ``coefficient_of_variation(c) = std(c) / mean(c)`` (population std, ``ddof=0``; 0 for
  uniform), scale-free;
- ``kl_to_uniform(c) = sum_k p_k log(K p_k)`` with ``p = c / sum(c)``: the Kullback-Leibler
  divergence of the class distribution from the uniform one, in nats (0 for uniform, at
  most ``log K``); ``0 log 0 = 0``.

:func:`plan_quality` applies them to a plan's non-background class totals and adds the
costs: duplicated draws, removed samples, distinct samples and the share of rare-class
samples kept.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from curate._validation import Options, check_instance, check_param
from curate.balance._plan import BalancePlan
from curate.exceptions import CurateValueError

__all__ = [
    "coefficient_of_variation",
    "imbalance_ratio",
    "kl_to_uniform",
    "plan_quality",
    "rare_class_mask",
]


def _totals(counts: Any, owner: str) -> np.ndarray:
    c = np.asarray(counts, dtype=np.float64).ravel()
    if c.size == 0:
        raise CurateValueError(f"{owner} needs at least one class total; got an empty vector")
    if not np.all(np.isfinite(c)) or (c < 0).any():
        raise CurateValueError(f"{owner} needs finite class totals >= 0; got {c.tolist()[:10]}")
    return c


def imbalance_ratio(counts: Any) -> float:
    """Largest over smallest class total, ``max(c) / min(c)``.

    Parameters
    ----------
    counts : array-like of shape (n_classes,)
        Class totals (>= 0).

    Returns
    -------
    float
        1 for equal totals; ``inf`` when some class total is 0 (and another is not);
        ``nan`` when all are 0.

    Examples
    --------
    >>> imbalance_ratio([10, 5, 2])
    5.0
    """
    c = _totals(counts, "imbalance_ratio")
    hi, lo = float(c.max()), float(c.min())
    if hi == 0:
        return math.nan
    return math.inf if lo == 0 else hi / lo


def coefficient_of_variation(counts: Any) -> float:
    """Standard deviation over mean of the class totals, ``std(c) / mean(c)`` (``ddof=0``).

    Parameters
    ----------
    counts : array-like of shape (n_classes,)
        Class totals (>= 0).

    Returns
    -------
    float
        0 for equal totals; ``nan`` when all totals are 0.

    Examples
    --------
    >>> round(coefficient_of_variation([1, 3]), 3)
    0.5
    """
    c = _totals(counts, "coefficient_of_variation")
    mean = float(c.mean())
    return math.nan if mean == 0 else float(c.std()) / mean


def kl_to_uniform(counts: Any) -> float:
    """Kullback-Leibler divergence ``KL(p || uniform) = sum_k p_k log(K p_k)``, in nats.

    Parameters
    ----------
    counts : array-like of shape (n_classes,)
        Class totals (>= 0); ``p = c / sum(c)``.

    Returns
    -------
    float
        0 for equal totals, at most ``log(n_classes)``; ``nan`` when all totals are 0.

    Examples
    --------
    >>> round(kl_to_uniform([1, 0]), 4)   # log 2
    0.6931
    """
    c = _totals(counts, "kl_to_uniform")
    total = float(c.sum())
    if total == 0:
        return math.nan
    p = c[c > 0] / total
    return max(float(np.sum(p * np.log(p * c.size))), 0.0)


def rare_class_mask(counts: Any, *, fraction: float = 1 / 3) -> np.ndarray:
    """Mark the rare classes: the ``ceil(fraction * K)`` classes with the smallest totals.

    Ties are broken by position (a stable sort), so the mask always has exactly
    ``ceil(fraction * K)`` entries set.

    Parameters
    ----------
    counts : array-like of shape (n_classes,)
        Class totals of the original data.
    fraction : float, default=1/3
        Share of classes called rare (the bottom third by default).

    Returns
    -------
    ndarray of bool, shape (n_classes,)

    Examples
    --------
    >>> rare_class_mask([50, 3, 20, 1, 9, 7]).tolist()
    [False, True, False, True, False, False]
    """
    c = _totals(counts, "rare_class_mask")
    if not 0 < fraction <= 1:
        raise CurateValueError(f"fraction must be in (0, 1]; got {fraction!r}")
    order = np.argsort(c, kind="stable")
    mask = np.zeros(c.size, dtype=bool)
    mask[order[: math.ceil(fraction * c.size)]] = True
    return mask


def plan_quality(
    plan: BalancePlan,
    *,
    background: str | None = None,
    count: str | None = None,
    seconds: float | None = None,
) -> dict[str, Any]:
    """Balance and cost of a plan's epoch-0 draw, as one flat dict (a frame row).

    Class totals are ``Aᵀx`` of the epoch-0 multiplicities ``x = plan.multiplicity``,
    restricted to the *measured classes*: those that occur in the original table, minus
    the background class. Rare classes are the bottom third of the measured classes by
    original total (:func:`rare_class_mask`); a *rare sample* holds at least one of them.

    Parameters
    ----------
    plan : BalancePlan
        Any plan (balancer or baseline).
    background : str, default=None
        Class left out of the balance measures; ``None`` uses ``plan.table.background``.
    count : {"instances", "samples"}, default=None
        Count instances or samples holding a class; ``None`` uses ``plan.count``. Compare
        plans with the same ``count``.
    seconds : float, default=None
        Wall time to report beside the measures (``nan`` when not given).

    Returns
    -------
    dict
        ``method``, ``imbalance_ratio``, ``cv``, ``kl`` (after), ``imbalance_ratio_before``,
        ``cv_before``, ``kl_before``, ``duplicates`` (``Σ max(x_i - 1, 0)``), ``removals``
        (``#{i : x_i = 0}``), ``distinct`` (``#{i : x_i >= 1}``), ``epoch_size``
        (``Σ x_i``), ``rare_kept`` (share of rare samples with ``x_i >= 1``), ``seconds``.

    Examples
    --------
    >>> import curate
    >>> from curate.balance import plan_quality
    >>> t = curate.LabelTable.from_array(["a", "a", "a", "b"])
    >>> plan = curate.BalancePlan.from_multiplicity(t, [1, 1, 0, 2])
    >>> q = plan_quality(plan)
    >>> q["cv"], q["duplicates"], q["removals"], q["rare_kept"]
    (0.0, 1, 1, 1.0)
    """
    check_instance("plan", plan, "plan_quality", BalancePlan, "a curate.BalancePlan")
    table = plan.table
    mode = plan.count if count is None else count
    check_param("count", mode, [Options({"instances", "samples"})], "plan_quality")
    if background is not None:
        check_param("background", background, [Options(set(table.classes))], "plan_quality")
    bg = table.background if background is None else background
    matrix = table.matrix if mode == "instances" else table.presence()
    x = np.asarray(plan.multiplicity, dtype=np.int64)
    before = np.asarray(matrix.sum(axis=0), dtype=np.float64).ravel()
    after = np.asarray(matrix.T @ x, dtype=np.float64).ravel()
    keep = before > 0
    if bg is not None:
        keep[table.classes.index(bg)] = False
    row: dict[str, Any] = {"method": plan.method}
    if keep.any():
        b, a = before[keep], after[keep]
        rare = np.zeros(table.n_classes, dtype=bool)
        rare[np.flatnonzero(keep)[rare_class_mask(b)]] = True
        held = np.asarray(table.presence()[:, rare].sum(axis=1)).ravel() > 0
        rare_kept = float((x[held] > 0).mean()) if held.any() else math.nan
        row.update(imbalance_ratio=imbalance_ratio(a), cv=coefficient_of_variation(a),
                   kl=kl_to_uniform(a), imbalance_ratio_before=imbalance_ratio(b),
                   cv_before=coefficient_of_variation(b), kl_before=kl_to_uniform(b))
    else:
        rare_kept = math.nan
        row.update({k: math.nan for k in ("imbalance_ratio", "cv", "kl", "imbalance_ratio_before",
                                          "cv_before", "kl_before")})
    row.update(
        duplicates=int(np.maximum(x - 1, 0).sum()),
        removals=int((x == 0).sum()),
        distinct=int((x > 0).sum()),
        epoch_size=int(x.sum()),
        rare_kept=rare_kept,
        seconds=math.nan if seconds is None else float(seconds),
    )
    return row
