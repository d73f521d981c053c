"""Baselines: exact rule outputs against direct per-class computations, seeded draws, errors."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import curate
from curate.balance import PlanStatus
from curate.balance import baselines as bl
from curate.exceptions import CurateTypeError, CurateValueError
from tests.conftest import dataset_path

CLASSES = ["a", "b", "c", "d", "e"]
label_lists = st.lists(
    st.lists(st.sampled_from(CLASSES), min_size=0, max_size=4), min_size=1, max_size=40
).filter(lambda rows: any(rows))


def _reference_repeat_factors(rows: list[list[str]], t: float) -> list[float]:
    """detectron2's rule written out per class and per image, in plain Python."""
    n = len(rows)
    freq = {c: sum(c in set(r) for r in rows) / n for c in {c for r in rows for c in r}}
    rep = {c: max(1.0, math.sqrt(t / f)) for c, f in freq.items()}
    return [max((rep[c] for c in set(r)), default=1.0) for r in rows]


@given(label_lists, st.sampled_from([0.001, 0.05, 0.3, 1.0]))
def test_repeat_factor_matches_per_class_rule(rows, t):
    plan = bl.repeat_factor(curate.LabelTable.from_labels(rows), t)
    np.testing.assert_allclose(plan.group_total, _reference_repeat_factors(rows, t), rtol=1e-12)
    assert plan.status is PlanStatus.HEURISTIC and plan.n_removed == 0


def test_repeat_factor_on_voc():
    df = pd.read_parquet(dataset_path("voc_detection"))
    rows = [list(x) for x in df["labels"]]
    plan = bl.repeat_factor(curate.LabelTable.from_labels(rows), 0.1)
    np.testing.assert_allclose(plan.group_total, _reference_repeat_factors(rows, 0.1), rtol=1e-12)


def test_repeat_factor_stochastic_rounding_has_the_planned_mean():
    table = curate.datasets.make_long_tailed(400, 12, seed=3)
    plan = bl.repeat_factor(table, 0.2, seed=7)
    r = plan.group_total
    frac = r - np.floor(r)
    epochs = 300
    draws = np.stack([plan.draw(e) for e in range(epochs)])
    assert np.all((draws == np.floor(r)) | (draws == np.ceil(r)))
    # epoch sizes: sum of independent Bernoullis -> variance sum p(1-p) per epoch
    sd = math.sqrt(np.sum(frac * (1 - frac)) / epochs)
    assert abs(draws.sum(axis=1).mean() - r.sum()) <= 5 * sd
    # per-sample means, each within 5 binomial standard errors
    per_sd = np.sqrt(frac * (1 - frac) / epochs)
    assert np.all(np.abs(draws.mean(axis=0) - r) <= 5 * per_sd + 1e-12)


def test_repeat_factor_count_changes_only_the_measure():
    t = curate.LabelTable.from_labels([["a", "a", "a"], ["b"], ["a"]])
    s = bl.repeat_factor(t, 1.0, count="samples", seed=1)
    i = bl.repeat_factor(t, 1.0, count="instances", seed=1)
    np.testing.assert_array_equal(s.group_total, i.group_total)
    assert s.counts_before.tolist() == [2, 1] and i.counts_before.tolist() == [4, 1]


def test_class_quota_single_label_totals_exact():
    y = ["a"] * 50 + ["b"] * 7 + ["c"] * 20 + ["d"] * 3
    plan = bl.class_quota(curate.LabelTable.from_array(y))
    assert plan.counts_after.tolist() == [20, 20, 20, 20]  # N // K = 80 // 4
    # classes with enough samples are picked without replacement
    x = plan.multiplicity
    codes = np.asarray([CLASSES.index(c) for c in y])
    assert x[codes == 0].max() == 1 and x[codes == 2].tolist() == [1] * 20
    # classes with too few samples repeat every member evenly (max - min <= 1)
    assert x[codes == 3].min() == 6 and x[codes == 3].max() == 7


def test_class_quota_multilabel_background_and_empty():
    rows = [["O"], [], ["a", "O"], ["a"], ["a", "b"], ["b"], ["c"], ["a"]]
    t = curate.LabelTable.from_labels(rows, background="O")
    plan = bl.class_quota(t, 3, seed=2)
    x = plan.multiplicity
    assert x[0] == 0 and x[1] == 0  # background-only and empty are never picked
    assert plan.epoch_size == 3 * 3  # 3 picks for each of a, b, c
    assert plan.details["picks"] == {"a": 3, "b": 3, "c": 3}
    assert x[6] == 3  # c has one sample: picked 3 times
    # background passed explicitly overrides the table's
    assert bl.class_quota(t, 3, background="a").details["picks"].keys() == {"O", "b", "c"}


@given(label_lists, st.integers(1, 30), st.integers(0, 5))
def test_class_quota_picks_per_class(rows, n, seed):
    t = curate.LabelTable.from_labels(rows)
    plan = bl.class_quota(t, n, seed=seed)
    present = int((t.support > 0).sum())
    assert plan.epoch_size == n * present
    pres = t.presence().toarray()
    x = plan.multiplicity
    assert np.all(x[pres.sum(axis=1) == 0] == 0)
    # each sample is picked at most ceil(n / support_c) times for each of its classes
    cap = pres @ np.ceil(n / np.maximum(t.support.to_numpy(), 1))
    assert np.all(x <= cap)


