"""pandas / pyarrow columns to a table: the vectorised path used for big tabular data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from curate._validation import data_error
from curate.exceptions import CurateTypeError, CurateValueError
from curate.labels._base import _check_background_in, _class_names

if TYPE_CHECKING:
    from curate.labels._table import LabelTable


def frame_column(frame: Any, column: Any, field: str) -> Any:
    """One column of a DataFrame / pyarrow Table as a (combined, decoded) pyarrow array."""
    import pyarrow as pa

    if isinstance(frame, pd.DataFrame):
        names = [str(c) for c in frame.columns]
    elif isinstance(frame, pa.Table | pa.RecordBatch):
        names = list(frame.column_names)
    else:
        raise CurateTypeError(
            f"frame must be a pandas DataFrame or a pyarrow Table; got {type(frame).__name__}"
        )
    if column not in names:
        raise data_error(field, column, f"is {column!r}, not a column of the data ({names})",
                         f"pass one of {names}")
    if isinstance(frame, pd.DataFrame):
        series = frame[column]
        if isinstance(series.dtype, pd.CategoricalDtype):
            series = series.astype(series.cat.categories.dtype)
        try:
            arr = pa.array(series, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
            raise data_error(f"frame[{column!r}]", None, "mixes lists and scalars or holds "
                             "values of several types", "use one list or one label per row"
                             ) from exc
    else:
        arr = frame.column(column)
        arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if is_list_type(arr.type) and pa.types.is_dictionary(arr.type.value_type):
        arr = arr.cast(pa.list_(arr.type.value_type.value_type))
    check_label_type(arr.type, f"frame[{column!r}]")
    return arr


def check_label_type(t: Any, field: str) -> None:
    """Refuse columns of dicts or nested lists (no label can be read from them)."""
    import pyarrow as pa

    inner = t.value_type if is_list_type(t) else t
    if pa.types.is_struct(inner) or pa.types.is_map(inner) or is_list_type(inner):
        kind = "lists of lists" if is_list_type(inner) else "objects (dicts)"
        raise CurateValueError(
            f"{field} holds {kind}, not labels or lists of labels; pick the column (or "
            "flatten the field) that holds the label names"
        )


def is_list_type(t: Any) -> bool:
    """Whether a pyarrow type is one of the list types."""
    import pyarrow as pa

    return bool(pa.types.is_list(t) or pa.types.is_large_list(t)
                or pa.types.is_fixed_size_list(t) or pa.types.is_list_view(t))


def flat_values(arr: Any) -> tuple[Any, np.ndarray]:
    """``(flat pyarrow values, lengths)`` of a list column, or of a scalar column (length 1)."""
    import pyarrow.compute as pc

    if is_list_type(arr.type):
        lengths = pc.list_value_length(arr).fill_null(0).to_numpy().astype(np.int64)
        return pc.list_flatten(arr), lengths
    return arr, np.ones(len(arr), dtype=np.int64)


def drop_ignored(values: Any, lengths: np.ndarray, ignore_index: int) -> tuple[Any, np.ndarray]:
    """Remove integer labels equal to ``ignore_index``; their samples keep their other labels."""
    import pyarrow as pa

    if not (pa.types.is_integer(values.type) or pa.types.is_floating(values.type)):
        return values, lengths
    v = values.to_numpy(zero_copy_only=False)
    drop = v == ignore_index
    if not drop.any():
        return values, lengths
    rows = np.repeat(np.arange(len(lengths)), lengths)
    kept = np.bincount(rows[~drop], minlength=len(lengths)).astype(np.int64)
    return values.filter(pa.array(~drop)), kept


def table_from_arrow(
    cls: type[LabelTable],
    arr: Any,
    field: str,
    *,
    classes: Sequence[str] | None,
    sample_ids: Any,
    background: str | None,
    level: str,
    ignore_index: int,
) -> LabelTable:
    """Build a table from a pyarrow array of scalars or of lists (the fast path for big data)."""
    import pyarrow.compute as pc

    if not is_list_type(arr.type) and arr.null_count:
        i = int(np.flatnonzero(arr.is_null().to_numpy(zero_copy_only=False))[0])
        raise data_error(f"{field}[{i}]", None, "is missing (null/NaN)",
                         "drop the row or give it a class")
    values, lengths = flat_values(arr)
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    if values.null_count:
        j = int(np.flatnonzero(values.is_null().to_numpy(zero_copy_only=False))[0])
        i = int(np.searchsorted(indptr, j, side="right") - 1)
        raise data_error(f"{field}[{i}]", None, "holds a missing label (null/NaN)",
                         "drop it or give it a class name")
    values = _integral_values(values, field, indptr)
    values, lengths = drop_ignored(values, lengths, ignore_index)
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    enc = pc.dictionary_encode(values)
    uniques = enc.dictionary.to_pylist()
    names = _class_names(uniques) if classes is None else [str(c) for c in classes]
    lookup = pd.Index(names)
    if not lookup.is_unique:
        dups = sorted(lookup[lookup.duplicated()])
        raise CurateValueError(f"classes has duplicate names: {dups}")
    column_of = lookup.get_indexer([str(u) for u in uniques])
    codes = column_of[enc.indices.to_numpy()] if len(values) else np.array([], dtype=np.int64)
    if (codes < 0).any():
        j = int(np.flatnonzero(codes < 0)[0])
        i = int(np.searchsorted(indptr, j, side="right") - 1)
        bad = str(uniques[enc.indices[j].as_py()])
        shown = names if len(names) <= 20 else [*names[:20], "..."]
        raise data_error(f"{field}[{i}]", bad, f"has class {bad!r} not in classes={shown}",
                         "add it to classes or fix the label")
    m = sp.csr_matrix((np.ones(len(codes), dtype=np.int64), codes, indptr),
                      shape=(len(lengths), len(names)))
    m.sum_duplicates()
    _check_background_in(background, names)
    table = cls(m, names, sample_ids=sample_ids, background=background, level=level)
    table._check_background_occurs()
    return table


def _integral_values(values: Any, field: str, indptr: np.ndarray) -> Any:
    """Floats holding whole numbers become int64 (a pandas int column with NaN arrives as float)."""
    import pyarrow as pa

    if not pa.types.is_floating(values.type):
        return values
    v = values.to_numpy()
    bad = np.flatnonzero(~np.isfinite(v) | (v != np.round(v)))
    if bad.size:
        i = int(np.searchsorted(indptr, bad[0], side="right") - 1)
        raise data_error(f"{field}[{i}]", v[bad[0]], f"holds {v[bad[0]].tolist()}",
                         "labels must be integers or strings, without NaN")
    return pa.array(v.astype(np.int64))
