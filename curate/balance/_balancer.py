"""``InterClassBalancer``: an integer program that picks how many times each sample appears."""

from __future__ import annotations

import math
import numbers
import time
from typing import Any

import numpy as np

from curate._validation import Interval, Options, StrEnum, check_param
from curate.balance._formulation import Problem, signatures
from curate.balance._plan import BalancePlan
from curate.balance._solvers import available_solvers, solve
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
    "minimize_duplicates": [Options({True, False})],
    "duplicate_cost": [Interval(float, 0, None)],
    "removal_cost": [Interval(float, 0, None)],
    "max_repeats": [Interval(int, 1, None)],
    "min_class_fraction": [Interval(float, 0, 1)],
    "time_limit": [Interval(float, 0, None, closed="neither")],
    "mip_gap": [Interval(float, 0, 1)],
    "seed": [Interval(int, 0, None)],
    "rotation": [Options({"signature", "presence"})],
}


def _check_amount(name: str, value: Any, n: int, *, allow_none: bool = True) -> float:
    """An int count, or a float fraction of ``n`` (rounded down); ``None`` -> ``inf``."""
    if value is None and allow_none:
        return math.inf
    check_param(name, value, [Interval(int, 0, None), Interval(float, 0, None), None], _OWNER)
    if isinstance(value, numbers.Integral):
        return float(value)
    return float(math.floor(float(value) * n + 1e-9))


def _check_target(value: Any, n: int) -> tuple[int, int]:
    """``target_size``: None (= N), an int count, a float fraction of N, or a (lo, hi) pair."""
    if value is None:
        return n, n
    if isinstance(value, tuple | list) and len(value) == 2:
        lo = _check_amount("target_size", value[0], n, allow_none=False)
        hi = _check_amount("target_size", value[1], n, allow_none=False)
        if lo > hi:
            raise CurateValueError(
                f"The 'target_size' parameter of {_OWNER} must be a (lo, hi) pair with lo <= hi. "
                f"Got {tuple(value)!r} instead."
            )
        return int(lo), int(hi)
    if isinstance(value, str | bytes) or not isinstance(value, numbers.Real | tuple | list):
        raise CurateTypeError(
            f"The 'target_size' parameter of {_OWNER} must be an int, a float fraction of "
            f"n_samples, a (lo, hi) pair or None. Got {value!r} instead."
        )
    size = int(_check_amount("target_size", value, n, allow_none=False))
    return size, size


