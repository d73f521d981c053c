"""A real ``torch.distributed`` run: 2 CPU processes (gloo) compare their shards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]

WORKER = r"""
import json, sys
import numpy as np
import torch.distributed as dist
from curate.balance import BalancePlan
from curate.labels import LabelTable
from curate.sampler import BalancedSampler, WeightedSampler

rank, world, store, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=world)
rng = np.random.default_rng(0)
table = LabelTable.from_labels([["a"] if rng.random() < 0.8 else ["b"] for _ in range(101)])
x = rng.integers(0, 3, size=101)
plan = BalancePlan.from_multiplicity(table, x, group=rng.integers(0, 7, size=101), seed=3)
result = {}
for name, sampler in [("balanced", BalancedSampler(plan)),
                      ("weighted", WeightedSampler(rng.random(101), 77, seed=5))]:
    assert (sampler.num_replicas, sampler.rank) == (world, rank)  # read from torch.distributed
    for epoch in range(3):
        sampler.set_epoch(epoch)
        shard = list(sampler)
        gathered = [None] * world
        dist.all_gather_object(gathered, {"shard": shard, "len": len(sampler),
                                          "global": sampler.epoch_indices().tolist()})
        result[f"{name}/{epoch}"] = gathered
if rank == 0:
    result["plan_indices"] = [plan.indices(e).tolist() for e in range(3)]
    with open(out, "w") as fh:
        json.dump(result, fh)
dist.barrier()
dist.destroy_process_group()
"""


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_two_gloo_ranks_take_disjoint_equal_shards(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    out = tmp_path / "result.json"
    store = tmp_path / "store"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    procs = [
        subprocess.Popen([sys.executable, str(script), str(r), "2", str(store), str(out)],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for r in range(2)
    ]
    for p in procs:
        _, err = p.communicate(timeout=100)
        assert p.returncode == 0, err
    result = json.loads(out.read_text())
    for name in ("balanced", "weighted"):
        for epoch in range(3):
            r0, r1 = result[f"{name}/{epoch}"]
            assert r0["global"] == r1["global"]  # same epoch order on both ranks, no comms
            assert r0["len"] == r1["len"] == len(r0["shard"]) == len(r1["shard"])
            glob = r0["global"]
            assert len(glob) == 2 * r0["len"]
            # disjoint positions covering the (padded) epoch
            assert r0["shard"] == glob[0::2] and r1["shard"] == glob[1::2]
            assert sorted(r0["shard"] + r1["shard"]) == sorted(glob)
            if name == "balanced":
                draw = result["plan_indices"][epoch]
                assert glob == np.resize(draw, len(glob)).tolist()


FIT_WORKER = r"""
import json, sys
import numpy as np
import torch.distributed as dist
import curate
from curate.datasets import make_long_tailed
from curate.sampler import BalancedSampler

rank, world, store, out, mode = (int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4],
                                 sys.argv[5])
dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=world)
table = make_long_tailed(3000, 30, seed=4)
result = {}
try:
    if mode == "fit":
        # only rank 0 fits; the others must receive its plan
        class RankZeroOnly(curate.InterClassBalancer):
            def fit(self, table):
                if dist.get_rank():
                    raise RuntimeError(f"rank {dist.get_rank()} fitted")
                return super().fit(table)

        sampler = BalancedSampler(table, RankZeroOnly(seed=1))
    elif mode == "weighted":  # a rank-dependent seed: the shards would overlap
        from curate.sampler import WeightedSampler

        sampler = WeightedSampler(np.ones(100), 50, seed=rank)
    else:  # every rank brings its own, different plan
        sampler = BalancedSampler(curate.InterClassBalancer(seed=rank).fit(table))
    sampler.set_epoch(1)
    result = {"digest": sampler.plan.digest, "shard": list(sampler),
              "draw": sampler.plan.draw(1).tolist()}
except ValueError as exc:
    result = {"error": str(exc)}
with open(f"{out}.{rank}", "w") as fh:
    json.dump(result, fh)
dist.destroy_process_group()
"""


def _run_ranks(tmp_path, mode, world=3):
    script = tmp_path / "fit_worker.py"
    script.write_text(FIT_WORKER)
    out = tmp_path / "r"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    procs = [
        subprocess.Popen([sys.executable, str(script), str(r), str(world), str(tmp_path / "s"),
                          str(out), mode], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for r in range(world)
    ]
    for p in procs:
        _, err = p.communicate(timeout=280)
        assert p.returncode == 0, err
    return [json.loads((tmp_path / f"r.{r}").read_text()) for r in range(world)]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_three_gloo_ranks_fit_once_and_share_one_plan(tmp_path):
    results = _run_ranks(tmp_path, "fit")
    assert len({r["digest"] for r in results}) == 1
    draw = np.asarray(results[0]["draw"])
    shards = [r["shard"] for r in results]
    assert len({len(s) for s in shards}) == 1
    seen = np.bincount(np.concatenate(shards), minlength=len(draw))
    # every drawn copy is on exactly one rank (up to the wrap-around padding)
    assert (seen >= draw).all() and seen.sum() - draw.sum() < 3


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_ranks_with_different_plans_all_raise(tmp_path):
    results = _run_ranks(tmp_path, "mismatch")
    assert all("different plan" in r.get("error", "") for r in results)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_weighted_samplers_with_rank_dependent_seeds_all_raise(tmp_path):
    results = _run_ranks(tmp_path, "weighted")
    assert all("different weights, num_samples, replacement or seed" in r.get("error", "")
               for r in results)


def test_weighted_sampler_refuses_a_generator_under_ddp(monkeypatch):
    import torch

    import curate.sampler as cs

    monkeypatch.setattr(cs, "_distributed", lambda num_replicas: True)
    with pytest.raises(ValueError, match="takes seed=, not generator="):
        cs.WeightedSampler(np.ones(4), 2, generator=torch.Generator(), num_replicas=2, rank=0)
