"""Entity spans from BIO/IOB2/IOBES tag sequences, with seqeval's conventions.

``default`` mode follows ``seqeval.metrics.sequence_labeling.get_entities``: an ``I-X`` that
starts after ``O`` or another type opens a new span (IOB1-style starts are repaired), and
``E-``/``S-`` close spans. Spans are ``(type, start, end)`` with ``end`` inclusive.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain

import numpy as np
import pandas as pd

__all__ = [
    "SCHEMES",
    "corpus_spans",
    "entities_default",
    "entities_strict",
    "flatten_tags",
    "split_tag",
    "split_tag_strict",
]


def split_tag(tag: str) -> tuple[str, str]:
    """Return ``(prefix, type)`` of a tag as seqeval reads it (``"O"`` -> ``("O", "_")``).

    Examples
    --------
    >>> split_tag("B-PER"), split_tag("O"), split_tag("I-creative-work")
    (('B', 'PER'), ('O', '_'), ('I', 'creative-work'))
    """
    return tag[:1], (tag[1:].split("-", maxsplit=1)[-1] or "_")


def _ends(prev_tag: str, tag: str, prev_type: str, type_: str) -> bool:
    if prev_tag in ("E", "S"):
        return True
    if prev_tag in ("B", "I") and tag in ("B", "S", "O"):
        return True
    return prev_tag not in ("O", ".") and prev_type != type_


def _starts(prev_tag: str, tag: str, prev_type: str, type_: str) -> bool:
    if tag in ("B", "S"):
        return True
    if prev_tag in ("E", "S", "O") and tag in ("E", "I"):
        return True
    return tag not in ("O", ".") and prev_type != type_


def entities_default(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """Spans of one tag sequence in seqeval's default (lenient) mode.

    Examples
    --------
    >>> entities_default(["B-PER", "I-PER", "O", "I-LOC", "B-ORG"])
    [('PER', 0, 1), ('LOC', 3, 3), ('ORG', 4, 4)]
    """
    spans: list[tuple[str, int, int]] = []
    prev_tag, prev_type, begin = "O", "", 0
    for i, chunk in enumerate([*tags, "O"]):
        tag, type_ = split_tag(chunk)
        if _ends(prev_tag, tag, prev_type, type_):
            spans.append((prev_type, begin, i - 1))
        if _starts(prev_tag, tag, prev_type, type_):
            begin = i
        prev_tag, prev_type = tag, type_
    return spans


# --------------------------------------------------------------------------------------------
# strict mode (seqeval ``mode="strict"``) and a vectorised path over a whole corpus
# --------------------------------------------------------------------------------------------

SCHEMES: dict[str, frozenset[str]] = {
    "IOB2": frozenset("IOB"),
    "IOBES": frozenset("IOBES"),
}
_KNOWN_PREFIXES = frozenset("IOBESUL")

# prefix codes of the vectorised default mode; every other first character behaves like "X"
_P_O, _P_B, _P_I, _P_E, _P_S, _P_DOT, _P_X = range(7)
_PREFIX_CODE = {"O": _P_O, "B": _P_B, "I": _P_I, "E": _P_E, "S": _P_S, ".": _P_DOT}


def split_tag_strict(tag: str) -> tuple[str, str]:
    """Return ``(prefix, type)`` as seqeval's strict mode reads a tag (``scheme.Token``).

    Examples
    --------
    >>> split_tag_strict("B-PER"), split_tag_strict("O"), split_tag_strict("S-creative-work")
    (('B', 'PER'), ('O', '_'), ('S', 'creative-work'))
    """
    return tag[:1], (tag[1:].strip("-") or "_")


def _check_strict(tag: str, scheme: str) -> None:
    prefix = tag[:1]
    if prefix not in SCHEMES[scheme]:
        allowed = ", ".join(sorted(SCHEMES[scheme]))
        raise ValueError(
            f"tag {tag!r} is not valid in scheme {scheme} (allowed prefixes: {allowed})"
        )


def entities_strict(tags: Sequence[str], scheme: str = "IOB2") -> list[tuple[str, int, int]]:
    """Spans of one tag sequence in seqeval's strict mode (``mode="strict"``).

    IOB2: a span is ``B-X`` followed by the longest run of ``I-X``; an ``I-X`` that does not
    continue such a run belongs to no span. IOBES: ``S-X`` alone, or ``B-X (I-X)* E-X``; a
    ``B-X`` run that does not close with ``E-X`` is dropped. A tag whose prefix the scheme
    does not allow raises ``ValueError``. Spans are ``(type, start, end)``, ``end`` inclusive.

    Examples
    --------
    >>> entities_strict(["B-PER", "I-PER", "O", "I-LOC", "B-ORG"])
    [('PER', 0, 1), ('ORG', 4, 4)]
    >>> entities_strict(["B-PER", "E-PER", "B-LOC", "O", "S-ORG"], scheme="IOBES")
    [('PER', 0, 1), ('ORG', 4, 4)]
    """
    for tag in tags:
        _check_strict(tag, scheme)
    parsed = [split_tag_strict(t) for t in tags] + [("O", "_")]
    spans: list[tuple[str, int, int]] = []
    for i, (prefix, type_) in enumerate(parsed[:-1]):
        if prefix == "S" and scheme == "IOBES":
            spans.append((type_, i, i))
        if prefix != "B":
            continue
        j, prev = i + 1, prefix
        inside = ("I", "E") if scheme == "IOBES" else ("I",)
        while parsed[j][0] in inside and prev in ("B", "I") and parsed[j][1] == type_:
            prev = parsed[j][0]
            j += 1
        if scheme == "IOB2" or prev == "E":
            spans.append((type_, i, j - 1))
    return spans


def flatten_tags(
    sequences: Sequence[Sequence[str]],
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Encode a corpus of tag sequences: ``(codes, lengths, vocabulary)``.

    ``codes`` holds one int per token (an index into ``vocabulary``), ``lengths`` the
    length of each sequence.

    Examples
    --------
    >>> codes, lengths, vocab = flatten_tags([["B-PER", "O"], ["O"]])
    >>> codes.tolist(), lengths.tolist(), vocab
    ([0, 1, 1], [2, 1], ['B-PER', 'O'])
    """
    lengths = np.fromiter(map(len, sequences), dtype=np.int64, count=len(sequences))
    flat = list(chain.from_iterable(sequences))
    if not flat:
        return np.zeros(0, dtype=np.int64), lengths, []
    codes, uniques = pd.factorize(np.asarray(flat, dtype=object), sort=True)
    return codes.astype(np.int64, copy=False), lengths, [str(u) for u in uniques]


