"""``read_labels``: one entry point that picks the reader (used by every CLI subcommand)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from curate.exceptions import CurateValueError
from curate.io._coco import read_coco
from curate.io._common import existing_path
from curate.io._conll import read_conll
from curate.io._tabular import read_table
from curate.io._voc import read_voc
from curate.io._yolo import read_yolo
from curate.labels import LabelTable

__all__ = ["FORMATS", "read_labels"]

FORMATS = ("coco", "voc", "yolo", "conll", "parquet", "csv", "jsonl")

_SUFFIX = {".json": "coco", ".parquet": "parquet", ".pq": "parquet", ".csv": "csv",
           ".tsv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".conll": "conll",
           ".conllu": "conll", ".txt": "conll", ".bio": "conll", ".iob": "conll", ".tsv2": "conll"}


def infer_format(path: str | os.PathLike[str]) -> str:
    """Guess the format of ``path`` from its suffix or, for a folder, its content.

    Examples
    --------
    >>> infer_format("train.conll"), infer_format("instances_val2017.json")
    ('conll', 'coco')
    """
    p = Path(path)
    if p.is_dir():
        if (p / "Annotations").is_dir() or any(p.glob("*.xml")):
            return "voc"
        if any(p.glob("*.parquet")):
            return "parquet"
        if any(p.rglob("*.txt")):
            return "yolo"
        raise CurateValueError(
            f"cannot tell the format of folder {str(p)!r} (no .xml, .parquet or .txt files); "
            f"pass format= one of {list(FORMATS)}"
        )
    fmt = _SUFFIX.get(p.suffix.lower())
    if fmt is None:
        raise CurateValueError(
            f"cannot tell the format of {p.name!r} from its suffix; pass format= one of "
            f"{list(FORMATS)}"
        )
    return fmt


def read_labels(
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    column: str | None = None,
    background: str | None = None,
    level: str | None = None,
    **options: Any,
) -> LabelTable:
    """Read labels in any supported format into a :class:`~curate.LabelTable`.

    Parameters
    ----------
    path : str or path-like
        File or folder.
    format : {"coco", "voc", "yolo", "conll", "parquet", "csv", "jsonl"}, default=None
        ``None`` infers it: ``.json`` → coco, ``.parquet``/``.pq`` → parquet,
        ``.csv``/``.tsv`` → csv, ``.jsonl``/``.ndjson`` → jsonl,
        ``.conll``/``.txt``/``.bio``/``.iob`` → conll; a folder with ``*.xml`` or
        ``Annotations/`` → voc, with ``*.parquet`` → parquet, with ``*.txt`` → yolo.
    column : str, default=None
        Label column (parquet/csv/jsonl only).
    background : str, default=None
        Background class. For conll (and tabular data read at ``level="token"``),
        ``None`` means ``"O"`` at token level.
    level : str, default=None
        ``"token"``/``"entity"`` for tag data (conll default: ``"token"``); see
        :meth:`LabelTable.from_frame` for tabular data. Not used by coco/voc/yolo.
    **options
        Passed to the reader (``iscrowd``, ``difficult``, ``names``, ``data_yaml``,
        ``tag_column``, ``id_column``, ``delimiter``, ...).

    Returns
    -------
    LabelTable

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "train.conll"
    >>> _ = p.write_text("John B-PER\\nran O\\n")
    >>> read_labels(p, level="entity").counts.to_dict()
    {'PER': 1}
    """
    p = existing_path(path, "path")
    fmt = infer_format(p) if format is None else str(format).lower()
    if fmt not in FORMATS:
        raise CurateValueError(
            f"The 'format' parameter of read_labels must be one of {list(FORMATS)}. "
            f"Got {format!r} instead."
        )
    if column is not None and fmt not in ("parquet", "csv", "jsonl"):
        raise CurateValueError(f"column applies to parquet/csv/jsonl only, not {fmt}; remove it")
    if level is not None and fmt in ("coco", "voc", "yolo"):
        raise CurateValueError(f"level applies to conll and tabular data, not {fmt}; remove it")
    if fmt == "coco":
        return read_coco(p, background=background, **options)
    if fmt == "voc":
        return read_voc(p, background=background, **options)
    if fmt == "yolo":
        return read_yolo(p, background=background, **options)
    if fmt == "conll":
        return read_conll(p, level=level or "token",
                          background="auto" if background is None else background, **options)
    return read_table(p, column=column, format=fmt, background=background, level=level,
                      **options)
