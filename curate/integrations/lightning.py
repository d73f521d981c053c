"""Lightning: keep a curate sampler on its planned epochs, and refuse a DDP setup that breaks it.

Lightning already calls ``set_epoch`` on ``loader.sampler`` and ``loader.batch_sampler.sampler``
at every epoch start. Two things still go wrong silently:

* under DDP with the default ``use_distributed_sampler=True``, Lightning wraps the sampler in a
  ``DistributedSamplerWrapper`` and shards the rank's shard a second time;
* a sampler nested deeper (a bucketing or packing batch sampler around a ``BatchSampler``)
  never gets ``set_epoch``, so every epoch repeats the draw of epoch 0.

``BalancedEpochCallback`` checks the first at ``on_train_start`` (and that the sampler was
built for this rank) and fixes the second at every ``on_train_epoch_start``. It is built on
first access, so importing this module does not import Lightning.

Recipe (DDP)::

    trainer = L.Trainer(strategy="ddp", devices=4, use_distributed_sampler=False,
                        callbacks=[BalancedEpochCallback()])

with the ``BalancedSampler`` built inside ``train_dataloader()`` (or ``setup()``), where the
process group exists, so it reads its rank and world size.
"""

from __future__ import annotations

from typing import Any

from curate.exceptions import CurateValueError

# BalancedEpochCallback is built on first access (module __getattr__): lightning stays unimported
__all__ = ["BalancedEpochCallback", "find_curate_samplers"]  # noqa: F822


def find_curate_samplers(loader: Any) -> list[Any]:
    """The curate samplers inside a dataloader, however deeply wrapped.

    Follows ``sampler``, ``batch_sampler`` and ``dataset`` attributes (and Lightning's
    ``CombinedLoader.flattened``), so a sampler inside a custom batch sampler is found.

    Parameters
    ----------
    loader : object
        A ``DataLoader``, a batch sampler, a Lightning ``CombinedLoader``, or a list of them.

    Returns
    -------
    list of BalancedSampler or WeightedSampler
        Each sampler once, in the order found.

    Examples
    --------
    >>> import torch
    >>> from curate.sampler import WeightedSampler
    >>> from curate.integrations.lightning import find_curate_samplers
    >>> s = WeightedSampler([1.0, 2.0, 3.0], num_samples=3)
    >>> class Bucketed:  # a batch sampler Lightning's set_epoch does not look into
    ...     def __init__(self, batches): self.batch_sampler = batches
    ...     def __iter__(self): return iter(self.batch_sampler)
    >>> inner = torch.utils.data.BatchSampler(s, batch_size=2, drop_last=False)
    >>> loader = torch.utils.data.DataLoader(range(3), batch_sampler=Bucketed(inner))
    >>> find_curate_samplers(loader) == [s]
    True
    """
    from curate.sampler import BalancedSampler, WeightedSampler

    found: dict[int, Any] = {}
    seen: set[int] = set()
    stack = [loader]
    while stack:
        obj = stack.pop()
        if obj is None or id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, (BalancedSampler, WeightedSampler)):
            found.setdefault(id(obj), obj)
            continue
        if isinstance(obj, (list, tuple)):
            stack.extend(reversed(obj))
            continue
        flattened = getattr(type(obj), "flattened", None)
        if isinstance(flattened, property):
            stack.extend(reversed(list(obj.flattened)))
            continue
        for attr in ("dataset", "batch_sampler", "sampler"):  # popped in reverse order
            child = getattr(obj, attr, None)
            if child is not None and not isinstance(child, (str, bytes, int, float)):
                stack.append(child)
    return list(found.values())


