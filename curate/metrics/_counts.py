"""Sufficient statistics of a prediction run: per-class ``tp``, ``pred`` and ``true`` counts.

Labels are encoded once (integers by offset, anything else with :func:`pandas.factorize`)
and counted with :func:`numpy.bincount`; multi-label inputs become sparse indicator
matrices. Nothing here validates user arguments: :func:`curate.metrics.evaluate` does that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from curate.exceptions import CurateTypeError, CurateValueError

__all__ = ["Counts", "count_multiclass", "count_multilabel", "restrict"]

_DENSE_RANGE = 1 << 22  # integer labels spanning fewer values are counted without sorting


@dataclass(frozen=True)
class Counts:
    """Per-class counts plus the whole-run numbers that do not depend on ``labels=``."""

    labels: list[Any]
    tp: np.ndarray
    pred: np.ndarray
    true: np.ndarray
    n: int
    correct: int
    balanced_accuracy: float
    majority_label: Any
    majority_count: int
    sample_tp: sp.csc_matrix | None = field(default=None, repr=False)
    sample_pred: sp.csc_matrix | None = field(default=None, repr=False)
    sample_true: sp.csc_matrix | None = field(default=None, repr=False)

    @property
    def names(self) -> list[str]:
        """Class names as scikit-learn prints them (``"%s" % label``)."""
        return [f"{label}" for label in self.labels]


def _as_1d(y: Any, name: str) -> np.ndarray:
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise CurateValueError(
            f"{name} must be 1-d for task='multiclass'; got an array of shape {arr.shape}"
        )
    return arr


def _check_mixed(values: np.ndarray, name: str) -> None:
    kind = pd.api.types.infer_dtype(values, skipna=False)
    if kind in ("mixed", "mixed-integer"):
        raise CurateTypeError(
            f"{name} mixes strings and numbers; use one label type (all str or all int)"
        )


def _factorize(values: np.ndarray, name: str) -> tuple[np.ndarray, list[Any]]:
    """Sorted codes of arbitrary hashable labels; missing values are an error."""
    missing = np.flatnonzero(pd.isna(values))
    if missing.size:
        raise CurateValueError(
            f"{name}[{missing[0]}] is missing (None or NaN); every item needs a label"
        )
    if values.dtype.kind == "O":
        _check_mixed(values, name)
    try:
        codes, uniques = pd.factorize(values, sort=True)
    except TypeError as exc:
        raise CurateTypeError(f"{name} holds labels that cannot be sorted: {exc}") from exc
    labels = uniques.tolist() if hasattr(uniques, "tolist") else list(uniques)
    return codes.astype(np.int64, copy=False), labels


def _finish_multiclass(
    labels: list[Any], t_counts: np.ndarray, p_counts: np.ndarray, tp: np.ndarray, n: int
) -> Counts:
    with np.errstate(divide="ignore", invalid="ignore"):
        rec = tp / t_counts
    supported = t_counts > 0
    bal = float(rec[supported].mean()) if supported.any() else float("nan")
    top = int(np.argmax(t_counts)) if t_counts.size else 0
    return Counts(
        labels=labels,
        tp=tp.astype(np.int64),
        pred=p_counts.astype(np.int64),
        true=t_counts.astype(np.int64),
        n=n,
        correct=int(tp.sum()),
        balanced_accuracy=bal,
        majority_label=labels[top] if labels else None,
        majority_count=int(t_counts[top]) if t_counts.size else 0,
    )


def count_multiclass(y_true: Any, y_pred: Any) -> Counts:
    """Count a single-label run over the sorted union of labels.

    Examples
    --------
    >>> c = count_multiclass(["a", "b", "b"], ["a", "a", "b"])
    >>> c.labels, c.tp.tolist(), c.pred.tolist(), c.true.tolist()
    (['a', 'b'], [1, 1], [2, 1], [1, 2])
    """
    t, p = _as_1d(y_true, "y_true"), _as_1d(y_pred, "y_pred")
    if t.shape[0] != p.shape[0]:
        raise CurateValueError(
            f"y_true and y_pred must have the same length; got {t.shape[0]} and {p.shape[0]}"
        )
    n = int(t.shape[0])
    ints = t.dtype.kind in "iub" and p.dtype.kind in "iub"
    if ints and n:
        lo = int(min(t.min(), p.min()))
        span = int(max(t.max(), p.max())) - lo + 1
        if span <= max(_DENSE_RANGE, 4 * n):
            t0 = t.astype(np.int64, copy=False) - lo
            p0 = p.astype(np.int64, copy=False) - lo
            ct = np.bincount(t0, minlength=span)
            cp = np.bincount(p0, minlength=span)
            tp = np.bincount(t0[t0 == p0], minlength=span)
            keep = np.flatnonzero((ct > 0) | (cp > 0))
            labels = (keep + lo).tolist()
            if t.dtype.kind == "b" and p.dtype.kind == "b":
                labels = [bool(v) for v in labels]
            return _finish_multiclass(labels, ct[keep], cp[keep], tp[keep], n)
    if (t.dtype.kind in "iufb" and p.dtype.kind in "USO") or (
        p.dtype.kind in "iufb" and t.dtype.kind in "USO"
    ):
        raise CurateTypeError(
            "y_true and y_pred mix strings and numbers; use one label type (all str or all int)"
        )
    for arr, who in ((t, "y_true"), (p, "y_pred")):
        missing: Any = np.flatnonzero(pd.isna(arr)) if arr.dtype.kind in "Of" else []
        if len(missing):
            raise CurateValueError(
                f"{who}[{missing[0]}] is missing (None or NaN); every item needs a label"
            )
    both = np.concatenate((t.astype(object), p.astype(object))) if t.dtype != p.dtype else (
        np.concatenate((t, p))
    )
    codes, labels = _factorize(both, "y_true and y_pred")
    k = len(labels)
    tc, pc = codes[:n], codes[n:]
    tp = np.bincount(tc[tc == pc], minlength=k)
    return _finish_multiclass(
        labels, np.bincount(tc, minlength=k), np.bincount(pc, minlength=k), tp, n
    )


def _is_label_lists(y: Any) -> bool:
    if sp.issparse(y) or (isinstance(y, np.ndarray) and y.ndim == 2 and y.dtype != object):
        return False
    return True


def _indicator(y: Any, name: str) -> sp.csr_matrix:
    mat = sp.csr_matrix(y) if sp.issparse(y) else sp.csr_matrix(np.asarray(y))
    if mat.nnz and not np.isin(mat.data, (0, 1)).all():
        bad = mat.data[~np.isin(mat.data, (0, 1))][0]
        raise CurateValueError(
            f"{name} has value {bad.tolist()!r}; a label indicator matrix holds only 0 and 1"
        )
    mat = mat.astype(np.int8)
    mat.eliminate_zeros()
    return mat


def _lists_to_indicator(
    y_true: Sequence[Any], y_pred: Sequence[Any]
) -> tuple[sp.csr_matrix, sp.csr_matrix, list[Any]]:
    lens = [np.fromiter(map(len, y), dtype=np.int64, count=len(y)) for y in (y_true, y_pred)]
    flat = list(chain.from_iterable(y_true)) + list(chain.from_iterable(y_pred))
    if flat:
        codes, labels = _factorize(np.asarray(flat, dtype=object), "y_true and y_pred labels")
    else:
        codes, labels = np.zeros(0, dtype=np.int64), []
    split = int(lens[0].sum())
    mats = []
    for part, ln in ((codes[:split], lens[0]), (codes[split:], lens[1])):
        indptr = np.concatenate(([0], np.cumsum(ln)))
        m = sp.csr_matrix(
            (np.ones(part.size, dtype=np.int8), part, indptr), shape=(ln.size, len(labels))
        )
        m.sum_duplicates()
        m.data[:] = 1
        mats.append(m)
    return mats[0], mats[1], labels


def count_multilabel(
    y_true: Any, y_pred: Any, *, column_names: Sequence[Any] | None = None
) -> Counts:
    """Count a multi-label run given as indicator matrices or per-sample label lists.

    Examples
    --------
    >>> c = count_multilabel([["a"], ["a", "b"], []], [["a"], ["b"], ["b"]])
    >>> c.labels, c.tp.tolist(), c.pred.tolist(), c.true.tolist(), c.correct
    (['a', 'b'], [1, 1], [1, 2], [2, 1], 1)
    """
    if _is_label_lists(y_true) and _is_label_lists(y_pred):
        if len(y_true) != len(y_pred):
            raise CurateValueError(
                f"y_true and y_pred must have the same length; got {len(y_true)} and {len(y_pred)}"
            )
        t, p, labels = _lists_to_indicator(y_true, y_pred)
    else:
        t, p = _indicator(y_true, "y_true"), _indicator(y_pred, "y_pred")
        if t.shape != p.shape:
            raise CurateValueError(
                f"y_true and y_pred must have the same shape; got {t.shape} and {p.shape}"
            )
        labels = list(column_names) if column_names is not None else list(range(t.shape[1]))
        if len(labels) != t.shape[1]:
            raise CurateValueError(
                f"labels has {len(labels)} names but the indicator matrices have "
                f"{t.shape[1]} columns; give one name per column"
            )
    both = t.multiply(p).tocsr()
    true = np.asarray(t.sum(axis=0)).ravel().astype(np.int64)
    pred = np.asarray(p.sum(axis=0)).ravel().astype(np.int64)
    tp = np.asarray(both.sum(axis=0)).ravel().astype(np.int64)
    correct = int(((t != p).getnnz(axis=1) == 0).sum())
    counts = _finish_multiclass(labels, true, pred, tp, int(t.shape[0]))
    return replace(
        counts, correct=correct, sample_tp=both.tocsc(), sample_pred=p.tocsc(),
        sample_true=t.tocsc(),
    )


def restrict(counts: Counts, labels: Sequence[Any]) -> Counts:
    """Counts of ``labels`` only, in that order (absent labels count zero), like sklearn.

    Examples
    --------
    >>> c = restrict(count_multiclass([1, 2, 2], [1, 1, 2]), [2, 5])
    >>> c.labels, c.tp.tolist(), c.true.tolist()
    ([2, 5], [1, 0], [2, 0])
    """
    where = {label: i for i, label in enumerate(counts.labels)}
    idx = np.array([where.get(label, -1) for label in labels], dtype=np.int64)
    found = idx >= 0

    def pick(a: np.ndarray) -> np.ndarray:
        out = np.zeros(idx.size, dtype=np.int64)
        out[found] = a[idx[found]]
        return out

    extra: dict[str, Any] = {}
    if counts.sample_tp is not None:
        cols = idx[found]
        for key in ("sample_tp", "sample_pred", "sample_true"):
            extra[key] = getattr(counts, key)[:, cols]
    return replace(
        counts, **extra, labels=list(labels), tp=pick(counts.tp), pred=pick(counts.pred),
        true=pick(counts.true),
    )
