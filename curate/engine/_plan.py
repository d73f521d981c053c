"""``GroupPlan``: the balancer's plan on signature totals (no per-row array), and its draws.

:func:`fit_plan` solves :class:`~curate.InterClassBalancer` on the distinct label vectors of
a :class:`~curate.engine.LabelPass` (vectors, sizes, in first-occurrence order: the group
order of the single-machine path), through the balancer's own Problem building, solve and
rounding; the group totals are byte-identical to ``InterClassBalancer(...).fit(table)`` on
the same rows. A row's copies in an epoch are a function of the plan, the epoch, its group
and its *member rank* (its position among all rows of its group, in row order):
:meth:`GroupPlan.draw_rows` equals ``BalancePlan.draw(epoch)`` on those rows.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from curate._validation import check_epoch
from curate.balance import _draw
from curate.balance._plan import PlanStatus
from curate.engine._labels import LabelPass
from curate.exceptions import CurateTypeError, CurateValueError

__all__ = ["GroupPlan", "fit_plan"]


@dataclass(frozen=True, eq=False)
class GroupPlan:
    """A systematic plan over signature groups: everything a worker needs to draw its rows.

    Its size is the number of distinct label vectors, not of rows.

    Attributes
    ----------
    classes : list of str
        Class names (LabelTable order).
    vectors : scipy.sparse.csr_matrix of shape (n_groups, n_classes)
        Label vector of each group (instance counts, or presence with ``count="samples"``).
    sizes : ndarray of int64
        Rows per group.
    first_row : ndarray of int64
        Global index of each group's first row (groups are ordered by it).
    group_total : ndarray of float64
        Expected copies per group and epoch (equal to the single-machine plan's).
    count : {"instances", "samples"}
        What class totals count.
    seed : int
        Seeds the draws.
    window : int or None
        Coverage window ``W`` (``None``: a permanent plan, whole totals).
    balanced_classes : list of str
        Classes the plan balances.
    status, message, objective, lower_bound, gap, solve_seconds, options, details
        As on :class:`~curate.balance.BalancePlan`.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> gp = GroupPlan(["a", "b"], sp.csr_matrix([[1, 0], [0, 1]]), np.array([3, 1]),
    ...                np.array([0, 2]), np.array([2.0, 2.0]), "instances", 0, 2, ["a", "b"])
    >>> gp.n_rows, gp.epoch_size, gp.group_totals(0).tolist()
    (4, 4, [2, 2])
    """

    classes: list[str]
    vectors: sp.csr_matrix
    sizes: np.ndarray
    first_row: np.ndarray
    group_total: np.ndarray
    count: str
    seed: int
    window: int | None
    balanced_classes: list[str]
    status: PlanStatus = PlanStatus.OPTIMAL
    message: str = ""
    objective: float | None = None
    lower_bound: float | None = None
    gap: float | None = None
    solve_seconds: float | None = None
    options: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        m = sp.csr_matrix(self.vectors, dtype=np.int64)
        m.sort_indices()
        sizes = np.asarray(self.sizes, dtype=np.int64)
        first = np.asarray(self.first_row, dtype=np.int64)
        total = np.asarray(self.group_total, dtype=np.float64)
        n = len(sizes)
        if m.shape != (n, len(self.classes)) or first.shape != (n,) or total.shape != (n,):
            raise CurateValueError(
                f"vectors {m.shape}, first_row {first.shape} and group_total {total.shape} "
                f"must describe the same {n} groups over {len(self.classes)} classes"
            )
        if (sizes < 1).any() or not np.all(np.isfinite(total)) or (total < 0).any():
            raise CurateValueError("group sizes must be >= 1 and group totals finite, >= 0")
        for arr in (sizes, first, total):
            arr.flags.writeable = False
        object.__setattr__(self, "vectors", m)
        object.__setattr__(self, "sizes", sizes)
        object.__setattr__(self, "first_row", first)
        object.__setattr__(self, "group_total", total)

    @property
    def n_groups(self) -> int:
        """Number of groups (distinct label vectors)."""
        return len(self.sizes)

    @property
    def n_rows(self) -> int:
        """Rows of the dataset."""
        return int(self.sizes.sum())

    @property
    def epoch_size(self) -> int:
        """Copies per epoch (the same every epoch)."""
        return int(self.group_totals(0).sum())

    @cached_property
    def _systematic(self) -> _draw.Systematic:
        presence = self.vectors.copy()
        presence.data[:] = 1
        class_sizes = np.asarray(self.vectors.T @ self.sizes, dtype=np.float64).ravel()
        pos = {c: i for i, c in enumerate(self.classes)}
        balanced = np.array([pos[c] for c in self.balanced_classes], dtype=np.int64)
        keys, score = _draw.group_layout(presence, self.vectors, class_sizes, balanced)
        return _draw.Systematic(np.zeros(0, dtype=np.int64), self.group_total, keys,
                                self.window, int(self.seed), score, sizes=self.sizes)

    def group_totals(self, epoch: int = 0) -> np.ndarray:
        """Whole copies of every group in ``epoch``.

        Parameters
        ----------
        epoch : int, default=0
            Non-negative epoch.

        Returns
        -------
        ndarray of int64

        Examples
        --------
        >>> import numpy as np, scipy.sparse as sp
        >>> gp = GroupPlan(["a"], sp.csr_matrix([[1]]), np.array([4]), np.array([0]),
        ...                np.array([2.5]), "instances", 0, 2, ["a"])
        >>> [int(gp.group_totals(e)[0]) for e in range(4)]
        [2, 3, 2, 3]
        """
        return self._systematic.group_totals(check_epoch(epoch, "GroupPlan.group_totals"))

    def epoch_state(self, epoch: int = 0) -> _draw.EpochState:
        """The per-group arrays that decide every row's copies in ``epoch`` (ship these).

        Parameters
        ----------
        epoch : int, default=0
            Non-negative epoch.

        Returns
        -------
        EpochState

        Examples
        --------
        >>> import numpy as np, scipy.sparse as sp
        >>> gp = GroupPlan(["a"], sp.csr_matrix([[1]]), np.array([4]), np.array([0]),
        ...                np.array([2.0]), "instances", 0, 2, ["a"])
        >>> int(gp.epoch_state(0).draw(np.zeros(4, int), np.arange(4)).sum())
        2
        """
        return self._systematic.epoch_state(check_epoch(epoch, "GroupPlan.epoch_state"))

    def draw_rows(self, epoch: int, group: Any, rank: Any) -> np.ndarray:
        """Whole copies in ``epoch`` of rows given by their group and member rank.

        Parameters
        ----------
        epoch : int
            Non-negative epoch.
        group, rank : array-like of int
            Group id and member rank (position among all rows of the group, in row order)
            of every row.

        Returns
        -------
        ndarray of int64

        Examples
        --------
        >>> import numpy as np, scipy.sparse as sp
        >>> gp = GroupPlan(["a", "b"], sp.csr_matrix([[1, 0], [0, 1]]), np.array([3, 1]),
        ...                np.array([0, 2]), np.array([2.0, 2.0]), "instances", 0, 2, ["a", "b"])
        >>> gp.draw_rows(0, [0, 0, 1, 0], [0, 1, 0, 2]).tolist()
        [1, 1, 2, 0]
        """
        g = np.asarray(group, dtype=np.int64)
        r = np.asarray(rank, dtype=np.int64)
        if g.shape != r.shape:
            raise CurateValueError(f"group {g.shape} and rank {r.shape} must have one shape")
        if g.size and (g.min() < 0 or g.max() >= self.n_groups or r.min() < 0
                       or (r >= self.sizes[g]).any()):
            raise CurateValueError(
                f"group ids must lie in [0, {self.n_groups}) and ranks in [0, group size); "
                "take them from this plan's manifest"
            )
        return self.epoch_state(epoch).draw(g, r)

    def class_totals(self, epoch: int = 0) -> pd.Series:
        """Class totals of ``epoch`` (``vectorsᵀ · group_totals(epoch)``).

        Parameters
        ----------
        epoch : int, default=0
            Non-negative epoch.

        Returns
        -------
        pandas.Series

        Examples
        --------
        >>> import numpy as np, scipy.sparse as sp
        >>> gp = GroupPlan(["a", "b"], sp.csr_matrix([[1, 0], [0, 1]]), np.array([3, 1]),
        ...                np.array([0, 2]), np.array([2.0, 2.0]), "instances", 0, 2, ["a", "b"])
        >>> gp.class_totals(0).to_dict()
        {'a': 2, 'b': 2}
        """
        values = np.asarray(self.vectors.T @ self.group_totals(epoch), dtype=np.int64).ravel()
        return pd.Series(values, index=pd.Index(self.classes, name="class"), name="after")

    @cached_property
    def digest(self) -> str:
        """SHA-256 of everything that decides the draws (classes, vectors, sizes, first rows,
        totals, count, seed, window).

        Examples
        --------
        >>> import numpy as np, scipy.sparse as sp
        >>> gp = GroupPlan(["a"], sp.csr_matrix([[1]]), np.array([4]), np.array([0]),
        ...                np.array([2.0]), "instances", 0, 2, ["a"])
        >>> len(gp.digest)
        64
        """
        h = hashlib.sha256()
        h.update(json.dumps([list(self.classes), self.count, int(self.seed), "systematic",
                             self.window, list(self.balanced_classes)]).encode())
        m = self.vectors
        for arr in (m.indptr, m.indices, m.data, self.sizes, self.first_row):
            h.update(np.ascontiguousarray(arr, dtype=np.int64).tobytes())
        h.update(np.ascontiguousarray(self.group_total, dtype=np.float64).tobytes())
        return h.hexdigest()

    def __repr__(self) -> str:
        return (f"GroupPlan(n_groups={self.n_groups}, n_rows={self.n_rows}, "
                f"epoch_size={self.epoch_size}, status={self.status.value!r})")


def fit_plan(label_pass: LabelPass, balancer: Any = None, *,
             background: str | None = None) -> GroupPlan:
    """Solve ``balancer`` on the signature totals of a label pass.

    The balancer builds the same Problem from ``(vectors, sizes)`` as from a whole
    :class:`~curate.LabelTable`, so the plan's group totals are byte-identical to
    ``balancer.fit(table).group_total`` on the same rows, and its draws to ``draw(epoch)``.

    Parameters
    ----------
    label_pass : LabelPass
        From :func:`curate.engine.label_pass` (its ``count`` must equal the balancer's).
    balancer : InterClassBalancer, default=None
        ``None``: ``InterClassBalancer()`` with ``count=label_pass.count``.
    background : str, default=None
        The background class, as a :class:`~curate.LabelTable` would carry it (a parquet
        column has none; ``curate.io.read_table`` sets ``"O"`` for token tags): pass
        ``background="O"`` to match the table of a tag column. The balancer's
        ``background_class`` wins when set.

    Returns
    -------
    GroupPlan

    Examples
    --------
    >>> import os, tempfile
    >>> import pyarrow as pa, pyarrow.parquet as pq
    >>> from curate.engine import label_pass
    >>> p = os.path.join(tempfile.mkdtemp(), "l.parquet")
    >>> pq.write_table(pa.table({"y": ["a"] * 6 + ["b"] * 2}), p)
    >>> gp = fit_plan(label_pass(p, column="y", engine="local"))
    >>> gp.class_totals(0).to_dict(), gp.epoch_size
    ({'a': 4, 'b': 4}, 8)
    """
    from curate.balance import InterClassBalancer

    if not isinstance(label_pass, LabelPass):
        raise CurateTypeError(
            f"label_pass must be a curate.engine.LabelPass; got {type(label_pass).__name__}. "
            "Make one with curate.engine.label_pass"
        )
    if balancer is None:
        balancer = InterClassBalancer(count=label_pass.count)
    if not isinstance(balancer, InterClassBalancer):
        raise CurateTypeError(
            f"balancer must be an InterClassBalancer; got {type(balancer).__name__} (the "
            "baselines draw per sample and need a LabelTable)"
        )
    fields, sigs = balancer._fit_groups(label_pass.vectors, label_pass.sizes,
                                        list(label_pass.classes), label_pass.count,
                                        background)
    return GroupPlan(
        list(label_pass.classes), sigs.vectors, sigs.sizes, label_pass.first_row,
        fields["group_total"], fields["count"], fields["seed"], fields["window"],
        list(fields["details"]["balanced_classes"]), status=fields["status"],
        message=fields["message"], objective=fields["objective"],
        lower_bound=fields["lower_bound"], gap=fields["gap"],
        solve_seconds=fields["solve_seconds"], options=fields["options"],
        details=fields["details"],
    )
