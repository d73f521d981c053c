"""The balancer's linear model: signatures, sparse matrices and the objective as a pure function.

Samples with identical label vectors ("signatures") are interchangeable, so the model has one
pair of integer variables per group ``g`` of ``n_g`` identical samples with class vector
``a_g``: ``r_g`` removed members and ``d_g`` extra copies, so the group appears
``y_g = n_g - r_g + d_g`` times. With ``B`` the balanced classes (non-background classes that
occur), ``c⁰_k`` their original totals, ``S = Σ_{k∈B} c⁰_k`` and ``N`` the number of samples::

    minimise   Σ_{k∈B} (p_k + m_k) / S  +  duplicate_cost · Σ_g d_g / N
                                       +  removal_cost  · Σ_g r_g / N
    subject to c_k = c⁰_k + Σ_g a_gk (d_g - r_g)        k ∈ B   (class totals)
               c_k - t = p_k - m_k                      k ∈ B   (deviation from the mean)
               |B| · t = Σ_{k∈B} c_k                            (t = mean class total)
               size_lo ≤ N + Σ_g (d_g - r_g) ≤ size_hi          (target_size)
               Σ_g d_g ≤ max_duplicates,  Σ_g r_g ≤ max_removals
               c_k ≥ min_class_fraction · c⁰_k
               0 ≤ r_g ≤ R_g,  0 ≤ d_g ≤ D_g,  p, m, t ≥ 0

``R_g = 0`` for groups that must be kept (``minimize_duplicates``) and ``D_g = 0`` for
background-only and empty groups; otherwise ``R_g = n_g`` and ``D_g = n_g (max_repeats - 1)``.
Variables are laid out as ``[r (G), d (G), c (K'), p (K'), m (K'), t]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["LinearModel", "Problem", "Signatures", "evaluate", "signatures"]

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(z: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser on a uint64 array (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        return z ^ (z >> np.uint64(31))


def _row_hashes(m: sp.csr_matrix, salt: int) -> np.ndarray:
    """An order-free 64-bit hash of every CSR row (sum of mixed (column, value) pairs)."""
    cols = m.indices.astype(np.uint64)
    vals = m.data.astype(np.uint64)
    with np.errstate(over="ignore"):
        key = cols * np.uint64(0x9E3779B97F4A7C15) + vals * np.uint64(0xD1B54A32D192ED03)
        mixed = _mix(key + np.uint64(salt))
    nnz = np.diff(m.indptr)
    rows = np.repeat(np.arange(m.shape[0]), nnz)
    # sum the two 32-bit halves in float64 (exact below 2**21 entries per row), then recombine
    lo = np.bincount(rows, weights=(mixed & np.uint64(0xFFFFFFFF)).astype(np.float64),
                     minlength=m.shape[0])
    hi = np.bincount(rows, weights=(mixed >> np.uint64(32)).astype(np.float64),
                     minlength=m.shape[0])
    with np.errstate(over="ignore"):
        out = (hi.astype(np.uint64) << np.uint64(32)) + lo.astype(np.uint64)
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
    keys = np.stack([_row_hashes(m, 1), _row_hashes(m, 7)], axis=1)
    group = _first_occurrence_ids(keys)
    first = _first_members(group)
    vectors = m[first]
    if (m - vectors[group]).count_nonzero():  # pragma: no cover - hash collision
        group = _exact_groups(m)
        first = _first_members(group)
        vectors = m[first]
    sizes = np.bincount(group).astype(np.int64)
    return Signatures(group, sp.csr_matrix(vectors, dtype=np.int64), sizes)


def _first_occurrence_ids(keys: np.ndarray) -> np.ndarray:
    view = np.ascontiguousarray(keys).view(np.dtype((np.void, keys.dtype.itemsize * keys.shape[1])))
    _, first, inverse = np.unique(view.ravel(), return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    relabel = np.empty_like(order)
    relabel[order] = np.arange(len(order))
    return relabel[inverse.ravel()].astype(np.int64)


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

    @property
    def original_totals(self) -> np.ndarray:
        """``c⁰``: class totals of the identity plan."""
        return np.asarray(self.vectors.T @ self.sizes, dtype=np.float64).ravel()

    @property
    def scale(self) -> float:
        """``S = Σ_k c⁰_k`` (at least 1), divides the balance term."""
        return float(max(self.original_totals.sum(), 1.0))

    @property
    def y_lo(self) -> np.ndarray:
        """Smallest allowed group total."""
        return self.sizes - self.r_max

    @property
    def y_hi(self) -> np.ndarray:
        """Largest allowed group total."""
        return self.sizes + self.d_max


def evaluate(problem: Problem, y: Any) -> dict[str, float]:
    """Objective parts of the group totals ``y`` (a pure function; no feasibility check).

    Returns ``balance`` (``Σ|c_k - t| / S``), ``duplicates`` (``Σ max(y_g - n_g, 0)``),
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
    balance = float(np.abs(c - c.mean()).sum() / problem.scale) if c.size else 0.0
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
    )


