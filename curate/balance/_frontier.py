"""The balance-versus-cost trade-off: the balancer at a series of budgets, baselines beside it.

Every point is measured on its epoch-0 draw (:func:`plan_quality`) and over its first
``n_epochs`` draws: ``cv_worst`` (the least balanced epoch) and ``seen`` (share of samples drawn
at least once). Baselines that redraw every epoch (``inverse_frequency``, stochastic
``repeat_factor``) are thus judged on what a training run sees, not on one frozen draw.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from curate._validation import check_instance, check_int, param_error
from curate.balance import baselines as _bl
from curate.balance._plan import BalancePlan
from curate.balance._quality import coefficient_of_variation, plan_quality
from curate.exceptions import CurateValueError
from curate.labels import LabelTable

__all__ = ["DEFAULT_BUDGETS", "baseline_plans", "frontier"]

#: Duplicate budgets (fractions of N) used when ``frontier(budgets=None)``.
DEFAULT_BUDGETS: tuple[float, ...] = (0.0, 0.02, 0.05, 0.1, 0.2, 0.5)

COLUMNS = [
    "method", "budget", "cv", "kl", "imbalance_ratio", "duplicates", "removals", "distinct",
    "epoch_size", "rare_kept", "cv_worst", "seen", "objective", "lower_bound", "gap", "status",
    "seconds",
]


def _is_single_label(table: LabelTable) -> bool:
    return bool(table.n_samples) and bool(np.all(np.diff(table.presence().indptr) == 1))


def baseline_plans(
    table: LabelTable, *, seed: int = 0, thresholds: Sequence[float] = (0.001, 0.01, 0.1)
) -> dict[str, Callable[[], BalancePlan]]:
    """Name -> zero-argument builder of each baseline plan that applies to ``table``.

    ``repeat_factor`` at each threshold, ``class_quota``, ``inverse_frequency``, and on
    single-label tables ``random_over`` and ``random_under``. Builders are returned (not
    plans) so callers can time each one.

    Examples
    --------
    >>> import curate
    >>> t = curate.LabelTable.from_labels([["a", "b"], ["a"], ["b"], ["a"]])
    >>> sorted(baseline_plans(t))
    ['class_quota', 'inverse_frequency', 'repeat_factor(t=0.001)', 'repeat_factor(t=0.01)', \
'repeat_factor(t=0.1)']
    """
    out: dict[str, Callable[[], BalancePlan]] = {}
    for t in thresholds:
        out[f"repeat_factor(t={t:g})"] = functools.partial(
            _bl.repeat_factor, table, float(t), seed=seed
        )
    out["class_quota"] = lambda: _bl.class_quota(table, seed=seed)
    out["inverse_frequency"] = lambda: _bl.inverse_frequency(table, seed=seed)
    if _is_single_label(table):
        out["random_over"] = lambda: _bl.random_over(table, seed=seed)
        out["random_under"] = lambda: _bl.random_under(table, seed=seed)
    return out


def _budget_count(budget: Any, n: int) -> int:
    allowed = "a list of ints (counts >= 0) and floats in [0, 1] (fractions of N)"
    if isinstance(budget, bool) or not isinstance(budget, int | float | np.integer | np.floating):
        raise param_error("budgets", "frontier", allowed, budget, wrong_type=True)
    if isinstance(budget, float | np.floating):
        if not 0 <= budget <= 1:
            raise param_error("budgets", "frontier", allowed, float(budget))
        return math.floor(float(budget) * n)
    if budget < 0:
        raise param_error("budgets", "frontier", allowed, int(budget))
    return int(budget)


def _epoch_measures(plan: BalancePlan, count: str, n_epochs: int) -> dict[str, float]:
    """Worst per-epoch CV of the measured classes and share of samples seen in ``n_epochs``.

    The measured classes are :func:`plan_quality`'s: classes that occur, background excluded.
    """
    table = plan.table
    matrix = table.matrix if count == "instances" else table.presence()
    keep = np.asarray(matrix.sum(axis=0)).ravel() > 0
    if table.background is not None:
        keep[table.classes.index(table.background)] = False
    seen = np.zeros(table.n_samples, dtype=bool)
    worst = math.nan
    for epoch in range(n_epochs):
        x = plan.draw(epoch)
        seen |= x > 0
        if keep.any():
            cv = coefficient_of_variation(np.asarray(matrix.T @ x, dtype=np.float64)[keep])
            worst = cv if math.isnan(worst) else max(worst, cv)
    return {"cv_worst": worst, "seen": float(seen.mean()) if seen.size else math.nan}


def _row(
    plan: BalancePlan, count: str, seconds: float, budget: float, n_epochs: int
) -> dict[str, Any]:
    row = plan_quality(plan, count=count, seconds=seconds)
    row.update(_epoch_measures(plan, count, n_epochs))
    row.update(
        budget=budget,
        objective=math.nan if plan.objective is None else float(plan.objective),
        lower_bound=math.nan if plan.lower_bound is None else float(plan.lower_bound),
        gap=math.nan if plan.gap is None else float(plan.gap),
        status=plan.status.value,
    )
    return row


def frontier(
    table: LabelTable,
    budgets: Sequence[int | float] | None = None,
    *,
    baselines: bool = True,
    n_epochs: int = 5,
    **balancer_options: Any,
) -> pd.DataFrame:
    """Balance against cost: the balancer at a series of duplicate budgets, baselines beside it.

    For each budget ``b`` this fits ``InterClassBalancer(max_duplicates=b,
    **balancer_options)`` and measures the plan with :func:`plan_quality`. With the
    default ``target_size`` (the epoch length stays ``N``) every duplicate frees a slot
    that a removal pays for, so a larger budget buys better balance at the price of more
    duplicates *and* more removals. Plot ``imbalance_ratio`` or ``cv`` against
    ``duplicates`` to choose a point; the baselines' points show what the usual rules
    reach at their own cost.

    Parameters
    ----------
    table : LabelTable
        The labels to balance.
    budgets : sequence of int or float, default=None
        Duplicate budgets: an int is a count, a float in ``[0, 1]`` a fraction of ``N``.
        ``None`` uses ``DEFAULT_BUDGETS`` = (0, 0.02, 0.05, 0.1, 0.2, 0.5).
    baselines : bool, default=True
        Add rows for the unbalanced data (``method="original"``) and the baselines of
        :func:`baseline_plans` (repeat factors at t = 0.001, 0.01, 0.1, class quota,
        inverse frequency; random over/under on single-label data).
    n_epochs : int, default=5
        Epochs drawn for ``cv_worst`` and ``seen``.
    **balancer_options
        Passed to :class:`curate.InterClassBalancer` (except ``max_duplicates``). Its
        ``count`` (default ``"instances"``) and ``seed`` also apply to the baselines'
        measurements.

    Returns
    -------
    pandas.DataFrame
        One row per point with columns ``method`` (``"balancer"`` or the baseline's
        name), ``budget`` (the duplicate budget as a count; NaN for baselines), ``cv``,
        ``kl``, ``imbalance_ratio``, ``duplicates``, ``removals``, ``distinct``,
        ``epoch_size``, ``rare_kept`` (all of the epoch-0 draw), ``cv_worst`` (largest CV
        over epochs ``0 .. n_epochs - 1``), ``seen`` (share of samples drawn at least once
        in those epochs), ``objective``, ``lower_bound``, ``gap``, ``status``, ``seconds``
        (wall time of the fit or rule).

    Examples
    --------
    >>> import curate
    >>> from curate.balance import frontier
    >>> t = curate.datasets.make_long_tailed(300, 8, seed=0)
    >>> df = frontier(t, budgets=[0, 0.1], time_limit=10)
    >>> df["method"].tolist()[:3]
    ['balancer', 'balancer', 'original']
    >>> bool(df["cv"].iloc[1] <= df["cv"].iloc[0] + 1e-9)
    True
    """
    from curate.balance._balancer import InterClassBalancer

    check_instance("table", table, "frontier", LabelTable, "a curate.LabelTable")
    if "max_duplicates" in balancer_options:
        raise CurateValueError(
            "frontier sets max_duplicates from budgets; pass the budgets instead of max_duplicates"
        )
    n_epochs = int(check_int("n_epochs", n_epochs, "frontier", low=1))  # type: ignore[arg-type]
    count = str(balancer_options.get("count", "instances"))
    seed = int(balancer_options.get("seed", 0))
    points = list(DEFAULT_BUDGETS if budgets is None else budgets)
    counts = [_budget_count(b, table.n_samples) for b in points]
    rows = []
    for b in counts:
        start = time.perf_counter()
        plan = InterClassBalancer(max_duplicates=b, **balancer_options).fit(table)
        row = _row(plan, count, time.perf_counter() - start, float(b), int(n_epochs))
        rows.append(row | {"method": "balancer"})
    if baselines:
        identity = BalancePlan.from_multiplicity(table, np.ones(table.n_samples), method="original")
        rows.append(_row(identity, count, 0.0, math.nan, int(n_epochs)))
        for name, build in baseline_plans(table, seed=seed).items():
            start = time.perf_counter()
            plan = build()
            row = _row(plan, count, time.perf_counter() - start, math.nan, int(n_epochs))
            row["method"] = name
            rows.append(row)
    return pd.DataFrame(rows)[COLUMNS]
