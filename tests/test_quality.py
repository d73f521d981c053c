"""Quality measures against direct numpy / scipy computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats
from hypothesis import given
from hypothesis import strategies as st

import curate
from curate.balance._quality import (
    coefficient_of_variation,
    imbalance_ratio,
    kl_to_uniform,
    plan_quality,
    rare_class_mask,
)
from curate.exceptions import CurateTypeError, CurateValueError

positive = st.lists(st.integers(1, 10_000), min_size=1, max_size=50)
nonneg = st.lists(st.integers(0, 10_000), min_size=1, max_size=50).filter(lambda c: sum(c) > 0)


@given(nonneg)
def test_kl_equals_scipy_entropy(c):
    k = len(c)
    assert kl_to_uniform(c) == pytest.approx(scipy.stats.entropy(c, np.full(k, 1 / k)), abs=1e-12)
    assert 0 <= kl_to_uniform(c) <= math.log(k) + 1e-12


@given(nonneg)
def test_cv_equals_scipy_variation(c):
    assert coefficient_of_variation(c) == pytest.approx(scipy.stats.variation(c), abs=1e-12)


@given(positive)
def test_imbalance_ratio_is_max_over_min(c):
    assert imbalance_ratio(c) == max(c) / min(c)


@given(positive, st.integers(1, 1000))
def test_measures_are_scale_free(c, s):
    scaled = [v * s for v in c]
    assert coefficient_of_variation(scaled) == pytest.approx(coefficient_of_variation(c))
    assert kl_to_uniform(scaled) == pytest.approx(kl_to_uniform(c), abs=1e-12)


def test_edge_values():
    assert imbalance_ratio([3, 0]) == math.inf
    assert math.isnan(imbalance_ratio([0, 0]))
    assert coefficient_of_variation([4, 4, 4]) == 0.0
    assert math.isnan(kl_to_uniform([0, 0]))
    assert kl_to_uniform([5]) == 0.0


@pytest.mark.parametrize(
    ("func", "arg", "match"),
    [
        (imbalance_ratio, [], r"at least one class total"),
        (coefficient_of_variation, [1, -1], r"finite class totals >= 0"),
        (kl_to_uniform, [1, float("nan")], r"finite class totals >= 0"),
    ],
)
def test_bad_vectors(func, arg, match):
    with pytest.raises(CurateValueError, match=match):
        func(arg)


@given(
    st.lists(st.integers(0, 100), min_size=1, max_size=30), st.sampled_from([0.1, 1 / 3, 0.5, 1])
)
def test_rare_mask_is_bottom_fraction(c, frac):
    mask = rare_class_mask(c, fraction=frac)
    assert mask.sum() == math.ceil(frac * len(c))
    if mask.any() and (~mask).any():
        assert max(np.asarray(c)[mask]) <= min(np.asarray(c)[~mask])


def test_plan_quality_against_direct_computation(rng):
    table = curate.datasets.make_long_tailed(300, 9, seed=2)
    x = rng.integers(0, 4, size=table.n_samples)
    plan = curate.BalancePlan.from_multiplicity(table, x, count="samples", method="test")
    q = plan_quality(plan, count="instances", seconds=1.5)
    a = table.matrix.toarray()
    after, before = a.T @ x, a.sum(axis=0)
    keep = before > 0
    assert q["method"] == "test" and q["seconds"] == 1.5
    assert q["cv"] == pytest.approx(scipy.stats.variation(after[keep]))
    assert q["kl"] == pytest.approx(scipy.stats.entropy(after[keep], np.ones(keep.sum())))
    assert q["cv_before"] == pytest.approx(scipy.stats.variation(before[keep]))
    assert q["duplicates"] == int(np.maximum(x - 1, 0).sum())
    assert q["removals"] == int((x == 0).sum()) and q["distinct"] == int((x > 0).sum())
    assert q["epoch_size"] == int(x.sum())
    bottom = np.argsort(before[keep], kind="stable")[: math.ceil(keep.sum() / 3)]
    rare = np.flatnonzero(keep)[bottom]
    held = (a[:, rare] > 0).any(axis=1)
    assert q["rare_kept"] == pytest.approx((x[held] > 0).mean())
    # count="samples" measures presence
    qs = plan_quality(plan)
    p = (a > 0).astype(int)
    assert qs["cv"] == pytest.approx(scipy.stats.variation((p.T @ x)[keep]))


def test_plan_quality_excludes_background():
    t = curate.LabelTable.from_labels([["O", "O", "a"], ["b"], ["O"]], background="O")
    plan = curate.BalancePlan.from_multiplicity(t, [1, 1, 5])
    assert plan_quality(plan)["cv"] == 0.0  # a and b both 1; O ignored
    assert plan_quality(plan, background="a")["cv"] > 0


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"count": "images"}, CurateValueError, r"'count' parameter of plan_quality"),
        ({"background": "zzz"}, CurateValueError, r"'background' parameter of plan_quality"),
    ],
)
def test_plan_quality_errors(kwargs, exc, match):
    plan = curate.BalancePlan.from_multiplicity(curate.LabelTable.from_array(["a", "b"]), [1, 1])
    with pytest.raises(exc, match=match):
        plan_quality(plan, **kwargs)


def test_plan_quality_type_error():
    with pytest.raises(CurateTypeError, match=r"must be a curate.BalancePlan"):
        plan_quality([1, 2])  # type: ignore[arg-type]
