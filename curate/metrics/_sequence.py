"""Tag sequences (IOB1/IOB2/IOE1/IOE2/IOBES/BILOU): token-level and entity-level counts, vectorised.

Token level treats every token as one single-label item. Entity level extracts spans with
:func:`curate._tags.corpus_spans` (seqeval's default or strict mode) from both corpora laid
out identically, and matches them by ``(start, end)`` and type.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from curate._tags import corpus_spans, flatten_tags
from curate.exceptions import CurateTypeError, CurateValueError
from curate.metrics._counts import Counts, _finish_multiclass

__all__ = ["encode_tags", "entity_counts", "token_counts"]


def _id_names(labels: Sequence[Any] | Mapping[int, Any] | None) -> dict[int, str]:
    if labels is None:
        raise CurateValueError(
            "integer tag ids need names: pass labels= as a list (id -> tag) or a dict "
            "(id2label), e.g. labels=['O', 'B-PER', 'I-PER']"
        )
    items = labels.items() if isinstance(labels, Mapping) else enumerate(labels)
    return {int(k): str(v) for k, v in items}


def _int_tags(
    y_true: Any, y_pred: Any, labels: Any, ignore_index: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    if isinstance(y_true, np.ndarray) and y_true.ndim == 2:
        t, p = y_true, np.asarray(y_pred)
        if t.shape != p.shape:
            raise CurateValueError(
                f"y_true and y_pred must have the same shape; got {t.shape} and {p.shape}"
            )
        mask = t != ignore_index
        lengths = mask.sum(axis=1).astype(np.int64)
        tv, pv = t[mask].astype(np.int64), p[mask].astype(np.int64)
    else:
        _check_lengths(y_true, y_pred)
        empty = [np.zeros(0, dtype=np.int64)]
        tv = np.concatenate([np.asarray(s, dtype=np.int64) for s in y_true] or empty)
        pv = np.concatenate([np.asarray(s, dtype=np.int64) for s in y_pred] or empty)
        keep = tv != ignore_index
        ends = np.cumsum([len(s) for s in y_true])
        kept_before = np.concatenate(([0], np.cumsum(keep)))  # kept tokens before position i
        lengths = np.diff(np.concatenate(([0], kept_before[ends])))
        lengths = lengths.astype(np.int64)
        tv, pv = tv[keep], pv[keep]
    names = _id_names(labels)
    for arr, who in ((tv, "y_true"), (pv, "y_pred")):
        unknown = np.setdiff1d(np.unique(arr), np.fromiter(names, dtype=np.int64))
        if unknown.size:
            raise CurateValueError(
                f"{who} has tag id {unknown[0].tolist()} not in labels (known ids: "
                f"{sorted(names)}); positions where y_true is ignore_index={ignore_index} "
                "are skipped"
            )
    vocab = sorted(set(names.values()))
    where = {name: i for i, name in enumerate(vocab)}
    lut_keys = np.fromiter(names, dtype=np.int64)
    lo = int(lut_keys.min())
    lut = np.zeros(int(lut_keys.max()) - lo + 1, dtype=np.int64)
    for k, v in names.items():
        lut[k - lo] = where[v]
    return lut[tv - lo], lut[pv - lo], lengths, vocab


def _check_lengths(y_true: Sequence[Any], y_pred: Sequence[Any]) -> None:
    if len(y_true) != len(y_pred):
        raise CurateValueError(
            f"y_true and y_pred must hold the same number of sequences; got {len(y_true)} "
            f"and {len(y_pred)}"
        )
    for i, (a, b) in enumerate(zip(y_true, y_pred, strict=True)):
        if isinstance(a, str | bytes) or isinstance(b, str | bytes):
            who, row = ("y_true", a) if isinstance(a, str | bytes) else ("y_pred", b)
            raise CurateTypeError(
                f"{who}[{i}] is the string {row!r}, not a sequence of tags; write "
                f"[{row!r}] for a one-token sequence")
        if len(a) != len(b):
            raise CurateValueError(
                f"y_pred[{i}] has {len(b)} tags but y_true[{i}] has {len(a)}; every predicted "
                "sequence must be as long as its true sequence"
            )


def encode_tags(
    y_true: Any, y_pred: Any, *, labels: Any = None, ignore_index: int = -100
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Encode both corpora over one vocabulary: ``(true_codes, pred_codes, lengths, vocab)``.

    Examples
    --------
    >>> t, p, lengths, vocab = encode_tags([["B-PER", "O"]], [["O", "O"]])
    >>> t.tolist(), p.tolist(), lengths.tolist(), vocab
    ([0, 1], [1, 1], [2], ['B-PER', 'O'])
    >>> encode_tags(np.array([[0, 1, -100]]), np.array([[0, 0, 0]]), labels=["O", "B-X"])[0]
    array([1, 0])
    """
    if isinstance(y_true, np.ndarray) and y_true.ndim == 2 and y_true.dtype.kind in "iu":
        return _int_tags(y_true, y_pred, labels, ignore_index)
    first: Any = next((s for s in y_true if len(s)), [])
    if len(first) and isinstance(first[0], (int, np.integer)) and not isinstance(
            first[0], bool | np.bool_):
        return _int_tags(y_true, y_pred, labels, ignore_index)
    if labels is not None:
        raise CurateValueError(
            "labels= names integer tag ids (labels[i] is the tag of id i); these tags are "
            "already strings, so pass labels=None"
        )
    _check_lengths(y_true, y_pred)
    codes, _, vocab = flatten_tags([*y_true, *y_pred])
    split = sum(map(len, y_true))
    lengths = np.fromiter(map(len, y_true), dtype=np.int64, count=len(y_true))
    bad = [i for i, tag in enumerate(vocab) if not isinstance(tag, str) or not tag]
    if bad:
        raise CurateValueError(
            f"tag {vocab[bad[0]]!r} is not a tag; tags are non-empty strings such as 'B-PER'"
        )
    return codes[:split], codes[split:], lengths, vocab


