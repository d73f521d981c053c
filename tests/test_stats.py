"""imbalance_stats against brute-force formulas, chunked == one-shot, advice and errors."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st

from curate import LabelTable, imbalance_stats
from curate.datasets import make_long_tailed
from curate.exceptions import CurateTypeError, CurateValueError
from curate.stats import _compute, _update_table


def _brute(table):
    a = table.matrix.toarray()
    fg = [k for k, c in enumerate(table.classes) if c != table.background]
    c = a[:, fg].sum(axis=0).astype(float)
    p = c[c > 0] / c.sum()
    h = -sum(x * math.log(x) for x in p)
    diffs = sum(abs(x - y) for x in c for y in c)
    gini = diffs / (2 * len(c) ** 2 * c.mean())
    pres = (a > 0).astype(int)
    return {
        "ratio": math.inf if c.min() == 0 else c.max() / c.min(),
        "entropy": h, "gini": gini, "cooc": pres.T @ pres,
        "norm": 1.0 if len(c) == 1 else h / math.log(len(c)),
        "empty": int((a.sum(axis=1) == 0).sum()),
    }


labels_st = st.lists(st.lists(st.sampled_from(["a", "b", "c", "O"]), max_size=6),
                     min_size=1, max_size=30).filter(lambda r: any(x != "O" for s in r for x in s))


@given(labels_st, st.booleans())
def test_measures_equal_brute_force(labels, with_background):
    bg = "O" if with_background and any("O" in r for r in labels) else None
    t = LabelTable.from_labels(labels, classes=["O", "a", "b", "c"], background=bg)
    s = imbalance_stats(t)
    b = _brute(t)
    assert s.imbalance_ratio == pytest.approx(b["ratio"])
    assert s.entropy == pytest.approx(b["entropy"])
    assert s.normalized_entropy == pytest.approx(b["norm"])
    assert s.effective_classes == pytest.approx(math.exp(b["entropy"]))
    assert s.gini == pytest.approx(b["gini"], abs=1e-12)
    np.testing.assert_array_equal(s.cooccurrence.toarray(), b["cooc"])
    assert s.n_empty == b["empty"]
    assert s.per_class["count"].sum() == s.n_labels == sum(len(r) for r in labels)
    assert s.per_class["share"].sum() == pytest.approx(1.0)
    assert s.labels_per_sample.sum() == s.classes_per_sample.sum() == len(labels)
    assert s.majority_share == pytest.approx(s.per_class["share"].max())
    json.dumps(s.to_dict())


@given(labels_st, st.integers(1, 6))
def test_chunked_update_equals_one_shot(labels, n_chunks):
    bg = "O" if any("O" in r for r in labels) else None
    t = LabelTable.from_labels(labels, classes=["O", "a", "b", "c"], background=bg)
    bounds = np.linspace(0, t.n_samples, n_chunks + 1).astype(int)
    bi = t.background_index
    parts = [_update_table(t.matrix[a:b], bi) for a, b in itertools.pairwise(bounds)]
    total = parts[0]
    for p in parts[1:]:
        total = total + p
    one = _update_table(t.matrix, bi)
    np.testing.assert_array_equal(total.counts, one.counts)
    np.testing.assert_array_equal(total.support, one.support)
    assert total.labels_hist == one.labels_hist and total.classes_hist == one.classes_hist
    assert total.n_background_only == one.n_background_only
    assert (total.cooccurrence != one.cooccurrence).nnz == 0
    a = _compute(total, t.classes, t.background, t.level).to_dict()
    assert a == imbalance_stats(t).to_dict()


def test_token_level_background_and_advice():
    tags = [["O"] * 20 + ["B-PER"], ["O"] * 10, ["B-LOC", "I-LOC"] + ["O"] * 8]
    s = imbalance_stats(LabelTable.from_tags(tags))
    assert s.majority_class == "O" and s.majority_share == pytest.approx(38 / 41)
    assert s.n_background_only == 1 and s.n_empty == 0
    codes = {a.code: a for a in s.advice}
    assert "92.7 % of tokens: plan balancing" in codes["majority-share"].message
    assert codes["majority-share"].severity == "warning"
    assert "rare-classes" in codes  # every entity class is in < 10 samples
    assert s.imbalance_ratio == 1.0  # O excluded


def test_severe_ratio_missing_class_and_empty_advice():
    labels = [["a"]] * 300 + [["b"]] * 2 + [[]] * 50
    s = imbalance_stats(LabelTable.from_labels(labels, classes=["a", "b", "z"]))
    codes = {a.code for a in s.advice}
    assert {"missing-classes", "many-empty", "rare-classes"} <= codes
    assert math.isinf(s.imbalance_ratio) and s.to_dict()["imbalance_ratio"] == "inf"
    s2 = imbalance_stats(LabelTable.from_labels(labels))
    assert s2.imbalance_ratio == 150 and "severe-imbalance" in {a.code for a in s2.advice}
    assert s2.n_empty == 50


def test_balanced_data_gets_no_warning():
    s = imbalance_stats(LabelTable.from_array(["a", "b"] * 50))
    assert [a.code for a in s.advice] == ["no-strong-imbalance"]
    assert s.gini == 0 and s.normalized_entropy == pytest.approx(1.0)


def test_long_tailed_demo_data():
    t = make_long_tailed(3000, 40, seed=3)
    s = imbalance_stats(t)
    assert s.majority_class == "person"
    assert s.to_frame().index.tolist() == list(t.classes)
    assert sp.issparse(s.cooccurrence) and s.cooccurrence.shape == (40, 40)
    np.testing.assert_array_equal(s.cooccurrence.diagonal(), t.support.to_numpy())


@pytest.mark.parametrize(("arg", "exc", "match"), [
    ([["a"]], CurateTypeError, r"imbalance_stats needs a LabelTable; got list"),
    (LabelTable.from_labels([["a"]]).select([]), CurateValueError, r"table has 0 samples"),
    (LabelTable.from_labels([[]], classes=["a"]), CurateValueError, r"table has no labels"),
])
def test_errors(arg, exc, match):
    with pytest.raises(exc, match=match):
        imbalance_stats(arg)


def test_moderate_imbalance_is_not_also_called_no_strong_imbalance():
    import curate

    table = curate.LabelTable.from_labels([["a"]] * 300 + [["b"]] * 20 + [["c"]] * 20)
    codes = [a.code for a in curate.imbalance_stats(table).advice]
    assert "moderate-imbalance" in codes and "no-strong-imbalance" not in codes
