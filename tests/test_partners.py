"""curate.augment partners: PartnerSampler, effective_looks, looks_table and the adapters.

Oracles: SplitMix64's published outputs, closed-form two-class solutions, chi-square tests of
the draws against the fitted probabilities (scipy.stats), simulated epochs against the exact
expected looks, and separate processes / DataLoader workers for determinism.
"""

from __future__ import annotations

import multiprocessing as mp
import random

import numpy as np
import pandas as pd
import pytest
from conftest import dataset_path
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

import curate
from curate.augment import (
    EpochTagSampler,
    PartnerDataset,
    PartnerSampler,
    attach_partners,
    effective_looks,
    looks_table,
)
from curate.augment._partners import _mix
from curate.exceptions import CurateTypeError, CurateValueError


@pytest.fixture(scope="module")
def table():
    return curate.datasets.make_long_tailed(60, 8, seed=3)


@pytest.fixture(scope="module")
def toy():
    return curate.LabelTable.from_labels([["cat"]] * 8 + [["dog"]] * 2)


def _cv(v):
    v = np.asarray(v, dtype=float)
    return v.std() / v.mean()


# ----------------------------------------------------------------------------- hashing
def test_mix_is_splitmix64():
    # published SplitMix64 outputs for state 0: next() adds the gamma, then finalises
    assert _mix(0) == 0xE220A8397B1DCDAF
    assert _mix(0x9E3779B97F4A7C15) == 0x6E789E6AA1B965F4
    assert _mix((2 * 0x9E3779B97F4A7C15) % 2**64) == 0x06C45D188009454F


# ----------------------------------------------------------------------------- the fit
def test_two_class_closed_form(toy):
    # equal looks: 8 + 10 (1 - p) = 2 + 10 p  =>  dog mass p = 0.8, 0.4 per dog image
    q = PartnerSampler(toy, k=2).probabilities
    np.testing.assert_allclose(q, [0.2 / 8] * 8 + [0.4] * 2, atol=1e-6)
    # targets 2:1: 8 + 10 (1 - p) = 2 (2 + 10 p)  =>  p = 14/30
    q = PartnerSampler(toy, k=2, targets={"cat": 2, "dog": 1}).probabilities
    np.testing.assert_allclose(q[8:], [7 / 30] * 2, atol=1e-6)
    looks = effective_looks(toy, PartnerSampler(toy, k=2, targets=[2.0, 1.0]))
    assert looks["cat"] == pytest.approx(2 * looks["dog"], rel=1e-6)


def test_cap_binds(toy):
    # uncapped optimum 0.4 per dog image; max_factor=2 caps it at 2/10
    ps = PartnerSampler(toy, k=2, max_factor=2.0)
    np.testing.assert_allclose(ps.probabilities[8:], [0.2, 0.2], atol=1e-12)
    assert ps.probabilities.sum() == pytest.approx(1.0)
    assert ps.details["max_share"] == pytest.approx(2.0)
    np.testing.assert_allclose(PartnerSampler(toy, k=2, max_factor=1.0).probabilities, 0.1)


@given(seed=st.integers(0, 10_000), k=st.sampled_from([2, 4]),
       max_factor=st.floats(1.0, 20.0))
def test_fit_invariants(seed, k, max_factor):
    t = curate.datasets.make_long_tailed(80, 10, seed=seed)
    ps = PartnerSampler(t, k=k, max_factor=max_factor, n_iter=30)
    q = ps.probabilities
    assert q.sum() == pytest.approx(1.0) and (q >= 0).all()
    assert q.max() <= max_factor / t.n_samples * (1 + 1e-9)
    looks = effective_looks(t, ps).to_numpy()
    uniform = effective_looks(t, None, k=k).to_numpy()
    present = t.counts.to_numpy() > 0
    assert _cv(looks[present]) <= _cv(uniform[present]) + 1e-12  # never worse than uniform
    assert ps.details["cv"] == pytest.approx(_cv(looks[present]))
    assert ps.details["cv_uniform"] == pytest.approx(_cv(uniform[present]))


