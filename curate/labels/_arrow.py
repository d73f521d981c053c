"""pandas / pyarrow columns to a table: the vectorised path used for big tabular data."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from curate._validation import data_error
from curate.exceptions import CurateTypeError, CurateValueError
from curate.labels._base import _check_background_in, _class_names

if TYPE_CHECKING:
    from curate.labels._table import LabelTable


def frame_chunks(frame: Any, column: Any, field: str) -> Any:
    """One column of a DataFrame / pyarrow Table as a pyarrow ChunkedArray, as stored.

    Dictionary-encoded columns (parquet strings read with ``dictionary_columns``, pyarrow
    dictionaries) stay encoded and chunks are not combined: :func:`table_from_chunks` reads
    them without materialising one string per label.
    """
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
            if series.isna().any():
                i = int(np.flatnonzero(series.isna().to_numpy())[0])
                raise data_error(f"frame[{column!r}][{i}]", None, "is missing (NaN)",
                                 "drop the row or give it a class")
            series = series.astype(series.cat.categories.dtype)
        try:
            arr = pa.array(series, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
            raise data_error(f"frame[{column!r}]", None, "mixes lists and scalars or holds "
                             "values of several types", "use one list or one label per row"
                             ) from exc
        chunks = pa.chunked_array([arr])
    else:
        col = frame.column(column)
        chunks = col if isinstance(col, pa.ChunkedArray) else pa.chunked_array([col])
    check_label_type(_decoded_type(chunks.type), f"frame[{column!r}]")
    return _plain_strings(chunks, f"frame[{column!r}]")


def _is_view(t: Any, kind: str) -> bool:
    """``pa.types.is_string_view`` / ``is_binary_view`` (pyarrow >= 16; earlier: no views)."""
    import pyarrow as pa

    test = getattr(pa.types, f"is_{kind}_view", None)
    return bool(test is not None and test(t))


def _plain_strings(chunks: Any, field: str) -> Any:
    """String-view labels (polars' Utf8View, Arrow ``string_view``), also inside lists and
    dictionaries, as plain strings (dictionaries stay encoded).

    Every reader below tests for ``string``/``large_string``; a view column would skip tag
    detection (``O`` would not become the background) and the string fast paths.
    """
    import pyarrow as pa

    def plain(t: Any) -> Any:
        if _is_view(t, "string"):
            return pa.string()
        if pa.types.is_dictionary(t):
            return pa.dictionary(t.index_type, plain(t.value_type), t.ordered)
        if not is_list_type(t):
            return t
        inner = plain(t.value_type)
        if inner == t.value_type:
            return t
        if pa.types.is_fixed_size_list(t):
            return pa.list_(inner, t.list_size)
        if pa.types.is_large_list(t):
            return pa.large_list(inner)
        if pa.types.is_list(t):
            return pa.list_(inner)
        raise CurateValueError(  # list_view: pyarrow 26 cannot cast it, and casts nulls wrongly
            f"{field} is {t}; convert it to a list of strings first, e.g. "
            "pa.array(column.to_pylist(), pa.list_(pa.string())) (from polars: "
            "df.to_arrow(compat_level=polars.CompatLevel.oldest()))"
        )

    target = plain(chunks.type)
    return chunks if target == chunks.type else chunks.cast(target)


def _decoded_type(t: Any) -> Any:
    """The type with dictionaries (top level or list values) replaced by their value type."""
    import pyarrow as pa

    if pa.types.is_dictionary(t):
        return t.value_type
    if is_list_type(t) and pa.types.is_dictionary(t.value_type):
        return pa.list_(t.value_type.value_type)
    return t


def decode(chunks: Any) -> Any:
    """A ChunkedArray from :func:`frame_chunks` as one plain (decoded, combined) array."""
    import pyarrow as pa

    arr = chunks.combine_chunks() if isinstance(chunks, pa.ChunkedArray) else chunks
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if is_list_type(arr.type) and pa.types.is_dictionary(arr.type.value_type):
        arr = arr.cast(pa.list_(arr.type.value_type.value_type))
    return arr


def frame_column(frame: Any, column: Any, field: str) -> Any:
    """One column of a DataFrame / pyarrow Table as a (combined, decoded) pyarrow array."""
    return decode(frame_chunks(frame, column, field))


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
    if pa.types.is_binary(inner) or pa.types.is_large_binary(inner) or _is_view(inner, "binary"):
        raise CurateValueError(
            f"{field} holds bytes ({inner}), not label names (they would become classes named "
            "\"b'...'\"); cast the column to strings first, e.g. pyarrow.compute.cast(col, "
            "pa.string()) or [x.decode() for x in labels]"
        )


def is_list_type(t: Any) -> bool:
    """Whether a pyarrow type is one of the list types."""
    import pyarrow as pa

    large_view = getattr(pa.types, "is_large_list_view", None)
    return bool(pa.types.is_list(t) or pa.types.is_large_list(t)
                or pa.types.is_fixed_size_list(t) or pa.types.is_list_view(t)
                or (large_view is not None and large_view(t)))


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
    """Build a table from a decoded pyarrow array of scalars or of lists.

    The reference for :func:`table_from_chunks` (which ``from_frame`` uses): it materialises
    every label, so the tests and ``benchmarks/bench_memory.py`` compare the two paths.
    """
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
    values = integral_values(
        values, lambda j: f"{field}[{int(np.searchsorted(indptr, j, side='right') - 1)}]")
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


def integral_values(values: Any, where: Callable[[int], str]) -> Any:
    """Floats holding whole numbers become int64 (a pandas int column with NaN arrives as
    float); another float raises, naming the label at flat position ``j`` as ``where(j)``."""
    import pyarrow as pa

    if not pa.types.is_floating(values.type):
        return values
    v = values.to_numpy(zero_copy_only=False)
    with np.errstate(invalid="ignore"):
        bad = np.flatnonzero(~np.isfinite(v) | (v != np.round(v)))
    if bad.size:
        raise data_error(where(int(bad[0])), v[bad[0]], f"holds {v[bad[0]].tolist()}",
                         "labels must be integers or strings, without NaN")
    return pa.array(v.astype(np.int64))


# ---------------------------------------------------------------------- dictionary-encoded path
def _first_row(mask: np.ndarray, lengths: np.ndarray | None) -> tuple[int, int]:
    """(row, flat position) of the first True of a per-value mask."""
    j = int(np.flatnonzero(mask)[0])
    if lengths is None:
        return j, j
    return int(np.searchsorted(np.cumsum(lengths), j, side="right")), j


#: labels counted per bincount call (its int64 copy of the slice stays in cache)
_COUNT_SLICE = 1 << 20


@dataclass(frozen=True)
class Encoded:
    """A label column as per-chunk int codes into one dictionary (see :func:`encode_chunks`)."""

    n_rows: int
    lengths: np.ndarray | None  # labels per row; None for a column of scalars (one each)
    parts: list[np.ndarray]  # per chunk: every label's position in that chunk's dictionary
    remaps: list[np.ndarray]  # per chunk: its dictionary's positions in ``dictionary``
    dictionary: Any  # pyarrow Array of the distinct values (chunk dictionaries merged)
    counts: np.ndarray  # occurrences of every ``dictionary`` entry
    null_row: int | None  # first row holding a null label (its code is arbitrary), or None

    @property
    def n_labels(self) -> int:
        """Number of labels (all rows)."""
        return sum(len(p) for p in self.parts)

    def vocabulary(self) -> list[Any]:
        """The values that occur, in dictionary order."""
        return self.dictionary.take(np.flatnonzero(self.counts > 0)).to_pylist()  # type: ignore[no-any-return]

    def mapped(self, table: np.ndarray) -> np.ndarray:
        """``table[code]`` of every label, in one pass over the chunks (int32 ``table``)."""
        out = np.empty(self.n_labels, dtype=table.dtype)
        pos = 0
        for part, remap in zip(self.parts, self.remaps, strict=True):
            if len(remap):
                # mode="clip": "raise" would buffer the output (the codes are valid)
                np.take(table[remap], part, out=out[pos:pos + len(part)], mode="clip")
            else:  # a chunk of null labels only (null_row is set)
                out[pos:pos + len(part)] = 0
            pos += len(part)
        return out

    def codes(self) -> np.ndarray:
        """The position in ``dictionary`` of every label (error paths only)."""
        return self.mapped(np.arange(len(self.dictionary), dtype=np.int32))


#: labels counted per bincount call (its int64 copy of the slice stays in cache)
_COUNT_SLICE = 1 << 20


def encode_chunks(chunks: Any) -> Encoded:
    """A label column as int codes into one dictionary, chunk by chunk, never decoded.

    Each chunk's dictionary (from parquet, or from ``dictionary_encode``) is merged into
    one for the column, and occurrences are counted per chunk; a null list is an empty row;
    the first null label is recorded in ``null_row`` (the callers raise).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    is_list = is_list_type(chunks.type)
    all_lengths, parts, dicts = [], [], []
    row0, null_row = 0, None
    for chunk in chunks.chunks:
        if is_list:
            lengths = pc.list_value_length(chunk).fill_null(0).to_numpy().astype(np.int64)
            values = pc.list_flatten(chunk)
        else:
            lengths, values = None, chunk
        if pa.types.is_dictionary(values.type):
            idx, dic = values.indices, values.dictionary
        else:
            enc = pc.dictionary_encode(values)
            idx, dic = enc.indices, enc.dictionary
        if null_row is None and (idx.null_count or dic.null_count):
            mask = idx.is_null().to_numpy(zero_copy_only=False)
            if dic.null_count:
                bad = dic.is_null().to_numpy(zero_copy_only=False)
                mask |= bad[idx.fill_null(0).to_numpy(zero_copy_only=False)]
            if mask.any():
                null_row = row0 + _first_row(mask, lengths)[0]
        codes = idx.fill_null(0) if idx.null_count else idx
        parts.append(codes.to_numpy(zero_copy_only=False))
        dicts.append(dic)
        all_lengths.append(lengths)
        row0 += len(chunk)
    value_type = chunks.type.value_type if is_list else chunks.type
    if pa.types.is_dictionary(value_type):
        value_type = value_type.value_type
    if not dicts:
        dictionary = pa.array([], type=value_type)
        remap = np.zeros(0, dtype=np.int32)
    elif len(dicts) == 1:
        dictionary = dicts[0]
        remap = np.arange(len(dictionary), dtype=np.int32)
    else:  # one dictionary for all chunks: encode the concatenated chunk dictionaries
        enc = pc.dictionary_encode(pa.concat_arrays(dicts))
        remap = enc.indices.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int32)
        dictionary = enc.dictionary
    counts = np.zeros(len(dictionary), dtype=np.int64)
    remaps, start = [], 0
    for dic, part in zip(dicts, parts, strict=True):
        local = remap[start:start + len(dic)]
        remaps.append(local)
        start += len(dic)
        if not len(dic):
            continue
        # count per chunk and slice: bincount copies its input to int64, cache-sized is fast
        for lo in range(0, len(part), _COUNT_SLICE):
            np.add.at(counts, local, np.bincount(part[lo:lo + _COUNT_SLICE],
                                                 minlength=len(dic)))
    lengths_all = (np.concatenate(all_lengths) if all_lengths else np.zeros(0, np.int64)) \
        if is_list else None
    return Encoded(len(chunks), lengths_all, parts, remaps, dictionary, counts, null_row)


