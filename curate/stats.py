"""How imbalanced is a dataset? Counts, shares, ratios, entropy, co-occurrence and advice.

The computation follows the functional-core split: :func:`_update_table` turns a block of
rows into sufficient statistics (per-class counts, supports, row histograms, co-occurrence)
that *add up* over blocks, and :func:`_compute` turns their sum into the measures.
:func:`_update_values` does the same for a pyarrow column of labels and is what
:func:`curate.count_labels` calls per record batch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from curate._format import jsonable
from curate.exceptions import CurateTypeError, CurateValueError
from curate.labels import LabelTable
from curate.labels._base import _class_names, is_ignored

__all__ = ["Advice", "ImbalanceStats", "imbalance_stats"]

#: majority share (of all labels) above which balancing should be planned (seed 003: > 90 %)
MAJORITY_SHARE_WARN = 0.90
#: imbalance ratio (max / min non-background count) flagged as severe / as moderate
SEVERE_RATIO = 100.0
MODERATE_RATIO = 10.0
#: a class held by fewer samples than this is "rare"
RARE_SUPPORT = 10
#: share of empty samples above which they are flagged
EMPTY_SHARE_WARN = 0.10

_UNITS = {"token": "tokens", "entity": "entities", "instance": "instances", "sample": "samples"}


# ---------------------------------------------------------------------- sufficient statistics
@dataclass
class _Sufficient:
    """Additive statistics of a block of rows; ``a + b`` is the statistics of both blocks."""

    counts: np.ndarray  # (K,) instances per class
    support: np.ndarray  # (K,) samples holding each class
    labels_hist: dict[int, int]  # labels per sample -> number of samples
    classes_hist: dict[int, int]  # distinct classes per sample -> number of samples
    n_samples: int
    n_background_only: int
    cooccurrence: sp.csr_matrix  # (K, K) samples holding both classes

    def __add__(self, other: _Sufficient) -> _Sufficient:
        return _Sufficient(
            self.counts + other.counts,
            self.support + other.support,
            _add_hist(self.labels_hist, other.labels_hist),
            _add_hist(self.classes_hist, other.classes_hist),
            self.n_samples + other.n_samples,
            self.n_background_only + other.n_background_only,
            (self.cooccurrence + other.cooccurrence).tocsr(),
        )


def _add_hist(a: dict[int, int], b: dict[int, int]) -> dict[int, int]:
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, 0) + v
    return out


def _hist(values: np.ndarray) -> dict[int, int]:
    uniq, cnt = np.unique(values, return_counts=True)
    return dict(zip(uniq.tolist(), cnt.tolist(), strict=True))


def _update_table(matrix: sp.csr_matrix, background_index: int | None) -> _Sufficient:
    """Sufficient statistics of a block of rows of a count matrix (pure; sums over blocks)."""
    m = sp.csr_matrix(matrix)
    k = m.shape[1]
    presence = sp.csr_matrix((np.ones_like(m.data), m.indices, m.indptr), shape=m.shape)
    row_labels = np.asarray(m.sum(axis=1)).ravel().astype(np.int64)
    row_classes = np.diff(m.indptr).astype(np.int64)
    bg_only = 0
    if background_index is not None:
        bg = np.asarray(m[:, background_index].todense()).ravel()
        bg_only = int(np.count_nonzero((row_labels > 0) & (bg == row_labels)))
    return _Sufficient(
        counts=np.asarray(m.sum(axis=0), dtype=np.int64).ravel(),
        support=np.bincount(m.indices, minlength=k).astype(np.int64),
        labels_hist=_hist(row_labels),
        classes_hist=_hist(row_classes),
        n_samples=int(m.shape[0]),
        n_background_only=bg_only,
        cooccurrence=(presence.T @ presence).tocsr().astype(np.int64),
    )


def _update_values(values: Any) -> pd.Series:
    """Counts of one pyarrow array of labels (scalars, lists, dictionary-encoded); pure.

    Returns a Series indexed by the label value; the outputs of several batches add up
    (``pd.concat(parts).groupby(level=0).sum()``) to the counts of the whole column.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(values, pa.ChunkedArray):
        parts = [_update_values(c) for c in values.chunks]
        return _merge_counts(parts)
    while pa.types.is_list(values.type) or pa.types.is_large_list(values.type) \
            or pa.types.is_fixed_size_list(values.type):
        values = pc.list_flatten(values)
    if values.null_count:
        raise CurateValueError(
            "the label column holds a missing label (null/NaN); drop it or give it a class name"
        )
    if pa.types.is_dictionary(values.type):
        idx = values.indices.to_numpy(zero_copy_only=False)
        cnt = np.bincount(idx, minlength=len(values.dictionary))
        keep = cnt > 0
        labels = np.asarray(values.dictionary.to_pylist(), dtype=object)[keep]
        return pd.Series(cnt[keep].astype(np.int64), index=pd.Index(labels, dtype=object))
    vc = pc.value_counts(values)
    return pd.Series(
        vc.field("counts").to_numpy().astype(np.int64),
        index=pd.Index(vc.field("values").to_pylist(), dtype=object),
    )


