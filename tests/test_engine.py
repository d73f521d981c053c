"""The partitioned label pass equals the single-process results, exactly, on every shared set."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import dataset_path

from curate.balance._formulation import signatures
from curate.engine import label_pass, partitions, reduce_partials, update_partition
from curate.io import count_labels, read_table

# (dataset, label column): list columns of instances/tags and single-label scalar columns
SHARED = [
    ("coco_val2017_detection", "labels"), ("conll2003_ner", "tags"),
    ("mulan_emotions", "labels"), ("mulan_yeast", "labels"), ("ohsumed_text", "label"),
    ("places_lt", "label"), ("reuters_r52", "label"), ("trec_text", "label"),
    ("voc_detection", "labels"), ("wnut17_ner", "tags"),
]


def _assert_equals_single_process(result, path, column, count="instances"):
    """Oracle: count_labels for counts, signatures() of read_table's matrix for the groups."""
    table = read_table(path, column=column)
    matrix = table.matrix if count == "instances" else table.presence()
    sig = signatures(matrix)
    _, first = np.unique(sig.group, return_index=True)
    assert result.classes == list(table.classes)
    if count == "instances":
        assert result.counts.equals(count_labels(path, column=column, progress=False))
    np.testing.assert_array_equal(result.counts.to_numpy(),
                                  np.asarray(matrix.sum(axis=0)).ravel())
    assert result.vectors.shape == sig.vectors.shape
    assert (result.vectors != sig.vectors).nnz == 0
    np.testing.assert_array_equal(result.sizes, sig.sizes)
    np.testing.assert_array_equal(result.first_row, first)
    assert result.n_rows == table.n_samples


@pytest.mark.datasets
@pytest.mark.parametrize(("name", "column"), SHARED)
def test_local_engine_equals_single_process_on_shared_sets(name, column):
    path = dataset_path(name)
    # 997-row partitions: signatures straddle partition borders in every set
    result = label_pass(path, column=column, engine="local", rows_per_partition=997)
    assert result.n_partitions == -(-result.n_rows // 997)
    _assert_equals_single_process(result, path, column)


@pytest.mark.datasets
@pytest.mark.parametrize(("name", "column"), [("voc_detection", "labels"),
                                              ("conll2003_ner", "tags")])
def test_presence_signatures(name, column):
    path = dataset_path(name)
    result = label_pass(path, column=column, engine="local", count="samples",
                        rows_per_partition=3000)
    _assert_equals_single_process(result, path, column, count="samples")


def test_partials_reduce_in_any_order(tmp_path, rng):
    labels = [[str(v) for v in rng.integers(0, 4, size=rng.integers(0, 3))] for _ in range(500)]
    path = tmp_path / "l.parquet"
    pq.write_table(pa.table({"y": labels}), path, row_group_size=128)
    parts = partitions(path, rows_per_partition=50)
    assert len(parts) == sum(-(-n // 50) for n in (128, 128, 128, 116))
    frames = [update_partition(p, "y") for p in parts]
    import pandas as pd

    forward = reduce_partials(pd.concat(frames), n_rows=500, n_partitions=len(parts),
                              count="instances")
    backward = reduce_partials(pd.concat(frames[::-1]), n_rows=500, n_partitions=len(parts),
                               count="instances")
    np.testing.assert_array_equal(forward.sizes, backward.sizes)
    np.testing.assert_array_equal(forward.first_row, backward.first_row)
    _assert_equals_single_process(forward, path, "y")


def test_folder_of_files_in_sorted_order_and_int_labels(tmp_path):
    for name, rows in [("b.parquet", [[3], [1, 1]]), ("a.parquet", [[10], [], [3]])]:
        pq.write_table(pa.table({"y": rows}), tmp_path / name)
    result = label_pass(tmp_path, column="y", engine="local")
    assert result.classes == ["1", "3", "10"]  # numbers numerically, as LabelTable orders
    assert result.first_row.tolist() == [0, 1, 2, 4]  # a.parquet first: [10], [], [3], [1, 1]
    assert result.counts.to_dict() == {"1": 2, "3": 2, "10": 1}


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"column": "nope"}, ValueError, r"column 'nope' is not in l.parquet .* pass one"),
        ({"column": "y", "engine": "spark"}, ValueError,
         r"'engine' parameter of label_pass must be one of \{'local', 'ray'\}"),
        ({"column": "y", "num_workers": 0}, ValueError, r"'num_workers' parameter"),
        ({"column": "y", "count": "rows"}, ValueError, r"'count' parameter"),
        ({"column": "y", "rows_per_partition": 1.5}, TypeError, r"'rows_per_partition'"),
        ({"column": "y", "ignore_index": None}, TypeError, r"'ignore_index' parameter"),
    ],
)
def test_bad_arguments(tmp_path, kwargs, error, match):
    pq.write_table(pa.table({"y": [["a"], None, ["b"]]}), tmp_path / "l.parquet")
    with pytest.raises(error, match=match):
        label_pass(tmp_path / "l.parquet", engine=kwargs.pop("engine", "local"), **kwargs)


def test_null_label_and_missing_path(tmp_path):
    pq.write_table(pa.table({"y": [["a", None]]}), tmp_path / "l.parquet")
    with pytest.raises(ValueError, match=r"missing label .* drop it or give it a class name"):
        label_pass(tmp_path / "l.parquet", column="y", engine="local")
    with pytest.raises(FileNotFoundError, match="no parquet file or folder"):
        label_pass(tmp_path / "absent.parquet", column="y", engine="local")


