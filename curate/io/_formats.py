"""The one format table and the one column reader every reader and CLI command uses."""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from curate._validation import Options, check_param
from curate.exceptions import CurateValueError
from curate.io._common import check_label_column, existing_path, schema_hint
from curate.labels._arrow import check_label_type

__all__ = ["FORMATS", "LABEL_COLUMNS", "PREDICTION_COLUMNS", "infer_format", "read_column"]

#: every format a reader understands
FORMATS = ("coco", "voc", "yolo", "cvat", "conll", "parquet", "csv", "jsonl")
#: formats that hold one column of labels per row (what :func:`read_column` reads)
COLUMN_FORMATS = ("conll", "parquet", "csv", "jsonl")
#: file suffix -> format (``.json`` is sniffed: COCO object or JSON lines)
SUFFIXES = {
    ".json": "json", ".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".tsv": "csv",
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".conll": "conll", ".conllu": "conll",
    ".txt": "conll", ".bio": "conll", ".iob": "conll", ".tsv2": "conll", ".yaml": "yolo",
    ".yml": "yolo", ".xml": "cvat",
}
#: label columns tried, in order, when no column is named
LABEL_COLUMNS = ("labels", "label", "tags", "ner_tags", "tags_iob2", "y_true", "target", "y",
                 "class")
#: prediction columns tried first when reading predictions
PREDICTION_COLUMNS = ("prediction", "predictions", "pred", "y_pred", "tags_pred")


def infer_format(path: str | os.PathLike[str]) -> str:
    """Guess the format of ``path`` from its suffix or, for a folder, its content.

    A ``.json`` file is COCO when it holds one object with ``images``, JSON lines
    otherwise. A folder is ``cvat`` with an ``annotations.xml`` export, ``voc`` with
    ``Annotations/`` or ``*.xml``, ``parquet`` with ``*.parquet``, ``yolo`` with a
    ``data.yaml``, ``labels/`` or ``*.txt``.

    Parameters
    ----------
    path : str or path-like
        A file or folder.

    Returns
    -------
    str
        One of :data:`FORMATS`.

    Examples
    --------
    >>> infer_format("train.conll"), infer_format("predictions.csv")
    ('conll', 'csv')
    """
    p = Path(path)
    if p.is_dir():
        return _folder_format(p)
    fmt = SUFFIXES.get(p.suffix.lower())
    if fmt is None:
        raise CurateValueError(
            f"cannot tell the format of {p.name!r} from its suffix; pass format= (--format) "
            f"one of {list(FORMATS)}"
        )
    if fmt == "json":
        return _sniff_json(p)
    if fmt == "cvat" and p.is_file() and _xml_root(p) != "annotations":
        raise CurateValueError(
            f"{p.name} is not a CVAT annotations.xml export; for PASCAL VOC pass the folder "
            "of XML files"
        )
    return fmt


def _folder_format(p: Path) -> str:
    if (p / "annotations.xml").is_file() and _xml_root(p / "annotations.xml") == "annotations":
        return "cvat"
    if (p / "Annotations").is_dir() or any(
            f.suffix.lower() == ".xml" for f in _visible(p.iterdir())):
        return "voc"
    if any(p.glob("*.parquet")):
        return "parquet"
    if (p / "data.yaml").is_file() or (p / "labels").is_dir() or any(_visible(p.rglob("*.txt"))):
        return "yolo"
    raise CurateValueError(
        f"cannot tell the format of folder {str(p)!r} (no annotations.xml, .xml, .parquet, "
        f"data.yaml or .txt files); pass format= (--format) one of {list(FORMATS)}"
    )


def _visible(paths: Any) -> list[Path]:
    """Paths minus macOS resource forks (``._name``) and hidden files."""
    return [f for f in paths if not f.name.startswith(".")]


def _xml_root(p: Path) -> str | None:
    try:
        for _, elem in ET.iterparse(p, events=("start",)):
            return str(elem.tag)
    except ET.ParseError:
        return None
    return None


def _sniff_json(p: Path) -> str:
    try:
        with open(p, encoding="utf-8") as fh:
            first = fh.readline().strip()
    except UnicodeDecodeError as exc:
        raise CurateValueError(f"{p.name} is not UTF-8 text ({exc}); re-save it as UTF-8"
                               ) from exc
    try:
        obj = json.loads(first)
    except json.JSONDecodeError:
        return "coco"  # a pretty-printed object spans lines
    if isinstance(obj, dict) and "images" in obj and "categories" in obj:
        return "coco"
    return "jsonl"


