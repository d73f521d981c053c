"""Lightning keeps our sampler with ``use_distributed_sampler=False`` (no double sharding)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, Dataset

from curate.balance import BalancePlan
from curate.labels import LabelTable
from curate.sampler import BalancedSampler

pl = pytest.importorskip("lightning.pytorch")

pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning"),  # Lightning's hints about workers, logging
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),  # Lightning 2.6 vs torch 2.13 pytree
]


class _Echo(Dataset):
    def __len__(self) -> int:
        return 30

    def __getitem__(self, i: int) -> torch.Tensor:
        return torch.tensor([float(i)])


class _Recorder(pl.LightningModule):
    def __init__(self, loader: DataLoader) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(1, 1)
        self.loader = loader
        self.seen: dict[int, list[int]] = {}

    def train_dataloader(self) -> DataLoader:
        return self.loader

    def training_step(self, batch: torch.Tensor, batch_idx: int) -> torch.Tensor:
        self.seen.setdefault(self.current_epoch, []).extend(batch[:, 0].long().tolist())
        return self.layer(batch).sum()

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.0)


def _plan() -> BalancePlan:
    rng = np.random.default_rng(0)
    table = LabelTable.from_labels([["a"] if rng.random() < 0.7 else ["b"] for _ in range(30)])
    return BalancePlan.from_multiplicity(table, rng.integers(0, 3, size=30),
                                         group=rng.integers(0, 5, size=30))


def _trainer(**kw):
    return pl.Trainer(accelerator="cpu", max_epochs=3, logger=False, enable_checkpointing=False,
                      enable_progress_bar=False, enable_model_summary=False, **kw)


def test_fit_iterates_our_epochs_and_calls_set_epoch():
    sampler = BalancedSampler(_plan())
    model = _Recorder(DataLoader(_Echo(), batch_size=4, sampler=sampler))
    _trainer(devices=1, use_distributed_sampler=False).fit(model)
    assert sorted(model.seen) == [0, 1, 2]
    for epoch, seen in model.seen.items():
        assert seen == sampler.epoch_indices(epoch).tolist()  # Lightning called set_epoch
    assert model.seen[0] != model.seen[1]


@pytest.mark.parametrize("use_distributed_sampler", [False, True])
def test_ddp_trainer_does_not_wrap_our_sampler(use_distributed_sampler):
    """The decision Lightning takes when it sets up a DDP run (checked without launching it)."""
    from lightning.pytorch.trainer.states import RunningStage

    trainer = _trainer(devices=2, strategy="ddp", use_distributed_sampler=use_distributed_sampler)
    sampler = BalancedSampler(_plan(), num_replicas=2, rank=0)
    loader = DataLoader(_Echo(), batch_size=4, sampler=sampler)
    prepared = trainer._data_connector._prepare_dataloader(
        loader, shuffle=True, mode=RunningStage.TRAINING
    )
    if use_distributed_sampler:  # the default: Lightning would shard our shard again
        assert prepared is not loader and prepared.sampler is not sampler
    else:
        assert prepared is loader and prepared.sampler is sampler
        assert len(prepared.sampler) == len(sampler.epoch_indices()) // 2
