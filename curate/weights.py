"""Class weights for imbalance-aware losses, and the artifact that keeps them reproducible.

:func:`class_weights` turns per-class counts (a :class:`~curate.LabelTable`, a pandas Series,
a dict, or an array of counts) into one weight per class. :class:`ClassWeights` carries the
weights with the counts, scheme and parameters that produced them, converts them to numpy,
torch or a TOML block, and saves/loads them as JSON or a torch ``.pt`` file so that a resumed
training run uses identical weights.

Notation used throughout: ``E`` is the set of *weighted* classes (every class except the
background), ``K = |E|`` (zero-count classes included), ``n_c`` the count of class ``c`` and
``N = sum(n_c for c in E)``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from curate._atomic import atomic_write, atomic_write_text
from curate._optional import require
from curate._validation import (
    Interval,
    Options,
    StrEnum,
    check_param,
    param_error,
    user_stacklevel,
    validate_params,
)
from curate.exceptions import CurateTypeError, CurateValueError, CurateWarning, ZeroCountWarning
from curate.labels import LabelTable

__all__ = ["ClassWeights", "class_weights", "counts_from_ids"]

_FORMAT = "curate.class_weights"
_VERSION = 2  # 2: the artifact carries a sha256 checksum of its content


class Scheme(StrEnum):
    """Weighting formula."""

    INVERSE = "inverse"
    INVERSE_SQRT = "inverse_sqrt"
    EFFECTIVE = "effective"
    BALANCED = "balanced"


class Normalize(StrEnum):
    """How the weights are rescaled."""

    AUTO = "auto"
    MEAN = "mean"
    ALL = "all"
    NONE = "none"


# ---------------------------------------------------------------------------- artifact
@dataclass(frozen=True, eq=False)
class ClassWeights:
    """One weight per class, with the counts, scheme and parameters that produced it.

    Build it with :func:`class_weights` or :meth:`load`; the constructor is for those.

    Parameters
    ----------
    classes : tuple of str
        Class names; position ``i`` is the class with label id ``i``.
    weights : ndarray of float64 of shape (n_classes,)
        Positive, finite weights.
    counts : ndarray of int64 of shape (n_classes,)
        The counts the weights were computed from.
    scheme : str
        The scheme used (``"inverse"``, ``"inverse_sqrt"``, ``"effective"``, ``"balanced"``).
    params : dict
        Every option of :func:`class_weights` (alpha, beta, background, normalize, ...).
    background : str or None
        The background class, if any.
    level : str or None
        What the counts count (``"token"``, ``"entity"``, ``"instance"``, ``"sample"``).

    Examples
    --------
    >>> import curate
    >>> w = curate.class_weights({"O": 900, "B-PER": 90, "B-LOC": 10}, background="O")
    >>> w.to_dict()  # the background gets the lowest weight by default
    {'O': 0.5, 'B-PER': 0.5, 'B-LOC': 1.5}
    >>> w.classes, w.counts.tolist()
    (('O', 'B-PER', 'B-LOC'), [900, 90, 10])
    """

    classes: tuple[str, ...]
    weights: np.ndarray
    counts: np.ndarray
    scheme: str
    params: dict[str, Any] = field(default_factory=dict)
    background: str | None = None
    level: str | None = None

    def __post_init__(self) -> None:
        classes = tuple(str(c) for c in self.classes)
        w = np.array(self.weights, dtype=np.float64).ravel()
        n = np.array(self.counts, dtype=np.int64).ravel()
        if not (len(classes) == len(w) == len(n)):
            raise CurateValueError(
                f"classes, weights and counts must have the same length; got "
                f"{len(classes)}, {len(w)} and {len(n)}"
            )
        if len(set(classes)) != len(classes):
            raise CurateValueError(f"classes must be unique; got {list(classes)}")
        if not np.all(np.isfinite(w)) or (w <= 0).any():
            bad = int(np.flatnonzero(~np.isfinite(w) | (w <= 0))[0])
            raise CurateValueError(
                f"weights[{bad}] is {w[bad].tolist()}; every weight must be finite and > 0"
            )
        if (n < 0).any():
            raise CurateValueError("counts must be >= 0")
        if self.background is not None and self.background not in classes:
            raise CurateValueError(
                f"background {self.background!r} is not one of classes={list(classes)}"
            )
        w.flags.writeable = False
        n.flags.writeable = False
        object.__setattr__(self, "classes", classes)
        object.__setattr__(self, "weights", w)
        object.__setattr__(self, "counts", n)
        object.__setattr__(self, "params", dict(self.params))

    # ------------------------------------------------------------------ conversions
    def __len__(self) -> int:
        return len(self.classes)

    def to_numpy(self, dtype: Any = np.float64) -> np.ndarray:
        """Weights as a new numpy array indexed by label id.

        Parameters
        ----------
        dtype : numpy dtype or str, default=np.float64
            Data type of the returned array.

        Returns
        -------
        ndarray of shape (n_classes,)
            A copy of the weights.

        Examples
        --------
        >>> import curate
        >>> curate.class_weights([10, 40], scheme="inverse", normalize="none").to_numpy()
        array([2.5 , 0.625])
        """
        return np.array(self.weights, dtype=dtype)

    def to_tensor(self, device: Any = None, dtype: Any = None) -> Any:
        """Weights as a torch tensor (``float32`` unless ``dtype`` is given).

        Parameters
        ----------
        device : torch.device or str, default=None
            Device of the tensor (``"cpu"``, ``"cuda:0"``, ...); ``None`` uses torch's
            default device.
        dtype : torch.dtype, default=None
            Data type of the tensor; ``None`` gives ``torch.float32``.

        Returns
        -------
        torch.Tensor of shape (n_classes,)
            A new tensor holding the weights.

        Examples
        --------
        >>> import curate
        >>> curate.class_weights([10, 40], scheme="inverse", normalize="none").to_tensor()
        tensor([2.5000, 0.6250])
        """
        torch = require("torch", "ClassWeights.to_tensor")
        return torch.tensor(self.weights, dtype=dtype or torch.float32, device=device)

    def to_dict(self) -> dict[str, float]:
        """Weights by class name.

        Examples
        --------
        >>> import curate
        >>> curate.class_weights({"a": 1, "b": 3}, scheme="inverse", normalize="none").to_dict()
        {'a': 2.0, 'b': 0.6666666666666666}
        """
        return dict(zip(self.classes, self.weights.tolist(), strict=True))

    def to_series(self) -> pd.Series:
        """Weights as a pandas Series indexed by class name.

        Examples
        --------
        >>> import curate
        >>> curate.class_weights({"a": 1, "b": 1}).to_series().tolist()
        [1.0, 1.0]
        """
        return pd.Series(self.weights, index=pd.Index(self.classes, name="class"), name="weight")

    def to_toml(self, *, digits: int = 6) -> str:
        """A ``[class_weights]`` TOML block: ordered names and weights, plus weights by id.

        Parameters
        ----------
        digits : int, default=6
            Significant digits of each weight.

        Returns
        -------
        str

        Examples
        --------
        >>> import curate
        >>> w = curate.class_weights({"O": 8, "B-X": 2}, background="O")
        >>> print(w.to_toml())
        [class_weights]
        scheme = "inverse_sqrt"
        background = "O"
        labels = ["O", "B-X"]
        weights = [1, 1]
        <BLANKLINE>
        [class_weights.by_id]
        0 = 1  # O (count 8)
        1 = 1  # B-X (count 2)
        """
        def num(v: float) -> str:
            return f"{v:.{digits}g}"

        lines = ["[class_weights]", f"scheme = {json.dumps(self.scheme)}"]
        if self.background is not None:
            lines.append(f"background = {json.dumps(self.background)}")
        lines.append("labels = [" + ", ".join(json.dumps(c) for c in self.classes) + "]")
        lines.append("weights = [" + ", ".join(num(v) for v in self.weights.tolist()) + "]")
        lines += ["", "[class_weights.by_id]"]
        ids = _label_ids(self.classes) or range(len(self.classes))  # integer names are ids
        for i, c, v, n in zip(ids, self.classes, self.weights.tolist(), self.counts.tolist(),
                              strict=True):
            lines.append(f"{i} = {num(v)}  # {c} (count {n})")
        return "\n".join(lines)

    def __repr__(self) -> str:
        width = max([len("class"), *(len(c) for c in self.classes)])
        shown = ", ".join(f"{k}={v!r}" for k, v in self.params.items() if v is not None)
        head = f"ClassWeights(scheme={self.scheme!r}, {shown})"
        rows = [f"{'id':>4}  {'class':<{width}}  {'count':>10}  {'weight':>9}"]
        ids = _label_ids(self.classes) or range(len(self.classes))
        for i, c, n, v in zip(ids, self.classes, self.counts.tolist(), self.weights.tolist(),
                              strict=True):
            mark = "  (background)" if c == self.background else ""
            rows.append(f"{i:>4}  {c:<{width}}  {n:>10}  {v:>9.4f}{mark}")
        return "\n".join([head, *rows])

    # ------------------------------------------------------------------ persistence
    def _payload(self) -> dict[str, Any]:
        return {
            "format": _FORMAT,
            "version": _VERSION,
            "scheme": self.scheme,
            "params": self.params,
            "background": self.background,
            "level": self.level,
            "classes": list(self.classes),
            "label_counts": self.counts.tolist(),
            "class_weights": self.weights.tolist(),
        }

    @staticmethod
    def _checksum(payload: dict[str, Any]) -> str:
        body = {k: v for k, v in payload.items() if k != "checksum"}
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the artifact atomically: JSON, or torch ``.pt``/``.pth`` by the suffix.

        The ``.pt`` file holds plain tensors and lists (``class_weights`` float64,
        ``label_counts`` int64) and loads with ``torch.load(path, weights_only=True)``.
        Both forms carry a sha256 ``checksum`` of their content, which :meth:`load`
        verifies.

        Parameters
        ----------
        path : str or path-like
            Destination; its folder must exist.

        Returns
        -------
        Path

        Examples
        --------
        >>> import curate, tempfile, pathlib
        >>> w = curate.class_weights({"a": 5, "b": 1})
        >>> with tempfile.TemporaryDirectory() as d:
        ...     p = w.save(pathlib.Path(d) / "weights.json")
        ...     curate.ClassWeights.load(p).to_dict() == w.to_dict()
        True
        """
        path = Path(path)
        if path.is_dir():
            raise CurateValueError(f"cannot save to {str(path)!r}: it is a folder; pass a file "
                                   "path such as weights.json or weights.pt inside it")
        if not path.parent.is_dir():
            raise CurateValueError(f"cannot save to {str(path)!r}: folder {str(path.parent)!r} "
                                   "does not exist")
        payload = self._payload()
        payload["checksum"] = self._checksum(payload)
        if path.suffix in (".pt", ".pth"):
            torch = require("torch", "ClassWeights.save('.pt')")
            payload["class_weights"] = torch.tensor(self.weights, dtype=torch.float64)
            payload["label_counts"] = torch.tensor(self.counts, dtype=torch.int64)
            atomic_write(path, lambda tmp: torch.save(payload, tmp))
        else:
            atomic_write_text(path, json.dumps(payload, indent=2) + "\n")
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ClassWeights:
        """Read an artifact written by :meth:`save` (JSON or ``.pt``) and verify it.

        The stored sha256 checksum must match the content: a file changed after it was
        saved (one flipped byte, a hand edit) raises instead of loading other weights.

        Parameters
        ----------
        path : str or path-like
            A ``.json`` or ``.pt``/``.pth`` file.

        Returns
        -------
        ClassWeights

        Examples
        --------
        >>> import curate, tempfile, pathlib
        >>> w = curate.class_weights({"a": 5, "b": 1}, scheme="effective", beta=0.9)
        >>> with tempfile.TemporaryDirectory() as d:
        ...     back = curate.ClassWeights.load(w.save(pathlib.Path(d) / "w.pt"))
        >>> back.scheme, bool((back.weights == w.weights).all())
        ('effective', True)
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no class-weights file at {str(path)!r}")
        raw = _read_artifact(path)
        if not isinstance(raw, dict) or raw.get("format") != _FORMAT:
            raise CurateValueError(
                f"{str(path)!r} is not a curate class-weights file (missing format={_FORMAT!r}); "
                "write it with ClassWeights.save"
            )
        missing = {"classes", "class_weights", "label_counts", "scheme", "checksum"} - set(raw)
        if missing:
            raise CurateValueError(
                f"{str(path)!r} lacks the fields {sorted(missing)} (damaged, or written by an "
                "older curate); re-create it with ClassWeights.save")
        try:
            expected = cls._checksum(raw)
        except (TypeError, ValueError) as exc:
            raise CurateValueError(f"{str(path)!r} holds values that are not plain numbers or "
                                   f"strings ({exc}); the file is damaged") from exc
        if raw["checksum"] != expected:
            raise CurateValueError(
                f"{str(path)!r} fails its checksum: the content changed after it was saved "
                "(damaged or edited); re-create it with ClassWeights.save")
        return cls(
            classes=tuple(raw["classes"]), weights=np.asarray(raw["class_weights"], dtype=float),
            counts=np.asarray(raw["label_counts"], dtype=np.int64), scheme=str(raw["scheme"]),
            params=dict(raw.get("params") or {}), background=raw.get("background"),
            level=raw.get("level"),
        )


def _read_artifact(path: Path) -> Any:
    if path.suffix in (".pt", ".pth"):
        torch = require("torch", "ClassWeights.load('.pt')")
        try:
            raw = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises many types on a damaged archive
            raise CurateValueError(f"{str(path)!r} is not a readable class-weights file "
                                   f"({type(exc).__name__}: {exc}); it is damaged") from exc
        if isinstance(raw, dict):
            raw = {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in raw.items()}
        return raw
    try:
        text = path.read_text(encoding="utf-8")
        raw = json.loads(text)
    except (OSError, ValueError) as exc:
        raise CurateValueError(f"{str(path)!r} is not a readable class-weights file: {exc}"
                               ) from exc
    if isinstance(raw, dict) and "checksum" in raw and json.dumps(raw, indent=2) + "\n" != text:
        # a digit past float precision parses to the same number: compare the text itself
        raise CurateValueError(
            f"{str(path)!r} differs from the text ClassWeights.save wrote (damaged or "
            "edited); re-create it with ClassWeights.save")
    return raw


# ---------------------------------------------------------------------------- counting
def counts_from_ids(
    labels: Any, *, num_labels: int | None = None, ignore_index: int = -100
) -> np.ndarray:
    """Count integer label ids (any shape, e.g. HF ``labels`` with -100); ignored ids never count.

    Parameters
    ----------
    labels : array-like of int, list of lists, or torch tensor
        Label ids ``0 .. num_labels - 1``; ``ignore_index`` entries are skipped. Ragged lists
        of lists (one per sentence) are accepted.
    num_labels : int, default=None
        Length of the result; ``None`` uses ``max id + 1``.
    ignore_index : int, default=-100
        Id that is never counted.

    Returns
    -------
    ndarray of int64 of shape (num_labels,)

    Examples
    --------
    >>> counts_from_ids([[0, 0, 2, -100], [1, -100]], num_labels=4).tolist()
    [2, 1, 1, 0]
    """
    if hasattr(labels, "detach"):
        labels = labels.detach().cpu().numpy()
    try:
        arr = np.asarray(labels)
        if arr.dtype == object:
            raise ValueError
    except ValueError:  # ragged
        arr = np.asarray([v for row in labels for v in np.asarray(row).ravel().tolist()])
    arr = arr.ravel()
    if arr.size and arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise CurateTypeError(f"labels must be integer ids; got dtype {arr.dtype}")
    arr = arr[arr != ignore_index].astype(np.int64)
    if arr.size and arr.min() < 0:
        raise CurateValueError(
            f"labels hold the negative id {arr.min().tolist()}, which is not "
            f"ignore_index={ignore_index}; pass the id your data uses for ignored positions"
        )
    size = int(arr.max()) + 1 if arr.size else 0
    if num_labels is not None:
        check_param("num_labels", num_labels, [Interval(int, 1, None)], "counts_from_ids")
        if size > num_labels:
            raise CurateValueError(
                f"labels hold the id {size - 1}, outside [0, num_labels={num_labels})"
            )
        size = num_labels
    return np.bincount(arr, minlength=size).astype(np.int64)


def _format_counts(
    data: Any, classes: Sequence[str] | None
) -> tuple[list[str], np.ndarray, str | None, str | None]:
    """Return (class names, counts, table background, level) from any accepted input."""
    if isinstance(data, LabelTable | ClassWeights):
        have = list(data.classes)
        counts = (data.counts.to_numpy(np.int64) if isinstance(data, LabelTable)
                  else data.counts.copy())
        if classes is None:
            return have, counts, data.background, data.level
        return (*_reorder(have, counts, classes), data.background, data.level)
    if isinstance(data, pd.Series):
        names, values = [str(k) for k in data.index], data.to_numpy()
    elif isinstance(data, Mapping):
        names, values = [str(k) for k in data], np.asarray(list(data.values()))
    elif isinstance(data, str | bytes) or not hasattr(data, "__len__"):
        raise CurateTypeError(
            "table_or_counts must be a LabelTable, a pandas Series or dict of counts by class, "
            f"or a 1-D array of counts; got {type(data).__name__}"
        )
    else:
        if hasattr(data, "detach"):
            data = data.detach().cpu().numpy()
        values = np.asarray(data)
        if values.ndim != 1:
            raise CurateValueError(
                f"counts must be 1-D (one count per class); got shape {values.shape}. "
                "For raw label ids use class_weights(counts_from_ids(labels), ...)"
            )
        names = [str(i) for i in range(len(values))]
    if classes is not None:
        if len(classes) != len(names):
            raise CurateValueError(
                f"classes has {len(classes)} names but there are {len(names)} counts"
            )
        names = [str(c) for c in classes]
    if len(set(names)) != len(names):
        raise CurateValueError(f"class names must be unique; got {names}")
    values = np.asarray(values)
    if values.dtype.kind not in "iuf":
        raise CurateTypeError(f"counts must be numbers; got dtype {values.dtype}")
    bad = np.flatnonzero(~np.isfinite(values.astype(float)) | (values < 0)
                         | (values != np.round(values.astype(float))))
    if bad.size:
        i = int(bad[0])
        raise CurateValueError(
            f"counts[{names[i]!r}] is {values[i].tolist()}; counts must be whole numbers >= 0"
        )
    return names, values.astype(np.int64), None, None


def _reorder(have: list[str], counts: np.ndarray,
             classes: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """The counts of a table in the order ``classes`` gives (a model's label ids); a class
    the data never holds counts 0, a class the data holds must be named."""
    names = [str(c) for c in classes]
    if len(set(names)) != len(names):
        raise CurateValueError(f"class names must be unique; got {names}")
    pos = {c: i for i, c in enumerate(have)}
    missing = [c for c, n in zip(have, counts, strict=True) if n > 0 and c not in set(names)]
    if missing:
        shown = missing if len(missing) <= 10 else [*missing[:10], "..."]
        raise CurateValueError(
            f"classes lacks {shown}, which the data holds; list every class of the data (in "
            "the model's label-id order), or leave classes=None to keep the data's order"
        )
    out = np.array([counts[pos[c]] if c in pos else 0 for c in names], dtype=np.int64)
    return names, out


# ---------------------------------------------------------------------------- formulas
def _raw_weights(counts: np.ndarray, scheme: Scheme, alpha: float, beta: float) -> np.ndarray:
    """Unnormalised weights of the weighted classes; ``nan`` where the count is zero."""
    n = counts.astype(np.float64)
    seen = n > 0
    out = np.full(n.shape, np.nan)
    if not seen.any():
        return out
    big_n, k = n.sum(), len(n)
    if scheme is Scheme.EFFECTIVE:
        # (1 - beta) / (1 - beta**n), with beta**n computed as exp(n log beta) for accuracy
        denom = -np.expm1(n[seen] * math.log(beta)) if beta > 0 else np.ones(int(seen.sum()))
        out[seen] = (1.0 - beta) / denom
    else:
        base = big_n / (k * n[seen])
        out[seen] = base**alpha if scheme is Scheme.INVERSE_SQRT else base
    return out


def _fill_zero_counts(raw: np.ndarray, names: list[str]) -> np.ndarray:
    missing = np.isnan(raw)
    if not missing.any():
        return raw
    fill = float(np.nanmax(raw)) if (~missing).any() else 1.0
    shown = [names[i] for i in np.flatnonzero(missing)[:10]]
    warnings.warn(
        f"{int(missing.sum())} class(es) have zero count ({shown}); they get the weight of the "
        "rarest seen class. Drop them from classes= or silence this with "
        "warnings.filterwarnings('ignore', category=curate.exceptions.ZeroCountWarning)",
        ZeroCountWarning,
        stacklevel=user_stacklevel(),
    )
    return np.where(missing, fill, raw)


def _scale(raw: np.ndarray, normalize: Normalize, bg_weight: float | str | None) -> float:
    """Factor s applied to the weighted classes' raw weights."""
    if normalize is Normalize.NONE:
        return 1.0
    total, k = float(raw.sum()), len(raw)
    if normalize is Normalize.MEAN or bg_weight is None:
        return k / total
    # "all": the mean over the weighted classes and the background equals 1
    if bg_weight == "lowest":
        return (k + 1) / (total + float(raw.min()))
    if bg_weight == "scaled":
        return 1.0  # resolved by the caller (depends on the background's raw weight)
    return (k + 1 - float(bg_weight)) / total


def _background_value(
    bg_weight: float | str, scaled: np.ndarray, raw_bg: float | None, s: float
) -> float:
    if bg_weight == "lowest":
        value = float(scaled.min())
    elif bg_weight == "scaled":
        value = s * raw_bg if raw_bg is not None and np.isfinite(raw_bg) else float(scaled.min())
    else:
        value = float(bg_weight)
    return min(value, 1.0)


_RULES: dict[str, list[Any]] = {
    "alpha": [Interval(float, 0, 1, closed="right")],
    "beta": [Interval(float, 0, 1, closed="left")],
    "background_weight": [Interval(float, 0, 1, closed="right"), Options({"lowest", "scaled"})],
    "ignore_index": [Interval(int, None, None)],
}


@validate_params(_RULES)
def class_weights(
    table_or_counts: Any,
    *,
    scheme: Literal["inverse", "inverse_sqrt", "effective", "balanced"] = "inverse_sqrt",
    alpha: float = 0.5,
    beta: float = 0.999,
    background: str | Literal[False] | None = None,
    background_weight: float | Literal["lowest", "scaled"] = "lowest",
    normalize: Literal["auto", "mean", "all", "none"] = "auto",
    clip: tuple[float, float] | None = None,
    classes: Sequence[str] | None = None,
    ignore_index: int = -100,
) -> ClassWeights:
    """Compute one loss weight per class from class counts.

    With ``E`` the weighted classes (all classes but the background), ``K = |E|``
    (zero-count classes included), ``n_c`` the count of class ``c`` and
    ``N = sum(n_c for c in E)``, the raw weight of ``c`` in ``E`` is:

    - ``"inverse"``: ``w = N / (K * n_c)``;
    - ``"inverse_sqrt"``: ``w = (N / (K * n_c)) ** alpha``;
    - ``"effective"``: ``w = (1 - beta) / (1 - beta ** n_c)`` (Cui et al. 2019);
    - ``"balanced"``: ``w = N / (K * n_c)``, which on single-label data without background
      is exactly scikit-learn's ``compute_class_weight("balanced", ...)``
      (``n_samples / (n_classes * bincount(y))``); by default it is not normalised.

    The weights of ``E`` are then rescaled (``normalize``), the background gets its weight
    (``background_weight``, never above 1, never part of the normalisation), and finally
    ``clip`` bounds every weight.

    Parameters
    ----------
    table_or_counts : LabelTable, pandas Series, dict, ClassWeights or 1-D array-like
        Counts per class. A :class:`~curate.LabelTable` gives its column sums, counted at the
        table's level (token tags, entity spans, instances or samples). A Series or dict maps
        class name to count. An array holds one count per label id (names ``"0" .. "K-1"``
        unless ``classes`` is given). For raw label ids (with -100) use
        ``class_weights(counts_from_ids(labels), ...)``.
    scheme : {"inverse", "inverse_sqrt", "effective", "balanced"}, default="inverse_sqrt"
        Weighting formula (see above).
    alpha : float in (0, 1], default=0.5
        Exponent of ``"inverse_sqrt"``: ``w = (N / (K * n_c)) ** alpha``. 1 is ``"inverse"``;
        smaller values flatten the weights.
    beta : float in [0, 1), default=0.999
        Of ``"effective"``: ``w = (1 - beta) / (1 - beta ** n_c)``. 0 gives equal weights;
        values close to 1 approach ``"inverse"``.
    background : str, False or None, default=None
        Background class (``"O"``). ``None`` uses the table's background (none for counts);
        ``False`` treats every class alike, with no background.
    background_weight : float in (0, 1] or {"lowest", "scaled"}, default="lowest"
        Weight of the background: ``"lowest"`` (default), the smallest weight of the
        other classes after normalisation, so the background never outweighs any class;
        ``"scaled"``, its own formula weight times the normalisation factor of the other
        classes (smaller still when the background dominates); or a fixed value (``1.0``
        is what plain cross-entropy gives it). Whichever rule, it is capped at 1.
    normalize : {"auto", "mean", "all", "none"}, default="auto"
        ``"mean"``: the weights of ``E`` average 1. ``"all"``: all weights, the background
        included, average 1 (the background keeps its rule). ``"none"``: raw weights.
        ``"auto"`` is ``"none"`` for ``"balanced"`` and ``"mean"`` otherwise.
    clip : (float, float), default=None
        ``(lo, hi)`` bounds applied last, to every weight; normalisation may then no longer
        hold exactly.
    classes : sequence of str, default=None
        Names for an array of counts, or new names for a Series/dict (same order). For a
        ``LabelTable`` or ``ClassWeights`` the order of the result (a model's label ids):
        every class the data holds must be listed, a listed class it lacks counts 0.
    ignore_index : int, default=-100
        A class named ``str(ignore_index)`` (e.g. ``"-100"`` from integer labels) is dropped
        and never counted.

    Returns
    -------
    ClassWeights

    Warns
    -----
    ZeroCountWarning
        When a weighted class has count 0: it gets the weight of the rarest seen class
        (before normalisation), so no weight is ever inf or NaN. If no class is seen, all
        weights are 1.

    See Also
    --------
    counts_from_ids : Count integer label ids, skipping ``ignore_index``.
    curate.losses.WeightedCrossEntropy : A loss that takes these weights.

    References
    ----------
    Y. Cui, M. Jia, T.-Y. Lin, Y. Song and S. Belongie, "Class-Balanced Loss Based on
    Effective Number of Samples", CVPR 2019.

    Examples
    --------
    >>> import curate
    >>> counts = {"O": 9000, "B-PER": 400, "I-PER": 300, "B-MISC": 25}
    >>> w = curate.class_weights(counts, background="O", background_weight="lowest")
    >>> {k: round(v, 3) for k, v in w.to_dict().items()}
    {'O': 0.487, 'B-PER': 0.487, 'I-PER': 0.563, 'B-MISC': 1.95}
    >>> curate.class_weights([1, 3], scheme="balanced").to_numpy()  # sklearn's numbers
    array([2.        , 0.66666667])
    """
    scheme_ = Scheme.from_str(scheme, "scheme", "class_weights")
    norm = Normalize.from_str(normalize, "normalize", "class_weights")
    if norm is Normalize.AUTO:
        norm = Normalize.NONE if scheme_ is Scheme.BALANCED else Normalize.MEAN
    clip_ = _check_clip(clip)
    names, counts, table_bg, level = _format_counts(table_or_counts, classes)
    keep = [i for i, c in enumerate(names) if c != str(ignore_index)]
    names, counts = [names[i] for i in keep], counts[keep]
    bg = _check_background(background, table_bg, names)
    if not names or (bg is not None and len(names) == 1):
        raise CurateValueError("class_weights needs at least one class besides the background")
    is_bg = np.array([c == bg for c in names])
    raw = _raw_weights(counts[~is_bg], scheme_, alpha, beta)
    raw = _fill_zero_counts(raw, [c for c in names if c != bg])
    bw = background_weight if bg is not None else None
    s = _scale(raw, norm, bw)
    raw_bg = None
    if bg is not None and bw == "scaled":
        raw_bg = _background_raw(counts, is_bg, scheme_, alpha, beta)
        if norm is Normalize.ALL and np.isfinite(raw_bg):
            s = (len(raw) + 1) / (float(raw.sum()) + raw_bg)
    weights = np.empty(len(names))
    weights[~is_bg] = s * raw
    if bg is not None:
        weights[is_bg] = _background_value(bw, s * raw, raw_bg, s)  # type: ignore[arg-type]
    if clip_ is not None:
        weights = np.clip(weights, *clip_)
        if bg is not None:
            weights[is_bg] = np.minimum(weights[is_bg], 1.0)
    params = {"alpha": alpha if scheme_ is Scheme.INVERSE_SQRT else None,
              "beta": beta if scheme_ is Scheme.EFFECTIVE else None,
              "background": bg, "background_weight": bw, "normalize": norm.value,
              "clip": list(clip_) if clip_ is not None else None, "ignore_index": ignore_index}
    _warn_if_ids_skip(names)
    return ClassWeights(tuple(names), weights, counts, scheme_.value, params, bg, level)


def _label_ids(names: Sequence[str]) -> list[int] | None:
    """The classes as integer label ids when every name is one (``"0"``, ``"7"``), else None."""
    if not names or not all(c.isdigit() for c in names):
        return None
    return [int(c) for c in names]


def _warn_if_ids_skip(names: Sequence[str]) -> None:
    """Integer class names that are not ``0..K-1`` (an id absent from the data): weight
    ``i`` of ``to_tensor()`` is then not label id ``i``, which a loss would read as such."""
    ids = _label_ids(names)
    if ids is not None and ids != list(range(len(ids))):
        missing = sorted(set(range(max(ids) + 1)) - set(ids))[:10]
        warnings.warn(
            f"the classes are label ids {ids[:10]}{'...' if len(ids) > 10 else ''} without "
            f"ids {missing}: weight i is class names[i], not label id i, so a loss indexing "
            "the weights by label id would misweight every class after the gap; pass "
            "classes=[str(i) for i in range(K)] (or id2label / --label-names) so every id "
            "has its weight", CurateWarning, stacklevel=3)


def _background_raw(
    counts: np.ndarray, is_bg: np.ndarray, scheme: Scheme, alpha: float, beta: float
) -> float:
    """The background's formula weight on the same N and K as the weighted classes."""
    n_e = counts[~is_bg].astype(np.float64)
    n_b = float(counts[is_bg][0])
    if n_b <= 0:
        return math.nan
    if scheme is Scheme.EFFECTIVE:
        return (1.0 - beta) / -math.expm1(n_b * math.log(beta)) if beta > 0 else 1.0
    base = n_e.sum() / (len(n_e) * n_b)
    return base**alpha if scheme is Scheme.INVERSE_SQRT else base


def _check_clip(clip: Any) -> tuple[float, float] | None:
    if clip is None:
        return None
    try:
        lo, hi = (float(v) for v in clip)
    except (TypeError, ValueError):
        lo = hi = math.nan
    if not (np.isfinite(lo) and np.isfinite(hi) and 0 < lo <= hi):
        raise param_error("clip", "class_weights", "a pair (lo, hi) with 0 < lo <= hi", clip)
    return lo, hi


def _check_background(background: Any, table_bg: str | None, names: list[str]) -> str | None:
    if background is False:
        return None
    bg = table_bg if background is None else background
    if bg is None:
        return None
    if not isinstance(bg, str):
        raise param_error("background", "class_weights", "a str, False or None", bg,
                          wrong_type=True)
    if bg not in names:
        shown = names if len(names) <= 20 else [*names[:20], "..."]
        raise CurateValueError(
            f"background {bg!r} is not one of classes={shown}; pass the background label "
            "your data uses, or background=False"
        )
    return bg
