"""Plan on signature totals, per-partition draws and the partitioned manifest equal the
single-machine path byte for byte (oracle: ``InterClassBalancer().fit(table)`` and
``BalancePlan.draw``), on every shared set, on hypothesis tables and on a 2-worker Ray cluster."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import dataset_path
from hypothesis import given, settings
from hypothesis import strategies as st

import curate
from curate.balance import InterClassBalancer
from curate.balance._draw import member_rank
from curate.engine import GroupPlan, Manifest, fit_plan, label_pass, write_manifest
from curate.engine import _manifest as manifest_module
from curate.io import read_table

SHARED = [
    ("coco_val2017_detection", "labels"), ("conll2003_ner", "tags"),
    ("mulan_emotions", "labels"), ("mulan_yeast", "labels"), ("ohsumed_text", "label"),
    ("places_lt", "label"), ("reuters_r52", "label"), ("trec_text", "label"),
    ("voc_detection", "labels"), ("wnut17_ner", "tags"),
]


def _check_manifest_equals_plan(manifest, plan, epochs):
    """Every partition's draw, concatenated in row order, is ``plan.draw(e)``; ranks and groups
    in the part files are the single-machine ones."""
    parts = [manifest.read_part(i) for i in range(manifest.n_partitions)]
    rows = np.concatenate([p["row"].to_numpy() for p in parts])
    np.testing.assert_array_equal(rows, np.arange(plan.n_samples))
    np.testing.assert_array_equal(np.concatenate([p["group"].to_numpy() for p in parts]),
                                  plan.group)
    np.testing.assert_array_equal(np.concatenate([p["rank"].to_numpy() for p in parts]),
                                  member_rank(plan.group, len(plan.group_total)))
    for e in epochs:
        state = manifest.plan.epoch_state(e)
        got = np.concatenate([manifest.draw_partition(i, e, state)["multiplicity"].to_numpy()
                              for i in range(manifest.n_partitions)])
        assert got.tobytes() == plan.draw(e).tobytes(), f"epoch {e}"


@pytest.mark.datasets
@pytest.mark.parametrize(("name", "column"), SHARED)
def test_partitioned_plan_equals_single_machine_on_shared_sets(tmp_path, name, column):
    path = dataset_path(name)
    table = read_table(path, column=column)
    plan = InterClassBalancer().fit(table)
    lp = label_pass(path, column=column, engine="local", rows_per_partition=997)
    gp = fit_plan(lp, background=table.background)
    assert gp.group_total.tobytes() == plan.group_total.tobytes()
    np.testing.assert_array_equal(gp.sizes, plan.group_sizes)
    assert gp.balanced_classes == plan.balanced_classes
    for e in range(3):
        assert gp.class_totals(e).equals(plan.class_totals(plan.draw(e)))
    manifest = write_manifest(tmp_path / "m", lp, gp, engine="local")
    assert manifest.n_partitions == -(-table.n_samples // 997)
    _check_manifest_equals_plan(manifest, plan, range(4))


@pytest.mark.datasets
@pytest.mark.parametrize(("name", "column", "options"), [
    ("voc_detection", "labels", {"count": "samples", "coverage_epochs": 3, "seed": 5}),
    ("mulan_emotions", "labels", {"permanent": True}),
    ("reuters_r52", "label", {"target_size": 0.8, "max_repeats": 3}),
])
def test_options_carry_over(tmp_path, name, column, options):
    path = dataset_path(name)
    table = read_table(path, column=column)
    balancer = InterClassBalancer(**options)
    plan = balancer.fit(table)
    lp = label_pass(path, column=column, engine="local", rows_per_partition=1500,
                    count=options.get("count", "instances"))
    gp = fit_plan(lp, balancer, background=table.background)
    assert gp.group_total.tobytes() == plan.group_total.tobytes()
    manifest = write_manifest(tmp_path / "m", lp, gp, engine="local")
    _check_manifest_equals_plan(manifest, plan, range(4))


_labels = st.lists(st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), max_size=3),
                   min_size=1, max_size=120)


@settings(max_examples=30, deadline=None)
@given(labels=_labels, group_size=st.integers(1, 50), part_rows=st.integers(1, 40),
       window=st.integers(1, 4), seed=st.integers(0, 2**16), count=st.sampled_from(
           ["instances", "samples"]))
def test_random_tables_and_partitions(labels, group_size, part_rows, window, seed, count):
    if not any(labels):
        return  # nothing to balance: both paths refuse it (tested below)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "l.parquet"
        pq.write_table(pa.table({"y": pa.array(labels, pa.list_(pa.string()))}), path,
                       row_group_size=group_size)
        table = read_table(path, column="y")
        balancer = InterClassBalancer(coverage_epochs=window, seed=seed, count=count)
        plan = balancer.fit(table)
        lp = label_pass(path, column="y", engine="local", rows_per_partition=part_rows,
                        count=count)
        gp = fit_plan(lp, balancer)
        assert gp.group_total.tobytes() == plan.group_total.tobytes()
        manifest = write_manifest(Path(d) / "m", lp, gp, engine="local")
        _check_manifest_equals_plan(manifest, plan, range(2 * window + 1))


def test_empty_labels_refused_like_the_table_path(tmp_path):
    pq.write_table(pa.table({"y": pa.array([[], []], pa.list_(pa.string()))}), tmp_path / "l.p")
    lp = label_pass(tmp_path / "l.p", column="y", engine="local")
    with pytest.raises(ValueError, match="no non-background class with labels"):
        fit_plan(lp)


@pytest.fixture()
def small(tmp_path):
    rng = np.random.default_rng(3)
    labels = [["a"] if u < 0.6 else (["a", "b"] if u < 0.8 else (["a", "a"] if u < 0.9 else ["c"]))
              for u in rng.random(300)]
    keys = [f"k{i:04d}" for i in range(300)]
    path = tmp_path / "l.parquet"
    pq.write_table(pa.table({"key": keys, "y": labels, "x": np.arange(300)}), path,
                   row_group_size=64)
    lp = label_pass(path, column="y", engine="local", rows_per_partition=50)
    return path, lp, fit_plan(lp), curate.InterClassBalancer().fit(read_table(path, column="y"))


def test_keys_balance_partition_and_reload(tmp_path, small):
    _, lp, gp, plan = small
    m = write_manifest(tmp_path / "m", lp, gp, key="key", engine="local")
    part = m.draw_partition(3, epoch=1)
    assert part.columns.tolist() == ["key", "row", "multiplicity"]
    assert part["key"].tolist() == [f"k{r:04d}" for r in part["row"]]
    balanced = m.balance_partition(3, 1, columns=["x"])
    expected = np.repeat(part["row"].to_numpy(), part["multiplicity"].to_numpy())
    assert balanced.column("x").to_numpy().tolist() == expected.tolist()
    back = Manifest.load(tmp_path / "m")
    assert back.plan.digest == gp.digest and back.files == m.files
    _check_manifest_equals_plan(back, plan, range(3))


def test_damaged_files_are_refused(tmp_path, small):
    _, lp, gp, _ = small
    m = write_manifest(tmp_path / "m", lp, gp, engine="local")
    part = tmp_path / "m" / m.files[1]
    data = pq.read_table(part).to_pandas()
    data.loc[0, "rank"] += 1
    pq.write_table(pa.Table.from_pandas(data, preserve_index=False), part)
    m.read_part(0)
    with pytest.raises(ValueError, match=r"damaged or was edited: the part file"):
        m.read_part(1)
    meta_path = tmp_path / "m" / "manifest.json"
    meta = json.loads(meta_path.read_text())
    meta["plan"]["seed"] = 1
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="its body does not match its checksum"):
        Manifest.load(tmp_path / "m")


def test_groups_file_checked_and_new_plan_keeps_old_files(tmp_path, small):
    _, lp, gp, _ = small
    m1 = write_manifest(tmp_path / "m", lp, gp, engine="local")
    other = fit_plan(lp, InterClassBalancer(seed=9))
    m2 = write_manifest(tmp_path / "m", lp, other, engine="local")
    assert set(m1.files).isdisjoint(m2.files)
    assert all((tmp_path / "m" / f).is_file() for f in m1.files)  # never overwritten
    groups = next((tmp_path / "m").glob(f"groups-{other.digest[:16]}.parquet"))
    groups.write_bytes(groups.read_bytes()[:-1] + b"\0")
    with pytest.raises(ValueError, match="the group file is missing or does not match"):
        Manifest.load(tmp_path / "m")


def test_mismatches_are_refused(tmp_path, small):
    path, lp, gp, _ = small
    other = label_pass(path, column="y", engine="local", rows_per_partition=50,
                       count="samples")
    with pytest.raises(ValueError, match=r"signatures count 'samples' but .* count='instances'"):
        fit_plan(other, InterClassBalancer())
    with pytest.raises(ValueError, match="plan was not fitted on this label pass"):
        write_manifest(tmp_path / "m", other, gp, engine="local")
    with pytest.raises(TypeError, match=r"label_pass must be a curate\.engine\.LabelPass"):
        fit_plan(gp)
    with pytest.raises(TypeError, match="balancer must be an InterClassBalancer"):
        fit_plan(lp, object())
    with pytest.raises(ValueError, match="group ids must lie in"):
        gp.draw_rows(0, [gp.n_groups], [0])
    m = write_manifest(tmp_path / "m", lp, gp, engine="local")
    with pytest.raises(ValueError, match="partition index 99 is out of range"):
        m.read_part(99)
    # the data changes between the label pass and the manifest: refused, not mis-ranked
    pq.write_table(pa.table({"key": ["z"] * 300, "y": [["c"]] * 300, "x": np.arange(300)}),
                   path, row_group_size=64)
    with pytest.raises(ValueError, match="no longer holds the labels the label pass read"):
        write_manifest(tmp_path / "m2", lp, gp, engine="local")


def test_single_machine_reader_semantics_carry_over_to_the_manifest(tmp_path):
    """Nested files in pyarrow's order, a skipped ``_`` file, ``-100`` padding and integral
    float labels: the manifest's draws are the single-machine plan's."""
    (tmp_path / "d" / "a").mkdir(parents=True)
    rng = np.random.default_rng(4)
    rows = [rng.choice([-100.0, 0.0, 1.0, 2.0], p=[0.3, 0.5, 0.15, 0.05],
                       size=rng.integers(1, 4)).tolist() for _ in range(300)]
    for name, chunk in [("a-c.parquet", rows[:180]), ("a/b.parquet", rows[180:]),
                        ("_skip.parquet", [[2.0]] * 50)]:
        pq.write_table(pa.table({"y": pa.array(chunk, pa.list_(pa.float64()))}),
                       tmp_path / "d" / name, row_group_size=70)
    table = read_table(tmp_path / "d", column="y")
    plan = InterClassBalancer().fit(table)
    lp = label_pass(tmp_path / "d", column="y", engine="local", rows_per_partition=50)
    gp = fit_plan(lp)
    assert lp.classes == list(table.classes) == ["0", "1", "2"]
    assert gp.group_total.tobytes() == plan.group_total.tobytes()
    _check_manifest_equals_plan(write_manifest(tmp_path / "m", lp, gp, engine="local"), plan,
                                range(3))


def _two_groups(path):
    """rows a a a a | a a b b in two row groups; label pass, plan and the rows' x."""
    pq.write_table(pa.table({"y": ["a"] * 6 + ["b"] * 2, "x": np.arange(8)}), path,
                   row_group_size=4)
    lp = label_pass(path, column="y", engine="local")
    return lp, fit_plan(lp)


