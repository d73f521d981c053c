"""Parquet / CSV / JSONL reader: one column of labels (scalars) or label lists."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from curate._validation import StrEnum
from curate.exceptions import CurateValueError
from curate.io._common import check_label_column, existing_path, schema_hint
from curate.io._formats import (
    infer_format,
    integer_cells,
    pick_column,
    read_frame,
    split_cells,
)
from curate.labels import LabelTable

__all__ = ["read_table"]


class TableFormat(StrEnum):
    PARQUET = "parquet"
    CSV = "csv"
    JSONL = "jsonl"


def read_table(
    path: str | os.PathLike[str],
    *,
    column: str | None = None,
    id_column: str | None = None,
    format: str | None = None,
    delimiter: str | None = None,
    classes: Sequence[str] | None = None,
    background: str | None = None,
    level: str | None = None,
    id2label: Any = None,
    ignore_index: int = -100,
    encoding: str = "utf-8",
) -> LabelTable:
    """Read one label column of a parquet, CSV or JSONL file.

    Parameters
    ----------
    path : str or path-like
        The file (a folder is read as a parquet dataset).
    column : str, default=None
        The label column: scalars (single-label) or lists (multi-label / instances /
        tag sequences). ``None`` takes the first of ``curate.io.LABEL_COLUMNS``
        (``labels, label, tags, ner_tags, ...``) that exists.
    id_column : str, default=None
        Column of sample ids.
    format : {"parquet", "csv", "jsonl"}, default=None
        ``None`` infers it from the suffix (``.parquet``/``.pq``, ``.csv``/``.tsv``,
        ``.jsonl``/``.ndjson``, ``.json`` holding JSON lines).
    delimiter : str, default=None
        CSV only: split each cell of ``column`` on this string to get a label list
        (``"cat|dog|dog"`` with ``delimiter="|"``); an empty cell is an empty sample.
        ``None`` reads one label per cell.
    classes : sequence of str, default=None
        Column order.
    background : str, default=None
        Background class; must occur. For tag sequences ``None`` means ``"O"`` at token
        level.
    level : {"instance", "sample", "token", "entity"}, default=None
        See :meth:`LabelTable.from_frame`: ``None`` reads a column of tags (``O``,
        ``B-PER``, ...) at token level, other lists as instances, scalars as samples.
    id2label : dict, sequence of str or path, default=None
        Names of integer label ids (e.g. a Hugging Face ``config.json``); they fix the
        class order.
    ignore_index : int, default=-100
        Integer label that is never a class (Hugging Face padding / sub-words).
    encoding : str, default="utf-8"
        Text encoding of CSV and JSONL files.

    Returns
    -------
    LabelTable

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "labels.csv"
    >>> _ = p.write_text("id,labels\\na,cat|dog\\nb,dog\\nc,\\n")
    >>> t = read_table(p, column="labels", id_column="id", delimiter="|")
    >>> t.counts.to_dict(), t.n_samples
    ({'cat': 1, 'dog': 2}, 3)
    """
    p = existing_path(path, "path")
    if format is None:
        format = "parquet" if p.is_dir() else infer_format(p)
        if format not in ("parquet", "csv", "jsonl"):
            raise CurateValueError(
                f"{p.name} looks like {format} data, not a table; pass format='parquet', "
                "'csv' or 'jsonl', or read it with curate.io.read_labels"
            )
    fmt = TableFormat.from_str(format, "format", "read_table")
    wanted = [c for c in (column, id_column) if c is not None]
    if fmt is TableFormat.PARQUET and delimiter is None:
        frame, column = _read_parquet_encoded(p, column, id_column)
        return LabelTable.from_frame(frame, column, id_column=id_column, classes=classes,
                                     background=background, level=level, id2label=id2label,
                                     ignore_index=ignore_index)
    frame = read_frame(p, fmt.value, wanted, encoding=encoding)
    column = pick_column(column, list(frame.column_names), p)
    if id_column is not None:
        pick_column(id_column, list(frame.column_names), p)
    if delimiter is not None:
        frame = split_cells(frame, column, delimiter, fmt.value)
    frame = integer_cells(frame, column, fmt.value)
    return LabelTable.from_frame(frame, column, id_column=id_column, classes=classes,
                                 background=background, level=level, id2label=id2label,
                                 ignore_index=ignore_index)


def _read_parquet_encoded(p: Path, column: str | None, id_column: str | None) -> tuple[Any, str]:
    """The label (and id) column of a parquet file or folder, strings dictionary-encoded.

    Reads only those columns; string labels (scalars or list values) come back as
    dictionaries (parquet stores them so), which ``LabelTable.from_frame`` reads as int32
    codes: no Python or Arrow string per label.
    """
    import pyarrow as pa
    import pyarrow.dataset as ds

    try:
        dataset = ds.dataset(p, format="parquet")
    except (pa.ArrowException, OSError) as exc:
        raise CurateValueError(f"{p.name} is not a readable parquet dataset ({exc})") from exc
    schema = dataset.schema
    column = pick_column(column, schema.names, p)
    if id_column is not None:
        pick_column(id_column, schema.names, p)
    if len(dataset.files) > 1:  # pyarrow would cast "1" to 1 or refuse, by file order
        check_label_column(list(dataset.files), column)
    t = schema.field(column).type
    path = column
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        path, t = f"{column}.list.{t.value_field.name}", t.value_type
    fmt: Any = "parquet"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        fmt = ds.ParquetFileFormat(read_options={"dictionary_columns": [path]})
    wanted = list(dict.fromkeys(c for c in (column, id_column) if c is not None))
    try:
        return ds.dataset(p, format=fmt).to_table(columns=wanted), column
    except (pa.ArrowException, OSError) as exc:
        raise CurateValueError(f"{p.name} could not be read ({exc}){schema_hint(p)}") from exc
