"""Baseline resamplers: the rules people use today, returning curate's :class:`BalancePlan`.

Each baseline is a heuristic that looks at one class at a time; none of them accounts for
classes that co-occur in the same sample. They exist so that :class:`curate.InterClassBalancer`
can be compared with them on the same plan type and the same quality measures
(:func:`curate.balance.plan_quality`, :func:`curate.balance.frontier`).

=====================  =================================================================
``repeat_factor``      LVIS / detectron2 ``RepeatFactorTrainingSampler`` (Gupta et al. 2019);
                       mmdet ``ClassBalancedDataset`` with ``rounding="ceil"``
``class_quota``        DataEval ``ClassBalance(method="interclass")``: equal picks per class
``inverse_frequency``  ``torch.utils.data.WeightedRandomSampler`` with 1/frequency weights,
                       redrawn every epoch
``random_over``        imbalanced-learn ``RandomOverSampler`` (single-label only)
``random_under``       imbalanced-learn ``RandomUnderSampler`` (single-label only)
=====================  =================================================================

All of them are seeded by one ``seed: int`` and never touch the global RNG.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from curate._validation import (
    Bool,
    Interval,
    Options,
    check_instance,
    check_param,
    data_error,
    validate_params,
)
from curate.balance._plan import BalancePlan, PlanStatus
from curate.exceptions import CurateValueError
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
    return check_instance("table", table, owner, LabelTable, "a curate.LabelTable")


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
def _repeat_factors(presence: sp.csr_matrix, threshold: float, sqrt: bool) -> np.ndarray:
    """Per-sample repeat factors ``r_i = max(1, max_{c in i} r_c)``, ``r_c = (t / f_c)^(1/2 or 1)``.

    ``f_c = s_c / N`` and ``t / f_c`` are computed in that order, as detectron2 and mmdet do,
    so that ``ceil`` rounds the same floats as mmdet.
    """
    n = presence.shape[0]
    support = np.asarray(presence.sum(axis=0), dtype=np.float64).ravel()
    freq = support / max(n, 1)
    ratio = np.divide(threshold, freq, out=np.ones_like(freq), where=freq > 0)
    r_class = np.maximum(np.sqrt(ratio) if sqrt else ratio, 1.0)
    scaled = presence.multiply(r_class[None, :]).tocsr()
    r_sample = np.asarray(scaled.max(axis=1).todense(), dtype=np.float64).ravel()
    return np.maximum(r_sample, 1.0)  # empty samples: 1 (detectron2's ``default=1.0``)


@validate_params(
    {
        "threshold": [Interval(float, 0, 1, closed="right")],
        "sqrt": [Bool()],
        "rounding": [Options({"stochastic", "ceil"})],
        "count": _COUNT,
        "seed": _SEED,
    }
)
def repeat_factor(
    table: LabelTable,
    threshold: float = 0.001,
    *,
    sqrt: bool = True,
    rounding: str = "stochastic",
    count: str = "samples",
    seed: int = 0,
) -> BalancePlan:
    """Repeat-factor sampling of LVIS / detectron2 (``RepeatFactorTrainingSampler``).

    For each class ``c``, ``f_c`` is the fraction of samples holding ``c`` and
    ``r_c = max(1, sqrt(t / f_c))`` (``max(1, t / f_c)`` with ``sqrt=False``). Sample ``i``
    gets ``r_i = max_{c in i} r_c`` copies per epoch (``r_i = 1`` for a sample with no
    label). Samples are never removed.

    With ``rounding="stochastic"`` (detectron2) the plan stores the fractional ``r_i`` and
    :meth:`BalancePlan.draw` rounds them anew every epoch, ``floor(r_i) +
    Bernoulli(r_i - floor(r_i))`` seeded by ``(seed, epoch)``, so the epoch length varies a
    little and ``plan.multiplicity`` is the epoch-0 draw. With ``rounding="ceil"``
    (mmdet / mmengine ``ClassBalancedDataset``) every sample gets ``ceil(r_i)`` copies,
    the same in every epoch.

    Parameters
    ----------
    table : LabelTable
        The labels to resample.
    threshold : float, default=0.001
        ``t`` in ``(0, 1]``: classes held by fewer than this fraction of samples are
        oversampled. LVIS uses 0.001; on data with few classes (VOC, single-label sets)
        only larger values (0.01 - 0.1) change anything.
    sqrt : bool, default=True
        ``r_c = max(1, sqrt(t / f_c))`` (LVIS); ``False``: ``r_c = max(1, t / f_c)``
        (detectron2's ``repeat_factors_from_category_frequency(..., sqrt=False)``).
    rounding : {"stochastic", "ceil"}, default="stochastic"
        ``"stochastic"``: per-epoch stochastic rounding of ``r_i`` (detectron2);
        ``"ceil"``: ``ceil(r_i)`` copies every epoch (mmdet).
    count : {"instances", "samples"}, default="samples"
        What the plan's class totals count (``plan.counts_after``, quality measures).
        The rule itself always uses ``f_c`` as a fraction of samples, as LVIS does.
    seed : int, default=0
        Seeds the stochastic rounding of every epoch.

    Returns
    -------
    BalancePlan
        ``method="repeat_factor"``, ``status=PlanStatus.HEURISTIC``; the factors ``r_i``
        are in ``plan.details["repeat_factors"]`` and, as the expected copies per epoch,
        in ``plan.group_total`` (one group per sample; ``ceil(r_i)`` with ``"ceil"``).

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
    >>> repeat_factor(t, threshold=1.0, sqrt=False).group_total.round(3).tolist()
    [1.333, 1.333, 1.333, 4.0]
    >>> repeat_factor(t, threshold=1.0, rounding="ceil").multiplicity.tolist()
    [2, 2, 2, 2]
    """
    table = _check_table(table, "repeat_factor")
    r = _repeat_factors(table.presence(), float(threshold), bool(sqrt))
    x = np.ceil(r) if rounding == "ceil" else r
    rule = f"{'sqrt(t/f)' if sqrt else 't/f'}, t={threshold:g}, {rounding} rounding"
    return BalancePlan.from_multiplicity(
        table, x, count=count, seed=seed, method="repeat_factor",
        status=PlanStatus.HEURISTIC, message=f"repeat factors {rule}",
        options={"threshold": float(threshold), "sqrt": bool(sqrt), "rounding": rounding,
                 "count": count, "seed": seed},
        details={"repeat_factors": r},
    )


# ---------------------------------------------------------------------- class quota
def _classes_by_first_appearance(pres: sp.csc_matrix, keep: np.ndarray) -> np.ndarray:
    """Columns in ``keep`` that occur, ordered by the first sample holding them (ties: column)."""
    occurs = np.flatnonzero((np.diff(pres.indptr) > 0) & keep)
    first = pres.indices[pres.indptr[occurs]]  # row indices are sorted within each column
    return occurs[np.lexsort((occurs, first))]


def _quota_scores(
    members: np.ndarray, picks: np.ndarray, others: np.ndarray
) -> np.ndarray:
    """DataEval's candidate probabilities ``1 / (1 + repeats + 2 * other labels)``, normalised."""
    score = 1.0 / (1.0 + picks[members] + 2.0 * others[members])
    return score / score.sum()


def _quota_picks(
    pres: sp.csc_matrix,
    order: np.ndarray,
    quota: np.ndarray,
    others: np.ndarray,
    minimize_duplicates: bool,
    rng: np.random.Generator,
) -> np.ndarray:
    """Picks per sample: class by class, scored candidates, as DataEval's ``_inter_balance``."""
    picks = np.zeros(pres.shape[0], dtype=np.int64)
    for k, n in zip(order.tolist(), quota.tolist(), strict=True):
        members = pres.indices[pres.indptr[k]:pres.indptr[k + 1]].astype(np.int64)
        replace = len(members) < n
        if replace and minimize_duplicates:
            picks[members] += 1  # every member once, then the rest by score
            p = _quota_scores(members, picks, others)
            chosen = rng.choice(members, size=n - len(members), replace=True, p=p)
        else:
            p = _quota_scores(members, picks, others)
            chosen = rng.choice(members, size=n, replace=replace, p=p, shuffle=False)
        np.add.at(picks, chosen, 1)
    return picks


@validate_params(
    {
        "n_per_class": [Interval(int, 1, None), None],
        "num_samples": [Interval(int, 1, None), None],
        "minimize_duplicates": [Bool()],
        "count": _COUNT,
        "seed": _SEED,
    }
)
def class_quota(
    table: LabelTable,
    n_per_class: int | None = None,
    *,
    num_samples: int | None = None,
    minimize_duplicates: bool = False,
    background: str | None = None,
    count: str = "samples",
    seed: int = 0,
) -> BalancePlan:
    """Equal picks per class, following DataEval's ``ClassBalance(method="interclass")``.

    Reproduces DataEval 1.1.4's interclass selection (``dataeval.data.ClassBalance`` with
    ``num_empty=None``); with the same seed and class order it returns DataEval's exact
    selection (a test checks this against DataEval itself):

    1. The non-background classes that occur are taken in order of first appearance (the
       first sample holding them; ties in column order). ``num_samples`` picks (default
       ``N``) are spread over these ``K`` classes: ``q, r = divmod(num_samples, K)``, and
       the first ``r`` classes of a seeded permutation get ``q + 1``. ``n_per_class``
       instead gives every class exactly that many picks.
    2. Class by class, every sample holding the class is scored
       ``1 / (1 + picks so far + 2 * other classes it holds)`` (background counts as an
       other class), and the class's picks are drawn with probabilities proportional to
       the scores: without replacement while the class has enough samples, with
       replacement otherwise. Samples holding fewer other classes and picked less often so
       far are preferred.
    3. With ``minimize_duplicates=True`` a class with too few samples first takes each of
       them once and draws only the remainder by score (DataEval's flag of the same name).

    A sample picked ``m`` times gets ``m`` copies; samples with no label are never
    picked. The selection is one seeded draw, the same in every epoch (DataEval selects
    a subset once). In single-label data class totals differ by at most one; in
    multi-label data co-occurring picks make them unequal, which is what
    :class:`curate.InterClassBalancer` fixes.

    Parameters
    ----------
    table : LabelTable
        The labels to resample.
    n_per_class : int, default=None
        Picks for every class; ``None`` spreads ``num_samples`` as in step 1.
    num_samples : int, default=None
        Total picks (DataEval's ``num_samples``); ``None`` uses ``N``. Not together with
        ``n_per_class``.
    minimize_duplicates : bool, default=False
        Take every sample of a too-small class once before drawing repeats.
    background : str, default=None
        Class excluded from the quota (DataEval's ``background_class``); ``None`` uses
        ``table.background``.
    count : {"instances", "samples"}, default="samples"
        What the plan's class totals count.
    seed : int, default=0
        Seeds the picks (DataEval's ``dataeval.config.set_seed``).

    Returns
    -------
    BalancePlan
        ``method="class_quota"``; ``plan.details["picks"]`` maps class to its quota and
        ``plan.details["class_order"]`` lists the classes in the order they were filled.

    References
    ----------
    DataEval, ``dataeval.data.ClassBalance`` (ARiA, https://github.com/aria-ml/dataeval).

    Examples
    --------
    >>> import curate
    >>> from curate.balance.baselines import class_quota
    >>> t = curate.LabelTable.from_array(["a"] * 6 + ["b"] * 2)
    >>> plan = class_quota(t, 4)
    >>> plan.counts_after.tolist(), plan.epoch_size
    ([4, 4], 8)
    >>> x = class_quota(t, 4, minimize_duplicates=True).multiplicity
    >>> bool(x[6] >= 1 and x[7] >= 1)   # both b samples are taken before any repeat
    True
    """
    table = _check_table(table, "class_quota")
    if n_per_class is not None and num_samples is not None:
        raise CurateValueError(
            f"class_quota takes n_per_class or num_samples, not both; got n_per_class="
            f"{n_per_class} and num_samples={num_samples}. Pass one of them."
        )
    bg = _background_column(table, background, "class_quota")
    full = table.presence()
    keep = np.ones(table.n_classes, dtype=bool)
    if bg is not None:
        keep[bg] = False
    pres = full.tocsc()
    pres.sort_indices()
    order = _classes_by_first_appearance(pres, keep)
    if not len(order):
        raise data_error("table", None, "has no non-background class that occurs",
                         "class_quota needs at least one labelled sample")
    labels_per_row = np.diff(full.indptr)
    rng = np.random.default_rng(seed)
    n_empty = int((labels_per_row == 0).sum())
    if n_empty:  # DataEval draws its (here empty) share of unlabelled samples first
        rng.permutation(n_empty)
    if n_per_class is not None:
        quota = np.full(len(order), int(n_per_class), dtype=np.int64)
    else:
        total = table.n_samples if num_samples is None else int(num_samples)
        base, leftover = divmod(total, len(order))
        lucky = rng.permutation(order)[:leftover]
        quota = base + np.isin(order, lucky).astype(np.int64)
    others = np.maximum(labels_per_row - 1, 0).astype(np.float64)
    x = _quota_picks(pres, order, quota, others, bool(minimize_duplicates), rng)
    names = [table.classes[k] for k in order.tolist()]
    return BalancePlan.from_multiplicity(
        table, x, count=count, seed=seed, method="class_quota", status=PlanStatus.HEURISTIC,
        message=f"{int(quota.sum())} picks over {len(order)} classes (DataEval interclass)",
        options={"n_per_class": n_per_class, "num_samples": num_samples,
                 "minimize_duplicates": bool(minimize_duplicates), "background": background,
                 "count": count, "seed": seed},
        details={"picks": dict(zip(names, quota.tolist(), strict=True)), "class_order": names},
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
        "num_samples": [Interval(int, 1, None), None],
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
    """Draw with replacement by inverse class frequency, as ``WeightedRandomSampler`` does.

    Sample ``i`` gets the weight ``w_i = agg_{c in i} 1 / s_c`` where ``s_c`` is the
    number of samples holding class ``c`` (background excluded) and ``agg`` is the mean
    (default) or the max over the sample's classes; samples with no class form one
    pseudo-class of their own (weight ``1 / #empty``). Every epoch draws ``num_samples``
    indices anew, with replacement, with probabilities ``p = w / sum(w)`` (a multinomial
    seeded by ``(seed, epoch)``), exactly what
    ``WeightedRandomSampler(w, num_samples, replacement=True)`` does on each ``__iter__``:
    the plan stores the expected copies ``num_samples * p`` with
    ``rounding="multinomial"``, and ``plan.multiplicity`` is the epoch-0 draw. For
    single-label data each class gets ``num_samples / K`` draws in expectation.

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
        Seeds the draw of every epoch.

    Returns
    -------
    BalancePlan
        ``method="inverse_frequency"``; ``plan.details["weights"]`` holds ``p``.

    Examples
    --------
    >>> import curate
    >>> from curate.balance.baselines import inverse_frequency
    >>> t = curate.LabelTable.from_array(["a"] * 90 + ["b"] * 10)
    >>> plan = inverse_frequency(t, seed=0)
    >>> plan.details["weights"][[0, -1]].round(4).tolist()
    [0.0056, 0.05]
    >>> [int(plan.draw(e).sum()) for e in range(3)]       # 100 draws every epoch
    [100, 100, 100]
    >>> bool((plan.draw(0) != plan.draw(1)).any())        # ... drawn anew
    True
    """
    table = _check_table(table, "inverse_frequency")
    if table.n_samples == 0:
        raise data_error("table", None, "has no samples", "inverse_frequency needs samples")
    n_draw = table.n_samples if num_samples is None else int(num_samples)
    w = _sample_weights(table, aggregation)
    p = w / w.sum()
    return BalancePlan.from_multiplicity(
        table, n_draw * p, rounding="multinomial", count=count, seed=seed,
        method="inverse_frequency", status=PlanStatus.HEURISTIC,
        message=f"{n_draw} draws with replacement per epoch, {aggregation} 1/s_c",
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
