"""BalancedSampler and WeightedSampler: one contract suite run on every sampler variant.

Oracles: ``plan.draw`` / ``plan.indices`` (epoch content and order), torch's
``DistributedSampler`` (padding, truncation and sharding positions), torchdata's
``StatefulDataLoader`` (resume protocol), exact brute-force probabilities and torch's
``WeightedRandomSampler`` (distribution of ``WeightedSampler``).
"""

from __future__ import annotations

import importlib.util
import json
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch.utils.data import BatchSampler, DataLoader, Dataset, DistributedSampler

import curate
from curate.balance import BalancePlan
from curate.exceptions import CurateTypeError, CurateValueError
from curate.labels import LabelTable
from curate.sampler import BalancedSampler, WeightedSampler

ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------------- fixtures
def _table(n: int, seed: int = 0) -> LabelTable:
    rng = np.random.default_rng(seed)
    classes = ["a", "b", "c", "d"]
    labels = [[classes[j] for j in np.flatnonzero(rng.random(4) < [0.9, 0.3, 0.1, 0.05])]
              for _ in range(n)]
    return LabelTable.from_labels(labels, classes=classes)


def _plan(n: int = 40, *, seed: int = 0, fractional: bool = False) -> BalancePlan:
    """A plan with real group structure: some groups dropped partly, some repeated."""
    rng = np.random.default_rng(seed)
    table = _table(n, seed)
    group = rng.integers(0, max(n // 4, 1), size=n)
    x = rng.integers(0, 3, size=n).astype(float)
    if fractional:
        x = x * rng.random(n) + 0.25
        return BalancePlan.from_multiplicity(table, x, seed=seed)
    return BalancePlan.from_multiplicity(table, x, group=group, seed=seed)


def make_balanced(**kw) -> BalancedSampler:
    return BalancedSampler(_plan(40), **kw)


def make_balanced_fractional(**kw) -> BalancedSampler:
    return BalancedSampler(_plan(40, fractional=True), **kw)


def make_weighted(**kw) -> WeightedSampler:
    kw.setdefault("seed", 0)
    return WeightedSampler(np.linspace(0.0, 2.0, 30), 47, **kw)


def make_weighted_norepl(**kw) -> WeightedSampler:
    kw.setdefault("seed", 0)
    return WeightedSampler(np.linspace(0.0, 2.0, 30), 23, replacement=False, **kw)


SAMPLERS: dict[str, Callable[..., BalancedSampler | WeightedSampler]] = {
    "balanced": make_balanced,
    "balanced_fractional": make_balanced_fractional,
    "weighted": make_weighted,
    "weighted_norepl": make_weighted_norepl,
}
N_ITEMS = {"balanced": 40, "balanced_fractional": 40, "weighted": 30, "weighted_norepl": 30}
contract = pytest.mark.parametrize("kind", list(SAMPLERS))


def _epochs(sampler, epochs=range(3)) -> list[list[int]]:
    out = []
    for e in epochs:
        sampler.set_epoch(e)
        out.append(list(sampler))
    return out


# ---------------------------------------------------------------------------- contract suite
@contract
def test_deterministic_for_a_seed(kind):
    make = SAMPLERS[kind]
    assert _epochs(make(seed=3)) == _epochs(make(seed=3))
    assert _epochs(make(seed=3)) != _epochs(make(seed=4))


@contract
def test_global_rng_changes_nothing(kind):
    make = SAMPLERS[kind]
    torch.manual_seed(0), np.random.seed(0), random.seed(0)  # noqa: NPY002
    a = _epochs(make(seed=1))
    torch.manual_seed(99), np.random.seed(99), random.seed(99)  # noqa: NPY002
    state = torch.get_rng_state(), np.random.get_state()[1].copy(), random.getstate()  # noqa: NPY002
    b = _epochs(make(seed=1))
    assert a == b
    # ... and the sampler does not consume the global RNGs either
    assert torch.equal(state[0], torch.get_rng_state())
    assert np.array_equal(state[1], np.random.get_state()[1])  # noqa: NPY002
    assert state[2] == random.getstate()


@contract
@pytest.mark.parametrize("num_replicas", [1, 2, 3, 8])
@pytest.mark.parametrize("drop_last", [False, True])
def test_exact_length_and_range(kind, num_replicas, drop_last):
    for rank in range(num_replicas):
        s = SAMPLERS[kind](num_replicas=num_replicas, rank=rank, drop_last=drop_last)
        for e in range(3):
            s.set_epoch(e)
            idx = list(s)
            assert len(s) == len(idx)
            assert all(isinstance(i, int) and 0 <= i < N_ITEMS[kind] for i in idx)


@contract
@pytest.mark.parametrize("num_replicas", [1, 2, 3, 8])
@pytest.mark.parametrize("drop_last", [False, True])
def test_shards_match_distributed_sampler(kind, num_replicas, drop_last):
    """Padding/truncation and shard positions are those of torch's DistributedSampler."""
    for e in range(2):
        shards = []
        for rank in range(num_replicas):
            s = SAMPLERS[kind](num_replicas=num_replicas, rank=rank, drop_last=drop_last)
            s.set_epoch(e)
            order = s._order(e)
            ds = DistributedSampler(range(len(order)), num_replicas=num_replicas, rank=rank,
                                    shuffle=False, drop_last=drop_last)
            shard = list(s)
            assert shard == order[list(ds)].tolist()
            shards.append(shard)
        assert len({len(sh) for sh in shards}) == 1
        glob = s.epoch_indices(e).tolist()
        # disjoint positions covering the epoch
        assert sorted(i for sh in shards for i in sh) == sorted(glob)


@contract
@pytest.mark.parametrize("num_replicas", [1, 3])
def test_resume_equals_uninterrupted(kind, num_replicas):
    make = SAMPLERS[kind]
    for k in (0, 1, 5, 10**6):
        a = make(seed=2, num_replicas=num_replicas, rank=num_replicas - 1)
        a.set_epoch(1)
        full = list(a)
        a.set_epoch(1)  # WeightedSampler draws anew on every pass without set_epoch
        it = iter(a)
        head = [next(it) for _ in range(min(k, len(full)))]
        state = a.state_dict()
        assert state["yielded"] == len(head)
        assert state["epoch"] == 1 and state["num_replicas"] == num_replicas
        b = make(seed=2, num_replicas=num_replicas, rank=num_replicas - 1)
        b.load_state_dict(state)
        assert b.state_dict() == state  # saving again before iterating keeps the position
        assert head + list(b) == full
        b.set_epoch(1)
        assert list(b) == full  # the resume offset applies to one iteration only


@contract
def test_load_state_adopts_seed_and_epoch(kind):
    make = SAMPLERS[kind]
    a = make(seed=5)
    a.set_epoch(2)
    b = make(seed=9)
    b.load_state_dict(a.state_dict())
    assert b.epoch == 2 and list(b) == list(a)
    b.set_epoch(2)  # same epoch: nothing changes
    a.set_epoch(2)
    assert list(b) == list(a)


@contract
def test_set_epoch_discards_pending_resume(kind):
    make = SAMPLERS[kind]
    a = make()
    it = iter(a)
    next(it), next(it)
    b = make()
    b.load_state_dict(a.state_dict())
    b.set_epoch(1)
    a.set_epoch(1)
    assert list(b) == list(a)


class _Echo(Dataset):
    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> int:
        return i


@contract
@pytest.mark.parametrize("num_workers", [0, 2])
def test_dataloader_with_batch_sampler_and_workers(kind, num_workers):
    s = SAMPLERS[kind](num_replicas=2, rank=1)
    s.set_epoch(1)
    expected = list(s)
    batches = BatchSampler(s, batch_size=4, drop_last=False)
    loader = DataLoader(_Echo(N_ITEMS[kind]), batch_sampler=batches, num_workers=num_workers)
    s.set_epoch(1)
    seen = torch.cat(list(loader)).tolist()
    assert seen == expected  # each index once per occurrence, in order: no worker duplicates
    assert len(loader) == -(-len(s) // 4)
    plain = DataLoader(_Echo(N_ITEMS[kind]), batch_size=5, sampler=s, num_workers=num_workers)
    s.set_epoch(1)
    assert torch.cat(list(plain)).tolist() == expected


@contract
@pytest.mark.parametrize("num_workers", [0, 2])
@pytest.mark.filterwarnings("ignore:'set_vital' is deprecated:UserWarning")  # torchdata 0.11
def test_stateful_dataloader_resume(kind, num_workers):
    sdl = pytest.importorskip("torchdata.stateful_dataloader")
    make = SAMPLERS[kind]

    def loader(sampler):
        return sdl.StatefulDataLoader(
            _Echo(N_ITEMS[kind]), batch_sampler=sdl.sampler.BatchSampler(sampler, 3, False),
            num_workers=num_workers,
        )

    ref = make(seed=1)
    ref.set_epoch(2)
    full = torch.cat(list(loader(ref))).tolist()
    a = make(seed=1)
    a.set_epoch(2)
    dl = loader(a)
    head = []
    for i, batch in enumerate(dl):
        head += batch.tolist()
        if i == 2:
            state = dl.state_dict()
            break
    b = make(seed=1)  # a fresh process: the epoch comes back from the state
    dl2 = loader(b)
    dl2.load_state_dict(state)
    tail = torch.cat(list(dl2)).tolist()
    assert head + tail == full


# ---------------------------------------------------------------------------- hypothesis
@st.composite
def _plans(draw):
    n = draw(st.integers(1, 30))
    x = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    groups = draw(st.lists(st.integers(0, 4), min_size=n, max_size=n))
    table = LabelTable.from_labels([["a"] if g % 2 else ["b"] for g in groups])
    return BalancePlan.from_multiplicity(table, x, group=groups, seed=draw(st.integers(0, 9)))


@given(plan=_plans(), num_replicas=st.sampled_from([1, 2, 3, 8]), epoch=st.integers(0, 6),
       drop_last=st.booleans(), shuffle=st.booleans(), data=st.data())
def test_shards_disjoint_and_covering(plan, num_replicas, epoch, drop_last, shuffle, data):
    rank = data.draw(st.integers(0, num_replicas - 1))
    samplers = [BalancedSampler(plan, num_replicas=num_replicas, rank=r, drop_last=drop_last,
                                shuffle=shuffle) for r in range(num_replicas)]
    for s in samplers:
        s.set_epoch(epoch)
    shards = [list(s) for s in samplers]
    draw_ = plan.indices(epoch, shuffle=shuffle)  # oracle: the plan's own epoch
    n = len(draw_)
    per_rank = n // num_replicas if drop_last else -(-n // num_replicas)
    assert [len(s) for s in samplers] == [per_rank] * num_replicas == [len(x) for x in shards]
    glob = samplers[rank].epoch_indices()
    assert shards[rank] == glob[rank::num_replicas].tolist()
    # interleaving the shards rebuilds the global order: positions are disjoint and covering
    rebuilt = [shards[p % num_replicas][p // num_replicas] for p in range(per_rank * num_replicas)]
    assert rebuilt == glob.tolist()
    if n:
        assert glob.tolist() == np.resize(draw_, len(glob)).tolist()


# ---------------------------------------------------------------------------- BalancedSampler
@pytest.mark.parametrize("fractional", [False, True])
def test_epoch_class_totals_equal_plan_draw(fractional):
    plan = _plan(60, fractional=fractional)
    s = BalancedSampler(plan)
    for e in range(5):
        s.set_epoch(e)
        expected = plan.class_totals(plan.draw(e))
        counts = np.bincount(list(s), minlength=plan.n_samples)
        assert np.array_equal(counts, plan.draw(e))
        assert s.class_totals().tolist() == expected.tolist()
        assert s.class_totals(e).tolist() == expected.tolist()


def test_default_order_is_plan_indices():
    plan = _plan(50)
    s = BalancedSampler(plan)
    for e in range(3):
        s.set_epoch(e)
        assert list(s) == plan.indices(e).tolist()
        assert BalancedSampler(plan, shuffle=False, seed=7).epoch_indices(e).tolist() == \
            plan.indices(e, shuffle=False).tolist()


def test_rotation_and_full_coverage():
    table = _table(30)
    x = np.r_[np.ones(10), np.zeros(10), np.full(10, 1.5)]  # group 0: 10 of 20 kept
    plan = BalancePlan.from_multiplicity(table, x, group=[0] * 20 + [1] * 10)
    s = BalancedSampler(plan)
    assert plan.coverage_epochs == 2
    seen, dropped = set(), []
    for e in range(int(plan.coverage_epochs)):
        s.set_epoch(e)
        idx = set(list(s))
        seen |= idx
        dropped.append(frozenset(range(30)) - idx)
    assert seen == set(range(30))
    assert len(set(dropped)) == len(dropped)  # a different dropped set every epoch


def test_rotation_with_real_long_tailed_plan():
    table = curate.datasets.make_long_tailed(300, 12, seed=0)
    rng = np.random.default_rng(0)
    group = table.presence().toarray().argmax(axis=1)
    x = rng.integers(0, 3, size=table.n_samples)
    for g in np.unique(group):  # every group gets at least one copy, so all can be covered
        x[np.flatnonzero(group == g)[0]] += 1
    plan = BalancePlan.from_multiplicity(table, x, group=group)
    k = plan.coverage_epochs
    assert 1 < k < 50
    s = BalancedSampler(plan)
    seen: set[int] = set()
    for e in range(int(k)):
        s.set_epoch(e)
        assert s.class_totals().tolist() == plan.class_totals(plan.draw(e)).tolist()
        seen |= set(list(s))
    assert seen == set(range(table.n_samples))


class _StandIn:
    """A balancer stand-in: keeps every sample once; counts its fits."""

    def __init__(self) -> None:
        self.fits = 0

    def fit(self, table: LabelTable) -> BalancePlan:
        self.fits += 1
        return BalancePlan.from_multiplicity(table, np.ones(table.n_samples), seed=4)


def test_table_and_balancer_fit_lazily_once():
    bal = _StandIn()
    s = BalancedSampler(_table(12), bal)
    assert bal.fits == 0
    assert len(s) == 12 and s.seed == 4
    list(s), s.plan, s.state_dict()
    assert bal.fits == 1
    assert sorted(s) == list(range(12))


def test_table_with_real_balancer():
    table = curate.datasets.make_long_tailed(200, 8, seed=1)
    s = BalancedSampler(table, curate.InterClassBalancer(seed=0))
    plan = s.plan
    assert isinstance(plan, BalancePlan)
    assert s.class_totals(0).tolist() == plan.class_totals(plan.draw(0)).tolist()


def test_from_manifest_round_trip(tmp_path):
    plan = _plan(30)
    path = tmp_path / "plan.parquet"
    plan.save(path)
    s = BalancedSampler.from_manifest(path, num_replicas=2, rank=1)
    ref = BalancedSampler(plan, num_replicas=2, rank=1)
    for e in range(3):
        s.set_epoch(e), ref.set_epoch(e)
        assert list(s) == list(ref)


def test_num_replicas_defaults_without_process_group():
    s = make_balanced()
    assert (s.num_replicas, s.rank) == (1, 0)


# ---------------------------------------------------------------------------- errors
PLAN = _plan(10)
ERRORS = [
    (lambda: BalancedSampler(PLAN, num_replicas=2, rank=2),
     CurateValueError, r"^Invalid rank 2, rank should be in the interval \[0, 1\]$"),
    (lambda: BalancedSampler(PLAN, num_replicas=3, rank=-1),
     CurateValueError, r"^Invalid rank -1, rank should be in the interval \[0, 2\]$"),
    (lambda: BalancedSampler(PLAN, num_replicas=0, rank=0),
     CurateValueError, r"The 'num_replicas' parameter of BalancedSampler must be an int in the "
                       r"range \[1, inf\)\. Got 0 instead\."),
    (lambda: BalancedSampler(PLAN, num_replicas=2.0, rank=0),
     CurateTypeError, r"'num_replicas' parameter .* Got 2\.0 instead"),
    (lambda: BalancedSampler(PLAN, seed=-1),
     CurateValueError, r"The 'seed' parameter of BalancedSampler must be None or an int in the "
                       r"range \[0, inf\)\. Got -1 instead\."),
    (lambda: BalancedSampler(PLAN, shuffle="yes"),
     CurateTypeError, r"The 'shuffle' parameter of BalancedSampler must be a bool\. "),
    (lambda: BalancedSampler(PLAN, drop_last=1), CurateTypeError, r"'drop_last' parameter"),
    (lambda: BalancedSampler([1, 2, 3]), CurateTypeError,
     r"must be a BalancePlan or a LabelTable\. Got list instead\."),
    (lambda: BalancedSampler(_table(5)), CurateTypeError, r"needs a balancer with a fit\(table\)"),
    (lambda: BalancedSampler(PLAN, _StandIn()), CurateValueError, r"balancer must be None"),
    (lambda: BalancedSampler(PLAN).set_epoch(-1), CurateValueError,
     r"The 'epoch' parameter of BalancedSampler must be an int in the range \[0, inf\)"),
    (lambda: BalancedSampler(PLAN).load_state_dict([1]), CurateTypeError, r"must be a dict"),
    (lambda: BalancedSampler(PLAN).load_state_dict({"seed": 0}), CurateValueError,
     r"missing keys \['epoch', 'num_replicas', 'rank', 'yielded'\]"),
    (lambda: BalancedSampler(PLAN).load_state_dict(
        {"seed": 0, "epoch": 0, "num_replicas": 2, "rank": 0, "yielded": 3}),
     CurateValueError, r"state_dict\['num_replicas'\] is 2 but this sampler has num_replicas=1"),
    (lambda: BalancedSampler(PLAN).load_state_dict(
        {"seed": 0, "epoch": 0, "num_replicas": 1, "rank": 0, "yielded": -3}),
     CurateValueError, r"'yielded' parameter"),
    (lambda: WeightedSampler([1.0, -1.0], 3), CurateValueError,
     r"weights\[1\] is -1\.0; weights must be finite and >= 0"),
    (lambda: WeightedSampler([1.0, float("nan")], 3), CurateValueError, r"weights\[1\] is nan"),
    (lambda: WeightedSampler([0.0, 0.0], 3), CurateValueError, r"weights are all zero"),
    (lambda: WeightedSampler([[1.0, 2.0]], 3), CurateValueError, r"non-empty 1-D .* \(1, 2\)"),
    (lambda: WeightedSampler(["a", "b"], 3), CurateTypeError, r"1-D sequence of numbers"),
    (lambda: WeightedSampler([1.0, 2.0], 0), CurateValueError,
     r"The 'num_samples' parameter of WeightedSampler must be an int in the range \[1, inf\)"),
    (lambda: WeightedSampler([1.0, 2.0], 2.5), CurateTypeError, r"'num_samples' parameter"),
    (lambda: WeightedSampler([1.0, 0.0, 2.0], 3, replacement=False), CurateValueError,
     r"num_samples=3 exceeds the 2 positive weights"),
    (lambda: WeightedSampler([1.0], 3, num_replicas=4, rank=4), CurateValueError,
     r"^Invalid rank 4, rank should be in the interval \[0, 3\]$"),
]


@pytest.mark.parametrize(("call", "exc", "match"), ERRORS)
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_balancer_must_return_a_plan():
    class Bad:
        def fit(self, table):
            return [1]

    s = BalancedSampler(_table(4), Bad())
    with pytest.raises(CurateTypeError, match="must return a BalancePlan; got list"):
        len(s)


def test_inputs_not_mutated():
    w = np.array([1.0, 2.0, 3.0])
    t = torch.tensor([1.0, 2.0, 3.0])
    list(WeightedSampler(w, 5)), list(WeightedSampler(t, 5))
    assert w.tolist() == [1.0, 2.0, 3.0] and w.flags.writeable
    assert t.tolist() == [1.0, 2.0, 3.0]


# ---------------------------------------------------------------------------- WeightedSampler
def _chi2_bound(df: int) -> float:
    """Chi-square statistic bound: mean df, variance 2 df; 6 standard deviations."""
    return df + 6 * np.sqrt(2 * df)


def test_weighted_distribution_matches_weighted_random_sampler():
    w = np.array([0.0, 1.0, 2.0, 3.0, 0.5, 5.0, 0.1, 8.0])
    m = 200_000
    p = w / w.sum()
    ours = np.bincount(list(WeightedSampler(w, m, seed=0)), minlength=len(w))
    ref = np.bincount(list(torch.utils.data.WeightedRandomSampler(
        torch.tensor(w), m, generator=torch.Generator().manual_seed(0))), minlength=len(w))
    pos = p > 0
    assert ours[~pos].sum() == 0 and ref[~pos].sum() == 0
    df = int(pos.sum()) - 1
    for counts in (ours, ref):  # both against the exact expectation
        chi2 = (((counts - m * p) ** 2)[pos] / (m * p[pos])).sum()
        assert chi2 < _chi2_bound(df)
    # two-sample homogeneity (ours vs torch)
    pooled = (ours + ref)[pos] / (2 * m)
    chi2 = (((ours[pos] - m * pooled) ** 2 + (ref[pos] - m * pooled) ** 2) / (m * pooled)).sum()
    assert chi2 < _chi2_bound(df)


def test_weighted_without_replacement_matches_sequential_draws():
    """Ordered pairs (first, second) follow P(i, j) = p_i p_j / (1 - p_i), as torch.multinomial."""
    w = np.array([1.0, 2.0, 3.0, 4.0, 0.0])
    p = w / w.sum()
    s = WeightedSampler(w, 2, replacement=False, seed=0)
    reps = 6000
    counts = np.zeros((5, 5))
    for e in range(reps):
        i, j = s.epoch_indices(e).tolist()
        counts[i, j] += 1
    expected = np.array([[p[i] * p[j] / (1 - p[i]) if i != j else 0 for j in range(5)]
                         for i in range(5)]) * reps
    cells = expected > 0
    assert counts[~cells].sum() == 0
    chi2 = (((counts - expected) ** 2)[cells] / expected[cells]).sum()
    assert chi2 < _chi2_bound(int(cells.sum()) - 1)


def test_weighted_without_replacement_is_a_set():
    s = WeightedSampler(np.arange(1.0, 21.0), 20, replacement=False, seed=3)
    for e in range(3):
        s.set_epoch(e)
        assert sorted(s) == list(range(20))


def test_weighted_epochs_differ():
    s = make_weighted()
    a, b = _epochs(s, [0, 1])
    assert a != b


def test_weighted_beyond_2_pow_24_categories():
    n = 2**24 + 10
    w = np.zeros(n)
    w[-10:] = np.arange(1.0, 11.0)
    w[5] = 1e-3
    with pytest.raises(RuntimeError, match="2\\^24"):  # the limit this sampler lifts
        list(torch.utils.data.WeightedRandomSampler(torch.from_numpy(w), 5))
    s = WeightedSampler(w, 2000, seed=0)
    idx = np.array(list(s))
    assert len(idx) == 2000 and idx.max() == n - 1
    assert set(idx.tolist()) <= {5, *range(n - 10, n)}
    assert (idx >= n - 10).mean() > 0.99
    top = WeightedSampler(w, 10, replacement=False, seed=0).epoch_indices(0)
    assert sorted(top.tolist())[-1] == n - 1 and set(top.tolist()) <= {5, *range(n - 10, n)}
    del w, s


# ---------------------------------------------------------------------------- benchmark smoke
@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs torch")
def test_benchmark_quick_runs(tmp_path):
    out = tmp_path / "sampler.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_sampler.py"), "--quick", "--out",
         str(out)], capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    import json

    data = json.loads(out.read_text())
    assert data["name"] == "sampler" and data["tables"] and data["tables"][0]["rows"]


def test_weighted_sampler_draws_anew_without_set_epoch_like_torch():
    s = WeightedSampler(np.ones(1000), 200, seed=4)
    first, second = list(s), list(s)
    assert first != second  # as WeightedRandomSampler: a new draw every pass
    s.set_epoch(0)
    assert list(s) == first  # set_epoch makes the draw a function of the epoch
    again = WeightedSampler(np.ones(1000), 200, seed=4)
    assert [list(again), list(again)] == [first, second]  # and the sequence is reproducible


def test_weighted_sampler_takes_a_torch_generator():
    g1, g2 = torch.Generator().manual_seed(7), torch.Generator().manual_seed(7)
    a = WeightedSampler(np.ones(100), 50, generator=g1)
    b = WeightedSampler(np.ones(100), 50, generator=g2)
    assert [list(a), list(a)] == [list(b), list(b)]
    with pytest.raises(TypeError, match="'generator' parameter"):
        WeightedSampler(np.ones(3), 2, generator=7)
    with pytest.raises(ValueError, match="either seed or generator"):
        WeightedSampler(np.ones(3), 2, seed=1, generator=torch.Generator())


def test_balanced_sampler_refuses_a_state_from_another_plan():
    table = curate.LabelTable.from_labels([["a"], ["b"], ["a"]])
    a = BalancedSampler(curate.balance.BalancePlan.from_multiplicity(table, [1, 1, 1]))
    b = BalancedSampler(curate.balance.BalancePlan.from_multiplicity(table, [0, 2, 1]))
    with pytest.raises(ValueError, match="another plan"):
        b.load_state_dict(a.state_dict())


@pytest.mark.parametrize("scale", [1e-320, 1e-300, 1e300])
def test_weighted_sampler_draws_the_same_for_any_weight_scale(scale):
    # 1e-320 weights underflowed in the cumulative sum and drew index 0 only
    base = list(curate.WeightedSampler([1.0, 3.0, 0.0, 2.0], 4000, seed=5))
    assert list(curate.WeightedSampler([scale, 3 * scale, 0.0, 2 * scale], 4000, seed=5)) == base
    base = list(curate.WeightedSampler([1.0, 3.0, 0.0, 2.0], 2, replacement=False, seed=5))
    assert list(curate.WeightedSampler([scale, 3 * scale, 0.0, 2 * scale], 2,
                                       replacement=False, seed=5)) == base


@pytest.mark.parametrize("kind", ["balanced", "weighted"])
def test_stateful_dataloader_checkpoint_at_epoch_end_then_next_epoch(kind):
    # the sampler state of a finished epoch 0 lands after set_epoch(1) (torchdata restores
    # lazily) and replayed epoch 0; it must leave epoch 1 alone
    stateful = pytest.importorskip("torchdata.stateful_dataloader")
    t = curate.LabelTable.from_labels([["cat"]] * 6 + [["dog"]] * 2)
    plan = curate.InterClassBalancer().fit(t)

    def make():
        s = (curate.BalancedSampler(plan) if kind == "balanced"
             else curate.WeightedSampler([1.0] * 6 + [3.0] * 2, 8, seed=2))
        return s, stateful.StatefulDataLoader(list(range(8)), sampler=s, batch_size=2)

    s, dl = make()
    [b.tolist() for b in dl]
    state = dl.state_dict()
    s.set_epoch(1)
    epoch1 = [b.tolist() for b in dl]
    s2, dl2 = make()
    dl2.load_state_dict(state)
    s2.set_epoch(1)
    assert [b.tolist() for b in dl2] == epoch1
    s3, dl3 = make()
    dl3.load_state_dict(state)  # no set_epoch: epoch 0 again, as DistributedSampler
    assert s3.epoch == 0 or [b.tolist() for b in dl3]


@pytest.mark.parametrize("stop", [(0, 12), (1, 5)])  # (epoch, indices taken): end, middle
def test_weighted_sampler_generator_state_resumes_later_epochs(stop):
    # with generator=, every epoch takes its seed from the generator; the checkpoint did not
    # hold its state, so the epochs after a resumed one differed from the interrupted run's
    stateful = pytest.importorskip("torchdata.stateful_dataloader")
    weights = [1.0, 2.0, 3.0, 0.5, 4.0]

    def make():
        s = curate.WeightedSampler(weights, 12, generator=torch.Generator().manual_seed(7))
        return s, stateful.StatefulDataLoader(list(range(5)), sampler=s, batch_size=None)

    s, dl = make()
    full = []
    for epoch in range(3):
        s.set_epoch(epoch)
        full.append([int(x) for x in dl])
    s, dl = make()
    stop_epoch, taken = stop
    for epoch in range(stop_epoch + 1):
        s.set_epoch(epoch)
        it = iter(dl)
        head = [int(next(it)) for _ in range(12 if epoch < stop_epoch else taken)]
        assert head == full[epoch][:len(head)]
    state = dl.state_dict()
    s2, dl2 = make()
    dl2.load_state_dict(state)
    rest = []
    for epoch in range(stop_epoch if taken < 12 else stop_epoch + 1, 3):
        s2.set_epoch(epoch)
        rest.append([int(x) for x in dl2])
    if taken < 12:
        rest[0] = head + rest[0]
    assert rest == full[len(full) - len(rest):]


def test_weighted_sampler_generator_state_mismatches_are_refused():
    with_gen = curate.WeightedSampler([1.0, 2.0], 4, generator=torch.Generator().manual_seed(1))
    list(with_gen)
    plain = curate.WeightedSampler([1.0, 2.0], 4)
    with pytest.raises(curate.exceptions.CurateValueError, match="this one has none"):
        plain.load_state_dict(with_gen.state_dict())
    bad = {**with_gen.state_dict(), "generator_state": [1, 2, 300]}
    with pytest.raises(curate.exceptions.CurateValueError, match="list of byte values"):
        curate.WeightedSampler([1.0, 2.0], 4, generator=torch.Generator()).load_state_dict(bad)
    with pytest.warns(UserWarning, match="holds no generator state"):
        curate.WeightedSampler([1.0, 2.0], 4, generator=torch.Generator()).load_state_dict(
            plain.state_dict())


@pytest.mark.parametrize("taken", [0, 4, 10])
def test_weighted_sampler_generator_checkpoint_after_iter_resumes_exactly(taken):
    # iter() draws the pass's seed from the generator; a checkpoint taken before the first
    # index (taken=0) saved the generator after that draw, so the resumed run drew another
    weights = np.random.default_rng(0).random(20)

    def make(seed):
        return curate.WeightedSampler(weights, 10, generator=torch.Generator().manual_seed(seed))

    ref = make(1)
    full = [list(ref)]
    ref.set_epoch(1)
    full.append(list(ref))
    s = make(1)
    it = iter(s)
    head = [next(it) for _ in range(taken)]
    state = json.loads(json.dumps(s.state_dict()))
    for fresh_seed in (1, 999):  # the resuming process's generator may start anywhere
        r = make(fresh_seed)
        r.load_state_dict(state)
        epoch0 = head + list(r)
        r.set_epoch(1)
        assert [epoch0, list(r)] == full
    tampered = {**state, "seed": state["seed"] + 1}
    if taken:
        with pytest.raises(curate.exceptions.CurateValueError, match="checkpoint's seed"):
            make(1).load_state_dict(tampered)
