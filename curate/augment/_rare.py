"""Rare-label helpers: rare classes, rare-aware probabilities, has_rare_label, oversampling."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from curate._validation import Interval, check_instance, data_error, validate_params
from curate.balance import BalancePlan, PlanStatus
from curate.exceptions import CurateValueError
from curate.labels import LabelTable

__all__ = ["has_rare_label", "oversample_rare", "rare_aware_probability", "rare_classes"]


def _check_table(table: Any, owner: str) -> LabelTable:
    return check_instance("table", table, owner, LabelTable,
                          "a curate.LabelTable")


@validate_params({
    "quantile": [Interval(float, 0, 1, closed="right")],
    "max_count": [Interval(int, 0, None), None],
})
def rare_classes(
    table: LabelTable,
    *,
    quantile: float = 0.2,
    max_count: int | None = None,
    exclude_background: bool = True,
) -> list[str]:
    """Names of the classes whose count is at most a threshold.

    The threshold is ``max_count`` when given, otherwise the ``quantile`` of the candidate
    classes' counts (``numpy.quantile(..., method="lower")``, so it is an actual count and at
    least one class is rare). Counts follow the table's level (tokens, entities, instances,
    samples). Zero-count classes are rare.

    Parameters
    ----------
    table : LabelTable
        The labels.
    quantile : float in (0, 1], default=0.2
        Fraction of classes (by count rank) to call rare; ignored when ``max_count`` is set.
    max_count : int >= 0, default=None
        Classes with ``count <= max_count`` are rare.
    exclude_background : bool, default=True
        Never call the table's background class rare, and leave it out of the quantile.

    Returns
    -------
    list of str
        In the table's class order.

    Examples
    --------
    >>> import curate
    >>> t = curate.LabelTable.from_labels([["a"] * 50, ["b"] * 5, ["c"] * 20, ["d"] * 2])
    >>> curate.rare_classes(t, quantile=0.5)
    ['b', 'd']
    >>> curate.rare_classes(t, max_count=20)
    ['b', 'c', 'd']
    """
    table = _check_table(table, "rare_classes")
    counts = table.counts
    if exclude_background and table.background is not None:
        counts = counts.drop(table.background)
    if counts.empty:
        return []
    if max_count is None:
        threshold = float(np.quantile(counts.to_numpy(), quantile, method="lower"))
    else:
        threshold = float(max_count)
    return [str(c) for c in counts.index[counts.to_numpy() <= threshold]]


def _rare_ids(table: LabelTable, rare: Iterable[Any], owner: str) -> np.ndarray:
    if isinstance(rare, str):
        rare = [rare]
    ids = []
    for j, name in enumerate(rare):
        if isinstance(name, int | np.integer) and not isinstance(name, bool):
            if not 0 <= int(name) < table.n_classes:
                raise data_error(f"rare[{j}]", name, f"is id {int(name)}, outside "
                                 f"[0, {table.n_classes})", "pass class names or valid ids")
            ids.append(int(name))
        elif str(name) in table.classes:
            ids.append(table.classes.index(str(name)))
        else:
            shown = list(table.classes[:20]) + (["..."] if table.n_classes > 20 else [])
            raise data_error(f"rare[{j}]", name, f"has class {name!r} not in classes={shown}",
                             f"pass names from the table to {owner}")
    return np.unique(np.asarray(ids, dtype=np.int64))


def _holds_rare(table: LabelTable, rare: Iterable[Any], owner: str) -> np.ndarray:
    ids = _rare_ids(table, rare, owner)
    if ids.size == 0:
        return np.zeros(table.n_samples, dtype=bool)
    return np.asarray(table.matrix[:, ids].sum(axis=1)).ravel() > 0


@validate_params({
    "base": [Interval(float, 0, 1)],
    "rare_prob": [Interval(float, 0, 1)],
})
def rare_aware_probability(
    table: LabelTable, rare: Iterable[Any], *, base: float = 0.2, rare_prob: float = 0.8
) -> np.ndarray:
    """Per-sample augmentation probability: ``rare_prob`` with a rare class, else ``base``.

    Parameters
    ----------
    table : LabelTable
        The labels.
    rare : iterable of str or int
        Rare class names (or column ids), e.g. from :func:`rare_classes`.
    base : float in [0, 1], default=0.2
        Probability for samples without a rare class.
    rare_prob : float in [0, 1], default=0.8
        Probability for samples with at least one rare class.

    Returns
    -------
    ndarray of float64 of shape (n_samples,)

    Examples
    --------
    >>> import curate
    >>> t = curate.LabelTable.from_labels([["O", "B-DATE"], ["O"], []])
    >>> curate.augment.rare_aware_probability(t, ["B-DATE"]).tolist()
    [0.8, 0.2, 0.2]
    """
    table = _check_table(table, "rare_aware_probability")
    holds = _holds_rare(table, rare, "rare_aware_probability")
    return np.where(holds, float(rare_prob), float(base))


def has_rare_label(labels: Any, rare_ids: Any, *, ignore_index: int = -100) -> Any:
    """Whether a label sequence (or each row of a batch) holds any of ``rare_ids``.

    Works on torch tensors (inside a collator, on any device) and numpy arrays / lists;
    ``ignore_index`` positions never match.

    Parameters
    ----------
    labels : tensor or array-like of int of shape (T,) or (B, T)
        Label ids, with ``ignore_index`` on padding / sub-word continuations.
    rare_ids : iterable of int
        Label ids of the rare classes.
    ignore_index : int, default=-100
        Never counts, even if listed in ``rare_ids``.

    Returns
    -------
    bool, or bool tensor / ndarray of shape (B,)
        A Python bool for 1-D input; for batches, the input's library type.

    Examples
    --------
    >>> import torch
    >>> from curate.augment import has_rare_label
    >>> has_rare_label(torch.tensor([[0, 3, -100], [0, 0, -100]]), [3, 4])
    tensor([ True, False])
    >>> has_rare_label([0, 0, -100], [3, -100])
    False
    """
    ids = [int(i) for i in np.asarray(list(rare_ids)).ravel() if int(i) != ignore_index]
    if hasattr(labels, "detach") and hasattr(labels, "device"):  # torch tensor
        import torch

        if labels.ndim not in (1, 2):
            raise CurateValueError(
                f"labels must be (T,) or (B, T); got shape {tuple(labels.shape)}"
            )
        hit = torch.isin(labels, torch.as_tensor(ids, dtype=labels.dtype, device=labels.device))
        out = hit.any(dim=-1)
        return bool(out.item()) if labels.ndim == 1 else out
    arr = np.asarray(labels)
    if arr.ndim not in (1, 2):
        raise CurateValueError(f"labels must be (T,) or (B, T); got shape {arr.shape}")
    out_np = np.isin(arr, ids).any(axis=-1)
    return bool(out_np) if arr.ndim == 1 else out_np


@validate_params({
    "factor": [Interval(float, 1, None)],
    "max_factor": [Interval(float, 1, None)],
    "seed": [Interval(int, None, None)],
})
def oversample_rare(
    table: LabelTable,
    rare: Iterable[Any],
    *,
    factor: float = 2,
    max_factor: float = 2,
    seed: int = 0,
) -> BalancePlan:
    """Duplicate only the samples that hold a rare class, ``min(factor, max_factor)`` times.

    Every other sample keeps multiplicity 1 (nothing is removed; background-only and empty
    samples are never duplicated). A fractional factor is an expected number of copies,
    stochastically rounded per epoch by :meth:`BalancePlan.draw`. ``max_factor`` caps the
    copies: more than 1–2x mostly teaches the model those exact samples.

    Parameters
    ----------
    table : LabelTable
        The labels.
    rare : iterable of str or int
        Rare class names (or column ids), e.g. from :func:`rare_classes`.
    factor : float >= 1, default=2
        Copies of each sample holding a rare class.
    max_factor : float >= 1, default=2
        Upper bound on ``factor``.
    seed : int, default=0
        Seeds the per-epoch rounding and shuffling of the plan.

    Returns
    -------
    BalancePlan
        ``method="oversample_rare"``, ``status=PlanStatus.HEURISTIC``.

    See Also
    --------
    curate.balance.baselines : Other rule-based plans.
    curate.InterClassBalancer : Plans that balance all classes with an integer program.

    Examples
    --------
    >>> import curate
    >>> t = curate.LabelTable.from_labels([["O", "B-DATE"], ["O"], ["B-PER"]])
    >>> plan = curate.oversample_rare(t, ["B-DATE"], factor=3)
    >>> plan.multiplicity.tolist(), plan.counts_after.to_dict()
    ([2, 1, 1], {'B-DATE': 2, 'B-PER': 1, 'O': 3})
    """
    table = _check_table(table, "oversample_rare")
    holds = _holds_rare(table, rare, "oversample_rare")
    copies = min(float(factor), float(max_factor))
    x = np.where(holds, copies, 1.0)
    names = [table.classes[i] for i in _rare_ids(table, rare, "oversample_rare")]
    return BalancePlan.from_multiplicity(
        table, x, seed=seed, method="oversample_rare", status=PlanStatus.HEURISTIC,
        message=f"{int(holds.sum())} samples holding {len(names)} rare classes get "
                f"{copies:g} copies",
        options={"rare": names, "factor": factor, "max_factor": max_factor, "seed": seed},
    )