@pytest.mark.parametrize("second", [["b", "b", "a", "a"], ["zebra", "zebra", "b", "b"]])
def test_source_changed_before_the_manifest_is_refused(tmp_path, second):
    # same rows per signature in the partition (only the sizes were compared before)
    path = tmp_path / "l.parquet"
    lp, gp = _two_groups(path)
    pq.write_table(pa.table({"y": ["a"] * 4 + second, "x": np.arange(8)}), path,
                   row_group_size=4)
    with pytest.raises(ValueError, match=r"partition 1 \(.*l\.parquet, row group 1, rows 0-4\) "
                                         "no longer holds the labels the label pass read; .* "
                                         "run label_pass, fit_plan and write_manifest again"):
        write_manifest(tmp_path / "m", lp, gp, engine="local")


def test_source_changed_after_the_manifest_is_refused_where_it_is_read(tmp_path):
    path = tmp_path / "l.parquet"
    lp, gp = _two_groups(path)
    m = write_manifest(tmp_path / "m", lp, gp, engine="local")
    before = [y for i in range(2) for y in m.balance_partition(i, 0, ["y"]).column("y")
              .to_pylist()]
    assert before.count("a") == gp.class_totals(0)["a"]
    meta = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert [q["labels_sha256"] for q in meta["partitions"]] == list(lp.partition_checksums)
    # the dataset is regenerated: same file, same row groups, the first one relabelled
    pq.write_table(pa.table({"y": ["b"] + ["a"] * 5 + ["b"] * 2, "x": np.arange(8)}), path,
                   row_group_size=4)
    loaded = Manifest.load(tmp_path / "m")
    assert loaded.draw_partition(0).shape[0] == 4  # the part files alone are still fine
    for read in (lambda: loaded.balance_partition(0, 0, ["y"]),
                 lambda: loaded.read_partition(0, ["x"]), lambda: loaded.check_source(0)):
        with pytest.raises(ValueError, match=r"partition 0 \(.*\) no longer holds the labels "
                                             "the manifest was written from"):
            read()
    loaded.check_source(1)  # partition 1 kept its labels
    # fewer rows: the row range is gone
    pq.write_table(pa.table({"y": ["a"] * 3, "x": np.arange(3)}), path)
    with pytest.raises(ValueError, match=r"no longer holds rows 0-4 of row group 0; the "
                                         "source changed"):
        loaded.read_partition(0)
    # a manifest without the checksums (an older curate): refused, not read unchecked
    for q in meta["partitions"]:
        del q["labels_sha256"]
    meta["meta_checksum"] = manifest_module._meta_checksum(meta)
    (tmp_path / "m" / "manifest.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match=r"holds no checksums of its source's labels .* write "
                                         "it again"):
        Manifest.load(tmp_path / "m").read_partition(1)


