"""The dictionary-encoded label path equals the decoded (reference) path, errors included.

``LabelTable.from_frame`` and ``curate.io.read_table`` read a label column as int32 codes into
one dictionary per column (:func:`curate.labels._arrow.table_from_chunks`); the reference is
:func:`curate.labels._arrow.table_from_arrow`, which materialises every label (the path used
before). Both must give the same table, or raise the same error, on every input.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from curate.exceptions import CurateValueError
from curate.io import read_table
from curate.labels import LabelTable, _arrow
from tests.conftest import DATASETS, dataset_path


def reference(arr: pa.Array, column: str = "labels", *, classes=None, background=None,
              ignore_index: int = -100, level: str | None = None) -> LabelTable:
    """The old path: decode, combine, then ``table_from_arrow`` (presence for sample level)."""
    plain = _arrow.decode(arr if isinstance(arr, pa.ChunkedArray) else pa.chunked_array([arr]))
    is_list = _arrow.is_list_type(plain.type)
    lvl = level or ("instance" if is_list else "sample")
    table = _arrow.table_from_arrow(LabelTable, plain, f"frame[{column!r}]", classes=classes,
                                    sample_ids=None, background=background, level=lvl,
                                    ignore_index=ignore_index)
    if lvl == "sample" and is_list:
        table = LabelTable(table.presence(), table.classes, background=table.background,
                           level="sample")
    return table


def assert_same(a: LabelTable, b: LabelTable) -> None:
    assert a.classes == b.classes
    assert a.level == b.level and a.background == b.background
    assert a.matrix.shape == b.matrix.shape
    for name in ("indptr", "indices", "data"):
        x, y = getattr(a.matrix, name), getattr(b.matrix, name)
        assert x.dtype == y.dtype, name
        assert np.array_equal(x, y), name
    assert np.array_equal(a.sample_ids, b.sample_ids)


def outcome(fn):
    """The table, or the (type, message) of the error raised."""
    try:
        return fn()
    except (CurateValueError, TypeError, ValueError) as exc:
        return (type(exc).__name__, str(exc))


def assert_same_outcome(new, old) -> None:
    a, b = outcome(new), outcome(old)
    if isinstance(a, LabelTable) and isinstance(b, LabelTable):
        assert_same(a, b)
    else:
        assert a == b


# ------------------------------------------------------------------------- generated tables
NAMES = ["cat", "dog", "owl", "ant", "O", "bee"]


@st.composite
def columns(draw):
    """A label column (scalars or lists; strings, ints or floats; nulls; empty lists),
    cut into chunks, each chunk optionally dictionary-encoded."""
    kind = draw(st.sampled_from(["str", "int", "float"]))
    if kind == "str":
        value = st.sampled_from(NAMES)
    elif kind == "int":
        value = st.sampled_from([0, 1, 2, 7, -100, 12])
    else:
        value = st.sampled_from([0.0, 1.0, 2.0, -100.0, 3.5, float("nan")]) if draw(
            st.booleans()) else st.sampled_from([0.0, 1.0, 5.0, -100.0])
    nullable = draw(st.booleans())
    item = st.one_of(st.none(), value) if nullable else value
    is_list = draw(st.booleans())
    n = draw(st.integers(1, 25))
    if is_list:
        row = st.one_of(st.none(), st.lists(item, max_size=5)) if nullable else \
            st.lists(item, max_size=5)
        rows = draw(st.lists(row, min_size=n, max_size=n))
        typ = pa.list_({"str": pa.string(), "int": pa.int64(), "float": pa.float64()}[kind])
    else:
        rows = draw(st.lists(item, min_size=n, max_size=n))
        typ = {"str": pa.string(), "int": pa.int64(), "float": pa.float64()}[kind]
    arr = pa.array(rows, type=typ)
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=3)))
    bounds = [0, *cuts, n]
    chunks = []
    for lo, hi in itertools.pairwise(bounds):
        part = pa.array(rows[lo:hi], type=typ)
        if draw(st.booleans()):  # dictionary-encode this chunk (as parquet reads it)
            if is_list:
                part = pa.ListArray.from_arrays(part.offsets, part.values.dictionary_encode(),
                                                mask=part.is_null())
            else:
                part = part.dictionary_encode()
        chunks.append(part)
    types = {c.type for c in chunks}
    if len(types) > 1:  # one ChunkedArray holds one type: encode all chunks or none
        chunks = [arr.slice(lo, hi - lo) for lo, hi in itertools.pairwise(bounds)]
    return pa.chunked_array(chunks, type=chunks[0].type)


@given(col=columns(), data=st.data())
def test_encoded_path_equals_decoded_path(col, data):
    classes = data.draw(st.one_of(
        st.none(),
        st.lists(st.sampled_from([*NAMES, "0", "1", "2", "7", "5", "12", "-100"]),
                 unique=True, max_size=8)))
    level = data.draw(st.sampled_from([None, "instance", "sample"]))
    background = data.draw(st.sampled_from([None, "cat", "0"]))
    frame = pa.table({"labels": col})
    assert_same_outcome(
        lambda: LabelTable.from_frame(frame, "labels", classes=classes, level=level,
                                      background=background),
        lambda: reference(col, classes=classes, level=level, background=background))


@given(col=columns())
def test_ignore_index_is_dropped_alike(col):
    frame = pa.table({"labels": col})
    for ignore in (-100, 0, 7):
        assert_same_outcome(lambda ignore=ignore: LabelTable.from_frame(
                                frame, "labels", ignore_index=ignore, level="instance"),
                            lambda ignore=ignore: reference(col, ignore_index=ignore,
                                                            level="instance"))


def test_chunks_with_different_dictionaries_are_merged():
    a = pa.array([["dog", "cat"], ["cat"]]).cast(pa.list_(pa.dictionary(pa.int32(),
                                                                         pa.string())))
    b = pa.DictionaryArray.from_arrays(pa.array([1, 1, 0], type=pa.int32()),
                                       pa.array(["owl", "cat", "unused"]))
    b = pa.ListArray.from_arrays(pa.array([0, 2, 3], type=pa.int32()), b)
    col = pa.chunked_array([a, b])
    t = LabelTable.from_frame(pa.table({"labels": col}), "labels")
    assert t.classes == ("cat", "dog", "owl")  # "unused" is in a dictionary, not the data
    assert t.matrix.toarray().tolist() == [[1, 1, 0], [1, 0, 0], [2, 0, 0], [0, 0, 1]]
    assert_same(t, reference(col))


def test_null_dictionary_entry_is_a_missing_label():
    values = pa.DictionaryArray.from_arrays(pa.array([0, 1], type=pa.int32()),
                                            pa.array(["cat", None]))
    col = pa.chunked_array([pa.ListArray.from_arrays(pa.array([0, 1, 2], type=pa.int32()),
                                                     values)])
    with pytest.raises(CurateValueError, match=r"frame\['labels'\]\[1\].*missing label"):
        LabelTable.from_frame(pa.table({"labels": col}), "labels")


def test_unseen_class_names_the_row():
    col = pa.chunked_array([pa.array([["a"], []]), pa.array([["b", "zzz"]])])
    with pytest.raises(CurateValueError, match=r"frame\['labels'\]\[2\].*'zzz' not in"):
        LabelTable.from_frame(pa.table({"labels": col}), "labels", classes=["a", "b"])


# ------------------------------------------------------------------------- parquet files
@pytest.mark.parametrize("row_group_size", [3, 1000])
def test_read_table_parquet_equals_reference(tmp_path: Path, row_group_size: int):
    rng = np.random.default_rng(0)
    rows = [None if rng.random() < 0.1 else
            [NAMES[k] for k in rng.integers(0, len(NAMES), rng.integers(0, 4))]
            for _ in range(50)]
    path = tmp_path / "l.parquet"
    pq.write_table(pa.table({"id": [f"s{i}" for i in range(50)], "labels": rows}), path,
                   row_group_size=row_group_size)
    t = read_table(path, column="labels", id_column="id")
    col = pq.read_table(path).column("labels")
    assert t.sample_ids.tolist() == [f"s{i}" for i in range(50)]
    assert_same(LabelTable._from_canonical(t.matrix, t.classes, level=t.level),
                reference(col))
    expected = {}
    for r in rows:  # brute-force counts
        for v in r or []:
            expected[v] = expected.get(v, 0) + 1
    assert t.counts.to_dict() == dict(sorted(expected.items()))


@pytest.mark.datasets
@pytest.mark.parametrize("name", sorted(p.name for p in DATASETS.glob("*")
                                        if (p / "labels.parquet").is_file())
                         if DATASETS.is_dir() else [])
def test_shared_sets_equal_reference(name):
    path = dataset_path(name)
    schema = pq.read_schema(path)
    for column in ("labels", "label", "tags", "tags_iob2", "fine_label", "split"):
        if column not in schema.names:
            continue
        col = pq.read_table(path, columns=[column]).column(column)
        t = read_table(path, column=column, level="instance" if _arrow.is_list_type(
            col.type) else None)
        assert_same(LabelTable._from_canonical(t.matrix, t.classes, level=t.level,
                                               background=t.background),
                    reference(col, column=column, background=t.background,
                              level=t.level))


@pytest.mark.skipif(not hasattr(pa, "string_view"), reason="pyarrow < 16 has no string views")
def test_string_view_columns_read_as_strings():
    # polars' Utf8View: a list<string_view> column of tags was read as plain instances
    # (no tag detection, so 'O' was balanced as a class)
    tags = pa.array([["B-PER", "O"], ["O"]], type=pa.list_(pa.string_view()))
    t = LabelTable.from_frame(pa.table({"tags": tags}), "tags")
    ref = LabelTable.from_frame(pa.table({"tags": tags.cast(pa.list_(pa.string()))}), "tags")
    assert (t.level, t.background, t.classes) == ("token", "O", ("B-PER", "O"))
    assert (t.level, t.background, t.classes) == (ref.level, ref.background, ref.classes)
    one = LabelTable.from_frame(pa.table({"y": pa.array(["b", "a"], pa.string_view())}), "y")
    assert one.classes == ("a", "b") and one.level == "sample"
    codes = pa.array(["B-PER", "O", "O"], pa.string_view()).dictionary_encode()
    nested = pa.ListArray.from_arrays(pa.array([0, 2, 3]), codes)  # list<dictionary<view>>
    t = LabelTable.from_frame(pa.table({"tags": nested}), "tags")
    assert (t.level, t.background, t.classes) == ("token", "O", ("B-PER", "O"))
    large_view = pa.array([["B-PER", "O"], ["O"], None], pa.large_list_view(pa.string()))
    t = LabelTable.from_frame(pa.table({"tags": large_view}), "tags")  # was an Arrow error
    assert (t.level, t.background, t.n_samples) == ("token", "O", 3)
    with pytest.raises(CurateValueError, match=r"holds bytes \(binary_view\)"):
        LabelTable.from_frame(pa.table({"y": pa.array([b"x"], pa.binary_view())}), "y")
    with pytest.raises(CurateValueError, match="convert it to a list of strings first"):
        LabelTable.from_frame(
            pa.table({"y": pa.array([["x"]], pa.list_view(pa.string_view()))}), "y")


def test_multi_hot_rows_are_one_column_per_class(tmp_path):
    # Hugging Face multi-label rows ([0., 1., 1.] per sample) were read as label ids and
    # counted as classes "0" and "1"
    from curate.io import count_labels, read_table

    floats = pa.table({"labels": [[0.0, 1.0, 1.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]})
    t = LabelTable.from_frame(floats, "labels")
    assert (t.level, t.classes) == ("sample", ("0", "1", "2"))
    assert t.matrix.toarray().tolist() == [[0, 1, 1], [1, 0, 0], [0, 0, 1]]
    named = LabelTable.from_frame(floats, "labels", id2label={0: "joy", 1: "fear", 2: "awe"})
    assert named.counts.to_dict() == {"joy": 1, "fear": 1, "awe": 2}
    ints = pa.table({"labels": [[0, 1, 1], [1, 0, 0]]})
    with pytest.raises(CurateValueError, match="multi-hot vectors over 3 classes, or lists"):
        LabelTable.from_frame(ints, "labels")
    assert LabelTable.from_frame(ints, "labels", classes=["a", "b", "c"]).counts.to_dict() \
        == {"a": 1, "b": 1, "c": 1}
    as_ids = LabelTable.from_frame(ints, "labels", level="instance")
    assert as_ids.counts.to_dict() == {"0": 3, "1": 3}
    pairs = LabelTable.from_frame(pa.table({"labels": [[0, 1], [1, 0]]}), "labels")
    assert pairs.level == "instance"  # a pair of ids stays ids
    path = tmp_path / "hot.parquet"
    pq.write_table(floats, path)
    assert read_table(path, column="labels").counts.to_dict() == {"0": 1, "1": 1, "2": 2}
    with pytest.raises(CurateValueError, match="holds multi-hot rows"):
        count_labels(path, column="labels", progress=False)
