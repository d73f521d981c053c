"""Built-in synthetic datasets: seeded, documented, and shaped like real long-tailed labels."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from curate._validation import Interval, validate_params
from curate.labels import LabelTable

__all__ = ["make_long_tailed"]


@validate_params(
    {
        "n_samples": [Interval(int, 1, None)],
        "n_classes": [Interval(int, 2, None)],
        "zipf_exponent": [Interval(float, 0, None)],
        "dominant_rate": [Interval(float, 0, 1)],
        "empty_fraction": [Interval(float, 0, 1, closed="left")],
        "seed": [Interval(int, 0, None)],
    }
)
def make_long_tailed(
    n_samples: int = 5000,
    n_classes: int = 80,
    *,
    zipf_exponent: float = 1.1,
    dominant_rate: float = 0.5,
    empty_fraction: float = 0.02,
    seed: int = 0,
) -> LabelTable:
    """Generate long-tailed, multi-label, detection-style labels (like COCO's).

    Each non-empty sample holds 1–3 distinct classes with 1–5 instances each (so 1–15
    instances). Class 0, ``"person"``, is dominant: it appears in about ``dominant_rate`` of
    the non-empty samples, beside whatever else the sample holds, as ``person`` does in
    COCO. The other classes are drawn with Zipf-like probabilities
    ``p_k ∝ k ** -zipf_exponent`` (k = 1 .. n_classes - 1), so the rarest classes are
    hundreds of times rarer than the common ones. A fraction ``empty_fraction`` of samples
    has no labels at all (images without objects).

    Parameters
    ----------
    n_samples : int, default=5000
        Number of samples (rows).
    n_classes : int, default=80
        Number of classes: ``"person"`` plus ``class_001 .. class_{n_classes-1}``.
    zipf_exponent : float, default=1.1
        Tail steepness; 0 gives uniform non-dominant classes.
    dominant_rate : float, default=0.5
        Share of non-empty samples that hold the dominant class.
    empty_fraction : float, default=0.02
        Share of samples with no labels.
    seed : int, default=0
        Seed of the generator; the same seed gives the same table.

    Returns
    -------
    LabelTable
        Instance counts, ``level="instance"``, sample ids ``0 .. n_samples - 1``.

    Examples
    --------
    >>> from curate.datasets import make_long_tailed
    >>> t = make_long_tailed(2000, 20, seed=1)
    >>> t.n_samples, t.n_classes, t.counts.idxmax()
    (2000, 20, 'person')
    >>> int(t.matrix.sum(axis=1).max()) <= 15
    True
    """
    rng = np.random.default_rng(seed)
    width = len(str(n_classes - 1))
    classes = ["person"] + [f"class_{k:0{width}d}" for k in range(1, n_classes)]
    tail = np.arange(1, n_classes, dtype=np.float64) ** -zipf_exponent
    tail /= tail.sum()

    non_empty = np.flatnonzero(rng.random(n_samples) >= empty_fraction)
    n_distinct = 1 + rng.binomial(2, 0.5, size=len(non_empty))  # 1..3 entries per sample
    rows = np.repeat(non_empty, n_distinct)
    cols = 1 + rng.choice(n_classes - 1, size=len(rows), p=tail)
    # the first entry of a sample is the dominant class with probability dominant_rate
    first = np.concatenate(([0], np.cumsum(n_distinct)[:-1]))
    dominant = first[rng.random(len(non_empty)) < dominant_rate]
    cols[dominant] = 0
    # a class repeated inside a sample merges (sum_duplicates); cap each entry so a sample
    # never exceeds 15 instances (3 entries x 5)
    inst = np.minimum(rng.geometric(0.45, size=len(rows)), 5).astype(np.int64)
    m = sp.csr_matrix((inst, (rows, cols)), shape=(n_samples, n_classes))
    m.sum_duplicates()
    return LabelTable(m, classes, level="instance")
