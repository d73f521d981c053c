"""``label_pass``: run the per-partition label pass on Ray Data (or in-process) and reduce."""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd

from curate._validation import Interval, Options, validate_params
from curate.engine._labels import (
    LabelPass,
    Partition,
    _cut,
    _files,
    _Reducer,
    update_partition,
)
from curate.exceptions import CurateValueError
from curate.io._common import check_label_column

__all__ = ["import_ray", "label_pass", "run_partitions"]


@validate_params({
    "engine": [Options(("ray", "local"))],
    "num_workers": [Interval(int, 1, None)],
    "rows_per_partition": [Interval(int, 1, None), None],
    "count": [Options(("instances", "samples"))],
    "ignore_index": [Interval(int, None, None)],
})
def label_pass(
    path: str | os.PathLike[str],
    *,
    column: str,
    engine: str = "ray",
    num_workers: int = 2,
    rows_per_partition: int | None = None,
    count: str = "instances",
    ignore_index: int = -100,
) -> LabelPass:
    """Count labels and label signatures of a parquet dataset, partition by partition.

    Each partition (a row group, or a slice of one) is read by one worker, which returns its
    distinct label vectors with their sizes and first global rows; the partials are reduced
    by key (size: sum, first row: min). The result is what one process would compute over
    the whole column — the same class counts as :func:`curate.count_labels` and the same
    groups as :func:`curate.balance._formulation.signatures` on the table's matrix, in the
    same order — while no process holds more than one partition.

    Files are found and ordered as those readers find them (``pyarrow.dataset``: names
    starting with ``_`` or ``.`` skipped), labels named as a :class:`~curate.LabelTable`
    names them (integral floats as integers, ``ignore_index`` dropped), and a label column
    of another kind in one file than in another (numbers in one, strings in another) is
    refused before any partition is read.

    Parameters
    ----------
    path : str or path-like
        A parquet file, or a folder of parquet files (a pyarrow dataset).
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
    ignore_index : int, default=-100
        Integer label that is never a class (Hugging Face padding), dropped as
        :func:`curate.io.read_table` and :func:`curate.count_labels` drop it: its rows keep
        their other labels (a row of it only is a row without labels).

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
    files = _files(path)
    check_label_column(files, column)
    parts = _cut(files, rows_per_partition)
    reducer = _Reducer(len(parts))
    for index, frame in run_partitions(_LabelTask(column, count, ignore_index), parts,
                                       engine=engine, num_workers=num_workers):
        reducer.add(index, frame)
    result = reducer.result(parts, count)
    result.details.update(engine=engine, num_workers=num_workers, column=column,
                          ignore_index=ignore_index, seconds=time.perf_counter() - started,
                          worker_peak_rss=reducer.rss)
    return result


class _LabelTask:
    """One partition -> its signature partial (picklable: shipped to Ray workers)."""

    def __init__(self, column: str, count: str, ignore_index: int) -> None:
        self.column, self.count, self.ignore_index = column, count, ignore_index

    def __call__(self, index: int, part: Partition) -> pd.DataFrame:
        return update_partition(part, self.column, self.count, self.ignore_index)


def run_partitions(task: Callable[[int, Partition], pd.DataFrame], parts: list[Partition], *,
                   engine: str = "local",
                   num_workers: int = 2) -> Iterator[tuple[int, pd.DataFrame]]:
    """Run ``task(index, partition)`` on every partition; yield ``(index, frame)`` as each
    finishes.

    ``engine="local"`` runs in this process, in order; ``"ray"`` runs one Ray Data task per
    partition (at most ``num_workers`` at a time) and yields in completion order, each
    partition's frame whole. ``task`` must be picklable (a module-level function or an
    instance of a module-level class).

    Parameters
    ----------
    task : callable
        ``(int, Partition) -> pandas.DataFrame``.
    parts : list of Partition
        The partitions.
    engine : {"ray", "local"}, default="local"
        Where to run.
    num_workers : int, default=2
        Concurrent Ray tasks (and CPUs of a local Ray cluster started here).

    Yields
    ------
    tuple of (int, pandas.DataFrame)

    Examples
    --------
    >>> parts = [Partition("a.parquet", 0, 0, 3, 0), Partition("a.parquet", 0, 3, 5, 3)]
    >>> rows = lambda i, p: pd.DataFrame({"n": [p.n_rows]})
    >>> [(i, int(f["n"][0])) for i, f in run_partitions(rows, parts)]
    [(0, 3), (1, 2)]
    """
    if engine == "local":
        for index, part in enumerate(parts):
            yield index, task(index, part)
        return
    if engine != "ray":
        raise CurateValueError(f"engine must be 'ray' or 'local'; got {engine!r}")
    with warnings.catch_warnings():
        # Ray's own modules warn about their internal settings (use_push_based_shuffle, ...):
        # nothing a caller can act on
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"ray(\.|$)")
        warnings.filterwarnings("ignore", category=DeprecationWarning,
                                message=".*use_push_based_shuffle.*")
        yield from _ray_run(task, parts, num_workers)


def import_ray(what: str) -> Any:
    """``ray`` with ``ray.data``, or a ModuleNotFoundError that says how to install it."""
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise ModuleNotFoundError(
            f"{what} needs ray[data]. Install it with: pip install 'curate[engine]' "
            "(or pass engine='local')"
        ) from exc
    return ray


class _MapPartitions:
    """Ray Data map: one batch of partition descriptors -> their task frames, tagged with the
    partition index, the row's position in the frame and the frame's length (a frame may
    come back split over several blocks)."""

    def __init__(self, task: Callable[[int, Partition], pd.DataFrame]) -> None:
        self.task = task

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        frames = []
        for r in batch.itertuples(index=False):
            frame = self.task(int(r.index), Partition(str(r.path), int(r.row_group), int(r.start),
                                        int(r.stop), int(r.offset)))
            n = len(frame)
            frames.append(frame.assign(_part=np.full(n, int(r.index), dtype=np.int64),
                                       _pos=np.arange(n, dtype=np.int64),
                                       _len=np.full(n, n, dtype=np.int64)))
        return pd.concat(frames, ignore_index=True)


def _ray_run(task: Callable[[int, Partition], pd.DataFrame], parts: list[Partition],
             num_workers: int) -> Iterator[tuple[int, pd.DataFrame]]:
    ray = import_ray("engine='ray'")
    owned = not ray.is_initialized()
    if owned:
        ray.init(num_cpus=num_workers, include_dashboard=False, log_to_driver=False,
                 logging_level=logging.ERROR)
    try:
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False
        ctx.print_on_execution_start = False
        items = [{"index": i, "path": p.path, "row_group": p.row_group, "start": p.start,
                  "stop": p.stop, "offset": p.offset} for i, p in enumerate(parts)]
        frames = ray.data.from_items(items, override_num_blocks=len(items)).map_batches(
            _MapPartitions(task), batch_size=1, batch_format="pandas",
            compute=ray.data.TaskPoolStrategy(size=num_workers))
        pending: dict[int, list[pd.DataFrame]] = {}
        for raw in frames.iter_batches(batch_format="pandas", batch_size=None):
            batch = pd.DataFrame(raw)
            for index, piece in batch.groupby("_part", sort=False):
                got = pending.setdefault(int(index), [])
                got.append(piece)
                if sum(len(g) for g in got) == int(piece["_len"].iloc[0]):
                    whole = pd.concat(pending.pop(int(index))).sort_values("_pos")
                    yield int(index), whole.drop(columns=["_part", "_pos", "_len"]) \
                        .reset_index(drop=True)
        if pending:  # pragma: no cover - a partition that came back in part
            raise CurateValueError(f"partitions {sorted(pending)[:5]} came back incomplete")
    finally:
        if owned:
            ray.shutdown()