def test_group_plan_rejects_inconsistent_arrays():
    import scipy.sparse as sp

    with pytest.raises(ValueError, match="must describe the same 2 groups"):
        GroupPlan(["a"], sp.csr_matrix([[1], [1]]), np.array([1, 1]), np.array([0]),
                  np.array([1.0, 1.0]), "instances", 0, 2, ["a"])


# ------------------------------------------------------------------------------------ Ray
@pytest.mark.slow
@pytest.mark.datasets
@pytest.mark.timeout(900)
@pytest.mark.parametrize(("name", "column"), [("voc_detection", "labels"),
                                              ("reuters_r52", "label")])
def test_ray_balance_with_two_workers_equals_single_machine(tmp_path, local_ray, name, column):
    import curate.ray

    path = dataset_path(name)
    table = read_table(path, column=column)
    plan = InterClassBalancer().fit(table)
    lp = label_pass(path, column=column, engine="ray", num_workers=2, rows_per_partition=2500)
    gp = fit_plan(lp, background=table.background)
    assert gp.group_total.tobytes() == plan.group_total.tobytes()
    manifest = write_manifest(tmp_path / "m", lp, gp, engine="ray", num_workers=2)
    assert manifest.n_partitions >= 2
    ds = curate.ray.read(manifest, columns=[column])
    for e in range(3):
        rows = np.concatenate([b["row"] for b in curate.ray.balance(ds, manifest, e)
                               .iter_batches(batch_format="numpy", batch_size=None)])
        multiplicity = np.bincount(rows, minlength=table.n_samples)
        assert multiplicity.tobytes() == plan.draw(e).tobytes(), f"epoch {e}"
    with pytest.raises(ValueError, match="ds has no column 'group'"):
        curate.ray.balance(ds.drop_columns(["group"]), manifest, 0)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_ray_read_refuses_a_changed_source(tmp_path, local_ray):
    import curate.ray

    path = tmp_path / "l.parquet"
    lp, gp = _two_groups(path)
    m = write_manifest(tmp_path / "m", lp, gp, engine="ray", num_workers=2)
    rows = [b["x"] for b in curate.ray.balance(curate.ray.read(m, columns=["x"]), m, 0)
            .iter_batches(batch_format="numpy", batch_size=None)]
    expected = np.concatenate([m.draw_partition(i, 0)["multiplicity"] for i in range(2)])
    assert np.bincount(np.concatenate(rows), minlength=8).tolist() == expected.tolist()
    pq.write_table(pa.table({"y": ["b", "b"] + ["a"] * 6, "x": np.arange(8)}), path,
                   row_group_size=4)
    with pytest.raises(Exception, match="no longer holds the labels the manifest was written"):
        curate.ray.balance(curate.ray.read(m, columns=["x"]), m, 0).materialize()
