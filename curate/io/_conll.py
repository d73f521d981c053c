"""CoNLL / BIO column-file reader."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import Any

from curate.exceptions import CurateValueError
from curate.io._common import existing_path
from curate.labels import LabelTable, _parse

__all__ = ["read_conll", "read_conll_sentences"]

_SPACE = " \t\r\f\v"
_ASCII_SPACE = re.compile(r"[ \t\r\f\v]+")


def read_conll_sentences(
    path: str | os.PathLike[str],
    *,
    columns: Sequence[int] = (0, -1),
    sep: str | None = None,
    docstart: bool = False,
    encoding: str = "utf-8",
) -> list[tuple[list[str], ...]]:
    """Read a CoNLL-style column file into sentences, keeping the requested columns.

    One token per line, fields split on whitespace (or ``sep``), a blank line between
    sentences; lines whose first field is ``-DOCSTART-`` (and the sentence they form) are
    dropped unless ``docstart=True``.

    Parameters
    ----------
    path : str or path-like
        The file.
    columns : sequence of int, default=(0, -1)
        Field positions to keep (negative counts from the end), e.g. ``(0, -2, -1)`` for
        token, gold tag and predicted tag.
    sep : str, default=None
        Field separator; ``None`` splits on any whitespace (tabs included).
    docstart : bool, default=False
        Keep ``-DOCSTART-`` lines.
    encoding : str, default="utf-8"
        Text encoding of the file (``"latin-1"`` for the original CoNLL-2003 files).

    Returns
    -------
    list of tuple of list of str
        One tuple per sentence holding one list per requested column.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "dev.txt"
    >>> _ = p.write_text("-DOCSTART- O\\n\\nJohn B-PER B-PER\\nran O B-LOC\\n\\nOk O O\\n")
    >>> read_conll_sentences(p, columns=(0, 1, 2))
    [(['John', 'ran'], ['B-PER', 'O'], ['B-PER', 'B-LOC']), (['Ok'], ['O'], ['O'])]
    """
    p = existing_path(path, "path", kind="file")
    cols = [int(c) for c in columns]
    if not cols:
        raise CurateValueError("columns is empty; pass the field positions to keep")
    sentences: list[tuple[list[str], ...]] = []
    current: list[list[str]] = [[] for _ in cols]
    try:
        text = p.read_text(encoding=encoding)
    except UnicodeDecodeError as exc:
        raise CurateValueError(
            f"{p.name} is not {encoding} text ({exc.reason} at byte {exc.start}); re-save it "
            "as UTF-8 or pass encoding= (--encoding), e.g. latin-1") from exc
    except LookupError as exc:
        raise CurateValueError(f"encoding {encoding!r} is unknown ({exc}); pass e.g. "
                               "'utf-8' or 'latin-1'") from exc
    text = text.removeprefix("\ufeff")  # a BOM (Notepad) would hide the first -DOCSTART-
    # lines end at "\n" (and "\r\n") only, and fields split and strip on ASCII whitespace:
    # str.splitlines()/str.split() would also break at U+0085 or U+2028, which are tokens
    # in real text (U+0085 is cp1252's ellipsis read as latin-1)
    for n, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        parts = line.split(sep) if sep is not None else _ASCII_SPACE.split(line.strip(_SPACE))
        parts = [x.strip(_SPACE) for x in parts]
        if not any(parts):
            _flush(current, sentences)
            current = [[] for _ in cols]
            continue
        if parts[0] == "-DOCSTART-" and not docstart:
            continue
        picked = _pick(parts, cols, p.name, n)
        for lst, value in zip(current, picked, strict=True):
            lst.append(value)
    _flush(current, sentences)
    return sentences


def _pick(parts: list[str], cols: list[int], name: str, n: int) -> list[str]:
    width = len(parts)
    resolved = [c + width if c < 0 else c for c in cols]
    if any(r < 0 or r >= width for r in resolved) or len(set(resolved)) < len(set(cols)):
        raise CurateValueError(
            f"{name}:{n} has {width} field(s) but columns={cols} needs more; "
            "check the separator (sep=) and the column positions"
        )
    return [parts[r] for r in resolved]


def _flush(current: list[list[str]], out: list[tuple[list[str], ...]]) -> None:
    if current and current[0]:
        out.append(tuple(current))


def read_conll(
    path: str | os.PathLike[str],
    *,
    token_column: int = 0,
    tag_column: int = -1,
    level: str = "token",
    scheme: str = "auto",
    background: str | None = "auto",
    sep: str | None = None,
    classes: Sequence[str] | None = None,
    encoding: str = "utf-8",
) -> LabelTable:
    """Read a CoNLL / BIO file into a table: one sample per sentence.

    Parameters
    ----------
    path : str or path-like
        Column file (``token ... tag``), blank lines between sentences, ``-DOCSTART-``
        lines dropped.
    token_column, tag_column : int, default=0, -1
        Field positions of the token and the tag.
    level : {"token", "entity"}, default="token"
        Count tags per token, or entity spans per type (seqeval default mode).
    scheme : {"auto", "IOB2", "BIO", "IOBES", ...}, default="auto"
        Allowed tag prefixes (see :meth:`LabelTable.from_tags`). ``"auto"`` reads the tags
        as IOB2 unless they are another scheme's (``E-``/``S-``: IOBES, ``L-``/``U-``:
        BILOU, ...) or suffix style (``PER-B``); an IOBES file used to need ``scheme=``,
        which ``curate stats`` cannot pass.
    background : str or None, default="auto"
        ``"auto"``: ``"O"`` at token level, ``None`` at entity level.
    sep : str, default=None
        Field separator; ``None`` splits on whitespace.
    classes : sequence of str, default=None
        Column order.
    encoding : str, default="utf-8"
        Text encoding of the file.

    Returns
    -------
    LabelTable
        ``sample_ids`` number the sentences ``0 .. n - 1``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "train.txt"
    >>> _ = p.write_text("EU B-ORG\\nrejects O\\nGerman B-MISC\\n\\nPeter B-PER\\n")
    >>> read_conll(p, level="entity").counts.to_dict()
    {'MISC': 1, 'ORG': 1, 'PER': 1}
    """
    sents = read_conll_sentences(path, columns=(token_column, tag_column), sep=sep,
                                 encoding=encoding)
    if not sents:
        raise CurateValueError(f"{path} holds no sentences (0 samples); pass a non-empty file")
    tokens: list[Any] = [s[0] for s in sents]
    tags = [s[1] for s in sents]
    suffix = False
    if str(scheme).lower() == "auto":
        found = _parse.detect_tags(tags)
        # IOB1 and IOB2 share their prefixes, and IOB2 has always been the reading here
        scheme = "IOB2" if found is None or found.scheme in ("IOB1", "IOB2") else found.scheme
        suffix = bool(found is not None and found.suffix)
    return LabelTable.from_tags(tags, tokens=tokens, level=level, scheme=scheme,
                                suffix=suffix, background=background, classes=classes)
