"""LabelTable constructors: from_tags, from_token_ids, from_frame (+ invariants and errors)."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st
from seqeval.metrics.sequence_labeling import get_entities

from curate import LabelTable
from curate.exceptions import CurateTypeError, CurateValueError

# ---------------------------------------------------------------- hypothesis invariants
labels_st = st.lists(st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=6),
                     min_size=1, max_size=25)


@given(labels_st)
def test_matrix_sums_equal_label_totals(labels):
    t = LabelTable.from_labels(labels)
    assert int(t.matrix.sum()) == sum(len(r) for r in labels)
    np.testing.assert_array_equal(np.asarray(t.matrix.sum(axis=1)).ravel(),
                                  [len(r) for r in labels])
    flat = pd.Series([x for r in labels for x in r], dtype=object)
    expected = flat.value_counts() if len(flat) else pd.Series(dtype=np.int64)
    assert t.counts.to_dict() == {k: int(v) for k, v in expected.items()}


@given(labels_st, st.data())
def test_select_and_repeat_are_consistent(labels, data):
    t = LabelTable.from_labels(labels, classes=["a", "b", "c", "d"])
    a = t.matrix.toarray()
    x = np.array(data.draw(st.lists(st.integers(0, 4), min_size=len(labels),
                                    max_size=len(labels))))
    np.testing.assert_array_equal(t.repeat(x).counts.to_numpy(), a.T @ x)
    idx = np.array(data.draw(st.lists(st.integers(0, len(labels) - 1), max_size=30)),
                   dtype=np.int64)
    np.testing.assert_array_equal(t.select(idx).counts.to_numpy(), a[idx].sum(axis=0))
    np.testing.assert_array_equal(t.select(idx).sample_ids, t.sample_ids[idx])


def test_default_sample_ids_are_row_positions_made_on_access():
    t = LabelTable.from_labels([["a"], ["b"], ["a", "b"]])
    assert t._sample_ids is None  # no int64 per row held (800 MB at 10^8 rows)
    ids = t.sample_ids
    assert ids.dtype == np.int64 and ids.tolist() == [0, 1, 2] and not ids.flags.writeable
    assert t.select([-1, 0, 2, -3]).sample_ids.tolist() == [2, 0, 2, 0]
    assert t.select(np.array([False, True, True])).sample_ids.tolist() == [1, 2]
    assert t.repeat([0, 2, 1]).sample_ids.tolist() == [1, 1, 2]


tag_st = st.lists(
    st.lists(st.sampled_from(["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "I-ORG"]), max_size=12),
    min_size=1, max_size=20,
)


@given(tag_st)
def test_entity_counts_equal_seqeval(tags):
    t = LabelTable.from_tags(tags, level="entity")
    expected = pd.Series([e[0] for seq in tags for e in get_entities(seq)], dtype=object)
    assert t.counts[t.counts > 0].to_dict() == {k: int(v)
                                                for k, v in expected.value_counts().items()}
    per_row = [len(get_entities(seq)) for seq in tags]
    np.testing.assert_array_equal(np.asarray(t.matrix.sum(axis=1)).ravel(), per_row)


@given(tag_st)
def test_token_counts_equal_tag_totals(tags):
    t = LabelTable.from_tags(tags)
    assert int(t.matrix.sum()) == sum(len(s) for s in tags)
    flat = [x for s in tags for x in s]
    assert t.counts.to_dict() == dict(pd.Series(flat, dtype=object).value_counts()) or not flat
    assert t.level == "token"


# ---------------------------------------------------------------- from_tags
def test_from_tags_background_auto_and_iobes():
    t = LabelTable.from_tags([["O", "B-PER"]])
    assert t.background == "O"
    assert LabelTable.from_tags([["B-PER"]]).background is None
    e = LabelTable.from_tags([["S-PER", "B-LOC", "E-LOC", "O"]], scheme="IOBES", level="entity")
    assert e.counts.to_dict() == {"LOC": 1, "PER": 1}
    assert e.background is None and e.level == "entity"


def test_from_tags_repairs_iob1_starts_like_seqeval():
    tags = [["O", "I-PER", "I-PER", "I-LOC", "O", "I-ORG"]]
    t = LabelTable.from_tags(tags, level="entity")
    assert t.counts.to_dict() == {"LOC": 1, "ORG": 1, "PER": 1}
    assert [e[0] for e in get_entities(tags[0])] == ["PER", "LOC", "ORG"]


def test_from_tags_does_not_mutate_inputs():
    tags = [["B-PER", "O"], ["O"]]
    tokens = [["John", "ran"], ["."]]
    before = copy.deepcopy((tags, tokens))
    LabelTable.from_tags(tags, tokens=tokens, level="entity")
    assert (tags, tokens) == before


# ---------------------------------------------------------------- from_token_ids
ID2LABEL = {0: "O", 1: "B-PER", 2: "I-PER", 3: "B-LOC"}


def test_from_token_ids_padded_array_equals_lists():
    lists = [[-100, 1, 2, 0, -100], [-100, 3, 0]]
    padded = np.full((2, 5), -100)
    padded[0, :5] = lists[0]
    padded[1, :3] = lists[1]
    a = LabelTable.from_token_ids(lists, id2label=ID2LABEL)
    b = LabelTable.from_token_ids(padded, id2label=ID2LABEL)
    assert (a.matrix != b.matrix).nnz == 0
    assert a.classes == ("O", "B-PER", "I-PER", "B-LOC")
    assert a.counts.tolist() == [2, 1, 1, 1]  # -100 never counted


def test_from_token_ids_accepts_torch_and_json_keys():
    import torch
    ids = torch.tensor([[1, 2, -100, 0]])
    t = LabelTable.from_token_ids(ids, id2label={str(k): v for k, v in ID2LABEL.items()},
                                  level="entity", background=None)
    assert t.counts.to_dict() == {"PER": 1}


def test_from_token_ids_entity_ignores_subwords():
    # "Wash ##ington lives" -> B-LOC -100 O: the span is one entity
    t = LabelTable.from_token_ids([[3, -100, 0]], id2label=ID2LABEL, level="entity")
    assert t.counts.to_dict() == {"LOC": 1}


def test_from_token_ids_custom_ignore_index_and_background():
    t = LabelTable.from_token_ids([[0, 1, 9]], id2label=ID2LABEL, ignore_index=9,
                                  background="O")
    assert t.counts.sum() == 2 and t.background == "O"


# ---------------------------------------------------------------- from_frame
def test_from_frame_pandas_and_arrow_agree():
    df = pd.DataFrame({"id": ["x", "y", "z"], "labels": [["b", "a", "b"], [], ["c"]]})
    a = LabelTable.from_frame(df, "labels", id_column="id")
    b = LabelTable.from_frame(pa.Table.from_pandas(df), "labels", id_column="id")
    ref = LabelTable.from_labels(df["labels"].tolist(), sample_ids=df["id"].tolist())
    for t in (a, b):
        assert t.classes == ref.classes and (t.matrix != ref.matrix).nnz == 0
        assert t.sample_ids.tolist() == ["x", "y", "z"] and t.level == "instance"


def test_from_frame_scalars_ints_categorical_and_dictionary():
    ints = LabelTable.from_frame(pd.DataFrame({"y": [10, 2, 2]}), "y")
    assert ints.classes == ("2", "10") and ints.level == "sample"
    cat = LabelTable.from_frame(pd.DataFrame({"y": pd.Categorical(["b", "a", "b"])}), "y")
    assert cat.counts.to_dict() == {"a": 1, "b": 2}
    dic = pa.table({"y": pa.array(["b", "a", "b"]).dictionary_encode()})
    assert LabelTable.from_frame(dic, "y").counts.to_dict() == {"a": 1, "b": 2}
    flt = LabelTable.from_frame(pd.DataFrame({"y": [1.0, 3.0]}), "y")
    assert flt.classes == ("1", "3")


def test_from_frame_null_list_is_empty_sample_and_tags_level():
    tbl = pa.table({"labels": pa.array([["a"], None, ["a", "a"]])})
    assert LabelTable.from_frame(tbl, "labels").matrix.toarray().ravel().tolist() == [1, 0, 2]
    df = pd.DataFrame({"tags": [["B-PER", "I-PER", "O"], ["O"]]})
    e = LabelTable.from_frame(df, "tags", level="entity")
    assert e.counts.to_dict() == {"PER": 1}
    tok = LabelTable.from_frame(df, "tags", level="token")
    assert tok.background == "O" and tok.counts["O"] == 2


def test_from_frame_does_not_mutate():
    df = pd.DataFrame({"labels": [["a", "b"], ["a"]], "y": pd.Categorical(["u", "v"])})
    before = df.copy(deep=True)
    LabelTable.from_frame(df, "labels")
    LabelTable.from_frame(df, "y")
    pd.testing.assert_frame_equal(df, before)


# ---------------------------------------------------------------- error table
DF = pd.DataFrame({"labels": [["a"], ["b"]], "y": ["a", None]})
ERRORS = [
    (lambda: LabelTable.from_tags([["B-PER", "O"]], tokens=[["John"]]),
     CurateValueError, r"tags\[0\] has 2 tags but tokens\[0\] has 1 tokens"),
    (lambda: LabelTable.from_tags([["O"]], tokens=[["a"], ["b"]]),
     CurateValueError, r"tokens has 2 sequences but tags has 1"),
    (lambda: LabelTable.from_tags([["O", "X-PER"]]),
     CurateValueError, r"tags\[0\]\[1\] is 'X-PER', not a valid IOB2 tag"),
    (lambda: LabelTable.from_tags([["S-PER"]], scheme="IOB2"),
     CurateValueError, r"scheme='IOBES'"),
    (lambda: LabelTable.from_tags([["O"]], scheme="IOX"),
     CurateValueError, r"The 'scheme' parameter of LabelTable.from_tags must be one of"),
    (lambda: LabelTable.from_tags([["O"]], level="sample"),
     CurateValueError, r"'level' parameter of LabelTable.from_tags"),
    (lambda: LabelTable.from_tags([]), CurateValueError, r"tags is empty \(0 samples\)"),
    (lambda: LabelTable.from_tags(["B-PER O"]), CurateValueError, r"tags\[0\] is 'B-PER O'"),
    (lambda: LabelTable.from_tags([["B-PER"]], background="O"),
     CurateValueError, r"background is 'O', a class that never occurs"),
    (lambda: LabelTable.from_token_ids([[0, 7]], id2label=ID2LABEL),
     CurateValueError, r"label_ids\[0\] has id 7, not in id2label"),
    (lambda: LabelTable.from_token_ids([[0], [1, 5]], id2label=ID2LABEL),
     CurateValueError, r"label_ids\[1\] has id 5"),
    (lambda: LabelTable.from_token_ids(np.array([[0.0, np.nan]]), id2label=ID2LABEL),
     CurateValueError, r"label_ids\[0\] holds nan"),
    (lambda: LabelTable.from_token_ids([], id2label=ID2LABEL),
     CurateValueError, r"label_ids is empty"),
    (lambda: LabelTable.from_token_ids([1, 2], id2label=ID2LABEL),
     CurateValueError, r"label_ids must be 2-D"),
    (lambda: LabelTable.from_token_ids([[1]], id2label="O"),
     CurateTypeError, r"id2label must be a dict"),
    (lambda: LabelTable.from_token_ids([[1]], id2label={"a": "O"}),
     CurateValueError, r"id2label has key 'a', not an integer id"),
    (lambda: LabelTable.from_token_ids([[1]], id2label=["O", "O"]),
     CurateValueError, r"id2label maps two ids to 'O'"),
    (lambda: LabelTable.from_token_ids([[1]], id2label=ID2LABEL, ignore_index=1.5),
     CurateTypeError, r"The 'ignore_index' parameter of LabelTable.from_token_ids must be an int"),
    (lambda: LabelTable.from_token_ids([[1]], id2label=ID2LABEL, background="O"),
     CurateValueError, r"background is 'O', a class that never occurs"),
    (lambda: LabelTable.from_frame(DF, "label"),
     CurateValueError, r"column is 'label', not a column of the data"),
    (lambda: LabelTable.from_frame(DF, "labels", id_column="idx"),
     CurateValueError, r"id_column is 'idx', not a column"),
    (lambda: LabelTable.from_frame(DF, "y"),
     CurateValueError, r"frame\['y'\]\[1\] is missing \(null/NaN\)"),
    (lambda: LabelTable.from_frame(pd.DataFrame({"y": [1.0, np.nan]}), "y"),
     CurateValueError, r"frame\['y'\]\[1\] is missing"),
    (lambda: LabelTable.from_frame(pd.DataFrame({"y": [1.5]}), "y"),
     CurateValueError, r"frame\['y'\]\[0\] holds 1.5"),
    (lambda: LabelTable.from_frame(pa.table({"l": [["a"], ["b", None]]}), "l"),
     CurateValueError, r"frame\['l'\]\[1\] holds a missing label"),
    (lambda: LabelTable.from_frame(pd.DataFrame({"l": [["a"], "b"]}), "l"),
     CurateValueError, r"mixes lists and scalars"),
    (lambda: LabelTable.from_frame(DF.iloc[:0], "labels"),
     CurateValueError, r"frame\['labels'\] is empty \(0 samples\)"),
    (lambda: LabelTable.from_frame(DF, "labels", classes=["a"]),
     CurateValueError, r"frame\['labels'\]\[1\] has class 'b' not in classes=\['a'\]"),
    (lambda: LabelTable.from_frame(DF, "labels", background="z"),
     CurateValueError, r"background is 'z', a class that never occurs"),
    (lambda: LabelTable.from_frame(DF, "y", level="token"),
     CurateValueError, r"holds scalars, but level='token'"),
    (lambda: LabelTable.from_frame({"labels": [["a"]]}, "labels"),
     CurateTypeError, r"frame must be a pandas DataFrame or a pyarrow Table"),
    (lambda: LabelTable.from_labels([]), CurateValueError, r"labels is empty \(0 samples\)"),
    (lambda: LabelTable.from_array([]), CurateValueError, r"y is empty \(0 samples\)"),
    (lambda: LabelTable(np.array([[1, -2]]), ["a", "b"]),
     CurateValueError, r"matrix\[0\] has a negative count -2"),
    (lambda: LabelTable(np.array([[1.0, np.nan]]), ["a", "b"]),
     CurateValueError, r"matrix has NaN"),
]


@pytest.mark.parametrize(("build", "exc", "match"), ERRORS)
def test_errors(build, exc, match):
    with pytest.raises(exc, match=match):
        build()


def test_from_frame_sample_level_on_lists_counts_presence():
    import pandas as pd

    frame = pd.DataFrame({"labels": [["a", "a", "b"], ["a"], []]})
    inst = LabelTable.from_frame(frame, "labels")
    samp = LabelTable.from_frame(frame, "labels", level="sample")
    assert inst.counts.tolist() == [3, 1] and inst.level == "instance"
    assert samp.counts.tolist() == [2, 1] and samp.level == "sample"
    assert samp.counts.tolist() == inst.support.tolist()


# ------------------------------------------------ numbers and strings (review cases)
@pytest.mark.parametrize("y", [[1, "1"], (1, "1"), ["1", 1]])
def test_from_array_list_mixing_int_and_str_is_an_error(y):
    # numpy turns [1, "1"] into two strings; the table must not merge them
    with pytest.raises(CurateValueError, match="both would be class '1'"):
        LabelTable.from_array(y)


def test_from_array_and_from_labels_order_mixed_lists_alike():
    assert LabelTable.from_array([2, 10, "x"]).classes == ("2", "10", "x")
    assert LabelTable.from_labels([[2], [10], ["x"]]).classes == ("2", "10", "x")


@pytest.mark.parametrize("make", [
    lambda: LabelTable.from_labels([[1.5]]),
    lambda: LabelTable.from_labels([["a"], [1.5]]),
    lambda: LabelTable.from_array([1.5, "a"]),
    lambda: LabelTable.from_array(np.array([2.0, 1.5], dtype=object)),
])
def test_non_integral_float_labels_are_refused_on_every_path(make):
    with pytest.raises(CurateValueError, match=r"holds 1\.5; labels must be integers or strings"):
        make()


def test_integral_float_labels_are_integers_on_every_path():
    assert LabelTable.from_labels([[2.0], [1]]).classes == ("1", "2")
    assert LabelTable.from_array(np.array([2.0, 1], dtype=object)).classes == ("1", "2")
    assert LabelTable.from_array(np.array([2.0, 1.0])).classes == ("1", "2")


def test_id2label_on_a_scalar_column_keeps_sample_level():
    frame = pd.DataFrame({"label": [0, 1, 1, -100]})
    plain = LabelTable.from_frame(frame, "label")
    named = LabelTable.from_frame(frame, "label", id2label=["neg", "pos"])
    assert plain.level == named.level == "sample"
    assert named.counts.to_dict() == {"neg": 1, "pos": 2}
    lists = LabelTable.from_frame(pd.DataFrame({"label": [[0, 1], [1, 1]]}), "label",
                                  id2label=["neg", "pos"])
    assert lists.level == "instance" and lists.counts.tolist() == [1, 3]


def test_categorical_column_with_a_missing_value_is_a_clear_error():
    frame = pd.DataFrame({"label": pd.Categorical([1, None, 2])})
    with pytest.raises(CurateValueError, match=r"frame\['label'\]\[1\] is missing"):
        LabelTable.from_frame(frame, "label")


@pytest.mark.parametrize("make", [
    lambda: LabelTable.from_labels([[b"a"], [b"b"]]),
    lambda: LabelTable.from_array([b"a", "x"]),
    lambda: LabelTable.from_array(np.array([b"a", b"b"])),
    lambda: LabelTable.from_frame(pa.table({"y": pa.array([b"a", b"b"])}), "y"),
])
def test_bytes_labels_are_refused_not_named_b_quote(make):
    with pytest.raises(CurateValueError, match="bytes"):
        make()