@pytest.mark.slow
@pytest.mark.datasets
@pytest.mark.timeout(600)
@pytest.mark.parametrize(("name", "column"), [("voc_detection", "labels"),
                                              ("places_lt", "label"),
                                              ("wnut17_ner", "tags")])
def test_ray_engine_with_two_workers_equals_single_process(local_ray, name, column):
    path = dataset_path(name)
    result = label_pass(path, column=column, engine="ray", num_workers=2,
                        rows_per_partition=2500)
    assert result.n_partitions >= 2
    assert len(result.details["worker_peak_rss"]) >= 1
    _assert_equals_single_process(result, path, column)


# ------------------------------------------------- the single-machine readers' semantics
def test_files_found_and_ordered_as_the_single_machine_readers(tmp_path):
    import pyarrow.dataset as ds

    (tmp_path / "a").mkdir()
    files = {"a-c.parquet": [["x"]] * 10 + [["z"]] * 2, "a/b.parquet": [["z"]] * 5 + [["x"]],
             "part.pq": [["w"], ["x"]],  # any suffix is read, as pyarrow reads it
             "_extra.parquet": [["z"]] * 7, ".hidden.parquet": [["q"]]}  # skipped
    for name, rows in files.items():
        pq.write_table(pa.table({"y": rows}), tmp_path / name)
    result = label_pass(tmp_path, column="y", engine="local")
    assert [p.path for p in partitions(tmp_path)] == ds.dataset(tmp_path, format="parquet").files
    assert result.counts.to_dict() == {"w": 1, "x": 12, "z": 7}
    _assert_equals_single_process(result, tmp_path, "y")  # a-c.parquet before a/b.parquet


def test_ignore_index_dropped_as_the_single_machine_readers(tmp_path, rng):
    rows = [rng.choice([-100, 0, 1, 2], p=[0.3, 0.5, 0.15, 0.05],
                       size=rng.integers(1, 4)).tolist() for _ in range(400)]
    rows[7] = [-100, -100]  # a row of padding only: a row without labels
    path = tmp_path / "l.parquet"
    pq.write_table(pa.table({"y": pa.array(rows, pa.list_(pa.int64()))}), path,
                   row_group_size=90)
    result = label_pass(path, column="y", engine="local", rows_per_partition=40)
    assert "-100" not in result.classes
    _assert_equals_single_process(result, path, "y")
    own = label_pass(path, column="y", engine="local", ignore_index=0)
    assert own.classes == ["-100", "1", "2"]
    assert own.counts.equals(count_labels(path, column="y", progress=False, ignore_index=0))
    assert own.classes == list(read_table(path, column="y", ignore_index=0).classes)


def test_label_kinds_differing_between_files_are_refused(tmp_path):
    pq.write_table(pa.table({"y": pa.array([1] * 10 + [2] * 3, pa.int64())}),
                   tmp_path / "a.parquet")
    pq.write_table(pa.table({"y": ["1"] * 5 + ["2"]}), tmp_path / "b.parquet")
    with pytest.raises(ValueError, match=r"column 'y' holds numbers \(int64\) in '.*a\.parquet' "
                                         r"but strings \(string\) in '.*b\.parquet'; every file "
                                         r"of a parquet folder must hold its columns with the "
                                         r"same types"):
        label_pass(tmp_path, column="y", engine="local")
    # integer widths may differ: the labels get the same names (the single-machine readers
    # read them as one column)
    pq.write_table(pa.table({"y": pa.array([1, 2, 2], pa.int32())}), tmp_path / "b.parquet")
    result = label_pass(tmp_path, column="y", engine="local")
    assert result.classes == ["1", "2"]
    _assert_equals_single_process(result, tmp_path, "y")


@pytest.mark.parametrize("as_list", [False, True])
def test_integral_float_labels_named_as_integers(tmp_path, rng, as_list):
    values = rng.choice([1.0, 2.0, 10.0, 3.0], p=[0.6, 0.25, 0.1, 0.05], size=300)
    column = pa.array([[v] for v in values] if as_list else values,
                      pa.list_(pa.float64()) if as_list else pa.float64())
    path = tmp_path / "l.parquet"
    pq.write_table(pa.table({"y": column}), path, row_group_size=100)
    result = label_pass(path, column="y", engine="local", rows_per_partition=70)
    assert result.classes == ["1", "2", "3", "10"]  # numerically, as LabelTable names them
    _assert_equals_single_process(result, path, "y")
    for bad, shown in [(1.5, "1.5"), (float("nan"), "nan")]:
        pq.write_table(pa.table({"y": pa.array([1.0, 2.0, bad])}), path)
        with pytest.raises(ValueError, match=rf"l\.parquet\['y'\] row 2 holds {shown}; labels "
                                             "must be integers or strings, without NaN"):
            label_pass(path, column="y", engine="local")


def test_label_pass_refuses_multi_hot_rows_as_count_labels_does(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "hot.parquet"
    pq.write_table(pa.table({"labels": [[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]]}), path)
    from curate.exceptions import CurateValueError

    with pytest.raises(CurateValueError, match="label_pass counts label values"):
        label_pass(path, column="labels", engine="local")
