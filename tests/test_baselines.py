"""Baselines: rule outputs against per-class references, detectron2's and DataEval's own results.

Oracles: plain-Python rewrites of the published rules (LVIS/detectron2 repeat factors, mmdet's
``ceil``), detectron2's test case with its numbers, the multinomial coverage formula of
``WeightedRandomSampler``, and real DataEval (``ClassBalance(method="interclass")``) where it is
installed.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import dataset_path
from hypothesis import given
from hypothesis import strategies as st

import curate
from curate.balance import PlanStatus
from curate.balance import baselines as bl
from curate.exceptions import CurateTypeError, CurateValueError

CLASSES = ["a", "b", "c", "d", "e"]
label_lists = st.lists(
    st.lists(st.sampled_from(CLASSES), min_size=0, max_size=4), min_size=1, max_size=40
).filter(lambda rows: any(rows))


# ---------------------------------------------------------------------- repeat factors
def _reference_repeat_factors(rows: list[list[str]], t: float, sqrt: bool = True) -> list[float]:
    """detectron2's rule written out per class and per image, in plain Python."""
    n = len(rows)
    freq = {c: sum(c in set(r) for r in rows) / n for c in {c for r in rows for c in r}}
    rep = {c: max(1.0, math.sqrt(t / f) if sqrt else t / f) for c, f in freq.items()}
    return [max((rep[c] for c in set(r)), default=1.0) for r in rows]


@given(label_lists, st.sampled_from([0.001, 0.05, 0.3, 1.0]), st.booleans())
def test_repeat_factor_matches_per_class_rule(rows, t, sqrt):
    plan = bl.repeat_factor(curate.LabelTable.from_labels(rows), t, sqrt=sqrt)
    ref = _reference_repeat_factors(rows, t, sqrt)
    np.testing.assert_allclose(plan.group_total, ref, rtol=1e-12)
    np.testing.assert_allclose(plan.details["repeat_factors"], ref, rtol=1e-12)
    assert plan.status is PlanStatus.HEURISTIC and plan.n_removed == 0


@given(label_lists, st.sampled_from([0.05, 0.3, 1.0]), st.booleans())
def test_repeat_factor_ceil_is_mmdet_rounding(rows, t, sqrt):
    plan = bl.repeat_factor(curate.LabelTable.from_labels(rows), t, sqrt=sqrt, rounding="ceil")
    expected = [math.ceil(r) for r in _reference_repeat_factors(rows, t, sqrt)]
    for epoch in (0, 1, 7):  # deterministic: the same whole copies every epoch
        assert plan.draw(epoch).tolist() == expected


def test_repeat_factor_detectron2_case():
    # detectron2 tests/data/test_sampler.py::test_repeat_factors_from_category_frequency
    rows = [["0", "1"], ["0"], []]
    plan = bl.repeat_factor(curate.LabelTable.from_labels(rows), 0.5)
    np.testing.assert_allclose(plan.details["repeat_factors"], [math.sqrt(3 / 2), 1.0, 1.0])
    # the same case with sqrt=False: r("1") = 0.5 / (1/3), r("0") = max(1, 0.5 / (2/3))
    plan = bl.repeat_factor(curate.LabelTable.from_labels(rows), 0.5, sqrt=False)
    np.testing.assert_allclose(plan.details["repeat_factors"], [0.5 / (1 / 3), 1.0, 1.0])


@pytest.mark.datasets
@pytest.mark.parametrize("sqrt", [True, False])
def test_repeat_factor_on_voc(sqrt):
    df = pd.read_parquet(dataset_path("voc_detection"))
    rows = [list(x) for x in df["labels"]]
    plan = bl.repeat_factor(curate.LabelTable.from_labels(rows), 0.1, sqrt=sqrt)
    ref = _reference_repeat_factors(rows, 0.1, sqrt)
    np.testing.assert_allclose(plan.group_total, ref, rtol=1e-12)


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


# ---------------------------------------------------------------------- class quota
def test_class_quota_single_label_spreads_n_over_classes():
    y = ["a"] * 50 + ["b"] * 7 + ["c"] * 20 + ["d"] * 3 + ["e"]
    t = curate.LabelTable.from_array(y)
    plan = bl.class_quota(t, seed=4)
    totals = plan.counts_after.to_numpy()
    # divmod(81, 5) = (16, 1): one class gets 17, the others 16
    assert sorted(totals.tolist()) == [16, 16, 16, 16, 17]
    assert sorted(plan.details["picks"].values()) == [16, 16, 16, 16, 17]
    codes = np.asarray([CLASSES.index(c) for c in y])
    x = plan.multiplicity
    assert x[codes == 0].max() == 1 and x[codes == 2].max() == 1  # enough samples: no repeats


