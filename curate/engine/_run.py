"""``label_pass``: run the per-partition label pass on Ray Data (or in-process) and reduce."""

from __future__ import annotations

import logging
import os
import time
import warnings
from typing import Any

import pandas as pd

from curate._validation import Interval, Options, validate_params
from curate.engine._labels import LabelPass, partitions, reduce_partials, update_partition

__all__ = ["label_pass"]


@validate_params({
    "engine": [Options(("ray", "local"))],
    "num_workers": [Interval(int, 1, None)],
    "rows_per_partition": [Interval(int, 1, None), None],
    "count": [Options(("instances", "samples"))],
})
def label_pass(
    path: str | os.PathLike[str],
    *,
    column: str,
    engine: str = "ray",
    num_workers: int = 2,
    rows_per_partition: int | None = None,
    count: str = "instances",
) -> LabelPass:
    """Count labels and label signatures of a parquet dataset, partition by partition.

    Each partition (a row group, or a slice of one) is read by one worker, which returns its
    distinct label vectors with their sizes and first global rows; the partials are reduced
    by key (size: sum, first row: min). The result is what one process would compute over
    the whole column — the same class counts as :func:`curate.count_labels` and the same
    groups as :func:`curate.balance._formulation.signatures` on the table's matrix, in the
    same order — while no process holds more than one partition.

    Parameters
    ----------
    path : str or path-like
        A parquet file, or a folder of ``*.parquet`` files (read in sorted path order).
    column : str
        Label column: scalars (single-label) or lists of labels.
    engine : {"ray", "local"}, default="ray"
        ``"ray"``: Ray Data tasks, whose partials stream back and are reduced here; uses
        the running Ray cluster when ``ray.init`` was called, else starts a local one with
        ``num_workers`` CPUs and shuts it down after. ``"local"``: the same functions in
        this process.
    num_workers : int, default=2
        CPUs of the local Ray cluster and concurrent map tasks.
    rows_per_partition : int, default=None
        Split row groups larger than this (``None``: one partition per row group).
    count : {"instances", "samples"}, default="instances"
        Signatures of instance counts, or of presence (a class counted once per row).

    Returns
    -------
    LabelPass

    Examples
    --------
    >>> import os, tempfile
    >>> import pyarrow as pa, pyarrow.parquet as pq
    >>> p = os.path.join(tempfile.mkdtemp(), "l.parquet")
    >>> pq.write_table(pa.table({"y": [["a"], ["b", "a"], ["a"], []]}), p)
    >>> lp = label_pass(p, column="y", engine="local", rows_per_partition=2)
    >>> lp.counts.to_dict(), lp.sizes.tolist(), lp.first_row.tolist()
    ({'a': 3, 'b': 1}, [2, 1, 1], [0, 1, 3])
    """
    started = time.perf_counter()
    parts = partitions(path, rows_per_partition=rows_per_partition)
    if engine == "local":
        partials = pd.concat([update_partition(p, column, count) for p in parts],
                             ignore_index=True)
        totals, rss = partials, _peak_rss(partials)
    else:
        totals, rss = _ray_pass(parts, column, count, num_workers)
    result = reduce_partials(totals, n_rows=sum(p.n_rows for p in parts),
                             n_partitions=len(parts), count=count)
    result.details.update(engine=engine, num_workers=num_workers,
                          seconds=time.perf_counter() - started, worker_peak_rss=rss)
    return result


#: combine the streamed partials once this many (key, size, first_row) rows are pending
_MERGE_EVERY = 1_000_000


def _combine(partials: pd.DataFrame) -> pd.DataFrame:
    """Sum sizes and take the first row per signature key (associative: any order)."""
    out = partials.groupby("key", sort=False).agg(size=("size", "sum"),
                                                  first_row=("first_row", "min"))
    return out.reset_index()


def _peak_rss(partials: pd.DataFrame) -> dict[int, int]:
    return {int(k): int(v) for k, v in partials.groupby("pid")["rss"].max().items()}


class _MapPartitions:
    """Ray Data map: one batch of partition descriptors -> their signature partials."""

    def __init__(self, column: str, count: str) -> None:
        self.column, self.count = column, count

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        from curate.engine._labels import Partition

        frames = [
            update_partition(Partition(str(r.path), int(r.row_group), int(r.start),
                                       int(r.stop), int(r.offset)), self.column, self.count)
            for r in batch.itertuples(index=False)
        ]
        return pd.concat(frames, ignore_index=True)


def _ray_pass(parts: list[Any], column: str, count: str,
              num_workers: int) -> tuple[pd.DataFrame, dict[int, int]]:
    with warnings.catch_warnings():
        # Ray's own modules warn about their internal settings (use_push_based_shuffle, ...):
        # nothing a caller of label_pass can act on
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"ray(\.|$)")
        warnings.filterwarnings("ignore", category=DeprecationWarning,
                                message=".*use_push_based_shuffle.*")
        return _ray_pass_inner(parts, column, count, num_workers)


def _ray_pass_inner(parts: list[Any], column: str, count: str,
                    num_workers: int) -> tuple[pd.DataFrame, dict[int, int]]:
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise ModuleNotFoundError(
            "label_pass(engine='ray') needs ray[data]. Install it with: "
            "pip install 'curate[engine]' (or pass engine='local')"
        ) from exc
    owned = not ray.is_initialized()
    if owned:
        ray.init(num_cpus=num_workers, include_dashboard=False, log_to_driver=False,
                 logging_level=logging.ERROR)
    try:
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False
        ctx.print_on_execution_start = False
        items = [{"path": p.path, "row_group": p.row_group, "start": p.start, "stop": p.stop,
                  "offset": p.offset} for p in parts]
        partials = ray.data.from_items(items, override_num_blocks=len(items)).map_batches(
            _MapPartitions(column, count), batch_size=1, batch_format="pandas",
            compute=ray.data.TaskPoolStrategy(size=num_workers))
        # the reduce runs here, as the partials stream in: its size is the number of distinct
        # signatures, which the balancer needs in one process anyway
        merged: list[pd.DataFrame] = []
        rss: dict[int, int] = {}
        pending = 0
        for raw in partials.iter_batches(batch_format="pandas", batch_size=None):
            batch = pd.DataFrame(raw)
            merged.append(batch[["key", "size", "first_row"]])
            for pid, peak in _peak_rss(batch).items():
                rss[pid] = max(rss.get(pid, 0), peak)
            pending += len(batch)
            if pending > _MERGE_EVERY:
                merged, pending = [_combine(pd.concat(merged, ignore_index=True))], 0
        return pd.concat(merged, ignore_index=True), rss
    finally:
        if owned:
            ray.shutdown()