def table_from_chunks(
    cls: type[LabelTable],
    encoded: Encoded,
    field: str,
    *,
    classes: Sequence[str] | None,
    sample_ids: Any,
    background: str | None,
    level: str,
    ignore_index: int,
    presence: bool = False,
) -> LabelTable:
    """Build a table from a (possibly dictionary-encoded, chunked) label column.

    The same table as :func:`table_from_arrow` on the decoded column, with the same errors,
    but every check runs once per distinct value and the labels stay int32 codes: no string
    is materialised per label. ``presence=True`` counts each class once per row.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    lengths, dictionary = encoded.lengths, encoded.dictionary
    n_rows = encoded.n_rows
    if encoded.null_row is not None:
        if lengths is not None:
            raise data_error(f"{field}[{encoded.null_row}]", None,
                             "holds a missing label (null/NaN)", "drop it or give it a class name")
        raise data_error(f"{field}[{encoded.null_row}]", None, "is missing (null/NaN)",
                         "drop the row or give it a class")
    kind = dictionary.type
    used = encoded.counts > 0
    keep = used.copy()
    if pa.types.is_floating(kind) or pa.types.is_integer(kind):
        v = dictionary.to_numpy(zero_copy_only=False)
        if pa.types.is_floating(kind):
            with np.errstate(invalid="ignore"):
                bad = used & (~np.isfinite(v) | (v != np.round(v)))
            if bad.any():
                codes = encoded.codes()
                i, j = _first_row(bad[codes], lengths)
                x = v[codes[j]]
                raise data_error(f"{field}[{i}]", x, f"holds {x.tolist()}",
                                 "labels must be integers or strings, without NaN")
            v = np.where(used, v, 0).astype(np.int64)
        keep &= v != ignore_index
        values = v.tolist()
    else:
        values = dictionary.to_pylist()
    kept_values = [values[k] for k in np.flatnonzero(keep)]
    if classes is not None:
        names = [str(c) for c in classes]
    elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
        # distinct strings: _class_names' order is code-point order, which is UTF-8 byte
        # order, which is pyarrow's sort (C++, no Python key per class)
        kept = dictionary.take(np.flatnonzero(keep))
        names = kept.take(pc.sort_indices(kept)).to_pylist()
    else:
        names = _class_names(kept_values)
    lookup = pd.Index(names)
    if not lookup.is_unique:
        dups = sorted(lookup[lookup.duplicated()])
        raise CurateValueError(f"classes has duplicate names: {dups}")
    column_of = np.full(len(dictionary), -2, dtype=np.int32)  # -2: dropped (ignore_index)
    column_of[keep] = lookup.get_indexer([str(u) for u in kept_values])
    cols = encoded.mapped(column_of)  # the one pass over the labels
    drop = None
    if (used & ~keep).any():  # ignore_index labels: their rows keep their other labels
        drop = cols == -2
        if lengths is None:
            lengths = np.ones(n_rows, dtype=np.int64)
        rows = np.repeat(np.arange(n_rows), lengths)
        lengths = np.bincount(rows[~drop], minlength=n_rows).astype(np.int64)
        cols = cols[~drop]
    if (column_of[keep] < 0).any():  # a class missing from ``classes``
        i, j = _first_row(cols < 0, lengths)
        codes = encoded.codes()
        bad_name = str(values[(codes if drop is None else codes[~drop])[j]])
        shown = names if len(names) <= 20 else [*names[:20], "..."]
        raise data_error(f"{field}[{i}]", bad_name,
                         f"has class {bad_name!r} not in classes={shown}",
                         "add it to classes or fix the label")
    # int32 indices and offsets when they fit (what scipy would convert them to anyway)
    small = len(cols) < 2**31 - 1 and len(names) < 2**31 - 1
    indptr = np.zeros(n_rows + 1, dtype=np.int32 if small else np.int64)
    if lengths is None:
        indptr[1:] = np.arange(1, n_rows + 1)
    else:
        np.cumsum(lengths, out=indptr[1:])
    cols = cols.astype(indptr.dtype, copy=False)
    m = sp.csr_matrix((np.ones(len(cols), dtype=np.int64), cols, indptr),
                      shape=(n_rows, len(names)))
    m.sum_duplicates()
    if presence:
        m.data[:] = 1
    _check_background_in(background, names)
    table = cls._from_canonical(m, names, sample_ids=sample_ids, background=background,
                                level=level)
    table._check_background_occurs()
    return table
