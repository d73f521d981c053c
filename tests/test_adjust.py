"""curate.adjust: priors, post-hoc logit adjustment and tau tuning (sklearn metrics as oracle)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import curate
from curate.adjust import TauSearch, _balanced_accuracy, _confusion, _macro_f1, priors_from
from curate.exceptions import CurateTypeError, CurateValueError


# ---------------------------------------------------------------- priors_from
def test_priors_from_every_source_agrees():
    labels = [["a"]] * 6 + [["b"]] * 3 + [["c"]]
    table = curate.LabelTable.from_labels(labels)
    expected = np.array([0.6, 0.3, 0.1])
    sources = [table, curate.class_weights(table), table.counts, {"a": 6, "b": 3, "c": 1},
               [6, 3, 1], np.array([0.6, 0.3, 0.1]), (60.0, 30.0, 10.0)]
    for source in sources:
        np.testing.assert_allclose(priors_from(source), expected, rtol=1e-15)
    import torch
    np.testing.assert_allclose(priors_from(torch.tensor([6, 3, 1])), expected, rtol=1e-15)


def test_priors_from_multilabel_is_presence_over_samples():
    labels = [["a", "a", "b"], ["a"], ["c"], [], ["a", "c"]]
    table = curate.LabelTable.from_labels(labels)
    names = sorted({x for row in labels for x in row})
    brute = [sum(name in row for row in labels) / len(labels) for name in names]
    assert list(table.classes) == names
    np.testing.assert_allclose(priors_from(table, multilabel=True), brute)
    np.testing.assert_allclose(priors_from([3, 1, 2], multilabel=True, n_samples=5), brute)
    np.testing.assert_allclose(priors_from(np.array(brute), multilabel=True), brute)


def test_priors_from_smoothing_formulas():
    np.testing.assert_allclose(priors_from([5, 0, 3], smoothing=1.0), [6 / 11, 1 / 11, 4 / 11])
    np.testing.assert_allclose(priors_from([0, 10], multilabel=True, n_samples=10, smoothing=0.5),
                               [0.5 / 11, 10.5 / 11])


def test_priors_from_does_not_mutate_input():
    counts = np.array([3.0, 1.0])
    priors_from(counts, smoothing=1.0)
    np.testing.assert_array_equal(counts, [3.0, 1.0])


PRIOR_ERRORS = [
    (lambda: priors_from([5, 0]), CurateValueError, r"counts\[1\] gives a prior of 0.*smoothing=1"),
    (lambda: priors_from({"x": 5, "y": 0}), CurateValueError, r"counts\[1\] \('y'\)"),
    (lambda: priors_from([1, -2]), CurateValueError, r"counts\[1\] is -2.0.*>= 0"),
    (lambda: priors_from([1, np.nan]), CurateValueError, "finite"),
    (lambda: priors_from([[1, 2]]), CurateValueError, "1-D"),
    (lambda: priors_from([]), CurateValueError, "1-D"),
    (lambda: priors_from(["a", "b"]), CurateTypeError, "numeric"),
    (lambda: priors_from("abc"), CurateTypeError, "LabelTable, ClassWeights"),
    (lambda: priors_from([1, 2], smoothing=-1), CurateValueError, "'smoothing' parameter"),
    (lambda: priors_from([1, 2], n_samples=3), CurateValueError, "only with multilabel=True"),
    (lambda: priors_from([3, 1], multilabel=True), CurateValueError, "pass n_samples=N"),
    (lambda: priors_from([0.5, 1.5], multilabel=True), CurateValueError,
     r"counts\[1\].*must lie in \(0, 1\)"),
    (lambda: priors_from([3, 4], multilabel=True, n_samples=3), CurateValueError,
     r"counts\[1\] is 4.0 > n_samples=3"),
    (lambda: priors_from([3, 1], multilabel=True, n_samples=3), CurateValueError,
     r"counts\[0\] gives a prior of 1.0"),
    (lambda: priors_from([0.5, 0.2], multilabel=True, smoothing=1), CurateValueError,
     "smoothing needs counts"),
    (lambda: priors_from(curate.LabelTable.from_labels([["a"], ["b"]]), multilabel=True,
                         n_samples=2), CurateValueError, "reads n_samples from the LabelTable"),
]


@pytest.mark.parametrize(("call", "exc", "match"), PRIOR_ERRORS)
def test_priors_from_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ---------------------------------------------------------------- logit_adjust
def test_logit_adjust_numpy_formula_and_dtypes():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(7, 4))
    counts = [100, 30, 5, 1]
    pi = np.array(counts) / 136
    np.testing.assert_allclose(curate.logit_adjust(z, counts, tau=0.7), z - 0.7 * np.log(pi),
                               rtol=0, atol=1e-15)
    np.testing.assert_array_equal(curate.logit_adjust(z, counts, tau=0.0), z)
    assert curate.logit_adjust(z.astype(np.float32), counts).dtype == np.float32
    assert curate.logit_adjust(z.astype(np.float16), counts).dtype == np.float32
    assert curate.logit_adjust(z.tolist(), counts).dtype == np.float64
    # extra leading axes: classes last
    z3 = rng.normal(size=(2, 3, 4))
    np.testing.assert_allclose(curate.logit_adjust(z3, counts)[1, 2],
                               curate.logit_adjust(z3[1, 2], counts))


def test_logit_adjust_torch_keeps_device_dtype_and_grad():
    import torch
    z = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
    out = curate.logit_adjust(z, [10, 5, 1], tau=1.2)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float64
    np.testing.assert_allclose(out.detach().numpy(),
                               curate.logit_adjust(z.detach().numpy(), [10, 5, 1], tau=1.2))
    out.sum().backward()
    torch.testing.assert_close(z.grad, torch.ones_like(z))
    half = curate.logit_adjust(z.detach().to(torch.bfloat16), [10, 5, 1])
    assert half.dtype == torch.float32


@pytest.mark.parametrize(("call", "exc", "match"), [
    (lambda: curate.logit_adjust(np.zeros((2, 3)), [1, 2]), CurateValueError,
     r"shape \(2, 3\) but 2 priors"),
    (lambda: curate.logit_adjust(np.zeros(2), [1, 2], tau=-1), CurateValueError, "'tau'"),
    (lambda: curate.logit_adjust(np.zeros(2), [1, 2], tau=float("inf")), CurateValueError,
     "finite"),
    (lambda: curate.logit_adjust(np.array(["a", "b"]), [1, 2]), CurateTypeError, "numeric"),
])
def test_logit_adjust_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ---------------------------------------------------------------- metrics vs sklearn
@pytest.mark.parametrize("seed", range(5))
def test_private_metrics_equal_sklearn(seed):
    import sklearn.metrics as metrics
    rng = np.random.default_rng(seed)
    n = 6
    y = rng.choice(n, size=80, p=[0.5, 0.2, 0.15, 0.1, 0.05, 0.0])  # class 5 never true
    pred = rng.choice(n, size=80, p=[0.3, 0.3, 0.1, 0.1, 0.0, 0.2])  # 4 never predicted
    cm = _confusion(y, pred, n)
    with warnings.catch_warnings():  # sklearn: "y_pred contains classes not in y_true"
        warnings.simplefilter("ignore", UserWarning)
        expected = metrics.balanced_accuracy_score(y, pred)
    assert _balanced_accuracy(cm) == pytest.approx(expected, abs=1e-12)
    assert _macro_f1(cm) == pytest.approx(
        metrics.f1_score(y, pred, average="macro", zero_division=0), abs=1e-12)


# ---------------------------------------------------------------- tune_tau
def _gaussian_problem(shift, seed, n=20000):
    """Class-conditional Gaussians; logits = log p(x|y) + shift * log(pi).

    argmax of log p(x|y) maximises balanced accuracy in the population, so the best tau
    removes exactly ``shift``.
    """
    rng = np.random.default_rng(seed)
    pi = np.array([0.55, 0.25, 0.12, 0.06, 0.02])
    means = rng.normal(scale=1.6, size=(5, 3))
    y = rng.choice(5, size=n, p=pi)
    x = means[y] + rng.normal(size=(n, 3))
    loglik = -0.5 * ((x[:, None, :] - means[None]) ** 2).sum(axis=-1)
    return loglik + shift * np.log(pi), y, pi


@pytest.mark.parametrize("shift", [0.5, 1.0, 1.5])
def test_tune_tau_recovers_known_shift(shift):
    logits, y, pi = _gaussian_problem(shift, seed=3)
    search = curate.tune_tau(logits, y, pi)
    assert abs(search.tau - shift) <= 0.2, search
    assert search.score >= search.scores[0]  # never worse than no adjustment on validation
    assert search.grid == tuple(round(0.1 * i, 1) for i in range(21))
    f1 = curate.tune_tau(logits, y, pi, metric="macro_f1")
    assert f1.metric == "macro_f1" and f1.score == max(f1.scores)


def test_tune_tau_scores_are_the_metric_of_each_candidate():
    import sklearn.metrics as metrics
    logits, y, pi = _gaussian_problem(1.0, seed=4, n=3000)
    search = curate.tune_tau(logits, y, pi, grid=[0.0, 0.5, 1.0], metric="macro_f1")
    for t, s in zip(search.grid, search.scores, strict=True):
        pred = np.argmax(logits - t * np.log(pi), axis=1)
        assert s == pytest.approx(metrics.f1_score(y, pred, average="macro"), abs=1e-12)


def test_tune_tau_tie_goes_to_smallest_tau():
    logits = np.array([[100.0, -100.0], [-100.0, 100.0]])
    search = curate.tune_tau(logits, [0, 1], [0.9, 0.1], grid=[1.5, 0.3, 0.0, 0.3])
    assert search.grid == (0.0, 0.3, 1.5)
    assert search.scores == (1.0, 1.0, 1.0)
    assert search.tau == 0.0
    assert isinstance(search, TauSearch)


def test_tune_tau_token_shape_ignore_index_and_torch():
    import torch
    logits, y, pi = _gaussian_problem(1.0, seed=5, n=600)
    y_ignored = y.copy()
    y_ignored[::7] = -100
    flat = curate.tune_tau(logits[y_ignored != -100], y[y_ignored != -100], pi)
    tokens = curate.tune_tau(logits.reshape(20, 30, 5), y_ignored.reshape(20, 30), pi)
    tensors = curate.tune_tau(torch.from_numpy(logits.reshape(20, 30, 5)).float(),
                              torch.from_numpy(y_ignored.reshape(20, 30)), pi)
    assert flat == tokens
    assert tensors.tau == flat.tau


def test_tune_tau_is_deterministic():
    logits, y, pi = _gaussian_problem(0.8, seed=6, n=2000)
    assert curate.tune_tau(logits, y, pi) == curate.tune_tau(logits.copy(), y.copy(), pi)


@pytest.mark.parametrize(("kwargs", "exc", "match"), [
    (dict(y_val=[0, 3]), CurateValueError, r"y_val\[1\] \(flattened\) is 3"),
    (dict(y_val=[0.0, 1.0]), CurateTypeError, "integer class ids"),
    (dict(y_val=[0, 1, 1]), CurateValueError, "y_val must have the logits' shape"),
    (dict(y_val=[-100, -100]), CurateValueError, "no labelled position"),
    (dict(metric="accuracy"), CurateValueError, "'metric' parameter of tune_tau"),
    (dict(grid=[]), CurateValueError, "'grid' parameter"),
    (dict(grid=[-0.5, 1.0]), CurateValueError, "'grid' parameter"),
    (dict(grid=["x"]), CurateTypeError, "'grid' parameter"),
    (dict(priors=[1, 1, 1]), CurateValueError, "3 priors"),
    (dict(logits_val=[[0.0, np.nan], [1.0, 0.0]]), CurateValueError, "NaN or infinite"),
])
def test_tune_tau_errors(kwargs, exc, match):
    args = dict(logits_val=[[0.0, 1.0], [1.0, 0.0]], y_val=[0, 1], priors=[0.5, 0.5])
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        curate.tune_tau(args.pop("logits_val"), args.pop("y_val"), args.pop("priors"), **args)


def test_series_priors_keep_names_in_errors():
    with pytest.raises(CurateValueError, match=r"counts\[0\] \('rare'\)"):
        priors_from(pd.Series({"rare": 0, "common": 9}))