def _check(trainer: Any, loader: Any) -> list[Any]:
    from curate.integrations._common import check_constant_size
    from curate.sampler import BalancedSampler

    samplers = find_curate_samplers(loader)
    if not samplers:
        raise CurateValueError(
            "BalancedEpochCallback found no curate sampler in the train dataloader; pass "
            "sampler=curate.BalancedSampler(plan) to the DataLoader of train_dataloader()"
        )
    for s in samplers:
        if isinstance(s, BalancedSampler):
            check_constant_size(s.plan, "BalancedEpochCallback", "Lightning")
    world = int(getattr(trainer, "world_size", 1))
    if world > 1:
        connector = getattr(trainer, "_accelerator_connector", None)
        if getattr(connector, "use_distributed_sampler", False):
            raise CurateValueError(
                f"Lightning runs {world} processes with use_distributed_sampler=True, so it "
                "shards the curate sampler's shard a second time; pass "
                "L.Trainer(..., use_distributed_sampler=False)"
            )
        rank = int(getattr(trainer, "global_rank", 0))
        for s in samplers:
            if (s.num_replicas, s.rank) != (world, rank):
                raise CurateValueError(
                    f"the curate sampler was built for num_replicas={s.num_replicas}, "
                    f"rank={s.rank} but this process is rank {rank} of {world}; build it in "
                    "train_dataloader() or setup() (after the process group exists) or pass "
                    "num_replicas=trainer.world_size, rank=trainer.global_rank"
                )
    return samplers


class _CallbackMixin:
    """The hooks of ``BalancedEpochCallback``, independent of Lightning's base class."""

    class_totals: dict[int, Any]

    def check(self, trainer: Any, loader: Any) -> list[Any]:
        """Check ``loader`` for a curate sampler set up for ``trainer``; return the samplers.

        Parameters
        ----------
        trainer : lightning.pytorch.Trainer
            The trainer (its world size, rank and ``use_distributed_sampler``).
        loader : object
            The train dataloader (or Lightning's ``CombinedLoader``).

        Returns
        -------
        list of BalancedSampler or WeightedSampler
        """
        return _check(trainer, loader)

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        """Run :meth:`check` on the train dataloader before the first epoch.

        Parameters
        ----------
        trainer : lightning.pytorch.Trainer
            The trainer.
        pl_module : lightning.pytorch.LightningModule
            The module (unused).
        """
        self.check(trainer, trainer.train_dataloader)

    def on_train_epoch_start(self, trainer: Any, pl_module: Any) -> None:
        """Call ``set_epoch(trainer.current_epoch)`` on every curate sampler found.

        Parameters
        ----------
        trainer : lightning.pytorch.Trainer
            The trainer.
        pl_module : lightning.pytorch.LightningModule
            The module (unused).
        """
        from curate.sampler import BalancedSampler

        epoch = int(trainer.current_epoch)
        for s in find_curate_samplers(trainer.train_dataloader):
            s.set_epoch(epoch)
            if isinstance(s, BalancedSampler):
                self.class_totals[epoch] = s.class_totals(epoch)


_DOC = """Lightning callback: ``set_epoch`` on nested curate samplers, DDP setup checked.

    At ``on_train_start`` it finds the curate samplers of the train dataloader (see
    :func:`find_curate_samplers`) and raises ``ValueError`` when there is none, when a
    multi-process run has ``use_distributed_sampler=True``, or when a sampler was built for
    another rank or world size. At every ``on_train_epoch_start`` it calls
    ``set_epoch(trainer.current_epoch)`` on each (harmless where Lightning already did) and
    records the epoch's planned class totals.

    Attributes
    ----------
    class_totals : dict of {int: pandas.Series}
        Per epoch, the class totals a :class:`~curate.BalancedSampler` drew.

    Examples
    --------
    >>> import lightning.pytorch as pl
    >>> from curate.integrations.lightning import BalancedEpochCallback
    >>> trainer = pl.Trainer(accelerator="cpu", use_distributed_sampler=False, logger=False,
    ...                      callbacks=[BalancedEpochCallback()], enable_progress_bar=False)
    >>> any(isinstance(c, BalancedEpochCallback) for c in trainer.callbacks)
    True
    """

_CLASS: type | None = None


def _callback_class() -> type:
    global _CLASS
    if _CLASS is None:
        from curate._optional import require

        pl = require("lightning.pytorch", "curate.integrations.lightning")

        def __init__(self: Any) -> None:
            pl.Callback.__init__(self)
            self.class_totals = {}

        cls = type("BalancedEpochCallback", (_CallbackMixin, pl.Callback), {
            "__module__": __name__, "__doc__": _DOC, "__init__": __init__})
        cls.__qualname__ = "BalancedEpochCallback"
        _CLASS = cls
    return _CLASS


def __getattr__(name: str) -> Any:
    if name == "BalancedEpochCallback":
        return _callback_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
