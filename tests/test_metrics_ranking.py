"""Ranking metrics from scores: average precision (= scikit-learn), tune_thresholds (brute
force oracle), evaluate(..., thresholds=) and the fixed-threshold verdict rule."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import given, settings
from hypothesis import strategies as st

import curate
from curate.exceptions import CurateValueError, UndefinedMetricWarning
from curate.metrics import (
    apply_thresholds,
    average_precision,
    evaluate,
    mean_average_precision,
    tune_thresholds,
)


@st.composite
def scored(draw):
    n = draw(st.integers(2, 25))
    k = draw(st.integers(1, 4))
    y = np.array(draw(st.lists(st.lists(st.integers(0, 1), min_size=k, max_size=k),
                               min_size=n, max_size=n)))
    # few distinct values so that ties are common
    s = np.array(draw(st.lists(st.lists(st.sampled_from([0.1, 0.2, 0.35, 0.5, 0.8, 0.9]),
                                        min_size=k, max_size=k), min_size=n, max_size=n)))
    return y, s


@settings(max_examples=60)
@given(data=scored())
def test_average_precision_equals_sklearn(data):
    y, s = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = skm.average_precision_score(y, s, average=None)
        mine = average_precision(y, s)
        np.testing.assert_allclose(mine, np.atleast_1d(ref), atol=1e-12)
        assert abs(mean_average_precision(y, s)
                   - skm.average_precision_score(y, s, average="macro")) < 1e-12


def test_average_precision_warns_for_a_class_without_positives():
    with pytest.warns(UndefinedMetricWarning, match=r"classes \[1\]"):
        ap = average_precision([[1, 0], [0, 0]], [[0.9, 0.2], [0.1, 0.8]])
    assert ap.tolist() == [1.0, 0.0]


def _brute_force(y, s, beta=1.0):
    """Every distinct score as a cut (predict s >= cut), scored by scikit-learn."""
    cuts = sorted(set(s.tolist()), reverse=True)
    f = [skm.fbeta_score(y, (s >= c).astype(int), beta=beta, zero_division=0) for c in cuts]
    return cuts, f


@settings(max_examples=60)
@given(data=scored(), beta=st.sampled_from([1.0, 0.5, 2.0]))
def test_tune_thresholds_matches_brute_force(data, beta):
    y, s = data
    th = tune_thresholds(y, s, metric="fbeta", beta=beta)
    for j in range(y.shape[1]):
        if y[:, j].sum() == 0:
            assert th[j] == 0.5
            continue
        cuts, f = _brute_force(y[:, j], s[:, j], beta)
        best = max(f)
        pred = (s[:, j] >= th[j]).astype(int)
        got = skm.fbeta_score(y[:, j], pred, beta=beta, zero_division=0)
        assert abs(got - best) < 1e-12
        # tie rule: the highest cut among the best ones
        winner = max(c for c, v in zip(cuts, f, strict=True) if abs(v - best) < 1e-12)
        assert np.array_equal(pred, (s[:, j] >= winner).astype(int))
        lower = [c for c in cuts if c < winner]
        assert th[j] == pytest.approx((winner + max(lower)) / 2 if lower else winner)


def test_tune_thresholds_is_deterministic_and_validated():
    rng = np.random.default_rng(0)
    y, s = rng.integers(0, 2, (50, 3)), rng.random((50, 3))
    assert np.array_equal(tune_thresholds(y, s), tune_thresholds(y.copy(), s.copy()))
    with pytest.raises(CurateValueError, match="'metric' parameter of tune_thresholds"):
        tune_thresholds(y, s, metric="auc")
    with pytest.raises(CurateValueError, match=r"scores\[0, 0\] is nan"):
        tune_thresholds(y, np.where(np.eye(50, 3) > 0, np.nan, s))
    with pytest.raises(CurateValueError, match="y_true has shape"):
        tune_thresholds(y[:, :2], s)
    with pytest.raises(CurateValueError, match="one per class"):
        apply_thresholds(s, [0.5, 0.5])
    assert curate.tune_thresholds is tune_thresholds
    assert curate.average_precision is average_precision


def test_torch_scores_are_accepted():
    import torch
    y = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
    s = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.3], [0.7, 0.2]])
    assert np.array_equal(average_precision(torch.tensor(y), torch.tensor(s)),
                          average_precision(y, s))
    assert np.array_equal(tune_thresholds(torch.tensor(y), torch.tensor(s)),
                          tune_thresholds(y, s))


def _long_tail(seed=0, n=600):
    """Scores that rank well, but rare classes sit below 0.5 (a calibrated model's shape)."""
    rng = np.random.default_rng(seed)
    prior = np.array([0.5, 0.3, 0.05, 0.03])
    y = (rng.random((n, 4)) < prior).astype(int)
    s = np.clip(prior + 0.25 * (y - prior) + rng.normal(0, 0.05, (n, 4)), 0, 1)
    return y, s


def test_evaluate_with_thresholds_equals_sklearn_and_adds_ap():
    y, s = _long_tail()
    ev = evaluate(y, s, thresholds=0.5, zero_division=0)
    pred = (s >= 0.5).astype(int)
    ref = skm.classification_report(y, pred, output_dict=True, zero_division=0)
    for j in range(4):
        assert abs(ev.to_dict()[str(j)]["f1-score"] - ref[str(j)]["f1-score"]) < 1e-12
    np.testing.assert_allclose(ev.per_class["average_precision"],
                               skm.average_precision_score(y, s, average=None), atol=1e-12)
    assert abs(ev.mean_average_precision - skm.average_precision_score(y, s)) < 1e-12
    th = tune_thresholds(y, s)
    tuned = evaluate(y, s, thresholds=th, zero_division=0)
    assert tuned.macro.f1 > ev.macro.f1
    assert evaluate(y, apply_thresholds(s, th), zero_division=0).macro.f1 == tuned.macro.f1


def test_verdict_blames_the_fixed_threshold():
    y, s = _long_tail()
    ev = evaluate(y, s, thresholds=0.5, zero_division=0)
    rule = next(r for r in ev.paradox.rules if r["name"] == "threshold")
    assert rule["triggered"] and rule["macro_f1_tuned"] - rule["macro_f1_fixed"] >= 0.05
    assert ev.paradox.flagged
    assert any("fixed threshold 0.5, not the model" in r for r in ev.paradox.reasons)
    # per-class thresholds given: the rule is not checked
    ev = evaluate(y, s, thresholds=tune_thresholds(y, s), zero_division=0)
    assert all(r["name"] != "threshold" for r in ev.paradox.rules)
    # scores that separate at 0.5 already: the rule stays quiet
    clean = np.where(y == 1, 0.9, 0.1)
    ev = evaluate(y, clean, thresholds=0.5, zero_division=0)
    rule = next(r for r in ev.paradox.rules if r["name"] == "threshold")
    assert not rule["triggered"] and not ev.paradox.flagged


def test_thresholds_need_multilabel_scores():
    with pytest.raises(CurateValueError, match="task='tags' has no scores"):
        evaluate([["B-X"]], [["B-X"]], task="tags", thresholds=0.5)
    with pytest.raises(CurateValueError, match="scores of shape"):
        evaluate([0, 1], [0.2, 0.7], thresholds=0.5)


@settings(max_examples=60, deadline=None)
@given(data=scored(), seed=st.integers(0, 2**16))
def test_weighted_average_precision_and_thresholds_equal_sklearn(data, seed):
    y, s = data
    w = np.random.default_rng(seed).integers(0, 4, len(y)).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        ap = average_precision(y, s, sample_weight=w)
    thresholds = tune_thresholds(y, s, sample_weight=w)
    for j in range(y.shape[1]):
        if (y[:, j] * w).sum() == 0:
            continue
        assert ap[j] == pytest.approx(skm.average_precision_score(y[:, j], s[:, j],
                                                                  sample_weight=w))
        best = max(skm.f1_score(y[:, j], s[:, j] >= t, sample_weight=w, zero_division=0)
                   for t in np.unique(s[:, j]))
        got = skm.f1_score(y[:, j], s[:, j] >= thresholds[j], sample_weight=w, zero_division=0)
        assert got == pytest.approx(best)


def test_tuned_threshold_separates_adjacent_floats_and_huge_scores():
    lower = float(np.nextafter(0.3, 0))
    t = tune_thresholds([[1], [0]], [[0.3], [lower]])
    assert apply_thresholds([[0.3], [lower]], t).ravel().tolist() == [1, 0]
    t = tune_thresholds([[1], [0]], [[1.7e308], [1e308]])
    assert np.isfinite(t).all()
    assert apply_thresholds([[1.7e308], [1e308]], t).ravel().tolist() == [1, 0]
