"""``InterClassBalancer``: an integer program that picks how many times each sample appears."""

from __future__ import annotations

import math
import numbers
import time
from dataclasses import replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from curate._validation import Bool, Interval, Options, StrEnum, check_param
from curate.balance._draw import quantize
from curate.balance._formulation import Problem, Signatures, evaluate, signatures
from curate.balance._plan import MAX_WINDOW, BalancePlan, PlanStatus
from curate.balance._solvers import SolveResult, available_solvers, solve
from curate.exceptions import CurateTypeError, CurateValueError, InfeasibleError
from curate.labels import LabelTable

__all__ = ["InterClassBalancer"]

_OWNER = "InterClassBalancer"


class Count(StrEnum):
    """What a class total counts."""

    INSTANCES = "instances"
    SAMPLES = "samples"


class Solver(StrEnum):
    """Solver backends."""

    AUTO = "auto"
    LP = "lp"
    CBC = "cbc"
    HIGHS = "highs"


_RULES: dict[str, list[Any]] = {
    "minimize_duplicates": [Bool()],
    "permanent": [Bool()],
    "duplicate_cost": [Interval(float, 0, None, finite=True)],
    "removal_cost": [Interval(float, 0, None, finite=True)],
    "max_repeats": [Interval(int, 1, None)],
    "min_class_fraction": [Interval(float, 0, 1)],
    "coverage_epochs": [Interval(int, 1, MAX_WINDOW)],
    "time_limit": [Interval(float, 0, None, closed="neither"), None],
    "mip_gap": [Interval(float, 0, 1)],
    "seed": [Interval(int, 0, None)],
}


def _check_budget(name: str, value: Any, n: int) -> float:
    """A budget as scikit-learn's ``test_size``: an int count or a float fraction in (0, 1)."""
    if value is None:
        return math.inf
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise CurateTypeError(
            f"The {name!r} parameter of {_OWNER} must be an int count, a float fraction in "
            f"(0, 1) or None. Got {value!r} instead."
        )
    if isinstance(value, numbers.Integral):
        if value < 0:
            raise CurateValueError(
                f"The {name!r} parameter of {_OWNER} must be an int count >= 0 or a float "
                f"fraction in (0, 1). Got {value!r} instead."
            )
        return float(value)
    fraction = float(value)
    if not 0.0 < fraction < 1.0:
        hint = f" (for a count pass an int: {name}={int(fraction)})" \
            if math.isfinite(fraction) and fraction >= 1 else ""
        raise CurateValueError(
            f"The {name!r} parameter of {_OWNER} must be an int count or a float fraction "
            f"in (0, 1) of n_samples, as scikit-learn's test_size. Got {value!r} instead"
            f"{hint}."
        )
    return float(math.floor(float(value) * n + 1e-9))


