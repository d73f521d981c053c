"""Baseline resamplers: the rules people use today, returning curate's :class:`BalancePlan`.

Each baseline is a heuristic that looks at one class at a time; none of them accounts for
classes that co-occur in the same sample. They exist so that :class:`curate.InterClassBalancer`
can be compared with them on the same plan type and the same quality measures
(:func:`curate.balance.plan_quality`, :func:`curate.balance.frontier`).

=====================  =================================================================
``repeat_factor``      LVIS / detectron2 ``RepeatFactorTrainingSampler`` (Gupta et al. 2019)
``class_quota``        DataEval ``ClassBalance(method="interclass")``: equal images per class
``inverse_frequency``  ``torch.utils.data.WeightedRandomSampler`` with 1/frequency weights
``random_over``        imbalanced-learn ``RandomOverSampler`` (single-label only)
``random_under``       imbalanced-learn ``RandomUnderSampler`` (single-label only)
=====================  =================================================================

All of them are seeded by one ``seed: int`` and never touch the global RNG.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from curate._validation import Interval, Options, check_param, data_error, validate_params
from curate.balance._plan import BalancePlan, PlanStatus
from curate.exceptions import CurateTypeError
from curate.labels import LabelTable

__all__ = [
    "class_quota",
    "inverse_frequency",
    "random_over",
    "random_under",
    "repeat_factor",
]

_COUNT = [Options({"instances", "samples"})]
_SEED = [Interval(int, 0, None)]


def _check_table(table: Any, owner: str) -> LabelTable:
    if not isinstance(table, LabelTable):
        raise CurateTypeError(
            f"The 'table' parameter of {owner} must be a curate.LabelTable. "
            f"Got {type(table).__name__} instead."
        )
    return table


def _background_column(table: LabelTable, background: str | None, owner: str) -> int | None:
    """Column of the background class: ``background`` if given, else the table's."""
    if background is None:
        return table.background_index
    check_param("background", background, [Options(set(table.classes))], owner)
    return table.classes.index(background)


def _foreground_presence(table: LabelTable, bg: int | None) -> sp.csr_matrix:
    """0/1 presence matrix with the background column zeroed."""
    pres = table.presence()
    if bg is None:
        return pres
    keep = np.ones(table.n_classes, dtype=np.int64)
    keep[bg] = 0
    out = sp.csr_matrix(pres.multiply(keep[None, :]))
    out.eliminate_zeros()
    return out


# ---------------------------------------------------------------------- repeat factors
def _repeat_factors(presence: sp.csr_matrix, threshold: float) -> np.ndarray:
    """Per-sample LVIS repeat factors ``r_i = max(1, max_{c in i} sqrt(t / f_c))``."""
    n = presence.shape[0]
    support = np.asarray(presence.sum(axis=0), dtype=np.float64).ravel()
    freq = support / max(n, 1)
    with np.errstate(divide="ignore"):
        r_class = np.where(freq > 0, np.sqrt(threshold / np.where(freq > 0, freq, 1.0)), 1.0)
    r_class = np.maximum(r_class, 1.0)
    scaled = presence.multiply(r_class[None, :]).tocsr()
    r_sample = np.asarray(scaled.max(axis=1).todense(), dtype=np.float64).ravel()
    return np.maximum(r_sample, 1.0)  # empty samples: 1 (detectron2's ``default=1.0``)


