"""curate.evaluate against scikit-learn and seqeval (the oracles), plus invariants."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import seqeval.metrics as seqeval_metrics
import seqeval.scheme as seqeval_scheme
import sklearn.metrics as sklearn_metrics
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.exceptions import CurateTypeError, CurateValueError, UndefinedMetricWarning
from curate.metrics import evaluate
from tests.conftest import dataset_path

TOL = 1e-12
KEYS = ("precision", "recall", "f1-score", "support")


# ----------------------------------------------------------------------------- references


def _reference_sklearn_report(y_true, y_pred, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sklearn_metrics.classification_report(y_true, y_pred, output_dict=True, **kw)


def _reference_sklearn_prfs(y_true, y_pred, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sklearn_metrics.precision_recall_fscore_support(y_true, y_pred, **kw)


def _reference_sklearn_balanced(y_true, y_pred):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sklearn_metrics.balanced_accuracy_score(y_true, y_pred)


def _reference_seqeval_report(y_true, y_pred, mode=None, scheme=None, **kw):
    sch = {"IOB2": seqeval_scheme.IOB2, "IOBES": seqeval_scheme.IOBES}.get(scheme)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return seqeval_metrics.classification_report(
            y_true, y_pred, output_dict=True, mode=mode, scheme=sch, **kw)


def _close(a, b):
    if isinstance(b, float) and np.isnan(b):
        return isinstance(a, float) and np.isnan(a)
    return abs(float(a) - float(b)) <= TOL


def _assert_report_equal(mine: dict, ref: dict, skip=()):
    for key, row in ref.items():
        if key in skip:
            continue
        if isinstance(row, dict):
            for k in KEYS:
                assert _close(mine[key][k], row[k]), (key, k, mine[key][k], row[k])
        else:
            assert _close(mine[key], row), (key, mine[key], row)


# ----------------------------------------------------------------------------- multiclass

labels_int = st.lists(st.integers(0, 5), min_size=1, max_size=60)
ZD = [0, 1, np.nan]


@st.composite
def pairs(draw, strings=False):
    n = draw(st.integers(1, 60))
    alphabet = st.sampled_from(["cat", "dog", "bird", "eel", "fox"]) if strings else (
        st.integers(0, 6))
    y_true = draw(st.lists(alphabet, min_size=n, max_size=n))
    y_pred = draw(st.lists(alphabet, min_size=n, max_size=n))
    return y_true, y_pred


@pytest.mark.parametrize("strings", [False, True])
@pytest.mark.parametrize("zero_division", ZD)
@settings(max_examples=25)
@given(data=st.data())
def test_multiclass_equals_sklearn(data, strings, zero_division):
    y_true, y_pred = data.draw(pairs(strings=strings))
    ev = evaluate(y_true, y_pred, task="multiclass", zero_division=zero_division)
    ref = _reference_sklearn_report(y_true, y_pred, zero_division=zero_division)
    _assert_report_equal(ev.to_dict(), ref)
    assert _close(ev.balanced_accuracy, _reference_sklearn_balanced(y_true, y_pred))
    ev_all = ev.to_dict()
    assert _close(ev_all["micro avg"]["precision"], ref["accuracy"])


@given(data=st.data())
def test_multiclass_labels_subset_equals_sklearn(data):
    y_true, y_pred = data.draw(pairs())
    labels = data.draw(st.lists(st.integers(0, 8), min_size=1, max_size=5, unique=True))
    ev = evaluate(y_true, y_pred, labels=labels, zero_division=0)
    ref = _reference_sklearn_report(y_true, y_pred, labels=labels, zero_division=0)
    mine = ev.to_dict()
    if "micro avg" not in ref:  # sklearn prints accuracy when labels cover the data
        ref["micro avg"] = {"precision": ref["accuracy"], "recall": ref["accuracy"],
                            "f1-score": ref["accuracy"], "support": ref["macro avg"]["support"]}
        ref.pop("accuracy")
    _assert_report_equal(mine, ref)
    assert ev.classes == [str(v) for v in labels]


@given(data=st.data())
def test_invariants_order_and_macro_mean(data):
    y_true, y_pred = data.draw(pairs(strings=True))
    perm = np.random.default_rng(len(y_true)).permutation(len(y_true))
    ev = evaluate(y_true, y_pred, zero_division=0)
    ev2 = evaluate([y_true[i] for i in perm], [y_pred[i] for i in perm], zero_division=0)
    pd.testing.assert_frame_equal(ev.per_class, ev2.per_class)
    assert np.isclose(ev.macro.recall, ev.per_class["recall"].mean(), atol=TOL)
    assert np.isclose(ev.macro.f1, ev.per_class["f1"].mean(), atol=TOL)
    # the same labels as numpy arrays, pandas Series and a column vector
    for wrap in (np.asarray, pd.Series, lambda v: np.asarray(v).reshape(-1, 1)):
        again = evaluate(wrap(y_true), wrap(y_pred), zero_division=0)
        pd.testing.assert_frame_equal(again.per_class, ev.per_class)


def test_string_and_int_labels_give_same_scores():
    rng = np.random.default_rng(0)
    t, p = rng.integers(0, 4, 300), rng.integers(0, 4, 300)
    names = np.array(["a", "b", "c", "d"])
    a, b = evaluate(t, p), evaluate(names[t], names[p])
    np.testing.assert_array_equal(a.per_class.to_numpy(), b.per_class.to_numpy())


def test_large_sparse_integer_labels_use_general_path():
    t = np.array([0, 10**12, 5])
    p = np.array([0, 10**12, 10**12])
    ev = evaluate(t, p, zero_division=0)
    _assert_report_equal(ev.to_dict(), _reference_sklearn_report(t, p, zero_division=0))


def test_zero_division_warns_like_sklearn():
    with pytest.warns(UndefinedMetricWarning, match="Precision is ill-defined.*zero_division"):
        evaluate([0, 1, 1], [0, 0, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        evaluate([0, 1, 1], [0, 0, 0], zero_division=0)


# ----------------------------------------------------------------------------- multilabel


@st.composite
def indicator_pairs(draw):
    n = draw(st.integers(1, 30))
    k = draw(st.integers(2, 5))  # sklearn reads one column as a 1-d target
    bits = st.lists(st.lists(st.integers(0, 1), min_size=k, max_size=k), min_size=n,
                    max_size=n)
    return np.array(draw(bits)), np.array(draw(bits))


@pytest.mark.parametrize("zero_division", ZD)
@settings(max_examples=15)
@given(data=st.data())
def test_multilabel_indicator_equals_sklearn(data, zero_division):
    t, p = data.draw(indicator_pairs())
    ev = evaluate(t, p, task="multilabel", zero_division=zero_division)
    ref = _reference_sklearn_report(t, p, zero_division=zero_division)
    _assert_report_equal(ev.to_dict(), ref)
    assert _close(ev.accuracy, sklearn_metrics.accuracy_score(t, p))
    for avg in ("micro", "macro", "weighted", "samples"):
        prfs = _reference_sklearn_prfs(t, p, average=avg, zero_division=zero_division)
        got = getattr(ev, avg)
        for x, y in zip(got, prfs[:3], strict=True):
            assert _close(x, y), (avg, got, prfs)


@given(data=st.data())
def test_multilabel_lists_equal_indicator(data):
    t, p = data.draw(indicator_pairs())
    names = np.array(list("abcde"))[: t.shape[1]]
    to_lists = [lambda m: [list(names[row.astype(bool)]) for row in m]]
    ev_lists = evaluate(to_lists[0](t), to_lists[0](p), task="multilabel",
                        labels=list(names), zero_division=0)
    ev_ind = evaluate(t, p, target_names=list(names), zero_division=0)
    for col in ("precision", "recall", "f1", "support", "predicted"):
        np.testing.assert_allclose(ev_lists.per_class[col], ev_ind.per_class[col], atol=TOL)
    assert ev_lists.samples == pytest.approx(ev_ind.samples, abs=TOL, nan_ok=True)


def test_multilabel_sparse_input():
    import scipy.sparse as sp
    t = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0]])
    p = np.array([[1, 0, 0], [0, 1, 1], [1, 0, 0]])
    a = evaluate(sp.csr_matrix(t), sp.csr_matrix(p))
    _assert_report_equal(a.to_dict(), _reference_sklearn_report(t, p))


# ----------------------------------------------------------------------------- tags

IOB2_TAGS = ["O", "O", "O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]
IOBES_TAGS = [*IOB2_TAGS, "E-PER", "S-PER", "E-LOC", "S-LOC", "S-MISC", "E-MISC"]


@st.composite
def tag_pairs(draw, vocab):
    lengths = draw(st.lists(st.integers(0, 8), min_size=1, max_size=8))
    tag = st.sampled_from(vocab)
    t = [draw(st.lists(tag, min_size=n, max_size=n)) for n in lengths]
    p = [draw(st.lists(tag, min_size=n, max_size=n)) for n in lengths]
    return t, p


@pytest.mark.parametrize(
    ("mode", "scheme", "vocab"),
    [(None, None, IOBES_TAGS), ("strict", "IOB2", IOB2_TAGS), ("strict", "IOBES", IOBES_TAGS)],
)
@pytest.mark.parametrize("zero_division", [0, 1])
@settings(max_examples=12)
@given(data=st.data())
def test_tags_equal_seqeval(data, mode, scheme, vocab, zero_division):
    t, p = data.draw(tag_pairs(vocab))
    ref = _reference_seqeval_report(t, p, mode=mode, scheme=scheme, zero_division=zero_division)
    if not ref or ref["macro avg"]["support"] == 0:
        return  # seqeval divides by zero without entities in y_true
    ev = evaluate(t, p, task="tags", mode=mode or "default", scheme=scheme or "IOB2",
                  zero_division=zero_division)
    _assert_report_equal(ev.to_dict(), ref)
    assert ev.classes == [k for k in ref if not k.endswith(" avg")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert _close(ev.accuracy, seqeval_metrics.accuracy_score(t, p))
    # token level equals sklearn on the flattened tags, background excluded from averages
    flat_t = [x for s in t for x in s]
    flat_p = [x for s in p for x in s]
    ref_tok = _reference_sklearn_report(flat_t, flat_p, zero_division=zero_division)
    for name in ev.token.classes:
        for k in KEYS:
            assert _close(ev.token.to_dict()[name][k], ref_tok[name][k])
    non_o = [c for c in ev.token.classes if c != "O"]
    if non_o:
        ref_avg = _reference_sklearn_report(flat_t, flat_p, labels=non_o,
                                            zero_division=zero_division)
        mine = ev.token.to_dict()
        for avg in ("macro avg", "weighted avg"):
            for k in KEYS:
                assert _close(mine[avg][k], ref_avg[avg][k]), (avg, k)


def test_padded_int_tags_equal_string_tags():
    id2label = {0: "O", 1: "B-PER", 2: "I-PER", 3: "B-LOC"}
    t = np.array([[0, 1, 2, -100], [3, 0, -100, -100]])
    p = np.array([[0, 1, 0, 5], [3, 3, 7, 7]])
    ev = evaluate(t, p, task="tags", labels=id2label, zero_division=0)
    ref = evaluate([["O", "B-PER", "I-PER"], ["B-LOC", "O"]],
                   [["O", "B-PER", "O"], ["B-LOC", "B-LOC"]], zero_division=0)
    pd.testing.assert_frame_equal(ev.per_class, ref.per_class)
    assert ev.accuracy == ref.accuracy
    assert evaluate([[0, 1, -100]], [[0, 1, 0]], labels=["O", "B-X"]).task == "tags"


def _corrupt(seqs, rate, seed, vocab):
    rng = np.random.default_rng(seed)
    out = []
    for seq in seqs:
        seq = list(seq)
        for i in np.flatnonzero(rng.random(len(seq)) < rate):
            seq[i] = vocab[rng.integers(len(vocab))]
        out.append(seq)
    return out


@pytest.mark.datasets
@pytest.mark.parametrize("name", ["conll2003_ner", "wnut17_ner"])
@pytest.mark.parametrize("mode,scheme", [(None, None), ("strict", "IOB2")])
def test_real_tags_equal_seqeval(name, mode, scheme):
    df = pd.read_parquet(dataset_path(name), columns=["tags_iob2", "split"])
    y_true = [list(s) for s in df.loc[df["split"] == "test", "tags_iob2"]]
    vocab = sorted({t for s in y_true for t in s})
    y_pred = _corrupt(y_true, 0.05, seed=7, vocab=vocab)
    ev = evaluate(y_true, y_pred, mode=mode or "default", scheme=scheme or "IOB2")
    _assert_report_equal(ev.to_dict(), _reference_seqeval_report(y_true, y_pred, mode=mode,
                                                                 scheme=scheme))


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"task": "binary"}, CurateValueError, r"The 'task' parameter of evaluate must be one"),
        ({"zero_division": 2}, CurateValueError, r"'zero_division' parameter .* Got 2"),
        ({"mode": "lenient"}, CurateValueError, r"'mode' parameter of evaluate"),
        ({"recall_gap": 1.5}, CurateValueError, r"'recall_gap' .* range \[0, 1\]. Got 1.5"),
        ({"rare": ["zebra"]}, CurateValueError, r"rare\[0\] has class 'zebra' not in"),
        ({"labels": [0, 0]}, CurateValueError, r"labels\[1\] repeats 0"),
    ],
)
def test_argument_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        evaluate([0, 1, 1], [0, 1, 0], **kwargs)


@pytest.mark.parametrize(
    ("y_true", "y_pred", "kwargs", "error", "match"),
    [
        ([0, 1], [0], {}, CurateValueError, "same length; got 2 and 1"),
        (np.array([0, "a"], dtype=object), ["a", "a"], {}, CurateTypeError,
         "mixes strings and numbers"),
        ([0, 1], ["a", "b"], {}, CurateTypeError, "mix strings and numbers"),
        (["a", None], ["a", "a"], {}, CurateValueError, r"\[1\] is missing"),
        ([["B-X", "O"]], [["O"]], {"task": "tags"}, CurateValueError,
         r"y_pred\[0\] has 1 tags but"),
        ([["E-X"]], [["O"]], {"mode": "strict", "scheme": "IOB2"}, CurateValueError,
         "not valid in scheme IOB2"),
        ([[0, 1]], [[0, 1]], {"task": "tags"}, CurateValueError, "integer tag ids need names"),
        ([[0, 9]], [[0, 1]], {"task": "tags", "labels": ["O", "B-X"]}, CurateValueError,
         "y_true has tag id 9 not in labels"),
        (np.array([[0, 2]]), np.array([[0, 1]]), {"task": "multilabel"}, CurateValueError,
         "holds only 0 and 1"),
    ],
)
def test_data_errors(y_true, y_pred, kwargs, error, match):
    with pytest.raises(error, match=match):
        evaluate(y_true, y_pred, **kwargs)


def test_inputs_are_not_mutated():
    t, p = [["B-PER", "I-PER"], ["O"]], [["I-PER", "O"], ["B-LOC"]]
    t0, p0 = [list(s) for s in t], [list(s) for s in p]
    evaluate(t, p, zero_division=0)
    assert (t, p) == (t0, p0)


def test_to_json_roundtrip(tmp_path):
    import json

    ev = evaluate([["B-PER", "O"]], [["O", "O"]], zero_division=np.nan)
    path = tmp_path / "ev.json"
    text = ev.to_json(path)
    assert json.loads(path.read_text()) == json.loads(text)
    d = json.loads(text)
    assert d["task"] == "tags" and d["level"] == "entity" and d["token"]["level"] == "token"
    assert d["PER"]["precision"] is None  # NaN is written as null


def test_benchmark_quick_runs(tmp_path):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_metrics.py"
    spec = importlib.util.spec_from_file_location("bench_metrics", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "metrics.json"
    assert module.main(["--quick", "--out", str(out)]) == 0
    import json

    rows = json.loads(out.read_text())["tables"][0]["rows"]
    assert all(row[-1] is True for row in rows)


def test_labels_with_string_tags_is_an_error():
    with pytest.raises(CurateValueError, match=r"labels= names integer tag ids"):
        evaluate([["B-PER", "O"]], [["O", "O"]], task="tags", labels=["O", "B-PER"])


# ------------------------------------------------ review cases: weights, list forms, NaN deltas
@given(st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from("abc"),
                          st.floats(0, 3, allow_nan=False).map(lambda w: round(w, 2))),
                min_size=1, max_size=30),
       st.permutations(["a", "b", "c", "d"]))
@settings(max_examples=150, deadline=None)
def test_labels_with_sample_weight_equal_sklearn(rows, labels):
    # restrict() stored the selected counts as int64: weighted counts were truncated
    yt, yp, w = (list(x) for x in zip(*rows, strict=True))
    if sum(w) == 0:
        w[0] = 1.0  # sklearn refuses all-zero weights
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = evaluate(yt, yp, sample_weight=w, labels=labels, zero_division=0)
        want = sklearn_metrics.precision_recall_fscore_support(
            yt, yp, sample_weight=w, labels=labels, zero_division=0)
    got = ev.per_class.loc[labels]
    for col, ref in zip(["precision", "recall", "f1", "support"], want, strict=True):
        np.testing.assert_allclose(got[col].to_numpy(float), ref, atol=1e-12)


def test_multilabel_lists_with_labels_and_sample_weight_equal_sklearn():
    from sklearn.preprocessing import MultiLabelBinarizer

    yt, yp, w = [["a"], ["a", "b"], ["b"]], [["a"], ["b"], ["a", "b"]], [0.5, 0.5, 2.0]
    ev = evaluate(yt, yp, sample_weight=w, labels=["a", "b", "c"], zero_division=0)
    binarize = MultiLabelBinarizer(classes=["a", "b", "c"])
    t, p = binarize.fit_transform(yt), binarize.transform(yp)
    assert ev.micro.f1 == pytest.approx(
        sklearn_metrics.f1_score(t, p, average="micro", sample_weight=w, zero_division=0))


def test_python_lists_of_indicator_rows_are_indicator_matrices():
    # array.tolist(): was read as label lists of "0" and "1" and scored a perfect micro-F1
    yt = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]]
    yp = [[1, 0, 0], [0, 0, 1], [0, 0, 1], [0, 1, 0]]
    ev = evaluate(yt, yp, zero_division=0)
    assert ev.micro.f1 == pytest.approx(sklearn_metrics.f1_score(yt, yp, average="micro"))
    assert ev.macro.f1 == pytest.approx(sklearn_metrics.f1_score(yt, yp, average="macro"))
    with pytest.raises(CurateValueError, match=r"lists of \[0, 1\] / \[1, 0\] rows"):
        evaluate([[0, 1], [1, 0]], [[0, 1], [0, 1]])
    assert evaluate([["a", "b"], ["a"]], [["a"], ["a"]],
                    zero_division=0).micro.f1 == pytest.approx(0.8)


@pytest.mark.parametrize(("yt", "yp"), [
    ([[], [1], [2]], [[], [1], [2]]),
    ([[], [], [1, 2], [1]], [[], [], [1, 2], [2]]),
    ([[1, 2], [], [1]], [[1, 1], [], [2]]),
])
def test_integer_tags_with_empty_sequences_equal_string_tags(yt, yp):
    names = ["O", "B-PER", "I-PER"]
    ev = evaluate(yt, yp, task="tags", labels=names, zero_division=0)
    st_, sp_ = ([[names[i] for i in s] for s in y] for y in (yt, yp))
    assert ev.micro == evaluate(st_, sp_, task="tags", zero_division=0).micro
    assert ev.micro.f1 == pytest.approx(seqeval_metrics.f1_score(st_, sp_, average="micro"))


def test_weighted_rare_classes_are_not_truncated():
    # supports 1.9 (a) and 1.1 (b) both became 1, and the tie picked 'a' by name
    yt, yp = ["a", "a", "b", "b"] + ["c"] * 6, ["a", "a", "x", "x"] + ["c"] * 6
    w = [0.95, 0.95, 0.55, 0.55] + [1] * 6
    ev = evaluate(yt, yp, sample_weight=w, zero_division=0)
    rule = next(r for r in ev.paradox.rules if r["name"] == "rare_recall")
    assert rule["rare_classes"] == ["b"] and rule["triggered"]


def test_threshold_rule_weighs_tuned_and_fixed_alike():
    y = np.array([[0, 1], [1, 0], [0, 0], [1, 0], [1, 1], [1, 1]])
    s = np.array([[.99, .79], [.98, .85], [.43, .19], [.54, .24], [.16, .56], [.57, .98]])
    w = [1, 3, 3, 0, 0, 0]
    ev = evaluate(y, s, thresholds=0.5, sample_weight=w, zero_division=0)
    rule = next(r for r in ev.paradox.rules if r["name"] == "threshold")
    assert rule["macro_f1_tuned"] >= rule["macro_f1_fixed"] - 1e-12
    assert not rule["triggered"]  # weighted, no threshold beats 0.5 here
    ap = ev.per_class["average_precision"].to_numpy()
    np.testing.assert_allclose(ap, [sklearn_metrics.average_precision_score(
        y[:, j], s[:, j], sample_weight=w) for j in range(2)])


def test_compare_lists_nan_deltas_as_undefined_not_unchanged():
    from curate.metrics import compare

    yt = ["x"] * 8 + ["y"] * 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = evaluate(yt, ["x"] * 10, zero_division=float("nan"))
        b = evaluate(yt, ["x"] * 8 + ["y", "x"], zero_division=float("nan"))
    c = compare(a, b, metric="precision")
    assert c.undefined == ["y"] and "y" not in c.unchanged
    assert c.to_dict()["undefined"] == ["y"]


@pytest.mark.parametrize(("yt", "yp", "labels"), [
    ([1, 2, 2], [1, 2, 1], ["1", "2"]),
    (["a", "b"], ["a", "a"], [1]),
    ([["a"], ["b"]], [["a"], ["a"]], [0]),
])
def test_labels_of_another_type_than_the_data_are_refused(yt, yp, labels):
    # labels=["1", "2"] on int labels matched nothing: every class scored 0 in silence
    with pytest.raises(CurateValueError, match="pass labels of the data's type"):
        evaluate(yt, yp, labels=labels, zero_division=0)
