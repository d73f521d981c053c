"""``BalancePlan``: how many times each sample appears, and how that is redrawn per epoch.

One plan type serves every resampler (the integer program, the repeat-factor and quota
baselines, ``oversample_rare``). A plan stores samples in *groups* with an expected number of
copies per group and epoch (``group_total``). The balancer groups samples with identical label
vectors (they are interchangeable); baselines put every sample in its own group.

Drawing epoch ``e`` (:meth:`BalancePlan.draw`):

1. the integer total of group ``g`` is ``T_g`` when ``T_g`` is whole, else ``floor(T_g)`` plus
   a Bernoulli(``T_g - floor(T_g)``) draw seeded by ``(seed, e)`` (stochastic rounding, as in
   detectron2's repeat-factor sampler);
2. the total is spread evenly over the group's ``n_g`` members: each gets ``T // n_g`` copies
   and ``T % n_g`` members get one more. Those members form a window, in a fixed seeded order
   of the group, that starts at ``floor(e * T_g) mod n_g`` — so consecutive epochs take
   consecutive windows, and a group whose members are not all kept is seen in full within
   ``ceil(n_g / (T % n_g))`` epochs.

Epoch 0 is the offline result: ``plan.multiplicity == plan.draw(0)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from curate._validation import StrEnum
from curate.exceptions import CurateValueError
from curate.labels import LabelTable

__all__ = ["BalancePlan", "PlanStatus"]


class PlanStatus(StrEnum):
    """How a plan was obtained."""

    OPTIMAL = "optimal"  # proven optimal within mip_gap
    FEASIBLE = "feasible"  # feasible with a certified gap (LP rounding, or stopped by time_limit)
    HEURISTIC = "heuristic"  # a rule-based plan (baselines); no optimality claim
    FALLBACK = "fallback"  # the solver produced nothing usable; the identity plan was returned


def _as_int_if_whole(values: np.ndarray) -> bool:
    return bool(np.all(values == np.round(values)))


@dataclass(frozen=True, eq=False)
class BalancePlan:
    """Per-sample multiplicities (0 = removed, 1 = kept, >1 = duplicated) and their redraws.

    Build plans with :class:`curate.InterClassBalancer`, the baselines in
    :mod:`curate.balance.baselines` or :meth:`from_multiplicity`; the constructor is for
    those builders.

    Parameters
    ----------
    table : LabelTable
        The labels the plan resamples.
    group : ndarray of shape (n_samples,)
        Group id (``0 .. n_groups - 1``) of every sample; members of a group are
        interchangeable and share the group's copies.
    group_total : ndarray of shape (n_groups,)
        Expected copies of the group per epoch (whole for exact plans).
    count : {"instances", "samples"}, default="instances"
        Whether class totals count instances or samples holding the class.
    seed : int, default=0
        Seeds the member order of each group and the stochastic rounding.
    method : str, default="custom"
        Name of the resampler that made the plan.
    status : PlanStatus, default=PlanStatus.HEURISTIC
        How the plan was obtained.
    message : str, default=""
        A human-readable note on the status.
    objective, lower_bound, gap, solve_seconds : float or None
        Optimisation results (``None`` for heuristic plans). ``gap`` is relative:
        ``(objective - lower_bound) / max(|objective|, 1e-9)``.
    options : dict
        The options the resampler was run with.
    details : dict
        Extra numbers (timings, objective parts) for reports.

    Examples
    --------
    >>> import curate
    >>> t = curate.LabelTable.from_labels([["a"], ["a"], ["a"], ["b"]])
    >>> plan = BalancePlan.from_multiplicity(t, [1, 0, 0, 1], group=[0, 0, 0, 1])
    >>> plan.counts_after.tolist()
    [1, 1]
    >>> [plan.draw(e).tolist() for e in range(3)]
    [[0, 0, 1, 1], [0, 1, 0, 1], [1, 0, 0, 1]]
    """

    table: LabelTable
    group: np.ndarray
    group_total: np.ndarray
    count: str = "instances"
    seed: int = 0
    method: str = "custom"
    status: PlanStatus = PlanStatus.HEURISTIC
    message: str = ""
    objective: float | None = None
    lower_bound: float | None = None
    gap: float | None = None
    solve_seconds: float | None = None
    options: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        group = np.asarray(self.group, dtype=np.int64)
        total = np.asarray(self.group_total, dtype=np.float64)
        n = self.table.n_samples
        if group.shape != (n,):
            raise CurateValueError(f"group must have shape ({n},); got {group.shape}")
        if n and (group.min() < 0 or group.max() >= len(total)):
            raise CurateValueError("group ids must lie in [0, len(group_total))")
        if not np.all(np.isfinite(total)) or (total < 0).any():
            raise CurateValueError("group_total must be finite and >= 0")
        if self.count not in ("instances", "samples"):
            raise CurateValueError(f"count must be 'instances' or 'samples'; got {self.count!r}")
        group.flags.writeable = False
        total.flags.writeable = False
        object.__setattr__(self, "group", group)
        object.__setattr__(self, "group_total", total)

    # ------------------------------------------------------------------ builders
    @classmethod
    def from_multiplicity(
        cls, table: LabelTable, multiplicity: Any, *, group: Any = None, **kwargs: Any
    ) -> BalancePlan:
        """Make a plan from per-sample multiplicities (fractional = expected copies).

        With ``group=None`` every sample is its own group, so whole multiplicities are drawn
        identically every epoch and fractional ones are stochastically rounded per epoch.
        With groups, the group sums are rotated over the members from epoch to epoch.

        Examples
        --------
        >>> import curate
        >>> t = curate.LabelTable.from_labels([["a"], ["b"]])
        >>> BalancePlan.from_multiplicity(t, [2, 1]).multiplicity.tolist()
        [2, 1]
        """
        x = np.asarray(multiplicity, dtype=np.float64)
        if x.shape != (table.n_samples,):
            raise CurateValueError(
                f"multiplicity must have shape ({table.n_samples},); got {x.shape}"
            )
        if not np.all(np.isfinite(x)) or (x < 0).any():
            raise CurateValueError("multiplicity must be finite and >= 0")
        if group is None:
            g = np.arange(table.n_samples, dtype=np.int64)
        else:
            _, g = np.unique(np.asarray(group), return_inverse=True)
            g = g.astype(np.int64).ravel()
        totals = np.bincount(g, weights=x, minlength=int(g.max()) + 1 if g.size else 0)
        return cls(table, g, totals, **kwargs)

    # ------------------------------------------------------------------ derived
    @cached_property
    def group_sizes(self) -> np.ndarray:
        """Members per group."""
        return np.bincount(self.group, minlength=len(self.group_total)).astype(np.int64)

    @cached_property
    def _rank(self) -> np.ndarray:
        """Position of each sample inside its group, in a fixed order seeded by ``seed``."""
        n = len(self.group)
        keys = np.random.default_rng(self.seed).random(n)
        order = np.lexsort((keys, self.group))
        starts = np.zeros(len(self.group_total) + 1, dtype=np.int64)
        np.cumsum(self.group_sizes, out=starts[1:])
        rank = np.empty(n, dtype=np.int64)
        rank[order] = np.arange(n, dtype=np.int64) - starts[self.group[order]]
        return rank

    @cached_property
    def _whole(self) -> bool:
        return _as_int_if_whole(self.group_total)

    def _epoch_totals(self, epoch: int) -> np.ndarray:
        total = self.group_total
        if self._whole:
            return np.round(total).astype(np.int64)
        rng = np.random.default_rng([self.seed, epoch, 1])
        floor = np.floor(total)
        return (floor + (rng.random(len(total)) < total - floor)).astype(np.int64)

    def draw(self, epoch: int = 0) -> np.ndarray:
        """Integer multiplicities of every sample for ``epoch`` (epoch 0 = :attr:`multiplicity`).

        Parameters
        ----------
        epoch : int, default=0
            Non-negative epoch number.

        Returns
        -------
        ndarray of int64, shape (n_samples,)

        Examples
        --------
        >>> import curate
        >>> t = curate.LabelTable.from_labels([["a"]] * 4)
        >>> plan = BalancePlan.from_multiplicity(t, [1, 1, 0, 0], group=[0] * 4)
        >>> int(plan.draw(0).sum()), int(plan.draw(1).sum())
        (2, 2)
        """
        if isinstance(epoch, bool) or not isinstance(epoch, int | np.integer) or epoch < 0:
            raise CurateValueError(f"epoch must be an int >= 0; got {epoch!r}")
        sizes = np.maximum(self.group_sizes, 1)
        totals = self._epoch_totals(int(epoch))
        base, rem = np.divmod(totals, sizes)
        start = np.floor(int(epoch) * self.group_total).astype(np.int64) % sizes
        g = self.group
        extra = ((self._rank - start[g]) % sizes[g]) < rem[g]
        return base[g] + extra.astype(np.int64)

    @cached_property
    def multiplicity(self) -> np.ndarray:
        """Epoch-0 multiplicities (the offline result)."""
        x = self.draw(0)
        x.flags.writeable = False
        return x

    def indices(self, epoch: int = 0, *, shuffle: bool = True) -> np.ndarray:
        """Flat array of sample indices for ``epoch`` (each repeated per its multiplicity).

        Parameters
        ----------
        epoch : int, default=0
            Epoch to draw.
        shuffle : bool, default=True
            Permute with a generator seeded by ``(seed, epoch)``; never the global RNG.

        Returns
        -------
        ndarray of int64

        Examples
        --------
        >>> import curate
        >>> t = curate.LabelTable.from_labels([["a"], ["b"]])
        >>> BalancePlan.from_multiplicity(t, [2, 1]).indices(shuffle=False).tolist()
        [0, 0, 1]
        """
        idx = np.repeat(np.arange(self.table.n_samples, dtype=np.int64), self.draw(epoch))
        if shuffle:
            idx = np.random.default_rng([self.seed, int(epoch), 2]).permutation(idx)
        return idx

    def _count_matrix(self) -> Any:
        return self.table.matrix if self.count == "instances" else self.table.presence()

    def class_totals(self, multiplicity: Any = None) -> pd.Series:
        """Class totals ``Aᵀx`` for ``multiplicity`` (default: the epoch-0 plan).

        Examples
        --------
        >>> import curate
        >>> t = curate.LabelTable.from_labels([["a", "a"], ["b"]])
        >>> BalancePlan.from_multiplicity(t, [1, 2]).class_totals().tolist()
        [2, 2]
        """
        x = self.multiplicity if multiplicity is None else np.asarray(multiplicity)
        values = np.asarray(self._count_matrix().T @ x, dtype=np.int64).ravel()
        return pd.Series(values, index=pd.Index(self.table.classes, name="class"), name="after")

    @property
    def counts_before(self) -> pd.Series:
        """Class totals of the original table (instances or samples, per ``count``)."""
        return self.class_totals(np.ones(self.table.n_samples, dtype=np.int64)).rename("before")

    @property
    def counts_after(self) -> pd.Series:
        """Class totals of the epoch-0 plan."""
        return self.class_totals()

    @property
    def success(self) -> bool:
        """Whether the plan came from a successful solve or rule (not a fallback)."""
        return self.status is not PlanStatus.FALLBACK

    @property
    def n_samples(self) -> int:
        """Number of samples in the underlying table."""
        return self.table.n_samples

    @property
    def epoch_size(self) -> int:
        """Indices in the epoch-0 draw (``multiplicity.sum()``)."""
        return int(self.multiplicity.sum())

    @property
    def n_duplicates(self) -> int:
        """Extra copies in the epoch-0 draw: ``Σ max(x_i - 1, 0)``."""
        return int(np.maximum(self.multiplicity - 1, 0).sum())

    @property
    def n_removed(self) -> int:
        """Samples left out of the epoch-0 draw: ``#{i : x_i = 0}``."""
        return int((self.multiplicity == 0).sum())

    @property
    def coverage_epochs(self) -> float:
        """Epochs within which every sample of every group with copies is drawn at least once.

        ``inf`` when some group with members gets no copies at all (those samples are
        never seen).

        Examples
        --------
        >>> import curate
        >>> t = curate.LabelTable.from_labels([["a"]] * 5)
        >>> BalancePlan.from_multiplicity(t, [1, 1, 0, 0, 0], group=[0] * 5).coverage_epochs
        3
        """
        sizes = self.group_sizes
        total = self.group_total
        held = sizes > 0
        if (held & (total <= 0)).any():
            return math.inf
        partial = held & (total < sizes)
        if not partial.any():
            return 1
        ratio = sizes[partial] / np.maximum(np.floor(total[partial]), 1e-12)
        return int(np.ceil(ratio.max() - 1e-9)) if self._whole else math.inf

    def __repr__(self) -> str:
        return (
            f"BalancePlan(method={self.method!r}, status={self.status.value!r}, "
            f"n_samples={self.n_samples}, epoch_size={self.epoch_size}, "
            f"duplicates={self.n_duplicates}, removed={self.n_removed})"
        )
