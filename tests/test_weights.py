"""curate.weights: sklearn oracle, formula oracles, invariants (hypothesis), artifact, errors."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn.utils.class_weight as sklearn_cw
from hypothesis import given
from hypothesis import strategies as st

import curate
from curate.exceptions import CurateTypeError, CurateValueError, ZeroCountWarning
from curate.weights import ClassWeights, class_weights, counts_from_ids

SCHEMES = ["inverse", "inverse_sqrt", "effective", "balanced"]


# ---------------------------------------------------------------- oracles
@pytest.mark.parametrize("labels", [
    [0, 1, 1, 2, 2, 2, 2, 5],
    ["cat", "dog", "dog", "bird", "bird", "bird"],
    list(np.random.default_rng(0).zipf(1.7, 500) % 13),
])
def test_balanced_equals_sklearn(labels):
    y = np.asarray(labels)
    classes = np.unique(y)
    expected = sklearn_cw.compute_class_weight("balanced", classes=classes, y=y)
    table = curate.LabelTable.from_array(y)
    ids = [int(c) for c in table.classes] if all(c.isdigit() for c in table.classes) else None
    if ids is not None and ids != list(range(len(ids))):  # 5 without 3 and 4: weight i != id i
        with pytest.warns(curate.exceptions.CurateWarning, match="not label id i"):
            got = class_weights(table, scheme="balanced")
    else:
        got = class_weights(table, scheme="balanced")
    order = [list(table.classes).index(str(c)) for c in classes]
    np.testing.assert_array_equal(got.weights[order], expected)
    # weight conservation, as sklearn's own test checks
    assert math.isclose(float(np.dot(got.weights, got.counts)), len(y), rel_tol=1e-12)


def _reference(counts, scheme, alpha=0.5, beta=0.999):
    n = np.asarray(counts, dtype=float)
    if scheme == "effective":
        return np.array([(1 - beta) / (1 - beta**c) for c in n])
    base = n.sum() / (len(n) * n)
    return base**alpha if scheme == "inverse_sqrt" else base


@pytest.mark.parametrize("scheme", SCHEMES)
def test_formulas_match_reference(scheme):
    counts = [5000, 300, 42, 7, 1]
    raw = _reference(counts, scheme, alpha=0.3, beta=0.99)
    got = class_weights(counts, scheme=scheme, alpha=0.3, beta=0.99, normalize="none")
    np.testing.assert_allclose(got.weights, raw, rtol=1e-12)
    mean = class_weights(counts, scheme=scheme, alpha=0.3, beta=0.99, normalize="mean")
    np.testing.assert_allclose(mean.weights, raw / raw.mean(), rtol=1e-12)


def test_seed_002_formula_background_included():
    # seed 002: w = 1 / count**0.5 normalised to mean 1 over all labels, O included
    counts = {"O": 154096, "I-Doubt": 3403, "B-Slogans": 70, "B-Bandwagon": 23}
    w = class_weights(counts, background=False, normalize="all")
    raw = 1 / np.sqrt(np.array(list(counts.values()), dtype=float))
    np.testing.assert_allclose(w.weights, raw / raw.mean(), rtol=1e-12)


def test_background_rules():
    counts = {"O": 10000, "B-A": 100, "B-B": 10}
    fixed = class_weights(counts, background="O", background_weight=0.3)
    assert fixed.to_dict()["O"] == 0.3
    np.testing.assert_allclose(fixed.weights[1:].mean(), 1.0)
    lowest = class_weights(counts, background="O", background_weight="lowest")
    assert lowest.to_dict()["O"] == lowest.weights[1:].min()
    scaled = class_weights(counts, background="O", background_weight="scaled")
    s = scaled.weights[1] / _reference([100, 10], "inverse_sqrt")[0]
    ref_o = (110 / (2 * 10000)) ** 0.5
    np.testing.assert_allclose(scaled.to_dict()["O"], s * ref_o)
    assert scaled.to_dict()["O"] < scaled.weights[1:].min()
    # a background more frequent than 1 after scaling is capped at 1
    capped = class_weights({"O": 1, "B-A": 100, "B-B": 100}, background="O",
                           background_weight="scaled")
    assert capped.to_dict()["O"] == 1.0


def test_table_background_is_default_and_false_disables_it():
    t = curate.LabelTable.from_labels([["O"] * 50 + ["B-X"], ["O"] * 9 + ["B-Y"] * 3],
                                      background="O", level="token")
    assert class_weights(t).background == "O"
    assert class_weights(t, background=False).background is None


def test_normalize_all_includes_background():
    counts = {"O": 10000, "B-A": 100, "B-B": 10, "I-B": 30}
    for bw in (1.0, 0.5, "lowest", "scaled"):
        w = class_weights(counts, background="O", background_weight=bw, normalize="all")
        np.testing.assert_allclose(w.weights.mean(), 1.0, err_msg=str(bw))


def test_clip_and_ignore_index():
    w = class_weights([1000, 10, 1], scheme="inverse", clip=(0.1, 2.0))
    assert w.weights.max() == 2.0 and w.weights.min() >= 0.1
    t = curate.LabelTable.from_array([0, 0, 1, -100, -100, -100])
    w = class_weights(t)
    assert w.classes == ("0", "1") and "-100" not in w.to_dict()


def test_zero_count_rule_and_warning():
    with pytest.warns(ZeroCountWarning, match="rarest seen class"):
        w = class_weights({"a": 100, "b": 0, "c": 4}, normalize="none", scheme="inverse")
    assert w.to_dict()["b"] == w.to_dict()["c"]
    assert np.all(np.isfinite(w.weights))
    with pytest.warns(ZeroCountWarning):
        w = class_weights({"O": 5, "a": 0, "b": 0}, background="O")
    np.testing.assert_array_equal(w.weights, [1.0, 1.0, 1.0])


def test_levels_follow_the_table():
    tags = [["B-PER", "I-PER", "O"], ["B-LOC", "O", "O"]]
    tok = curate.LabelTable.from_labels(tags, background="O", level="token")
    w = class_weights(tok)
    assert w.level == "token" and w.to_dict().keys() == {"B-LOC", "B-PER", "I-PER", "O"}


def test_counts_from_ids_never_counts_ignore_index():
    labels = [[0, 2, -100, 2], [1, -100]]
    np.testing.assert_array_equal(counts_from_ids(labels, num_labels=3), [1, 1, 2])
    import torch
    np.testing.assert_array_equal(counts_from_ids(torch.tensor([[0, -100], [2, 2]])), [1, 0, 2])
    with pytest.raises(CurateValueError, match="negative id -1"):
        counts_from_ids([0, -1])


# ---------------------------------------------------------------- invariants
count_dicts = st.lists(st.integers(0, 10**6), min_size=2, max_size=12).map(
    lambda xs: {f"c{i}": x for i, x in enumerate(xs)}
)


@given(counts=count_dicts, scheme=st.sampled_from(SCHEMES),
       alpha=st.floats(0.05, 1.0), beta=st.floats(0.0, 0.9999),
       bw=st.sampled_from([1.0, 0.25, "lowest", "scaled"]),
       normalize=st.sampled_from(["mean", "all", "none"]), use_bg=st.booleans())
def test_weights_positive_finite_background_le_1_normalised(counts, scheme, alpha, beta, bw,
                                                            normalize, use_bg):
    bg = "c0" if use_bg else False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ZeroCountWarning)
        w = class_weights(counts, scheme=scheme, alpha=alpha, beta=beta, background=bg,
                          background_weight=bw, normalize=normalize)
    assert np.all(np.isfinite(w.weights)) and np.all(w.weights > 0)
    others = w.weights[1:] if use_bg else w.weights
    if use_bg:
        assert w.weights[0] <= 1.0
    if normalize == "mean" or (normalize == "all" and not use_bg):
        np.testing.assert_allclose(others.mean(), 1.0, rtol=1e-9)
    if normalize == "all" and use_bg and w.weights[0] < 1.0:
        np.testing.assert_allclose(w.weights.mean(), 1.0, rtol=1e-9)


@given(counts=st.lists(st.integers(1, 10**5), min_size=2, max_size=10),
       scheme=st.sampled_from(SCHEMES), seed=st.integers(0, 2**16))
def test_order_invariance(counts, scheme, seed):
    names = [f"k{i}" for i in range(len(counts))]
    perm = np.random.default_rng(seed).permutation(len(counts))
    a = class_weights(dict(zip(names, counts, strict=True)), scheme=scheme).to_dict()
    b = class_weights({names[i]: counts[i] for i in perm}, scheme=scheme).to_dict()
    assert a.keys() == b.keys()
    for k in a:
        assert math.isclose(a[k], b[k], rel_tol=1e-12)


@given(counts=st.lists(st.integers(1, 10**5), min_size=2, max_size=10))
def test_rarer_class_never_gets_less_weight(counts):
    w = class_weights(counts, scheme="inverse_sqrt").weights
    order = np.argsort(counts, kind="stable")
    assert np.all(np.diff(w[order]) <= 1e-12)


def test_input_forms_agree():
    d = {"a": 10, "b": 3, "c": 1}
    ref = class_weights(d).weights
    for data, kw in [(pd.Series(d), {}), (np.array([10, 3, 1]), {"classes": ["a", "b", "c"]}),
                     ([10, 3, 1], {"classes": ["a", "b", "c"]}),
                     (curate.LabelTable.from_labels([["a"] * 10, ["b"] * 3, ["c"]]), {})]:
        got = class_weights(data, **kw)
        assert got.classes == ("a", "b", "c")
        np.testing.assert_array_equal(got.weights, ref)


def test_inputs_not_mutated():
    s = pd.Series({"a": 5, "b": 1})
    arr = np.array([5, 1])
    class_weights(s)
    class_weights(arr)
    assert s.tolist() == [5, 1] and arr.tolist() == [5, 1]


# ---------------------------------------------------------------- artifact
@pytest.mark.parametrize("suffix", [".json", ".pt"])
def test_save_load_round_trip(tmp_path, suffix):
    w = class_weights({"O": 1000, "B-A": 33, "I-A": 7}, scheme="effective", beta=0.99,
                      background="O", background_weight="lowest", clip=(0.01, 5.0))
    path = w.save(tmp_path / f"w{suffix}")
    back = ClassWeights.load(path)
    np.testing.assert_array_equal(back.weights, w.weights)
    np.testing.assert_array_equal(back.counts, w.counts)
    assert (back.classes, back.scheme, back.params, back.background) == (
        w.classes, w.scheme, w.params, w.background)
    assert [p.name for p in tmp_path.iterdir()] == [f"w{suffix}"]  # no temp file left


def test_pt_artifact_is_plain_tensors(tmp_path):
    import torch
    w = class_weights([10, 1])
    raw = torch.load(w.save(tmp_path / "w.pt"), weights_only=True)
    assert raw["class_weights"].dtype == torch.float64
    assert raw["label_counts"].tolist() == [10, 1]


def test_to_tensor_and_numpy():
    import torch
    w = class_weights([10, 1])
    t = w.to_tensor(dtype=torch.float64)
    assert t.dtype == torch.float64 and t.tolist() == w.weights.tolist()
    arr = w.to_numpy()
    arr[0] = 99.0
    assert w.weights[0] != 99.0


def test_toml_block_parses():
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    w = class_weights({"O": 100, 'B-"q"': 3}, background="O")
    doc = tomllib.loads(w.to_toml())["class_weights"]
    assert doc["labels"] == ["O", 'B-"q"']
    assert [doc["by_id"][str(i)] for i in range(2)] == pytest.approx(w.weights.tolist(), 1e-5)


def test_repr_is_a_table():
    text = repr(class_weights({"O": 100, "B-X": 3}, background="O"))
    assert "B-X" in text and "(background)" in text and "weight" in text.splitlines()[1]


LOAD_ERRORS = [
    ('{"format": "other"}', "not a curate class-weights file"),
    ("not json", "not a readable class-weights file"),
    ('{"format": "curate.class_weights", "classes": ["a"]}', "lacks the fields"),
    ('{"format": "curate.class_weights", "scheme": "inverse", "classes": ["a", "b"], '
     '"class_weights": [1.0, -1.0], "label_counts": [1, 2]}', r"lacks the fields \['checksum'\]"),
]


def test_load_validates_values_behind_a_valid_checksum(tmp_path):
    doc = {"format": "curate.class_weights", "scheme": "inverse", "classes": ["a", "b"],
           "class_weights": [1.0, -1.0], "label_counts": [1, 2]}
    doc["checksum"] = ClassWeights._checksum(doc)
    (tmp_path / "w.json").write_text(json.dumps(doc, indent=2) + "\n")
    with pytest.raises(CurateValueError, match=r"weights\[1\] is -1.0"):
        ClassWeights.load(tmp_path / "w.json")


def test_every_single_byte_flip_of_a_json_artifact_is_refused(tmp_path):
    w = class_weights({"O": 900, "B-PER": 90, "B-LOC": 10}, background="O", scheme="effective")
    good = w.save(tmp_path / "w.json").read_bytes()
    bad = tmp_path / "bad.json"
    for i in range(len(good)):
        flipped = bytearray(good)
        flipped[i] ^= 0x01
        bad.write_bytes(bytes(flipped))
        with pytest.raises(CurateValueError):
            ClassWeights.load(bad)


def test_byte_flips_of_a_pt_artifact_never_load_other_weights(tmp_path):
    w = class_weights({"O": 900, "B-PER": 90, "B-LOC": 10}, background="O")
    good = w.save(tmp_path / "w.pt").read_bytes()
    bad = tmp_path / "bad.pt"
    refused = 0
    for i in range(len(good)):
        flipped = bytearray(good)
        flipped[i] ^= 0x01
        bad.write_bytes(bytes(flipped))
        try:
            back = ClassWeights.load(bad)
        except CurateValueError:
            refused += 1
            continue
        # a flip in zip metadata (timestamps, padding) leaves the content intact
        assert back.to_dict() == w.to_dict() and back.counts.tolist() == w.counts.tolist()
        assert back.params == w.params and back.classes == w.classes
    assert refused > 0


def test_edited_weight_fails_the_checksum(tmp_path):
    p = class_weights({"a": 5, "b": 1}).save(tmp_path / "w.json")
    doc = json.loads(p.read_text())
    doc["class_weights"][0] = 3.0
    p.write_text(json.dumps(doc, indent=2) + "\n")  # same layout, other number
    with pytest.raises(CurateValueError, match="fails its checksum"):
        ClassWeights.load(p)
    p.write_text(json.dumps(json.loads(p.read_text())))  # same content, other layout
    with pytest.raises(CurateValueError, match=r"differs from the text ClassWeights\.save wrote"):
        ClassWeights.load(p)


def test_save_to_a_folder_is_one_clear_error(tmp_path):
    with pytest.raises(CurateValueError, match="it is a folder"):
        class_weights({"a": 5, "b": 1}).save(tmp_path)


def test_named_background_defaults_to_the_lowest_weight():
    counts = {"O": 9000, "B-PER": 400, "I-PER": 300, "B-MISC": 25}
    w = class_weights(counts, background="O").to_series()
    ref = class_weights({k: v for k, v in counts.items() if k != "O"}).to_series()
    assert w["O"] == ref.min() == w.min()  # independent: the entity weights without O
    assert w.drop("O").to_dict() == ref.to_dict()
    assert w.drop("O").idxmax() == "B-MISC"


@pytest.mark.parametrize(("text", "match"), LOAD_ERRORS)
def test_load_validates(tmp_path, text, match):
    p = tmp_path / "w.json"
    p.write_text(text)
    with pytest.raises(CurateValueError, match=match):
        ClassWeights.load(p)


# ---------------------------------------------------------------- errors
ERRORS = [
    ({"alpha": 1.5}, CurateValueError,
     r"The 'alpha' parameter of class_weights must be a float in the range \(0, 1\]\. "
     r"Got 1\.5 instead\."),
    ({"alpha": 0}, CurateValueError, "'alpha' parameter"),
    ({"beta": 1.0}, CurateValueError, r"'beta' parameter of class_weights must be a float in "
     r"the range \[0, 1\)"),
    ({"scheme": "sqrt"}, CurateValueError, r"'scheme' parameter of class_weights must be one of "
     r"\{'inverse', 'inverse_sqrt', 'effective', 'balanced'\}\. Got 'sqrt'"),
    ({"normalize": "max"}, CurateValueError, "'normalize' parameter"),
    ({"background_weight": 2.0}, CurateValueError, "'background_weight' parameter"),
    ({"background_weight": "highest"}, CurateValueError, "'background_weight' parameter"),
    ({"clip": (2.0, 1.0)}, CurateValueError, r"'clip' parameter .* 0 < lo <= hi"),
    ({"clip": 3}, CurateValueError, "'clip' parameter"),
    ({"background": "X"}, CurateValueError, r"background 'X' is not one of classes=\['a', 'b'\]"),
    ({"background": 3}, CurateTypeError, "'background' parameter"),
    ({"alpha": "0.5"}, CurateTypeError, "'alpha' parameter"),
]


@pytest.mark.parametrize(("kwargs", "exc", "match"), ERRORS)
def test_argument_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        class_weights({"a": 3, "b": 1}, **kwargs)


DATA_ERRORS = [
    ({"a": -1, "b": 2}, CurateValueError, r"counts\['a'\] is -1; counts must be whole"),
    ({"a": 1.5}, CurateValueError, r"counts\['a'\] is 1\.5"),
    (np.ones((2, 2)), CurateValueError, "counts must be 1-D"),
    ("abc", CurateTypeError, "table_or_counts must be a LabelTable"),
    (5, CurateTypeError, "table_or_counts must be a LabelTable"),
    ({"O": 3}, CurateValueError, "at least one class besides the background"),
    (["x", "y"], CurateTypeError, "counts must be numbers"),
]


@pytest.mark.parametrize(("data", "exc", "match"), DATA_ERRORS)
def test_data_errors(data, exc, match):
    bg = "O" if isinstance(data, dict) and "O" in data else None
    with pytest.raises(exc, match=match):
        class_weights(data, background=bg)


def test_json_artifact_is_readable():
    w = class_weights({"a": 3, "b": 1})
    payload = json.loads(json.dumps(w._payload()))
    assert payload["class_weights"] == w.weights.tolist()


def test_classes_reorders_a_table_to_the_model_ids():
    t = curate.LabelTable.from_labels([["O", "O", "O", "B-PER"], ["O", "B-LOC", "I-LOC", "I-LOC"]],
                               background="O")
    plain = class_weights(t)
    order = ["O", "B-PER", "B-LOC", "I-LOC"]
    for source in (t, plain):
        w = class_weights(source, classes=order)
        assert w.classes == tuple(order)
        assert w.weights.tolist() == [plain.weights[plain.classes.index(c)] for c in order]
        assert w.counts.tolist() == [4, 1, 1, 2]
    with pytest.warns(ZeroCountWarning, match="I-PER"):
        extra = class_weights(t, classes=[*order, "I-PER"])
    assert extra.counts.tolist() == [4, 1, 1, 2, 0]
    with pytest.raises(CurateValueError, match=r"classes lacks \['B-LOC', 'B-PER', 'I-LOC', 'O'\]"):
        class_weights(t, classes=["x", "y", "z", "w"])


def test_integer_class_names_with_a_gap_warn_and_name_their_ids():
    # ids 0, 2, 3: to_tensor()[1] is id 2's weight; by_id printed positions as ids
    table = curate.LabelTable.from_labels([[0, 0, 2], [0, 3], [0, 0, 0, 2]])
    with pytest.warns(curate.exceptions.CurateWarning, match=r"without ids \[1\]"):
        w = class_weights(table)
    rows = w.to_toml().split("[class_weights.by_id]")[1].strip().splitlines()
    assert [r.split(" = ")[0] for r in rows] == ["0", "2", "3"]
    with pytest.warns(curate.exceptions.ZeroCountWarning):  # id 1 gets the rarest weight
        full = class_weights(table, classes=["0", "1", "2", "3"])  # every id has a weight
    assert len(full.to_tensor()) == 4