@validate_params(
    {
        "threshold": [Interval(float, 0, 1, closed="right")],
        "count": _COUNT,
        "seed": _SEED,
    }
)
def repeat_factor(
    table: LabelTable, threshold: float = 0.001, *, count: str = "samples", seed: int = 0
) -> BalancePlan:
    """Repeat-factor sampling of LVIS / detectron2 (``RepeatFactorTrainingSampler``).

    For each class ``c``, ``f_c`` is the fraction of samples holding ``c`` and
    ``r_c = max(1, sqrt(t / f_c))``. Sample ``i`` gets ``r_i = max_{c in i} r_c`` expected
    copies per epoch (``r_i = 1`` for a sample with no label). Samples are never removed.
    The plan stores the fractional ``r_i``; :meth:`BalancePlan.draw` rounds them
    stochastically per epoch (``floor(r_i) + Bernoulli(r_i - floor(r_i))``, seeded by
    ``(seed, epoch)``), as detectron2 does, so the epoch length varies a little from epoch
    to epoch and ``plan.multiplicity`` is the epoch-0 draw.

    Parameters
    ----------
    table : LabelTable
        The labels to resample.
    threshold : float, default=0.001
        ``t`` in ``(0, 1]``: classes held by fewer than this fraction of samples are
        oversampled. LVIS uses 0.001; on data with few classes (VOC, single-label sets)
        only larger values (0.01 - 0.1) change anything.
    count : {"instances", "samples"}, default="samples"
        What the plan's class totals count (``plan.counts_after``, quality measures).
        The rule itself always uses ``f_c`` as a fraction of samples, as LVIS does.
    seed : int, default=0
        Seeds the stochastic rounding of every epoch.

    Returns
    -------
    BalancePlan
        ``method="repeat_factor"``, ``status=PlanStatus.HEURISTIC``; the per-sample
        factors are in ``plan.group_total`` (one group per sample).

    References
    ----------
    Gupta, Dollár and Girshick, "LVIS: A Dataset for Large Vocabulary Instance
    Segmentation", CVPR 2019, section 5 (repeat factor sampling).

    Examples
    --------
    >>> import curate
    >>> from curate.balance.baselines import repeat_factor
    >>> t = curate.LabelTable.from_labels([["a"], ["a"], ["a"], ["b"]])
    >>> plan = repeat_factor(t, threshold=1.0)
    >>> plan.group_total.round(3).tolist()   # r_a = sqrt(1/0.75), r_b = sqrt(1/0.25)
    [1.155, 1.155, 1.155, 2.0]
    """
    table = _check_table(table, "repeat_factor")
    r = _repeat_factors(table.presence(), float(threshold))
    return BalancePlan.from_multiplicity(
        table, r, count=count, seed=seed, method="repeat_factor",
        status=PlanStatus.HEURISTIC, message=f"repeat factors with threshold t={threshold:g}",
        options={"threshold": float(threshold), "count": count, "seed": seed},
    )


