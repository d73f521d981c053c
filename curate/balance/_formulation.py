"""The balancer's linear model: signatures, sparse matrices and the objective as a pure function.

Samples with identical label vectors ("signatures") are interchangeable, so the model has one
pair of integer variables per group ``g`` of ``n_g`` identical samples with class vector
``a_g``: ``r_g`` removed members and ``d_g`` extra copies, so the group appears
``y_g = n_g - r_g + d_g`` times. With ``B`` the balanced classes (non-background classes that
occur), ``K = |B|``, ``c⁰_k`` their original totals, ``S = Σ_{k∈B} c⁰_k``, ``t⁰ = S / K`` the
original mean class total and ``N`` the number of samples::

    minimise   (1/K) Σ_{k∈B} f((c_k - t) / t⁰)  +  duplicate_cost · Σ_g d_g / N
                                                +  removal_cost  · Σ_g r_g / N
    subject to c_k = c⁰_k + Σ_g a_gk (d_g - r_g)        k ∈ B   (class totals)
               c_k - t = Σ_s p_ks - Σ_s m_ks             k ∈ B   (deviation, in segments)
               K · t = Σ_{k∈B} c_k                              (t = mean class total)
               size_lo ≤ N + Σ_g (d_g - r_g) ≤ size_hi          (target_size)
               Σ_g d_g ≤ max_duplicates,  Σ_g r_g ≤ max_removals
               c_k ≥ min_class_fraction · c⁰_k
               0 ≤ r_g ≤ R_g,  0 ≤ d_g ≤ D_g,  0 ≤ p_ks, m_ks ≤ t⁰ (b_{s+1} - b_s),  t ≥ 0

The deviation penalty ``f`` is convex and piecewise linear::

    f(u) = |u| + curvature · q(|u|)

where ``q`` interpolates ``u²`` linearly between the breakpoints ``b_0 = 0 < b_1 < …``
(:data:`BREAKPOINTS`, in units of ``t⁰``: steps of 1/16 up to 1, 1/4 up to 4, 1 up to 16 and 4
up to 64; beyond the last one ``q`` continues with the slope of its last segment). Segment
``s`` (of ``p`` or ``m``) has the cost ``(1 + curvature · (b_s + b_{s+1})) / S`` per unit, so
the slopes increase and the LP fills the segments in order: ``Σ_s cost_s · p_ks`` is exactly
``f`` of the deviation, which makes the LP optimum a valid lower bound of the integer
objective (:func:`evaluate` computes the same ``f``). With ``curvature = 0`` this is the plain
L1 distance ``Σ_k |c_k - t| / S``; the quadratic part makes a deeper shortfall (or excess)
cost more per unit, so of two classes below the mean the rarer one is lifted first. Segment
columns that no feasible plan can reach (beyond a class's largest possible total, or a
shortfall beyond the largest possible mean) are left out of the model; that changes nothing.

The totals ``y_g`` are *expected* copies per epoch: ``r_g`` and ``d_g`` are continuous unless
the plan is a permanent subset. ``R_g = n_g (1 - 1/W)`` with ``W = coverage_epochs`` (every
member must keep at least ``1/W`` expected copies, so it is drawn once in every ``W``
consecutive epochs), ``R_g = n_g`` for a permanent subset and ``R_g = 0`` for groups that must be
kept (``minimize_duplicates``); ``D_g = 0`` for background-only and empty groups, otherwise
``D_g = n_g (max_repeats - 1)``.

``minimize_duplicates`` adds one continuous column ``s_k`` per rare class ``k`` and, for every
group ``g`` holding ``k``, the rows ``s_k - 1 ≤ d_g / n_g ≤ s_k``: the extra copies per member of
any two samples holding the same rare class differ by at most one, so no rare sample gets a
second extra copy before all its peers have a first one.

Variables are laid out as ``[r (G), d (G), c (K), t, p and m segments, s (rare classes)]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["BREAKPOINTS", "SHORTFALL_BREAKPOINTS", "LinearModel", "Problem", "Signatures",
           "evaluate", "penalty", "shortfall_breakpoints", "signatures"]

#: Breakpoints of the piecewise-linear ``u²`` part of the penalty for an excess (``u > 0``),
#: in units of the original mean class total ``t⁰`` (see the module docstring).
BREAKPOINTS = np.concatenate([
    np.arange(0.0, 1.0, 1 / 16), np.arange(1.0, 4.0, 0.25), np.arange(4.0, 16.0, 1.0),
    np.arange(16.0, 64.0, 4.0), [64.0],
])
#: Breakpoints for a shortfall (``u < 0``) with few classes: finer, so that the rarest
#: classes (a shortfall close to the mean) are told apart to ``t⁰ / 64``. See
#: :func:`shortfall_breakpoints` for the rule with more classes.
SHORTFALL_BREAKPOINTS = np.concatenate([
    np.arange(0.0, 2.0, 1 / 64), np.arange(2.0, 4.0, 0.25), np.arange(4.0, 16.0, 1.0),
    np.arange(16.0, 64.0, 4.0), [64.0],
])


def shortfall_breakpoints(n_classes: int) -> np.ndarray:
    """Shortfall breakpoints for ``n_classes`` balanced classes.

    Steps of ``1/64`` (up to 200 classes), ``1/32`` (up to 400) or ``1/16`` (more) on
    ``[0, 2)``, then as :data:`SHORTFALL_BREAKPOINTS`: the LP has ``K · 32 … 128`` shortfall
    columns on that stretch, which bounds its size at large ``K``.

    Examples
    --------
    >>> [float(shortfall_breakpoints(k)[1]) for k in (52, 365, 1000)]
    [0.015625, 0.03125, 0.0625]
    """
    per_unit = 64 if n_classes <= 200 else 32 if n_classes <= 400 else 16
    fine = np.arange(0.0, 2.0, 1 / per_unit)
    return np.concatenate([fine, SHORTFALL_BREAKPOINTS[SHORTFALL_BREAKPOINTS >= 2.0]])


#: Default weight of the quadratic part of the penalty.
CURVATURE = 1.0


def _segment_slopes(curvature: float, b: np.ndarray) -> np.ndarray:
    """Slope of ``f`` on each segment of breakpoints ``b`` (the last one is unbounded)."""
    chord = b[:-1] + b[1:]
    last = 2 * b[-1] + (b[-1] - b[-2])  # the last chord slope continued, still increasing
    return 1.0 + curvature * np.append(chord, last)


def _q(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``u²`` interpolated at breakpoints ``b`` (``a >= 0``), linear beyond the last one."""
    q = np.asarray(np.interp(a, b, b * b), dtype=np.float64)
    beyond = a > b[-1]
    if beyond.any():
        slope = _segment_slopes(1.0, b)[-1] - 1.0
        q[beyond] = b[-1] ** 2 + slope * (a[beyond] - b[-1])
    return q