def _merge_counts(parts: list[pd.Series]) -> pd.Series:
    """Sum per-batch outputs of :func:`_update_values`."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.Series([], dtype=np.int64, index=pd.Index([], dtype=object))
    if len(parts) == 1:
        return parts[0]
    return pd.concat(parts).groupby(level=0, sort=False).sum().astype(np.int64)


def _compute_counts(total: pd.Series, ignore_index: int | None = None,
                    field: str = "the label column") -> pd.Series:
    """Order merged value counts as :class:`LabelTable` orders classes; index becomes str.

    Numbers are named as a table names them: integral floats as integers (``2.0`` is
    ``"2"``), anything else a float raises; ``ignore_index`` (numbers only) is dropped.
    """
    values = total.index.tolist()
    if any(isinstance(v, float) for v in values):
        bad = [v for v in values if isinstance(v, float) and not (np.isfinite(v) and v == int(v))]
        if bad:
            raise CurateValueError(
                f"{field} holds {bad[0]!r}; labels must be integers or strings, "
                "without NaN"
            )
        values = [int(v) if isinstance(v, float) else v for v in values]
    counts = pd.Series(total.to_numpy(), index=pd.Index(values, dtype=object))
    if ignore_index is not None:
        keep = [not is_ignored(v, ignore_index) for v in values]
        counts = counts[np.asarray(keep, dtype=bool)]
    order = _class_names(counts.index.tolist())
    out = pd.Series(counts.to_numpy(), index=pd.Index([str(v) for v in counts.index]))
    return out.reindex(order).astype(np.int64).rename_axis("class").rename("count")


# ---------------------------------------------------------------------- result
@dataclass(frozen=True)
class Advice:
    """One finding about the label distribution.

    Attributes
    ----------
    code : str
        Stable identifier (``"majority-share"``, ``"severe-imbalance"``, ...).
    severity : {"info", "warning"}
        ``"warning"`` asks for action before training.
    message : str
        A sentence with the numbers behind the finding.

    Examples
    --------
    >>> Advice("rare-classes", "warning", "1 class has fewer than 10 samples").severity
    'warning'
    """

    code: str
    severity: str
    message: str

    def to_dict(self) -> dict[str, str]:
        """Return ``{"code", "severity", "message"}``.

        Examples
        --------
        >>> Advice("x", "info", "m").to_dict()
        {'code': 'x', 'severity': 'info', 'message': 'm'}
        """
        return {"code": self.code, "severity": self.severity, "message": self.message}


@dataclass(frozen=True)
class ImbalanceStats:
    """Imbalance measures of a :class:`~curate.LabelTable` (see :func:`imbalance_stats`).

    ``K'`` below is the set of non-background classes, ``c_k`` their counts and
    ``p_k = c_k / sum(c)`` their shares among non-background labels.

    Attributes
    ----------
    n_samples, n_classes, n_labels : int
        Rows, columns and total count (background included).
    level : str
        What a label counts (``"token"``, ``"entity"``, ``"instance"``, ``"sample"``).
    background : str or None
        Background class, excluded from the ratio, entropy and Gini.
    per_class : pandas.DataFrame
        Indexed by class (table order): ``count``, ``share`` (of all labels), ``support``
        (samples holding the class), ``support_share`` (of all samples).
    imbalance_ratio : float
        ``max(c_k) / min(c_k)`` over K'; ``inf`` when a class in K' has no label.
    majority_class : str
        Class with the most labels, background included.
    majority_share : float
        Its share of all labels (``"O" holds 83 % of tokens``).
    entropy : float
        ``H = -sum p_k ln p_k`` in nats over K'.
    normalized_entropy : float
        ``H / ln |K'|`` (1 = uniform; 1 by definition when ``|K'| = 1``).
    effective_classes : float
        ``exp(H)``, the number of equally frequent classes with the same entropy.
    gini : float
        Gini coefficient of the K' counts (0 = equal, → 1 = one class holds all).
    labels_per_sample, classes_per_sample : pandas.Series
        Histograms: number of labels (distinct classes) in a sample -> number of samples.
    n_empty : int
        Samples with no label.
    n_background_only : int
        Non-empty samples whose labels are all background.
    cooccurrence : scipy.sparse.csr_matrix of shape (n_classes, n_classes)
        Entry ``(a, b)``: samples holding both classes; the diagonal is the support.
    advice : list of Advice
        Findings with their numbers (thresholds are module constants).

    Examples
    --------
    >>> from curate import LabelTable, imbalance_stats
    >>> s = imbalance_stats(LabelTable.from_labels([["a", "a", "a"], ["b"]]))
    >>> s.imbalance_ratio, s.majority_class, round(s.majority_share, 2)
    (3.0, 'a', 0.75)
    """

    n_samples: int
    n_classes: int
    n_labels: int
    level: str
    background: str | None
    per_class: pd.DataFrame
    imbalance_ratio: float
    majority_class: str
    majority_share: float
    entropy: float
    normalized_entropy: float
    effective_classes: float
    gini: float
    labels_per_sample: pd.Series
    classes_per_sample: pd.Series
    n_empty: int
    n_background_only: int
    cooccurrence: sp.csr_matrix = field(repr=False)
    advice: list[Advice] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """Return a copy of the per-class frame (count, share, support, support_share).

        Examples
        --------
        >>> from curate import LabelTable, imbalance_stats
        >>> s = imbalance_stats(LabelTable.from_labels([["a"], ["a", "b"]]))
        >>> s.to_frame()["count"].tolist()
        [2, 1]
        """
        return self.per_class.copy()

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict (plain ints, floats, lists, str).

        An infinite ratio becomes the string ``"inf"`` and NaN becomes ``None``; the
        co-occurrence matrix is a list of ``[class_a, class_b, n_samples]`` triples with
        ``class_a < class_b`` in table order (the diagonal is ``per_class.support``).

        Examples
        --------
        >>> import json
        >>> from curate import LabelTable, imbalance_stats
        >>> d = imbalance_stats(LabelTable.from_labels([["a"], ["b", "a"]])).to_dict()
        >>> d["imbalance_ratio"], d["cooccurrence"]
        (2.0, [['a', 'b', 1]])
        >>> _ = json.dumps(d)
        """
        co = sp.triu(self.cooccurrence, k=1).tocoo()
        cls = self.per_class.index.tolist()
        pairs = sorted(zip(co.row.tolist(), co.col.tolist(), co.data.tolist(), strict=True))
        return jsonable({  # type: ignore[no-any-return]
            "n_samples": self.n_samples,
            "n_classes": self.n_classes,
            "n_labels": self.n_labels,
            "level": self.level,
            "background": self.background,
            "imbalance_ratio": float(self.imbalance_ratio),
            "majority_class": self.majority_class,
            "majority_share": float(self.majority_share),
            "entropy": float(self.entropy),
            "normalized_entropy": float(self.normalized_entropy),
            "effective_classes": float(self.effective_classes),
            "gini": float(self.gini),
            "n_empty": self.n_empty,
            "n_background_only": self.n_background_only,
            "labels_per_sample": {str(k): int(v) for k, v in self.labels_per_sample.items()},
            "classes_per_sample": {str(k): int(v) for k, v in self.classes_per_sample.items()},
            "per_class": {
                str(name): {
                    "count": int(row["count"]),
                    "share": float(row["share"]),
                    "support": int(row["support"]),
                    "support_share": float(row["support_share"]),
                }
                for name, row in self.per_class.iterrows()
            },
            "cooccurrence": [[cls[a], cls[b], int(n)] for a, b, n in pairs],
            "advice": [a.to_dict() for a in self.advice],
        }, nonfinite="str")


