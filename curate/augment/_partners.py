"""Rare-aware partner selection for composite augmentation (Mosaic, CutMix, MixUp).

A composite of ``k`` images (an *anchor* and ``k - 1`` *partners*) shows every label of its
members, so its class totals are the sum of the members' count vectors. Libraries draw partners
uniformly; :class:`PartnerSampler` draws them from a distribution ``q`` fitted once so that
the expected class totals of an epoch of composites,

    E = Cᵀa + M (k - 1) Cᵀq,

come as close as it can to the targets (equal totals over the non-background classes unless
given). ``C`` is the samples × classes count matrix (instances, or 0/1 presence for
``count="samples"``), ``a`` the anchor multiplicities of one epoch (all ones, or a plan's draw
under :class:`~curate.BalancedSampler`) and ``M = Σ a`` the number of composites.

``q`` is the distribution closest to uniform (in relative entropy) among those that reweight
samples by their labels, capped per sample:

    q_i = min(s · exp(c_i · θ), max_factor / N),

with ``c_i`` row ``i`` of ``C`` restricted to the balanced classes, one log-weight ``θ_c`` per
class and ``s`` the normaliser (water-filling, so that ``Σ q = 1``). ``θ`` starts at 0 (uniform
partners) and takes up to ``n_iter`` fixed-point steps ``θ_c += (log mean r − log r_c) / (k − 1)``
on the ratios ``r_c = E_c / t_c``; the iterate whose ratios have the lowest coefficient of
variation is kept (the fit stops after 10 steps without a lower one), so the result is
never worse than uniform partners by that measure.

Draws are counter-based: partner ``j`` of anchor ``index`` in ``epoch`` is the inverse CDF of
``q`` at a 53-bit uniform taken from a SplitMix64 hash of ``(seed, epoch, index, draw, j)``
(:meth:`PartnerSampler.partners` gives the exact formula),
so DataLoader workers and DDP ranks agree without sharing any RNG state.
"""

from __future__ import annotations

import hashlib
from array import array
from bisect import bisect_right
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from curate._validation import (
    Interval,
    Options,
    check_instance,
    data_error,
    param_error,
    validate_params,
)
from curate.balance import BalancePlan
from curate.balance._plan import label_checksum
from curate.exceptions import CurateTypeError, CurateValueError
from curate.labels import LabelTable

__all__ = ["PartnerSampler", "effective_looks", "looks_table"]

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_MUL1 = 0xBF58476D1CE4E5B9
_MUL2 = 0x94D049BB133111EB
_TO_UNIT = 1.0 / (1 << 53)
_MAX_KEY = (1 << 63) - 1
_MAX_DRAW = 1 << 31  # draw and partner slot j share one 64-bit counter: draw · 2^32 + j
_MAX_N = 1 << 32
_PATIENCE = 10  # fit steps without a lower CV before the fit stops


# ---------------------------------------------------------------------------- hashing
def _mix(z: int) -> int:
    """SplitMix64: add the golden gamma, then Stafford's variant-13 finaliser (mod 2^64)."""
    z = (z + _GOLDEN) & _MASK
    z = ((z ^ (z >> 30)) * _MUL1) & _MASK
    z = ((z ^ (z >> 27)) * _MUL2) & _MASK
    return z ^ (z >> 31)


