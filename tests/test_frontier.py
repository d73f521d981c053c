"""frontier(): shape, budgets honoured, and the balancer against baselines at their own budgets."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import curate
from curate.balance import InterClassBalancer, frontier, plan_quality
from curate.balance import baselines as bl
from curate.balance._frontier import COLUMNS, baseline_plans
from curate.exceptions import CurateTypeError, CurateValueError


@pytest.fixture(scope="module")
def table() -> curate.LabelTable:
    return curate.datasets.make_long_tailed(400, 10, seed=5)


@pytest.fixture(scope="module")
def df(table):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return frontier(table, budgets=[0, 20, 0.1], time_limit=10)


def test_frame_shape_and_methods(df, table):
    assert list(df.columns) == COLUMNS
    assert df["method"].tolist() == ["balancer"] * 3 + ["original", *baseline_plans(table)]
    assert df["budget"].iloc[:3].tolist() == [0.0, 20.0, 40.0]
    assert df["budget"].iloc[3:].isna().all()


def test_budgets_are_honoured(df):
    bal = df[df["method"] == "balancer"]
    assert np.all(bal["duplicates"].to_numpy() <= bal["budget"].to_numpy())
    assert bal["duplicates"].iloc[0] == 0
    assert (bal["epoch_size"] == 400).all()  # default target_size keeps N


def test_more_budget_never_hurts_the_objective(df):
    bal = df[df["method"] == "balancer"]
    lb = bal["lower_bound"].to_numpy()
    assert np.all(np.diff(lb) <= 1e-9)  # LP bound is monotone in the budget
    assert np.all(bal["objective"].to_numpy() >= lb - 1e-9)


def test_original_row_matches_before(df):
    row = df[df["method"] == "original"].iloc[0]
    assert row["duplicates"] == 0 and row["removals"] == 0
    assert row["cv"] == pytest.approx(plan_quality(
        curate.BalancePlan.from_multiplicity(_t(), np.ones(400)), count="instances")["cv"])


def _t() -> curate.LabelTable:
    return curate.datasets.make_long_tailed(400, 10, seed=5)


def test_epoch_columns_equal_per_epoch_plan_quality(df, table):
    # an independent path: plan_quality of each epoch's draw, frozen into its own plan
    for name, build in baseline_plans(table, seed=0).items():
        plan = build()
        cvs = [plan_quality(curate.BalancePlan.from_multiplicity(table, plan.draw(e)),
                            count="instances")["cv"] for e in range(5)]
        seen = np.any([plan.draw(e) > 0 for e in range(5)], axis=0).mean()
        row = df[df["method"] == name].iloc[0]
        assert row["cv_worst"] == pytest.approx(max(cvs), rel=1e-12)
        assert row["seen"] == pytest.approx(seen, rel=1e-12)
    assert (df["cv_worst"] >= df["cv"] - 1e-12).all()  # epoch 0 is one of the epochs


def test_redrawn_baseline_sees_more_than_its_first_epoch(df, table):
    row = df[df["method"] == "inverse_frequency"].iloc[0]
    assert row["seen"] > row["distinct"] / table.n_samples


@pytest.mark.parametrize("make", [lambda t: bl.class_quota(t, seed=1),
                                  lambda t: bl.inverse_frequency(t, seed=1)])
def test_balancer_at_baseline_budget_is_not_worse(table, make):
    base = plan_quality(make(table), count="instances")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = InterClassBalancer(
            max_duplicates=base["duplicates"], max_removals=base["removals"],
            target_size=base["epoch_size"], min_class_fraction=0.0, time_limit=3,
        ).fit(table)
    cur = plan_quality(plan, count="instances")
    assert cur["duplicates"] <= base["duplicates"] and cur["removals"] <= base["removals"]
    assert cur["cv"] <= base["cv"] + 1e-9


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"budgets": [1.5]}, CurateValueError, r"'budgets' parameter of frontier"),
        ({"budgets": [-3]}, CurateValueError, r"counts >= 0"),
        ({"budgets": ["x"]}, CurateTypeError, r"'budgets' parameter of frontier"),
        ({"max_duplicates": 3}, CurateValueError, r"pass the budgets instead"),
        ({"n_epochs": 0}, CurateValueError, r"'n_epochs' parameter of frontier must be an int"),
        ({"n_epochs": 2.0}, CurateTypeError, r"'n_epochs' parameter of frontier must be an int"),
    ],
)
def test_errors(table, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        frontier(table, **kwargs)


def test_table_type_error():
    with pytest.raises(CurateTypeError, match=r"must be a curate.LabelTable"):
        frontier([[1]])  # type: ignore[arg-type]


def test_single_label_adds_imblearn_baselines():
    t = curate.LabelTable.from_array(["a"] * 30 + ["b"] * 5 + ["c"] * 2)
    assert {"random_over", "random_under"} <= set(baseline_plans(t))
    assert not math.isnan(frontier(t, budgets=[0.1], time_limit=10)["cv"].iloc[0])