def test_background_is_not_balanced():
    t = curate.LabelTable.from_labels([["O", "O", "a"], ["O", "b"], ["O"], ["O", "a"]],
                                      background="O", level="token")
    ps = PartnerSampler(t, k=2)
    assert t.classes == ("O", "a", "b") and ps.targets.tolist() == [0.0, 1.0, 1.0]
    looks = effective_looks(t, ps)
    assert looks["a"] == pytest.approx(looks["b"], rel=1e-3)  # only a and b are balanced


def test_plan_anchors_are_used(table):
    plan = curate.InterClassBalancer().fit(table)
    ps = PartnerSampler(table, plan, k=4)
    assert ps.anchors == "plan" and ps.count == plan.count
    assert PartnerSampler(table, plan, k=4, anchors="uniform").anchors == "uniform"
    with_plan = effective_looks(table, ps, plan).to_numpy()
    present = table.counts.to_numpy() > 0
    assert ps.details["cv"] == pytest.approx(_cv(with_plan[present]))


# ----------------------------------------------------------------------------- draws
def test_scalar_and_vector_draws_agree(table):
    ps = PartnerSampler(table, k=4, seed=11)
    block = ps.epoch_partners(3)
    assert block.shape == (table.n_samples, 3)
    for i in range(table.n_samples):
        assert block[i].tolist() == ps.partners(i, 3)
    idx = np.array([5, 5, 0])
    np.testing.assert_array_equal(ps.epoch_partners(3, idx, draw=2, n=5),
                                  [ps.partners(i, 3, draw=2, n=5) for i in idx.tolist()])


def test_keys_change_the_draws(table):
    ps = PartnerSampler(table, k=4, seed=0)
    base = ps.epoch_partners(0)
    assert (ps.epoch_partners(1) != base).mean() > 0.5
    assert (ps.epoch_partners(0, draw=1) != base).mean() > 0.5
    assert (PartnerSampler(table, k=4, seed=1).epoch_partners(0) != base).mean() > 0.5
    assert ps.partners(7, 0, n=5)[:3] == ps.partners(7, 0)  # partner j depends on j only


def _chi2(observed, q):
    """Chi-square p-value; bins expected to hold < 5 draws are pooled into one bin."""
    expected = q * observed.sum()
    small = expected < 5
    obs, exp = observed[~small], expected[~small]
    if small.any():
        obs, exp = np.append(obs, observed[small].sum()), np.append(exp, expected[small].sum())
    return stats.chisquare(obs, exp * obs.sum() / exp.sum()).pvalue


def test_chi_square_vectorised(table):
    ps = PartnerSampler(table, k=4, seed=5)
    draws = np.concatenate([ps.epoch_partners(e).ravel() for e in range(1500)])
    observed = np.bincount(draws, minlength=table.n_samples)
    assert _chi2(observed, ps.probabilities) > 1e-4
    for j in range(3):  # each partner slot has the same marginal
        col = np.concatenate([ps.epoch_partners(e)[:, j] for e in range(600)])
        assert _chi2(np.bincount(col, minlength=table.n_samples), ps.probabilities) > 1e-4
    # power: the same counts reject uniform selection
    assert _chi2(observed, np.full(table.n_samples, 1 / table.n_samples)) < 1e-10


def test_chi_square_scalar(table):
    ps = PartnerSampler(table, k=2, seed=9)
    draws = [ps.partners(i, e)[0] for e in range(600) for i in range(table.n_samples)]
    observed = np.bincount(draws, minlength=table.n_samples)
    assert _chi2(observed, ps.probabilities) > 1e-4


