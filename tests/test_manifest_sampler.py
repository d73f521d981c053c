"""``ManifestSampler``: per-rank epochs from a partitioned manifest.

Oracle: the single-machine plan, ``InterClassBalancer().fit(table).draw(e)``. For every rank
count ``R``, the union over ranks of each rank's own indices (its shard minus the padding,
whose length follows from ``E`` and ``R`` alone) has exactly the multiplicities of
``plan.draw(e)``; a rank reads only the part files of its own partitions (spied, and checked
by deleting every other part file)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import dataset_path
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.balance import InterClassBalancer
from curate.engine import Manifest, ManifestSampler, fit_plan, label_pass, write_manifest
from curate.engine import _manifest as manifest_module
from curate.io import read_table

ROOT = Path(__file__).resolve().parents[1]


def _check_epoch(manifest, draw, replicas, epoch, *, shuffle=True, drop_last=False, seed=0):
    """Every rank's shard for ``epoch``: equal lengths, own part = ``draw`` exactly, padding
    made of the rank's own indices from the start."""
    n = len(draw)
    total = int(draw.sum())
    per_rank = total // replicas if drop_last else -(-total // replicas)
    own_parts, shards = [], []
    for r in range(replicas):
        s = ManifestSampler(manifest, num_replicas=replicas, rank=r, seed=seed,
                            shuffle=shuffle, drop_last=drop_last)
        s.set_epoch(epoch)
        shard = np.asarray(list(s))
        assert len(s) == len(shard) == per_rank
        np.testing.assert_array_equal(shard, s.rank_indices())
        assert s.rank_indices().dtype == np.int32
        own = (r + 1) * total // replicas - r * total // replicas
        shards.append(shard)
        own_parts.append(shard[:own])
        if not drop_last and 0 < own < per_rank:  # padding repeats own indices from the start
            np.testing.assert_array_equal(shard[own:], np.resize(shard[:own], per_rank - own))
        if not shuffle:  # partitions in order, rows in order
            assert (np.diff(shard[:own].astype(np.int64)) >= 0).all()
    seen = np.bincount(np.concatenate(own_parts).astype(np.int64), minlength=n)
    if drop_last:
        assert (seen <= draw).all() and seen.sum() == total - total % replicas
    else:
        np.testing.assert_array_equal(seen, draw)
        padding = replicas * per_rank - total
        assert padding <= replicas - 1
        everything = np.bincount(np.concatenate(shards).astype(np.int64), minlength=n)
        assert (everything >= draw).all() and everything.sum() == total + padding
    return shards


SHARED = [("voc_detection", "labels", None), ("reuters_r52", "label", None),
          ("wnut17_ner", "tags", "O")]


@pytest.mark.datasets
@pytest.mark.parametrize(("name", "column", "background"), SHARED)
def test_union_over_ranks_is_the_single_machine_draw_on_shared_sets(tmp_path, name, column,
                                                                      background):
    path = dataset_path(name)
    plan = InterClassBalancer().fit(read_table(path, column=column))
    lp = label_pass(path, column=column, engine="local", rows_per_partition=997)
    manifest = write_manifest(tmp_path / "m", lp, fit_plan(lp, background=background),
                              engine="local")
    for e in range(3):
        draw = plan.draw(e)
        s = ManifestSampler(manifest)
        np.testing.assert_array_equal(
            s.partition_copies(e),
            [manifest.draw_partition(p, e)["multiplicity"].sum()
             for p in range(manifest.n_partitions)])
        for replicas in (1, 2, 3, 4):
            _check_epoch(manifest, draw, replicas, e)
        _check_epoch(manifest, draw, 3, e, drop_last=True, seed=7)
        _check_epoch(manifest, draw, 2, e, shuffle=False)


_labels = st.lists(st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), max_size=3),
                   min_size=1, max_size=120)


