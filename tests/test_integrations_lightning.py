"""curate.integrations.lightning: BalancedEpochCallback.

tests/test_sampler_lightning.py already shows that Lightning calls ``set_epoch`` on
``loader.sampler`` and leaves the sampler alone with ``use_distributed_sampler=False``; this
file covers what the callback adds: samplers Lightning does not reach, and the DDP checks.
"""

from __future__ import annotations

import doctest

import numpy as np
import pytest
import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset

import curate
from curate.balance import BalancePlan
from curate.integrations import lightning as cil
from curate.labels import LabelTable

pl = pytest.importorskip("lightning.pytorch", reason="needs lightning (the dev extra)")
from test_sampler_lightning import _Recorder  # noqa: E402  (one recorder module)

pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning"),  # Lightning's hints about workers, logging
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),  # Lightning 2.6 vs torch 2.13 pytree
]

N = 30


class _Echo(Dataset):
    def __len__(self) -> int:
        return N

    def __getitem__(self, i: int) -> torch.Tensor:
        return torch.tensor([float(i)])


class _Bucketed:
    """A batch sampler wrapping a BatchSampler (as bucketing samplers do): Lightning's
    set_epoch looks at ``batch_sampler.sampler`` only, so it never reaches ours."""

    def __init__(self, batches: BatchSampler) -> None:
        self.batch_sampler = batches

    def __iter__(self):
        return iter(self.batch_sampler)

    def __len__(self) -> int:
        return len(self.batch_sampler)


def _table() -> LabelTable:
    rng = np.random.default_rng(1)
    return LabelTable.from_labels([["a"] if rng.random() < 0.75 else ["b"] for _ in range(N)])


def _plan() -> BalancePlan:
    return curate.InterClassBalancer(seed=0).fit(_table())


def _trainer(callbacks, **kw):
    return pl.Trainer(accelerator="cpu", devices=1, max_epochs=2, logger=False,
                      enable_checkpointing=False, enable_progress_bar=False,
                      enable_model_summary=False, use_distributed_sampler=False,
                      callbacks=callbacks, **kw)


def _nested_loader(sampler) -> DataLoader:
    return DataLoader(_Echo(), batch_sampler=_Bucketed(BatchSampler(sampler, 4, False)))


def test_callback_draws_plan_epochs_for_a_nested_sampler():
    plan = _plan()
    sampler = curate.BalancedSampler(plan)
    model = _Recorder(_nested_loader(sampler))
    callback = cil.BalancedEpochCallback()
    _trainer([callback]).fit(model)
    assert sorted(model.seen) == [0, 1]
    for epoch in (0, 1):
        assert model.seen[epoch] == sampler.epoch_indices(epoch).tolist()
        assert np.bincount(model.seen[epoch], minlength=N).tolist() == plan.draw(epoch).tolist()
        # oracle: the label matrix weighted by the epoch's draw
        totals = np.asarray(_table().matrix.T @ plan.draw(epoch)).ravel()
        assert callback.class_totals[epoch].tolist() == totals.tolist()
    assert model.seen[0] != model.seen[1]


def test_without_the_callback_the_nested_sampler_repeats_epoch_zero():
    """The control: what the callback fixes (Lightning does not reach the sampler)."""
    sampler = curate.BalancedSampler(_plan())
    model = _Recorder(_nested_loader(sampler))
    _trainer([]).fit(model)
    assert model.seen[0] == model.seen[1] == sampler.epoch_indices(0).tolist()


def test_callback_refuses_a_loader_without_curate_sampler():
    model = _Recorder(DataLoader(_Echo(), batch_size=4))
    with pytest.raises(ValueError, match="no curate sampler"):
        _trainer([cil.BalancedEpochCallback()]).fit(model)


def _ddp_trainer(use_distributed_sampler):
    return pl.Trainer(accelerator="cpu", devices=2, strategy="ddp", logger=False,
                      use_distributed_sampler=use_distributed_sampler,
                      enable_progress_bar=False)


def test_ddp_with_distributed_sampler_is_refused():
    loader = DataLoader(_Echo(), batch_size=4,
                        sampler=curate.BalancedSampler(_plan(), num_replicas=2, rank=0))
    cb = cil.BalancedEpochCallback()
    with pytest.raises(ValueError, match="use_distributed_sampler=False"):
        cb.check(_ddp_trainer(True), loader)
    assert cb.check(_ddp_trainer(False), loader) == [loader.sampler]


def test_ddp_sampler_built_for_one_process_is_refused():
    loader = DataLoader(_Echo(), batch_size=4, sampler=curate.BalancedSampler(_plan()))
    with pytest.raises(ValueError, match=r"num_replicas=1, rank=0 but this process is rank 0 "
                                         r"of 2"):
        cil.BalancedEpochCallback().check(_ddp_trainer(False), loader)


def test_find_curate_samplers_walks_lists_and_skips_others():
    a = curate.BalancedSampler(_plan())
    w = curate.WeightedSampler(np.ones(N), num_samples=N)
    loaders = [DataLoader(_Echo(), sampler=a), _nested_loader(w), DataLoader(_Echo())]
    assert cil.find_curate_samplers(loaders) == [a, w]
    assert cil.find_curate_samplers(DataLoader(_Echo())) == []


def test_callback_docstring_runs():
    """The class is built lazily, so --doctest-modules does not see its example."""
    cls = cil.BalancedEpochCallback
    assert cls.__module__ == "curate.integrations.lightning"
    runner = doctest.DocTestRunner()
    tests = doctest.DocTestFinder().find(cls, "BalancedEpochCallback", globs={})
    assert tests and all(runner.run(t).failed == 0 for t in tests)


def test_importing_the_integrations_imports_no_framework():
    import subprocess
    import sys

    code = ("import sys, curate.integrations.transformers, curate.integrations.lightning; "
            "print(sorted(m for m in ('transformers', 'lightning', 'accelerate', 'datasets') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=600)
    assert out.stdout.strip() == "[]"


def test_callback_refuses_a_plan_whose_epochs_differ_in_size():
    # Lightning fixes the batches per epoch at the first epoch: a longer later epoch was cut
    # short in silence (repeat factors with stochastic rounding draw 36..39 copies)
    from curate.balance.baselines import repeat_factor

    plan = repeat_factor(_table(), threshold=0.5)
    assert not plan.constant_epoch_size
    loader = DataLoader(_Echo(), batch_size=4, sampler=curate.BalancedSampler(plan))
    with pytest.raises(ValueError, match="same number of copies every epoch"):
        cil.BalancedEpochCallback().check(_trainer([]), loader)