class InterClassBalancer:
    """Rebalance class totals with an integer program over per-sample multiplicities.

    Picks ``x_i ∈ {0, …, max_repeats}`` copies of every sample so that the class totals
    ``c = Aᵀx`` of the non-background classes are as close to uniform as the costs of
    duplicating and removing samples allow. Samples with identical label vectors are grouped
    (one integer variable per group) and each group's copies are spread evenly over its
    members, rotating per epoch (see :class:`BalancePlan`). The objective (docs/balancer.md)::

        (1/K) Σ_k f((c_k - mean(c)) / t⁰) + duplicate_cost · #copies / N
                                          + removal_cost · #removed / N

    with ``t⁰`` the original mean class total and ``f(u) = |u| + q(u)``, ``q`` a convex
    piecewise-linear interpolation of ``u²`` (so a deeper shortfall costs more per unit and
    the rarest classes are lifted first; the model stays linear), subject to
    ``Σ x_i = target_size``, the optional budgets and ``c_k ≥ min_class_fraction · c⁰_k``.

    Parameters
    ----------
    background_class : str, default=None
        Class excluded from the balance term; samples holding only it (and empty samples) are
        never duplicated. ``None`` uses the table's ``background`` (if any).
    minimize_duplicates : bool, default=False
        If True, every sample holding a class whose original total is below the mean class
        total is kept (``x_i ≥ 1``): rare samples are never dropped, at some cost in balance.
    count : {"instances", "samples"}, default="instances"
        Balance instance totals (objects, entities) or the number of samples holding a class.
    duplicate_cost : float, default=0.5
        Cost of one extra copy, in units of the balance term per ``1/N``. Higher: fewer
        duplicates and a less uniform result.
    removal_cost : float, default=0.5
        Cost of removing one sample. Higher: fewer removals.
    max_repeats : int, default=4
        Most copies of any one sample per epoch.
    min_class_fraction : float, default=0.5
        Every class keeps at least this share of its original total (``c_k ≥ f · c⁰_k``).
        Stops the solver from gutting a dominant class that co-occurs with everything.
    target_size : int, float, (lo, hi) or None, default=None
        Epoch size ``Σ x_i``: ``None`` keeps ``N``; an int is a count; a float is a fraction of
        ``N``; a pair gives a range.
    max_duplicates, max_removals : int, float or None, default=None
        Hard budgets on ``Σ max(x_i - 1, 0)`` and ``#{i : x_i = 0}``: an int count, a float
        fraction of ``N`` or ``None`` (unbounded).
    solver : {"auto", "lp", "cbc", "highs"}, default="auto"
        ``"lp"``: LP relaxation (HiGHS through ``highspy``, or scipy without it; sifting for
        large inputs) + rounding + repair with a certified gap. ``"cbc"``/``"highs"``: exact
        MIP through PuLP. ``"auto"``: LP, then CBC for at most 3 s when the gap exceeds
        ``mip_gap`` and there are at most 2,000 groups.
    time_limit : float, default=60.0
        Seconds for the whole solve. On time-out the best plan found is returned with its
        gap and a :class:`~curate.exceptions.SolverTimeLimitWarning`.
    mip_gap : float, default=1e-3
        Relative gap at which the MIP stops, and under which an LP-rounded plan is optimal.
    seed : int, default=0
        Seeds the MIP and the member order of the plan's per-epoch draws.
    rotation : {"signature", "presence"}, default="signature"
        Which samples take turns across epochs in :meth:`BalancePlan.draw`.
        ``"signature"``: only samples with identical label vectors, so every epoch has
        exactly the planned class totals. ``"presence"``: samples holding the same set of
        classes, so per-epoch *sample* totals stay exact and many more distinct samples
        are seen over epochs, while *instance* totals drift from epoch to epoch (10–25 %
        L1 on VOC/COCO-like data; see docs/balancer.md). With ``count="samples"`` both
        are the same.

    Attributes
    ----------
    plan_ : BalancePlan
        The plan of the last :meth:`fit`.

    Examples
    --------
    >>> import curate
    >>> t = curate.LabelTable.from_labels([["cat"]] * 6 + [["dog"]] * 2)
    >>> plan = curate.InterClassBalancer().fit(t)
    >>> plan.counts_after.tolist(), plan.epoch_size
    ([4, 4], 8)
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
        solver: str = "auto",
        time_limit: float = 60.0,
        mip_gap: float = 1e-3,
        seed: int = 0,
        rotation: str = "signature",
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
        self.solver = solver
        self.time_limit = time_limit
        self.mip_gap = mip_gap
        self.seed = seed
        self.rotation = rotation

    _PARAMS = (
        "background_class", "minimize_duplicates", "count", "duplicate_cost", "removal_cost",
        "max_repeats", "min_class_fraction", "target_size", "max_duplicates", "max_removals",
        "solver", "time_limit", "mip_gap", "seed", "rotation",
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
            With ``status``, ``objective``, ``lower_bound`` (LP relaxation or MIP bound),
            ``gap`` and timings in ``details["timings"]``.

        Raises
        ------
        InfeasibleError
            When the options admit no plan; the message names the options to relax.

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
        for name, rules in _RULES.items():
            check_param(name, getattr(self, name), rules, _OWNER)
        count = Count.from_str(self.count, "count", _OWNER)
        solver = Solver.from_str(self.solver, "solver", _OWNER)
        if solver.value not in available_solvers():
            raise CurateValueError(
                f"The 'solver' parameter of {_OWNER} is {solver.value!r}, which is not installed "
                f"here; available: {available_solvers()}. Install highspy for 'highs'"
            )
        background = self.background_class
        if background is None:
            background = table.background
        if background is not None:
            check_param("background_class", str(background), [Options(set(table.classes))], _OWNER)
        n = table.n_samples
        if n == 0:
            raise CurateValueError("table has no samples; there is nothing to balance")
        lo, hi = _check_target(self.target_size, n)
        max_dup = _check_amount("max_duplicates", self.max_duplicates, n)
        max_rem = _check_amount("max_removals", self.max_removals, n)

        t0 = time.perf_counter()
        matrix = table.matrix if count is Count.INSTANCES else table.presence()
        sigs = signatures(matrix)
        sig_seconds = time.perf_counter() - t0

        totals = np.asarray(matrix.sum(axis=0), dtype=np.float64).ravel()
        keep = totals > 0
        if background is not None:
            keep[table.classes.index(str(background))] = False
        balanced = np.flatnonzero(keep)
        if balanced.size == 0:
            raise CurateValueError(
                "table has no non-background class with labels; there is nothing to balance"
            )
        vectors = sigs.vectors[:, balanced].tocsr()
        sizes = sigs.sizes.astype(np.float64)
        holds = np.diff(vectors.indptr) > 0
        d_max = np.where(holds, sizes * (self.max_repeats - 1), 0.0)
        r_max = sizes.copy()
        c0 = totals[balanced]
        if self.minimize_duplicates:
            rare = (c0 < c0.mean()).astype(np.float64)
            must_keep = np.asarray(vectors @ rare).ravel() > 0
            r_max[must_keep] = 0.0
        problem = Problem(
            vectors=vectors, sizes=sizes, r_max=r_max, d_max=d_max,
            floor=self.min_class_fraction * c0, size_lo=lo, size_hi=hi,
            max_duplicates=max_dup, max_removals=max_rem,
            duplicate_cost=float(self.duplicate_cost), removal_cost=float(self.removal_cost),
        )
        self._check_feasible(problem)
        context = {"signatures": sigs, "signature_seconds": sig_seconds, "count": count.value,
                   "solver": solver.value, "balanced": [table.classes[k] for k in balanced],
                   "background": background}
        return problem, context

    def _check_feasible(self, p: Problem) -> None:
        n = p.n_samples
        most = float(p.y_hi.sum())
        least = float(p.y_lo.sum())
        if p.size_lo > most:
            raise InfeasibleError(
                f"target_size={self.target_size!r} asks for at least {p.size_lo} samples, but "
                f"max_repeats={self.max_repeats} allows at most {int(most)} (background-only "
                "and empty samples are never duplicated); raise max_repeats or lower target_size"
            )
        if p.size_hi < least:
            raise InfeasibleError(
                f"target_size={self.target_size!r} allows at most {p.size_hi} samples, but "
                f"minimize_duplicates=True must keep {int(least)} samples that hold a rare class; "
                "raise target_size or set minimize_duplicates=False"
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

    def _fit(self, table: LabelTable, problem: Problem, context: dict[str, Any]) -> BalancePlan:
        try:
            result = solve(problem, solver=context["solver"], time_limit=float(self.time_limit),
                           mip_gap=float(self.mip_gap), seed=int(self.seed))
        except InfeasibleError as exc:
            raise InfeasibleError(
                "the options admit no plan: relax min_class_fraction="
                f"{self.min_class_fraction!r}, max_duplicates={self.max_duplicates!r}, "
                f"max_removals={self.max_removals!r} or target_size={self.target_size!r}"
            ) from exc
        sigs = context["signatures"]
        timings = {"signature": context["signature_seconds"], **result.timings}
        details = {
            "timings": timings,
            "parts": result.parts,
            "solver": result.solver,
            "n_groups": sigs.n_groups,
            "balanced_classes": context["balanced"],
            "background": context["background"],
            "size_range": [problem.size_lo, problem.size_hi],
            **result.info,
        }
        return BalancePlan(
            table, sigs.group, result.y, count=context["count"], seed=int(self.seed),
            method="interclass", status=result.status, message=result.message,
            objective=result.objective, lower_bound=result.lower_bound, gap=result.gap,
            solve_seconds=timings["signature"] + timings.get("total", 0.0),
            options=self.get_params(), details=details,
            rotation="presence" if self.rotation == "presence" else None,
        )