@settings(max_examples=25, deadline=None)
@given(labels=_labels, group_size=st.integers(1, 50), part_rows=st.integers(1, 40),
       window=st.integers(1, 4), plan_seed=st.integers(0, 2**16), seed=st.integers(0, 99),
       count=st.sampled_from(["instances", "samples"]), replicas=st.integers(1, 4),
       shuffle=st.booleans(), drop_last=st.booleans())
def test_random_tables_partitions_and_ranks(labels, group_size, part_rows, window, plan_seed,
                                            seed, count, replicas, shuffle, drop_last):
    if not any(labels):
        return  # nothing to balance: refused by both paths (tests/test_partitioned.py)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "l.parquet"
        pq.write_table(pa.table({"y": pa.array(labels, pa.list_(pa.string()))}), path,
                       row_group_size=group_size)
        balancer = InterClassBalancer(coverage_epochs=window, seed=plan_seed, count=count)
        plan = balancer.fit(read_table(path, column="y"))
        lp = label_pass(path, column="y", engine="local", rows_per_partition=part_rows,
                        count=count)
        manifest = write_manifest(Path(d) / "m", lp, fit_plan(lp, balancer), engine="local")
        for e in range(window + 1):
            draw = plan.draw(e)
            np.testing.assert_array_equal(
                ManifestSampler(manifest).partition_copies(e),
                [manifest.draw_partition(p, e)["multiplicity"].sum()
                 for p in range(manifest.n_partitions)])
            _check_epoch(manifest, draw, replicas, e, shuffle=shuffle, drop_last=drop_last,
                         seed=seed)


@pytest.fixture(scope="module")
def big():
    """3 000 rows, 4 classes, cut into 30 partitions of 100 rows."""
    d = Path(tempfile.mkdtemp())
    rng = np.random.default_rng(11)
    classes = np.array(["a", "b", "c", "d"])
    y = classes[rng.choice(4, size=3000, p=[0.7, 0.2, 0.07, 0.03])]
    pq.write_table(pa.table({"y": y}), d / "l.parquet")
    lp = label_pass(d / "l.parquet", column="y", engine="local", rows_per_partition=100)
    manifest = write_manifest(d / "m", lp, fit_plan(lp), engine="local")
    plan = InterClassBalancer().fit(read_table(d / "l.parquet", column="y"))
    yield manifest, plan
    shutil.rmtree(d)


def test_deterministic_and_different_across_epochs_seeds_and_ranks(big):
    manifest, plan = big
    a = ManifestSampler(manifest, num_replicas=2, rank=1, seed=4)
    b = ManifestSampler(str(manifest.folder), num_replicas=2, rank=1, seed=4)
    for e in range(3):
        a.set_epoch(e)
        b.set_epoch(e)
        assert list(a) == list(b)
    e0, e1 = a.rank_indices(0).tolist(), a.rank_indices(1).tolist()
    assert e0 != e1
    other_seed = ManifestSampler(manifest, num_replicas=2, rank=1, seed=5).rank_indices(0)
    assert other_seed.tolist() != e0
    # the seed reorders (partition order and local shuffle), never changes the draw
    union = {
        seed: np.sort(np.concatenate([ManifestSampler(manifest, num_replicas=2, rank=r,
                                                      seed=seed).rank_indices(0)
                                      for r in range(2)]))
        for seed in (4, 5)
    }
    np.testing.assert_array_equal(union[4], union[5])
    np.testing.assert_array_equal(union[4], np.repeat(np.arange(3000), plan.draw(0)))
    # shuffled within the rank: not in row order
    assert e0 != sorted(e0)


def test_resume_mid_epoch_yields_exactly_the_rest(big):
    manifest, _ = big
    for replicas, rank in ((1, 0), (3, 2)):
        a = ManifestSampler(manifest, num_replicas=replicas, rank=rank, seed=2)
        a.set_epoch(2)
        full = a.rank_indices().tolist()
        it = iter(a)
        head = [next(it) for _ in range(123)]
        state = json.loads(json.dumps(a.state_dict()))  # plain values
        assert state["yielded"] == 123 and state["epoch"] == 2
        b = ManifestSampler(manifest, num_replicas=replicas, rank=rank, seed=2)
        b.load_state_dict(state)
        assert b.epoch == 2 and head + list(b) == full
        assert list(b) == full  # the next iteration starts over
        c = ManifestSampler(manifest, num_replicas=replicas, rank=rank, seed=2)
        c.load_state_dict(state)
        c.set_epoch(3)  # another epoch discards the pending position
        assert list(c) == c.rank_indices(3).tolist()