def _with_separators(codes: np.ndarray, lengths: np.ndarray, fill: int) -> np.ndarray:
    """Insert one ``fill`` after every sequence and one more at the end (seqeval's layout)."""
    out = np.full(codes.size + lengths.size + 1, fill, dtype=np.int64)
    pos = np.arange(codes.size) + np.repeat(np.arange(lengths.size), lengths)
    out[pos] = codes
    return out


def _type_codes(types: list[str]) -> tuple[np.ndarray, list[str]]:
    codes, uniques = pd.factorize(np.asarray(types, dtype=object), sort=True)
    return codes.astype(np.int64, copy=False), [str(u) for u in uniques]


def corpus_spans(
    codes: np.ndarray,
    lengths: np.ndarray,
    vocabulary: Sequence[str],
    *,
    mode: str = "default",
    scheme: str = "IOB2",
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Vectorised spans of a whole encoded corpus: ``(type, start, end, type_names)``.

    Positions are offsets into the corpus laid out as seqeval lays it out (each sequence
    followed by one ``O``), so spans of two corpora with equal lengths can be matched by
    position. ``default`` mode equals :func:`seqeval.metrics.sequence_labeling.get_entities`
    on the nested list, ``strict`` mode equals ``seqeval.scheme.Entities``.

    Examples
    --------
    >>> codes, lengths, vocab = flatten_tags([["B-PER", "I-PER", "O"], ["I-LOC"]])
    >>> t, s, e, names = corpus_spans(codes, lengths, vocab)
    >>> [(names[k], a, b) for k, a, b in zip(t.tolist(), s.tolist(), e.tolist())]
    [('PER', 0, 1), ('LOC', 4, 4)]
    """
    vocab = [*vocabulary, "O"]
    if any(tag == "" for tag in vocab):
        raise ValueError("tag '' is empty; every tag needs at least a prefix such as 'O'")
    seq = _with_separators(codes, lengths, len(vocab) - 1)
    if mode == "strict":
        for tag in vocab:
            _check_strict(tag, scheme)
        parsed = [split_tag_strict(t) for t in vocab]
    else:
        parsed = [split_tag(t) for t in vocab]
    tcode, names = _type_codes([p[1] for p in parsed])
    typ = tcode[seq]
    if mode == "strict":
        pref = np.array([p[0] for p in parsed])[seq]
        st, ss, se = _strict_spans(pref, typ, scheme)
        return st, ss, se, names
    pcode = np.array([_PREFIX_CODE.get(p[0], _P_X) for p in parsed], dtype=np.int8)[seq]
    dt, ds, de = _default_spans(pcode, typ)
    return dt, ds, de, names


def _default_spans(
    pref: np.ndarray, typ: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    prev_p = np.concatenate(([_P_O], pref[:-1]))
    prev_t = np.concatenate(([-1], typ[:-1]))
    diff = prev_t != typ
    prev_bi = (prev_p == _P_B) | (prev_p == _P_I)
    ends = (
        (prev_p == _P_E)
        | (prev_p == _P_S)
        | (prev_bi & np.isin(pref, (_P_B, _P_S, _P_O)))
        | ((prev_p != _P_O) & (prev_p != _P_DOT) & diff)
    )
    starts = (
        (pref == _P_B)
        | (pref == _P_S)
        | (np.isin(prev_p, (_P_E, _P_S, _P_O)) & ((pref == _P_E) | (pref == _P_I)))
        | ((pref != _P_O) & (pref != _P_DOT) & diff)
    )
    idx = np.arange(pref.size)
    begin = np.maximum.accumulate(np.where(starts, idx, 0))
    at = np.flatnonzero(ends)
    return typ[at - 1], begin[at - 1], at - 1


def _strict_spans(
    pref: np.ndarray, typ: np.ndarray, scheme: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    is_b, is_i = pref == "B", pref == "I"
    inside = (is_i | (pref == "E")) if scheme == "IOBES" else is_i
    prev_bi = np.concatenate(([False], (is_b | is_i)[:-1]))
    same = np.concatenate(([False], typ[1:] == typ[:-1]))
    cont = inside & prev_bi & same
    idx = np.arange(pref.size)
    breaks = np.where(cont, pref.size, idx)
    next_break = np.minimum.accumulate(breaks[::-1])[::-1]
    b_at = np.flatnonzero(is_b)
    stop = next_break[b_at + 1] - 1
    if scheme == "IOBES":
        keep = pref[stop] == "E"
        b_at, stop = b_at[keep], stop[keep]
        s_at = np.flatnonzero(pref == "S")
        b_at, stop = np.concatenate((b_at, s_at)), np.concatenate((stop, s_at))
        order = np.argsort(b_at, kind="stable")
        b_at, stop = b_at[order], stop[order]
    return typ[b_at], b_at, stop
