"""Solver backends behind one small curate-owned interface.

``solve(problem, *, solver, time_limit, mip_gap, seed, integral)`` returns a
:class:`SolveResult` with group totals, a status from :class:`~curate.balance.PlanStatus`, the
objective, a lower bound and the gap. Backends:

``"lp"`` / ``"auto"``
    The LP as scipy sparse matrices, solved by HiGHS's serial dual simplex on one thread
    (sifting over signature columns from :data:`SIFT_MIN_GROUPS` groups on). Expected plans
    (``integral=False``) are the LP optimum itself, so their gap is the solver tolerance.
    Integral plans (a permanent subset) are rounded toward the identity, repaired to the
    size/budget/floor constraints and improved by a greedy 1-opt pass; the LP optimum is a
    certified lower bound.
``"cbc"`` / ``"highs"``
    The exact MIP through PuLP with CBC (bundled) or HiGHS (``highspy``); integral plans only.

Nothing here depends on wall-clock time except the optional ``time_limit``, an abort guard:
it is checked between sifting rounds (the first round always completes), and a plan stopped by
it carries ``PlanStatus.TIME_LIMIT``, the last feasible round's solution and a valid
Lagrangian bound, never the identity plan. It stops only after a round whose elastic columns
are zero (a feasible plan); with the default epoch size the first round is one.

The LP goes through ``highspy`` directly when it is importable (one model; sifting flips
resting columns between their bounds by changing row bounds, adds the others with ``addCols``
and re-solves warm), else through
:func:`scipy.optimize.linprog` (HiGHS IPM, re-solved from scratch each sifting round).
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from curate._validation import user_stacklevel
from curate.balance._formulation import LinearModel, Problem, build_model, evaluate, violation
from curate.balance._plan import PlanStatus
from curate.exceptions import InfeasibleError, SolverError, SolverTimeLimitWarning

__all__ = ["SIFT_MIN_GROUPS", "SolveResult", "available_solvers", "solve"]

#: The LP path uses sifting (column generation) from this many groups on.
SIFT_MIN_GROUPS = 5_000
#: The same for the scipy fallback, which cannot warm-start a sifting round.
SCIPY_SIFT_MIN_GROUPS = 200_000
#: Use ``highspy`` directly for the LP when it is importable (scipy's ``linprog`` otherwise).
USE_HIGHSPY = True
#: Extra HiGHS options for the LP (tuning hook).
HIGHS_OPTIONS: dict[str, Any] = {}
#: The first working set: the largest groups and, per class, the groups purest in it.
SIFT_LARGEST, SIFT_PER_CLASS = 500, 4
#: Cost of the elastic columns that keep a sifting round feasible, times the largest cost.
ELASTIC_COST = 1e3
#: Columns added per sifting round (``None``: ``max(5000, 40 · n_classes)``).
SIFT_BATCH: int | None = None

@dataclass
class SolveResult:
    """What a backend returns: integer group totals and how good they are."""

    y: np.ndarray
    status: PlanStatus
    objective: float
    lower_bound: float | None
    message: str
    solver: str
    parts: dict[str, float] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def gap(self) -> float | None:
        """``(objective - lower_bound) / max(|objective|, 1e-9)``, never negative."""
        if self.lower_bound is None:
            return None
        return max(self.objective - self.lower_bound, 0.0) / max(abs(self.objective), 1e-9)


def available_solvers() -> list[str]:
    """Backends usable here: always ``"auto"`` and ``"lp"``; ``"cbc"`` and ``"highs"`` via PuLP.

    Examples
    --------
    >>> from curate.balance import available_solvers
    >>> {"auto", "lp"} <= set(available_solvers())
    True
    """
    import pulp

    names = ["auto", "lp"]
    found = set(pulp.listSolvers(onlyAvailable=True))
    if "PULP_CBC_CMD" in found:
        names.append("cbc")
    if "HiGHS" in found:
        names.append("highs")
    return names


# ---------------------------------------------------------------------------------- LP path
def _linprog(model: LinearModel, cols: np.ndarray | None, time_limit: float) -> Any:
    cost, a_eq, a_ub, lb, ub = model.cost, model.a_eq, model.a_ub, model.lb, model.ub
    if cols is not None:
        cost, lb, ub = cost[cols], lb[cols], ub[cols]
        a_eq, a_ub = a_eq[:, cols], a_ub[:, cols]
    bounds = np.column_stack([lb, np.where(np.isinf(ub), np.inf, ub)])
    try:
        return linprog(
            cost, A_ub=a_ub if a_ub.shape[0] else None, b_ub=model.b_ub if a_ub.shape[0] else None,
            A_eq=a_eq, b_eq=model.b_eq, bounds=bounds, method="highs-ipm",
            options={"time_limit": min(max(float(time_limit), 0.01), 1e7), "presolve": True},
        )
    except (ValueError, MemoryError) as exc:  # pragma: no cover - scipy input errors
        raise SolverError(f"the LP solver failed: {exc}") from exc


def _initial_groups(problem: Problem, per_class: int = 8, largest: int = 2000) -> np.ndarray:
    """A working set: the largest groups plus, per class, the groups purest in that class."""
    v = sp.csc_matrix(problem.vectors, dtype=np.float64)
    row_sum = np.asarray(problem.vectors.sum(axis=1), dtype=np.float64).ravel()
    chosen = [np.argsort(-problem.sizes, kind="stable")[:largest]]
    if problem.r_min is not None:  # pinned groups must be in the LP (0 breaks their bound)
        chosen.append(np.flatnonzero(problem.r_min > 0))
    for k in range(v.shape[1]):
        rows = v.indices[v.indptr[k]: v.indptr[k + 1]]
        if rows.size:
            purity = v.data[v.indptr[k]: v.indptr[k + 1]] / np.maximum(row_sum[rows], 1)
            order = np.lexsort((-problem.sizes[rows], -purity))
            chosen.append(rows[order[:per_class]])
    return np.unique(np.concatenate(chosen))


def _sift(model: LinearModel, problem: Problem, deadline: float) -> tuple[Any, np.ndarray, int]:
    """Column generation over groups; returns (restricted result, full solution, rounds)."""
    g = model.n_groups
    work = _initial_groups(problem)
    a_all = sp.vstack([model.a_eq, model.a_ub], format="csc")
    batch = max(1000, 4 * model.n_balanced)
    for rounds in range(1, 60):
        cols = model.columns(work)
        res = _linprog(model, cols, deadline - time.perf_counter())
        if res.status != 0:
            return res, np.zeros(0), rounds
        duals = np.concatenate([res.eqlin.marginals,
                                res.ineqlin.marginals if model.a_ub.shape[0] else []])
        reduced = model.cost[: 2 * g] - np.asarray(a_all[:, : 2 * g].T @ duals).ravel()
        in_work = np.zeros(g, dtype=bool)
        in_work[work] = True
        group_rc = np.minimum(reduced[:g], reduced[g:])
        group_rc[in_work] = 0.0
        # a column only helps if it may move (positive upper bound)
        group_rc[(model.ub[:g] <= 0) & (reduced[:g] <= reduced[g:])] = 0.0
        group_rc[(model.ub[g: 2 * g] <= 0) & (reduced[g:] < reduced[:g])] = 0.0
        scale = max(float(np.abs(model.cost).max()), 1e-12)
        bad = np.flatnonzero(group_rc < -1e-9 * scale)
        if bad.size == 0:
            x = np.zeros(len(model.cost))
            x[cols] = res.x
            return res, x, rounds
        add = bad[np.argsort(group_rc[bad], kind="stable")[:batch]]
        work = np.union1d(work, add)
    return res, np.zeros(0), rounds  # pragma: no cover - sifting did not converge


@dataclass
class _LPResult:
    """What the LP driver returns (status 0 optimal, 1 stopped by the time limit with the last
    round's feasible solution, 2 infeasible, 4 other)."""

    status: int
    message: str
    fun: float | None = None
    x: np.ndarray | None = None
    bound: float | None = None
    rounds: int = 0
    columns: int = 0  # group columns in the final LP (sifting)
    flips: int = 0  # resting columns moved to their other bound (sifting)


def _highs(highspy: Any) -> Any:
    """A quiet, deterministic HiGHS instance: serial dual simplex on one thread.

    One thread makes the pivots, hence the plan, independent of the machine's load (issue 11
    measured the parallel simplex 4-10x slower under contention). On the 10^4 x 1000 LP the
    serial dual simplex beat the primal simplex (33x) and the interior point method (1.7x);
    the 10^6 x 1000 fit took the same time with and without a competing busy process
    (docs/balancer.md).
    """
    # the bare core class: highspy.Highs() prints a banner on stdout when it starts its
    # Python callbacks, which curate does not use
    h = getattr(highspy, "_Highs", highspy.Highs)()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("random_seed", 0)
    h.setOptionValue("threads", 1)
    h.setOptionValue("simplex_strategy", 1)
    for name, value in HIGHS_OPTIONS.items():
        h.setOptionValue(name, value)
    return h


def _highs_lp(model: LinearModel, problem: Problem, deadline: float) -> _LPResult:
    """The LP through ``highspy`` with sifting: one model, columns added, warm re-solves.

    Small models (fewer than :data:`SIFT_MIN_GROUPS` groups) start with every column and are
    solved once. Larger ones start with a working set (:func:`_initial_groups`); every group
    column outside it rests at one of its bounds, and the rows' bounds are shifted by what the
    resting columns contribute. After each solve all columns are priced with one sparse
    mat-vec of the row duals. A resting column whose reduced cost says it wants its other
    bound is moved there (*flipped*: only the row bounds change, so HiGHS's dual simplex
    re-solves from its previous basis); a column that wants to move again, and any auxiliary
    column with a negative reduced cost, joins the LP (``addCols``). Each column flips at most
    once, so the loop ends; it ends when no column wants to move, which is the optimality
    condition of the full LP. On the 10^6 x 1,000 generator of issue 11 most groups rest at a
    bound (586k removal columns at their upper bound, 615k copy columns at 0, 92 in between)
    and the LP grows to about 10^5 of 1.4 · 10^6 columns.

    Flips can make the restricted LP infeasible (a class below its floor, the epoch size off
    its target), so elastic columns with a large cost lift the class rows and both sides of
    the size and budget rows; a round whose elastic columns are not zero is not a plan. The
    costs are scaled by ``max(N, S)`` so that HiGHS's absolute tolerances fit them. On a time
    limit the last feasible round's solution is returned with its Lagrangian bound
    ``cᵀx + Σ_j min(0, d_j (u_j - l_j))`` over the columns that want to move (reduced cost
    ``d_j`` signed towards their other bound).
    """
    import highspy

    a_all = sp.vstack([model.a_eq, model.a_ub], format="csc")
    a_all.sort_indices()
    n_rows = a_all.shape[0]
    inf = highspy.kHighsInf
    row_lo = np.concatenate([model.b_eq, np.full(model.a_ub.shape[0], -inf)])
    row_hi = np.concatenate([model.b_eq, model.b_ub])
    factor = float(max(problem.n_samples, problem.scale, 1.0))
    cost = model.cost * factor
    ub = np.where(np.isinf(model.ub), inf, model.ub)
    lb = model.lb
    n_group_cols = 2 * model.n_groups
    sifting = model.n_groups >= SIFT_MIN_GROUPS
    cols = (model.columns(_initial_groups(problem, SIFT_PER_CLASS, SIFT_LARGEST), lazy=True)
            if sifting else np.arange(len(cost)))
    def whole_lp(note: str = "optimal") -> _LPResult:
        """The LP with every column, solved once."""
        h = _highs(highspy)
        _pass_model(h, a_all, cost, lb, ub, row_lo, row_hi)
        h.run()
        status = h.getModelStatus()
        if status == highspy.HighsModelStatus.kInfeasible:
            return _LPResult(2, "The LP is infeasible")
        if status != highspy.HighsModelStatus.kOptimal:  # pragma: no cover - numerics
            raise SolverError(f"HiGHS stopped on the balancing LP: "
                              f"{h.modelStatusToString(status)}")
        x = np.asarray(h.getSolution().col_value, dtype=np.float64)
        return _LPResult(0, note, float(cost @ x) / factor, x, float(cost @ x) / factor, 0)

    if not sifting:
        return whole_lp()
    h = _highs(highspy)
    _pass_model(h, a_all[:, cols], cost[cols], lb[cols], ub[cols], row_lo, row_hi)
    # elastic columns: +1 on the class rows (0 .. k-1), ±1 on the size and budget rows (2k+1 ..)
    k = model.n_balanced
    n_spread_rows = 0 if problem.spread is None else 2 * problem.spread.nnz
    tail = np.arange(2 * k + 1, n_rows - n_spread_rows)
    elastic_rows = np.concatenate([np.arange(k), tail, tail]).astype(np.int32)
    elastic_sign = np.concatenate([np.ones(k + len(tail)), -np.ones(len(tail))])
    n_el = len(elastic_rows)
    big = ELASTIC_COST * max(float(np.abs(cost).max()), 1.0)
    h.addCols(n_el, np.full(n_el, big), np.zeros(n_el), np.full(n_el, inf), n_el,
              np.arange(n_el, dtype=np.int32), elastic_rows, elastic_sign)
    elastic = np.arange(len(cols), len(cols) + n_el)
    # LP column j (other than the elastic ones) is model column order[j]
    order = [cols]
    in_lp = np.zeros(len(cost), dtype=bool)
    in_lp[cols] = True
    at_upper = np.zeros(len(cost), dtype=bool)  # resting outside the LP at the upper bound
    flipped = np.zeros(len(cost), dtype=bool)
    may_flip = np.arange(len(cost)) < n_group_cols
    if problem.spread is not None:  # spread rows have no elastic columns: those groups join
        spread = np.flatnonzero(np.asarray(problem.spread.getnnz(axis=1)) > 0)
        may_flip[spread] = may_flip[spread + model.n_groups] = False
    shift = np.zeros(n_rows)
    a_t = a_all.T.tocsr()
    movable = ub > lb
    batch = SIFT_BATCH or max(5000, 40 * model.n_balanced)
    tol = 1e-9 * max(float(np.abs(cost).max()), 1.0)
    last: _LPResult | None = None
    rounds = escalations = 0
    while True:
        rounds += 1
        if last is not None and time.perf_counter() >= deadline:
            last.status, last.message = 1, f"time_limit reached after {rounds - 1} sifting rounds"
            last.rounds = rounds - 1
            return last
        h.run()
        status = h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            # a restricted round HiGHS cannot settle (seen as "Unknown" on a 3-sample table
            # whose floors admit no plan, once the elastic costs were escalated): the whole LP
            # answers instead, optimal or infeasible
            return whole_lp(f"optimal (whole LP after HiGHS reported "
                            f"{h.modelStatusToString(status)!r} in sifting round {rounds})")
        sol = h.getSolution()
        values = np.asarray(sol.col_value, dtype=np.float64)
        x = np.where(at_upper, ub, lb)
        x[~np.isfinite(x)] = 0.0
        keep = np.ones(len(values), dtype=bool)
        keep[elastic] = False
        x[np.concatenate(order)] = values[keep]
        obj = float(cost @ x)
        feasible = float(values[elastic].sum()) <= 1e-7 * max(problem.n_samples, 1)
        reduced = cost - a_t @ np.asarray(sol.row_dual, dtype=np.float64)
        wants = ~in_lp & movable & np.where(at_upper, reduced > tol, reduced < -tol)
        bad = np.flatnonzero(wants)
        if bad.size == 0:
            if not feasible and escalations < 2:  # the elastic price may be too low: raise it
                escalations += 1
                big *= 1e4
                h.changeColsCost(n_el, elastic.astype(np.int32), np.full(n_el, big))
                continue
            if not feasible:
                return _LPResult(2, "The LP is infeasible")
            return _LPResult(0, f"optimal after {rounds} sifting rounds", obj / factor, x,
                             obj / factor, rounds, int(in_lp[:n_group_cols].sum()),
                             int(flipped.sum()))
        if feasible:
            gain = float((-np.abs(reduced[bad]) * (ub[bad] - lb[bad])).sum())
            bound = (obj + gain) / factor if np.isfinite(gain) else None
            last = _LPResult(0, "", obj / factor, x, bound, rounds, int(in_lp[:n_group_cols].sum()),
                             int(flipped.sum()))
        flip = bad[may_flip[bad] & ~flipped[bad]]
        add = bad[~may_flip[bad] | flipped[bad]]
        if add.size > batch:
            add = add[np.argsort(-np.abs(reduced[add]), kind="stable")[:batch]]
        back = add[at_upper[add]]  # join the LP at their lower bound (HiGHS's default)
        step = np.zeros(len(cost))
        step[flip] = np.where(at_upper[flip], lb[flip] - ub[flip], ub[flip] - lb[flip])
        step[back] = lb[back] - ub[back]
        at_upper[flip] = ~at_upper[flip]
        at_upper[back] = False
        flipped[flip] = True
        if flip.size or back.size:
            shift += a_all @ step
            h.changeRowsBounds(n_rows, np.arange(n_rows, dtype=np.int32), row_lo - shift,
                               row_hi - shift)
        if add.size:
            _add_columns(h, a_all, cost, lb, ub, add)
            order.append(add)
            in_lp[add] = True


def _pass_model(h: Any, a: sp.csc_matrix, cost: np.ndarray, lb: np.ndarray, ub: np.ndarray,
                row_lo: np.ndarray, row_hi: np.ndarray) -> None:
    """Load the column-wise LP ``row_lo ≤ a x ≤ row_hi, lb ≤ x ≤ ub, min cost·x`` into ``h``."""
    import highspy

    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = a.shape[1], a.shape[0]
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, lb, ub
    lp.row_lower_, lp.row_upper_ = row_lo, row_hi
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = a.shape[1], a.shape[0]
    if h.passModel(lp) == highspy.HighsStatus.kError:  # pragma: no cover - malformed model
        raise SolverError("HiGHS rejected the balancing LP (passModel failed)")


def _add_columns(h: Any, a_all: sp.csc_matrix, cost: np.ndarray, lb: np.ndarray,
                 ub: np.ndarray, add: np.ndarray) -> None:
    """Append the model columns ``add`` to the HiGHS instance ``h`` (its basis is kept)."""
    import highspy

    block = a_all[:, add]
    status = h.addCols(len(add), cost[add], lb[add], ub[add], block.nnz,
                       block.indptr.astype(np.int32), block.indices.astype(np.int32), block.data)
    if status == highspy.HighsStatus.kError:  # pragma: no cover - malformed columns
        raise SolverError("HiGHS rejected the priced columns (addCols failed)")


def _solve_lp(model: LinearModel, problem: Problem, deadline: float) -> _LPResult:
    if _has_highspy():
        return _highs_lp(model, problem, deadline)
    if model.n_groups >= SCIPY_SIFT_MIN_GROUPS:
        res, x, rounds = _sift(model, problem, deadline)
        if res.status == 0:
            return _LPResult(0, "optimal", float(res.fun), x, float(res.fun), rounds)
    res = _linprog(model, None, max(deadline - time.perf_counter(), 1.0))
    if res.status == 2:
        return _LPResult(2, "The LP is infeasible")
    if res.status != 0:  # pragma: no cover - scipy numerics or its own time limit
        raise SolverError(f"the LP solver stopped without a solution: {res.message}")
    return _LPResult(0, "optimal", float(res.fun), res.x, float(res.fun))


def _has_highspy() -> bool:
    try:
        import highspy  # noqa: F401
    except ImportError:
        return False
    return USE_HIGHSPY


class _Rounder:
    """Greedy single and paired ±1 moves on candidate groups, scored on the exact objective."""

    penalty = 1e3

    def __init__(self, problem: Problem, y: np.ndarray, candidates: np.ndarray) -> None:
        self.p = problem
        self.y = y.astype(np.float64)
        self.idx = candidates
        self.block = problem.vectors[candidates].toarray().astype(np.float64)
        self.c = problem.original_totals + np.asarray(
            problem.vectors.T @ (self.y - problem.sizes), dtype=np.float64).ravel()
        self.n = max(problem.n_samples, 1)

    def _score_rows(self, c: np.ndarray, y_idx: np.ndarray, size: np.ndarray,
                    dup: np.ndarray, rem: np.ndarray) -> np.ndarray:
        p = self.p
        bal = p.balance(c)
        cost = (p.duplicate_cost * dup + p.removal_cost * rem) / self.n
        viol = (np.maximum(p.floor - c, 0).sum(axis=-1)
                + np.maximum(p.size_lo - size, 0) + np.maximum(size - p.size_hi, 0)
                + np.maximum(dup - p.max_duplicates, 0) + np.maximum(rem - p.max_removals, 0))
        del y_idx
        return bal + cost + self.penalty * viol

    def _totals(self) -> tuple[float, float, float]:
        n = self.p.sizes
        return (float(self.y.sum()), float(np.maximum(self.y - n, 0).sum()),
                float(np.maximum(n - self.y, 0).sum()))

    def current(self) -> float:
        size, dup, rem = self._totals()
        return float(self._score_rows(self.c, self.y, np.array(size), np.array(dup),
                                      np.array(rem)))

    def _moves(self, step: float) -> tuple[np.ndarray, np.ndarray]:
        """Score of moving each candidate by ``step`` (inf where out of bounds)."""
        p, i = self.p, self.idx
        yi = self.y[i]
        ni = p.sizes[i]
        new = yi + step
        ok = (new >= p.y_lo[i]) & (new <= p.y_hi[i])
        size, dup, rem = self._totals()
        d_dup = np.maximum(new - ni, 0) - np.maximum(yi - ni, 0)
        d_rem = np.maximum(ni - new, 0) - np.maximum(ni - yi, 0)
        c = self.c[None, :] + step * self.block
        score = self._score_rows(c, new, np.full(len(i), size + step), dup + d_dup, rem + d_rem)
        score[~ok] = np.inf
        return score, ok

    def _apply(self, j: int, step: float) -> None:
        self.y[self.idx[j]] += step
        self.c += step * self.block[j]

    def run(self, max_steps: int) -> np.ndarray:
        if len(self.idx) == 0:
            return self.y
        for _ in range(max_steps):
            best = self.current()
            up, _ = self._moves(1.0)
            down, _ = self._moves(-1.0)
            j_up, j_down = int(np.argmin(up)), int(np.argmin(down))
            if min(up[j_up], down[j_down]) < best - 1e-12:
                if up[j_up] <= down[j_down]:
                    self._apply(j_up, 1.0)
                else:
                    self._apply(j_down, -1.0)
                continue
            if not self._pair(up, down, best):
                break
        return self.y

    def _pair(self, up: np.ndarray, down: np.ndarray, best: float, top: int = 8) -> bool:
        """Try the best +1 / -1 pairs (a swap keeps the epoch size)."""
        ups = np.argsort(up, kind="stable")[:top]
        downs = np.argsort(down, kind="stable")[:top]
        best_pair, best_score = None, best - 1e-12
        size, dup, rem = self._totals()
        n = self.p.sizes
        for a in ups:
            if not np.isfinite(up[a]):
                continue
            for b in downs:
                if a == b or not np.isfinite(down[b]):
                    continue
                y = self.y.copy()
                y[self.idx[a]] += 1
                y[self.idx[b]] -= 1
                c = self.c + self.block[a] - self.block[b]
                ga, gb = self.idx[[a, b]]
                dd = (sum(max(y[g] - n[g], 0) - max(self.y[g] - n[g], 0) for g in (ga, gb)))
                dr = (sum(max(n[g] - y[g], 0) - max(n[g] - self.y[g], 0) for g in (ga, gb)))
                s = float(self._score_rows(c, y, np.array(size), np.array(dup + dd),
                                           np.array(rem + dr)))
                if s < best_score:
                    best_pair, best_score = (a, b), s
        if best_pair is None:
            return False
        self._apply(int(best_pair[0]), 1.0)
        self._apply(int(best_pair[1]), -1.0)
        return True


def round_solution(problem: Problem, y_lp: np.ndarray, max_candidates: int = 5000) -> np.ndarray:
    """Round LP group totals toward the identity, then repair and improve by 1-opt moves."""
    n = problem.sizes.astype(np.float64)
    y = np.where(y_lp >= n, np.floor(y_lp + 1e-6), np.ceil(y_lp - 1e-6))
    y = np.clip(y, problem.y_lo, problem.y_hi)
    frac = np.abs(y - y_lp)
    cand = np.flatnonzero(frac > 1e-6)
    if cand.size > max_candidates:
        cand = cand[np.argsort(-frac[cand], kind="stable")[:max_candidates]]
    rounder = _Rounder(problem, y, cand)
    y = rounder.run(max_steps=4 * len(cand) + 50)
    if violation(problem, y) > 1e-9 and cand.size < problem.n_groups:
        # widen the neighbourhood to every group that can move
        movable = np.flatnonzero(problem.y_hi > problem.y_lo)
        if movable.size <= max_candidates:
            y = _Rounder(problem, y, movable).run(max_steps=4 * len(movable) + 50)
    return np.round(y)


# ---------------------------------------------------------------------------------- MIP path
def _solve_pulp(model: LinearModel, problem: Problem, backend: str, time_limit: float,
                mip_gap: float, seed: int) -> tuple[np.ndarray | None, int, float | None]:
    """Run the MIP through PuLP; returns (group totals or None, pulp sol_status, dual bound)."""
    with warnings.catch_warnings():
        # PuLP 3.x announces its 4.0 API changes; nothing for curate's users to act on
        warnings.simplefilter("ignore", DeprecationWarning)
        return _solve_pulp_quiet(model, problem, backend, time_limit, mip_gap, seed)


def _solve_pulp_quiet(model: LinearModel, problem: Problem, backend: str, time_limit: float,
                      mip_gap: float, seed: int) -> tuple[np.ndarray | None, int, float | None]:
    import pulp

    prob = pulp.LpProblem("curate_balance", pulp.LpMinimize)
    g = model.n_groups
    make = getattr(prob, "add_variable", None) or pulp.LpVariable  # PuLP >= 3.3 / older
    xs = [
        make(f"x{j}", float(model.lb[j]),
             None if np.isinf(model.ub[j]) else float(model.ub[j]),
             pulp.LpInteger if j < 2 * g else pulp.LpContinuous)
        for j in range(len(model.cost))
    ]
    prob += pulp.lpSum(float(cj) * xs[j] for j, cj in enumerate(model.cost) if cj)
    for mat, rhs, sense in ((model.a_eq, model.b_eq, "eq"), (model.a_ub, model.b_ub, "ub")):
        for r in range(mat.shape[0]):
            lo, hi = mat.indptr[r], mat.indptr[r + 1]
            expr = pulp.LpAffineExpression(
                [(xs[j], float(v))
                 for j, v in zip(mat.indices[lo:hi], mat.data[lo:hi], strict=True)]
            )
            prob += (expr == float(rhs[r])) if sense == "eq" else (expr <= float(rhs[r]))
    limit = None if math.isinf(time_limit) else max(time_limit, 1.0)
    if backend == "cbc":
        solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=limit, gapRel=mip_gap, threads=1,
                                   options=[f"randomSeed {seed + 1}", f"randomCbcSeed {seed + 1}"])
    else:
        solver = pulp.HiGHS(msg=False, timeLimit=limit, gapRel=mip_gap, threads=1,
                            random_seed=int(seed))
    try:
        prob.solve(solver)
    except pulp.PulpSolverError as exc:
        raise SolverError(f"the {backend} solver failed: {exc}") from exc
    bound = None
    if backend == "highs":
        try:
            bound = float(prob.solverModel.getInfo().mip_dual_bound)
        except Exception:  # pragma: no cover - highspy API differences
            bound = None
    if prob.sol_status not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        return None, int(prob.sol_status), bound
    x = np.array([v.varValue or 0.0 for v in xs])
    return np.round(model.group_totals(x, problem.sizes)), int(prob.sol_status), bound