# ----------------------------------------------------------------------------- looks
def test_uniform_looks_closed_form(table):
    counts = table.counts.to_numpy()
    np.testing.assert_allclose(effective_looks(table, k=4).to_numpy(), 4 * counts)
    presence = np.asarray(table.presence().sum(axis=0)).ravel()
    np.testing.assert_allclose(effective_looks(table, k=2, count="samples"), 2 * presence)
    uni = PartnerSampler.uniform(table, k=3)
    np.testing.assert_allclose(effective_looks(table, uni).to_numpy(), 3 * counts)


def _simulate(table, ps, epochs, sampler=None):
    counts_t = table.matrix.T.tocsr().astype(float)
    total = np.zeros(table.n_classes)
    for e in range(epochs):
        anchors = (np.arange(table.n_samples) if sampler is None
                   else sampler.epoch_indices(e))
        members = np.concatenate([anchors, ps.epoch_partners(e, anchors).ravel()])
        total += counts_t @ np.bincount(members, minlength=table.n_samples)
    return total / epochs


def test_looks_match_simulation(table):
    ps = PartnerSampler(table, k=4, seed=2)
    expected = effective_looks(table, ps).to_numpy()
    sim = _simulate(table, ps, 400)
    np.testing.assert_allclose(sim, expected, rtol=0.05, atol=1.0)


def test_looks_match_simulation_with_balanced_sampler(table):
    import torch
    del torch
    plan = curate.InterClassBalancer().fit(table)
    ps = PartnerSampler(table, plan, k=4, seed=4)
    sampler = curate.BalancedSampler(plan)
    expected = effective_looks(table, ps, plan).to_numpy()
    sim = _simulate(table, ps, 400, sampler)
    np.testing.assert_allclose(sim, expected, rtol=0.05, atol=1.0)


def test_looks_table(table):
    plan = curate.InterClassBalancer().fit(table)
    df = looks_table(table, plan, k=4, max_factor=3.0)
    assert list(df.columns) == ["count", "uniform", "rare_aware", "balanced_uniform",
                                "balanced_rare_aware"]
    assert df.index.tolist() == list(table.classes)
    np.testing.assert_allclose(df["uniform"], effective_looks(table, k=4))
    np.testing.assert_allclose(
        df["balanced_rare_aware"],
        effective_looks(table, PartnerSampler(table, plan, k=4, max_factor=3.0), plan))
    assert list(looks_table(table).columns) == ["count", "uniform", "rare_aware"]


# ----------------------------------------------------------------------------- processes
def _partners_in_child(args):
    n, seed, keys = args
    t = curate.datasets.make_long_tailed(n, 8, seed=3)
    ps = PartnerSampler(t, k=4, seed=seed)
    return ps.digest, [ps.partners(i, e, draw=d) for e, i, d in keys]


def _pickled_in_child(args):
    ps, keys = args
    return [ps.partners(i, e) for e, i in keys]


def test_same_partners_in_separate_processes(table):
    ps = PartnerSampler(table, k=4, seed=21)
    keys = [(e, i, d) for e in (0, 1, 9) for i in (0, 17, 59) for d in (0, 1)]
    local = [ps.partners(i, e, draw=d) for e, i, d in keys]
    ctx = mp.get_context("spawn")
    with ctx.Pool(2) as pool:
        rebuilt = pool.map(_partners_in_child, [(60, 21, keys), (60, 21, keys)])
        shipped = pool.map(_pickled_in_child, [(ps, [(e, i) for e, i, _ in keys])])
    for digest, got in rebuilt:  # each "rank" fits its own sampler from the same labels
        assert digest == ps.digest
        assert got == local
    assert shipped[0] == [ps.partners(i, e) for e, i, _ in keys]