def token_counts(t: np.ndarray, p: np.ndarray, vocab: Sequence[str]) -> Counts:
    """Single-label counts over tokens, classes = tags present in either corpus.

    Examples
    --------
    >>> token_counts(np.array([0, 1]), np.array([1, 1]), ["B-PER", "O"]).tp.tolist()
    [0, 1]
    """
    k = len(vocab)
    ct, cp = np.bincount(t, minlength=k), np.bincount(p, minlength=k)
    tp = np.bincount(t[t == p], minlength=k)
    keep = np.flatnonzero((ct > 0) | (cp > 0))
    names = [vocab[int(i)] for i in keep]
    return _finish_multiclass(names, ct[keep], cp[keep], tp[keep], int(t.size))


def entity_counts(
    t: np.ndarray,
    p: np.ndarray,
    lengths: np.ndarray,
    vocab: Sequence[str],
    *,
    mode: str = "default",
    scheme: str = "IOB2",
    suffix: bool = False,
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Per entity type ``(types, tp, pred, true)``; types sorted as seqeval sorts them.

    Examples
    --------
    >>> t, p, lengths, vocab = encode_tags([["B-PER", "I-PER", "B-LOC"]],
    ...                                    [["B-PER", "O", "B-LOC"]])
    >>> types, tp, pred, true = entity_counts(t, p, lengths, vocab)
    >>> types, tp.tolist(), pred.tolist(), true.tolist()
    (['LOC', 'PER'], [1, 0], [1, 1], [1, 1])
    """
    try:
        tt, ts, te, tnames = corpus_spans(t, lengths, vocab, mode=mode, scheme=scheme,
                                          suffix=suffix)
        pt, ps, pe, pnames = corpus_spans(p, lengths, vocab, mode=mode, scheme=scheme,
                                          suffix=suffix)
    except ValueError as exc:
        raise CurateValueError(f"{exc}; use mode='default', another scheme=, or fix the tags"
                               ) from exc
    names = sorted(set(np.asarray(tnames)[tt].tolist()) | set(np.asarray(pnames)[pt].tolist()))
    where = {n: i for i, n in enumerate(names)}
    k = len(names)
    tmap = np.array([where.get(n, -1) for n in tnames], dtype=np.int64)
    pmap = np.array([where.get(n, -1) for n in pnames], dtype=np.int64)
    tt, pt = tmap[tt] if tt.size else tt, pmap[pt] if pt.size else pt
    size = int(lengths.sum() + lengths.size + 1)
    tkey, pkey = ts * size + te, ps * size + pe
    order = np.argsort(tkey, kind="stable")
    tkey, tt = tkey[order], tt[order]
    pos = np.clip(np.searchsorted(tkey, pkey), 0, max(tkey.size - 1, 0))
    hit = (tkey.size > 0) & (tkey[pos] == pkey) & (tt[pos] == pt) if tkey.size else (
        np.zeros(pkey.size, dtype=bool)
    )
    tp = np.bincount(pt[hit], minlength=k)
    return names, tp, np.bincount(pt, minlength=k), np.bincount(tt, minlength=k)