def read_column(
    path: str | os.PathLike[str],
    *,
    column: str | int | None = None,
    format: str | None = None,
    role: str = "labels",
    delimiter: str | None = None,
    encoding: str = "utf-8",
) -> Any:
    """Read one column of labels (or predictions) from a parquet, CSV, JSONL or CoNLL file.

    Parameters
    ----------
    path : str or path-like
        The file (a folder is read as a parquet dataset).
    column : str or int, default=None
        Column name; for CoNLL the field index (``-1`` is the last field). ``None`` takes
        the first of :data:`LABEL_COLUMNS` that exists (with ``role="predictions"``:
        :data:`PREDICTION_COLUMNS` first), a file's only column, or CoNLL's last field.
    format : {"parquet", "csv", "jsonl", "conll"}, default=None
        ``None`` infers it with :func:`infer_format`.
    role : {"labels", "predictions"}, default="labels"
        Which column names to try first when ``column`` is None.
    delimiter : str, default=None
        CSV only: split each cell on this string into a list of labels (``cat|dog``); an
        empty cell is an empty list.
    encoding : str, default="utf-8"
        Text encoding of CSV, JSONL and CoNLL files.

    Returns
    -------
    pyarrow.Array
        One value per row: a label, or a list of labels / tags.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "pred.csv"
    >>> _ = p.write_text("id,pred\\n1,cat|dog\\n2,dog\\n")
    >>> read_column(p, role="predictions", delimiter="|").to_pylist()
    [['cat', 'dog'], ['dog']]
    """
    check_param("role", role, [Options({"labels", "predictions"})], "read_column")
    p = existing_path(path, "path")
    fmt = infer_format(p) if format is None else str(format).lower()
    if fmt not in COLUMN_FORMATS:
        raise CurateValueError(
            f"{p.name} is {fmt} data, not a column of labels; read_column (and "
            f"'curate evaluate') reads {list(COLUMN_FORMATS)}; pass format= to override"
        )
    if fmt == "conll":
        return _conll_column(p, column, encoding)
    frame = read_frame(p, fmt, [] if column is None else [str(column)], encoding=encoding)
    name = pick_column(None if column is None else str(column), list(frame.column_names), p,
                       role)
    if delimiter is not None:
        frame = split_cells(frame, name, delimiter, fmt)
    frame = integer_cells(frame, name, fmt)
    arr = frame.column(name).combine_chunks()
    check_label_type(arr.type, f"column {name!r} of {p.name}")
    return arr


def _conll_column(p: Path, column: str | int | None, encoding: str) -> Any:
    import pyarrow as pa

    from curate.io._conll import read_conll_sentences

    try:
        index = -1 if column is None else int(column)
    except ValueError:
        raise CurateValueError(
            f"a CoNLL column is a field index such as -1 or 2; got {column!r}") from None
    sents = read_conll_sentences(p, columns=(index,), encoding=encoding)
    return pa.array([s[0] for s in sents], type=pa.list_(pa.string()))


def pick_column(column: str | None, names: Sequence[str], p: Path, role: str = "labels") -> str:
    """The requested column, or the first usual label (prediction) column present."""
    names = list(names)
    if column is not None:
        if column not in names:
            raise CurateValueError(
                f"column {column!r} is not in {p.name} (columns: {names}); pass one of them "
                "(--column)"
            )
        return column
    tried = (*PREDICTION_COLUMNS, *LABEL_COLUMNS) if role == "predictions" else LABEL_COLUMNS
    for name in tried:
        if name in names:
            return name
    if len(names) == 1:
        return names[0]
    raise CurateValueError(
        f"{p.name} has none of the usual {role} columns {list(tried)} (columns: {names}); "
        "pass column= (--column / --pred-column)"
    )


