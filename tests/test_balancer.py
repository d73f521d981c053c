"""InterClassBalancer: brute-force oracle, LP bounds, invariants, time-limit, infeasibility."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import curate
from curate.balance import InterClassBalancer, PlanStatus, _solvers
from curate.balance._formulation import Problem, evaluate, signatures, violation
from curate.datasets import make_long_tailed
from curate.exceptions import InfeasibleError, SolverTimeLimitWarning


def _table(rows, classes=("a", "b", "c"), background=None):
    return curate.LabelTable(np.asarray(rows), list(classes)[: np.asarray(rows).shape[1]],
                             background=background)


def _brute_force(balancer: InterClassBalancer, table: curate.LabelTable) -> float:
    """Smallest objective over every multiplicity vector (each sample its own group)."""
    problem, _ = balancer._balance_iv(table)
    sig = signatures(table.matrix if balancer.count == "instances" else table.presence())
    single = Problem(
        vectors=problem.vectors[sig.group], sizes=np.ones(table.n_samples),
        r_max=problem.r_max[sig.group] / problem.sizes[sig.group],
        d_max=problem.d_max[sig.group] / problem.sizes[sig.group],
        floor=problem.floor, size_lo=problem.size_lo, size_hi=problem.size_hi,
        max_duplicates=problem.max_duplicates, max_removals=problem.max_removals,
        duplicate_cost=problem.duplicate_cost, removal_cost=problem.removal_cost,
        curvature=problem.curvature,
    )
    best = np.inf
    for x in itertools.product(range(balancer.max_repeats + 1), repeat=table.n_samples):
        x = np.asarray(x, dtype=float)
        if violation(single, x) <= 1e-9:
            best = min(best, evaluate(single, x)["objective"])
    return best


tiny_tables = st.integers(2, 3).flatmap(
    lambda k: st.lists(st.lists(st.integers(0, 2), min_size=k, max_size=k),
                       min_size=2, max_size=6)
).filter(lambda rows: np.asarray(rows).sum(axis=0).min() > 0)


@settings(max_examples=25)
@given(rows=tiny_tables, cost=st.sampled_from([0.0, 0.1, 0.5]),
       repeats=st.integers(1, 3), fraction=st.sampled_from([0.0, 0.5]))
def test_exact_path_matches_brute_force(rows, cost, repeats, fraction):
    table = _table(rows)
    bal = InterClassBalancer(solver="cbc", duplicate_cost=cost, removal_cost=cost,
                             max_repeats=repeats, min_class_fraction=fraction, mip_gap=0.0)
    best = _brute_force(bal, table)
    plan = bal.fit(table)
    assert plan.objective == pytest.approx(best, abs=1e-7)
    assert plan.lower_bound <= plan.objective + 1e-9
    # the reported objective is the objective of the returned plan
    problem, _ = bal._balance_iv(table)
    y = np.bincount(plan.group, weights=plan.multiplicity)
    assert evaluate(problem, y)["objective"] == pytest.approx(plan.objective)


@settings(max_examples=25)
@given(rows=tiny_tables, budget=st.integers(0, 3))
def test_auto_respects_budgets_and_beats_nothing_better(rows, budget):
    table = _table(rows)
    bal = InterClassBalancer(max_duplicates=budget, max_removals=budget, max_repeats=3)
    plan = bal.fit(table)
    assert plan.n_duplicates <= budget and plan.n_removed <= budget
    assert plan.objective <= _brute_force(bal, table) * (1 + 1e-3) + 1e-9


detection = st.lists(
    st.lists(st.integers(0, 3), min_size=4, max_size=4), min_size=3, max_size=40
).filter(lambda rows: np.asarray(rows)[:, 1:].sum() > 0)


@given(rows=detection, minimize=st.booleans(), count=st.sampled_from(["instances", "samples"]),
       seed=st.integers(0, 5), solver=st.sampled_from(["auto", "lp"]))
def test_plan_invariants(rows, minimize, count, seed, solver):
    table = curate.LabelTable(np.asarray(rows), ["bg", "x", "y", "z"], background="bg")
    if table.counts["bg"] == 0:
        table = curate.LabelTable(np.asarray(rows), ["bg", "x", "y", "z"])
    bal = InterClassBalancer(minimize_duplicates=minimize, count=count, seed=seed,
                             solver=solver, duplicate_cost=0.2, removal_cost=0.2)
    plan = bal.fit(table)
    x = plan.multiplicity
    a = table.matrix if count == "instances" else table.presence()
    assert plan.counts_after.tolist() == np.asarray(a.T @ x).ravel().tolist()
    assert x.min() >= 0 and x.max() <= bal.max_repeats
    assert x.sum() == table.n_samples  # default target_size keeps the epoch size
    balanced = [k for k, c in enumerate(table.classes) if c != table.background]
    only_bg = np.asarray(a[:, balanced].sum(axis=1)).ravel() == 0
    assert (x[only_bg] <= 1).all()
    before = plan.counts_before.to_numpy()
    after = plan.counts_after.to_numpy()
    assert (after[balanced] >= 0.5 * before[balanced] - 1e-9).all()
    if minimize:
        rare = [k for k in balanced if before[k] < before[balanced].mean()]
        holds_rare = np.asarray(a[:, rare].sum(axis=1)).ravel() > 0
        assert (x[holds_rare] >= 1).all()
    # same seed, same plan; every draw keeps its class totals and the group totals
    again = InterClassBalancer(**bal.get_params()).fit(table)
    assert again.multiplicity.tolist() == x.tolist()
    for epoch in range(3):
        d = plan.draw(epoch)
        assert plan.class_totals(d).tolist() == np.asarray(a.T @ d).ravel().tolist()
        assert np.bincount(plan.group, weights=d).tolist() == plan.group_total.tolist()


def test_minimize_duplicates_keeps_rare_and_spreads():
    rows = [[5, 0]] * 30 + [[0, 1]] * 4
    table = _table(rows, ("big", "rare"))
    plan = InterClassBalancer(minimize_duplicates=True).fit(table)
    x = plan.multiplicity
    assert (x[30:] >= 1).all()
    assert x[30:].max() - x[30:].min() <= 1  # copies spread evenly over the rare samples


def test_single_label_balances_exactly():
    table = curate.LabelTable.from_array(["a"] * 60 + ["b"] * 20 + ["c"] * 20)
    plan = InterClassBalancer(duplicate_cost=0.0, removal_cost=0.0).fit(table)
    assert plan.counts_after.max() - plan.counts_after.min() <= 1
    assert plan.status is PlanStatus.OPTIMAL


def test_improves_long_tailed_and_gap_is_certified():
    table = make_long_tailed(3000, 30, seed=2)
    plan = InterClassBalancer(solver="lp").fit(table)
    before, after = plan.counts_before.to_numpy(float), plan.counts_after.to_numpy(float)
    cv = lambda c: c.std() / c.mean()  # noqa: E731
    assert cv(after) < cv(before)
    assert plan.lower_bound <= plan.objective
    assert plan.gap <= 0.01
    assert set(plan.details["timings"]) >= {"signature", "build", "solve", "round"}


def test_sifting_equals_full_lp(monkeypatch):
    table = make_long_tailed(4000, 25, seed=3)
    full = InterClassBalancer(solver="lp").fit(table)
    monkeypatch.setattr(_solvers, "SIFT_MIN_GROUPS", 1)
    sifted = InterClassBalancer(solver="lp").fit(table)
    assert sifted.details["sifting_rounds"] >= 1
    assert sifted.lower_bound == pytest.approx(full.lower_bound, rel=1e-6)


def test_auto_picks_lp_for_large_inputs(monkeypatch):
    table = make_long_tailed(3000, 20, seed=4)
    monkeypatch.setattr(_solvers, "EXACT_MAX_GROUPS", 10)
    plan = InterClassBalancer(mip_gap=0.0).fit(table)
    assert plan.details["solver"] == "lp" and "mip_status" not in plan.details


def test_time_limit_returns_best_plan_with_warning():
    table = make_long_tailed(1500, 40, seed=5)
    bal = InterClassBalancer(solver="cbc", time_limit=1.0, mip_gap=0.0,
                             duplicate_cost=0.05, removal_cost=0.05)
    with pytest.warns(SolverTimeLimitWarning, match="time_limit"):
        plan = bal.fit(table)
    assert plan.success and plan.gap is not None and plan.gap >= 0
    assert plan.multiplicity.sum() == table.n_samples


def test_lp_time_out_falls_back_to_identity(monkeypatch):
    class Res:
        status, message, x, fun = 1, "Time limit reached", None, None

    monkeypatch.setattr(_solvers, "_solve_lp", lambda *a: (Res(), np.zeros(0), 0))
    table = _table([[1, 0], [1, 0], [0, 1]], ("a", "b"))
    with pytest.warns(SolverTimeLimitWarning, match="identity plan"):
        plan = InterClassBalancer().fit(table)
    assert plan.status is PlanStatus.FALLBACK and not plan.success
    assert plan.multiplicity.tolist() == [1, 1, 1]


ROWS = [[3, 0], [3, 0], [0, 1], [0, 0]]


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"target_size": 100}, InfeasibleError, "target_size=100 .* max_repeats=4"),
        ({"target_size": 0, "minimize_duplicates": True}, InfeasibleError,
         "minimize_duplicates=True must keep"),
        ({"target_size": 2, "max_removals": 1}, InfeasibleError,
         "max_removals=1 .* needs at least 2"),
        ({"target_size": 6, "max_duplicates": 1}, InfeasibleError, "max_duplicates=1"),
        ({"min_class_fraction": 1.0, "max_removals": 0, "max_duplicates": 0, "target_size": 3},
         InfeasibleError, "max_removals=0"),
        ({"max_repeats": 0}, ValueError, "The 'max_repeats' parameter of InterClassBalancer must "
         "be an int in the range \\[1, inf\\). Got 0 instead."),
        ({"duplicate_cost": -1.0}, ValueError, "'duplicate_cost' parameter"),
        ({"solver": "gurobi"}, ValueError,
         "'solver' parameter of InterClassBalancer must be one of"),
        ({"count": "boxes"}, ValueError, "'count' parameter"),
        ({"target_size": "all"}, TypeError, "'target_size' parameter"),
        ({"target_size": (5, 2)}, ValueError, "lo <= hi"),
        ({"max_duplicates": -2}, ValueError, "'max_duplicates' parameter"),
        ({"background_class": "zebra"}, ValueError, "'background_class' parameter"),
        ({"time_limit": 0.0}, ValueError, "'time_limit' parameter"),
    ],
)
def test_errors(params, error, match):
    with pytest.raises(error, match=match):
        InterClassBalancer(**params).fit(_table(ROWS, ("a", "b")))


def test_solver_infeasibility_names_options():
    # floors demand every class keeps its total, but the size must shrink with the only
    # removable samples holding a class: the LP is infeasible
    table = _table([[1, 0], [0, 1]], ("a", "b"))
    with pytest.raises(InfeasibleError, match="min_class_fraction"):
        InterClassBalancer(min_class_fraction=1.0, target_size=1).fit(table)


def test_fit_rejects_non_tables():
    with pytest.raises(TypeError, match="fit expects a LabelTable"):
        InterClassBalancer().fit([["a"]])


def test_constructor_stores_params_unchanged():
    bal = InterClassBalancer(target_size=0.9, max_duplicates=0.1)
    assert bal.target_size == 0.9 and bal.max_duplicates == 0.1
    assert "target_size=0.9" in repr(bal)


def test_fraction_budgets_and_target_range():
    table = make_long_tailed(800, 12, seed=6)
    plan = InterClassBalancer(max_duplicates=0.05, max_removals=0.05,
                              target_size=(0.9, 1.1)).fit(table)
    assert plan.n_duplicates <= 40 and plan.n_removed <= 40
    assert 720 <= plan.epoch_size <= 880


def test_signatures_group_identical_rows(rng):
    m = sp.random(500, 6, density=0.3, random_state=1, data_rvs=lambda n: rng.integers(1, 3, n))
    m = sp.csr_matrix(m.astype(np.int64))
    s = signatures(m)
    dense = m.toarray()
    for g in range(s.n_groups):
        members = dense[s.group == g]
        assert (members == members[0]).all()
    assert s.n_groups == len({tuple(r) for r in dense.tolist()})


@pytest.mark.datasets
def test_voc_default_plan_is_a_compromise():
    pd = pytest.importorskip("pandas")
    from conftest import dataset_path

    df = pd.read_parquet(dataset_path("voc_detection"))
    df = df[df["split"] == "voc2007_trainval"]
    table = curate.LabelTable.from_labels([list(v) for v in df["labels"]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plan = InterClassBalancer().fit(table)
    before, after = plan.counts_before.to_numpy(float), plan.counts_after.to_numpy(float)
    assert after.std() / after.mean() < 0.75 * before.std() / before.mean()
    assert (after >= 0.5 * before).all()
    assert plan.epoch_size == table.n_samples
    assert plan.gap <= 0.01


# ------------------------------------------------------------------ the convex objective
from curate.balance import baselines  # noqa: E402
from curate.balance._formulation import (  # noqa: E402
    BREAKPOINTS,
    SHORTFALL_BREAKPOINTS,
    build_model,
    penalty,
)


@given(u=st.floats(-80, 80, allow_nan=False), v=st.floats(-80, 80, allow_nan=False),
       lam=st.floats(0, 1))
def test_penalty_is_convex(u, v, lam):
    f = lambda z: float(penalty([z], curvature=1.0)[0])  # noqa: E731
    mid = lam * u + (1 - lam) * v
    assert f(mid) <= lam * f(u) + (1 - lam) * f(v) + 1e-9 * (1 + f(u) + f(v))
    assert float(penalty([u], curvature=0.0)[0]) == pytest.approx(abs(u))


@given(u=st.floats(-64, 64, allow_nan=False))
def test_penalty_interpolates_the_square_from_above(u):
    b = SHORTFALL_BREAKPOINTS if u < 0 else BREAKPOINTS
    s = np.searchsorted(b, abs(u), side="right")
    width = b[min(s, len(b) - 1)] - b[s - 1]
    q = float(penalty([u], curvature=1.0)[0]) - abs(u)
    assert u * u - 1e-9 <= q <= u * u + width**2 / 4 + 1e-9


def test_penalty_is_exact_at_breakpoints():
    assert np.allclose(penalty(BREAKPOINTS, curvature=2.0), BREAKPOINTS + 2 * BREAKPOINTS**2)
    s = SHORTFALL_BREAKPOINTS
    assert np.allclose(penalty(-s, curvature=0.5), s + 0.5 * s**2)


def test_zero_curvature_is_the_l1_distance(rng):
    table = make_long_tailed(300, 8, seed=9)
    problem, _ = InterClassBalancer()._balance_iv(table)
    flat = Problem(
        problem.vectors, problem.sizes, problem.r_max, problem.d_max, problem.floor,
        problem.size_lo, problem.size_hi, problem.max_duplicates, problem.max_removals,
        problem.duplicate_cost, problem.removal_cost, curvature=0.0)
    y = rng.integers(0, 3, problem.n_groups).astype(float)
    c = flat.original_totals + flat.vectors.T @ (y - flat.sizes)
    assert evaluate(flat, y)["balance"] == pytest.approx(np.abs(c - c.mean()).sum() / flat.scale)
    assert evaluate(problem, y)["balance"] > evaluate(flat, y)["balance"]


@pytest.mark.parametrize("solver", ["lp", "cbc"])
def test_one_copy_goes_to_the_rarest_class(solver):
    # b and c are both below the mean: the L1 distance is indifferent to which one gets the
    # single allowed copy, the convex penalty lifts the rarest (b)
    table = curate.LabelTable.from_array(["a"] * 40 + ["b"] + ["c"] * 8 + ["d"] * 30)
    plan = InterClassBalancer(solver=solver, max_duplicates=1, max_removals=0,
                              target_size=table.n_samples + 1).fit(table)
    assert plan.counts_after.to_dict() == {"a": 40, "b": 2, "c": 8, "d": 30}
    assert plan.lower_bound <= plan.objective + 1e-12


def test_lp_bound_is_below_every_integer_plan(rng):
    table = make_long_tailed(400, 10, seed=11)
    bal = InterClassBalancer(solver="lp", max_repeats=3)
    problem, _ = bal._balance_iv(table)
    plan = bal.fit(table)
    for _ in range(200):  # random feasible-or-not plans: the bound holds for the feasible ones
        y = np.clip(problem.sizes + rng.integers(-1, 2, problem.n_groups), problem.y_lo,
                    problem.y_hi)
        if violation(problem, y) <= 1e-9:
            assert plan.lower_bound <= evaluate(problem, y)["objective"] + 1e-12


def test_segments_cover_every_reachable_deviation():
    table = make_long_tailed(500, 12, seed=12)
    problem, _ = InterClassBalancer()._balance_iv(table)
    model = build_model(problem)
    aux = 2 * model.n_groups + problem.n_balanced + 1
    width = model.ub[aux:]
    # one unbounded segment per class and side, so every deviation is representable
    assert np.isinf(width).sum() == 2 * problem.n_balanced
    assert model.start_aux.any() and model.columns(np.arange(3), lazy=True).size < len(model.cost)


@pytest.mark.parametrize("t", [0.001, 0.01, 0.1])
def test_beats_repeat_factor_at_its_budget_single_label(t):
    # a long-tailed single-label set: the same copies, placed by the program, give a strictly
    # lower CV and KL-to-uniform than the LVIS repeat factors
    counts = np.maximum((5000 / np.arange(1, 61) ** 1.6).astype(int), 1)
    labels = np.repeat([f"k{i}" for i in range(60)], counts)
    table = curate.LabelTable.from_array(labels)
    base = baselines.repeat_factor(table, t)
    assert base.n_duplicates > 0
    plan = InterClassBalancer(max_duplicates=base.n_duplicates, max_removals=base.n_removed,
                              target_size=base.epoch_size, min_class_fraction=0.0,
                              max_repeats=max(4, int(base.multiplicity.max()))).fit(table)
    q_base, q_cur = curate.balance.plan_quality(base), curate.balance.plan_quality(plan)
    assert q_cur["cv"] < q_base["cv"] and q_cur["kl"] < q_base["kl"]


def test_scipy_and_highspy_lp_agree(monkeypatch):
    table = make_long_tailed(3000, 20, seed=13)
    a = InterClassBalancer(solver="lp").fit(table)
    monkeypatch.setattr(_solvers, "USE_HIGHSPY", False)
    b = InterClassBalancer(solver="lp").fit(table)
    monkeypatch.setattr(_solvers, "SCIPY_SIFT_MIN_GROUPS", 1)
    c = InterClassBalancer(solver="lp").fit(table)
    assert c.details["sifting_rounds"] >= 1
    assert a.lower_bound == pytest.approx(b.lower_bound, rel=1e-6)
    assert c.lower_bound == pytest.approx(b.lower_bound, rel=1e-6)


def test_auto_caps_the_mip_phase_without_a_warning(monkeypatch):
    table = make_long_tailed(1500, 40, seed=5)
    monkeypatch.setattr(_solvers, "AUTO_MIP_SECONDS", 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plan = InterClassBalancer(mip_gap=0.0, duplicate_cost=0.05, removal_cost=0.05).fit(table)
    assert plan.details["mip_seconds_cap"] == 0.5
    assert plan.success and plan.gap <= 0.01


def test_sifting_handles_a_target_size_its_working_set_cannot_reach(monkeypatch):
    table = make_long_tailed(3000, 20, seed=14)
    bal = InterClassBalancer(solver="lp", target_size=2.5, duplicate_cost=0.1)
    full = bal.fit(table)
    monkeypatch.setattr(_solvers, "SIFT_MIN_GROUPS", 1)
    monkeypatch.setattr(_solvers, "_initial_groups", lambda problem: np.arange(2))
    sifted = bal.fit(table)
    assert sifted.details["sifting_rounds"] >= 2  # infeasible working set, then every column
    assert sifted.epoch_size == full.epoch_size == int(2.5 * 3000)
    assert sifted.lower_bound == pytest.approx(full.lower_bound, rel=1e-6)


def test_sifting_time_out_falls_back_to_identity(monkeypatch):
    table = make_long_tailed(2000, 20, seed=15)
    monkeypatch.setattr(_solvers, "SIFT_MIN_GROUPS", 1)
    with pytest.warns(SolverTimeLimitWarning, match="identity plan"):
        plan = InterClassBalancer(solver="lp", time_limit=1e-9).fit(table)
    assert plan.status is PlanStatus.FALLBACK
    assert plan.multiplicity.tolist() == [1] * table.n_samples
