"""Balanced epochs as Ray Datasets for Ray Train (Ray imported lazily; ``curate[engine]``).

===============  ==================================================================
``read``         the source rows of a partitioned manifest, one task per partition,
                 with the manifest's ``row``, ``group`` and ``rank`` columns attached
                 (a source whose labels changed since the manifest is refused)
``balance``      a dataset whose rows are repeated or dropped per epoch: exactly
                 ``GroupPlan.draw_rows(epoch, group, rank)`` copies of every row
===============  ==================================================================

A row's copies are a pure function of (plan, epoch, group, member rank), so ``balance`` is a
``map_batches`` that works with any block layout; the per-epoch state shipped to the
workers is four arrays of ``n_groups``. Copies of a row come out next to each other: shuffle
with ``ds.random_shuffle(seed=...)`` or ``iter_batches(local_shuffle_buffer_size=...)``.

Examples
--------
>>> import curate.ray  # does not import Ray
"""

from __future__ import annotations

from typing import Any

import numpy as np

from curate._validation import check_epoch
from curate.balance._draw import EpochState
from curate.engine._manifest import Manifest, repeat_rows
from curate.engine._plan import GroupPlan
from curate.engine._run import import_ray
from curate.exceptions import CurateTypeError, CurateValueError

__all__ = ["balance", "read"]


class _ReadPartition:
    """Ray Data map: partition indices -> the source rows with row, group, rank."""

    def __init__(self, manifest: Manifest, columns: list[str] | None) -> None:
        self.manifest, self.columns = manifest, columns

    def __call__(self, batch: dict[str, np.ndarray]) -> Any:
        import pyarrow as pa

        tables = [self.manifest.read_partition(int(i), self.columns) for i in batch["index"]]
        return pa.concat_tables(tables)


class _Repeat:
    """Ray Data map: repeat every row of a batch its number of copies this epoch."""

    def __init__(self, state: EpochState, group: str, rank: str) -> None:
        self.state, self.group, self.rank = state, group, rank

    def __call__(self, batch: Any) -> Any:
        copies = self.state.draw(batch.column(self.group).to_numpy(),
                                 batch.column(self.rank).to_numpy())
        return repeat_rows(batch, copies)


def read(manifest: Manifest, *, columns: list[str] | None = None) -> Any:
    """The source rows of every partition, with ``row``, ``group`` and ``rank`` appended.

    One Ray task per partition reads its slice of the source parquet and its part file
    (checksum verified), after checking the slice's labels against the checksum the manifest
    stored (:meth:`curate.engine.Manifest.check_source`): a source that changed since the
    manifest was written fails the task, naming the partition. The check reads the label
    column, so each execution of the dataset pays it: ``.materialize()`` the result to read
    the source once.

    Parameters
    ----------
    manifest : Manifest
        From :func:`curate.engine.write_manifest` or :meth:`curate.engine.Manifest.load`.
    columns : list of str, default=None
        Source columns to read (``None``: all).

    Returns
    -------
    ray.data.Dataset

    Examples
    --------
    >>> import curate.ray
    >>> curate.ray.read("plan/")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    curate.exceptions.CurateTypeError: manifest must be a curate.engine.Manifest; got str. ...
    """
    if not isinstance(manifest, Manifest):
        raise CurateTypeError(
            f"manifest must be a curate.engine.Manifest; got {type(manifest).__name__}. Load "
            "one with curate.engine.Manifest.load(folder)"
        )
    ray = import_ray("curate.ray.read")
    items = [{"index": i} for i in range(manifest.n_partitions)]
    return ray.data.from_items(items, override_num_blocks=max(len(items), 1)).map_batches(
        _ReadPartition(manifest, columns), batch_size=1, batch_format="numpy")


def balance(ds: Any, plan: GroupPlan | Manifest, epoch: int, *, group_column: str = "group",
            rank_column: str = "rank") -> Any:
    """``ds`` with every row repeated its number of copies in ``epoch`` (0: dropped).

    Row for row equal to the single-machine ``BalancePlan.draw(epoch)``: the epoch's class
    totals are the plan's exactly, whatever the blocks and workers.

    Parameters
    ----------
    ds : ray.data.Dataset
        Rows carrying the manifest's group and member-rank columns (:func:`read`).
    plan : GroupPlan or Manifest
        The plan (a manifest's ``plan``).
    epoch : int
        Non-negative epoch.
    group_column, rank_column : str, default="group", "rank"
        Column names of the group id and member rank.

    Returns
    -------
    ray.data.Dataset
        Lazy; copies of a row are adjacent (shuffle before training).

    Examples
    --------
    >>> import curate.ray
    >>> curate.ray.balance(None, None, 0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    curate.exceptions.CurateTypeError: plan must be a curate.engine.GroupPlan or Manifest; ...
    """
    if isinstance(plan, Manifest):
        plan = plan.plan
    if not isinstance(plan, GroupPlan):
        raise CurateTypeError(
            f"plan must be a curate.engine.GroupPlan or Manifest; got {type(plan).__name__}")
    epoch = check_epoch(epoch, "curate.ray.balance")
    ray = import_ray("curate.ray.balance")
    if not isinstance(ds, ray.data.Dataset):
        raise CurateTypeError(f"ds must be a ray.data.Dataset; got {type(ds).__name__}. "
                              "Make one with curate.ray.read(manifest)")
    names = ds.schema().names
    missing = [c for c in (group_column, rank_column) if c not in names]
    if missing:
        raise CurateValueError(
            f"ds has no column {missing[0]!r} (columns: {names}); read it with "
            "curate.ray.read(manifest) or pass group_column=/rank_column="
        )
    return ds.map_batches(_Repeat(plan.epoch_state(epoch), group_column, rank_column),
                          batch_format="pyarrow", zero_copy_batch=True)
