"""Tag sequences: entity spans with seqeval's conventions, and tagging-scheme detection.

``default`` mode follows ``seqeval.metrics.sequence_labeling.get_entities``: an ``I-X`` that
starts after ``O`` or another type opens a new span (IOB1-style starts are repaired), and
``E-``/``S-`` close spans. ``strict`` mode follows ``seqeval.scheme`` for IOB1, IOB2, IOE1,
IOE2, IOBES and BILOU. Both read prefix-style (``B-PER``) or suffix-style (``PER-B``) tags.
Spans are ``(type, start, end)`` with ``end`` inclusive.

:func:`detect_scheme` tells whether a column of sequences holds tags and in which scheme.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain, islice
from typing import Any

import numpy as np
import pandas as pd

from curate.exceptions import CurateValueError

__all__ = [
    "SCHEMES",
    "TAG_SCHEMES",
    "TagScheme",
    "corpus_spans",
    "detect_scheme",
    "detect_suffix",
    "entities_default",
    "entities_strict",
    "flatten_tags",
    "odd_tags",
    "parse_tag",
    "scheme_from_codes",
    "split_tag",
    "split_tag_strict",
]


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


def entities_default(
    tags: Sequence[str], *, suffix: bool = False
) -> list[tuple[str, int, int]]:
    """Spans of one tag sequence in seqeval's default (lenient) mode.

    ``suffix=True`` reads suffix-style tags (``PER-B``).

    Examples
    --------
    >>> entities_default(["B-PER", "I-PER", "O", "I-LOC", "B-ORG"])
    [('PER', 0, 1), ('LOC', 3, 3), ('ORG', 4, 4)]
    """
    spans: list[tuple[str, int, int]] = []
    prev_tag, prev_type, begin = "O", "", 0
    for i, chunk in enumerate([*tags, "O"]):
        tag, type_ = split_tag(chunk, suffix=suffix)
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
    "IOB1": frozenset("IOB"),
    "IOB2": frozenset("IOB"),
    "IOE1": frozenset("IOE"),
    "IOE2": frozenset("IOE"),
    "IOBES": frozenset("IOBES"),
    "BILOU": frozenset("BILOU"),
}
_KNOWN_PREFIXES = frozenset("IOBESUL")

# prefix codes of the vectorised default mode; every other first character behaves like "X"
_P_O, _P_B, _P_I, _P_E, _P_S, _P_DOT, _P_X = range(7)
_PREFIX_CODE = {"O": _P_O, "B": _P_B, "I": _P_I, "E": _P_E, "S": _P_S, ".": _P_DOT}

# Strict mode as a table of (previous prefix, current prefix) -> type condition, one table
# each for "a chunk starts here", "this token continues the chunk" and "the chunk that
# ended just before this token is well formed". These are the transition rules of
# seqeval.scheme's classes (the definition of each scheme), written as data.
_LETTERS = "OBIESLU"
_SAME, _DIFF, _ANY = 1, 2, 3
_Rule = tuple[str, str, int]  # (previous prefixes, current prefixes, type condition)
_STRICT_RULES: dict[str, dict[str, list[_Rule]]] = {
    "IOB1": {
        "start": [("O", "I", _ANY), ("I", "I", _DIFF), ("B", "I", _ANY), ("I", "B", _SAME),
                  ("B", "B", _SAME)],
        "inside": [("B", "I", _SAME), ("I", "I", _SAME)],
        "end": [("I", "I", _DIFF), ("I", "O", _ANY), ("I", "B", _ANY), ("B", "O", _ANY),
                ("B", "I", _DIFF), ("B", "B", _SAME)],
    },
    "IOE1": {
        "start": [("O", "I", _ANY), ("I", "I", _DIFF), ("E", "I", _ANY), ("E", "E", _SAME)],
        "inside": [("I", "I", _SAME), ("I", "E", _SAME)],
        "end": [("I", "I", _DIFF), ("I", "O", _ANY), ("I", "E", _DIFF), ("E", "I", _SAME),
                ("E", "E", _SAME)],
    },
    "IOB2": {
        "start": [(_LETTERS, "B", _ANY)],
        "inside": [("B", "I", _SAME), ("I", "I", _SAME)],
        "end": [("I", "O", _ANY), ("I", "I", _DIFF), ("I", "B", _ANY), ("B", "O", _ANY),
                ("B", "I", _DIFF), ("B", "B", _ANY)],
    },
    "IOE2": {
        "start": [("O", "I", _ANY), ("O", "E", _ANY), ("E", "I", _ANY), ("E", "E", _ANY),
                  ("I", "I", _DIFF), ("I", "E", _DIFF)],
        "inside": [("I", "E", _SAME), ("I", "I", _SAME)],
        "end": [("E", _LETTERS, _ANY)],
    },
    "IOBES": {
        "start": [(_LETTERS, "B", _ANY), (_LETTERS, "S", _ANY)],
        "inside": [("B", "I", _SAME), ("B", "E", _SAME), ("I", "I", _SAME), ("I", "E", _SAME)],
        "end": [("S", _LETTERS, _ANY), ("E", _LETTERS, _ANY)],
    },
    "BILOU": {
        "start": [(_LETTERS, "B", _ANY), (_LETTERS, "U", _ANY)],
        "inside": [("B", "I", _SAME), ("B", "L", _SAME), ("I", "I", _SAME), ("I", "L", _SAME)],
        "end": [("U", _LETTERS, _ANY), ("L", _LETTERS, _ANY)],
    },
}


def _rule_table(rules: list[_Rule]) -> np.ndarray:
    table = np.zeros((len(_LETTERS), len(_LETTERS)), dtype=np.int8)
    for prevs, curs, cond in rules:
        for a in prevs:
            for b in curs:
                table[_LETTERS.index(a), _LETTERS.index(b)] |= cond
    return table


_STRICT_TABLES = {name: {k: _rule_table(v) for k, v in rules.items()}
                  for name, rules in _STRICT_RULES.items()}


def split_tag(tag: str, *, suffix: bool = False) -> tuple[str, str]:
    """Return ``(prefix, type)`` of a tag as seqeval's default mode reads it.

    ``"O"`` gives ``("O", "_")``. With ``suffix=True`` the prefix is the last character
    (``"PER-B"`` -> ``("B", "PER")``).

    Examples
    --------
    >>> split_tag("B-PER"), split_tag("O"), split_tag("I-creative-work")
    (('B', 'PER'), ('O', '_'), ('I', 'creative-work'))
    >>> split_tag("PER-B", suffix=True)
    ('B', 'PER')
    """
    if suffix:
        return tag[-1:], (tag[:-1].rsplit("-", maxsplit=1)[0] or "_")
    return tag[:1], (tag[1:].split("-", maxsplit=1)[-1] or "_")


def split_tag_strict(tag: str, *, suffix: bool = False) -> tuple[str, str]:
    """Return ``(prefix, type)`` as seqeval's strict mode reads a tag (``scheme.Token``).

    Examples
    --------
    >>> split_tag_strict("B-PER"), split_tag_strict("O"), split_tag_strict("S-creative-work")
    (('B', 'PER'), ('O', '_'), ('S', 'creative-work'))
    >>> split_tag_strict("PER-E", suffix=True)
    ('E', 'PER')
    """
    if suffix:
        return tag[-1:], (tag[:-1].strip("-") or "_")
    return tag[:1], (tag[1:].strip("-") or "_")


def _check_strict(tag: str, scheme: str, suffix: bool = False) -> None:
    prefix = tag[-1:] if suffix else tag[:1]
    if prefix not in SCHEMES[scheme]:
        allowed = ", ".join(sorted(SCHEMES[scheme]))
        raise ValueError(
            f"tag {tag!r} is not valid in scheme {scheme} (allowed prefixes: {allowed})"
        )


def entities_strict(
    tags: Sequence[str], scheme: str = "IOB2", *, suffix: bool = False
) -> list[tuple[str, int, int]]:
    """Spans of one tag sequence in seqeval's strict mode (``mode="strict"``).

    A span opens where the scheme's start rule fires, runs while its inside rule holds,
    and counts only when the scheme's end rule accepts the token after it. IOB2: ``B-X``
    followed by the longest run of ``I-X``. IOBES: ``S-X`` alone, or ``B-X (I-X)* E-X``.
    BILOU: ``U-X``, or ``B-X (I-X)* L-X``. IOE2: ``(I-X)* E-X``. IOB1 and IOE1 follow
    seqeval's rules for them. A tag whose prefix the scheme does not allow raises
    ``ValueError``. Spans are ``(type, start, end)``, ``end`` inclusive.

    Examples
    --------
    >>> entities_strict(["B-PER", "I-PER", "O", "I-LOC", "B-ORG"])
    [('PER', 0, 1), ('ORG', 4, 4)]
    >>> entities_strict(["B-PER", "E-PER", "B-LOC", "O", "S-ORG"], scheme="IOBES")
    [('PER', 0, 1), ('ORG', 4, 4)]
    >>> entities_strict(["I-PER", "I-PER", "B-PER", "O"], scheme="IOB1")
    [('PER', 0, 1), ('PER', 2, 2)]
    """
    codes, lengths, vocab = flatten_tags([list(tags)])
    t, s, e, names = corpus_spans(codes, lengths, vocab, mode="strict", scheme=scheme,
                                  suffix=suffix)
    return [(names[k], a, b) for k, a, b in zip(t.tolist(), s.tolist(), e.tolist(),
                                                  strict=True)]


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
    suffix: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Vectorised spans of a whole encoded corpus: ``(type, start, end, type_names)``.

    Positions are offsets into the corpus laid out as seqeval lays it out (each sequence
    followed by one ``O``), so spans of two corpora with equal lengths can be matched by
    position. ``default`` mode equals :func:`seqeval.metrics.sequence_labeling.get_entities`
    on the nested list, ``strict`` mode equals ``seqeval.scheme.Entities`` (any of
    :data:`SCHEMES`); ``suffix=True`` reads ``PER-B`` style tags.

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
            _check_strict(tag, scheme, suffix)
        parsed = [split_tag_strict(t, suffix=suffix) for t in vocab]
    else:
        parsed = [split_tag(t, suffix=suffix) for t in vocab]
    tcode, names = _type_codes([p[1] for p in parsed])
    typ = tcode[seq]
    if mode == "strict":
        pref = np.array([_LETTERS.index(p[0]) for p in parsed], dtype=np.int8)[seq]
        st, ss, se = _strict_spans(pref, typ, scheme, outside_type=int(tcode[-1]))
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
    pref: np.ndarray, typ: np.ndarray, scheme: str, *, outside_type: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """seqeval's strict scan, vectorised.

    A token is *inside* when the inside rule holds for (previous, current). Tokens that
    are not inside head segments; the scan visits every head, so within a segment the first
    token where the start rule fires opens the one candidate span of that segment, which
    runs to the next head and counts when the end rule holds at that head.
    """
    tables = _STRICT_TABLES[scheme]
    prev_p = np.concatenate(([0], pref[:-1]))  # the sequence starts after an "O"
    prev_t = np.concatenate(([outside_type], typ[:-1]))
    same = prev_t == typ

    pair = prev_p.astype(np.intp) * len(_LETTERS) + pref

    def fires(table: np.ndarray, where: np.ndarray | None = None) -> np.ndarray:
        code = pair if where is None else pair[where]
        same_here = same if where is None else same[where]
        cond = np.take(table.ravel(), code)
        # SAME = 1, DIFF = 2, ANY = 3: fires when the bit of the type relation is set
        return (cond & np.where(same_here, _SAME, _DIFF).astype(np.int8)) != 0

    inside = fires(tables["inside"])
    inside[0] = False
    heads = np.flatnonzero(~inside)
    seg = np.cumsum(~inside) - 1
    at = np.flatnonzero(fires(tables["start"]))
    if at.size:
        at = at[np.concatenate(([True], seg[at][1:] != seg[at][:-1]))]
    stop = heads[seg[at] + 1]
    keep = fires(tables["end"], stop)
    at, stop = at[keep], stop[keep]
    return typ[at], at, stop - 1


# --------------------------------------------------------------------------------------------
# scheme detection: is a column of sequences a tag column, and in which scheme?
# --------------------------------------------------------------------------------------------

TAG_SCHEMES = ("IOB1", "IOB2", "IOE1", "IOE2", "IOBES", "BILOU")
_SCHEME_PREFIXES: dict[str, frozenset[str]] = {
    "IOB1": frozenset("IOB"), "IOB2": frozenset("IOB"), "IOE1": frozenset("IOE"),
    "IOE2": frozenset("IOE"), "IOBES": frozenset("IOBES"), "BILOU": frozenset("BILOU"),
}
# an entity type: non-empty, no whitespace or '-' at either end ("creative-work" is fine)
_TYPE = r"[^\s-](?:.*[^\s-])?"
_PREFIX_STYLE = re.compile(rf"([BIESLU])-({_TYPE})", re.DOTALL)
_SUFFIX_STYLE = re.compile(rf"({_TYPE})-([BIESLU])", re.DOTALL)


@dataclass(frozen=True)
class TagScheme:
    """A tagging scheme detected from data (see :func:`detect_scheme`).

    Attributes
    ----------
    scheme : {"IOB1", "IOB2", "IOE1", "IOE2", "IOBES", "BILOU"}
        The scheme's name, spelled as seqeval spells its scheme classes.
    suffix : bool, default=False
        True for suffix-style tags (``PER-B``), False for prefix style (``B-PER``).

    Examples
    --------
    >>> s = TagScheme("IOBES", suffix=True)
    >>> s.scheme, s.suffix, sorted(s.prefixes)
    ('IOBES', True, ['B', 'E', 'I', 'O', 'S'])
    """

    scheme: str
    suffix: bool = False

    def __post_init__(self) -> None:
        if self.scheme not in TAG_SCHEMES:
            raise CurateValueError(
                f"TagScheme.scheme is {self.scheme!r}; use one of {list(TAG_SCHEMES)}")

    @property
    def prefixes(self) -> frozenset[str]:
        """The one-letter prefixes the scheme allows, ``O`` included.

        Examples
        --------
        >>> sorted(TagScheme("BILOU").prefixes)
        ['B', 'I', 'L', 'O', 'U']
        """
        return _SCHEME_PREFIXES[self.scheme]


def parse_tag(tag: str, *, suffix: bool = False) -> tuple[str, str] | None:
    """``(prefix, type)`` of a well-formed tag, ``("O", "")`` for ``O``, else None.

    A well-formed tag is ``O`` or a capital prefix in ``BIESLU``, a ``-`` and a non-empty
    type (``B-PER``; suffix style ``PER-B``). ``B-``, ``X-PER``, ``b-per`` and ``B PER``
    are not tags.

    Parameters
    ----------
    tag : str
        The tag.
    suffix : bool, default=False
        Read the prefix at the end (``PER-B``).

    Returns
    -------
    tuple of (str, str) or None
        The prefix and the type, or None when ``tag`` is not a well-formed tag.

    Examples
    --------
    >>> parse_tag("B-creative-work"), parse_tag("PER-E", suffix=True), parse_tag("O")
    (('B', 'creative-work'), ('E', 'PER'), ('O', ''))
    >>> parse_tag("B-"), parse_tag("X-PER"), parse_tag("b-per"), parse_tag("PER-B")
    (None, None, None, None)
    """
    if not isinstance(tag, str):
        return None
    if tag == "O":
        return ("O", "")
    if suffix:
        m = _SUFFIX_STYLE.fullmatch(tag)
        return None if m is None else (m.group(2), m.group(1))
    m = _PREFIX_STYLE.fullmatch(tag)
    return None if m is None else (m.group(1), m.group(2))


def odd_tags(tags: Iterable[Any], *, suffix: bool = False) -> list[Any]:
    """The values among ``tags`` that are not well-formed tags (see :func:`parse_tag`).

    Parameters
    ----------
    tags : iterable
        Distinct tag values (a vocabulary).
    suffix : bool, default=False
        Suffix-style tags (``PER-B``).

    Returns
    -------
    list
        The odd values, in the order given.

    Examples
    --------
    >>> odd_tags(["O", "B-PER", "B-", "X-PER", "b-per"])
    ['B-', 'X-PER', 'b-per']
    """
    return [t for t in tags if parse_tag(t, suffix=suffix) is None]


def _scheme_family(prefixes: set[str]) -> str | None:
    """Scheme (or family ``IOB``/``IOE``) the non-``O`` prefixes fit, preferring the smallest."""
    if prefixes <= {"B", "I"}:
        return "IOB"
    if prefixes <= {"E", "I"}:
        return "IOE"
    if prefixes <= {"B", "I", "E", "S"}:
        return "IOBES"
    if prefixes <= {"B", "I", "L", "U"}:
        return "BILOU"
    return None


def _first_vs_second(
    flat: np.ndarray, lengths: np.ndarray, parsed: list[tuple[str, str]], family: str
) -> str:
    """IOB1 or IOB2 (IOE1 or IOE2) by which kind of chunk boundary the data holds more of."""
    letters = "OBIESLU"
    pref = np.array([letters.index(p[0]) for p in parsed], dtype=np.int8)[flat]
    tcode, _ = pd.factorize(np.asarray([p[1] for p in parsed], dtype=object))
    typ = tcode.astype(np.int64)[flat]
    n = flat.size
    first = np.zeros(n, dtype=bool)
    last = np.zeros(n, dtype=bool)
    ends = np.cumsum(lengths)[lengths > 0]
    first[ends - lengths[lengths > 0]] = True
    last[ends - 1] = True
    o, b, i, e = 0, 1, 2, 3
    if family == "IOB":
        # a chunk opens where the previous token is not B-X/I-X of the same type
        prev_p = np.concatenate(([o], pref[:-1]))
        prev_t = np.concatenate(([-1], typ[:-1]))
        joined = ~first & ((prev_p == b) | (prev_p == i)) & (prev_t == typ)
        version_one = int(((pref == i) & ~joined).sum())   # IOB1 opens with I-X
        version_two = int(((pref == b) & ~joined).sum())   # IOB2 opens with B-X
        return "IOB1" if version_one > version_two else "IOB2"
    # IOE: a chunk closes where the next token is not I-X/E-X of the same type
    next_p = np.concatenate((pref[1:], [o]))
    next_t = np.concatenate((typ[1:], [-1]))
    joined = ~last & ((next_p == i) | (next_p == e)) & (next_t == typ)
    version_one = int(((pref == i) & ~joined).sum())       # IOE1 closes with I-X
    version_two = int(((pref == e) & ~joined).sum())       # IOE2 closes with E-X
    return "IOE1" if version_one > version_two else "IOE2"


def detect_suffix(vocabulary: Iterable[Any]) -> bool:
    """Whether more distinct tags read as suffix style (``PER-B``) than as prefix style.

    Examples
    --------
    >>> detect_suffix(["O", "PER-B", "PER-I"]), detect_suffix(["O", "B-PER", "X-PER"])
    (True, False)
    """
    tags = [t for t in vocabulary if t != "O"]
    prefix = sum(parse_tag(t) is not None for t in tags)
    return sum(parse_tag(t, suffix=True) is not None for t in tags) > prefix


def scheme_from_codes(
    codes: np.ndarray, lengths: np.ndarray, vocabulary: Sequence[Any]
) -> TagScheme | None:
    """:func:`detect_scheme` on an encoded corpus (see :func:`flatten_tags`).

    Only the tags that occur in ``codes`` count.

    Examples
    --------
    >>> scheme_from_codes(*flatten_tags([["I-PER", "O"], ["I-LOC"]]))
    TagScheme(scheme='IOB1', suffix=False)
    """
    used = np.flatnonzero(np.bincount(codes, minlength=len(vocabulary)))
    distinct = [vocabulary[int(k)] for k in used]
    if not distinct or not all(isinstance(t, str) for t in distinct):
        return None
    for suffix in (False, True):
        parsed = [parse_tag(t, suffix=suffix) for t in vocabulary]
        if all(parsed[int(k)] is not None for k in used):
            break
    else:
        return None
    ok = [p if p is not None else ("O", "") for p in parsed]
    family = _scheme_family({ok[int(k)][0] for k in used} - {"O"})
    if family is None:
        return None
    if family in ("IOB", "IOE"):
        family = _first_vs_second(codes, lengths, ok, family)
    return TagScheme(family, suffix=suffix)


def detect_scheme(sequences: Iterable[Sequence[str]]) -> TagScheme | None:
    """The tagging scheme of a corpus of tag sequences, or None when it is not one.

    Works on the set of distinct values first: every value must be ``O`` or a well-formed
    tag (:func:`parse_tag`), all in prefix style (``B-PER``) or all in suffix style
    (``PER-B``; prefix style wins when both readings fit every value). The prefixes present
    then pick the scheme: only ``B``/``I`` (or only ``O``) -> IOB1 or IOB2; only
    ``E``/``I`` -> IOE1 or IOE2; ``S`` or ``B`` with ``E`` -> IOBES; ``L`` or ``U`` ->
    BILOU; ``E``/``S`` mixed with ``L``/``U`` -> None.

    IOB1 vs IOB2 is told apart from positions: a chunk *opens* at a tag whose previous
    token (in the same sequence) is not ``B-``/``I-`` of the same type. IOB2 opens every
    chunk with ``B-``; IOB1 opens with ``I-`` and uses ``B-`` only between two touching
    chunks of one type. The corpus is IOB1 when more chunks open with ``I-`` than with
    ``B-``, else IOB2 (so ties, and an ``O``-only column, give IOB2, as seqeval users
    expect). IOE1 vs IOE2 is the mirror image: a chunk *closes* at a tag whose next token
    is not ``I-``/``E-`` of the same type; IOE1 when more chunks close with ``I-`` than
    with ``E-``, else IOE2.

    Parameters
    ----------
    sequences : iterable of sequences of str
        The tag sequences (lists, tuples, numpy arrays...). ``None`` rows are skipped.

    Returns
    -------
    TagScheme or None
        None when any value is not a well-formed tag (``B-``, ``X-PER``, ``b-per``,
        a number, a bare string instead of a sequence), when prefix and suffix styles are
        mixed, when the prefixes fit no single scheme, or when there are no values at all.

    Examples
    --------
    >>> detect_scheme([["B-PER", "I-PER", "O"], ["O", "B-LOC"]])
    TagScheme(scheme='IOB2', suffix=False)
    >>> detect_scheme([["I-PER", "I-PER", "O", "I-LOC", "B-LOC"]])
    TagScheme(scheme='IOB1', suffix=False)
    >>> detect_scheme([["PER-B", "PER-E", "O", "LOC-S"]])
    TagScheme(scheme='IOBES', suffix=True)
    >>> detect_scheme([["O", "O"]]).scheme
    'IOB2'
    >>> detect_scheme([["B-PER", "O"], ["b-per"]]) is None
    True
    """
    seqs = [s for s in sequences if s is not None]
    if any(isinstance(s, str | bytes) for s in seqs):
        return None
    distinct: set[Any] = set()
    try:
        for s in seqs:
            distinct.update(s)
    except TypeError:  # a row is not iterable, or holds unhashable values: not tags
        return None
    if not distinct or not all(isinstance(t, str) for t in distinct):
        return None
    if all(parse_tag(t) is None and parse_tag(t, suffix=True) is None for t in
           islice(distinct, 1)):
        return None  # cheap early exit for columns that are plainly not tags
    vocab = sorted(distinct)
    code = {t: i for i, t in enumerate(vocab)}
    lengths = np.fromiter(map(len, seqs), dtype=np.int64, count=len(seqs))
    flat = np.fromiter(map(code.__getitem__, chain.from_iterable(seqs)), dtype=np.int64,
                       count=int(lengths.sum()))
    return scheme_from_codes(flat, lengths, vocab)