def _check_size(value: Any, n: int) -> int:
    """One ``target_size`` bound: an int count >= 1 or a positive finite float fraction of N."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise CurateTypeError(
            f"The 'target_size' parameter of {_OWNER} must be an int, a float fraction of "
            f"n_samples, a (lo, hi) pair or None. Got {value!r} instead."
        )
    if isinstance(value, numbers.Integral):
        if value < 1:
            raise CurateValueError(
                f"The 'target_size' parameter of {_OWNER} must be an int >= 1. Got {value!r} "
                "instead."
            )
        return int(value)
    if not (math.isfinite(float(value)) and float(value) > 0):
        raise CurateValueError(
            f"The 'target_size' parameter of {_OWNER} must be a positive, finite fraction of "
            f"n_samples (or an int count). Got {value!r} instead."
        )
    return max(math.floor(float(value) * n + 1e-9), 1)


def _check_target(value: Any, n: int) -> tuple[int, int]:
    """``target_size``: None (= N), an int count, a float fraction of N, or a (lo, hi) pair."""
    if value is None:
        return n, n
    if isinstance(value, tuple | list):
        if len(value) != 2:
            raise CurateValueError(
                f"The 'target_size' parameter of {_OWNER} must be a (lo, hi) pair when a "
                f"sequence. Got {tuple(value)!r} instead."
            )
        lo, hi = _check_size(value[0], n), _check_size(value[1], n)
        if lo > hi:
            raise CurateValueError(
                f"The 'target_size' parameter of {_OWNER} must be a (lo, hi) pair with lo <= hi. "
                f"Got {tuple(value)!r} instead."
            )
        return lo, hi
    size = _check_size(value, n)
    return size, size


class InterClassBalancer:
    """Rebalance class totals with a linear program over expected copies per sample and epoch.

    Picks how many times each sample appears per epoch, ``x_i ∈ [1/W, max_repeats]`` with
    ``W = coverage_epochs``, so that the class totals ``c = Aᵀx`` of the non-background classes
    are as close to uniform as the costs of duplicating samples and letting them sit out allow.
    Samples with identical label vectors are grouped (one variable per group). The objective
    (docs/balancer.md)::

        (1/K) Σ_k f((c_k - mean(c)) / t⁰) + duplicate_cost · #copies / N
                                          + removal_cost · #sitting out / N

    with ``t⁰`` the original mean class total and ``f(u) = |u| + q(u)``, ``q`` a convex
    piecewise-linear interpolation of ``u²`` (a deeper shortfall costs more per unit, so the
    rarest classes are lifted first; the model stays linear), subject to
    ``Σ x_i = target_size``, the optional budgets and ``c_k ≥ min_class_fraction · c⁰_k``.

    The plan holds *expected* copies; :meth:`BalancePlan.draw` turns them into whole copies
    per epoch by systematic rounding (:mod:`curate.balance._draw`): the epoch size is exact,
    every epoch's class totals stay within a few instances of the plan, and every sample is
    drawn at least once in every ``coverage_epochs`` consecutive epochs. A "removal" means a
    sample sits out an epoch, never that it is lost, unless ``permanent=True`` asks for a
    fixed offline subset. The solve is deterministic: the same table, options and seed give
    the same plan (same :attr:`BalancePlan.digest`) in any process, at any machine load.

    Parameters
    ----------
    background_class : str, default=None
        Class excluded from the balance term; samples holding only it (and empty samples) are
        never duplicated and are the first to sit out: no sample holding another class sits
        out while background-only samples could. ``None`` uses the table's ``background``.
    minimize_duplicates : bool, default=False
        If True, every sample holding a *rare* class (original total below the median total
        of the balanced classes) is drawn in every epoch, and copies are spread: the extra
        copies per epoch of any two samples holding the same rare class differ by at most one,
        so none gets a second copy before all its peers have a first.
    count : {"instances", "samples"}, default="instances"
        Balance instance totals (objects, entities) or the number of samples holding a class.
    duplicate_cost : float, default=0.5
        Cost of one extra copy, in units of the balance term per ``1/N``. Higher: fewer
        duplicates and a less uniform result.
    removal_cost : float, default=0.5
        Cost of one sample sitting out an epoch. Higher: fewer sit-outs.
    max_repeats : int, default=4
        Most expected copies of any one sample per epoch.
    min_class_fraction : float, default=0.5
        Every class keeps at least this share of its original total (``c_k ≥ f · c⁰_k``).
        Stops the solver from gutting a dominant class that co-occurs with everything.
    target_size : int, float, (lo, hi) or None, default=None
        Epoch size ``Σ x_i``: ``None`` keeps ``N``; an int is a count; a positive float is a
        fraction of ``N`` (``1.5`` = half as many again); a pair gives a range.
    max_duplicates, max_removals : int, float or None, default=None
        Hard budgets on the expected extra copies ``Σ max(x_i - 1, 0)`` and sit-outs
        ``Σ max(1 - x_i, 0)`` per epoch, as scikit-learn's ``test_size``: an int is a count,
        a float in (0, 1) a fraction of ``N``; ``None`` is unbounded.
    coverage_epochs : int, default=2
        ``W``: every sample is drawn at least once in every ``W`` consecutive epochs (each
        keeps at least ``1/W`` expected copies). ``1``: nobody sits out. Larger: more room to
        balance, longer until a sample sitting out comes back. Ignored with ``permanent``.
    permanent : bool, default=False
        Solve for whole copies of a fixed subset (0 = removed for good), as for an offline
        dataset written once: the same multiplicities every epoch. Rounded from the LP with a
        certified gap, or exact with ``solver="cbc"``/``"highs"``.
    solver : {"auto", "lp", "cbc", "highs"}, default="auto"
        ``"auto"``/``"lp"``: the LP through HiGHS (serial dual simplex, one thread; sifting
        for large inputs), exact for expected plans; rounded with a certified gap for
        permanent ones. ``"cbc"``/``"highs"``: the exact MIP through PuLP (``permanent=True``
        only).
    time_limit : float or None, default=None
        Abort guard in seconds, checked between sifting rounds. A plan stopped by it has
        ``status="time_limit"``, is the best found so far (never the identity plan) with a
        valid bound, depends on machine load, and is refused by the distributed sampler.
    mip_gap : float, default=1e-3
        Relative gap under which a plan counts as optimal (and the MIP stops).
    seed : int, default=0
        Seeds the MIP and the plan's per-epoch draws.

    Attributes
    ----------
    plan_ : BalancePlan
        The plan of the last :meth:`fit`.

    Examples
    --------
    >>> import curate
    >>> t = curate.LabelTable.from_labels([["cat"]] * 6 + [["dog"]] * 2)
    >>> plan = curate.InterClassBalancer().fit(t)
    >>> plan.counts_after.tolist(), plan.epoch_size, plan.coverage_epochs
    ([4, 4], 8, 2)
    """

    def __init__(
        self,
        *,
        background_class: str | None = None,
        minimize_duplicates: bool = False,
        count: str = "instances",
        duplicate_cost: float = 0.5,
        removal_cost: float = 0.5,
        max_repeats: int = 4,
        min_class_fraction: float = 0.5,
        target_size: int | float | tuple[int | float, int | float] | None = None,
        max_duplicates: int | float | None = None,
        max_removals: int | float | None = None,
        coverage_epochs: int = 2,
        permanent: bool = False,
        solver: str = "auto",
        time_limit: float | None = None,
        mip_gap: float = 1e-3,
        seed: int = 0,
    ) -> None:
        self.background_class = background_class
        self.minimize_duplicates = minimize_duplicates
        self.count = count
        self.duplicate_cost = duplicate_cost
        self.removal_cost = removal_cost
        self.max_repeats = max_repeats
        self.min_class_fraction = min_class_fraction
        self.target_size = target_size
        self.max_duplicates = max_duplicates
        self.max_removals = max_removals
        self.coverage_epochs = coverage_epochs
        self.permanent = permanent
        self.solver = solver
        self.time_limit = time_limit
        self.mip_gap = mip_gap
        self.seed = seed

    _PARAMS = (
        "background_class", "minimize_duplicates", "count", "duplicate_cost", "removal_cost",
        "max_repeats", "min_class_fraction", "target_size", "max_duplicates", "max_removals",
        "coverage_epochs", "permanent", "solver", "time_limit", "mip_gap", "seed",
    )

    def get_params(self) -> dict[str, Any]:
        """The constructor parameters, as stored.

        Examples
        --------
        >>> InterClassBalancer(max_repeats=3).get_params()["max_repeats"]
        3
        """
        return {name: getattr(self, name) for name in self._PARAMS}

    def __repr__(self) -> str:
        changed = {k: v for k, v in self.get_params().items()
                   if v != type(self)().get_params()[k]}
        return f"InterClassBalancer({', '.join(f'{k}={v!r}' for k, v in changed.items())})"

    # ------------------------------------------------------------------ public
    def fit(self, table: LabelTable) -> BalancePlan:
        """Solve the program for ``table`` and return (and store in ``plan_``) the plan.

        Parameters
        ----------
        table : LabelTable
            The labels to rebalance.

        Returns
        -------
        BalancePlan
            With ``status``, ``objective``, ``lower_bound`` (LP optimum or bound), ``gap``,
            ``digest`` and timings in ``details["timings"]``.

        Raises
        ------
        InfeasibleError
            When the options admit no plan; the message names the constraint to relax.

        Examples
        --------
        >>> import curate
        >>> t = curate.LabelTable.from_labels([["a"], ["a"], ["a"], ["b"]])
        >>> plan = InterClassBalancer(max_removals=0).fit(t)
        >>> plan.n_removed, plan.epoch_size
        (0, 4)
        """
        problem, context = self._balance_iv(table)
        self.plan_ = self._fit(table, problem, context)
        return self.plan_

    # ------------------------------------------------------------------ private
    def _balance_iv(self, table: LabelTable) -> tuple[Problem, dict[str, Any]]:
        """Validate every option once and turn them into the canonical :class:`Problem`."""
        if not isinstance(table, LabelTable):
            raise CurateTypeError(
                f"fit expects a LabelTable; got {type(table).__name__}. Build one with "
                "curate.LabelTable.from_labels or curate.io.read_labels"
            )
        count, solver = self._check_options()
        background = self.background_class
        if background is None:
            background = table.background
        bounds = self._check_input(list(table.classes), background, table.n_samples)

        t0 = time.perf_counter()
        matrix = table.matrix if count is Count.INSTANCES else table.presence()
        sigs = signatures(matrix)
        sig_seconds = time.perf_counter() - t0
        totals = np.asarray(matrix.sum(axis=0), dtype=np.float64).ravel()
        return self._group_iv(sigs, totals, list(table.classes), background, bounds,
                              count, solver, sig_seconds)

    def _fit_groups(self, vectors: sp.csr_matrix, sizes: np.ndarray, classes: list[str],
                    count: str, background: str | None = None,
                    ) -> tuple[dict[str, Any], Signatures]:
        """Solve on signature totals alone: the fields of the plan :meth:`fit` would return.

        ``vectors`` (n_groups × n_classes, counts per ``count``) and ``sizes`` are the
        distinct label vectors of a table in first-occurrence order, as
        :func:`~curate.balance._formulation.signatures` gives them; ``classes`` in
        :class:`LabelTable` order; ``background`` stands for the table's (the balancer's
        ``background_class`` wins). The Problem, the solve and the rounding are those of
        :meth:`fit`, so ``group_total`` is byte-identical to ``fit(table).group_total``.
        Returns the :class:`BalancePlan` keyword fields (no ``table`` or ``group``) and the
        signatures (with an empty ``group``: no per-sample array).
        """
        opt_count, solver = self._check_options()
        if count != opt_count.value:
            raise CurateValueError(
                f"the signatures count {count!r} but {_OWNER} has count={self.count!r}; run "
                f"the label pass with count={self.count!r} or set the balancer's count={count!r}"
            )
        m = sp.csr_matrix(vectors, dtype=np.int64)
        m.sort_indices()
        n_per = np.asarray(sizes, dtype=np.int64)
        sigs = Signatures(np.zeros(0, dtype=np.int64), m, n_per)
        if self.background_class is not None:
            background = self.background_class
        bounds = self._check_input(list(classes), background, int(n_per.sum()))
        totals = np.asarray(m.T @ n_per, dtype=np.float64).ravel()
        problem, context = self._group_iv(sigs, totals, list(classes), background,
                                          bounds, opt_count, solver, 0.0)
        return self._solve_plan(problem, context), sigs

    def _check_options(self) -> tuple[Count, Solver]:
        for name, rules in _RULES.items():
            check_param(name, getattr(self, name), rules, _OWNER)
        count = Count.from_str(self.count, "count", _OWNER)
        solver = Solver.from_str(self.solver, "solver", _OWNER)
        if solver.value not in available_solvers():
            raise CurateValueError(
                f"The 'solver' parameter of {_OWNER} is {solver.value!r}, which is not installed "
                f"here; available: {available_solvers()}. Install highspy for 'highs'"
            )
        if solver in (Solver.CBC, Solver.HIGHS) and not self.permanent:
            raise CurateValueError(
                f"solver={solver.value!r} solves the integer program of a permanent subset; "
                "expected plans are solved exactly by the LP. Use solver='auto', or set "
                "permanent=True"
            )
        return count, solver

    def _check_input(self, classes: list[str], background: str | None,
                     n: int) -> tuple[int, int, float, float]:
        """Check the background class and sample count; resolve target size and budgets."""
        if background is not None:
            check_param("background_class", str(background), [Options(set(classes))], _OWNER)
        if n == 0:
            raise CurateValueError("table has no samples; there is nothing to balance")
        lo, hi = _check_target(self.target_size, n)
        max_dup = _check_budget("max_duplicates", self.max_duplicates, n)
        max_rem = _check_budget("max_removals", self.max_removals, n)
        return lo, hi, max_dup, max_rem

    def _group_iv(self, sigs: Signatures, totals: np.ndarray, classes: list[str],
                  background: str | None, bounds: tuple[int, int, float, float], count: Count,
                  solver: Solver, sig_seconds: float) -> tuple[Problem, dict[str, Any]]:
        """The canonical :class:`Problem` of signatures ``sigs`` and class ``totals``."""
        lo, hi, max_dup, max_rem = bounds
        keep = totals > 0
        if background is not None:
            keep[classes.index(str(background))] = False
        balanced = np.flatnonzero(keep)
        if balanced.size == 0:
            raise CurateValueError(
                "table has no non-background class with labels; there is nothing to balance"
            )
        vectors = sigs.vectors[:, balanced].tocsr()
        sizes = sigs.sizes.astype(np.float64)
        holds = np.diff(vectors.indptr) > 0
        d_max = np.where(holds, sizes * (self.max_repeats - 1), 0.0)
        window = None if self.permanent else int(self.coverage_epochs)
        r_max = sizes.copy() if window is None else sizes * (1.0 - 1.0 / window)
        c0 = totals[balanced]
        spread = None
        if self.minimize_duplicates:
            rare = c0 < np.median(c0)
            must_keep = np.asarray(vectors[:, rare].sum(axis=1)).ravel() > 0
            r_max[must_keep] = 0.0
            if rare.any():
                spread = sp.csr_matrix((vectors[:, rare] > 0).astype(np.float64))
        problem = Problem(
            vectors=vectors, sizes=sizes, r_max=r_max, d_max=d_max,
            floor=self.min_class_fraction * c0, size_lo=lo, size_hi=hi,
            max_duplicates=max_dup, max_removals=max_rem,
            duplicate_cost=float(self.duplicate_cost), removal_cost=float(self.removal_cost),
            spread=spread,
        )
        self._check_feasible(problem, window)
        context = {"signatures": sigs, "signature_seconds": sig_seconds, "count": count.value,
                   "solver": solver.value, "balanced": [classes[k] for k in balanced],
                   "background": background, "window": window,
                   "background_only": ~holds if background is not None else None}
        return problem, context

    def _check_feasible(self, p: Problem, window: int | None) -> None:
        n = p.n_samples
        most = float(p.y_hi.sum())
        least = float(p.y_lo.sum())
        if p.size_lo > most:
            raise InfeasibleError(
                f"target_size={self.target_size!r} asks for at least {p.size_lo} samples, but "
                f"max_repeats={self.max_repeats} allows at most {int(most)} (background-only "
                "and empty samples are never duplicated); raise max_repeats or lower target_size"
            )
        if p.size_hi < least - 1e-9:
            why = []
            if window is not None:
                why.append(f"coverage_epochs={window} keeps every sample at >= 1/{window} "
                           "expected copies per epoch")
            if self.minimize_duplicates:
                why.append("minimize_duplicates=True keeps every sample holding a rare class")
            raise InfeasibleError(
                f"target_size={self.target_size!r} allows at most {p.size_hi} samples per epoch, "
                f"but {' and '.join(why)}: at least {math.ceil(least - 1e-9)} of {n}; raise "
                "target_size or coverage_epochs, set minimize_duplicates=False, or use "
                "permanent=True for a fixed smaller subset"
            )
        if n - p.size_hi > p.max_removals:
            raise InfeasibleError(
                f"max_removals={self.max_removals!r} allows {int(p.max_removals)} removals, but "
                f"target_size={self.target_size!r} needs at least {int(n - p.size_hi)}; "
                "raise max_removals or target_size"
            )
        if p.size_lo - n > p.max_duplicates:
            raise InfeasibleError(
                f"max_duplicates={self.max_duplicates!r} allows {int(p.max_duplicates)} copies, "
                f"but target_size={self.target_size!r} needs at least {int(p.size_lo - n)}; "
                "raise max_duplicates or lower target_size"
            )

    def _solve(self, problem: Problem, context: dict[str, Any]) -> SolveResult:
        try:
            return solve(problem, solver=context["solver"],
                         time_limit=None if self.time_limit is None else float(self.time_limit),
                         mip_gap=float(self.mip_gap), seed=int(self.seed),
                         integral=bool(self.permanent))
        except InfeasibleError as exc:
            raise InfeasibleError(
                "the options admit no plan: with these budgets and target_size no plan keeps "
                f"every class at min_class_fraction={self.min_class_fraction!r} of its total; "
                f"relax min_class_fraction, max_duplicates={self.max_duplicates!r}, "
                f"max_removals={self.max_removals!r} or target_size={self.target_size!r}"
                + ("" if self.permanent else
                   f", or raise coverage_epochs={self.coverage_epochs!r}")
            ) from exc

    def _solve_background_first(self, problem: Problem,
                                context: dict[str, Any]) -> tuple[SolveResult, Problem]:
        """Let background-only samples sit out first (see ``background_class``).

        Phase 1 forbids sit-outs of samples holding a balanced class. If it leaves every
        background-only sample at its least copies, phase 2 fixes them there and allows the
        others to sit out too; the better plan is kept. If phase 1 is infeasible (the others
        must sit out), phase 2 alone is solved.
        """
        bg_only = context["background_only"]
        r_entity = np.where(bg_only, problem.r_max, 0.0)
        first = _replace(problem, r_max=r_entity)
        try:
            result = self._solve(first, context)
        except InfeasibleError:
            # samples holding a class must sit out too (a target_size the background-only
            # ones cannot reach alone): the background-only ones still sit out first, at
            # their least copies; only if that cannot hold either is the rule dropped
            second = _replace(problem, fixed_low=bg_only)
            try:
                return self._solve(second, context), second
            except InfeasibleError:
                return self._solve(problem, context), problem
        if not (problem.r_max[~bg_only] > 0).any():
            return result, first
        y_bg = result.y[bg_only]
        if bg_only.any() and (y_bg > problem.y_lo[bg_only] + 1e-6).any():
            return result, first
        second = _replace(problem, fixed_low=bg_only)
        other = self._solve(second, context)
        return (other, second) if other.objective < result.objective - 1e-12 else (result, first)

    def _fit(self, table: LabelTable, problem: Problem, context: dict[str, Any]) -> BalancePlan:
        return BalancePlan(table, context["signatures"].group,
                           **self._solve_plan(problem, context))

    def _whole_epoch_size(self, result: SolveResult, used: Problem, context: dict[str, Any]
                          ) -> tuple[SolveResult, Problem]:
        """Re-solve a range ``target_size`` at a whole epoch size when the LP's is not.

        Epochs are whole, so the plan's expected size must be. Moving a fractional sum to a
        whole one afterwards would ignore the budgets and class floors; instead the LP is
        solved again with the size fixed at the floor and the ceiling of its optimum (the
        optimal value is convex in the size, so the better of the two is the best whole
        size), and every constraint holds in the plan.
        """
        total = float(result.y.sum())
        if abs(total - round(total)) <= 1e-6:
            return result, used
        best: tuple[SolveResult, Problem] | None = None
        for size in sorted({math.floor(total), math.ceil(total)}):
            if not used.size_lo <= size <= used.size_hi:
                continue
            fixed = replace(used, size_lo=size, size_hi=size)
            try:
                other = self._solve(fixed, context)
            except InfeasibleError:
                continue
            if best is None or other.objective < best[0].objective - 1e-12:
                best = (other, fixed)
        if best is None:
            raise InfeasibleError(
                f"no whole epoch size in target_size=({used.size_lo}, {used.size_hi}) meets "
                f"the budgets and class floors (the LP's best size is {total:.4f}); widen "
                "target_size or loosen max_duplicates / max_removals / min_class_fraction"
            )
        return best

    def _solve_plan(self, problem: Problem, context: dict[str, Any]) -> dict[str, Any]:
        """Solve, round the expected totals, and return the plan's fields (all but the
        table and the per-sample groups)."""
        if context["background_only"] is not None and context["background_only"].any():
            result, used = self._solve_background_first(problem, context)
        else:
            result, used = self._solve(problem, context), problem
        window = context["window"]
        if window is not None and used.size_lo != used.size_hi:
            result, used = self._whole_epoch_size(result, used, context)
        y = result.y
        objective, lower, gap = result.objective, result.lower_bound, result.gap
        parts = result.parts
        rounding_cost = 0.0
        if window is not None:
            y = quantize(y, used.y_lo, used.y_hi, used.size_lo, used.size_hi, window)
            parts = evaluate(used, y)
            # the gap certifies the solve; the fixed-point rounding of the expected totals
            # (at most a few 2^-20 / W copies per group) is reported on its own
            rounding_cost = max(parts["objective"] - objective, 0.0)
            objective = parts["objective"]
            if lower is not None:
                diff = max(objective - rounding_cost - lower, 0.0)
                gap = 0.0 if diff <= 1e-12 else diff / max(abs(objective), 1e-9)
        sigs = context["signatures"]
        timings = {"signature": context["signature_seconds"], **result.timings}
        details = {
            "timings": timings,
            "parts": parts,
            "solver": result.solver,
            "n_groups": sigs.n_groups,
            "balanced_classes": context["balanced"],
            "background": context["background"],
            "size_range": [problem.size_lo, problem.size_hi],
            "rounding_cost": rounding_cost,
            **result.info,
        }
        status = result.status
        if status is PlanStatus.OPTIMAL and gap is not None and gap > float(self.mip_gap):
            status = PlanStatus.FEASIBLE
        return {
            "group_total": y, "count": context["count"], "seed": int(self.seed),
            "method": "interclass", "status": status, "message": result.message,
            "objective": objective, "lower_bound": lower, "gap": gap,
            "solve_seconds": timings["signature"] + timings.get("total", 0.0),
            "options": self.get_params(), "details": details,
            "rounding": "systematic", "window": window,
        }


def _replace(problem: Problem, *, r_max: np.ndarray | None = None,
             fixed_low: np.ndarray | None = None) -> Problem:
    """A copy of ``problem`` with other removal bounds; ``fixed_low`` pins groups at their
    least copies (``d = 0``, ``r = r_max``) by tightening their bounds."""
    r = problem.r_max if r_max is None else r_max
    if fixed_low is None:
        return replace(problem, r_max=r)
    return replace(problem, r_max=r, d_max=np.where(fixed_low, 0.0, problem.d_max),
                   r_min=np.where(fixed_low, r, 0.0))