@dataclass(frozen=True)
class LinearModel:
    """``min cᵀx  s.t.  A_eq x = b_eq,  A_ub x ≤ b_ub,  lb ≤ x ≤ ub`` (x = [r, d, c, p, m, t]).

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

    def columns(self, groups: np.ndarray) -> np.ndarray:
        """Column indices of ``groups``' ``r`` and ``d`` variables plus every auxiliary column."""
        g = self.n_groups
        aux = np.arange(2 * g, len(self.cost))
        return np.concatenate([groups, groups + g, aux])


def build_model(problem: Problem) -> LinearModel:
    """Write ``problem`` as sparse matrices (see the module docstring for the rows).

    The model is built for every group; the sifting solver restricts it to a working set of
    columns with :meth:`LinearModel.restrict`.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> p = Problem(sp.csr_matrix([[1, 0], [0, 1]]), np.array([3, 1]), np.array([3, 1]),
    ...             np.array([3, 1]), np.zeros(2), 4, 4, np.inf, np.inf, 1.0, 1.0)
    >>> model = build_model(p)
    >>> model.a_eq.shape, len(model.cost)
    ((6, 11), 11)
    """
    g, k = problem.n_groups, problem.n_balanced
    n = max(problem.n_samples, 1)
    a = sp.csr_matrix(problem.vectors, dtype=np.float64)
    at = a.T.tocsr()
    eye = sp.identity(k, format="csr")
    zk = sp.csr_matrix((k, k))
    ones_k = np.ones((k, 1))
    # rows 0..k-1: A^T d - A^T r - c = -c0 ; rows k..2k-1: c - p + m - t = 0 ; row 2k: k t - Σc = 0
    top = sp.hstack([-at, at, -eye, zk, zk, sp.csr_matrix((k, 1))])
    mid = sp.hstack([sp.csr_matrix((k, 2 * g)), eye, -eye, eye, sp.csr_matrix(-ones_k)])
    last = sp.hstack([sp.csr_matrix((1, 2 * g)), sp.csr_matrix(-np.ones((1, k))),
                      sp.csr_matrix((1, 2 * k)), sp.csr_matrix([[float(k)]])])
    eq_rows = [top, mid, last]
    b_eq = [-problem.original_totals, np.zeros(k), np.zeros(1)]
    size_row = sp.hstack([sp.csr_matrix(-np.ones((1, g))), sp.csr_matrix(np.ones((1, g))),
                          sp.csr_matrix((1, 3 * k + 1))])
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
                                  sp.csr_matrix((1, 3 * k + 1))]))
        b_ub.append(float(problem.max_duplicates))
    if np.isfinite(problem.max_removals):
        ub_rows.append(sp.hstack([sp.csr_matrix(np.ones((1, g))),
                                  sp.csr_matrix((1, g + 3 * k + 1))]))
        b_ub.append(float(problem.max_removals))
    width = 2 * g + 3 * k + 1
    a_ub = sp.vstack(ub_rows, format="csr") if ub_rows else sp.csr_matrix((0, width))
    cost = np.concatenate([
        np.full(g, problem.removal_cost / n), np.full(g, problem.duplicate_cost / n),
        np.zeros(k), np.full(2 * k, 1.0 / problem.scale), np.zeros(1),
    ])
    lb = np.concatenate([np.zeros(2 * g), problem.floor, np.zeros(2 * k + 1)])
    ub = np.concatenate([problem.r_max, problem.d_max, np.full(3 * k + 1, np.inf)]).astype(float)
    return LinearModel(cost, sp.vstack(eq_rows, format="csr"), np.concatenate(b_eq),
                       a_ub, np.asarray(b_ub, dtype=np.float64), lb, ub, g, k)
