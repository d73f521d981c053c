"""Sufficient statistics of a prediction run: per-class ``tp``, ``pred`` and ``true`` counts.

Labels are encoded once (integers by offset, anything else with :func:`pandas.factorize`)
and counted with :func:`numpy.bincount`; multi-label inputs become sparse indicator
matrices. Nothing here validates user arguments: :func:`curate.metrics.evaluate` does that.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from curate.exceptions import CurateTypeError, CurateValueError

__all__ = ["Counts", "check_class_values", "check_sample_weight", "count_multiclass",
           "count_multilabel", "restrict"]

_DENSE_RANGE = 1 << 22  # integer labels spanning fewer values are counted without sorting


@dataclass(frozen=True)
class Counts:
    """Per-class counts plus the whole-run numbers that do not depend on ``labels=``."""

    labels: list[Any]
    tp: np.ndarray
    pred: np.ndarray
    true: np.ndarray
    n: int | float
    correct: int | float
    balanced_accuracy: float
    majority_label: Any
    majority_count: int | float
    sample_tp: sp.csc_matrix | None = field(default=None, repr=False)
    sample_pred: sp.csc_matrix | None = field(default=None, repr=False)
    sample_true: sp.csc_matrix | None = field(default=None, repr=False)
    sample_weight: np.ndarray | None = field(default=None, repr=False)

    @property
    def names(self) -> list[str]:
        """Class names as scikit-learn prints them (``"%s" % label``)."""
        return [f"{label}" for label in self.labels]


def _as_1d(y: Any, name: str) -> np.ndarray:
    if not isinstance(y, np.ndarray):
        # numpy would turn ["a", nan] into the strings "a", "nan": look at the values first
        obj = np.empty(len(y), dtype=object) if hasattr(y, "__len__") else None
        if obj is not None:
            obj[:] = list(y)
            missing = np.flatnonzero(pd.isna(obj))
            if missing.size:
                raise CurateValueError(
                    f"{name}[{missing[0]}] is missing (None or NaN); every item needs a label")
            if obj.size and pd.api.types.infer_dtype(obj, skipna=False) in (
                    "mixed", "mixed-integer"):
                raise CurateTypeError(
                    f"{name} mixes strings and numbers; use one label type (all str or all "
                    "int)")
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise CurateValueError(
            f"{name} must be 1-d for task='multiclass'; got an array of shape {arr.shape}"
        )
    check_class_values(arr, name)
    return arr


def check_class_values(arr: np.ndarray, name: str) -> None:
    """Float labels must be whole numbers and not NaN (scikit-learn's ``continuous`` rule).

    Examples
    --------
    >>> check_class_values(np.array([0.0, 1.0]), "y_pred")
    >>> check_class_values(np.array([0.0, 0.7]), "y_pred")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    curate.exceptions.CurateValueError: y_pred[1] is 0.7, a continuous value; ...
    """
    values = arr
    if arr.dtype.kind == "O":
        floats = np.fromiter((isinstance(v, float | np.floating) for v in arr.ravel()),
                             dtype=bool, count=arr.size)
        if not floats.any():
            return
        values = np.array([v if f else 0.0 for v, f in zip(arr.ravel(), floats, strict=True)],
                          dtype=np.float64)
    elif arr.dtype.kind != "f":
        return
    flat = np.asarray(values, dtype=np.float64).ravel()
    nan = np.flatnonzero(np.isnan(flat))
    if nan.size:
        raise CurateValueError(
            f"{name}[{nan[0]}] is NaN; every item needs a class label (NaN is not a class)")
    frac = np.flatnonzero(flat != np.round(flat))
    if frac.size:
        raise CurateValueError(
            f"{name}[{frac[0]}] is {flat[frac[0]].tolist()!r}, a continuous value; "
            "classification metrics need class labels. For scores, pass thresholds= "
            "(e.g. thresholds=0.5 or curate.tune_thresholds(...)) or round them yourself")


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
    labels: list[Any], t_counts: np.ndarray, p_counts: np.ndarray, tp: np.ndarray, n: Any,
    weighted: bool = False,
) -> Counts:
    with np.errstate(divide="ignore", invalid="ignore"):
        rec = tp / t_counts
    supported = t_counts > 0
    bal = float(rec[supported].mean()) if supported.any() else float("nan")
    top = int(np.argmax(t_counts)) if t_counts.size else 0
    kind = np.float64 if weighted else np.int64
    if weighted:  # the supports scikit-learn reports: tp + fn and tp + fp, in float
        t_counts = tp + (t_counts - tp)
        p_counts = tp + (p_counts - tp)
    return Counts(
        labels=labels,
        tp=tp.astype(kind),
        pred=p_counts.astype(kind),
        true=t_counts.astype(kind),
        n=n,
        correct=float(tp.sum()) if weighted else int(tp.sum()),
        balanced_accuracy=bal,
        majority_label=labels[top] if labels else None,
        majority_count=(float(t_counts[top]) if weighted else int(t_counts[top]))
        if t_counts.size else 0,
    )


def check_sample_weight(sample_weight: Any, n: int) -> np.ndarray | None:
    """``sample_weight`` as a float64 array of length ``n`` (None stays None).

    Examples
    --------
    >>> check_sample_weight([1, 2], 2)
    array([1., 2.])
    """
    if sample_weight is None:
        return None
    try:
        w = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise CurateTypeError(
            f"sample_weight must be an array of numbers; got {type(sample_weight).__name__}"
        ) from exc
    if w.ndim != 1 or w.shape[0] != n:
        raise CurateValueError(
            f"sample_weight must have shape ({n},), one weight per sample; got {w.shape}")
    bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
    if bad.size:
        raise CurateValueError(
            f"sample_weight[{bad[0]}] is {w[bad[0]].tolist()!r}; weights must be finite "
            "and >= 0")
    if n and not w.any():  # sklearn refuses it too: every weighted count would be 0/0
        raise CurateValueError(
            "sample_weight is 0 for every sample, so every weighted score is 0/0; give at "
            "least one sample a positive weight, or drop sample_weight=")
    return w


def count_multiclass(y_true: Any, y_pred: Any, sample_weight: Any = None) -> Counts:
    """Count a single-label run over the sorted union of labels (weighted if asked).

    Examples
    --------
    >>> c = count_multiclass(["a", "b", "b"], ["a", "a", "b"])
    >>> c.labels, c.tp.tolist(), c.pred.tolist(), c.true.tolist()
    (['a', 'b'], [1, 1], [2, 1], [1, 2])
    >>> count_multiclass([0, 1], [0, 0], sample_weight=[1.0, 2.5]).true.tolist()
    [1.0, 2.5]
    """
    t, p = _as_1d(y_true, "y_true"), _as_1d(y_pred, "y_pred")
    if t.shape[0] != p.shape[0]:
        raise CurateValueError(
            f"y_true and y_pred must have the same length; got {t.shape[0]} and {p.shape[0]}"
        )
    n = int(t.shape[0])
    if n == 0:
        raise CurateValueError(
            "y_true and y_pred are empty (0 samples); at least 1 sample is required")
    w = check_sample_weight(sample_weight, n)
    weighted = w is not None
    total: Any = float(w.sum()) if w is not None else n
    ints = t.dtype.kind in "iub" and p.dtype.kind in "iub"
    if ints:
        lo = int(min(t.min(), p.min()))
        span = int(max(t.max(), p.max())) - lo + 1
        if span <= max(_DENSE_RANGE, 4 * n):
            t0 = t.astype(np.int64, copy=False) - lo
            p0 = p.astype(np.int64, copy=False) - lo
            hit = t0 == p0
            ct_n = np.bincount(t0, minlength=span)
            cp_n = np.bincount(p0, minlength=span)
            ct = ct_n if w is None else np.bincount(t0, weights=w, minlength=span)
            cp = cp_n if w is None else np.bincount(p0, weights=w, minlength=span)
            tp = np.bincount(t0[hit], weights=None if w is None else w[hit], minlength=span)
            keep = np.flatnonzero((ct_n > 0) | (cp_n > 0))
            labels = (keep + lo).tolist()
            if t.dtype.kind == "b" and p.dtype.kind == "b":
                labels = [bool(v) for v in labels]
            return _finish_multiclass(labels, ct[keep], cp[keep], tp[keep], total, weighted)
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
    hit = tc == pc
    tp = np.bincount(tc[hit], weights=None if w is None else w[hit], minlength=k)
    return _finish_multiclass(
        labels, np.bincount(tc, weights=w, minlength=k), np.bincount(pc, weights=w, minlength=k),
        tp, total, weighted,
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
            f"{name} has value {bad.tolist()!r}; a label indicator matrix holds only 0 and 1 "
            "(for scores, pass thresholds=, e.g. thresholds=0.5 or curate.tune_thresholds(...))"
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


def _check_rows(y: Any, name: str) -> None:
    for i, row in enumerate(y):
        if isinstance(row, str | bytes):
            raise CurateTypeError(
                f"{name}[{i}] is the string {row!r}, not a list of labels; multi-label rows "
                f"are lists (write [{row!r}], or [] for no label)")
        if not isinstance(row, Iterable) or isinstance(row, dict):
            raise CurateTypeError(
                f"{name}[{i}] is {row!r} ({type(row).__name__}), not a list of labels")


def count_multilabel(
    y_true: Any, y_pred: Any, *, select: Sequence[int] | None = None, sample_weight: Any = None
) -> Counts:
    """Count a multi-label run given as indicator matrices or per-sample label lists.

    ``select`` keeps those columns of indicator matrices, in that order (scikit-learn's
    ``labels=``); classes are named by column index.

    Examples
    --------
    >>> c = count_multilabel([["a"], ["a", "b"], []], [["a"], ["b"], ["b"]])
    >>> c.labels, c.tp.tolist(), c.pred.tolist(), c.true.tolist(), c.correct
    (['a', 'b'], [1, 1], [1, 2], [2, 1], 1)
    >>> count_multilabel(np.eye(3, dtype=int), np.eye(3, dtype=int), select=[2, 0]).labels
    [2, 0]
    """
    if _is_label_lists(y_true) and _is_label_lists(y_pred):
        _check_rows(y_true, "y_true")
        _check_rows(y_pred, "y_pred")
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
        labels = list(range(t.shape[1]))
        if select is not None:
            odd = [c for c in select if isinstance(c, bool | np.bool_)
                   or not isinstance(c, int | np.integer)]
            if odd:
                raise CurateValueError(
                    f"labels has {odd[0]!r}, but labels= on indicator matrices selects "
                    "columns by index (as scikit-learn), e.g. labels=[0, 2]; name the "
                    "columns with target_names=")
            cols = [int(c) for c in select]
            bad = [c for c in cols if not 0 <= c < t.shape[1]]
            if bad:
                raise CurateValueError(
                    f"labels has column {bad[0]} but the indicator matrices have "
                    f"{t.shape[1]} columns (0..{t.shape[1] - 1}); labels= selects columns "
                    "by index, target_names= names them")
            labels = cols
    if t.shape[0] == 0:
        raise CurateValueError(
            "y_true and y_pred are empty (0 samples); at least 1 sample is required")
    w = check_sample_weight(sample_weight, int(t.shape[0]))
    wrong = (t != p).getnnz(axis=1) > 0
    if select is not None and labels and not _is_label_lists(y_true):
        t, p = t[:, labels].tocsr(), p[:, labels].tocsr()
    both = t.multiply(p).tocsr()
    if w is None:
        true = np.asarray(t.sum(axis=0)).ravel().astype(np.int64)
        pred = np.asarray(p.sum(axis=0)).ravel().astype(np.int64)
        tp = np.asarray(both.sum(axis=0)).ravel().astype(np.int64)
        correct: Any = int((~wrong).sum())
        n: Any = int(t.shape[0])
    else:
        true, pred, tp = (np.asarray(m.T @ w).ravel() for m in (t, p, both))
        correct, n = float(w[~wrong].sum()), float(w.sum())
    counts = _finish_multiclass(labels, true, pred, tp, n, w is not None)
    return replace(
        counts, correct=correct, sample_tp=both.tocsc(), sample_pred=p.tocsc(),
        sample_true=t.tocsc(), sample_weight=w,
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
        out = np.zeros(idx.size, dtype=a.dtype)  # float with sample_weight: never truncate
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