def read_frame(p: Path, fmt: str, columns: list[str], *, encoding: str = "utf-8") -> Any:
    """A pyarrow Table of a parquet / CSV / JSONL file (only ``columns`` of parquet, if any)."""
    import pyarrow as pa

    if fmt == "parquet":
        return _read_parquet(p, columns)
    try:
        if fmt == "csv":
            sep = "\t" if p.suffix.lower() == ".tsv" else ","
            df = pd.read_csv(p, sep=sep, dtype=str, keep_default_na=False, na_values=[""],
                             encoding=encoding)
        else:
            df = pd.read_json(p, lines=True, dtype=False, encoding=_sig(encoding))
    except UnicodeDecodeError as exc:
        raise CurateValueError(
            f"{p.name} is not {encoding} text ({exc.reason} at byte {exc.start}); re-save it "
            "as UTF-8 or pass encoding= (--encoding), e.g. latin-1") from exc
    except (ValueError, pd.errors.ParserError) as exc:
        raise CurateValueError(f"{p.name} is not valid {fmt.upper()} ({exc})") from exc
    df.columns = [str(c) for c in df.columns]
    if fmt == "csv" and len(df.columns) == 1:
        header = df.columns[0]
        other = {"\t": "tab", ";": "semicolon"}
        found = [name for sep_, name in other.items() if sep_ in header and sep_ != sep]
        if found:  # every row would become one class named "id<TAB>label"
            suffix, split_on = (".tsv", "tabs") if sep == "\t" else (".csv", "commas")
            raise CurateValueError(
                f"{p.name} reads as one column named {header!r}: it looks {found[0]}-"
                f"separated, and curate reads {suffix} files split on {split_on}; save it "
                "comma-separated as .csv (tab-separated as .tsv)")
    out = {}
    for name in df.columns:
        try:
            out[name] = pa.array(df[name], from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
            if name in columns or not columns:
                raise CurateValueError(
                    f"column {name!r} of {p.name} mixes lists, objects and scalars; use one "
                    "label or one list of labels per row") from exc
    return pa.table(out)


def _sig(encoding: str) -> str:
    """``utf-8-sig`` for UTF-8, so a leading BOM (Notepad, PowerShell) is not text."""
    return "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding


def _read_parquet(p: Path, columns: list[str]) -> Any:
    import pyarrow as pa
    import pyarrow.dataset as ds

    try:
        dataset = ds.dataset(p, format="parquet")
    except (pa.ArrowException, OSError) as exc:
        raise CurateValueError(f"{p.name} is not a readable parquet dataset ({exc})") from exc
    names = dataset.schema.names
    for c in columns:
        pick_column(c, names, p)
    # the named columns plus those a label column may be picked from (never all of a wide file)
    usual = [n for n in names if n in (*LABEL_COLUMNS, *PREDICTION_COLUMNS)]
    wanted = list(dict.fromkeys([*columns, *usual])) or names
    if len(dataset.files) > 1:  # pyarrow would cast "1" to 1 or refuse, by file order
        for c in columns:
            check_label_column(list(dataset.files), c)
    try:
        return dataset.to_table(columns=wanted)
    except (pa.ArrowException, OSError) as exc:
        raise CurateValueError(f"{p.name} could not be read ({exc}){schema_hint(p)}") from exc


def split_cells(frame: Any, column: str, delimiter: str, fmt: str) -> Any:
    """Split each string cell of ``column`` on ``delimiter`` into a list (CSV only)."""
    import pyarrow as pa

    if fmt != "csv":
        raise CurateValueError(f"delimiter applies to CSV files only, not {fmt}; remove it")
    if not delimiter:
        raise CurateValueError("delimiter is empty; pass the string between labels, e.g. '|'")
    cells = frame.column(column).to_pylist()
    lists = [[] if not isinstance(v, str) or v == "" else [x.strip() for x in v.split(delimiter)]
             for v in cells]
    for i, pieces in enumerate(lists):
        if "" in pieces:
            raise CurateValueError(
                f"{column}[{i}] is {cells[i]!r}: an empty label between {delimiter!r} "
                f"delimiters (or at an end); remove the extra {delimiter!r} (an empty cell is "
                "an empty sample)"
            )
    idx = frame.column_names.index(column)
    return frame.set_column(idx, column, pa.array(lists, type=pa.list_(pa.string())))


_PLAIN_INT = re.compile(r"-?(?:0|[1-9][0-9]*)\Z")


def integer_cells(frame: Any, column: str, fmt: str) -> Any:
    """CSV cells are read as text: a label column whose every label is a plain integer
    (``"2"``, ``"-100"``; not ``"02"`` or ``" 2"``) becomes integers, so its classes order
    numerically and ``-100`` is the ignore id, as in JSONL and parquet."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if fmt != "csv":
        return frame
    col = frame.column(column)
    flat = col
    while pa.types.is_list(flat.type) or pa.types.is_large_list(flat.type):
        flat = pc.list_flatten(flat)
    if not (pa.types.is_string(flat.type) or pa.types.is_large_string(flat.type)):
        return frame
    values = flat.drop_null().to_pylist()
    if not values or not all(_PLAIN_INT.match(v) for v in values):
        return frame
    is_list = pa.types.is_list(col.type) or pa.types.is_large_list(col.type)
    as_int = pa.list_(pa.int64()) if is_list else pa.int64()
    try:
        converted = pc.cast(col, as_int)
    except pa.ArrowInvalid:  # beyond int64: keep them as text
        return frame
    return frame.set_column(frame.column_names.index(column), column, converted)
