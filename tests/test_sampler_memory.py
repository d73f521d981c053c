"""The samplers' memory-lean epoch: int32 orders, in-place shuffles, chunked iteration.

The epoch order must stay what it was (the previous out-of-place int64 code is the oracle
here), iteration in chunks must yield exactly the shard and resume anywhere, and iterating
must not build one Python list of the whole shard.
"""

from __future__ import annotations

import itertools
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import curate.sampler as sampler_mod
from curate.balance import BalancePlan, InterClassBalancer
from curate.labels import LabelTable
from curate.sampler import BalancedSampler, WeightedSampler


def _plan(n: int, seed: int = 0) -> BalancePlan:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 5, size=n)
    m = sp.csr_matrix((np.ones(n, dtype=np.int64), (np.arange(n), y)), shape=(n, 5))
    table = LabelTable(m, list("abcde"), level="sample")
    x = rng.integers(0, 4, size=n).astype(float) * rng.random(n) + 0.2
    return BalancePlan.from_multiplicity(table, x, seed=seed)


def _old_balanced_order(plan: BalancePlan, seed: int, epoch: int, shuffle: bool) -> np.ndarray:
    """The previous ``BalancedSampler._epoch_order`` (int64 repeat, permutation copy)."""
    idx = np.repeat(np.arange(plan.n_samples, dtype=np.int64), plan.draw(epoch))
    if shuffle:
        idx = np.random.default_rng([seed, epoch, 2]).permutation(idx)
    return idx


def _old_weighted_order(w: np.ndarray, m: int, replacement: bool, seed: int,
                        epoch: int) -> np.ndarray:
    """The previous ``WeightedSampler._epoch_order`` (every step out of place)."""
    rng = np.random.default_rng([seed, epoch, 3])
    if not replacement:
        with np.errstate(divide="ignore"):
            keys = rng.standard_exponential(len(w)) / w
        top = np.argpartition(keys, m - 1)[:m] if m < len(keys) else np.arange(len(keys))
        return top[np.argsort(keys[top], kind="stable")]
    cdf = np.cumsum(w)
    spacings = np.cumsum(rng.standard_exponential(m + 1))
    u = spacings[:m] * (cdf[-1] / spacings[m])
    idx = np.searchsorted(cdf, u, side="right")
    np.minimum(idx, len(cdf) - 1, out=idx)
    return rng.permutation(idx)


@pytest.mark.parametrize("shuffle", [True, False])
def test_balanced_order_equals_previous_code(shuffle):
    plan = _plan(500)
    for seed in (None, 7):
        s = BalancedSampler(plan, shuffle=shuffle, seed=seed)
        for e in range(4):
            got = s.epoch_indices(e)
            assert got.dtype == np.int32
            want = _old_balanced_order(plan, plan.seed if seed is None else seed, e, shuffle)
            assert np.array_equal(got, want)


@pytest.mark.parametrize("replacement", [True, False])
def test_weighted_order_equals_previous_code(replacement):
    w = np.random.default_rng(1).random(300) ** 3
    w[::7] = 0.0
    for seed, m in ((0, 200), (3, 250)):
        s = WeightedSampler(w, m, replacement=replacement, seed=seed)
        for e in range(3):
            s.set_epoch(e)
            got = s.epoch_indices(e)
            assert got.dtype == np.int32
            assert np.array_equal(got, _old_weighted_order(w, m, replacement, seed, e))


@given(x=st.lists(st.integers(0, 300), max_size=60), cuts=st.lists(st.integers(0, 60)),
       step=st.integers(1, 7))
def test_repeat_indices_equals_np_repeat(x, cuts, step):
    xs = np.array(x, dtype=np.int64)
    bounds = [0, *sorted(c for c in cuts if c <= len(x)), len(x)]
    blocks = [xs[a:b].astype(np.min_scalar_type(int(xs[a:b].max())) if b > a else np.int64)
              for a, b in itertools.pairwise(bounds)]
    old = sampler_mod._BLOCK
    sampler_mod._BLOCK = step
    try:
        got = sampler_mod._repeat_indices(blocks, len(x))
    finally:
        sampler_mod._BLOCK = old
    assert got.dtype == np.int32
    assert got.tolist() == np.repeat(np.arange(len(x)), xs).tolist()


@settings(max_examples=25)
@given(n=st.integers(1, 40), seed=st.integers(0, 5), block=st.integers(1, 9),
       data=st.data())
def test_draw_blocks_equal_the_plans_draw(n, seed, block, data):
    """Blockwise systematic draws (the balancer's plans) equal ``plan.draw`` exactly."""
    rng = np.random.default_rng(seed)
    labels = [[c for c in "abc" if rng.random() < p] for p in rng.random(n)]
    labels[0] = labels[0] or ["a"]  # something to balance
    table = LabelTable.from_labels(labels, classes=["a", "b", "c"])
    plan = InterClassBalancer(seed=seed, coverage_epochs=data.draw(st.sampled_from([1, 2, 3])),
                              max_repeats=data.draw(st.sampled_from([2, 4]))).fit(table)
    assert plan.rounding == "systematic"
    old = sampler_mod._BLOCK
    sampler_mod._BLOCK = block
    try:
        for epoch in range(4):
            blocks = sampler_mod._draw_blocks(plan, epoch)
            assert all(len(b) <= block for b in blocks)
            assert np.concatenate(blocks).tolist() == plan.draw(epoch).tolist()
            s = BalancedSampler(plan)
            s.set_epoch(epoch)
            assert s.epoch_indices().tolist() == plan.indices(epoch).tolist()
    finally:
        sampler_mod._BLOCK = old


def test_other_roundings_draw_whole():
    plan = _plan(30)  # bernoulli
    blocks = sampler_mod._draw_blocks(plan, 2)
    assert len(blocks) == 1 and blocks[0].tolist() == plan.draw(2).tolist()


@pytest.mark.parametrize("num_replicas,drop_last", [(1, False), (3, False), (3, True),
                                                    (4, False)])
def test_chunked_iteration_yields_shard_and_resumes_anywhere(monkeypatch, num_replicas,
                                                             drop_last):
    monkeypatch.setattr(sampler_mod, "_CHUNK", 4)
    plan = _plan(37, seed=2)
    for rank in range(num_replicas):
        def make(rank=rank):
            s = BalancedSampler(plan, num_replicas=num_replicas, rank=rank, drop_last=drop_last)
            s.set_epoch(1)
            return s
        s = make()
        shard = s.epoch_indices(1)[rank::num_replicas].tolist()
        assert list(s) == shard and len(shard) == len(s)
        for k in range(len(shard) + 1):  # stop after k indices, resume in a new sampler
            a = make()
            it = iter(a)
            head = [next(it) for _ in range(k)]
            state = a.state_dict()
            assert state["yielded"] == k
            b = make()
            b.load_state_dict(state)
            assert head + list(b) == shard


def test_iteration_does_not_build_a_list_of_the_shard():
    n = 400_000
    s = WeightedSampler(np.ones(n), n, seed=0)
    s.epoch_indices(0)  # the cached int32 order (1.6 MB) is not what is measured
    tracemalloc.start()
    try:
        it = iter(s)
        first = [next(it) for _ in range(10)]
        current, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(first) == 10
    # a list of the whole shard would hold n Python ints (~36 bytes each: 14 MB);
    # one chunk of _CHUNK ints is ~2.4 MB
    assert current < 8 * n, current
