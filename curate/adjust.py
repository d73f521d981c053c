"""Class priors and post-hoc logit adjustment (Menon et al. 2021), with ``tau`` tuned on validation.

One artifact feeds everything: :func:`priors_from` turns a :class:`~curate.LabelTable`, a
:class:`~curate.ClassWeights` (its counts) or an array of counts into priors, and the same
priors go to :func:`logit_adjust`, :func:`tune_tau` and the losses
(:class:`~curate.losses.LogitAdjustedLoss`, :class:`~curate.losses.BalancedSoftmaxLoss`,
:class:`~curate.losses.DistributionBalancedLoss`).

This module works on numpy arrays and on torch tensors without importing torch itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from curate._validation import (
    Options,
    check_bool,
    check_float,
    check_int,
    check_param,
    param_error,
)
from curate.exceptions import CurateTypeError, CurateValueError

__all__ = ["TauSearch", "logit_adjust", "priors_from", "tune_tau"]

DEFAULT_GRID = tuple(round(0.1 * i, 1) for i in range(21))  # 0.0, 0.1, ..., 2.0
_METRICS = Options({"balanced_accuracy", "macro_f1"})


# ---------------------------------------------------------------------------- priors
def _is_tensor(x: Any) -> bool:
    return type(x).__module__.startswith("torch") and hasattr(x, "detach")


def _is_table(x: Any) -> bool:
    return hasattr(x, "support") and hasattr(x, "n_samples") and hasattr(x, "matrix")


def _raw_counts(counts: Any) -> tuple[np.ndarray, list[str] | None]:
    """Per-class values and class names (when known) of any accepted source."""
    if _is_table(counts):
        return np.asarray(counts.counts.to_numpy()), list(counts.classes)
    if hasattr(counts, "weights") and hasattr(counts, "counts") and hasattr(counts, "classes"):
        return np.asarray(counts.counts), list(counts.classes)  # ClassWeights
    if hasattr(counts, "to_numpy") and hasattr(counts, "index"):  # pandas Series
        return np.asarray(counts.to_numpy()), [str(k) for k in counts.index]
    if isinstance(counts, Mapping):
        return np.asarray(list(counts.values())), [str(k) for k in counts]
    if _is_tensor(counts):
        return counts.detach().cpu().numpy(), None
    if isinstance(counts, str | bytes) or counts is None:
        raise CurateTypeError(
            "priors_from expects a LabelTable, ClassWeights, Series, dict, tensor or 1-D array "
            f"of per-class counts; got {type(counts).__name__}"
        )
    try:
        return np.asarray(counts), None
    except (TypeError, ValueError) as exc:  # ragged nested lists
        raise CurateTypeError(f"priors_from expects a 1-D array of per-class counts; got "
                              f"{type(counts).__name__} that numpy cannot read") from exc


def _name(i: int, names: Sequence[str] | None) -> str:
    return f"counts[{i}]" + (f" ({names[i]!r})" if names is not None else "")


def _check_values(values: np.ndarray, names: list[str] | None) -> np.ndarray:
    if values.dtype == object or values.dtype.kind not in "biuf":
        raise CurateTypeError(
            f"priors_from expects numeric per-class counts; got an array of dtype {values.dtype}"
        )
    if values.ndim != 1 or values.size == 0:
        raise CurateValueError(
            f"priors_from expects a 1-D array with one count per class; got shape {values.shape}"
        )
    v = values.astype(np.float64)
    bad = np.flatnonzero(~np.isfinite(v) | (v < 0))
    if bad.size:
        i = int(bad[0])
        raise CurateValueError(
            f"{_name(i, names)} is {v[i].tolist()}; counts and priors must be finite and >= 0"
        )
    return v


def _zero_error(i: int, names: list[str] | None, what: str) -> CurateValueError:
    return CurateValueError(
        f"{_name(i, names)} gives a prior of {what}, whose log is infinite; pass smoothing=1 "
        "(add-one) or drop the class"
    )


def priors_from(
    counts: Any,
    *,
    multilabel: bool = False,
    n_samples: int | None = None,
    smoothing: float = 0.0,
) -> np.ndarray:
    """Class priors from a LabelTable, a ClassWeights' counts, or an array of counts.

    Single-label (``multilabel=False``): ``pi_c = (n_c + s) / sum_k (n_k + s)``, a
    distribution over the classes (an array of priors is renormalised to sum to 1).
    Multi-label (``multilabel=True``): the positive rate of each class,
    ``p_c = (n_c + s) / (N + 2 s)`` with ``n_c`` the number of samples holding class ``c``
    and ``N`` the number of samples.

    Parameters
    ----------
    counts : LabelTable, ClassWeights, Series, dict, tensor or array-like of shape (n_classes,)
        A :class:`~curate.LabelTable` (single-label: its ``counts``; multi-label: its
        ``support`` and ``n_samples``), a :class:`~curate.ClassWeights` (its ``counts``), or
        per-class counts in label-id order. With ``multilabel=True``, no ``n_samples`` and
        not a LabelTable, the values are taken as positive rates already (each in (0, 1)).
    multilabel : bool, default=False
        Return per-class positive rates instead of a distribution.
    n_samples : int, default=None
        ``N`` for ``multilabel=True`` when ``counts`` is not a LabelTable.
    smoothing : float >= 0, default=0.0
        Pseudo-count ``s`` added to every class (1 is add-one smoothing); needed when a
        class has no count, since ``log(0)`` is infinite.

    Returns
    -------
    ndarray of float64 of shape (n_classes,)

    Raises
    ------
    ValueError
        A count is negative or not finite, a prior would be 0 (or a multi-label rate 1), or
        ``n_samples`` is smaller than a count.

    Examples
    --------
    >>> import curate
    >>> from curate.adjust import priors_from
    >>> priors_from([900, 90, 10]).tolist()
    [0.9, 0.09, 0.01]
    >>> t = curate.LabelTable.from_labels([["a", "b"], ["a"], ["a"], []])
    >>> priors_from(t, multilabel=True).tolist()  # a is in 3 of 4 samples, b in 1
    [0.75, 0.25]
    >>> priors_from([5, 0], smoothing=1.0).round(3).tolist()
    [0.857, 0.143]
    """
    check_float("smoothing", smoothing, "priors_from", low=0)
    if not np.isfinite(smoothing):
        raise param_error("smoothing", "priors_from", "a finite float >= 0", smoothing)
    multilabel = check_bool("multilabel", multilabel, "priors_from")
    if multilabel:
        return _multilabel_priors(counts, n_samples, float(smoothing))
    if n_samples is not None:
        raise CurateValueError(
            "priors_from uses n_samples only with multilabel=True; drop n_samples for "
            "single-label priors"
        )
    values, names = _raw_counts(counts)
    v = _check_values(values, names) + smoothing
    zero = np.flatnonzero(v == 0)
    if zero.size:
        raise _zero_error(int(zero[0]), names, "0")
    return v / v.sum()


def _multilabel_priors(counts: Any, n_samples: int | None, s: float) -> np.ndarray:
    names: list[str] | None
    if _is_table(counts):
        if n_samples is not None:
            raise CurateValueError(
                "priors_from reads n_samples from the LabelTable; drop the n_samples argument"
            )
        values, names = counts.support.to_numpy(), list(counts.classes)
        n_samples = int(counts.n_samples)
    else:
        values, names = _raw_counts(counts)
    v = _check_values(values, names)
    if n_samples is None:
        if s != 0:
            raise CurateValueError(
                "smoothing needs counts: pass n_samples=N with per-class counts, or smoothing=0 "
                "with positive rates"
            )
        if values.dtype.kind in "biu":
            raise CurateValueError(
                "priors_from(multilabel=True) got integer counts without n_samples; pass "
                "n_samples=N (the number of samples) or positive rates in (0, 1)"
            )
        rates = v
    else:
        check_int("n_samples", n_samples, "priors_from", low=1)
        over = np.flatnonzero(v > n_samples)
        if over.size:
            i = int(over[0])
            raise CurateValueError(
                f"{_name(i, names)} is {v[i].tolist()} > n_samples={n_samples}; a class cannot "
                "be in more samples than there are"
            )
        rates = (v + s) / (n_samples + 2 * s)
    bad = np.flatnonzero((rates <= 0) | (rates >= 1))
    if bad.size:
        i = int(bad[0])
        raise _zero_error(i, names, f"{rates[i].tolist()} (a rate must lie in (0, 1))")
    return rates


# ---------------------------------------------------------------------------- adjustment
def _check_tau(tau: Any, owner: str) -> float:
    check_float("tau", tau, owner, low=0)
    if not np.isfinite(tau):
        raise param_error("tau", owner, "a finite float >= 0", tau)
    return float(tau)


def _class_axis_error(shape: tuple[int, ...], n: int, owner: str) -> CurateValueError:
    return CurateValueError(
        f"{owner} got logits of shape {shape} but {n} priors; the logits' last axis must hold "
        "one score per class, in the priors' order"
    )


def logit_adjust(logits: Any, priors: Any, tau: float = 1.0) -> Any:
    """Post-hoc logit adjustment: ``logits - tau * log(priors)`` (Menon et al. 2021).

    For a model trained with plain cross-entropy, predicting ``argmax_y f_y(x) - tau log pi_y``
    trades head-class accuracy for tail-class recall; ``tau = 1`` is the balanced-error
    optimum when the model's softmax is calibrated, and :func:`tune_tau` picks ``tau`` on
    validation data. The class axis is the last one.

    Parameters
    ----------
    logits : ndarray, tensor or array-like of shape (..., n_classes)
        Scores of an already-trained model, classes last.
    priors : LabelTable, ClassWeights, array-like of shape (n_classes,)
        Training class priors or counts, as :func:`priors_from` accepts them (normalised to
        a distribution; the normalisation shifts every logit equally, so it changes no
        prediction and no softmax).
    tau : float >= 0, default=1.0
        Strength; 0 returns the logits unchanged (as a new array).

    Returns
    -------
    ndarray or Tensor
        Same shape as ``logits``. A tensor stays a tensor on its device (autograd flows
        through it); ``float16``/``bfloat16`` tensors are computed and returned in
        ``float32``. Arrays come back as ``float32`` for ``float16``/``float32`` input and
        ``float64`` otherwise.

    References
    ----------
    A. K. Menon, S. Jayasumana, A. S. Rawat, H. Jain, A. Veit and S. Kumar, "Long-tail
    learning via logit adjustment", ICLR 2021.

    Examples
    --------
    >>> import numpy as np
    >>> import curate
    >>> logits = np.array([[2.0, 1.0], [2.0, 2.5]])
    >>> curate.logit_adjust(logits, [0.9, 0.1]).round(3)
    array([[2.105, 3.303],
           [2.105, 4.803]])
    >>> curate.logit_adjust(logits, [0.9, 0.1]).argmax(axis=1)  # the rare class wins both
    array([1, 1])
    """
    tau = _check_tau(tau, "logit_adjust")
    log_prior = np.log(priors_from(priors))
    if _is_tensor(logits):
        import torch

        if logits.ndim < 1 or logits.shape[-1] != log_prior.size:
            raise _class_axis_error(tuple(logits.shape), log_prior.size, "logit_adjust")
        if not logits.dtype.is_floating_point:
            raise CurateTypeError(f"logit_adjust expects floating-point logits; got "
                                  f"{logits.dtype}")
        dtype = torch.float32 if logits.dtype in (torch.float16, torch.bfloat16) else logits.dtype
        shift = torch.as_tensor(tau * log_prior, dtype=dtype, device=logits.device)
        return logits.to(dtype) - shift
    try:
        z = np.asarray(logits)
    except (TypeError, ValueError) as exc:  # ragged nested lists
        raise CurateTypeError(f"logit_adjust expects an array of logits; got "
                              f"{type(logits).__name__}") from exc
    if z.dtype.kind not in "biuf":
        raise CurateTypeError(f"logit_adjust expects numeric logits; got dtype {z.dtype}")
    if z.ndim < 1 or z.shape[-1] != log_prior.size:
        raise _class_axis_error(z.shape, log_prior.size, "logit_adjust")
    dtype = np.result_type(z.dtype, np.float32)
    return (z.astype(np.float64) - tau * log_prior).astype(dtype)


# ---------------------------------------------------------------------------- tuning
@dataclass(frozen=True)
class TauSearch:
    """Result of :func:`tune_tau`: the chosen ``tau`` and the validation score of every value.

    Parameters
    ----------
    tau : float
        The chosen value.
    score : float
        Its validation score.
    metric : str
        ``"balanced_accuracy"`` or ``"macro_f1"``.
    grid : tuple of float
        The candidate values, ascending.
    scores : tuple of float
        The score of each candidate, in ``grid`` order.

    Examples
    --------
    >>> from curate.adjust import TauSearch
    >>> TauSearch(1.0, 0.8, "macro_f1", (0.0, 1.0), (0.7, 0.8)).tau
    1.0
    """

    tau: float
    score: float
    metric: str
    grid: tuple[float, ...]
    scores: tuple[float, ...]


def _confusion(y: np.ndarray, pred: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(y * n + pred, minlength=n * n).reshape(n, n)


def _balanced_accuracy(cm: np.ndarray) -> float:
    """Mean recall over the classes present in y (sklearn's ``balanced_accuracy_score``)."""
    support = cm.sum(axis=1)
    present = support > 0
    return float(np.mean(np.diag(cm)[present] / support[present]))


def _macro_f1(cm: np.ndarray) -> float:
    """Macro F1 over the labels in y or in the predictions (sklearn's ``f1_score``)."""
    tp = np.diag(cm).astype(np.float64)
    fp = cm.sum(axis=0) - tp
    fn = cm.sum(axis=1) - tp
    seen = (cm.sum(axis=0) + cm.sum(axis=1)) > 0
    return float(np.mean(2 * tp[seen] / (2 * tp[seen] + fp[seen] + fn[seen])))


def _as_float_array(x: Any, name: str) -> np.ndarray:
    if _is_tensor(x):
        x = x.detach().cpu().double().numpy()
    try:
        a = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise CurateTypeError(f"tune_tau expects {name} as an array; got "
                              f"{type(x).__name__}") from exc
    if a.dtype.kind not in "biuf":
        raise CurateTypeError(f"tune_tau expects numeric {name}; got dtype {a.dtype}")
    return a.astype(np.float64)


def _check_labels(y_val: Any, shape: tuple[int, ...], n: int, ignore_index: int) -> np.ndarray:
    y = y_val.detach().cpu().numpy() if _is_tensor(y_val) else np.asarray(y_val)
    if y.dtype.kind not in "iu":
        raise CurateTypeError(f"tune_tau expects integer class ids in y_val; got dtype {y.dtype}")
    if y.shape != shape:
        raise CurateValueError(
            f"tune_tau got y_val of shape {y.shape} but logits_val of shape {(*shape, n)}; "
            "y_val must have the logits' shape without the class axis"
        )
    y = y.reshape(-1).astype(np.int64)
    bad = np.flatnonzero(((y < 0) | (y >= n)) & (y != ignore_index))
    if bad.size:
        i = int(bad[0])
        raise CurateValueError(
            f"y_val[{i}] (flattened) is {y[i].tolist()}, not a class id in [0, {n}) nor "
            f"ignore_index={ignore_index}"
        )
    return y


def _check_grid(grid: Any) -> np.ndarray:
    g = np.asarray(DEFAULT_GRID if grid is None else grid, dtype=object)
    try:
        g = g.astype(np.float64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise param_error("grid", "tune_tau", "a 1-D sequence of floats", grid,
                          wrong_type=True) from exc
    if g.size == 0 or not np.isfinite(g).all() or (g < 0).any():
        raise param_error("grid", "tune_tau", "a sequence of at least one finite value >= 0",
                          np.asarray(grid).tolist())
    return np.unique(g)


def tune_tau(
    logits_val: Any,
    y_val: Any,
    priors: Any,
    *,
    metric: Literal["balanced_accuracy", "macro_f1"] = "balanced_accuracy",
    grid: Sequence[float] | None = None,
    ignore_index: int = -100,
) -> TauSearch:
    """Choose the ``tau`` of :func:`logit_adjust` that scores best on validation data.

    Every candidate predicts ``argmax_y (logits_val - tau log pi)_y`` (ties between classes
    go to the lowest class id, as ``numpy.argmax``), and the candidate with the highest
    ``metric`` wins. **Ties between candidates go to the smallest tau** (the least
    adjustment reaching the best score); scores within ``1e-12`` of the best count as tied.
    The result depends on the inputs alone (no randomness, no timing). Tune on a validation
    split carved from the training data, never on the test set.

    Parameters
    ----------
    logits_val : ndarray, tensor or array-like of shape (..., n_classes)
        Validation logits of the trained model, classes last.
    y_val : ndarray, tensor or array-like of shape (...)
        Integer class ids, ``ignore_index`` where a position does not count.
    priors : LabelTable, ClassWeights, array-like of shape (n_classes,)
        Training priors or counts, as :func:`priors_from` accepts them.
    metric : {"balanced_accuracy", "macro_f1"}, default="balanced_accuracy"
        ``balanced_accuracy`` is the mean recall over the classes present in ``y_val``
        (sklearn's ``balanced_accuracy_score``); ``macro_f1`` the mean F1 over the classes
        present in ``y_val`` or predicted (sklearn's ``f1_score(average="macro")``).
    grid : sequence of float >= 0, default=None
        Candidate values (sorted and de-duplicated); ``None`` is 0.0, 0.1, ..., 2.0.
        Include 0 so that "no adjustment" competes.
    ignore_index : int, default=-100
        Label value that does not count.

    Returns
    -------
    TauSearch
        The chosen ``tau``, its ``score``, and ``grid``/``scores`` for every candidate.

    References
    ----------
    A. K. Menon, S. Jayasumana, A. S. Rawat, H. Jain, A. Veit and S. Kumar, "Long-tail
    learning via logit adjustment", ICLR 2021.

    Examples
    --------
    >>> import numpy as np
    >>> import curate
    >>> logits = np.array([[2.0, 1.0], [2.0, 1.5], [2.0, 0.0], [0.0, 2.0]])
    >>> y = np.array([0, 1, 0, 1])
    >>> search = curate.tune_tau(logits, y, [0.8, 0.2], grid=[0.0, 0.4, 0.5, 1.0])
    >>> search.tau, search.score  # 0.4 and 0.5 tie: the smaller wins
    (0.4, 1.0)
    >>> search.scores
    (0.75, 1.0, 1.0, 0.75)
    """
    check_param("metric", metric, [_METRICS], "tune_tau")
    check_int("ignore_index", ignore_index, "tune_tau")
    log_prior = np.log(priors_from(priors))
    z = _as_float_array(logits_val, "logits_val")
    n = log_prior.size
    if z.ndim < 1 or z.shape[-1] != n:
        raise _class_axis_error(z.shape, n, "tune_tau")
    y = _check_labels(y_val, z.shape[:-1], n, int(ignore_index))
    z = z.reshape(-1, n)
    keep = y != ignore_index
    if not keep.any():
        raise CurateValueError("tune_tau got no labelled position in y_val (all are "
                               f"ignore_index={ignore_index} or y_val is empty)")
    z, y = z[keep], y[keep]
    if not np.isfinite(z).all():
        raise CurateValueError("logits_val holds NaN or infinite values; tune_tau needs finite "
                               "logits")
    score_fn = _balanced_accuracy if metric == "balanced_accuracy" else _macro_f1
    g = _check_grid(grid)
    scores = np.array([score_fn(_confusion(y, np.argmax(z - t * log_prior, axis=1), n))
                       for t in g])
    best = int(np.flatnonzero(scores >= scores.max() - 1e-12)[0])  # smallest tau among ties
    return TauSearch(tau=float(g[best]), score=float(scores[best]), metric=str(metric),
                     grid=tuple(g.tolist()), scores=tuple(scores.tolist()))
