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

import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from curate._atomic import atomic_write
from curate._validation import StrEnum
from curate.exceptions import CurateValueError
from curate.labels import LabelTable

__all__ = ["BalancePlan", "PlanStatus", "label_checksum", "manifest_indices"]

_META_KEY = b"curate.plan"
_FORMAT_VERSION = 1


def label_checksum(table: LabelTable) -> str:
    """SHA-256 of a table's class names and sparse count matrix (sample ids excluded).

    Examples
    --------
    >>> import curate
    >>> a = curate.LabelTable.from_labels([["x"], ["y"]])
    >>> label_checksum(a) == label_checksum(a.select([0, 1]))
    True
    """
    m = table.matrix
    h = hashlib.sha256()
    h.update(json.dumps(list(table.classes)).encode())
    for arr in (m.indptr, m.indices, m.data):
        h.update(np.ascontiguousarray(arr, dtype=np.int64).tobytes())
    return h.hexdigest()


def _jsonable(value: Any) -> Any:
    """Turn numpy scalars/arrays, tuples, enums and non-finite floats into JSON values."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


class PlanStatus(StrEnum):
    """How a plan was obtained.

    Examples
    --------
    >>> PlanStatus("optimal") is PlanStatus.OPTIMAL, PlanStatus.FALLBACK.value
    (True, 'fallback')
    """

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
    rotation : "presence", ndarray of shape (n_samples,) or None, default=None
        Which samples take turns across epochs (see :meth:`draw`): ``None`` rotates only
        inside ``group``; ``"presence"`` or an array of rotation-group ids rotates epoch-0
        copies among members of a wider group from epoch 1 on.

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
    rotation: np.ndarray | str | None = None

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
        if isinstance(self.rotation, str):
            if self.rotation != "presence":
                raise CurateValueError(
                    f"rotation must be 'presence', an array of group ids or None; "
                    f"got {self.rotation!r}"
                )
        elif self.rotation is not None:
            rotation = np.asarray(self.rotation, dtype=np.int64)
            if rotation.shape != (n,) or (n and rotation.min() < 0):
                raise CurateValueError(
                    f"rotation must hold one group id >= 0 per sample, shape ({n},); "
                    f"got shape {rotation.shape}"
                )
            rotation.flags.writeable = False
            object.__setattr__(self, "rotation", rotation)

    # ------------------------------------------------------------------ builders
    @classmethod
    def from_multiplicity(
        cls, table: LabelTable, multiplicity: Any, *, group: Any = None, **kwargs: Any
    ) -> BalancePlan:
        """Make a plan from per-sample multiplicities (fractional = expected copies).

        With ``group=None`` every sample is its own group, so whole multiplicities are drawn
        identically every epoch and fractional ones are stochastically rounded per epoch.
        With groups, the group sums are rotated over the members from epoch to epoch.

        Parameters
        ----------
        table : LabelTable
            The labels the plan resamples.
        multiplicity : array-like of shape (n_samples,)
            Non-negative (expected) copies of every sample.
        group : array-like of shape (n_samples,), default=None
            Group label of every sample (any hashable values); ``None``: one group per sample.
        **kwargs
            Passed to the constructor (``count``, ``seed``, ``method``, ``status``, ...).

        Returns
        -------
        BalancePlan

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
        if self._singletons:
            return np.zeros(n, dtype=np.int64)
        keys = np.random.default_rng(self.seed).random(n)
        # group + key in [0, 1) sorts by group, then by the seeded key: one O(N log N)
        # argsort instead of a two-key lexsort (ties, if any, keep the sample order)
        order = np.argsort(self.group + keys, kind="stable")
        starts = np.zeros(len(self.group_total) + 1, dtype=np.int64)
        np.cumsum(self.group_sizes, out=starts[1:])
        rank = np.empty(n, dtype=np.int64)
        rank[order] = np.arange(n, dtype=np.int64) - starts[self.group[order]]
        return rank

    @cached_property
    def _singletons(self) -> bool:
        """Whether every group has at most one member (baselines, single-sample groups)."""
        return bool(len(self.group) == 0 or self.group_sizes.max() <= 1)

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
        if epoch > 0 and self._rotates:
            return self._rotated(int(epoch))
        return self._draw_groups(int(epoch))

    def _draw_groups(self, epoch: int) -> np.ndarray:
        totals = self._epoch_totals(int(epoch))
        if self._singletons:  # nothing to rotate: each sample gets its group's total
            return totals[self.group]
        sizes = np.maximum(self.group_sizes, 1)
        base, rem = np.divmod(totals, sizes)
        start = np.floor(int(epoch) * self.group_total).astype(np.int64) % sizes
        g = self.group
        extra = ((self._rank - start[g]) % sizes[g]) < rem[g]
        return base[g] + extra.astype(np.int64)

    @cached_property
    def _rotates(self) -> bool:
        return self.rotation is not None and self._whole

    @cached_property
    def rotation_groups(self) -> np.ndarray | None:
        """Rotation group of every sample (``None``: copies rotate only inside ``group``).

        With ``rotation="presence"`` (what :class:`InterClassBalancer` sets), samples holding
        the same set of classes form one rotation group; from epoch 1 on, removed and
        duplicated members take turns with the others (see :meth:`draw`).
        """
        if self.rotation is None:
            return None
        if isinstance(self.rotation, str):
            from curate.balance._formulation import signatures

            ids = signatures(self.table.presence()).group
            ids.flags.writeable = False
            return ids
        return np.asarray(self.rotation)

    @cached_property
    def _rotation_layout(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Members of every rotation group sorted by epoch-0 copies (descending, seeded ties).

        Returns ``order`` (sample ids in that layout), ``values`` (their epoch-0 copies),
        ``rot`` (rotation group at each position), ``starts`` and ``shift`` per rotation group.
        """
        rot = np.asarray(self.rotation_groups)  # not None: guarded by _rotates
        x0 = self._draw_groups(0)
        n_rot = int(rot.max()) + 1 if rot.size else 0
        keys = np.random.default_rng([self.seed, 3]).random(len(rot))
        top = float(x0.max()) + 1.0 if x0.size else 1.0
        order = np.argsort(rot * (top + 1.0) + (top - x0) + keys, kind="stable")
        sizes = np.bincount(rot, minlength=n_rot)
        starts = np.zeros(n_rot + 1, dtype=np.int64)
        np.cumsum(sizes, out=starts[1:])
        values = x0[order]
        rot_sorted = rot[order]
        smallest = values[np.maximum(starts[1:] - 1, 0)]  # last value of each group = its minimum
        shift = np.bincount(rot_sorted, weights=values != smallest[rot_sorted], minlength=n_rot)
        return order, values, rot_sorted, starts, shift.astype(np.int64)

    def _rotated(self, epoch: int) -> np.ndarray:
        """Epoch ``epoch``: each rotation group's epoch-0 copies slid by ``epoch · shift``.

        Members of a rotation group are laid out by epoch-0 copies, largest first; epoch
        ``e`` gives the member at position ``j`` the copies of position ``j - e·shift``
        (cyclically), where ``shift`` is the number of members above the group's minimum.
        The multiset of copies per rotation group, hence every class total that its members
        share, is the same in every epoch; removed members take turns with kept ones.
        """
        order, values, rot, starts, shift = self._rotation_layout
        sizes = np.maximum(starts[1:] - starts[:-1], 1)
        pos = np.arange(len(order), dtype=np.int64) - starts[rot]
        src = starts[rot] + (pos - epoch * shift[rot]) % sizes[rot]
        out = np.empty(len(order), dtype=np.int64)
        out[order] = values[src]
        return out

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
        if shuffle:  # in place: the same order as Generator.permutation, without a copy
            np.random.default_rng([self.seed, int(epoch), 2]).shuffle(idx)
        return idx

    def _count_matrix(self) -> Any:
        return self.table.matrix if self.count == "instances" else self.table.presence()

    def class_totals(self, multiplicity: Any = None) -> pd.Series:
        """Class totals ``Aᵀx`` for ``multiplicity`` (default: the epoch-0 plan).

        Parameters
        ----------
        multiplicity : array-like of shape (n_samples,), default=None
            Copies per sample; ``None`` uses :attr:`multiplicity`.

        Returns
        -------
        pandas.Series
            One total per class (instances or samples, per ``count``).

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
        if self._rotates:
            _, values, _, starts, shift = self._rotation_layout
            sizes = starts[1:] - starts[:-1]
            has_zero = (sizes > 0) & (values[np.maximum(starts[1:] - 1, 0)] == 0)
            if (has_zero & (shift == 0)).any():
                return math.inf
            if not has_zero.any():
                return 1
            return int(np.ceil((sizes[has_zero] / shift[has_zero]).max() - 1e-9))
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

    # ------------------------------------------------------------------ reporting
    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable summary for reports (no per-sample arrays).

        Examples
        --------
        >>> import curate
        >>> t = curate.LabelTable.from_labels([["a"], ["b"]])
        >>> d = BalancePlan.from_multiplicity(t, [2, 1]).to_dict()
        >>> d["counts_after"], d["n_duplicates"]
        ({'a': 2, 'b': 1}, 1)
        """
        return _jsonable({
            "method": self.method, "status": self.status.value, "message": self.message,
            "count": self.count, "seed": self.seed,
            "objective": self.objective, "lower_bound": self.lower_bound, "gap": self.gap,
            "solve_seconds": self.solve_seconds, "n_samples": self.n_samples,
            "epoch_size": self.epoch_size, "n_duplicates": self.n_duplicates,
            "n_removed": self.n_removed,
            "counts_before": {k: int(v) for k, v in self.counts_before.items()},
            "counts_after": {k: int(v) for k, v in self.counts_after.items()},
            "options": self.options, "details": self.details,
        })

    def summary(self, max_classes: int = 40) -> str:
        """A readable before/after table per class, then sizes, costs and solver results.

        Parameters
        ----------
        max_classes : int, default=40
            With more classes, only the ``max_classes // 2`` largest and smallest (by
            original total) are listed.

        Returns
        -------
        str

        Examples
        --------
        >>> import curate
        >>> t = curate.LabelTable.from_labels([["a"], ["a"], ["b"]])
        >>> print(BalancePlan.from_multiplicity(t, [1, 0, 2]).summary())
        class  before  after  change
        a           2      1  -50.0%
        b           1      2 +100.0%
        <BLANKLINE>
        samples 3 -> epoch size 3 (1 duplicates, 1 removed)
        method custom, status heuristic
        """
        before, after = self.counts_before, self.counts_after
        frame = pd.DataFrame({"before": before, "after": after})
        if len(frame) > max_classes:
            order = frame["before"].sort_values(ascending=False, kind="stable").index
            half = max_classes // 2
            frame = frame.loc[[*order[:half], *order[-half:]]]
        change = (frame["after"] - frame["before"]) / frame["before"].where(frame["before"] > 0)
        names = [str(c) for c in frame.index]
        width = max([5, *map(len, names)])
        lines = [f"{'class':<{width}}  before  after  change"]
        for name, b, a, ch in zip(names, frame["before"], frame["after"], change, strict=True):
            text = "n/a" if pd.isna(ch) else f"{ch:+.1%}"
            lines.append(f"{name:<{width}} {int(b):7d} {int(a):6d} {text:>7}")
        if len(before) > len(frame):
            lines.append(f"... {len(before) - len(frame)} more classes (see to_dict())")
        lines += ["", f"samples {self.n_samples} -> epoch size {self.epoch_size} "
                      f"({self.n_duplicates} duplicates, {self.n_removed} removed)",
                  f"method {self.method}, status {self.status.value}"]
        if self.objective is not None:
            bound = "n/a" if self.lower_bound is None else f"{self.lower_bound:.6g}"
            gap = "n/a" if self.gap is None else f"{self.gap:.3%}"
            lines.append(f"objective {self.objective:.6g}, lower bound {bound}, gap {gap}")
        if self.solve_seconds is not None:
            lines.append(f"solve time {self.solve_seconds:.2f} s")
        if self.message:
            lines.append(self.message)
        return "\n".join(lines)

    # ------------------------------------------------------------------ persistence
    def to_manifest(self, epoch: int = 0) -> pd.DataFrame:
        """One row per sample: ``sample_id``, ``index`` (row position) and ``multiplicity``.

        Parameters
        ----------
        epoch : int, default=0
            Epoch whose multiplicities are listed.

        Returns
        -------
        pandas.DataFrame

        Examples
        --------
        >>> import curate
        >>> t = curate.LabelTable.from_labels([["a"], ["b"]], sample_ids=["u", "v"])
        >>> BalancePlan.from_multiplicity(t, [0, 2]).to_manifest().values.tolist()
        [['u', 0, 0], ['v', 1, 2]]
        """
        return pd.DataFrame({
            "sample_id": self.table.sample_ids,
            "index": np.arange(self.n_samples, dtype=np.int64),
            "multiplicity": self.draw(epoch),
        })

    def resampled_labels(self, epoch: int = 0) -> pd.DataFrame:
        """The resampled label file of ``epoch``: one row per drawn copy, in row order.

        Columns ``sample_id``, ``index`` (row in the original table) and ``labels`` (class
        names, repeated per instance count), readable back with ``curate.io.read_labels``.

        Parameters
        ----------
        epoch : int, default=0
            Epoch to write out.

        Returns
        -------
        pandas.DataFrame

        Examples
        --------
        >>> import curate
        >>> t = curate.LabelTable.from_labels([["a", "a"], ["b"]])
        >>> BalancePlan.from_multiplicity(t, [0, 2]).resampled_labels()["labels"].tolist()
        [['b'], ['b']]
        """
        idx = self.indices(epoch, shuffle=False)
        m = self.table.matrix
        names = np.asarray(self.table.classes, dtype=object)
        rows = [
            names[np.repeat(m.indices[m.indptr[i]: m.indptr[i + 1]],
                            m.data[m.indptr[i]: m.indptr[i + 1]])].tolist()
            for i in range(self.n_samples)
        ]
        return pd.DataFrame({"sample_id": self.table.sample_ids[idx], "index": idx,
                             "labels": [rows[i] for i in idx]})

    def _metadata(self) -> dict[str, Any]:
        return _jsonable({
            "format_version": _FORMAT_VERSION,
            "classes": list(self.table.classes), "background": self.table.background,
            "level": self.table.level, "input_checksum": label_checksum(self.table),
            "count": self.count, "seed": self.seed, "method": self.method,
            "status": self.status.value, "message": self.message, "objective": self.objective,
            "lower_bound": self.lower_bound, "gap": self.gap, "solve_seconds": self.solve_seconds,
            "options": self.options, "details": self.details,
            "counts_before": {k: int(v) for k, v in self.counts_before.items()},
            "counts_after": {k: int(v) for k, v in self.counts_after.items()},
            "epoch_size": self.epoch_size, "n_duplicates": self.n_duplicates,
            "n_removed": self.n_removed,
        })

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the manifest parquet (plus ``<path>.json`` metadata), atomically.

        The parquet holds ``sample_id``, ``index``, ``multiplicity`` (epoch 0), the plan's
        ``group`` and ``group_total`` and the labels (``label_index``/``label_count`` lists),
        so :meth:`load` rebuilds the plan, and its redraws, without the original table. The
        metadata (options, counts before/after, objective, bound, gap, status, input checksum)
        is stored in the parquet key-value metadata and, for people, in ``<path>.json``.

        Parameters
        ----------
        path : str or path-like
            Where to write the parquet; folders are created.

        Returns
        -------
        pathlib.Path
            ``path``.

        Examples
        --------
        >>> import curate, tempfile, os
        >>> t = curate.LabelTable.from_labels([["a"], ["b"]])
        >>> plan = BalancePlan.from_multiplicity(t, [2, 1])
        >>> with tempfile.TemporaryDirectory() as d:
        ...     path = plan.save(os.path.join(d, "m.parquet"))
        ...     BalancePlan.load(path).multiplicity.tolist()
        [2, 1]
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = Path(path)
        m = self.table.matrix
        offsets = pa.array(m.indptr.astype(np.int64), type=pa.int64())
        frame = self.to_manifest()
        ids = frame["sample_id"].to_numpy()
        if ids.dtype == object:
            ids = np.asarray([str(v) for v in ids], dtype=object)
        columns = {
            "sample_id": pa.array(ids),
            "index": pa.array(frame["index"].to_numpy()),
            "multiplicity": pa.array(frame["multiplicity"].to_numpy()),
            "group": pa.array(self.group),
            "group_total": pa.array(self.group_total[self.group]),
            "label_index": pa.LargeListArray.from_arrays(
                offsets, pa.array(m.indices.astype(np.int32))),
            "label_count": pa.LargeListArray.from_arrays(
                offsets, pa.array(m.data.astype(np.int64))),
        }
        if self.rotation_groups is not None:
            columns["rotation"] = pa.array(self.rotation_groups)
        table = pa.table(columns)
        meta = self._metadata()
        table = table.replace_schema_metadata({_META_KEY: json.dumps(meta).encode()})
        atomic_write(path, lambda tmp: pq.write_table(table, tmp))
        sidecar = path.with_name(path.name + ".json")
        atomic_write(sidecar, lambda tmp: Path(tmp).write_text(json.dumps(meta, indent=2)))
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str], table: LabelTable | None = None) -> BalancePlan:
        """Rebuild a plan written by :meth:`save`; it redraws every epoch identically.

        Parameters
        ----------
        path : str or path-like
            The manifest parquet.
        table : LabelTable, default=None
            The original labels. ``None`` rebuilds them from the manifest. When given, its
            label matrix must match the stored checksum.

        Returns
        -------
        BalancePlan

        Examples
        --------
        >>> import curate, tempfile, os
        >>> t = curate.LabelTable.from_labels([["a"]] * 3, sample_ids=["p", "q", "r"])
        >>> plan = BalancePlan.from_multiplicity(t, [1, 1, 0], group=[0, 0, 0], seed=3)
        >>> with tempfile.TemporaryDirectory() as d:
        ...     back = BalancePlan.load(plan.save(os.path.join(d, "m.parquet")))
        >>> [back.draw(e).tolist() == plan.draw(e).tolist() for e in range(3)]
        [True, True, True]
        """
        import pyarrow.parquet as pq

        try:
            stored = pq.read_table(path)
        except (OSError, ValueError) as exc:
            if not Path(path).exists():
                raise FileNotFoundError(f"no manifest at {str(path)!r}") from exc
            raise CurateValueError(
                f"{str(path)!r} is not a readable manifest parquet: {exc}"
            ) from exc
        raw = (stored.schema.metadata or {}).get(_META_KEY)
        if raw is None:
            raise CurateValueError(
                f"{str(path)!r} has no curate plan metadata; write manifests with "
                "BalancePlan.save or `curate resample`"
            )
        meta = json.loads(raw)
        n = stored.num_rows
        group = stored.column("group").to_numpy()
        per_row_total = stored.column("group_total").to_numpy()
        n_groups = int(group.max()) + 1 if n else 0
        totals = np.zeros(n_groups, dtype=np.float64)
        totals[group] = per_row_total
        if table is None:
            table = cls._stored_table(stored, meta)
        elif label_checksum(table) != meta["input_checksum"]:
            raise CurateValueError(
                f"table does not match the labels the manifest {str(path)!r} was made from "
                "(checksum differs); pass the same table, or table=None to use the stored labels"
            )
        return cls(
            table, group, totals, count=meta["count"], seed=int(meta["seed"]),
            method=meta["method"], status=PlanStatus(meta["status"]), message=meta["message"],
            objective=meta["objective"], lower_bound=meta["lower_bound"], gap=meta["gap"],
            solve_seconds=meta["solve_seconds"], options=meta["options"],
            details=meta["details"],
            rotation=(stored.column("rotation").to_numpy()
                      if "rotation" in stored.column_names else None),
        )

    @staticmethod
    def _stored_table(stored: Any, meta: dict[str, Any]) -> LabelTable:
        idx_col = stored.column("label_index").combine_chunks()
        cnt_col = stored.column("label_count").combine_chunks()
        indptr = idx_col.offsets.to_numpy()
        indices = idx_col.values.to_numpy()
        data = cnt_col.values.to_numpy()
        m = sp.csr_matrix((data, indices, indptr), shape=(stored.num_rows, len(meta["classes"])))
        return LabelTable(m, meta["classes"], sample_ids=stored.column("sample_id").to_numpy(),
                          background=meta["background"], level=meta["level"])

    def __repr__(self) -> str:
        return (
            f"BalancePlan(method={self.method!r}, status={self.status.value!r}, "
            f"n_samples={self.n_samples}, epoch_size={self.epoch_size}, "
            f"duplicates={self.n_duplicates}, removed={self.n_removed})"
        )


def manifest_indices(path: str | os.PathLike[str], epoch: int = 0, *,
                     shuffle: bool = False) -> np.ndarray:
    """Flat row indices of a saved manifest for ``epoch`` (each repeated per multiplicity).

    Parameters
    ----------
    path : str or path-like
        A manifest written by :meth:`BalancePlan.save` or ``curate resample``.
    epoch : int, default=0
        Epoch to draw.
    shuffle : bool, default=False
        Permute the indices (seeded by the plan's seed and ``epoch``).

    Returns
    -------
    ndarray of int64

    Examples
    --------
    >>> import curate, tempfile, os
    >>> t = curate.LabelTable.from_labels([["a"], ["b"]])
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = BalancePlan.from_multiplicity(t, [0, 2]).save(os.path.join(d, "m.parquet"))
    ...     manifest_indices(path).tolist()
    [1, 1]
    """
    return BalancePlan.load(path).indices(epoch, shuffle=shuffle)
