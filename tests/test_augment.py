"""curate.augment: rare classes, rare-aware probabilities, has_rare_label, oversample_rare."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import curate
from curate.augment import has_rare_label, oversample_rare, rare_aware_probability, rare_classes
from curate.balance import BalancePlan, PlanStatus
from curate.exceptions import CurateTypeError, CurateValueError

TAGS = [["O", "O", "B-PER"], ["O", "B-DATE", "O"], ["O"], [], ["B-PER", "I-PER", "B-TOTAL"]]


@pytest.fixture()
def table():
    return curate.LabelTable.from_labels(TAGS, background="O", level="token")


def test_rare_classes_threshold_rules(table):
    # counts: B-DATE 1, B-PER 2, B-TOTAL 1, I-PER 1 (O excluded)
    assert rare_classes(table, max_count=1) == ["B-DATE", "B-TOTAL", "I-PER"]
    assert rare_classes(table, quantile=1.0) == ["B-DATE", "B-PER", "B-TOTAL", "I-PER"]
    assert "O" in rare_classes(table, quantile=1.0, exclude_background=False)


@given(counts=st.lists(st.integers(0, 1000), min_size=1, max_size=15),
       q=st.floats(0.01, 1.0))
def test_rare_classes_brute_force(counts, q):
    t = curate.LabelTable(np.diag(counts), [f"c{k:02d}" for k in range(len(counts))])
    got = rare_classes(t, quantile=q)
    thr = sorted(counts)[int(np.floor(q * (len(counts) - 1)))]  # numpy's 'lower' rule
    assert got == [f"c{k:02d}" for k, n in enumerate(counts) if n <= thr]
    assert got  # at least one class is rare


def test_rare_aware_probability(table):
    p = rare_aware_probability(table, ["B-DATE", "B-TOTAL"], base=0.1, rare_prob=0.9)
    np.testing.assert_array_equal(p, [0.1, 0.9, 0.1, 0.1, 0.9])
    # ids work as well as names
    ids = [table.classes.index("B-DATE"), table.classes.index("B-TOTAL")]
    np.testing.assert_array_equal(rare_aware_probability(table, ids, base=0.1, rare_prob=0.9), p)


def test_has_rare_label_numpy_and_torch():
    labels = np.array([[0, 3, -100], [0, 0, -100], [-100, -100, -100]])
    np.testing.assert_array_equal(has_rare_label(labels, [3]), [True, False, False])
    assert has_rare_label(labels[0], [3]) is True
    assert has_rare_label(labels[2], [3, -100]) is False  # ignore_index never matches
    import torch
    t = torch.as_tensor(labels)
    assert has_rare_label(t, [3]).tolist() == [True, False, False]
    assert has_rare_label(t, [-100]).tolist() == [False, False, False]


def test_oversample_rare_plan(table):
    plan = oversample_rare(table, ["B-DATE", "B-TOTAL"], factor=3, max_factor=2, seed=4)
    assert isinstance(plan, BalancePlan) and plan.status is PlanStatus.HEURISTIC
    assert plan.method == "oversample_rare"
    np.testing.assert_array_equal(plan.multiplicity, [1, 2, 1, 1, 2])
    assert plan.n_removed == 0 and plan.n_duplicates == 2
    assert plan.counts_after["B-DATE"] == 2 * plan.counts_before["B-DATE"]


@given(factor=st.floats(1.0, 4.0), max_factor=st.floats(1.0, 4.0), seed=st.integers(0, 100))
def test_oversample_rare_invariants(factor, max_factor, seed):
    t = curate.datasets.make_long_tailed(200, 12, seed=seed)
    rare = rare_classes(t, quantile=0.3)
    plan = oversample_rare(t, rare, factor=factor, max_factor=max_factor, seed=seed)
    holds = np.asarray(t.matrix[:, [t.classes.index(c) for c in rare]].sum(axis=1)).ravel() > 0
    cap = min(factor, max_factor)
    for epoch in (0, 1):
        x = plan.draw(epoch)
        assert np.all(x[~holds] == 1)  # only rare-holding samples change
        assert np.all((x[holds] >= np.floor(cap)) & (x[holds] <= np.ceil(cap)))
    np.testing.assert_allclose(plan.group_total[plan.group], np.where(holds, cap, 1.0))


ERRORS = [
    (lambda t: rare_classes(t, quantile=0), CurateValueError,
     r"The 'quantile' parameter of rare_classes must be a float in the range \(0, 1\]"),
    (lambda t: rare_classes(t, max_count=-1), CurateValueError, "'max_count' parameter"),
    (lambda t: rare_classes([["a"]]), CurateTypeError, "must be a curate.LabelTable"),
    (lambda t: rare_aware_probability(t, ["B-X"]), CurateValueError,
     r"rare\[0\] has class 'B-X' not in classes=\['B-DATE'"),
    (lambda t: rare_aware_probability(t, [99]), CurateValueError, r"rare\[0\] is id 99"),
    (lambda t: rare_aware_probability(t, ["B-DATE"], base=1.5), CurateValueError,
     "'base' parameter"),
    (lambda t: oversample_rare(t, ["B-DATE"], factor=0.5), CurateValueError,
     r"'factor' parameter of oversample_rare must be a float in the range \[1, inf\)"),
    (lambda t: oversample_rare(t, ["B-DATE"], max_factor=0), CurateValueError, "'max_factor'"),
    (lambda t: has_rare_label(np.zeros((2, 2, 2)), [1]), CurateValueError, r"\(T,\) or \(B, T\)"),
]


@pytest.mark.parametrize(("call", "exc", "match"), ERRORS)
def test_errors(table, call, exc, match):
    with pytest.raises(exc, match=match):
        call(table)