class _Images:
    """A map-style dataset returning the index (stands in for images)."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return int(i)


def test_partner_dataset_dataloader_workers(table):
    import torch
    from torch.utils.data import DataLoader

    ps = PartnerSampler(table, k=4, seed=8)
    ds = PartnerDataset(_Images(table.n_samples), ps)
    tagged = EpochTagSampler(list(range(table.n_samples)))

    def run(workers, persistent):
        loader = DataLoader(ds, batch_size=7, sampler=tagged, num_workers=workers,
                            persistent_workers=persistent, collate_fn=list)
        out = []
        for epoch in (0, 3):
            tagged.set_epoch(epoch)
            out.append([item for batch in loader for item in batch])
        return out

    expected = [[(i, *ps.partners(i, e)) for i in range(table.n_samples)] for e in (0, 3)]
    assert run(0, False) == expected
    assert run(2, True) == expected  # persistent workers get the epoch from the tags
    ds.set_epoch(3)
    assert ds[5] == (5, *ps.partners(5, 3))
    assert ds[(0, 5)] == (5, *ps.partners(5, 0))
    del torch


# ----------------------------------------------------------------------------- Ultralytics hook
class _Compose:
    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, data):
        for t in self.transforms:
            data = t(data)
        return data


class _BaseMix:
    """The call pattern of Ultralytics' BaseMixTransform.__call__."""

    def __init__(self, dataset, pre_transform=None, p=1.0):
        self.dataset, self.pre_transform, self.p = dataset, pre_transform, p

    def __call__(self, labels):
        if random.uniform(0, 1) > self.p:
            return labels
        indexes = self.get_indexes()
        if isinstance(indexes, int):
            indexes = [indexes]
        mix = [self.dataset.get_image_and_label(i) for i in indexes]
        if self.pre_transform is not None:
            mix = [self.pre_transform(m) for m in mix]
        return {"index": labels["index"], "parts": [labels, *mix], "kind": type(self).__name__}


class _Mosaic(_BaseMix):
    def __init__(self, dataset, n=4):
        super().__init__(dataset)
        self.n = n

    def get_indexes(self):
        return random.choices(list(self.dataset.buffer), k=self.n - 1)


class _MixUp(_BaseMix):
    def get_indexes(self):
        return random.randint(0, len(self.dataset) - 1)


class _YoloLike:
    """Same shape as Ultralytics' YOLODataset: transforms(get_image_and_label(i))."""

    def __init__(self, n):
        self.labels = list(range(n))
        self.buffer = [0, 1]
        mosaic = _Mosaic(self)
        pre = _Compose([mosaic])
        self.transforms = _Compose([pre, _MixUp(self, pre_transform=pre)])

    def __len__(self):
        return len(self.labels)

    def get_image_and_label(self, index):
        return {"index": self.labels[index]}

    def __getitem__(self, index):
        return self.transforms(self.get_image_and_label(index))


def _members(node):
    """Indices of a nested composite, in the order the transforms placed them."""
    if "parts" not in node:
        return [node["index"]]
    return [m for part in node["parts"] for m in _members(part)]


def test_attach_partners_standin(table):
    ps = PartnerSampler(table, k=4, seed=13)
    data = _YoloLike(table.n_samples)
    hook = attach_partners(data, ps)
    assert data.curate_partners is hook and len(hook.transforms) == 2

    def expected(i, e):
        mosaic = ps.partners(i, e, draw=0, n=3)
        mix = ps.partners(i, e, draw=1, n=1)[0]
        mix_mosaic = ps.partners(i, e, draw=2, n=3)
        return [i, *mosaic, mix, *mix_mosaic]

    for i in (0, 4, 59):
        assert _members(data[i]) == expected(i, 0)
    hook.set_epoch(2)
    assert _members(data[4]) == expected(4, 2)
    assert _members(data[(5, 4)]) == expected(4, 5)  # (epoch, index) from EpochTagSampler
    assert _members(data[4]) == expected(4, 2)  # state does not leak between items