# ---------------------------------------------------------------------- compute
def imbalance_stats(table: LabelTable) -> ImbalanceStats:
    """Measure how imbalanced the labels of ``table`` are.

    Parameters
    ----------
    table : LabelTable
        The labels. Its ``background`` class (if any) counts in ``n_labels``,
        ``majority_share`` and ``per_class`` but not in the ratio, entropy or Gini.

    Returns
    -------
    ImbalanceStats
        Counts, shares, ``imbalance_ratio = max c_k / min c_k``, entropy
        ``H = -sum p_k ln p_k``, ``normalized_entropy = H / ln K'``,
        ``effective_classes = exp(H)``, Gini, per-sample histograms, empty and
        background-only samples, co-occurrence and advice. Formulas: ``docs/stats.md``.

    Raises
    ------
    CurateValueError
        When the table has no sample or no label.

    Examples
    --------
    >>> from curate import LabelTable, imbalance_stats
    >>> tags = [["O", "O", "B-PER", "O"], ["O", "B-LOC", "O", "O"]]
    >>> s = imbalance_stats(LabelTable.from_tags(tags))
    >>> s.majority_class, s.majority_share, s.imbalance_ratio
    ('O', 0.75, 1.0)
    >>> s.effective_classes
    2.0
    """
    if not isinstance(table, LabelTable):
        raise CurateTypeError(
            f"imbalance_stats needs a LabelTable; got {type(table).__name__}. "
            "Build one with LabelTable.from_labels or a curate.io reader"
        )
    if table.n_samples == 0:
        raise CurateValueError("table has 0 samples; pass a dataset with at least one sample")
    suff = _update_table(table.matrix, table.background_index)
    if suff.counts.sum() == 0:
        raise CurateValueError(
            "table has no labels (every sample is empty); there is no distribution to measure"
        )
    return _compute(suff, table.classes, table.background, table.level)


