"""``BalancePlan(rotation=...)``: copies rotate across epochs inside rotation groups."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import curate
from curate.balance import BalancePlan
from curate.exceptions import CurateValueError


@st.composite
def plans(draw):
    n = draw(st.integers(1, 40))
    k = draw(st.integers(1, 4))
    labels = [
        draw(st.lists(st.sampled_from("abcd"[:k]), max_size=3)) for _ in range(n)
    ]
    table = curate.LabelTable.from_labels(labels, classes=list("abcd"[:k]))
    x = np.array(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    rotation = draw(st.sampled_from(["presence", None, "array"]))
    if rotation == "array":
        rotation = np.array(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    plan = BalancePlan.from_multiplicity(table, x, rotation=rotation, seed=draw(st.integers(0, 5)))
    return plan, x


def _groups(plan: BalancePlan) -> np.ndarray:
    groups = plan.rotation_groups
    return plan.group if groups is None else groups


@given(plans(), st.integers(1, 30))
def test_epoch_zero_is_the_plan_and_rotation_keeps_group_multisets(case, epoch):
    plan, x = case
    assert plan.draw(0).tolist() == x.tolist()
    xe = plan.draw(epoch)
    groups = _groups(plan)
    for g in np.unique(groups):
        members = groups == g
        assert sorted(xe[members]) == sorted(x[members])


@given(plans(), st.integers(1, 30))
def test_presence_rotation_keeps_sample_totals_exact(case, epoch):
    plan, x = case
    if not isinstance(plan.rotation, str):
        return
    presence = plan.table.presence()
    assert (presence.T @ plan.draw(epoch)).tolist() == (presence.T @ x).tolist()


@given(plans())
def test_coverage_within_the_promised_epochs(case):
    plan, _ = case
    epochs = plan.coverage_epochs
    if math.isinf(epochs):
        return
    seen = np.zeros(plan.n_samples, dtype=bool)
    for e in range(int(epochs)):
        seen |= plan.draw(e) > 0
    assert seen.all()


def test_rotation_sees_removed_samples_in_later_epochs():
    table = curate.LabelTable.from_labels([["a"]] * 6 + [["b"]] * 2)
    plan = BalancePlan.from_multiplicity(table, [1, 1, 0, 0, 0, 0, 1, 1], rotation="presence")
    assert plan.coverage_epochs == 3
    seen = np.zeros(8, dtype=bool)
    for e in range(3):
        xe = plan.draw(e)
        assert xe[:6].sum() == 2 and xe[6:].tolist() == [1, 1]
        seen |= xe > 0
    assert seen.all()


def test_balancer_option_and_persistence(tmp_path):
    table = curate.datasets.make_long_tailed(400, 8, seed=2)
    exact = curate.InterClassBalancer(seed=1).fit(table)
    rotating = curate.InterClassBalancer(seed=1, rotation="presence").fit(table)
    assert exact.rotation is None and rotating.rotation == "presence"
    assert rotating.multiplicity.tolist() == exact.multiplicity.tolist()
    seen = [(p.draw(0) > 0) | (p.draw(1) > 0) | (p.draw(2) > 0) for p in (exact, rotating)]
    assert seen[1].sum() >= seen[0].sum()
    path = rotating.save(tmp_path / "plan.parquet")
    loaded = BalancePlan.load(path)
    for e in range(4):
        assert loaded.draw(e).tolist() == rotating.draw(e).tolist()


@pytest.mark.parametrize(
    ("rotation", "message"),
    [("labels", r"rotation must be 'presence'"), (np.array([0]), r"rotation must hold one group")],
)
def test_bad_rotation(rotation, message):
    table = curate.LabelTable.from_labels([["a"], ["b"]])
    with pytest.raises(CurateValueError, match=message):
        BalancePlan.from_multiplicity(table, [1, 1], rotation=rotation)


def test_fractional_plans_ignore_rotation_and_round_stochastically():
    table = curate.LabelTable.from_labels([["a"]] * 4)
    plan = BalancePlan.from_multiplicity(table, [1.5, 1.5, 1.0, 1.0], rotation="presence")
    base = dataclasses.replace(plan, rotation=None)
    for e in range(5):
        assert plan.draw(e).tolist() == base.draw(e).tolist()
