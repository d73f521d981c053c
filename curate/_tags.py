"""Entity spans from BIO/IOB2/IOBES tag sequences, with seqeval's conventions.

``default`` mode follows ``seqeval.metrics.sequence_labeling.get_entities``: an ``I-X`` that
starts after ``O`` or another type opens a new span (IOB1-style starts are repaired), and
``E-``/``S-`` close spans. Spans are ``(type, start, end)`` with ``end`` inclusive.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["entities_default", "split_tag"]


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
