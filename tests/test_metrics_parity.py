"""Metric parity with scikit-learn and seqeval on edge inputs (issue 12, item 4), ported
cases of their own test suites, and the new options (sample_weight, beta, target_names,
digits, suffix, strict schemes)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import seqeval.metrics as seqeval_metrics
import seqeval.scheme as seqeval_scheme
import sklearn.metrics as skm
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from curate.exceptions import (
    CurateTypeError,
    CurateValueError,
    CurateWarning,
    UndefinedMetricWarning,
)
from curate.metrics import compare, evaluate
from tests.conftest import dataset_path


def _quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kw)


def _seqeval_report(t, p, **kw):
    return _quiet(seqeval_metrics.classification_report, t, p, output_dict=True, **kw)


def _same(a, b, tol=1e-12):
    if isinstance(b, float) and np.isnan(b):
        return isinstance(a, float) and np.isnan(a)
    return abs(float(a) - float(b)) <= tol


# ------------------------------------------------------------------ the cases, verbatim


def test_ragged_tag_sequences_raise_like_seqeval():
    with pytest.raises(ValueError):
        _quiet(seqeval_metrics.f1_score, [["B-PER"]], [["B-PER", "O"]], mode="strict")
    with pytest.raises(CurateValueError, match=r"y_pred\[0\] has 2 tags but y_true\[0\] has 1"):
        evaluate([["B-PER"]], [["B-PER", "O"]], mode="strict")


def test_empty_inputs():
    with pytest.raises(CurateValueError, match="only empty sequences"):
        evaluate([[]], [[]])
    # task="tags" gives seqeval's numbers: micro 0, macro NaN, weighted 0
    ref = _seqeval_report([[]], [[]])
    with pytest.warns(UndefinedMetricWarning, match="micro average"):
        ev = evaluate([[]], [[]], task="tags")
    for avg in ("micro", "macro", "weighted"):
        mine = ev.to_dict()[f"{avg} avg"]
        for k in ("precision", "recall", "f1-score", "support"):
            assert _same(mine[k], ref[f"{avg} avg"][k]), (avg, k)
    assert not ev.paradox.flagged and "nothing to judge" in ev.paradox.note
    assert "no accuracy paradox" not in ev.to_markdown()
    # scikit-learn raises on 0 samples
    with pytest.raises(ValueError):
        skm.precision_recall_fscore_support([], [])
    with pytest.raises(CurateValueError, match="empty"):
        evaluate([], [])
    with pytest.raises(CurateValueError, match="empty"):
        evaluate(np.zeros((0, 3), dtype=int), np.zeros((0, 3), dtype=int))


@pytest.mark.parametrize("zd", ["warn", 0, 1])
def test_no_entities_at_all_weighted_like_seqeval(zd):
    for t, p in ([[["O", "O"]], [["O", "O"]]], [[["O", "O"]], [["B-PER", "O"]]]):
        ref = _seqeval_report(t, p, zero_division=zd)
        ev = _quiet(evaluate, t, p, zero_division=zd)
        mine = ev.to_dict()
        for avg in ("micro avg", "weighted avg"):
            for k in ("precision", "recall", "f1-score"):
                assert _same(mine[avg][k], ref[avg][k]), (t, p, avg, k)
    ev = evaluate([["O", "O"]], [["O", "O"]], zero_division=0)
    assert ev.weighted == (0.0, 0.0, 0.0)
    assert ev.paradox.note and not ev.paradox.flagged


@pytest.mark.parametrize("odd", ["B-", "X-PER", "b-per"])
def test_one_odd_tag_keeps_the_corpus_tags(odd):
    t = [["B-PER", "I-PER", "O"], ["O", odd, "O"], ["B-LOC", "O", "O"]]
    p = [["B-PER", "I-PER", "O"], ["O", "O", "O"], ["B-LOC", "O", "O"]]
    with pytest.warns(CurateWarning, match=repr(odd).replace("[", r"\[")):
        ev = evaluate(t, p, zero_division=0)
    assert ev.task == "tags"
    ref = _seqeval_report(t, p)
    for name in ("micro avg", "macro avg"):
        assert _same(ev.to_dict()[name]["f1-score"], ref[name]["f1-score"])
    with pytest.raises(CurateValueError, match=f"tag {odd!r} is not a well-formed tag"):
        evaluate(t, p, mode="strict", zero_division=0)


def _to_suffix(seqs):
    return [[t if t == "O" else f"{t[2:]}-{t[0]}" for t in s] for s in seqs]


def test_suffix_tags_like_seqeval_and_auto_detected():
    t = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "I-ORG", "I-ORG", "O"]]
    p = [["B-PER", "O", "O", "B-LOC"], ["B-ORG", "I-ORG", "O", "O"]]
    ts, ps = _to_suffix(t), _to_suffix(p)
    for mode in ("default", "strict"):
        kw = {"mode": "strict", "scheme": seqeval_scheme.IOB2} if mode == "strict" else {}
        ref = _seqeval_report(ts, ps, suffix=True, **kw)
        for suffix in (True, "auto"):
            ev = evaluate(ts, ps, suffix=suffix, mode=mode)
            assert ev.options["suffix"] is True
            for key in ("PER", "LOC", "ORG", "micro avg", "macro avg", "weighted avg"):
                for k in ("precision", "recall", "f1-score", "support"):
                    assert _same(ev.to_dict()[key][k], ref[key][k]), (mode, key, k)
        prefix = evaluate(t, p, mode=mode)
        pd.testing.assert_frame_equal(prefix.per_class, evaluate(ts, ps, mode=mode).per_class)


@pytest.mark.datasets
def test_suffix_conll_equals_prefix_conll():
    # the idea of seqeval's test_metrics_for_inv_data, on the shared CoNLL-2003 test split
    df = pd.read_parquet(dataset_path("conll2003_ner"), columns=["tags_iob2", "split"])
    t = [list(s) for s in df.loc[df["split"] == "test", "tags_iob2"]][:800]
    rng = np.random.default_rng(3)
    vocab = sorted({x for s in t for x in s})
    p = [[vocab[rng.integers(len(vocab))] if rng.random() < 0.1 else x for x in s] for s in t]
    a, b = evaluate(t, p), evaluate(_to_suffix(t), _to_suffix(p))
    pd.testing.assert_frame_equal(a.per_class, b.per_class)
    ref = _seqeval_report(_to_suffix(t), _to_suffix(p), suffix=True)
    assert _same(b.micro.f1, ref["micro avg"]["f1-score"])


SCHEME_VOCAB = {"IOB1": "IOB", "IOB2": "IOB", "IOE1": "IOE", "IOE2": "IOE",
                "IOBES": "IOBES", "BILOU": "BILOU"}


@pytest.mark.parametrize("scheme", list(SCHEME_VOCAB))
@pytest.mark.parametrize("suffix", [False, True])
@settings(max_examples=20)
@given(data=st.data())
def test_strict_schemes_equal_seqeval(scheme, suffix, data):
    letters = SCHEME_VOCAB[scheme]
    tags = ["O"] + [f"{ty}-{p}" if suffix else f"{p}-{ty}" for p in letters if p != "O"
                    for ty in ("PER", "LOC")]
    lengths = data.draw(st.lists(st.integers(0, 7), min_size=1, max_size=6))
    tag = st.sampled_from(tags)
    t = [data.draw(st.lists(tag, min_size=n, max_size=n)) for n in lengths]
    p = [data.draw(st.lists(tag, min_size=n, max_size=n)) for n in lengths]
    ref = _seqeval_report(t, p, mode="strict", scheme=getattr(seqeval_scheme, scheme),
                          suffix=suffix, zero_division=0)
    ev = evaluate(t, p, task="tags", mode="strict", scheme=scheme, suffix=suffix,
                  zero_division=0)
    mine = ev.to_dict()
    for key, row in ref.items():
        for k in ("precision", "recall", "f1-score", "support"):
            assert _same(mine[key][k], row[k]), (key, k, mine[key][k], row[k])


def test_strict_scheme_auto_detection():
    t = [["B-PER", "I-PER", "L-PER", "O", "U-LOC"]]
    p = [["B-PER", "I-PER", "L-PER", "O", "O"]]
    ev = evaluate(t, p, mode="strict", zero_division=0)
    assert ev.options["scheme"] == "BILOU"
    ref = _seqeval_report(t, p, mode="strict")  # seqeval auto-detects BILOU as well
    assert _same(ev.micro.f1, ref["micro avg"]["f1-score"])
    assert evaluate([["I-PER", "E-PER", "O"]], [["I-PER", "E-PER", "O"]],
                    mode="strict").options["scheme"] == "IOE2"
    with pytest.raises(CurateValueError, match="cannot detect the tagging scheme"):
        evaluate([["B-PER", "E-PER", "L-PER"]], [["O", "O", "O"]], mode="strict")


def test_labels_on_indicator_matrices_select_columns():
    t = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0]])
    p = np.array([[1, 0, 0], [0, 1, 1], [1, 0, 0]])
    ref = _quiet(skm.classification_report, t, p, labels=[2, 0], output_dict=True)
    ev = _quiet(evaluate, t, p, labels=[2, 0])
    assert ev.classes == ["2", "0"]
    for key in ("2", "0", "micro avg", "macro avg", "weighted avg", "samples avg"):
        for k in ("precision", "recall", "f1-score", "support"):
            assert _same(ev.to_dict()[key][k], ref[key][k]), (key, k)
    named = evaluate(t, p, labels=[2, 0], target_names=["c", "a"], zero_division=0)
    assert named.classes == ["c", "a"]
    with pytest.raises(CurateValueError, match="selects columns by index"):
        evaluate(t, p, labels=["a", "b"])
    with pytest.raises(CurateValueError, match="has column 7"):
        evaluate(t, p, labels=[7])


def test_float_nan_and_string_inputs_are_errors():
    with pytest.raises(ValueError):
        skm.precision_recall_fscore_support([0, 1], [0.5, 1])
    with pytest.raises(CurateValueError, match=r"y_pred\[0\] is 0.5, a continuous value"):
        evaluate([0, 1], [0.5, 1.0])
    # whole-number floats are class labels, as in scikit-learn
    ev = evaluate([0, 1], [0.0, 1.0])
    assert ev.accuracy == 1.0
    with pytest.raises(CurateValueError, match=r"y_pred\[1\] is NaN"):
        evaluate(np.array([0.0, 1.0]), np.array([0.0, np.nan]))
    with pytest.raises(CurateValueError, match=r"y_pred\[1\] is missing"):
        evaluate([0.0, 1.0], [0.0, np.nan])
    with pytest.raises(CurateValueError, match=r"y_pred\[1\] is missing"):
        evaluate(["a", "b"], ["a", np.nan], zero_division=0)
    with pytest.raises(CurateTypeError, match=r"y_pred\[1\] is the string 'b'"):
        evaluate([["a"], ["b"]], [["a"], "b"], task="multilabel")
    with pytest.raises(CurateTypeError, match=r"y_pred\[0\] is the string"):
        evaluate([["B-PER", "O"]], ["B-PER O"], task="tags")


def test_inputs_numpy_pandas_lists_and_torch():
    import torch
    t, p = [0, 1, 2, 2, 1], [0, 2, 2, 2, 1]
    ref = evaluate(t, p).to_dict()
    for conv in (np.asarray, pd.Series, torch.tensor):
        assert evaluate(conv(t), conv(p)).to_dict() == ref
    ind_t = np.array([[1, 0], [0, 1], [1, 1]])
    ind_p = np.array([[1, 0], [1, 1], [0, 1]])
    ref = evaluate(ind_t, ind_p).to_dict()
    assert evaluate(torch.tensor(ind_t), torch.tensor(ind_p)).to_dict() == ref
    assert evaluate(pd.DataFrame(ind_t), pd.DataFrame(ind_p)).to_dict() == ref
    ids_t = torch.tensor([[0, 1, 2, -100], [1, 0, -100, -100]])
    ids_p = torch.tensor([[0, 1, 0, 0], [1, 1, 0, 0]])
    names = ["O", "B-PER", "I-PER"]
    a = evaluate(ids_t, ids_p, labels=names, zero_division=0)
    b = evaluate([["O", "B-PER", "I-PER"], ["B-PER", "O"]],
                 [["O", "B-PER", "O"], ["B-PER", "B-PER"]], zero_division=0)
    pd.testing.assert_frame_equal(a.per_class, b.per_class)
    if torch.cuda.is_available():
        assert evaluate(torch.tensor(t).cuda(), torch.tensor(p).cuda()).accuracy == 0.8


def test_warning_text_summary_and_compare():
    with pytest.warns(UndefinedMetricWarning) as record:
        evaluate(np.array([[0, 0], [0, 0]]), np.array([[0, 0], [0, 0]]))
    texts = [str(w.message) for w in record]
    assert any("due to no predicted samples (micro average)" in m for m in texts), texts
    assert not any("in the with" in m for m in texts)
    # 'c' is only predicted: macro.recall counts its 0/0 as 1, the verdict leaves it out
    ev = evaluate(["a"] * 9 + ["b"], ["a"] * 8 + ["c", "a"], zero_division=1)
    rule = next(r for r in ev.paradox.rules if r["name"] == "recall_gap")
    assert rule["triggered"] and rule["macro_recall"] == ev.macro_recall != ev.macro.recall
    assert f"macro recall {ev.macro_recall:.4f}" in ev.summary_line()
    assert f"macro recall {ev.macro_recall:.3f}" in " ".join(ev.paradox.reasons)
    a = evaluate(["x", "y"], ["x", "x"], zero_division=0)
    b = evaluate(["x", "y"], ["x", "z"], zero_division=0)
    c = compare(a, b)
    assert c.added == ["z"] and c.removed == []
    assert "z" not in c.unchanged + c.improved + c.regressed
    assert compare(b, a).removed == ["z"]


# ------------------------------------------------------------------ new options vs scikit-learn


@st.composite
def weighted_pairs(draw):
    n = draw(st.integers(1, 40))
    lab = st.integers(0, 4)
    t = draw(st.lists(lab, min_size=n, max_size=n))
    p = draw(st.lists(lab, min_size=n, max_size=n))
    w = draw(st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.5]), min_size=n, max_size=n))
    return t, p, w


@settings(max_examples=30)
@given(data=weighted_pairs(), zd=st.sampled_from([0, 1, np.nan]))
def test_sample_weight_equals_sklearn(data, zd):
    t, p, w = data
    assume(sum(w) > 0)  # scikit-learn refuses all-zero weights
    ev = evaluate(t, p, sample_weight=w, zero_division=zd)
    ref = _quiet(skm.classification_report, t, p, sample_weight=w, output_dict=True,
                 zero_division=zd)
    mine = ev.to_dict()
    for key, row in ref.items():
        if key == "accuracy":
            if sum(w) > 0:
                assert _same(mine["accuracy"], row)
            continue
        for k in ("precision", "recall", "f1-score", "support"):
            assert _same(mine[key][k], row[k]), (key, k, mine[key][k], row[k])
    if sum(w) > 0:
        assert _same(ev.balanced_accuracy,
                     _quiet(skm.balanced_accuracy_score, t, p, sample_weight=w))


@settings(max_examples=20)
@given(data=st.data(), beta=st.sampled_from([0.5, 2.0, 3.0]))
def test_beta_equals_sklearn_fbeta(data, beta):
    n = data.draw(st.integers(1, 30))
    t = data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    p = data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    ev = evaluate(t, p, beta=beta, zero_division=0)
    ref = _quiet(skm.fbeta_score, t, p, beta=beta, average=None, zero_division=0)
    np.testing.assert_allclose(ev.per_class["f1"], ref, atol=1e-12)
    for avg in ("macro", "weighted", "micro"):
        assert _same(getattr(ev, avg).f1, _quiet(skm.fbeta_score, t, p, beta=beta,
                                                 average=avg, zero_division=0))


def test_multilabel_sample_weight_equals_sklearn():
    rng = np.random.default_rng(0)
    t, p = rng.integers(0, 2, (40, 4)), rng.integers(0, 2, (40, 4))
    w = rng.random(40)
    ev = evaluate(t, p, sample_weight=w, zero_division=0)
    for avg in ("micro", "macro", "weighted", "samples"):
        ref = skm.precision_recall_fscore_support(t, p, average=avg, sample_weight=w,
                                                  zero_division=0)
        assert np.allclose(getattr(ev, avg), ref[:3], atol=1e-12), avg
    assert _same(ev.accuracy, skm.accuracy_score(t, p, sample_weight=w))


@given(data=st.data(), zero_division=st.sampled_from([0, 1, np.nan]))
def test_samples_average_with_zero_weights_equals_sklearn(data, zero_division):
    # a 0-weight row is 0/0 in sklearn (its counts are weighted); with every defined row at
    # weight 0 the average was 1.0 here where sklearn gives NaN
    n = data.draw(st.integers(1, 8))
    rows = st.lists(st.integers(0, 1), min_size=3, max_size=3)
    t = np.array(data.draw(st.lists(rows, min_size=n, max_size=n)))
    p = np.array(data.draw(st.lists(rows, min_size=n, max_size=n)))
    w = np.array(data.draw(st.lists(st.sampled_from([0.0, 0.5, 1.0]), min_size=n, max_size=n)))
    assume(w.any())  # all-zero weights: refused here and by sklearn (test_sample_weight_errors)
    ev = evaluate(t, p, sample_weight=w, zero_division=zero_division)
    ref = _quiet(skm.precision_recall_fscore_support, t, p, average="samples",
                 sample_weight=w, zero_division=zero_division)
    for ours, theirs in zip(ev.samples, ref[:3], strict=True):
        assert _same(ours, theirs), (t.tolist(), p.tolist(), w.tolist(), ev.samples, ref)


def test_sample_weight_errors():
    with pytest.raises(CurateValueError, match=r"sample_weight must have shape \(2,\)"):
        evaluate([0, 1], [0, 1], sample_weight=[1.0])
    with pytest.raises(CurateValueError, match=r"sample_weight\[1\] is -1.0"):
        evaluate([0, 1], [0, 1], sample_weight=[1.0, -1.0])
    with pytest.raises(CurateValueError, match="sample_weight is 0 for every sample"):
        evaluate(np.array([[0, 1]]), np.array([[0, 1]]), sample_weight=[0.0])
    with pytest.raises(CurateValueError, match="not supported for task='tags'"):
        evaluate([["B-PER"]], [["B-PER"]], sample_weight=[1.0])


@pytest.mark.parametrize("digits", [2, 4])
def test_text_report_equals_sklearn(digits):
    rng = np.random.default_rng(digits)
    names = np.array(["blue", "green", "red"])
    t, p = names[rng.integers(0, 3, 75)], names[rng.integers(0, 3, 75)]
    ev = evaluate(t, p)
    assert ev.to_text(digits) == skm.classification_report(t, p, digits=digits)
    named = evaluate(t, p, target_names=["a", "b", "c"])
    assert named.to_text(digits) == skm.classification_report(
        t, p, digits=digits, target_names=["a", "b", "c"])
    w = rng.random(75)
    assert evaluate(t, p, sample_weight=w).to_text(digits) == skm.classification_report(
        t, p, digits=digits, sample_weight=w)
    mt, mp = rng.integers(0, 2, (30, 3)), rng.integers(0, 2, (30, 3))
    assert _quiet(evaluate, mt, mp).to_text(digits) == _quiet(
        skm.classification_report, mt, mp, digits=digits)


def test_text_report_equals_seqeval():
    t = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O", "B-MISC"]]
    p = [["B-PER", "I-PER", "O", "O"], ["B-ORG", "O", "B-LOC"]]
    ev = _quiet(evaluate, t, p)
    ref = _quiet(seqeval_metrics.classification_report, t, p, digits=3)
    assert ev.to_text(3).rstrip() == ref.rstrip()


def test_target_names_length_and_digits_checked():
    with pytest.raises(CurateValueError, match="target_names has 1 names for 2 classes"):
        evaluate([0, 1], [0, 1], target_names=["a"])
    with pytest.raises(CurateValueError, match="'digits' parameter"):
        evaluate([0, 1], [0, 1]).to_text(-1)


# ---------------------------------------------- ported from seqeval tests/test_metrics.py


@pytest.mark.parametrize("mode", ["default", "strict"])
def test_seqeval_undefined_metric_warning(mode):
    # TestF1score.test_undefined_metric_warning: f1_score([[]], [[]]) warns
    with pytest.warns(UndefinedMetricWarning):
        evaluate([[]], [[]], task="tags", mode=mode, scheme="IOB2")


@pytest.mark.parametrize(("y_true", "y_pred"), [([["O"]], [[]]), ([[]], [["O"]])])
def test_seqeval_value_error(y_true, y_pred):
    # TestF1score.test_value_error
    with pytest.raises(ValueError):
        evaluate(y_true, y_pred, task="tags")


def test_seqeval_conll_and_strict_f1score():
    # TestF1score.test_conll_f1score (1 for every average) and test_strict_f1score (0)
    y_true, y_pred = [["B-ORG", "I-ORG"]], [["I-ORG", "I-ORG"]]
    ev = evaluate(y_true, y_pred)
    assert ev.per_class["f1"].tolist() == [1.0]
    assert ev.micro.f1 == ev.macro.f1 == ev.weighted.f1 == 1.0
    ev = evaluate(y_true, y_pred, mode="strict", scheme="IOB2", zero_division=0)
    assert ev.per_class["f1"].tolist() == [0.0]
    assert ev.micro.f1 == ev.macro.f1 == ev.weighted.f1 == 0.0


def test_seqeval_get_entities_cases():
    from curate._tags import entities_default

    # test_get_entities and test_get_entities_with_suffix_style
    y = ["O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O", "B-PER", "I-PER"]
    assert entities_default(y) == [("MISC", 3, 5), ("PER", 7, 8)]
    y = ["O", "O", "O", "MISC-B", "MISC-I", "MISC-I", "O", "PER-B", "PER-I"]
    assert entities_default(y, suffix=True) == [("MISC", 3, 5), ("PER", 7, 8)]
    # test_get_entities_with_only_IOB (nested list laid out with one "O" between)
    flat = ["O", "O", "O", "B", "I", "I", "O", "O", "B", "I", "O"]
    assert entities_default(flat) == [("_", 3, 5), ("_", 8, 9)]


# ------------------------------- ported from sklearn/metrics/tests/test_classification.py


def test_sklearn_precision_recall_f1_score_multilabel_1():
    y_true = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 1]])
    y_pred = np.array([[0, 1, 0, 0], [0, 1, 0, 0], [1, 0, 1, 0]])
    ev = evaluate(y_true, y_pred, zero_division=0)
    np.testing.assert_array_almost_equal(ev.per_class["precision"], [0.0, 0.5, 1.0, 0.0], 2)
    np.testing.assert_array_almost_equal(ev.per_class["recall"], [0.0, 1.0, 1.0, 0.0], 2)
    np.testing.assert_array_almost_equal(ev.per_class["f1"], [0.0, 1 / 1.5, 1, 0.0], 2)
    np.testing.assert_array_almost_equal(ev.per_class["support"], [1, 1, 1, 1], 2)
    f2 = evaluate(y_true, y_pred, beta=2, zero_division=0)
    np.testing.assert_array_almost_equal(f2.per_class["f1"], [0, 0.83, 1, 0], 2)
    np.testing.assert_almost_equal(ev.macro, (1.5 / 4, 0.5, 2.5 / 1.5 * 0.25))
    np.testing.assert_almost_equal(ev.micro, (0.5, 0.5, 0.5))
    np.testing.assert_almost_equal(ev.weighted, (1.5 / 4, 0.5, 2.5 / 1.5 * 0.25))
    np.testing.assert_almost_equal(ev.samples, (0.5, 0.5, 0.5))
    np.testing.assert_almost_equal(f2.samples.f1, 0.5)
    np.testing.assert_almost_equal(f2.micro.f1, (1 + 4) * 0.5 * 0.5 / (4 * 0.5 + 0.5))


def test_sklearn_precision_recall_f1_score_multilabel_2():
    y_true = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 1, 1, 0]])
    y_pred = np.array([[0, 0, 0, 1], [0, 0, 0, 1], [1, 1, 0, 0]])
    ev = evaluate(y_true, y_pred, zero_division=0)
    np.testing.assert_array_almost_equal(ev.per_class["precision"], [0.0, 1.0, 0.0, 0.0], 2)
    np.testing.assert_array_almost_equal(ev.per_class["recall"], [0.0, 0.5, 0.0, 0.0], 2)
    np.testing.assert_array_almost_equal(ev.per_class["f1"], [0.0, 0.66, 0.0, 0.0], 2)
    np.testing.assert_array_almost_equal(ev.per_class["support"], [1, 2, 1, 0], 2)
    f2 = evaluate(y_true, y_pred, beta=2, zero_division=0)
    np.testing.assert_array_almost_equal(f2.per_class["f1"], [0, 0.55, 0, 0], 2)
    np.testing.assert_almost_equal(ev.micro, (0.25, 0.25, 2 * 0.25 * 0.25 / 0.5))
    np.testing.assert_almost_equal(ev.macro, (0.25, 0.125, 2 / 12))
    np.testing.assert_almost_equal(ev.weighted, (2 / 4, 1 / 4, 2 / 3 * 2 / 4))
    np.testing.assert_almost_equal(ev.samples, (1 / 6, 1 / 6, 2 / 4 * 1 / 3))
    np.testing.assert_almost_equal(f2.samples.f1, 0.1666, 2)


@pytest.mark.parametrize(("zd", "expected"), [(0, 0), (1, 1), (np.nan, np.nan)])
def test_sklearn_precision_recall_f1_score_with_an_empty_prediction(zd, expected):
    y_true = np.array([[0, 1, 0, 0], [1, 0, 0, 0], [0, 1, 1, 0]])
    y_pred = np.array([[0, 0, 0, 0], [0, 0, 0, 1], [0, 1, 1, 0]])
    ev = evaluate(y_true, y_pred, zero_division=zd)
    np.testing.assert_array_almost_equal(ev.per_class["precision"], [expected, 1, 1, 0], 2)
    np.testing.assert_array_almost_equal(ev.per_class["recall"], [0, 0.5, 1, expected], 2)
    np.testing.assert_array_almost_equal(ev.per_class["f1"], [0, 1 / 1.5, 1, 0], 2)
    np.testing.assert_array_almost_equal(ev.per_class["support"], [1, 2, 1, 0], 2)
    f2 = evaluate(y_true, y_pred, beta=2, zero_division=zd)
    np.testing.assert_array_almost_equal(f2.per_class["f1"], [0, 0.55, 1, 0], 2)
    add = 0 if np.isnan(expected) else expected
    n = 3 + (not np.isnan(expected))
    np.testing.assert_almost_equal(ev.macro, ((2 + add) / n, (1.5 + add) / n, (2 / 3 + 1) / 4))
    np.testing.assert_almost_equal(ev.micro, (2 / 3, 0.5, 2 / 3 / (2 / 3 + 0.5)))
    np.testing.assert_almost_equal(ev.weighted.precision, 3 / 4 if expected == 0 else 1.0)
    np.testing.assert_almost_equal(ev.weighted.recall, 0.5)
    np.testing.assert_almost_equal(ev.weighted.f1, (2 * 2 / 3 + 1) / 4)


def test_sklearn_precision_recall_f_extra_and_ignored_labels():
    # test_precision_recall_f_extra_labels
    y_true, y_pred = [1, 3, 3, 2], [1, 1, 3, 2]
    ev = evaluate(y_true, y_pred, labels=[0, 1, 2, 3, 4], zero_division=0)
    np.testing.assert_array_almost_equal(ev.per_class["recall"], [0.0, 1.0, 1.0, 0.5, 0.0])
    np.testing.assert_almost_equal(ev.macro.recall, np.mean([0.0, 1.0, 1.0, 0.5, 0.0]))
    # non-regression on scikit-learn issue #10307: samples average with labels=[0, 1]
    t, p = np.array([[0, 1, 1], [1, 0, 0]]), np.array([[1, 1, 1], [1, 0, 1]])
    np.testing.assert_almost_equal(evaluate(t, p, labels=[0, 1]).samples, (3 / 4, 1, 5 / 6))
    # test_precision_recall_f_ignored_labels
    y_true, y_pred = [1, 1, 2, 3], [1, 3, 3, 3]
    ev = evaluate(y_true, y_pred, labels=[1, 3], zero_division=0)
    np.testing.assert_array_almost_equal(ev.per_class["recall"], [0.5, 1.0])
    np.testing.assert_almost_equal(ev.macro.recall, (0.5 + 1.0) / 2)
    np.testing.assert_almost_equal(ev.weighted.recall, (0.5 * 2 + 1.0 * 1) / 3)
    np.testing.assert_almost_equal(ev.micro.recall, 2.0 / 3)


def test_sklearn_multilabel_unordered_labels():
    # test_precision_refcall_f1_score_multilabel_unordered_labels
    ev = evaluate(np.array([[1, 1, 0, 0]]), np.array([[0, 0, 1, 1]]), labels=[3, 0, 1, 2],
                  zero_division=0)
    assert ev.per_class["precision"].tolist() == [0, 0, 0, 0]
    assert ev.per_class["support"].tolist() == [0, 1, 1, 0]
    for avg in ("micro", "macro", "weighted", "samples"):
        assert tuple(getattr(ev, avg)) == (0, 0, 0)


def test_integer_tags_named_by_labels_are_scored_as_entities():
    # Hugging Face ner_tags with their id2label: scored as multi-label sets before (micro-F1
    # of label sets, a truncated prediction accepted); they are tags, scored as seqeval
    from seqeval.metrics import f1_score

    names = {0: "O", 1: "B-PER", 2: "I-PER", 3: "B-LOC", 4: "I-LOC"}
    yt = [[1, 2, 0, 0, 3, 4], [0, 0, 1], [3, 0]]
    yp = [[1, 0, 0, 0, 3, 4], [0, 0, 1], [0, 0]]
    ev = evaluate(yt, yp, labels=names)
    assert ev.task == "tags"
    named = [[[names[i] for i in s] for s in y] for y in (yt, yp)]
    assert _same(ev.micro.f1, f1_score(*named))
    with pytest.raises(CurateValueError, match="has 4 tags but y_true"):
        evaluate(yt, [yp[0][:4], *yp[1:]], labels=names)
    assert evaluate([[0, 1], [1]], [[0, 1], [0]], labels={0: "cat", 1: "dog"}).task == \
        "multilabel"
