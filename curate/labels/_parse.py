"""Parsing of constructor inputs: tag sequences and schemes, label-id maps, id arrays."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from curate._tags import detect_scheme
from curate._validation import StrEnum, data_error
from curate.exceptions import CurateTypeError, CurateValueError
from curate.labels._base import _check_not_empty


class Scheme(StrEnum):
    """Tagging schemes a tag sequence may follow (``BIO`` is another name of ``IOB2``)."""

    IOB1 = "iob1"
    IOB2 = "iob2"
    BIO = "bio"
    IOE1 = "ioe1"
    IOE2 = "ioe2"
    IOBES = "iobes"
    BILOU = "bilou"


#: prefixes each scheme allows besides ``O``
PREFIXES = {Scheme.IOB1: "BI", Scheme.IOB2: "BI", Scheme.BIO: "BI", Scheme.IOE1: "IE",
            Scheme.IOE2: "IE", Scheme.IOBES: "BIES", Scheme.BILOU: "BILU"}
#: BILOU's last/unit prefixes read as IOBES's end/single ones for span extraction
_TO_IOBES = {"L": "E", "U": "S"}


class Detected(NamedTuple):
    """The tagging scheme found in a corpus (shape of ``curate._tags.TagScheme``)."""

    scheme: str
    suffix: bool


def detect_tags(sequences: Iterable[Sequence[Any]]) -> Detected | None:
    """The scheme of ``sequences`` when every value is a tag and at least one is not ``O``.

    Delegates to :func:`curate._tags.detect_scheme`, the detector the metrics use; a
    column of ``O`` alone is not read as tags.
    """
    seqs = [s for s in sequences if s is not None]
    if not any(t != "O" for s in seqs for t in s):
        return None
    found = detect_scheme(seqs)
    if found is None:
        return None
    return Detected(str(found.scheme).upper(), bool(found.suffix))


def split_affix(tag: str, suffix: bool) -> tuple[str, str]:
    """``(prefix, type)`` of ``"B-PER"`` (``"PER-B"`` when ``suffix``); ``"O"``: ``("O", "")``."""
    if tag == "O":
        return "O", ""
    if suffix:
        head, _, p = tag.rpartition("-")
        return p, head
    p, _, rest = tag.partition("-")
    return p, rest


def tag_sequences(tags: Any, tokens: Any) -> list[list[Any]]:
    """Lists of tags, one per sample, checked against ``tokens`` when given."""
    seqs = []
    for i, seq in enumerate(tags):
        if isinstance(seq, str | bytes) or not isinstance(seq, Iterable):
            raise data_error(f"tags[{i}]", seq, f"is {seq!r}, not a sequence of tags",
                             "pass one list of tags per sample")
        seqs.append(list(seq))
    _check_not_empty(len(seqs), "tags")
    if tokens is not None:
        toks = [list(t) for t in tokens]
        if len(toks) != len(seqs):
            raise CurateValueError(
                f"tokens has {len(toks)} sequences but tags has {len(seqs)}; "
                "pass one token sequence per tag sequence"
            )
        for i, (tk, tg) in enumerate(zip(toks, seqs, strict=True)):
            if len(tk) != len(tg):
                raise data_error(
                    f"tags[{i}]", None, f"has {len(tg)} tags but tokens[{i}] has {len(tk)} tokens",
                    "give exactly one tag per token",
                )
    return seqs


def check_tags(seqs: list[list[Any]], scheme: Scheme, suffix: bool) -> None:
    """Raise naming the first tag whose prefix ``scheme`` does not allow."""
    prefixes = PREFIXES[scheme]
    seen: set[Any] = set()
    for seq in seqs:
        seen.update(seq)
    bad = {t for t in seen if not _valid_tag(t, prefixes, suffix)}
    if not bad:
        return
    shape = "<type>-{}" if suffix else "{}-<type>"
    allowed = ", ".join(["O", *(shape.format(p) for p in prefixes)])
    name = scheme.value.upper()
    for i, seq in enumerate(seqs):
        for j, tag in enumerate(seq):
            if tag in bad:
                raise data_error(
                    f"tags[{i}][{j}]", tag, f"is {tag!r}, not a valid {name} tag ({allowed})",
                    "fix the tag or pass the scheme your data uses (scheme='IOBES', "
                    "suffix=True, ...)",
                )


def _valid_tag(tag: Any, prefixes: str, suffix: bool) -> bool:
    if not isinstance(tag, str):
        return False
    if tag == "O":
        return True
    prefix, type_ = split_affix(tag, suffix)
    return len(prefix) == 1 and prefix in prefixes and bool(type_)


def iob_prefix_tags(seq: list[str], suffix: bool) -> list[str]:
    """Rewrite one sequence as ``P-TYPE`` tags with IOBES prefixes (for span extraction)."""
    out = []
    for tag in seq:
        prefix, type_ = split_affix(tag, suffix)
        out.append("O" if prefix == "O" else f"{_TO_IOBES.get(prefix, prefix)}-{type_}")
    return out


# ---------------------------------------------------------------------- label ids
def normalize_id2label(id2label: Any) -> tuple[np.ndarray, list[str]]:
    """``(ids, names)`` of a dict, a list, or a Hugging Face ``config.json`` path."""
    if isinstance(id2label, os.PathLike) or (
            isinstance(id2label, str) and (id2label.endswith(".json") or Path(id2label).is_file())):
        id2label = read_id2label(id2label)
    if isinstance(id2label, dict):
        items = list(id2label.items())
    elif isinstance(id2label, Sequence) and not isinstance(id2label, str):
        items = list(enumerate(id2label))
    else:
        raise CurateTypeError(
            "id2label must be a dict {id: name}, a list of names or the path of a Hugging "
            f"Face config.json; got {type(id2label).__name__} {id2label!r}"[:200]
        )
    if not items:
        raise CurateValueError("id2label is empty; pass the name of every label id")
    ids, names = [], []
    for key, name in items:
        try:
            ids.append(int(key))
        except (TypeError, ValueError) as exc:
            raise data_error("id2label", key, f"has key {key!r}, not an integer id",
                             "use integer ids as keys") from exc
        names.append(str(name))
    if len(set(names)) != len(names):
        dup = pd.Series(names)[pd.Series(names).duplicated()].iloc[0]
        raise data_error("id2label", dup, f"maps two ids to {dup!r}", "label names must be unique")
    return np.asarray(ids, dtype=np.int64), names


def read_id2label(path: str | os.PathLike[str]) -> dict[int, str] | list[str]:
    """The label names in a JSON file: a model ``config.json`` (``id2label`` or ``label2id``),
    a ``{id: name}`` object or a list of names."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"label names file {str(p)!r} does not exist; check the path")
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CurateValueError(f"{p.name} is not valid JSON ({exc}); pass a config.json "
                               "with id2label, or a JSON list of label names") from exc
    if isinstance(doc, dict) and isinstance(doc.get("id2label"), dict):
        return {int(k): str(v) for k, v in doc["id2label"].items()}
    if isinstance(doc, dict) and isinstance(doc.get("label2id"), dict):
        return {int(v): str(k) for k, v in doc["label2id"].items()}
    if isinstance(doc, list) and all(isinstance(v, str) for v in doc):
        return list(doc)
    if isinstance(doc, dict) and doc and all(str(k).lstrip("-").isdigit() for k in doc):
        return {int(k): str(v) for k, v in doc.items()}
    raise CurateValueError(
        f"{p.name} has no id2label or label2id mapping; pass a Hugging Face config.json, "
        "a JSON object {id: name} or a JSON list of names"
    )