# ---------------------------------------------------------------------- class quota
def _pick_evenly(members: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` picks from ``members``: each ``n // m`` times, ``n % m`` random ones once more."""
    m = len(members)
    reps, extra = divmod(n, m)
    picks = np.repeat(members, reps)
    return np.concatenate([picks, rng.choice(members, size=extra, replace=False)])


@validate_params(
    {
        "n_per_class": [Interval(int, 1, None), None],
        "count": _COUNT,
        "seed": _SEED,
    }
)
def class_quota(
    table: LabelTable,
    n_per_class: int | None = None,
    *,
    background: str | None = None,
    count: str = "samples",
    seed: int = 0,
) -> BalancePlan:
    """Equal number of picked samples per class, DataEval ``ClassBalance("interclass")`` style.

    Follows DataEval's interclass method (``dataeval.selection.ClassBalance``): every
    non-background class that occurs gets the same quota of ``n_per_class`` picks, drawn
    from the samples that hold it; a sample picked for several of its classes gets one
    copy per pick. Without an explicit quota, DataEval spreads the dataset size over the
    classes, so ``n_per_class = N // K`` (``K`` = classes that occur, background
    excluded). Samples with no (non-background) class are never picked, as in DataEval
    with ``num_empty=None``.

    Within a class, picks are drawn without replacement while the class has enough
    samples; otherwise every sample of the class is taken ``n // m`` times and
    ``n % m`` of them, chosen at random, once more (DataEval's
    ``minimize_duplicates=True`` intent: no sample repeated twice before all its peers
    were repeated once). Unlike DataEval, picks are uniform within a class (DataEval
    re-weights candidates by a score of earlier picks and other labels).

    In single-label data every class ends with exactly ``n_per_class`` samples; in
    multi-label data the class totals also include co-occurring picks, so they are not
    equal (this is what the integer program fixes).

    Parameters
    ----------
    table : LabelTable
        The labels to resample.
    n_per_class : int, default=None
        Picks per class; ``None`` uses ``N // K``.
    background : str, default=None
        Class excluded from the quota; ``None`` uses ``table.background``.
    count : {"instances", "samples"}, default="samples"
        What the plan's class totals count.
    seed : int, default=0
        Seeds which samples are picked.

    Returns
    -------
    BalancePlan
        ``method="class_quota"``; ``plan.details["picks"]`` maps class to picks
        (all equal to ``n_per_class``).

    Examples
    --------
    >>> import curate
    >>> from curate.balance.baselines import class_quota
    >>> t = curate.LabelTable.from_array(["a"] * 6 + ["b"] * 2)
    >>> plan = class_quota(t, 4)
    >>> plan.counts_after.tolist(), plan.n_removed, plan.n_duplicates
    ([4, 4], 2, 2)
    """
    table = _check_table(table, "class_quota")
    bg = _background_column(table, background, "class_quota")
    pres = _foreground_presence(table, bg).tocsc()
    classes = [k for k in range(table.n_classes) if pres.indptr[k + 1] > pres.indptr[k]]
    if not classes:
        raise data_error("table", None, "has no non-background class that occurs",
                         "class_quota needs at least one labelled sample")
    n = table.n_samples // len(classes) if n_per_class is None else int(n_per_class)
    if n < 1:
        raise data_error("table", None, f"has {table.n_samples} samples for {len(classes)} classes",
                         "pass n_per_class explicitly")
    rng = np.random.default_rng(seed)
    picks = [_pick_evenly(pres.indices[pres.indptr[k]:pres.indptr[k + 1]], n, rng) for k in classes]
    x = np.bincount(np.concatenate(picks), minlength=table.n_samples).astype(np.int64)
    return BalancePlan.from_multiplicity(
        table, x, count=count, seed=seed, method="class_quota", status=PlanStatus.HEURISTIC,
        message=f"{n} picks for each of {len(classes)} classes",
        options={"n_per_class": n_per_class, "background": background, "count": count,
                 "seed": seed},
        details={"picks": {table.classes[k]: n for k in classes}, "n_per_class": n},
    )


# ---------------------------------------------------------------------- inverse frequency
def _sample_weights(table: LabelTable, aggregation: str) -> np.ndarray:
    """Per-sample weight: mean or max of ``1 / support_c`` over the sample's classes.

    Samples with no class (or only background) form one pseudo-class "empty" whose
    support is the number of such samples.
    """
    pres = _foreground_presence(table, table.background_index)
    support = np.asarray(pres.sum(axis=0), dtype=np.float64).ravel()
    inv = np.divide(1.0, support, out=np.zeros_like(support), where=support > 0)
    per_row = pres.multiply(inv[None, :]).tocsr()
    n_labels = np.diff(pres.indptr)
    if aggregation == "max":
        w = np.asarray(per_row.max(axis=1).todense(), dtype=np.float64).ravel()
    else:
        sums = np.asarray(per_row.sum(axis=1), dtype=np.float64).ravel()
        w = np.divide(sums, n_labels, out=np.zeros_like(sums), where=n_labels > 0)
    empty = n_labels == 0
    if empty.any():
        w[empty] = 1.0 / empty.sum()
    return w


@validate_params(
    {
        "num_samples": [Interval(int, 0, None), None],
        "aggregation": [Options({"mean", "max"})],
        "count": _COUNT,
        "seed": _SEED,
    }
)
def inverse_frequency(
    table: LabelTable,
    num_samples: int | None = None,
    *,
    aggregation: str = "mean",
    count: str = "samples",
    seed: int = 0,
) -> BalancePlan:
    """Draw with replacement by inverse class frequency, ``WeightedRandomSampler`` style.

    Sample ``i`` gets the weight ``w_i = agg_{c in i} 1 / s_c`` where ``s_c`` is the
    number of samples holding class ``c`` (background excluded) and ``agg`` is the mean
    (default) or the max over the sample's classes; samples with no class form one
    pseudo-class of their own (weight ``1 / #empty``). ``num_samples`` indices are drawn
    with replacement with probabilities ``w / sum(w)``; the plan holds the resulting
    counts (one seeded multinomial draw), so it is the same every epoch. For single-label
    data each class gets ``num_samples / K`` draws in expectation.

    Parameters
    ----------
    table : LabelTable
        The labels to resample.
    num_samples : int, default=None
        Draws per epoch; ``None`` keeps the dataset size ``N``.
    aggregation : {"mean", "max"}, default="mean"
        How the per-class weights of a multi-label sample are combined.
    count : {"instances", "samples"}, default="samples"
        What the plan's class totals count.
    seed : int, default=0
        Seeds the multinomial draw.

    Returns
    -------
    BalancePlan
        ``method="inverse_frequency"``; ``plan.details["weights"]`` holds ``w / sum(w)``.

    Examples
    --------
    >>> import curate
    >>> from curate.balance.baselines import inverse_frequency
    >>> t = curate.LabelTable.from_array(["a"] * 90 + ["b"] * 10)
    >>> plan = inverse_frequency(t, seed=0)
    >>> plan.epoch_size, plan.details["weights"][[0, -1]].round(4).tolist()
    (100, [0.0056, 0.05])
    """
    table = _check_table(table, "inverse_frequency")
    n_draw = table.n_samples if num_samples is None else int(num_samples)
    w = _sample_weights(table, aggregation)
    if table.n_samples == 0 or w.sum() <= 0:
        raise data_error("table", None, "has no samples", "inverse_frequency needs samples")
    p = w / w.sum()
    x = np.random.default_rng(seed).multinomial(n_draw, p).astype(np.int64)
    return BalancePlan.from_multiplicity(
        table, x, count=count, seed=seed, method="inverse_frequency",
        status=PlanStatus.HEURISTIC,
        message=f"{n_draw} draws with replacement, {aggregation} 1/s_c",
        options={"num_samples": num_samples, "aggregation": aggregation, "count": count,
                 "seed": seed},
        details={"weights": p},
    )


# ---------------------------------------------------------------------- imblearn style
def _single_label_codes(table: LabelTable, owner: str) -> np.ndarray:
    pres = table.presence()
    per_row = np.diff(pres.indptr)
    bad = np.flatnonzero(per_row != 1)
    if bad.size:
        i = int(bad[0])
        held = [table.classes[k] for k in pres.indices[pres.indptr[i]:pres.indptr[i + 1]]]
        raise data_error(
            f"table[{i}]", held, f"holds {len(held)} classes {held}",
            f"{owner} needs single-label data (exactly one class per sample); use "
            "InterClassBalancer or repeat_factor for multi-label data",
        )
    return pres.indices.astype(np.int64)


@validate_params({"seed": _SEED})
def random_over(table: LabelTable, *, seed: int = 0) -> BalancePlan:
    """Random oversampling to the majority size, imbalanced-learn ``RandomOverSampler`` style.

    Follows ``RandomOverSampler(sampling_strategy="auto")`` (= ``"not majority"``): every
    original sample is kept, and each class smaller than the largest one gets
    ``n_max - n_c`` extra copies drawn uniformly with replacement from its samples. Every
    class ends with exactly ``n_max`` samples.

    Parameters
    ----------
    table : LabelTable
        Single-label labels (exactly one class per sample).
    seed : int, default=0
        Seeds which samples are duplicated.

    Returns
    -------
    BalancePlan
        ``method="random_over"``.

    Examples
    --------
    >>> import curate
    >>> from curate.balance.baselines import random_over
    >>> t = curate.LabelTable.from_array(["a"] * 5 + ["b"] * 2)
    >>> plan = random_over(t)
    >>> plan.counts_after.tolist(), plan.n_duplicates, plan.n_removed
    ([5, 5], 3, 0)
    """
    table = _check_table(table, "random_over")
    codes = _single_label_codes(table, "random_over")
    sizes = np.bincount(codes, minlength=table.n_classes)
    rng = np.random.default_rng(seed)
    x = np.ones(table.n_samples, dtype=np.int64)
    for k in np.flatnonzero(sizes):
        members = np.flatnonzero(codes == k)
        extra = rng.choice(members, size=int(sizes.max() - sizes[k]), replace=True)
        x += np.bincount(extra, minlength=table.n_samples)
    return BalancePlan.from_multiplicity(
        table, x, count="samples", seed=seed, method="random_over",
        status=PlanStatus.HEURISTIC, message=f"every class oversampled to {int(sizes.max())}",
        options={"seed": seed},
    )


@validate_params({"seed": _SEED})
def random_under(table: LabelTable, *, seed: int = 0) -> BalancePlan:
    """Random undersampling to the minority size, imbalanced-learn ``RandomUnderSampler`` style.

    Follows ``RandomUnderSampler(sampling_strategy="auto", replacement=False)``
    (= ``"not minority"``): each class larger than the smallest one (among classes that
    occur) keeps ``n_min`` of its samples chosen uniformly without replacement; the rest
    are removed. Every class ends with exactly ``n_min`` samples; nothing is duplicated.

    Parameters
    ----------
    table : LabelTable
        Single-label labels (exactly one class per sample).
    seed : int, default=0
        Seeds which samples are kept.

    Returns
    -------
    BalancePlan
        ``method="random_under"``.

    Examples
    --------
    >>> import curate
    >>> from curate.balance.baselines import random_under
    >>> t = curate.LabelTable.from_array(["a"] * 5 + ["b"] * 2)
    >>> plan = random_under(t)
    >>> plan.counts_after.tolist(), plan.n_duplicates, plan.n_removed
    ([2, 2], 0, 3)
    """
    table = _check_table(table, "random_under")
    codes = _single_label_codes(table, "random_under")
    sizes = np.bincount(codes, minlength=table.n_classes)
    n_min = int(sizes[sizes > 0].min()) if table.n_samples else 0
    rng = np.random.default_rng(seed)
    x = np.zeros(table.n_samples, dtype=np.int64)
    for k in np.flatnonzero(sizes):
        members = np.flatnonzero(codes == k)
        x[rng.choice(members, size=n_min, replace=False)] = 1
    return BalancePlan.from_multiplicity(
        table, x, count="samples", seed=seed, method="random_under",
        status=PlanStatus.HEURISTIC, message=f"every class undersampled to {n_min}",
        options={"seed": seed},
    )
