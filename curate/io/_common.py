"""Small helpers shared by the readers."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from curate.exceptions import CurateValueError


def existing_path(path: str | os.PathLike[str], field: str, *, kind: str = "any") -> Path:
    """Return ``path`` as a Path, or raise FileNotFoundError / CurateValueError naming it."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{field} {str(p)!r} does not exist; check the path")
    if kind == "file" and not p.is_file():
        raise CurateValueError(f"{field} {str(p)!r} is a folder; pass a file")
    if kind == "dir" and not p.is_dir():
        raise CurateValueError(f"{field} {str(p)!r} is a file; pass a folder")
    return p


def schema_hint(p: Path) -> str:
    """The likely cause of a failed read of a parquet folder, for the error message."""
    if p.is_dir():
        return ("; every file of a parquet folder must hold its columns with the same types: "
                "rewrite the files that differ")
    return ""


def label_kind(t: Any) -> str:
    """What names a column's labels get: numbers (integral floats name as integers), strings,
    booleans, or another type; scalars or lists of them."""
    import pyarrow as pa

    is_list = pa.types.is_list(t) or pa.types.is_large_list(t)
    inner = t.value_type if is_list else t
    if pa.types.is_dictionary(inner):
        inner = inner.value_type
    if pa.types.is_integer(inner) or pa.types.is_floating(inner):
        kind = "numbers"
    elif pa.types.is_string(inner) or pa.types.is_large_string(inner):
        kind = "strings"
    elif pa.types.is_boolean(inner):
        kind = "booleans"
    else:
        kind = str(inner)
    return f"lists of {kind}" if is_list else kind


def check_label_column(files: list[str], column: str) -> None:
    """Refuse a label column missing from a file, or of another kind in one file than in
    another (``1`` and ``"1"`` would become two classes both named ``'1'``).

    Reads the footers only. Integer and float widths may differ between files (their labels
    get the same names), as the single-machine readers allow.
    """
    import pyarrow.parquet as pq

    first: tuple[str, Any] | None = None
    for f in files:
        schema = pq.read_schema(f)
        if column not in schema.names:
            raise CurateValueError(
                f"column {column!r} is not in {Path(f).name} (columns: {schema.names}); "
                "pass one of them"
            )
        t = schema.field(column).type
        if first is None:
            first = (f, t)
        elif label_kind(t) != label_kind(first[1]):
            raise CurateValueError(
                f"column {column!r} holds {label_kind(first[1])} ({first[1]}) in {first[0]!r} "
                f"but {label_kind(t)} ({t}) in {f!r}; every file of a parquet folder must hold "
                "its columns with the same types: rewrite the files that differ"
            )