ERRORS = [
    (lambda t: PartnerSampler(t, k=1), CurateValueError,
     r"The 'k' parameter of PartnerSampler must be an int in the range \[2, inf\)"),
    (lambda t: PartnerSampler(t, max_factor=0.5), CurateValueError, "'max_factor' parameter"),
    (lambda t: PartnerSampler(t, seed=-1), CurateValueError, "'seed' parameter"),
    (lambda t: PartnerSampler(t, anchors="plan"), CurateValueError, "anchors='plan' needs a plan"),
    (lambda t: PartnerSampler(t, anchors="x"), CurateValueError, "'anchors' parameter"),
    (lambda t: PartnerSampler([["a"]]), CurateTypeError, "must be a curate.LabelTable"),
    (lambda t: PartnerSampler(t, plan="p"), CurateTypeError,
     "must be a curate.BalancePlan or None"),
    (lambda t: PartnerSampler(t, targets=[1.0]), CurateValueError,
     r"targets has shape \(1,\); pass one target per class, shape \(8,\)"),
    (lambda t: PartnerSampler(t, targets={"nope": 1}), CurateValueError,
     r"targets\['nope'\] names class 'nope' not in classes="),
    (lambda t: PartnerSampler(t, targets={"person": -1}), CurateValueError,
     r"targets\['person'\] is -1; pass a finite number >= 0"),
    (lambda t: PartnerSampler(t, targets="equal"), CurateTypeError, "'targets' parameter"),
    (lambda t: PartnerSampler(t, targets=np.zeros(8)), CurateValueError,
     "targets leave no class to balance"),
    (lambda t: PartnerSampler(t).partners(60), CurateValueError,
     r"index is 60; it must lie in \[0, 59\]"),
    (lambda t: PartnerSampler(t).partners(1, -1), CurateValueError, "epoch is -1"),
    (lambda t: PartnerSampler(t).partners(1.5), CurateTypeError, "index must be an int"),
    (lambda t: PartnerSampler(t).epoch_partners(0, [0, 99]), CurateValueError,
     r"indices holds 99"),
    (lambda t: effective_looks(t, PartnerSampler(t, k=2), k=4), CurateValueError,
     "k=4 differs from partner_sampler.k=2"),
    (lambda t: effective_looks(t, "uniform"), CurateTypeError,
     "must be a curate.augment.PartnerSampler"),
    (lambda t: effective_looks(t, PartnerSampler(curate.datasets.make_long_tailed(30, 8))),
     CurateValueError, "fitted on other labels"),
    (lambda t: PartnerDataset(_Images(5), PartnerSampler(t)), CurateValueError,
     "dataset has 5 samples but partner_sampler was built on 60"),
    (lambda t: PartnerDataset(_Images(60), PartnerSampler(t))[(1, 2, 3)], CurateValueError,
     "tuple of length 3"),
    (lambda t: attach_partners(_Images(60), PartnerSampler(t)), CurateTypeError,
     "get_image_and_label"),
    (lambda t: EpochTagSampler(5), CurateTypeError, "must be an iterable of indices"),
]


@pytest.mark.parametrize(("call", "exc", "match"), ERRORS)
def test_errors(table, call, exc, match):
    with pytest.raises(exc, match=match):
        call(table)


def test_attach_partners_needs_mix_transforms(table):
    data = _YoloLike(table.n_samples)
    data.transforms = _Compose([])
    with pytest.raises(CurateValueError, match="holds no transform with get_indexes"):
        attach_partners(data, PartnerSampler(table))


# ----------------------------------------------------------------------------- real data
@pytest.mark.datasets
def test_coco_goal():
    path = dataset_path("coco_val2017_detection")
    t = curate.io.read_table(path, column="labels", id_column="sample_id")
    ps = PartnerSampler(t, k=4)
    uni = effective_looks(t, None, k=4)
    rare = effective_looks(t, ps)
    rarest = t.counts.idxmin()
    assert rare[rarest] >= 3 * uni[rarest]
    assert _cv(rare) <= 0.7 * _cv(uni)
    assert isinstance(looks_table(t), pd.DataFrame)