def penalty(u: Any, curvature: float = CURVATURE,
            shortfall: np.ndarray = SHORTFALL_BREAKPOINTS) -> np.ndarray:
    """``f(u) = |u| + curvature · q(u)``, the convex piecewise-linear deviation penalty.

    ``q`` interpolates ``u²`` at :data:`BREAKPOINTS` for ``u > 0`` and at the ``shortfall``
    breakpoints (:func:`shortfall_breakpoints`) for ``u < 0``, so it equals ``u²`` at every
    breakpoint.

    Examples
    --------
    >>> penalty([0.0, 0.5, -1.0, 2.0], curvature=1.0).tolist()
    [0.0, 0.75, 2.0, 6.0]
    >>> penalty([0.5, -3.0], curvature=0.0).tolist()
    [0.5, 3.0]
    """
    u = np.asarray(u, dtype=np.float64)
    a = np.abs(u)
    if not curvature:
        return a
    neg = u < 0
    q = _q(a, BREAKPOINTS)
    if neg.any():
        q[neg] = _q(a[neg], shortfall)
    return a + curvature * q


_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(z: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser on a uint64 array (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        return z ^ (z >> np.uint64(31))


def _row_hashes(m: sp.csr_matrix, salt: int) -> np.ndarray:
    """An order-free 64-bit hash of every CSR row (wrapping sum of mixed (column, value) pairs).

    Computed in place on two buffers of ``nnz`` words (the splitmix64 finaliser of
    :func:`_mix`): at 10^7 rows fresh temporaries per step cost more than the arithmetic.
    """
    key = m.indices.astype(np.uint64)
    tmp = m.data.astype(np.uint64)
    with np.errstate(over="ignore"):
        np.multiply(key, np.uint64(0x9E3779B97F4A7C15), out=key)
        np.multiply(tmp, np.uint64(0xD1B54A32D192ED03), out=tmp)
        np.add(key, tmp, out=key)
        np.add(key, np.uint64(salt), out=key)
        for shift, mult in ((30, _M1), (27, _M2), (31, None)):
            np.right_shift(key, np.uint64(shift), out=tmp)
            np.bitwise_xor(key, tmp, out=key)
            if mult is not None:
                np.multiply(key, mult, out=key)
        out = np.zeros(m.shape[0], dtype=np.uint64)
        filled = np.diff(m.indptr) > 0
        if m.nnz:
            out[filled] = np.add.reduceat(key, m.indptr[:-1][filled])
    return out


@dataclass(frozen=True)
class Signatures:
    """Groups of identical rows: ``group[i]`` is the group of sample ``i``.

    ``vectors`` is the (n_groups, n_classes) CSR matrix of group label vectors and ``sizes``
    the members per group. Group ids follow the first occurrence of each signature.
    """

    group: np.ndarray
    vectors: sp.csr_matrix
    sizes: np.ndarray

    @property
    def n_groups(self) -> int:
        """Number of distinct label vectors."""
        return len(self.sizes)


def signatures(matrix: sp.csr_matrix) -> Signatures:
    """Group the rows of ``matrix`` by identical content.

    Two independent 64-bit row hashes are grouped with :func:`numpy.unique`; the grouping is
    then verified exactly, and on a hash collision the rows are grouped by their exact
    ``(column, value)`` content instead.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> m = sp.csr_matrix([[1, 0], [0, 2], [1, 0], [0, 0]])
    >>> s = signatures(m)
    >>> s.group.tolist(), s.sizes.tolist()
    ([0, 1, 0, 2], [2, 1, 1])
    """
    m = sp.csr_matrix(matrix)
    m.sum_duplicates()
    m.sort_indices()
    n = m.shape[0]
    if n == 0:
        return Signatures(np.zeros(0, np.int64), sp.csr_matrix((0, m.shape[1]), dtype=np.int64),
                          np.zeros(0, np.int64))
    # one 64-bit row hash groups the rows; the grouping is then checked exactly, and only
    # on a collision a second hash (then the exact content) decides
    keys = _row_hashes(m, 1)[:, None]
    group = _first_occurrence_ids(keys)
    first = _first_members(group)
    vectors = m[first]
    if not _same_rows(m, vectors, group):  # pragma: no cover - hash collision
        keys = np.column_stack([keys[:, 0], _row_hashes(m, 7)])
        group = _first_occurrence_ids(keys)
        first = _first_members(group)
        vectors = m[first]
        if not _same_rows(m, vectors, group):
            group = _exact_groups(m)
            first = _first_members(group)
            vectors = m[first]
    sizes = np.bincount(group).astype(np.int64)
    return Signatures(group, sp.csr_matrix(vectors, dtype=np.int64), sizes)


def _first_occurrence_ids(keys: np.ndarray) -> np.ndarray:
    """Group ids of the rows of ``keys`` (n, columns), numbered by first occurrence."""
    n = keys.shape[0]
    order = np.lexsort(keys.T[::-1]) if keys.shape[1] > 1 else np.argsort(keys[:, 0],
                                                                          kind="stable")
    ordered = keys[order]
    new = np.ones(n, dtype=bool)
    new[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
    first = order[new]  # a stable sort puts each group's first occurrence first
    relabel = np.empty(len(first), dtype=np.int64)
    relabel[np.argsort(first, kind="stable")] = np.arange(len(first))
    group = np.empty(n, dtype=np.int64)
    group[order] = relabel[np.cumsum(new) - 1]
    return group


def _same_rows(m: sp.csr_matrix, vectors: sp.csr_matrix, group: np.ndarray) -> bool:
    """Whether every row of ``m`` equals its group's row of ``vectors`` (both canonical CSR)."""
    nnz = np.diff(m.indptr)
    if not np.array_equal(nnz, np.diff(vectors.indptr)[group]):
        return False
    pos = np.arange(m.nnz, dtype=np.int64) + np.repeat(vectors.indptr[group] - m.indptr[:-1],
                                                         nnz)
    return bool(np.array_equal(m.indices, vectors.indices[pos])
                and np.array_equal(m.data, vectors.data[pos]))


def _first_members(group: np.ndarray) -> np.ndarray:
    first = np.full(int(group.max()) + 1, len(group), dtype=np.int64)
    np.minimum.at(first, group, np.arange(len(group), dtype=np.int64))
    return first


def _exact_groups(m: sp.csr_matrix) -> np.ndarray:  # pragma: no cover - collision fallback
    rows = [
        (tuple(m.indices[a:b].tolist()), tuple(m.data[a:b].tolist()))
        for a, b in zip(m.indptr[:-1], m.indptr[1:], strict=True)
    ]
    ids: dict[Any, int] = {}
    return np.array([ids.setdefault(r, len(ids)) for r in rows], dtype=np.int64)


@dataclass(frozen=True)
class Problem:
    """The balancing problem over groups, in canonical form (every option already resolved).

    Attributes
    ----------
    vectors : csr_matrix of shape (n_groups, n_balanced)
        Group class vectors restricted to the balanced classes ``B``.
    sizes : ndarray of shape (n_groups,)
        Members per group ``n_g``.
    r_max, d_max : ndarray of shape (n_groups,)
        Upper bounds of removed members and extra copies per group.
    floor : ndarray of shape (n_balanced,)
        Lower bound of each class total.
    size_lo, size_hi : int
        Bounds of the epoch size ``Σ y_g``.
    max_duplicates, max_removals : float
        Hard budgets (``inf`` when unbounded).
    duplicate_cost, removal_cost : float
        Cost per extra copy / removed sample, multiplied by ``1 / N``.
    curvature : float, default=CURVATURE
        Weight of the quadratic part of the deviation penalty (0 = plain L1).
    spread : csr_matrix of shape (n_groups, n_rare) or None, default=None
        Incidence of groups and rare classes whose copies must be spread
        (``minimize_duplicates``); ``None``: no spread rows.
    r_min : ndarray of shape (n_groups,) or None, default=None
        Lower bounds of removed members (``None``: 0).
    """

    vectors: sp.csr_matrix
    sizes: np.ndarray
    r_max: np.ndarray
    d_max: np.ndarray
    floor: np.ndarray
    size_lo: int
    size_hi: int
    max_duplicates: float
    max_removals: float
    duplicate_cost: float
    removal_cost: float
    curvature: float = CURVATURE
    spread: sp.csr_matrix | None = None
    r_min: np.ndarray | None = None

    @property
    def n_spread(self) -> int:
        """Number of rare classes with spread rows (0 without ``minimize_duplicates``)."""
        return 0 if self.spread is None else int(self.spread.shape[1])

    @property
    def n_groups(self) -> int:
        """Number of groups (integer variable pairs)."""
        return len(self.sizes)

    @property
    def n_balanced(self) -> int:
        """Number of balanced classes ``|B|``."""
        return int(self.vectors.shape[1])

    @property
    def n_samples(self) -> int:
        """``N``, the original number of samples."""
        return int(self.sizes.sum())

    @cached_property
    def original_totals(self) -> np.ndarray:
        """``c⁰``: class totals of the identity plan."""
        return np.asarray(self.vectors.T @ self.sizes, dtype=np.float64).ravel()

    @property
    def scale(self) -> float:
        """``S = Σ_k c⁰_k`` (at least 1), divides the balance term."""
        return float(max(self.original_totals.sum(), 1.0))

    @property
    def mean_total(self) -> float:
        """``t⁰ = S / K``, the unit of the penalty's breakpoints."""
        return self.scale / max(self.n_balanced, 1)

    def balance(self, c: np.ndarray) -> np.ndarray:
        """Balance term of class totals ``c`` (last axis = classes): ``Σ_k f(dev_k / t⁰) / K``."""
        c = np.asarray(c, dtype=np.float64)
        if c.shape[-1] == 0:
            return np.zeros(c.shape[:-1])
        dev = (c - c.mean(axis=-1, keepdims=True)) / self.mean_total
        return penalty(dev, self.curvature, self.shortfall).sum(axis=-1) / c.shape[-1]

    @cached_property
    def shortfall(self) -> np.ndarray:
        """Shortfall breakpoints for this many balanced classes."""
        return shortfall_breakpoints(self.n_balanced)

    @property
    def y_lo(self) -> np.ndarray:
        """Smallest allowed group total."""
        return self.sizes - self.r_max

    @property
    def y_hi(self) -> np.ndarray:
        """Largest allowed group total."""
        if self.r_min is None:
            return self.sizes + self.d_max
        return self.sizes - self.r_min + self.d_max


def evaluate(problem: Problem, y: Any) -> dict[str, float]:
    """Objective parts of the group totals ``y`` (a pure function; no feasibility check).

    Returns ``balance`` (``Σ_k f((c_k - t) / t⁰) / K``, see the module docstring),
    ``duplicates`` (``Σ max(y_g - n_g, 0)``),
    ``removals`` (``Σ max(n_g - y_g, 0)``) and ``objective``.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> p = Problem(sp.csr_matrix([[1, 0], [0, 1]]), np.array([3, 1]), np.array([3, 1]),
    ...             np.array([3, 1]), np.zeros(2), 4, 4, np.inf, np.inf, 1.0, 1.0)
    >>> evaluate(p, [2, 2])["balance"], evaluate(p, [2, 2])["objective"]
    (0.0, 0.5)
    """
    y = np.asarray(y, dtype=np.float64)
    c = problem.original_totals + np.asarray(
        problem.vectors.T @ (y - problem.sizes), dtype=np.float64
    ).ravel()
    balance = float(problem.balance(c))
    dup = float(np.maximum(y - problem.sizes, 0).sum())
    rem = float(np.maximum(problem.sizes - y, 0).sum())
    n = max(problem.n_samples, 1)
    objective = balance + problem.duplicate_cost * dup / n + problem.removal_cost * rem / n
    return {"objective": objective, "balance": balance, "duplicates": dup, "removals": rem}


def violation(problem: Problem, y: np.ndarray) -> float:
    """Total amount by which ``y`` breaks the constraints (0 when feasible)."""
    c = problem.original_totals + np.asarray(
        problem.vectors.T @ (y - problem.sizes), dtype=np.float64
    ).ravel()
    size = y.sum()
    dup = np.maximum(y - problem.sizes, 0).sum()
    rem = np.maximum(problem.sizes - y, 0).sum()
    return float(
        np.maximum(problem.floor - c, 0).sum()
        + max(problem.size_lo - size, 0) + max(size - problem.size_hi, 0)
        + max(dup - problem.max_duplicates, 0) + max(rem - problem.max_removals, 0)
        + np.maximum(problem.y_lo - y, 0).sum() + np.maximum(y - problem.y_hi, 0).sum()
        + _spread_violation(problem, y)
    )


def _spread_violation(problem: Problem, y: np.ndarray) -> float:
    """How far the extra copies per member of a rare class's groups are more than 1 apart."""
    if not problem.n_spread:
        return 0.0
    spread = sp.csc_matrix(problem.spread)
    per = np.maximum(y - problem.sizes, 0) / problem.sizes
    total = 0.0
    for k in range(spread.shape[1]):
        rows = spread.indices[spread.indptr[k]: spread.indptr[k + 1]]
        if rows.size:
            total += max(float(per[rows].max() - per[rows].min()) - 1.0, 0.0)
    return total


@dataclass(frozen=True)
class LinearModel:
    """``min cᵀx  s.t.  A_eq x = b_eq,  A_ub x ≤ b_ub,  lb ≤ x ≤ ub`` (x = [r, d, c, t, segments]).

    ``integer`` marks the integer columns (the first ``2 · n_groups``).
    """

    cost: np.ndarray
    a_eq: sp.csr_matrix
    b_eq: np.ndarray
    a_ub: sp.csr_matrix
    b_ub: np.ndarray
    lb: np.ndarray
    ub: np.ndarray
    n_groups: int
    n_balanced: int
    start_aux: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    @property
    def integer(self) -> np.ndarray:
        """Boolean mask of the integer columns."""
        mask = np.zeros(len(self.cost), dtype=bool)
        mask[: 2 * self.n_groups] = True
        return mask

    def group_totals(self, solution: np.ndarray, sizes: np.ndarray) -> np.ndarray:
        """``y = n - r + d`` from a solution vector."""
        g = self.n_groups
        return sizes - solution[:g] + solution[g: 2 * g]

    def columns(self, groups: np.ndarray, *, lazy: bool = False) -> np.ndarray:
        """Column indices of ``groups``' ``r`` and ``d`` variables plus the auxiliary columns.

        ``lazy=True`` takes only the auxiliary columns marked in ``start_aux`` (the segments
        an identity-like plan uses); sifting prices the others in later.
        """
        g = self.n_groups
        aux = np.arange(2 * g, len(self.cost))
        if lazy and len(self.start_aux) == len(aux):
            aux = aux[self.start_aux]
        return np.concatenate([groups, groups + g, aux])


def _segments(problem: Problem) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Segment columns that a feasible plan can reach: (class, sign, width, cost) arrays.

    ``sign`` is +1 for excess (``p``) and -1 for shortfall (``m``) columns; the last segment
    kept for a class and side is unbounded (``width = inf``).
    """
    k = problem.n_balanced
    t0 = problem.mean_total
    c_max = np.asarray(problem.vectors.T @ problem.y_hi, dtype=np.float64).ravel()
    reach = {+1: c_max, -1: np.maximum(_mean_bound(problem) - problem.floor, 0.0)}
    cls, sign, width, price = [], [], [], []
    for sgn, most in reach.items():
        b = BREAKPOINTS if sgn > 0 else problem.shortfall
        cost = _segment_slopes(problem.curvature, b) / problem.scale
        widths = np.append(np.diff(b), np.inf) * t0
        # segments s with b_s < most (at least the first); the last of them is unbounded
        n_seg = np.clip(np.searchsorted(b * t0, most, side="left"), 1, len(b))
        rows = np.repeat(np.arange(k), n_seg)
        seg = np.arange(rows.size) - np.repeat(np.cumsum(n_seg) - n_seg, n_seg)
        w = widths[seg]
        w[np.cumsum(n_seg) - 1] = np.inf
        cls.append(rows)
        sign.append(np.full(rows.size, sgn))
        width.append(w)
        price.append(cost[seg])
    return (np.concatenate(cls), np.concatenate(sign), np.concatenate(width),
            np.concatenate(price))


def _mean_bound(problem: Problem) -> float:
    """An upper bound of the mean class total ``t`` of any feasible plan.

    ``K t = Σ_g y_g |a_g|`` with ``y_g ≤ y_hi`` and ``Σ y_g ≤ size_hi``: a fractional
    knapsack that fills the groups with the most labels per sample first.
    """
    k = max(problem.n_balanced, 1)
    per = np.asarray(problem.vectors.sum(axis=1), dtype=np.float64).ravel()
    order = np.argsort(-per, kind="stable")
    cap = problem.y_hi[order].astype(np.float64)
    before = np.cumsum(cap) - cap
    take = np.clip(problem.size_hi - before, 0.0, cap)
    return float((take * per[order]).sum() / k)


def build_model(problem: Problem) -> LinearModel:
    """Write ``problem`` as sparse matrices (see the module docstring for the rows).

    The model is built for every group; the sifting solver restricts it to a working set of
    columns with :meth:`LinearModel.columns`.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> p = Problem(sp.csr_matrix([[1, 0], [0, 1]]), np.array([3, 1]), np.array([3, 1]),
    ...             np.array([3, 1]), np.zeros(2), 4, 4, np.inf, np.inf, 1.0, 1.0)
    >>> model = build_model(p)
    >>> model.a_eq.shape[0], model.n_groups
    (6, 2)
    """
    g, k, n_s = problem.n_groups, problem.n_balanced, problem.n_spread
    n = max(problem.n_samples, 1)
    seg_cls, seg_sign, seg_width, seg_cost = _segments(problem)
    n_seg = seg_cls.size
    a = sp.csr_matrix(problem.vectors, dtype=np.float64)
    at = a.T.tocsr()
    eye = sp.identity(k, format="csr")
    ones_k = np.ones((k, 1))
    n_aux = k + 1 + n_seg + n_s
    # rows 0..k-1: A^T d - A^T r - c = -c0 ; rows k..2k-1: c - t - Σp + Σm = 0 ;
    # row 2k: k t - Σc = 0
    segs = sp.csr_matrix((-seg_sign.astype(np.float64), (seg_cls, np.arange(n_seg))),
                         shape=(k, n_seg))
    top = sp.hstack([-at, at, -eye, sp.csr_matrix((k, 1 + n_seg + n_s))])
    mid = sp.hstack([sp.csr_matrix((k, 2 * g)), eye, sp.csr_matrix(-ones_k), segs,
                     sp.csr_matrix((k, n_s))])
    last = sp.hstack([sp.csr_matrix((1, 2 * g)), sp.csr_matrix(-np.ones((1, k))),
                      sp.csr_matrix([[float(k)]]), sp.csr_matrix((1, n_seg + n_s))])
    eq_rows = [top, mid, last]
    b_eq = [-problem.original_totals, np.zeros(k), np.zeros(1)]
    size_row = sp.hstack([sp.csr_matrix(-np.ones((1, g))), sp.csr_matrix(np.ones((1, g))),
                          sp.csr_matrix((1, n_aux))])
    ub_rows: list[Any] = []
    b_ub: list[float] = []
    if problem.size_lo == problem.size_hi:
        eq_rows.append(size_row)
        b_eq.append(np.array([problem.size_lo - problem.n_samples], dtype=np.float64))
    else:
        ub_rows += [size_row, -size_row]
        b_ub += [problem.size_hi - problem.n_samples, problem.n_samples - problem.size_lo]
    if np.isfinite(problem.max_duplicates):
        ub_rows.append(sp.hstack([sp.csr_matrix((1, g)), sp.csr_matrix(np.ones((1, g))),
                                  sp.csr_matrix((1, n_aux))]))
        b_ub.append(float(problem.max_duplicates))
    if np.isfinite(problem.max_removals):
        ub_rows.append(sp.hstack([sp.csr_matrix(np.ones((1, g))),
                                  sp.csr_matrix((1, g + n_aux))]))
        b_ub.append(float(problem.max_removals))
    if n_s:
        ub_rows.append(_spread_rows(problem, n_aux - n_s))
        b_ub += [0.0] * problem.spread.nnz + [1.0] * problem.spread.nnz  # type: ignore[union-attr]
    width = 2 * g + n_aux
    a_ub = sp.vstack(ub_rows, format="csr") if ub_rows else sp.csr_matrix((0, width))
    cost = np.concatenate([
        np.full(g, problem.removal_cost / n), np.full(g, problem.duplicate_cost / n),
        np.zeros(k + 1), seg_cost, np.zeros(n_s),
    ])
    r_min = np.zeros(g) if problem.r_min is None else problem.r_min
    lb = np.concatenate([r_min, np.zeros(g), problem.floor, np.zeros(1 + n_seg + n_s)])
    ub = np.concatenate([problem.r_max, problem.d_max, np.full(k + 1, np.inf),
                         seg_width, np.full(n_s, np.inf)]).astype(float)
    # a first working set of segments: those the identity plan's deviations reach, and the
    # first and the (unbounded) last one of every class and side
    dev0 = problem.original_totals - problem.original_totals.mean() if k else np.zeros(0)
    bpts = {+1: BREAKPOINTS * problem.mean_total, -1: problem.shortfall * problem.mean_total}
    seg_start = np.empty(n_seg)
    for sgn, b in bpts.items():
        on = seg_sign == sgn
        first = np.r_[True, seg_cls[on][1:] != seg_cls[on][:-1]]
        idx = np.arange(on.sum()) - np.maximum.accumulate(np.where(first, np.arange(on.sum()), 0))
        seg_start[on] = b[idx]
    start = (seg_start < np.maximum(seg_sign * dev0[seg_cls], 0)) | (seg_start == 0) \
        | np.isinf(seg_width)
    start_aux = np.concatenate([np.ones(k + 1, dtype=bool), start, np.ones(n_s, dtype=bool)])
    return LinearModel(cost, sp.vstack(eq_rows, format="csr"), np.concatenate(b_eq),
                       a_ub, np.asarray(b_ub, dtype=np.float64), lb, ub, g, k, start_aux)


def _spread_rows(problem: Problem, s_offset: int) -> sp.csr_matrix:
    """``d_g / n_g - s_k ≤ 0`` and ``s_k - d_g / n_g ≤ 1`` for every (group, rare class) pair."""
    spread = sp.coo_matrix(problem.spread)
    g = problem.n_groups
    pairs = spread.nnz
    width = 2 * g + s_offset + spread.shape[1]
    rows = np.arange(pairs)
    inv = 1.0 / problem.sizes[spread.row].astype(np.float64)
    upper = sp.csr_matrix(
        (np.concatenate([inv, -np.ones(pairs)]),
         (np.concatenate([rows, rows]), np.concatenate([g + spread.row, s_offset + spread.col]))),
        shape=(pairs, width))
    return sp.vstack([upper, -upper], format="csr")
