"""``count_labels``: per-class counts of a parquet dataset too large to load, in record batches."""

from __future__ import annotations

import os
import sys
from typing import Any

import pandas as pd

from curate._validation import InstanceOf, Interval, validate_params
from curate.exceptions import CurateValueError
from curate.io._common import check_label_column, existing_path, schema_hint
from curate.labels._constructors import refuse_multi_hot
from curate.stats import _compute_counts, _merge_counts, _update_values

__all__ = ["count_labels"]

#: merge the buffered per-batch counts once this many (value, count) rows are pending
_MERGE_EVERY = 1_000_000


@validate_params(
    {"batch_size": [Interval(int, 1, None)], "progress": [InstanceOf((bool,), "a bool")],
     "ignore_index": [Interval(int, None, None)]}
)
def count_labels(
    path: str | os.PathLike[str],
    *,
    column: str,
    batch_size: int = 1 << 17,
    progress: bool = True,
    ignore_index: int = -100,
) -> pd.Series:
    """Count labels per class in a parquet file or folder, one record batch at a time.

    Memory stays flat: only one batch of ``batch_size`` rows and the running counts are
    held. Each batch is counted by a pure ``_update`` (pyarrow ``list_flatten`` +
    ``value_counts``, or a ``bincount`` of dictionary indices when the column is
    dictionary-encoded, which is how string columns are read here) and the per-batch
    counts are summed, so the result equals counting the whole column at once.

    Parameters
    ----------
    path : str or path-like
        A parquet file, or a folder of parquet files (a pyarrow dataset).
    column : str
        Label column: scalars, or lists of labels (repeats count as more instances).
    batch_size : int, default=131072
        Rows per record batch.
    progress : bool, default=True
        Show a tqdm progress bar (rows) on stderr when it is a terminal.
    ignore_index : int, default=-100
        Integer label that is not a class (Hugging Face's padding id), dropped as
        :func:`read_table` drops it.

    Returns
    -------
    pandas.Series
        Count per class, indexed by class name in the order :class:`~curate.LabelTable`
        uses (numbers numerically, then strings), so it equals
        ``read_table(path, column=column).counts`` for classes that occur.

    Raises
    ------
    CurateValueError
        When the column is missing, holds a null label or a non-integral float label, or the
        dataset has no rows.

    Examples
    --------
    >>> import os, tempfile
    >>> import pyarrow as pa, pyarrow.parquet as pq
    >>> p = os.path.join(tempfile.mkdtemp(), "labels.parquet")
    >>> pq.write_table(pa.table({"labels": [["cat", "dog"], ["dog"], []]}), p)
    >>> count_labels(p, column="labels", progress=False).to_dict()
    {'cat': 1, 'dog': 2}
    """
    import pyarrow as pa

    p = existing_path(path, "path")
    dataset = _open(p, column)
    n_rows = dataset.count_rows()
    if n_rows == 0:
        raise CurateValueError(f"{p.name} has 0 rows; pass a non-empty dataset")
    scanner = dataset.scanner(columns=[column], batch_size=batch_size, use_threads=True)
    bar = _progress(n_rows, progress and sys.stderr.isatty())
    parts: list[pd.Series] = []
    pending = 0
    try:
        for i, batch in enumerate(scanner.to_batches()):
            if i == 0:
                refuse_multi_hot(batch.column(0), column, "count_labels")
            part = _update_values(batch.column(0))
            parts.append(part)
            pending += len(part)
            if pending > _MERGE_EVERY:
                parts, pending = [_merge_counts(parts)], 0
            bar.update(batch.num_rows)
    except (pa.ArrowException, OSError) as exc:
        raise CurateValueError(f"{p.name} could not be read ({exc}){schema_hint(p)}") from exc
    finally:
        bar.close()
    return _compute_counts(_merge_counts(parts), ignore_index, f"{p.name}[{column!r}]")


def _open(p: Any, column: str) -> Any:
    import pyarrow as pa
    import pyarrow.dataset as ds

    try:
        dataset = ds.dataset(p, format="parquet")
    except (pa.ArrowException, OSError) as exc:
        raise CurateValueError(f"{p.name} is not a readable parquet dataset ({exc})") from exc
    schema = dataset.schema
    if column not in schema.names:
        raise CurateValueError(
            f"column {column!r} is not in {p.name} (columns: {schema.names}); pass one of them"
        )
    if len(dataset.files) > 1:  # pyarrow would cast "1" to 1 or refuse, by file order
        check_label_column(list(dataset.files), column)
    t = schema.field(column).type
    path = column
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        path, t = f"{column}.list.{t.value_field.name}", t.value_type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        # read strings dictionary-encoded: counting becomes a bincount of small ints
        fmt = ds.ParquetFileFormat(read_options={"dictionary_columns": [path]})
        return ds.dataset(p, format=fmt)
    return ds.dataset(p, format="parquet")


def _progress(total: int, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="rows", disable=not enabled, desc="counting labels")