def test_random_over_and_under_totals_exact():
    y = ["a"] * 30 + ["b"] * 4 + ["c"] * 11
    t = curate.LabelTable.from_array(y)
    over = bl.random_over(t, seed=1)
    assert over.counts_after.tolist() == [30, 30, 30]
    assert over.n_removed == 0 and over.multiplicity.min() >= 1
    assert over.n_duplicates == (30 - 4) + (30 - 11)
    under = bl.random_under(t, seed=1)
    assert under.counts_after.tolist() == [4, 4, 4]
    assert set(under.multiplicity.tolist()) <= {0, 1} and under.n_removed == 45 - 12


def test_inverse_frequency_weights_and_size():
    rows = [["a"], ["a"], ["a"], ["a", "b"], ["b"], []]
    t = curate.LabelTable.from_labels(rows)
    for agg, per in (("mean", [1 / 4, 1 / 4, 1 / 4, (1 / 4 + 1 / 2) / 2, 1 / 2, 1.0]),
                     ("max", [1 / 4, 1 / 4, 1 / 4, 1 / 2, 1 / 2, 1.0])):
        plan = bl.inverse_frequency(t, 1000, aggregation=agg, seed=0)
        np.testing.assert_allclose(plan.details["weights"], np.array(per) / sum(per))
        assert plan.epoch_size == 1000


def test_inverse_frequency_single_label_is_balanced_in_expectation():
    y = ["a"] * 900 + ["b"] * 90 + ["c"] * 10
    t = curate.LabelTable.from_array(y)
    n = 30_000
    plan = bl.inverse_frequency(t, n, seed=4)
    # each class total ~ Binomial(n, 1/3)
    sd = math.sqrt(n * (1 / 3) * (2 / 3))
    assert np.all(np.abs(plan.counts_after.to_numpy() - n / 3) <= 5 * sd)


@pytest.mark.parametrize(
    "build",
    [lambda t, s: bl.repeat_factor(t, 0.5, seed=s), lambda t, s: bl.class_quota(t, seed=s),
     lambda t, s: bl.inverse_frequency(t, seed=s)],
)
def test_same_seed_same_plan(build):
    t = curate.datasets.make_long_tailed(500, 10, seed=1)
    a, b, c = build(t, 3), build(t, 3), build(t, 4)
    np.testing.assert_array_equal(a.multiplicity, b.multiplicity)
    np.testing.assert_array_equal(a.draw(5), b.draw(5))
    assert not np.array_equal(np.stack([a.draw(e) for e in range(3)]),
                              np.stack([c.draw(e) for e in range(3)]))


def test_single_label_seeded():
    t = curate.LabelTable.from_array(["a"] * 20 + ["b"] * 3)
    np.testing.assert_array_equal(bl.random_over(t, seed=5).multiplicity,
                                  bl.random_over(t, seed=5).multiplicity)
    np.testing.assert_array_equal(bl.random_under(t, seed=5).multiplicity,
                                  bl.random_under(t, seed=5).multiplicity)


def test_inputs_not_mutated():
    t = curate.LabelTable.from_labels([["a", "b"], ["a"], ["b"], ["c"]])
    before = t.matrix.toarray().copy()
    for f in (bl.repeat_factor, bl.class_quota, bl.inverse_frequency):
        f(t)
    np.testing.assert_array_equal(t.matrix.toarray(), before)


MULTI = curate.LabelTable.from_labels([["a", "b"], ["a"]])
SINGLE = curate.LabelTable.from_array(["a", "b", "a"])


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: bl.repeat_factor(SINGLE, 0.0), CurateValueError,
         r"The 'threshold' parameter of repeat_factor must be a float in the range \(0, 1\]\. "
         r"Got 0\.0 instead\."),
        (lambda: bl.repeat_factor(SINGLE, count="images"), CurateValueError,
         r"'count' parameter of repeat_factor must be one of \{'instances', 'samples'\}"),
        (lambda: bl.repeat_factor(SINGLE, seed=-1), CurateValueError, r"'seed' parameter"),
        (lambda: bl.repeat_factor([[1]]), CurateTypeError, r"must be a curate.LabelTable"),
        (lambda: bl.class_quota(SINGLE, 0), CurateValueError,
         r"'n_per_class' parameter of class_quota must be an int in the range \[1, inf\) or None"),
        (lambda: bl.class_quota(SINGLE, background="zebra"), CurateValueError,
         r"'background' parameter of class_quota must be one of \{'a', 'b'\}"),
        (lambda: bl.class_quota(curate.LabelTable.from_labels([["O"]], background="O")),
         CurateValueError, r"no non-background class"),
        (lambda: bl.inverse_frequency(SINGLE, -1), CurateValueError, r"'num_samples' parameter"),
        (lambda: bl.inverse_frequency(SINGLE, aggregation="sum"), CurateValueError,
         r"'aggregation' parameter of inverse_frequency must be one of \{'max', 'mean'\}"),
        (lambda: bl.random_over(MULTI), CurateValueError,
         r"table\[0\] holds 2 classes \['a', 'b'\]; random_over needs single-label data"),
        (lambda: bl.random_under(curate.LabelTable.from_labels([["a"], []])), CurateValueError,
         r"table\[1\] holds 0 classes"),
    ],
)
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_all_sorted():
    assert bl.__all__ == sorted(bl.__all__)