def _mix_np(z: np.ndarray) -> np.ndarray:
    """:func:`_mix` on a uint64 array (numpy integer arrays wrap mod 2^64 silently)."""
    z = z + np.uint64(_GOLDEN)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(_MUL1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(_MUL2)
    return z ^ (z >> np.uint64(31))


# ---------------------------------------------------------------------------- fitting
def _capped(z: np.ndarray, cap: float) -> np.ndarray:
    """``q = min(s · exp(z), cap)`` with ``Σ q = 1`` (water-filling in log space; ``cap·N ≥ 1``)."""
    log_cap = np.log(cap)
    saturated = np.zeros(len(z), dtype=bool)
    while True:
        n_sat = int(saturated.sum())
        free = z[~saturated]
        if free.size == 0 or 1.0 - cap * n_sat <= 0.0:  # cap * N == 1: uniform
            return np.full(len(z), 1.0 / len(z))
        top = float(free.max())
        log_s = np.log(1.0 - cap * n_sat) - top - np.log(np.exp(free - top).sum())
        new = ~saturated & (z + log_s > log_cap)
        if not new.any():
            q = np.where(saturated, cap, np.exp(np.minimum(z + log_s, log_cap)))
            return q / q.sum()
        saturated |= new


def _cv(values: np.ndarray) -> float:
    mean = float(values.mean())
    return float(values.std() / mean) if mean > 0 else 0.0


def _fit_probabilities(
    counts: sp.csr_matrix, anchors: np.ndarray, targets: np.ndarray, *, k: int,
    max_factor: float, n_iter: int,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Partner probabilities ``q`` (see the module docstring) and fit details."""
    n = counts.shape[0]
    balanced = np.flatnonzero(targets > 0)
    x = sp.csr_matrix(counts[:, balanced], dtype=np.float64)
    ct = sp.csr_matrix(counts.T, dtype=np.float64)
    anchor_totals = ct @ anchors
    partner_mass = float(anchors.sum()) * (k - 1)
    tau = targets[balanced]
    cap = max_factor / n

    def ratios(q: np.ndarray) -> np.ndarray:
        return (anchor_totals + partner_mass * (ct @ q))[balanced] / tau

    uniform = np.full(n, 1.0 / n)
    best_q, best_cv, best_iter = uniform, _cv(ratios(uniform)), 0
    cv_uniform = best_cv
    theta = np.zeros(len(balanced))
    r = ratios(uniform)
    it = 0
    for it in range(1, n_iter + 1):
        r = np.maximum(r, 1e-300)
        theta += (np.log(r.mean()) - np.log(r)) / (k - 1)
        q = _capped(x @ theta, cap)
        r = ratios(q)
        cv = _cv(r)
        if cv < best_cv * (1 - 1e-9):
            best_q, best_cv, best_iter = q, cv, it
        elif it - best_iter >= _PATIENCE:
            break
    details = {
        "cv_uniform": cv_uniform, "cv": best_cv, "best_iteration": best_iter,
        "iterations": it, "effective_partners": float(1.0 / np.sum(best_q ** 2)),
        "max_share": float(best_q.max() * n),
    }
    return best_q, details


# ---------------------------------------------------------------------------- validation
def _check_table(table: Any, owner: str) -> LabelTable:
    check_instance("table", table, owner, LabelTable, "a curate.LabelTable")
    if table.n_samples == 0:
        raise CurateValueError(f"table has 0 samples; {owner} needs at least one sample")
    return table


def _check_plan(plan: Any, table: LabelTable, owner: str) -> BalancePlan | None:
    if plan is None:
        return None
    check_instance("plan", plan, owner, BalancePlan, "a curate.BalancePlan or None")
    if plan.table is not table and label_checksum(plan.table) != label_checksum(table):
        raise CurateValueError(
            f"plan was fitted on other labels (n_samples={plan.table.n_samples}, "
            f"n_classes={plan.table.n_classes}) than table (n_samples={table.n_samples}, "
            f"n_classes={table.n_classes}); fit the plan on this table"
        )
    return plan


def _count_matrix(table: LabelTable, count: str) -> sp.csr_matrix:
    return table.matrix if count == "instances" else table.presence()


def _check_targets(targets: Any, table: LabelTable, owner: str) -> np.ndarray:
    """Targets → one float per class; 0 = not balanced (background, absent classes)."""
    k = table.n_classes
    present = np.asarray(table.matrix.sum(axis=0)).ravel() > 0
    if targets is None:
        out = np.ones(k)
    elif isinstance(targets, Mapping):
        out = np.zeros(k)
        for name, value in targets.items():
            if str(name) not in table.classes:
                shown = list(table.classes[:20]) + (["..."] if k > 20 else [])
                raise data_error(f"targets[{name!r}]", name, f"names class {name!r} not in "
                                 f"classes={shown}", f"pass class names of the table to {owner}")
            out[table.classes.index(str(name))] = _target_value(value, f"targets[{name!r}]")
    else:
        allowed = f"None, a mapping of class name to target total or an array of {k} numbers"
        if isinstance(targets, str | bytes):
            raise param_error("targets", owner, allowed, targets, wrong_type=True)
        try:
            out = np.asarray(targets, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise param_error("targets", owner, allowed, targets, wrong_type=True) from exc
        if out.shape != (k,):
            raise CurateValueError(
                f"targets has shape {out.shape}; pass one target per class, shape ({k},), "
                f"in the table's class order"
            )
        for j, value in enumerate(out.tolist()):
            _target_value(value, f"targets[{j}]")
    if table.background_index is not None:
        out[table.background_index] = 0.0
    out = np.where(present, out, 0.0)
    if not (out > 0).any():
        raise CurateValueError(
            f"targets leave no class to balance (background and absent classes are skipped); "
            f"give a positive target to at least one class that occurs in the table ({owner})"
        )
    return out


def _target_value(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise CurateTypeError(f"{field} must be a number >= 0; got {value!r}")
    if not np.isfinite(value) or value < 0:
        raise CurateValueError(f"{field} is {value!r}; pass a finite number >= 0")
    return float(value)


def _check_key(value: Any, name: str, upper: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise CurateTypeError(f"{name} must be an int; got {type(value).__name__} {value!r}")
    if not 0 <= value < upper:
        raise CurateValueError(f"{name} is {int(value)}; it must lie in [0, {upper - 1}]")
    return int(value)


# ---------------------------------------------------------------------------- the sampler
class PartnerSampler:
    """Rare-aware partners for composites: ``k - 1`` partner indices per anchor, per epoch.

    The partner distribution ``q`` is fitted once (module docstring of
    ``curate.augment._partners`` and ``docs/augment.md`` give the formula): samples whose
    labels the composites lack get more weight, no sample is drawn more than ``max_factor``
    times as often as under uniform selection, and the result is never worse than uniform
    partners in the coefficient of variation of ``E / targets``. Draws are pure functions of
    ``(seed, epoch, index, draw, j)``: every DataLoader worker and DDP rank gets the same
    partners without communicating. A call costs O(log N) and allocates nothing of size N.

    Parameters
    ----------
    table : LabelTable
        The labels of the dataset the composites are drawn from.
    plan : BalancePlan, default=None
        With ``anchors="plan"`` (the default when a plan is given), anchors are drawn by
        :class:`~curate.BalancedSampler` from this plan and the partners fill what the plan's
        epoch still lacks.
    k : int >= 2, default=4
        Images per composite: 2 for MixUp/CutMix, 4 for Mosaic (9 for a 3x3 mosaic).
    targets : mapping, array-like of shape (n_classes,) or None, default=None
        Relative target totals per class; ``None`` means equal totals. Classes with target 0,
        the background class and classes absent from the table are not balanced.
    anchors : {"uniform", "plan"}, default=None
        How anchors are drawn: every sample once per epoch, or by the plan's multiplicities
        (``plan.draw(0)``). ``None``: ``"plan"`` when a plan is given, else ``"uniform"``.
    count : {"instances", "samples"}, default=None
        Class totals count instances, or member images holding the class. ``None``: the plan's
        ``count``, else ``"instances"``.
    max_factor : float >= 1, default=5.0
        Cap on each sample's partner probability, ``q_i <= max_factor / N``: no image is a
        partner more than ``max_factor`` times as often as under uniform selection. 1 gives
        uniform partners.
    seed : int >= 0, default=0
        Keys the partner draws; must be the same on every rank.
    n_iter : int >= 0, default=100
        Most fixed-point steps of the fit; it stops earlier after 10 steps without a lower
        CV (0: uniform partners).

    Attributes
    ----------
    probabilities : ndarray of float64 of shape (n_samples,)
        Read-only partner distribution ``q``.
    details : dict
        ``cv_uniform`` and ``cv`` (coefficient of variation of ``E / targets`` with uniform
        and with these partners), ``best_iteration``, ``iterations`` (steps run),
        ``effective_partners``
        (``1 / Σ q²``, N for uniform) and ``max_share`` (``N · max q``).
    digest : str
        SHA-256 over the labels, ``q``, ``k`` and ``seed``: equal digests mean equal draws.

    See Also
    --------
    effective_looks : Per-class looks per epoch with these partners.
    PartnerDataset : Yields ``(anchor, partner, ...)`` tuples for your own Mosaic/MixUp.
    attach_partners : Hook for Ultralytics' Mosaic/MixUp/CutMix.

    Examples
    --------
    >>> import curate
    >>> t = curate.LabelTable.from_labels([["cat"]] * 8 + [["dog"]] * 2)
    >>> ps = curate.augment.PartnerSampler(t, k=2, seed=0)
    >>> ps.probabilities.round(3).tolist()  # each dog image 16x as likely as a cat image
    [0.025, 0.025, 0.025, 0.025, 0.025, 0.025, 0.025, 0.025, 0.4, 0.4]
    >>> ps.partners(0, epoch=0) == ps.partners(0, epoch=0)  # a pure function of the key
    True
    >>> curate.augment.effective_looks(t, ps).round(6).to_dict()  # dog: 2 + 10 * 0.8
    {'cat': 10.0, 'dog': 10.0}
    """

    @validate_params({
        "k": [Interval(int, 2, None)],
        "anchors": [Options({"uniform", "plan"}), None],
        "count": [Options({"instances", "samples"}), None],
        "max_factor": [Interval(float, 1, None)],
        "seed": [Interval(int, 0, _MAX_KEY)],
        "n_iter": [Interval(int, 0, None)],
    })
    def __init__(
        self,
        table: LabelTable,
        plan: BalancePlan | None = None,
        *,
        k: int = 4,
        targets: Mapping[str, float] | Any = None,
        anchors: Literal["uniform", "plan"] | None = None,
        count: Literal["instances", "samples"] | None = None,
        max_factor: float = 5.0,
        seed: int = 0,
        n_iter: int = 100,
    ) -> None:
        owner = "PartnerSampler"
        table = _check_table(table, owner)
        plan = _check_plan(plan, table, owner)
        if anchors == "plan" and plan is None:
            raise CurateValueError(
                "anchors='plan' needs a plan; pass plan=... or anchors='uniform'"
            )
        self.table = table
        self.plan = plan
        self.k = int(k)
        self.anchors = anchors or ("plan" if plan is not None else "uniform")
        self.count = count or (plan.count if plan is not None else "instances")
        self.max_factor = float(max_factor)
        self.seed = int(seed)
        self.n_iter = int(n_iter)
        self.targets = _check_targets(targets, table, owner)
        a = (plan.multiplicity.astype(np.float64) if self.anchors == "plan" and plan is not None
             else np.ones(table.n_samples))
        if a.sum() <= 0:
            raise CurateValueError("plan draws no sample in epoch 0; there is no anchor to pair")
        q, self.details = _fit_probabilities(
            _count_matrix(table, self.count), a, self.targets, k=self.k,
            max_factor=self.max_factor, n_iter=self.n_iter,
        )
        self._set_distribution(q)

    def _set_distribution(self, q: np.ndarray) -> None:
        q = np.ascontiguousarray(q, dtype=np.float64)
        q.flags.writeable = False
        self.probabilities = q
        cum = np.cumsum(q)
        cum /= cum[-1]
        last = int(np.flatnonzero(q > 0)[-1])
        cum[last:] = 1.0  # u < 1 never selects past the last sample with positive weight
        cum.flags.writeable = False
        self._cum = cum
        self._cum_seq = array("d", cum.tobytes())  # bisect on C doubles: no N-sized work per call
        # guide table: bucket b of [0, 1) starts its search at the first i with cum[i] > b / N,
        # so a draw probes O(1) entries on average instead of log2(N)
        edges = np.arange(len(q) + 1, dtype=np.float64) / len(q)
        self._guide = array("q", np.searchsorted(cum, edges, side="right").astype(np.int64)
                            .tobytes())
        self._n = len(q)
        self._seed_key = _mix(self.seed)
        self._epoch_key = (-1, 0)
        h = hashlib.sha256()
        h.update(label_checksum(self.table).encode())
        h.update(q.tobytes())
        h.update(f"{self.k}:{self.seed}".encode())
        self.digest = h.hexdigest()

    @classmethod
    @validate_params({
        "k": [Interval(int, 2, None)],
        "seed": [Interval(int, 0, _MAX_KEY)],
    })
    def uniform(cls, table: LabelTable, *, k: int = 4, seed: int = 0) -> PartnerSampler:
        """Uniform partners with the same deterministic draws (the libraries' default).

        Parameters
        ----------
        table : LabelTable
            The labels.
        k : int >= 2, default=4
            Images per composite.
        seed : int >= 0, default=0
            Keys the draws.

        Returns
        -------
        PartnerSampler
            ``probabilities`` all ``1 / N``.

        Examples
        --------
        >>> import curate
        >>> t = curate.LabelTable.from_labels([["a"], ["a"], ["b"]])
        >>> curate.augment.PartnerSampler.uniform(t, k=2).probabilities.tolist()
        [0.3333333333333333, 0.3333333333333333, 0.3333333333333333]
        """
        return cls(table, k=k, seed=seed, n_iter=0)

    @property
    def n_samples(self) -> int:
        """Number of samples partners are drawn from."""
        return self._n

    def partners(self, index: int, epoch: int = 0, *, draw: int = 0,
                 n: int | None = None) -> list[int]:
        """Partner indices of anchor ``index`` in ``epoch``.

        Partner ``j`` is ``searchsorted(cumsum(q), u_j, side="right")`` with
        ``u_j = (h_j >> 11) / 2**53``, ``h_j = mix(key ^ (draw · 2**32 + j))`` and
        ``key = mix(mix(mix(seed) ^ epoch) ^ index)``, where ``mix`` is SplitMix64.
        Partners are independent draws from ``q`` and may include the anchor itself.

        Parameters
        ----------
        index : int
            The anchor's dataset index, in ``[0, n_samples)``.
        epoch : int, default=0
            The epoch (``>= 0``); partners change from epoch to epoch.
        draw : int, default=0
            Distinguishes several partner draws for one anchor in the same epoch (e.g. a
            Mosaic and then a MixUp); in ``[0, 2**31)``.
        n : int, default=None
            Number of partners, below ``2**32``; ``None`` means ``k - 1``.

        Returns
        -------
        list of int

        Examples
        --------
        >>> import curate
        >>> t = curate.LabelTable.from_labels([["a"], ["a"], ["b"]])
        >>> ps = curate.augment.PartnerSampler(t, k=4, seed=3)
        >>> p = ps.partners(1, epoch=2)
        >>> len(p), p == ps.partners(1, epoch=2), all(0 <= i < 3 for i in p)
        (3, True, True)
        """
        if not (type(index) is int and 0 <= index < self._n):
            index = _check_key(index, "index", self._n)
        if not (type(epoch) is int and 0 <= epoch <= _MAX_KEY):
            epoch = _check_key(epoch, "epoch", _MAX_KEY + 1)
        if not (type(draw) is int and 0 <= draw < _MAX_DRAW):
            draw = _check_key(draw, "draw", _MAX_DRAW)
        if n is None:
            count = self.k - 1
        else:
            count = n if type(n) is int and 0 <= n < _MAX_N else _check_key(n, "n", _MAX_N)
        if self._epoch_key[0] != epoch:  # a cache: the key prefix of the latest epoch
            self._epoch_key = (epoch, _mix(self._seed_key ^ epoch))
        z = ((self._epoch_key[1] ^ index) + _GOLDEN) & _MASK  # key = _mix(prefix ^ index)
        z = ((z ^ (z >> 30)) * _MUL1) & _MASK
        z = ((z ^ (z >> 27)) * _MUL2) & _MASK
        key = z ^ (z >> 31) ^ (draw << 32)
        cum, guide, n_buckets, last = self._cum_seq, self._guide, self._n, self._n - 1
        out = []
        for j in range(count):  # _mix(key ^ j) inlined: this is the per-item hot path
            z = ((key ^ j) + _GOLDEN) & _MASK
            z = ((z ^ (z >> 30)) * _MUL1) & _MASK
            z = ((z ^ (z >> 27)) * _MUL2) & _MASK
            u = ((z ^ (z >> 31)) >> 11) * _TO_UNIT
            # u lies in bucket b = floor(u N): the answer is in [guide[b], guide[b + 1]]; one
            # bucket of slack on each side absorbs the rounding of u * N
            b = int(u * n_buckets)
            i = bisect_right(cum, u, guide[b - 1] if b > 0 else 0,
                             guide[b + 2] if b + 2 <= n_buckets else n_buckets)
            out.append(i if i <= last else last)
        return out

    def epoch_partners(self, epoch: int = 0, indices: Any = None, *, draw: int = 0,
                       n: int | None = None) -> np.ndarray:
        """Partners of many anchors at once; equal to :meth:`partners` row by row.

        Parameters
        ----------
        epoch : int, default=0
            The epoch.
        indices : array-like of int, default=None
            Anchor indices (repeats allowed); ``None`` means ``0 .. n_samples - 1``.
        draw : int, default=0
            As in :meth:`partners`.
        n : int, default=None
            Partners per anchor; ``None`` means ``k - 1``.

        Returns
        -------
        ndarray of int64 of shape (len(indices), n)

        Examples
        --------
        >>> import curate
        >>> t = curate.LabelTable.from_labels([["a"], ["a"], ["b"]])
        >>> ps = curate.augment.PartnerSampler(t, k=3)
        >>> block = ps.epoch_partners(5)
        >>> block.shape, block[2].tolist() == ps.partners(2, epoch=5)
        ((3, 2), True)
        """
        epoch = _check_key(epoch, "epoch", _MAX_KEY + 1)
        draw = _check_key(draw, "draw", _MAX_DRAW)
        count = self.k - 1 if n is None else _check_key(n, "n", _MAX_N)
        if indices is None:
            idx = np.arange(self._n, dtype=np.int64)
        else:
            idx = np.asarray(indices)
            if idx.ndim != 1 or (idx.size and not np.issubdtype(idx.dtype, np.integer)):
                raise CurateTypeError(
                    f"indices must be a 1-d array of ints; got dtype {idx.dtype}, "
                    f"shape {idx.shape}"
                )
            if idx.size and (idx.min() < 0 or idx.max() >= self._n):
                bad = int(idx[(idx < 0) | (idx >= self._n)][0])
                raise CurateValueError(f"indices holds {bad}; every index must lie in "
                                       f"[0, {self._n - 1}]")
        base = _mix_np(np.full(idx.shape, self._seed_key ^ epoch, dtype=np.uint64))
        base = _mix_np(base ^ idx.astype(np.uint64)) ^ np.uint64(draw << 32)
        j = np.arange(count, dtype=np.uint64)
        u = (_mix_np(base[:, None] ^ j[None, :]) >> np.uint64(11)).astype(np.float64) * _TO_UNIT
        out = np.searchsorted(self._cum, u, side="right")
        return np.minimum(out, self._n - 1).astype(np.int64)

    def __repr__(self) -> str:
        return (
            f"PartnerSampler(n_samples={self._n}, k={self.k}, anchors={self.anchors!r}, "
            f"count={self.count!r}, max_factor={self.max_factor:g}, seed={self.seed}, "
            f"cv={self.details['cv']:.3f} (uniform {self.details['cv_uniform']:.3f}))"
        )


# ---------------------------------------------------------------------------- looks
@validate_params({
    "k": [Interval(int, 2, None), None],
    "epoch": [Interval(int, 0, None)],
    "count": [Options({"instances", "samples"}), None],
})
def effective_looks(
    table: LabelTable,
    partner_sampler: PartnerSampler | None = None,
    plan: BalancePlan | None = None,
    *,
    k: int | None = None,
    epoch: int = 0,
    count: Literal["instances", "samples"] | None = None,
) -> pd.Series:
    """Expected per-class looks in one epoch of composites (anchor + ``k - 1`` partners).

    ``looks = Cᵀa + M (k - 1) Cᵀq`` exactly (no simulation): ``C`` counts instances (or
    member images holding the class for ``count="samples"``), ``a`` is one per sample or
    ``plan.draw(epoch)`` (anchors from :class:`~curate.BalancedSampler`), ``M = Σ a`` composites,
    and ``q`` is uniform or ``partner_sampler.probabilities``.

    Parameters
    ----------
    table : LabelTable
        The labels.
    partner_sampler : PartnerSampler, default=None
        ``None`` means uniform partners (what Mosaic/MixUp implementations do).
    plan : BalancePlan, default=None
        Anchors follow ``plan.draw(epoch)``; ``None``: every sample is an anchor once.
    k : int >= 2, default=None
        Images per composite; ``None`` takes ``partner_sampler.k``, or 4 without one.
    epoch : int >= 0, default=0
        Epoch of the plan's draw.
    count : {"instances", "samples"}, default=None
        ``None``: the sampler's ``count``, else the plan's, else ``"instances"``.

    Returns
    -------
    pandas.Series of float64
        Indexed by class name, named ``"looks"``.

    Examples
    --------
    >>> import curate
    >>> t = curate.LabelTable.from_labels([["cat", "cat"], ["cat"], ["dog"]])
    >>> curate.augment.effective_looks(t, k=2).to_dict()  # 3 anchors + 3 uniform partners
    {'cat': 6.0, 'dog': 2.0}
    """
    owner = "effective_looks"
    table = _check_table(table, owner)
    plan = _check_plan(plan, table, owner)
    if partner_sampler is not None:
        check_instance("partner_sampler", partner_sampler, owner, PartnerSampler,
                       "a curate.augment.PartnerSampler or None")
        if (partner_sampler.table is not table
                and label_checksum(partner_sampler.table) != label_checksum(table)):
            raise CurateValueError(
                "partner_sampler was fitted on other labels than table; build it on this table"
            )
        if k is not None and k != partner_sampler.k:
            raise CurateValueError(
                f"k={k} differs from partner_sampler.k={partner_sampler.k}; drop k or build the "
                f"sampler with k={k}"
            )
        k = partner_sampler.k
        q = partner_sampler.probabilities
    else:
        q = np.full(table.n_samples, 1.0 / table.n_samples)
    k = 4 if k is None else int(k)
    mode: str = count or ""
    if not mode:
        mode = (partner_sampler.count if partner_sampler is not None
                 else plan.count if plan is not None else "instances")
    a = (plan.draw(epoch).astype(np.float64) if plan is not None
         else np.ones(table.n_samples))
    c = sp.csr_matrix(_count_matrix(table, mode).T, dtype=np.float64)
    looks = c @ a + float(a.sum()) * (k - 1) * (c @ q)
    return pd.Series(looks, index=pd.Index(table.classes, name="class"), name="looks")


@validate_params({
    "k": [Interval(int, 2, None)],
    "max_factor": [Interval(float, 1, None)],
    "seed": [Interval(int, 0, _MAX_KEY)],
})
def looks_table(
    table: LabelTable,
    plan: BalancePlan | None = None,
    *,
    k: int = 4,
    targets: Mapping[str, float] | Any = None,
    max_factor: float = 5.0,
    seed: int = 0,
) -> pd.DataFrame:
    """Per-class looks per epoch for uniform vs rare-aware partners, with and without a plan.

    The plain table the dataset report shows beside the plan: one row per class, columns

    - ``count``: the table's class totals (instances, or samples with ``plan.count``);
    - ``uniform`` / ``rare_aware``: every sample an anchor once, partners uniform or from a
      :class:`PartnerSampler` (``anchors="uniform"``);
    - with a plan, ``balanced_uniform`` / ``balanced_rare_aware``: anchors from
      :class:`~curate.BalancedSampler` (``plan.draw(0)``), partners uniform or from a
      ``PartnerSampler(table, plan)`` fitted for those anchors.

    Parameters
    ----------
    table : LabelTable
        The labels.
    plan : BalancePlan, default=None
        Adds the two ``balanced_*`` columns.
    k : int >= 2, default=4
        Images per composite.
    targets : mapping, array-like or None, default=None
        Passed to :class:`PartnerSampler`.
    max_factor : float >= 1, default=5.0
        Passed to :class:`PartnerSampler`.
    seed : int >= 0, default=0
        Passed to :class:`PartnerSampler` (does not change expected looks).

    Returns
    -------
    pandas.DataFrame
        Indexed by class name; float64 columns as listed above.

    Examples
    --------
    >>> import curate
    >>> t = curate.LabelTable.from_labels([["cat"]] * 8 + [["dog"]] * 2)
    >>> curate.augment.looks_table(t, k=2).round(6)
           count  uniform  rare_aware
    class
    cat        8     16.0        10.0
    dog        2      4.0        10.0
    """
    owner = "looks_table"
    table = _check_table(table, owner)
    plan = _check_plan(plan, table, owner)
    count: Any = plan.count if plan is not None else "instances"
    totals = np.asarray(_count_matrix(table, count).sum(axis=0)).ravel().astype(np.int64)
    out = pd.DataFrame({"count": totals}, index=pd.Index(table.classes, name="class"))
    opts: dict[str, Any] = {"k": k, "targets": targets, "max_factor": max_factor,
                            "seed": seed, "count": count}
    rare = PartnerSampler(table, anchors="uniform", **opts)
    out["uniform"] = effective_looks(table, None, k=k, count=count).to_numpy()
    out["rare_aware"] = effective_looks(table, rare).to_numpy()
    if plan is not None:
        balanced = PartnerSampler(table, plan, anchors="plan", **opts)
        out["balanced_uniform"] = effective_looks(table, None, plan, k=k, count=count).to_numpy()
        out["balanced_rare_aware"] = effective_looks(table, balanced, plan).to_numpy()
    return out
