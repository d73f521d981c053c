"""``BalancePlan``: expected copies of every sample per epoch, and their whole per-epoch draws.

One plan type serves every resampler (the balancer, the repeat-factor and quota baselines,
``oversample_rare``). A plan stores samples in *groups* with the expected copies per group
and epoch (``group_total``); the balancer groups samples with identical label vectors (they
are interchangeable), baselines put every sample in its own group. :meth:`BalancePlan.draw`
turns the expectations into whole copies per epoch with one of the rounding rules of
:mod:`curate.balance._draw` (systematic with a coverage window for the balancer, Bernoulli or
multinomial for the baselines). Epoch 0 is the offline result:
``plan.multiplicity == plan.draw(0)``. Saving and loading live in
:mod:`curate.balance._persist`.
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

from curate._format import jsonable
from curate._validation import StrEnum, check_epoch, check_int
from curate.balance import _draw
from curate.exceptions import CurateValueError
from curate.labels import LabelTable

__all__ = ["BalancePlan", "PlanStatus", "label_checksum"]

_ROUNDINGS = ("systematic", "bernoulli", "multinomial")
#: Most coverage epochs a plan may ask for (fixed-point totals must fit in int64).
MAX_WINDOW = 1000


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


class PlanStatus(StrEnum):
    """How a plan was obtained.

    Examples
    --------
    >>> PlanStatus("optimal") is PlanStatus.OPTIMAL, PlanStatus.TIME_LIMIT.value
    (True, 'time_limit')
    """

    OPTIMAL = "optimal"  # optimal within mip_gap (expected plans: the LP optimum)
    FEASIBLE = "feasible"  # feasible with a certified gap above mip_gap (rounded integral plans)
    HEURISTIC = "heuristic"  # a rule-based plan (baselines); no optimality claim
    TIME_LIMIT = "time_limit"  # stopped by time_limit: the best plan so far; depends on load


@dataclass(frozen=True, eq=False)
class BalancePlan:
    """Expected copies of every sample per epoch and their whole per-epoch draws.

    Build plans with :class:`curate.InterClassBalancer`, the baselines in
    :mod:`curate.balance.baselines` or :meth:`from_multiplicity`; the constructor is for
    those builders.

    Parameters
    ----------
    table : LabelTable
        The labels the plan resamples.
    group : ndarray of shape (n_samples,)
        Group id (``0 .. n_groups - 1``) of every sample; members of a group are
        interchangeable and share the group's copies. Kept read-only, as int32 while the
        ids fit (int64 from 2^31 groups on).
    group_total : ndarray of shape (n_groups,)
        Expected copies of the group per epoch.
    count : {"instances", "samples"}, default="instances"
        Whether class totals count instances or samples holding the class.
    seed : int, default=0
        Seeds the per-epoch draws and shuffles.
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
    rounding : {"bernoulli", "systematic", "multinomial"}, default="bernoulli"
        How expected copies become whole copies per epoch (:mod:`curate.balance._draw`).
    window : int or None, default=None
        The coverage window ``W`` of a systematic plan (``None``: its totals are whole and
        every epoch draws the same copies).

    Examples
    --------
    >>> import curate
    >>> t = curate.LabelTable.from_labels([["a"], ["a"], ["a"], ["b"]])
    >>> plan = BalancePlan.from_multiplicity(t, [1, 0, 0, 1], group=[0, 0, 0, 1])
    >>> plan.counts_after.tolist()
    [1, 1]
    >>> [plan.draw(e).tolist() for e in range(3)]
    [[1, 0, 0, 1], [0, 1, 0, 1], [0, 0, 1, 1]]
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
    rounding: str = "bernoulli"
    window: int | None = None

    def __post_init__(self) -> None:
        group = np.asarray(self.group)
        if group.dtype.kind not in "iu":
            group = group.astype(np.int64)
        total = np.asarray(self.group_total, dtype=np.float64)
        n = self.table.n_samples
        if group.shape != (n,):
            raise CurateValueError(f"group must have shape ({n},); got {group.shape}")
        if n and (group.min() < 0 or group.max() >= len(total)):
            raise CurateValueError("group ids must lie in [0, len(group_total))")
        # int32 while the group ids fit: at 10^8 samples, 400 MB less in every process
        group = group.astype(np.int32 if len(total) < 2**31 else np.int64, copy=False)
        if not np.all(np.isfinite(total)) or (total < 0).any():
            raise CurateValueError("group_total must be finite and >= 0")
        if self.count not in ("instances", "samples"):
            raise CurateValueError(f"count must be 'instances' or 'samples'; got {self.count!r}")
        if self.rounding not in _ROUNDINGS:
            raise CurateValueError(
                f"rounding must be one of {list(_ROUNDINGS)}; got {self.rounding!r}")
        if self.window is not None and not (1 <= int(self.window) <= MAX_WINDOW):
            raise CurateValueError(f"window must lie in [1, {MAX_WINDOW}]; got {self.window!r}")
        if self.rounding == "multinomial" and n and np.bincount(group).max() > 1:
            raise CurateValueError("rounding='multinomial' needs one sample per group")
        group.flags.writeable = False
        total.flags.writeable = False
        object.__setattr__(self, "group", group)
        object.__setattr__(self, "group_total", total)

    # ------------------------------------------------------------------ builders
    @classmethod
    def from_multiplicity(
        cls, table: LabelTable, multiplicity: Any, *, group: Any = None,
        rounding: str = "bernoulli", **kwargs: Any
    ) -> BalancePlan:
        """Make a plan from per-sample expected copies.

        Parameters
        ----------
        table : LabelTable
            The labels the plan resamples.
        multiplicity : array-like of shape (n_samples,)
            Non-negative (expected) copies of every sample.
        group : array-like of shape (n_samples,), default=None
            Group label of every sample (any hashable values); ``None``: one group per sample.
            A group's total is spread over its members, rotating from epoch to epoch.
        rounding : {"bernoulli", "multinomial", "systematic"}, default="bernoulli"
            ``"bernoulli"``: each epoch ``floor(x)`` plus a Bernoulli(``frac(x)``) copy
            (detectron2's repeat-factor sampler). ``"multinomial"``: each epoch
            ``round(Σ x)`` draws with replacement with probabilities ``x / Σ x``
            (``WeightedRandomSampler``; one sample per group). ``"systematic"``: the
            balancer's dependent rounding (pass ``window`` for its coverage guarantee).
        **kwargs
            Passed to the constructor (``count``, ``seed``, ``method``, ``status``,
            ``window``, ...).

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
        return cls(table, g, totals, rounding=rounding, **kwargs)

    # ------------------------------------------------------------------ derived
    @cached_property
    def group_sizes(self) -> np.ndarray:
        """Members per group."""
        return np.bincount(self.group, minlength=len(self.group_total)).astype(np.int64)

    @cached_property
    def expected(self) -> np.ndarray:
        """Expected copies of every sample per epoch (its group's total over its members)."""
        x = (self.group_total / np.maximum(self.group_sizes, 1))[self.group]
        x.flags.writeable = False
        return x

    @cached_property
    def _systematic(self) -> _draw.Systematic:
        first = self.table.select(self._first_members())  # one row per group, not all rows
        presence = first.presence()
        keys, score = _draw.group_layout(presence,
                                         first.matrix if self.count == "instances" else presence,
                                         self._class_sizes(), self._balanced_columns)
        return _draw.Systematic(self.group, self.group_total, keys,
                                None if self.window is None else int(self.window), self.seed,
                                score)

    @cached_property
    def _rank(self) -> np.ndarray:
        return _draw.member_rank(self.group, len(self.group_total))

    def _first_members(self) -> np.ndarray:
        first = np.zeros(len(self.group_total), dtype=np.int64)
        first[self.group[::-1]] = np.arange(len(self.group) - 1, -1, -1)
        return first

    def _class_sizes(self) -> np.ndarray:
        sizes = self.table.counts if self.count == "instances" else self.table.support
        return sizes.to_numpy(dtype=np.float64)

    def draw(self, epoch: int = 0) -> np.ndarray:
        """Whole copies of every sample in ``epoch`` (epoch 0 = :attr:`multiplicity`).

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
        epoch = check_epoch(epoch, "BalancePlan.draw")
        if self.rounding == "systematic":
            return self._systematic.draw(epoch)
        if self.rounding == "multinomial":
            return _draw.multinomial_draw(self.expected, self.seed, epoch)
        return _draw.bernoulli_draw(self.group, self.group_total, self.seed, epoch,
                                    self._rank, self.group_sizes)

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
            Copies per sample; ``None`` uses :attr:`multiplicity`. Fractional copies (such
            as :attr:`expected`) give fractional totals.

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
        values = np.asarray(self._count_matrix().T @ x).ravel()
        if np.issubdtype(values.dtype, np.integer) or np.all(values == np.round(values)):
            values = np.round(values).astype(np.int64)
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
    def expected_totals(self) -> pd.Series:
        """Expected class totals per epoch (``Aᵀ`` :attr:`expected`)."""
        return self.class_totals(self.expected).rename("expected")

    @cached_property
    def balanced_classes(self) -> list[str]:
        """Classes the plan balances: those with labels, background excluded."""
        named = self.details.get("balanced_classes")
        if named is not None:
            return list(named)
        before = self.counts_before
        return [c for c, v in before.items() if v > 0 and c != self.table.background]

    @cached_property
    def _balanced_columns(self) -> np.ndarray:
        """Column positions of :attr:`balanced_classes` in the table."""
        pos = {c: i for i, c in enumerate(self.table.classes)}
        return np.array([pos[c] for c in self.balanced_classes], dtype=np.int64)

    def cv(self, multiplicity: Any = None) -> float:
        """Coefficient of variation (std / mean) of the balanced classes' totals.

        Parameters
        ----------
        multiplicity : array-like of shape (n_samples,), default=None
            Copies per sample; ``None`` uses :attr:`expected` (the plan's own balance).

        Returns
        -------
        float

        Examples
        --------
        >>> import curate
        >>> t = curate.LabelTable.from_labels([["a"], ["a"], ["a"], ["b"]])
        >>> plan = BalancePlan.from_multiplicity(t, [0.5, 0.5, 0.5, 1.5])
        >>> plan.cv(), round(plan.cv([1, 1, 1, 1]), 3)
        (0.0, 0.5)
        """
        x = self.expected if multiplicity is None else np.asarray(multiplicity)
        all_totals = np.asarray(self._count_matrix().T @ x, dtype=np.float64).ravel()
        totals = all_totals[self._balanced_columns]
        mean = totals.mean() if totals.size else 0.0
        return float(totals.std() / mean) if mean > 0 else 0.0

    def epoch_stats(self, n_epochs: int = 10) -> pd.DataFrame:
        """Balance and coverage of the first ``n_epochs`` draws.

        Parameters
        ----------
        n_epochs : int, default=10
            Epochs to draw.

        Returns
        -------
        pandas.DataFrame
            One row per epoch: ``epoch``, ``epoch_size``, ``cv`` (of the balanced classes'
            totals in that epoch), ``seen`` (share of samples drawn in that epoch) and
            ``seen_so_far`` (share drawn at least once in epochs ``0 .. epoch``).

        Examples
        --------
        >>> import curate
        >>> t = curate.LabelTable.from_labels([["a"]] * 4 + [["b"]])
        >>> plan = BalancePlan.from_multiplicity(t, [0.5] * 4 + [2], group=[0] * 4 + [1])
        >>> plan.epoch_stats(2)[["epoch", "cv", "seen_so_far"]].values.tolist()
        [[0.0, 0.0, 0.6], [1.0, 0.0, 1.0]]
        """
        n_epochs = check_int("n_epochs", n_epochs, "BalancePlan.epoch_stats", low=1) or 1
        seen = np.zeros(self.n_samples, dtype=bool)
        rows = []
        for e in range(int(n_epochs)):
            x = self.draw(e)
            seen |= x > 0
            rows.append({"epoch": e, "epoch_size": int(x.sum()), "cv": self.cv(x),
                         "seen": float((x > 0).mean()) if x.size else 1.0,
                         "seen_so_far": float(seen.mean()) if seen.size else 1.0})
        return pd.DataFrame(rows)

    @property
    def success(self) -> bool:
        """Whether the plan was solved to the end (not stopped by ``time_limit``)."""
        return self.status is not PlanStatus.TIME_LIMIT

    @property
    def n_samples(self) -> int:
        """Number of samples in the underlying table."""
        return self.table.n_samples

    @property
    def epoch_size(self) -> int:
        """Indices in the epoch-0 draw (``multiplicity.sum()``)."""
        return int(self.multiplicity.sum())

    @property
    def constant_epoch_size(self) -> bool:
        """Whether every epoch draws ``epoch_size`` indices.

        True for systematic plans (the balancer's: their expected totals sum to a whole
        number) and for plans whose expected totals are all whole; False where per-epoch
        random rounding lets the size vary (``repeat_factor``'s stochastic rounding,
        fractional ``oversample_rare``). Trainers that fix the steps per epoch at the first
        epoch need it.

        Returns
        -------
        bool

        Examples
        --------
        >>> import curate
        >>> t = curate.LabelTable.from_labels([["a"], ["a"], ["b"]])
        >>> curate.InterClassBalancer().fit(t).constant_epoch_size
        True
        """
        totals = np.asarray(self.group_total, dtype=np.float64)
        if self.rounding == "systematic":
            return bool(abs(totals.sum() - round(totals.sum())) < 1e-6)
        return bool(np.all(totals == np.round(totals)))

    @property
    def n_duplicates(self) -> int:
        """Extra copies in the epoch-0 draw: ``Σ max(x_i - 1, 0)``."""
        return int(np.maximum(self.multiplicity - 1, 0).sum())

    @property
    def n_removed(self) -> int:
        """Samples that sit out the epoch-0 draw: ``#{i : x_i = 0}``."""
        return int((self.multiplicity == 0).sum())

    @property
    def coverage_epochs(self) -> float:
        """Epochs within which every sample is drawn at least once (``inf``: not guaranteed).

        Systematic plans guarantee their ``window`` when every sample expects at least
        ``1 / window`` copies; Bernoulli plans guarantee it only for whole group totals
        (``ceil(n_g / T_g)``); multinomial plans guarantee nothing.

        Examples
        --------
        >>> import curate
        >>> t = curate.LabelTable.from_labels([["a"]] * 5)
        >>> BalancePlan.from_multiplicity(t, [1, 1, 0, 0, 0], group=[0] * 5).coverage_epochs
        3
        """
        sizes, total = self.group_sizes, self.group_total
        held = sizes > 0
        if self.rounding == "multinomial" and held.any():
            return math.inf
        if not held.any() or (total[held] >= sizes[held] - 1e-9).all():
            return 1
        if self.rounding == "systematic":
            w = self.window
            if w is None or (total[held] * w < sizes[held] - 1e-6).any():
                return math.inf
            return int(w)
        if (held & (total <= 0)).any() or not np.all(total == np.round(total)):
            return math.inf
        partial = held & (total < sizes)
        return int(np.ceil((sizes[partial] / total[partial]).max() - 1e-9))

    @cached_property
    def digest(self) -> str:
        """SHA-256 of everything that decides the draws: labels, groups, totals, rounding, seed.

        Two processes (DDP ranks, a resumed run) with the same digest draw identical epochs.

        Examples
        --------
        >>> import curate
        >>> t = curate.LabelTable.from_labels([["a"], ["b"]])
        >>> a = BalancePlan.from_multiplicity(t, [2, 1])
        >>> a.digest == BalancePlan.from_multiplicity(t, [2, 1]).digest
        True
        >>> a.digest == BalancePlan.from_multiplicity(t, [1, 2]).digest
        False
        """
        h = hashlib.sha256()
        h.update(label_checksum(self.table).encode())
        h.update(json.dumps([self.count, int(self.seed), self.rounding, self.window]).encode())
        h.update(np.ascontiguousarray(self.group, dtype=np.int64).tobytes())
        h.update(np.ascontiguousarray(self.group_total, dtype=np.float64).tobytes())
        return h.hexdigest()

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
        coverage = self.coverage_epochs
        return jsonable({
            "method": self.method, "status": self.status.value, "message": self.message,
            "count": self.count, "seed": self.seed, "rounding": self.rounding,
            "objective": self.objective, "lower_bound": self.lower_bound, "gap": self.gap,
            "solve_seconds": self.solve_seconds, "n_samples": self.n_samples,
            "epoch_size": self.epoch_size, "n_duplicates": self.n_duplicates,
            "n_removed": self.n_removed,
            "coverage_epochs": None if math.isinf(coverage) else int(coverage),
            "expected_cv": self.cv(),
            "counts_before": {k: int(v) for k, v in self.counts_before.items()},
            "counts_after": {k: int(v) for k, v in self.counts_after.items()},
            "expected_totals": {k: float(v) for k, v in self.expected_totals.items()},
            "digest": self.digest,
            "options": self.options, "details": self.details,
        })

    def summary(self, max_classes: int = 40, n_epochs: int = 5) -> str:
        """A readable before/after table per class, then sizes, balance per epoch and results.

        Parameters
        ----------
        max_classes : int, default=40
            With more classes, only the ``max_classes // 2`` largest and smallest (by
            original total) are listed.
        n_epochs : int, default=5
            Epochs whose balance (CV of the balanced classes' totals) and coverage are listed.

        Returns
        -------
        str

        Examples
        --------
        >>> import curate
        >>> t = curate.LabelTable.from_labels([["a"], ["a"], ["b"]])
        >>> print(BalancePlan.from_multiplicity(t, [1, 0, 2]).summary(n_epochs=2))
        class  before  after  change
        a           2      1  -50.0%
        b           1      2 +100.0%
        <BLANKLINE>
        samples 3 -> epoch size 3 (1 duplicates, 1 sitting out in epoch 0)
        coverage: not guaranteed (some samples are never drawn)
        CV of class totals: before 0.333, expected 0.333; epochs 0-1: 0.333 0.333
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
                      f"({self.n_duplicates} duplicates, {self.n_removed} sitting out in epoch 0)"]
        coverage = self.coverage_epochs
        if math.isinf(coverage):
            lines.append("coverage: not guaranteed (some samples are never drawn)")
        else:
            lines.append(f"coverage: every sample is drawn at least once in every {coverage} "
                         "consecutive epochs")
        stats = self.epoch_stats(n_epochs)
        per_epoch = " ".join(f"{v:.3f}" for v in stats["cv"])
        lines.append(f"CV of class totals: before {self.cv(np.ones(self.n_samples)):.3f}, "
                     f"expected {self.cv():.3f}; epochs 0-{n_epochs - 1}: {per_epoch}")
        lines.append(f"method {self.method}, status {self.status.value}")
        if self.objective is not None:
            bound = "n/a" if self.lower_bound is None else f"{self.lower_bound:.6g}"
            gap = "n/a" if self.gap is None else f"{self.gap:.3%}"
            lines.append(f"objective {self.objective:.6g}, lower bound {bound}, gap {gap}")
        if self.solve_seconds is not None:
            lines.append(f"solve time {self.solve_seconds:.2f} s")
        if self.message:
            lines.append(self.message)
        return "\n".join(lines)

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

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the plan as one parquet file (manifest columns + metadata), atomically.

        The file holds ``sample_id``, ``index``, ``multiplicity`` (epoch 0), the plan's
        ``group`` and ``group_total``, the labels and, in its key-value metadata, the options,
        counts, objective, bound, gap, status and checksums; :meth:`load` verifies them.

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
        from curate.balance._persist import save_plan

        return save_plan(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike[str], table: LabelTable | None = None) -> BalancePlan:
        """Rebuild and verify a plan written by :meth:`save`; it redraws every epoch identically.

        Parameters
        ----------
        path : str or path-like
            The manifest parquet.
        table : LabelTable, default=None
            The original labels. ``None`` rebuilds them from the manifest. When given, its
            label matrix must match the stored checksum and, when both name their samples,
            its ``sample_ids`` must be the stored ones in the same order.

        Returns
        -------
        BalancePlan

        Raises
        ------
        ValueError
            When the file is not a curate plan, or any stored array or field disagrees with
            its checksum (a damaged or edited file).

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
        from curate.balance._persist import load_plan

        return load_plan(cls, path, table)

    def __repr__(self) -> str:
        return (
            f"BalancePlan(method={self.method!r}, status={self.status.value!r}, "
            f"n_samples={self.n_samples}, epoch_size={self.epoch_size}, "
            f"duplicates={self.n_duplicates}, removed={self.n_removed})"
        )