# ---------------------------------------------------------------------------------- driver
def solve(problem: Problem, *, solver: str = "auto", time_limit: float | None = None,
          mip_gap: float = 1e-3, seed: int = 0, integral: bool = False) -> SolveResult:
    """Solve ``problem`` with one backend (see the module docstring).

    Parameters
    ----------
    problem : Problem
        The canonical problem.
    solver : {"auto", "lp", "cbc", "highs"}, default="auto"
        ``"cbc"``/``"highs"`` need ``integral=True``.
    time_limit : float or None, default=None
        Abort guard in seconds (``None``: none).
    mip_gap : float, default=1e-3
        Relative gap at which a plan counts as optimal (and the MIP stops).
    seed : int, default=0
        Seeds the MIP solvers.
    integral : bool, default=False
        Integer group totals (a permanent subset) instead of expected copies.

    Returns
    -------
    SolveResult

    Raises
    ------
    InfeasibleError
        The LP relaxation is infeasible (the options admit no plan).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from curate.balance._formulation import Problem
    >>> p = Problem(sp.csr_matrix([[1, 0], [0, 1]]), np.array([3, 1]), np.array([3, 1]),
    ...             np.array([6, 2]), np.zeros(2), 4, 4, np.inf, np.inf, 0.1, 0.1)
    >>> solve(p, integral=True).y.tolist()
    [2.0, 2.0]
    """
    start = time.perf_counter()
    limit = math.inf if time_limit is None else float(time_limit)
    timings: dict[str, float] = {}
    identity = problem.sizes.astype(np.float64)
    at_identity = evaluate(problem, identity)
    if at_identity["objective"] == 0 and violation(problem, identity) == 0:
        # every term of the objective is >= 0, so an identity plan at 0 is optimal (e.g. a
        # million classes of one sample each): no LP to build
        timings["total"] = time.perf_counter() - start
        return SolveResult(identity, PlanStatus.OPTIMAL, 0.0, 0.0,
                           "the identity plan is balanced already (objective 0): optimal",
                           "identity", at_identity, timings,
                           {"lp_status": 0, "sifting_rounds": 0, "n_groups": problem.n_groups,
                            "n_balanced": problem.n_balanced})
    model = build_model(problem)
    timings["build"] = time.perf_counter() - start
    t0 = time.perf_counter()
    res = _solve_lp(model, problem, start + limit)
    timings["solve"] = time.perf_counter() - t0
    info: dict[str, Any] = {"lp_status": int(res.status), "sifting_rounds": res.rounds,
                            "lp_columns": res.columns, "flipped_columns": res.flips,
                            "n_groups": problem.n_groups, "n_balanced": problem.n_balanced}
    if res.status == 2:
        raise InfeasibleError("the options admit no plan (the LP relaxation is infeasible)")
    assert res.x is not None and res.bound is not None  # statuses 0 and 1 carry both
    stopped = res.status == 1
    lower = float(res.bound)
    y_lp = model.group_totals(res.x, problem.sizes)
    used = "lp"
    if not integral:
        y = np.clip(y_lp, problem.y_lo, problem.y_hi)
    else:
        t0 = time.perf_counter()
        y = round_solution(problem, y_lp)
        timings["round"] = time.perf_counter() - t0
        if solver in ("cbc", "highs"):
            remaining = limit - (time.perf_counter() - start)
            t0 = time.perf_counter()
            y_mip, sol_status, bound = _solve_pulp(model, problem, solver, remaining, mip_gap,
                                                   seed)
            timings["mip"] = time.perf_counter() - t0
            info["mip_status"] = sol_status
            if bound is not None and math.isfinite(bound):
                lower = max(lower, bound)
            if y_mip is not None and violation(problem, y_mip) <= 1e-6:
                if (evaluate(problem, y_mip)["objective"]
                        <= evaluate(problem, y)["objective"] + 1e-12
                        or violation(problem, y) > 1e-6):
                    y, used = y_mip, solver
                if sol_status != 1:
                    stopped = True
            else:
                stopped = True
        if violation(problem, y) > 1e-6:
            raise InfeasibleError(
                "rounding found no integer plan that meets every constraint (the LP relaxation "
                "is feasible); relax the budgets or floors, or drop permanent=True")
    parts = evaluate(problem, y)
    objective = parts["objective"]
    gap = max(objective - lower, 0.0) / max(abs(objective), 1e-9)
    if stopped:
        status = PlanStatus.TIME_LIMIT
    elif used != "lp" and info.get("mip_status") == 1:
        status = PlanStatus.OPTIMAL
        gap = min(gap, mip_gap)
        lower = max(lower, objective - gap * abs(objective))
    else:
        status = PlanStatus.OPTIMAL if gap <= mip_gap else PlanStatus.FEASIBLE
    timings["total"] = time.perf_counter() - start
    note = f"stopped by time_limit={time_limit:g}s ({res.message}); " if stopped else ""
    message = f"{note}solved by {used} ({res.message})"
    if stopped:
        warnings.warn(
            f"The balancer hit time_limit={time_limit:g}s; returning the best plan found "
            f"(gap {gap:.2%}), which depends on machine load. Use time_limit=None for a "
            "deterministic plan.",
            SolverTimeLimitWarning, stacklevel=user_stacklevel(),
        )
    return SolveResult(y, status, objective, lower, message, used, parts, timings, info)