def test_state_of_another_manifest_seed_or_rank_is_refused(big, tmp_path):
    manifest, _ = big
    s = ManifestSampler(manifest, num_replicas=2, rank=0, seed=1)
    state = s.state_dict()
    for key, value, fix in [("seed", 2, "seed=1"), ("rank", 1, "rank=0"),
                            ("num_replicas", 3, "num_replicas=2"),
                            ("manifest_digest", "0" * 64, "manifest_digest="),
                            ("shuffle", False, "shuffle=True"),
                            ("drop_last", True, "drop_last=False")]:
        with pytest.raises(ValueError, match=f"state_dict\\['{key}'\\] is .* {fix}"):
            s.load_state_dict({**state, key: value})
    with pytest.raises(ValueError, match=r"missing keys \['manifest_digest'\]"):
        s.load_state_dict({k: v for k, v in state.items() if k != "manifest_digest"})
    with pytest.raises(TypeError, match="state_dict must be a dict"):
        s.load_state_dict([state])
    with pytest.raises(ValueError, match="'yielded'"):
        s.load_state_dict({**state, "yielded": -1})


def test_a_rank_reads_only_its_own_part_files(big, tmp_path, monkeypatch):
    manifest, _ = big
    reads: list[int] = []
    original = Manifest.read_part

    def spy(self, index):
        reads.append(int(index))
        return original(self, index)

    monkeypatch.setattr(Manifest, "read_part", spy)
    replicas = 4
    for e in range(3):
        per_rank = []
        copies = ManifestSampler(manifest).partition_copies(e)
        total = int(copies.sum())
        for r in range(replicas):
            reads.clear()
            s = ManifestSampler(manifest, num_replicas=replicas, rank=r, seed=e)
            s.set_epoch(e)
            list(s)
            assert reads == s.rank_partitions()  # each read once, only these
            per_rank.append(set(reads))
            # all but the first and last lie wholly inside the rank's share of the epoch
            own = (r + 1) * total // replicas - r * total // replicas
            assert copies[reads[1:-1]].sum() <= own and len(reads) < 30
        # partitions shared by two ranks: at most one per cut between ranks
        assert sum(len(p) for p in per_rank) <= 30 + replicas - 1
        assert set().union(*per_rank) == set(np.flatnonzero(copies).tolist())
    monkeypatch.undo()
    # without the other ranks' part files a rank still draws the same shard
    for r in range(replicas):
        own = ManifestSampler(manifest, num_replicas=replicas, rank=r, seed=1)
        own.set_epoch(1)
        keep = {manifest.files[p] for p in own.rank_partitions()}
        copy = tmp_path / f"rank{r}"
        shutil.copytree(manifest.folder, copy)
        for f in manifest.files:
            if f not in keep:
                (copy / f).unlink()
        alone = ManifestSampler(copy, num_replicas=replicas, rank=r, seed=1)
        alone.set_epoch(1)
        assert list(alone) == list(own)
        gone = [i for i, f in enumerate(manifest.files) if f not in keep]
        assert gone  # the others' files really are absent
        with pytest.raises(ValueError, match="the part file is missing"):
            Manifest.load(copy).read_part(gone[0])