def test_class_quota_n_per_class_is_exact():
    y = ["a"] * 50 + ["b"] * 7 + ["c"] * 20 + ["d"] * 3
    plan = bl.class_quota(curate.LabelTable.from_array(y), 20)
    assert plan.counts_after.tolist() == [20, 20, 20, 20]
    assert plan.epoch_size == 80


def test_class_quota_minimize_duplicates_takes_every_member_first():
    y = ["a"] * 50 + ["b"] * 7 + ["c"] * 3
    t = curate.LabelTable.from_array(y)
    codes = np.asarray([CLASSES.index(c) for c in y])
    for seed in range(20):
        x = bl.class_quota(t, seed=seed, minimize_duplicates=True).multiplicity
        assert x[codes == 1].min() >= 1 and x[codes == 2].min() >= 1
        assert x[codes == 1].sum() == 20 and x[codes == 2].sum() == 20


def test_class_quota_scores_prefer_samples_with_fewer_other_labels():
    # class "a" has two candidates: one alone (score 1) and one holding 2 other classes
    # (score 1 / (1 + 2 * 2) = 1/5): a single pick takes the lone one with probability 5/6
    rows = [["a"], ["a", "b", "c"], ["b"], ["c"]]
    t = curate.LabelTable.from_labels(rows)
    runs = 3000
    lone = sum(int(bl.class_quota(t, 1, seed=s).multiplicity[0] >= 1) for s in range(runs))
    sd = math.sqrt(runs * (5 / 6) * (1 / 6))
    assert abs(lone - runs * 5 / 6) <= 5 * sd


def test_class_quota_fills_classes_in_order_of_first_appearance():
    t = curate.LabelTable.from_labels([["c"], ["a", "b"], ["d"], ["b"]])
    assert bl.class_quota(t, 1).details["class_order"] == ["c", "a", "b", "d"]


def test_class_quota_scores_count_earlier_picks():
    # "b" is filled first: row 0 (score 1) or row 1 (holds "a" too: score 1/3), so row 1
    # with probability 1/4. "a" then scores row 1 at 1 / (1 + picks + 2) and row 2 at 1:
    # row 1 is picked twice with probability 1/4 * (1/4) / (1 + 1/4) = 1/20 (1/16 if
    # earlier picks were ignored), never with probability 3/4 * 3/4 = 9/16.
    t = curate.LabelTable.from_labels([["b"], ["a", "b"], ["a"]])
    runs = 8000
    x1 = np.array([bl.class_quota(t, 1, seed=s).multiplicity[1] for s in range(runs)])
    for value, prob in ((2, 1 / 20), (0, 9 / 16)):
        sd = math.sqrt(runs * prob * (1 - prob))
        assert abs(int((x1 == value).sum()) - runs * prob) <= 4 * sd


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


@given(label_lists, st.integers(1, 30), st.integers(0, 5), st.booleans())
def test_class_quota_picks_per_class(rows, n, seed, minimize):
    t = curate.LabelTable.from_labels(rows)
    plan = bl.class_quota(t, n, seed=seed, minimize_duplicates=minimize)
    present = int((t.support > 0).sum())
    assert plan.epoch_size == n * present
    pres = t.presence().toarray()
    x = plan.multiplicity
    assert np.all(x[pres.sum(axis=1) == 0] == 0)
    # a sample is picked at most n times for each class it holds
    assert np.all(x <= pres.sum(axis=1) * n)