def flatten_ids(label_ids: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(flat int64 ids, lengths)`` of a padded 2-D array, a tensor or ragged lists."""
    if hasattr(label_ids, "detach"):
        label_ids = label_ids.detach().cpu().numpy()
    try:
        arr = np.asarray(label_ids)
    except ValueError:  # ragged sequences
        arr = None
    if arr is not None and arr.size == 0:
        _check_not_empty(0, "label_ids")
    if arr is not None and arr.dtype != object:
        if arr.ndim != 2:
            raise CurateValueError(
                f"label_ids must be 2-D (n_samples, seq_len) or a list of sequences; "
                f"got shape {arr.shape}"
            )
        _check_not_empty(arr.shape[0], "label_ids")
        flat, lengths = arr.ravel(), np.full(arr.shape[0], arr.shape[1], dtype=np.int64)
    else:
        rows = [np.asarray(r).ravel() for r in label_ids]
        _check_not_empty(len(rows), "label_ids")
        lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
        flat = np.concatenate(rows) if rows else np.array([], dtype=np.int64)
    return _as_int_ids(flat, lengths), lengths


def _as_int_ids(flat: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    if flat.dtype.kind in "iu":
        return flat.astype(np.int64, copy=False)
    bad = np.ones(len(flat), dtype=bool)
    if flat.dtype.kind == "f":
        bad = np.isnan(flat) | (flat != np.round(flat))
    elif flat.dtype.kind == "b" or len(flat) == 0:
        bad = np.zeros(len(flat), dtype=bool)
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        i = int(np.searchsorted(np.cumsum(lengths), j, side="right"))
        raise data_error(f"label_ids[{i}]", flat[j], f"holds {flat[j].tolist()!r}",
                         "label ids must be integers (no NaN)")
    return flat.astype(np.int64)
