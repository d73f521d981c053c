"""``read_labels``: one entry point that picks the reader (used by every CLI subcommand)."""

from __future__ import annotations

import os
from typing import Any

from curate._validation import param_error
from curate.exceptions import CurateValueError
from curate.io._coco import read_coco
from curate.io._common import existing_path
from curate.io._conll import read_conll
from curate.io._cvat import read_cvat
from curate.io._formats import FORMATS, infer_format
from curate.io._tabular import read_table
from curate.io._voc import read_voc
from curate.io._yolo import read_yolo
from curate.labels import LabelTable

__all__ = ["read_labels"]

_TABULAR = ("parquet", "csv", "jsonl")
_OBJECTS = ("coco", "voc", "yolo", "cvat")


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
    format : {"coco", "voc", "yolo", "cvat", "conll", "parquet", "csv", "jsonl"}, default=None
        ``None`` infers it (:func:`curate.io.infer_format`): ``.json`` → coco (one object
        with ``images``) or jsonl, ``.parquet``/``.pq`` → parquet, ``.csv``/``.tsv`` →
        csv, ``.jsonl``/``.ndjson`` → jsonl, ``.conll``/``.txt``/``.bio``/``.iob`` →
        conll, ``.yaml`` → yolo (ultralytics ``data.yaml``), ``.xml`` → cvat; a folder with
        ``annotations.xml`` → cvat, with ``*.xml`` or ``Annotations/`` → voc, with
        ``*.parquet`` → parquet, with ``data.yaml``, ``labels/`` or ``*.txt`` → yolo.
    column : str, default=None
        Label column (parquet/csv/jsonl only).
    background : str, default=None
        Background class. For tag data (conll, or a column of tags) ``None`` means ``"O"``
        at token level.
    level : str, default=None
        ``"token"``/``"entity"`` for tag data (default ``"token"``); see
        :meth:`LabelTable.from_frame` for tabular data. Not used by coco/voc/yolo/cvat.
    **options
        Passed to the reader (``iscrowd``, ``difficult``, ``split``, ``names``,
        ``data_yaml``, ``tag_column``, ``id_column``, ``delimiter``, ``id2label``,
        ``ignore_index``, ``encoding``, ...).

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
        raise param_error("format", "read_labels", f"one of {list(FORMATS)}", format,
                          wrong_type=not isinstance(format, str))
    if column is not None and fmt not in _TABULAR:
        raise CurateValueError(f"column applies to parquet/csv/jsonl only, not {fmt}; remove it")
    if level is not None and fmt in _OBJECTS:
        raise CurateValueError(f"level applies to conll and tabular data, not {fmt}; remove it")
    _check_options(fmt, options)
    if fmt == "coco":
        return read_coco(p, background=background, **options)
    if fmt == "voc":
        return read_voc(p, background=background, **options)
    if fmt == "yolo":
        return read_yolo(p, background=background, **options)
    if fmt == "cvat":
        return read_cvat(p, background=background, **options)
    if fmt == "conll":
        return read_conll(p, level=level or "token",
                          background="auto" if background is None else background, **options)
    return read_table(p, column=column, format=fmt, background=background, level=level,
                      **options)


_ALLOWED = {
    "coco": {"iscrowd"},
    "voc": {"difficult", "classes", "split"},
    "yolo": {"names", "data_yaml", "split"},
    "cvat": {"classes"},
    "conll": {"token_column", "tag_column", "scheme", "sep", "classes", "encoding"},
}
_TABLE_OPTIONS = {"id_column", "delimiter", "classes", "id2label", "ignore_index", "encoding"}


def _check_options(fmt: str, options: dict[str, Any]) -> None:
    allowed = _ALLOWED.get(fmt, _TABLE_OPTIONS)
    extra = sorted(k for k, v in options.items() if k not in allowed and v is not None)
    if extra:
        raise CurateValueError(
            f"option(s) {extra} do not apply to {fmt} input; remove them (options for "
            f"{fmt}: {sorted(allowed)})"
        )
    for k in [k for k, v in options.items() if v is None]:
        del options[k]
