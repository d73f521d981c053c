"""``make_long_tailed``: seeded, long-tailed, COCO-shaped."""

from __future__ import annotations

import numpy as np
import pytest

from curate.datasets import make_long_tailed


def test_same_seed_same_table_different_seed_different():
    a, b, c = (
        make_long_tailed(500, 20, seed=3),
        make_long_tailed(500, 20, seed=3),
        make_long_tailed(500, 20, seed=4),
    )
    assert (a.matrix != b.matrix).nnz == 0
    assert (a.matrix != c.matrix).nnz > 0


def test_shape_of_the_data():
    t = make_long_tailed(20_000, 50, empty_fraction=0.05, dominant_rate=0.5, seed=0)
    per_sample = np.asarray(t.matrix.sum(axis=1)).ravel()
    assert per_sample.max() <= 15
    empty = (per_sample == 0).mean()
    assert 0.04 < empty < 0.06  # binomial sd ~ 0.0015
    holds_person = t.presence()[:, 0].toarray().ravel().astype(bool)
    assert 0.45 < holds_person[per_sample > 0].mean() < 0.55
    counts = t.counts.drop("person").to_numpy()
    assert counts[0] > 10 * counts[-1]  # Zipf tail: first tail class far above the last
    assert t.counts.idxmax() == "person"
    # the dominant class co-occurs with the rarest classes
    rare = t.presence()[:, -5:].toarray().any(axis=1)
    assert holds_person[rare].mean() > 0.3


def test_bad_arguments():
    with pytest.raises(ValueError, match="'n_classes' parameter of make_long_tailed"):
        make_long_tailed(10, 1)