@given(label_lists, st.integers(1, 60), st.integers(0, 5))
def test_class_quota_num_samples_total(rows, total, seed):
    t = curate.LabelTable.from_labels(rows)
    plan = bl.class_quota(t, num_samples=total, seed=seed)
    k = int((t.support > 0).sum())
    assert plan.epoch_size == total
    assert sorted(set(plan.details["picks"].values())) <= [total // k, total // k + 1]


# ------------------------------------------------------------ class quota against DataEval
def _detection_set(rows: list[list[int]]) -> object:
    """The benchmark's MAITE dataset of labels only (one definition, in benchmarks/)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from _dataeval_interclass import _LabelsOnly

    return _LabelsOnly(rows)


def _dataeval_multiplicity(rows: list[list[str]], *, seed: int, background: str | None = None,
                           **options: object) -> np.ndarray:
    """Real DataEval's interclass selection as per-sample counts.

    Class ids follow first appearance (labels of an image in sorted name order), background
    last, so that DataEval's class-id/position bookkeeping of the leftover picks coincides
    with its evident intent.
    """
    dc = pytest.importorskip("dataeval.config", exc_type=ImportError)
    data = pytest.importorskip("dataeval.data", exc_type=ImportError)
    order: list[str] = []
    for r in rows:
        order += [c for c in sorted(set(r)) if c not in order and c != background]
    ids = {c: j for j, c in enumerate(order)}
    if background is not None:
        ids[background] = len(order)
    coded = [[ids[c] for c in sorted(set(r))] for r in rows]
    with dc.use_seed(seed):
        op = data.ClassBalance("interclass", background_class=None if background is None
                               else ids[background], **options)
    sel = data.View(_detection_set(coded), [op]).selection
    return np.bincount(np.asarray(sel, dtype=np.int64), minlength=len(rows))


def _curate_multiplicity(rows: list[list[str]], *, seed: int, background: str | None = None,
                         **options: object) -> np.ndarray:
    table = curate.LabelTable.from_labels(rows, classes=sorted({c for r in rows for c in r}))
    return bl.class_quota(table, seed=seed, background=background, **options).multiplicity


@pytest.mark.parametrize("minimize", [False, True])
@pytest.mark.parametrize("seed", [0, 5])
def test_class_quota_equals_dataeval_synthetic(seed, minimize):
    rng = np.random.default_rng(seed)
    rows = [sorted({str(c) for c in rng.zipf(1.6, size=rng.integers(0, 4)) if c < 12})
            for _ in range(300)]
    rows = [r if r or i % 3 else ["bg"] for i, r in enumerate(rows)]  # empties and bg-only
    for background in (None, "bg"):
        for options in ({}, {"num_samples": 777}):
            got = _curate_multiplicity(rows, seed=seed, background=background,
                                       minimize_duplicates=minimize, **options)
            want = _dataeval_multiplicity(rows, seed=seed, background=background,
                                          minimize_duplicates=minimize, **options)
            np.testing.assert_array_equal(got, want)


@pytest.mark.datasets
@pytest.mark.parametrize(
    ("split", "n"), [("voc2007_trainval", 2000), ("voc2007_test", 800), ("voc2012_val", 500)]
)
@pytest.mark.parametrize("minimize", [False, True])
def test_class_quota_equals_dataeval_on_voc(split, n, minimize):
    df = pd.read_parquet(dataset_path("voc_detection"))
    rows = [list(r) for r in df[df["split"] == split]["labels"].head(n)]
    for seed in (0, 1):
        got = _curate_multiplicity(rows, seed=seed, minimize_duplicates=minimize)
        want = _dataeval_multiplicity(rows, seed=seed, minimize_duplicates=minimize)
        np.testing.assert_array_equal(got, want)


@pytest.mark.datasets
@pytest.mark.parametrize(("name", "column", "step"), [
    ("coco_val2017_detection", "labels", 4), ("mulan_yeast", "labels", 3),
    ("places_lt", "label", 50),
])
def test_class_quota_equals_dataeval_on_shared_sets(name, column, step):
    values = pd.read_parquet(dataset_path(name), columns=[column])[column].iloc[::step]
    rows = [[v] if isinstance(v, str) else [str(c) for c in v] for v in values]
    for minimize in (False, True):
        got = _curate_multiplicity(rows, seed=3, minimize_duplicates=minimize)
        want = _dataeval_multiplicity(rows, seed=3, minimize_duplicates=minimize)
        np.testing.assert_array_equal(got, want)


# ---------------------------------------------------------------------- inverse frequency
def test_inverse_frequency_weights_and_size():
    rows = [["a"], ["a"], ["a"], ["a", "b"], ["b"], []]
    t = curate.LabelTable.from_labels(rows)
    for agg, per in (("mean", [1 / 4, 1 / 4, 1 / 4, (1 / 4 + 1 / 2) / 2, 1 / 2, 1.0]),
                     ("max", [1 / 4, 1 / 4, 1 / 4, 1 / 2, 1 / 2, 1.0])):
        plan = bl.inverse_frequency(t, 1000, aggregation=agg, seed=0)
        p = np.array(per) / sum(per)
        np.testing.assert_allclose(plan.details["weights"], p)
        np.testing.assert_allclose(plan.expected, 1000 * p)
        assert plan.epoch_size == 1000 and plan.rounding == "multinomial"


def test_inverse_frequency_redraws_every_epoch():
    # WeightedRandomSampler draws num_samples indices anew on every __iter__: sample i is
    # unseen after E epochs with probability (1 - p_i) ** (n E). The seen indicators of a
    # multinomial are negatively associated, so their sum's variance is at most sum q(1-q).
    table = curate.datasets.make_long_tailed(2000, 15, seed=2)
    plan = bl.inverse_frequency(table, seed=11)
    p = plan.details["weights"]
    n, epochs = table.n_samples, 20
    draws = np.stack([plan.draw(e) for e in range(epochs)])
    assert np.all(draws.sum(axis=1) == n)
    assert len({d.tobytes() for d in draws}) == epochs  # every epoch differs
    for e in (1, 5, 20):
        q = 1 - (1 - p) ** (n * e)
        seen = int((draws[:e].sum(axis=0) > 0).sum())
        assert abs(seen - q.sum()) <= 5 * math.sqrt(np.sum(q * (1 - q))) + 1
    # one frozen draw would leave (1 - p)^n unseen for good; redraws cover far more
    assert (draws.sum(axis=0) > 0).mean() > (draws[0] > 0).mean() + 0.2


def test_inverse_frequency_single_label_is_balanced_in_expectation():
    y = ["a"] * 900 + ["b"] * 90 + ["c"] * 10
    t = curate.LabelTable.from_array(y)
    n, epochs = 3000, 10
    plan = bl.inverse_frequency(t, n, seed=4)
    codes = np.asarray(["abc".index(c) for c in y])
    totals = np.stack([np.bincount(codes, weights=plan.draw(e), minlength=3)
                       for e in range(epochs)]).sum(axis=0)
    # each class total over all epochs ~ Binomial(n * epochs, 1/3)
    sd = math.sqrt(n * epochs * (1 / 3) * (2 / 3))
    assert np.all(np.abs(totals - n * epochs / 3) <= 5 * sd)


# ---------------------------------------------------------------------- imblearn style
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


# ---------------------------------------------------------------------- shared contracts
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


def test_global_rng_untouched():
    t = curate.datasets.make_long_tailed(200, 6, seed=0)
    before = np.random.get_state()[1].copy()  # noqa: NPY002 - the legacy global RNG itself
    for f in (bl.repeat_factor, bl.class_quota, bl.inverse_frequency):
        f(t).draw(1)
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # noqa: NPY002


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
        (lambda: bl.repeat_factor(SINGLE, rounding="floor"), CurateValueError,
         r"'rounding' parameter of repeat_factor must be one of \{'ceil', 'stochastic'\}"),
        (lambda: bl.repeat_factor(SINGLE, sqrt=1), CurateTypeError,
         r"'sqrt' parameter of repeat_factor must be a bool"),
        (lambda: bl.repeat_factor(SINGLE, seed=-1), CurateValueError, r"'seed' parameter"),
        (lambda: bl.repeat_factor([[1]]), CurateTypeError, r"must be a curate.LabelTable"),
        (lambda: bl.class_quota(SINGLE, 0), CurateValueError,
         r"'n_per_class' parameter of class_quota must be an int in the range \[1, inf\) or None"),
        (lambda: bl.class_quota(SINGLE, num_samples=0), CurateValueError,
         r"'num_samples' parameter of class_quota must be an int in the range \[1, inf\)"),
        (lambda: bl.class_quota(SINGLE, 2, num_samples=4), CurateValueError,
         r"n_per_class or num_samples, not both; got n_per_class=2 and num_samples=4"),
        (lambda: bl.class_quota(SINGLE, minimize_duplicates="yes"), CurateTypeError,
         r"'minimize_duplicates' parameter of class_quota must be a bool"),
        (lambda: bl.class_quota(SINGLE, background="zebra"), CurateValueError,
         r"'background' parameter of class_quota must be one of \{'a', 'b'\}"),
        (lambda: bl.class_quota(curate.LabelTable.from_labels([["O"]], background="O")),
         CurateValueError, r"no non-background class"),
        (lambda: bl.inverse_frequency(SINGLE, 0), CurateValueError, r"'num_samples' parameter"),
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
