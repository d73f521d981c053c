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
