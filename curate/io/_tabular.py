"""Parquet / CSV / JSONL reader: one column of labels (scalars) or label lists."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from curate._validation import StrEnum
from curate.exceptions import CurateValueError
from curate.io._common import existing_path
from curate.labels import LabelTable

__all__ = ["read_table"]

#: column names tried, in order, when ``column`` is not given
DEFAULT_COLUMNS = ("labels", "label", "tags", "ner_tags", "target", "y", "class")


class TableFormat(StrEnum):
    PARQUET = "parquet"
    CSV = "csv"
    JSONL = "jsonl"


_SUFFIXES = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".tsv": "csv",
             ".jsonl": "jsonl", ".ndjson": "jsonl"}


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
) -> LabelTable:
    """Read one label column of a parquet, CSV or JSONL file.

    Parameters
    ----------
    path : str or path-like
        The file (a folder is read as a parquet dataset).
    column : str, default=None
        The label column: scalars (single-label) or lists (multi-label / instances /
        tag sequences). ``None`` takes the first of ``labels, label, tags, ner_tags,
        target, y, class`` that exists.
    id_column : str, default=None
        Column of sample ids.
    format : {"parquet", "csv", "jsonl"}, default=None
        ``None`` infers it from the suffix (``.parquet``/``.pq``, ``.csv``/``.tsv``,
        ``.jsonl``/``.ndjson``).
    delimiter : str, default=None
        CSV only: split each cell of ``column`` on this string to get a label list
        (``"cat|dog|dog"`` with ``delimiter="|"``); an empty cell is an empty sample.
        ``None`` reads one label per cell.
    classes : sequence of str, default=None
        Column order.
    background : str, default=None
        Background class; must occur. At ``level="token"``, ``None`` means ``"O"`` if
        it occurs.
    level : {"instance", "sample", "token", "entity"}, default=None
        See :meth:`LabelTable.from_frame`; ``"token"``/``"entity"`` read tag sequences.

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
    fmt = TableFormat.from_str(format if format is not None else _infer(p), "format",
                               "read_table")
    if fmt is TableFormat.PARQUET:
        frame: Any = _read_parquet(p, column, id_column)
        names = list(frame.column_names)
    else:
        frame = _read_text(p, fmt, column)
        names = [str(c) for c in frame.columns]
    column = _pick_column(column, names, p)
    if delimiter is not None:
        if fmt is not TableFormat.CSV:
            raise CurateValueError("delimiter applies to CSV files only; remove it")
        frame = _split_cells(frame, column, delimiter)
    return LabelTable.from_frame(frame, column, id_column=id_column, classes=classes,
                                 background=background, level=level)


def _infer(p: Path) -> str:
    if p.is_dir():
        return "parquet"
    fmt = _SUFFIXES.get(p.suffix.lower())
    if fmt is None:
        raise CurateValueError(
            f"cannot tell the format of {p.name!r} from its suffix; pass "
            "format='parquet', 'csv' or 'jsonl'"
        )
    return fmt


def _pick_column(column: str | None, names: list[str], p: Path) -> str:
    if column is not None:
        if column not in names:
            raise CurateValueError(
                f"column {column!r} is not in {p.name} (columns: {names}); pass one of them"
            )
        return column
    for name in DEFAULT_COLUMNS:
        if name in names:
            return name
    raise CurateValueError(
        f"{p.name} has none of the usual label columns {list(DEFAULT_COLUMNS)} "
        f"(columns: {names}); pass column=..."
    )


def _read_parquet(p: Path, column: str | None, id_column: str | None) -> Any:
    import pyarrow as pa
    import pyarrow.dataset as ds

    try:
        dataset = ds.dataset(p, format="parquet")
    except (pa.ArrowInvalid, OSError) as exc:
        raise CurateValueError(f"{p.name} is not a readable parquet dataset ({exc})") from exc
    names = dataset.schema.names
    column = _pick_column(column, names, p)
    if id_column is not None and id_column not in names:
        raise CurateValueError(
            f"id_column {id_column!r} is not in {p.name} (columns: {names}); pass one of them"
        )
    wanted = [column] + ([id_column] if id_column and id_column != column else [])
    try:
        return dataset.to_table(columns=wanted)
    except (pa.ArrowInvalid, OSError) as exc:
        raise CurateValueError(f"{p.name} could not be read ({exc})") from exc


def _read_text(p: Path, fmt: TableFormat, column: str | None) -> pd.DataFrame:
    try:
        if fmt is TableFormat.CSV:
            sep = "\t" if p.suffix.lower() == ".tsv" else ","
            return pd.read_csv(p, sep=sep, dtype=str if column is None else {column: str})
        return pd.read_json(p, lines=True, dtype=False)
    except (ValueError, pd.errors.ParserError) as exc:
        raise CurateValueError(f"{p.name} is not valid {fmt.value.upper()} ({exc})") from exc


def _split_cells(frame: pd.DataFrame, column: str, delimiter: str) -> pd.DataFrame:
    out = frame.copy()
    out[column] = [
        [] if not isinstance(v, str) or v == "" else [x.strip() for x in v.split(delimiter)]
        for v in frame[column].tolist()
    ]
    return out