def _compute(suff: _Sufficient, classes: tuple[str, ...], background: str | None,
             level: str) -> ImbalanceStats:
    counts = suff.counts.astype(np.int64)
    n_labels = int(counts.sum())
    n = suff.n_samples
    per_class = pd.DataFrame(
        {
            "count": counts,
            "share": counts / n_labels,
            "support": suff.support,
            "support_share": suff.support / n,
        },
        index=pd.Index(list(classes), name="class"),
    )
    fg = np.array([c != background for c in classes])
    c = counts[fg].astype(np.float64)
    ratio, h, h_norm, gini = _distribution_measures(c)
    top = int(np.argmax(counts))
    labels_hist = _series_hist(suff.labels_hist, "labels_per_sample")
    stats = ImbalanceStats(
        n_samples=n, n_classes=len(classes), n_labels=n_labels, level=level,
        background=background, per_class=per_class, imbalance_ratio=ratio,
        majority_class=classes[top], majority_share=float(counts[top] / n_labels),
        entropy=h, normalized_entropy=h_norm, effective_classes=float(np.exp(h)), gini=gini,
        labels_per_sample=labels_hist,
        classes_per_sample=_series_hist(suff.classes_hist, "classes_per_sample"),
        n_empty=int(suff.labels_hist.get(0, 0)), n_background_only=suff.n_background_only,
        cooccurrence=suff.cooccurrence,
    )
    object.__setattr__(stats, "advice", _advise(stats))
    return stats


def _series_hist(hist: dict[int, int], name: str) -> pd.Series:
    keys = sorted(hist)
    return pd.Series([hist[k] for k in keys], index=pd.Index(keys, name=name),
                     name="n_samples", dtype=np.int64)


def _distribution_measures(c: np.ndarray) -> tuple[float, float, float, float]:
    """Imbalance ratio, entropy (nats), normalised entropy and Gini of counts ``c``."""
    if c.size == 0 or c.sum() == 0:
        return math.nan, math.nan, math.nan, math.nan
    ratio = math.inf if c.min() == 0 else float(c.max() / c.min())
    p = c[c > 0] / c.sum()
    h = float(-(p * np.log(p)).sum())
    h_norm = 1.0 if c.size == 1 else h / math.log(c.size)
    s = np.sort(c)
    k = c.size
    gini = float((2 * np.arange(1, k + 1) @ s) / (k * s.sum()) - (k + 1) / k)
    return ratio, h, h_norm, max(gini, 0.0)