def test_fewer_copies_than_ranks(tmp_path):
    pq.write_table(pa.table({"y": ["a", "b"]}), tmp_path / "l.parquet")
    lp = label_pass(tmp_path / "l.parquet", column="y", engine="local")
    manifest = write_manifest(tmp_path / "m", lp, fit_plan(lp), engine="local")
    draw = InterClassBalancer().fit(read_table(tmp_path / "l.parquet", column="y")).draw(0)
    shards = _check_epoch(manifest, draw, 4, 0)  # E = 2 on 4 ranks: two ranks repeat row 0's
    assert [len(s) for s in shards] == [1, 1, 1, 1]
    assert [len(ManifestSampler(manifest, num_replicas=4, rank=r, drop_last=True))
            for r in range(4)] == [0, 0, 0, 0]


def test_manifest_without_counts_loads_but_the_sampler_refuses_it(big, tmp_path):
    manifest, _ = big
    old = tmp_path / "old"
    shutil.copytree(manifest.folder, old)
    meta = json.loads((old / "manifest.json").read_text())
    (old / meta["counts"]["file"]).unlink()
    del meta["counts"]
    meta["meta_checksum"] = manifest_module._meta_checksum(meta)
    (old / "manifest.json").write_text(json.dumps(meta))
    loaded = Manifest.load(old)  # still loads, draws per partition as before
    assert loaded.counts is None and loaded.draw_partition(0).shape[0] == 100
    with pytest.raises(ValueError, match=r"has no per-partition counts .* write it again"):
        ManifestSampler(loaded)


def test_damaged_counts_are_refused(big, tmp_path):
    manifest, _ = big
    copy = tmp_path / "m"
    shutil.copytree(manifest.folder, copy)
    counts = copy / manifest.counts[0]
    frame = pq.read_table(counts).to_pandas()
    frame.loc[0, "size"] += 1
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), counts)
    with pytest.raises(ValueError, match="the counts file is missing or does not match"):
        ManifestSampler(copy)


def test_bad_arguments(big):
    manifest, _ = big
    with pytest.raises(TypeError, match=r"must be a curate\.engine\.Manifest or its folder"):
        ManifestSampler(42)
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval"):
        ManifestSampler(manifest, num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="seed"):
        ManifestSampler(manifest, seed=-1)
    with pytest.raises(TypeError, match="shuffle"):
        ManifestSampler(manifest, shuffle="yes")
    with pytest.raises(ValueError, match="epoch"):
        ManifestSampler(manifest).set_epoch(-1)
    with pytest.raises(FileNotFoundError, match="no partitioned manifest"):
        ManifestSampler(os.path.join(str(manifest.folder), "nope"))
    assert repr(ManifestSampler(manifest, num_replicas=4, rank=1)).startswith(
        "ManifestSampler(n_partitions=30, num_replicas=4, rank=1, epoch=0, len=")


WORKER = r"""
import json, sys
import torch.distributed as dist
from curate.engine import ManifestSampler

rank, world, store, out, folder = sys.argv[1:6]
rank, world = int(rank), int(world)
dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=world)
seed = 0 if sys.argv[6] == "same" else rank
try:
    s = ManifestSampler(folder, seed=seed)
    assert (s.num_replicas, s.rank) == (world, rank)
    s.set_epoch(1)
    result = {"shard": list(s), "len": len(s)}
except ValueError as exc:
    result = {"error": str(exc)}
with open(f"{out}.{rank}", "w") as fh:
    json.dump(result, fh)
dist.destroy_process_group()
"""


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("mode", ["same", "rank-dependent seed"])
def test_two_gloo_ranks(big, tmp_path, mode):
    manifest, plan = big
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen([sys.executable, str(script), str(r), "2", str(tmp_path / "s"),
                               str(tmp_path / "r"), str(manifest.folder), mode.split()[0]],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for r in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=280)
        assert p.returncode == 0, err
    results = [json.loads((tmp_path / f"r.{r}").read_text()) for r in range(2)]
    if mode == "same":
        assert results[0]["len"] == results[1]["len"] == -(-int(plan.draw(1).sum()) // 2)
        for r in range(2):
            assert results[r]["shard"] == ManifestSampler(
                manifest, num_replicas=2, rank=r).rank_indices(1).tolist()
    else:
        assert all("different (manifest digest, seed" in r["error"] for r in results)