def _advise(s: ImbalanceStats) -> list[Advice]:
    unit = _UNITS.get(s.level, "labels")
    out: list[Advice] = []
    if s.majority_share > MAJORITY_SHARE_WARN:
        out.append(Advice(
            "majority-share", "warning",
            f"majority class {s.majority_class!r} holds {100 * s.majority_share:.1f} % of "
            f"{unit}: plan balancing ({_remedy(s)}) and judge models with macro metrics, not "
            "accuracy",
        ))
    fg = s.per_class if s.background is None else s.per_class.drop(index=s.background)
    missing = fg.index[fg["count"] == 0].tolist()
    if missing:
        out.append(Advice(
            "missing-classes", "warning",
            f"{len(missing)} class(es) have no labels ({_names(missing)}): their weights and "
            "metrics are undefined; drop them from classes or collect examples",
        ))
    if math.isfinite(s.imbalance_ratio) and s.imbalance_ratio >= SEVERE_RATIO:
        out.append(Advice(
            "severe-imbalance", "warning",
            f"imbalance ratio {s.imbalance_ratio:,.0f} (most frequent / rarest class, "
            f"{fg['count'].idxmax()!r} {fg['count'].max():,} vs {fg['count'].idxmin()!r} "
            f"{fg['count'].min():,}): {_remedy(s)}",
        ))
    elif math.isfinite(s.imbalance_ratio) and s.imbalance_ratio >= MODERATE_RATIO:
        out.append(Advice(
            "moderate-imbalance", "info",
            f"imbalance ratio {s.imbalance_ratio:,.1f}: {_remedy(s)}; at this ratio "
            "rebalancing helped some measured sets and lowered macro-F1 on others, so keep "
            "it only if validation macro metrics improve",
        ))
    rare = fg[(fg["support"] > 0) & (fg["support"] < RARE_SUPPORT)].sort_values("support")
    if len(rare):
        shown = ", ".join(f"{k!r} ({v})" for k, v in rare["support"].head(5).items())
        more = f" and {len(rare) - 5} more" if len(rare) > 5 else ""
        out.append(Advice(
            "rare-classes", "warning",
            f"{len(rare)} class(es) appear in fewer than {RARE_SUPPORT} samples: {shown}{more}; "
            "duplicates of so few samples overfit: prefer keeping every one "
            "(minimize_duplicates=True) and collecting more",
        ))
    if s.n_empty / s.n_samples > EMPTY_SHARE_WARN:
        out.append(Advice(
            "many-empty", "info",
            f"{100 * s.n_empty / s.n_samples:.1f} % of samples ({s.n_empty:,}) hold no labels: "
            "they dilute batches; drop them or treat them as background",
        ))
    # "moderate-imbalance" already says balancing is optional there; both read as a
    # contradiction side by side
    if not any(a.severity == "warning" or a.code == "moderate-imbalance" for a in out):
        out.append(Advice("no-strong-imbalance", "info",
                          "no strong imbalance found; balancing is optional"))
    return out


def _remedy(s: ImbalanceStats) -> str:
    """What helped in the effect benchmark for this kind of labels (docs/guide.md)."""
    if s.level in ("token", "entity"):
        return ("weight the loss with class_weights(scheme='inverse_sqrt', background=..., "
                "background_weight='scaled'); the balanced sampler lowered entity F1 when "
                "measured (docs/guide.md)")
    several = [int(k) for k, v in s.classes_per_sample.items() if v > 0 and int(k) > 1]
    if several:
        return ("tune one threshold per class on validation (curate.tune_thresholds): "
                "resampling and reweighting did not raise mAP when measured; if you resample "
                "anyway, a mild plan (InterClassBalancer(duplicate_cost=2, removal_cost=2)) "
                "lost the least (docs/guide.md)")
    return ("for a trained model, curate.logit_adjust with tau from curate.tune_tau on "
            "validation; from scratch, LogitAdjustedLoss or class_weights(scheme='balanced'); "
            "not FocalLoss (docs/guide.md)")


def _names(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
