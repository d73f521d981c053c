"""Seed 002's weight-table shape on real CoNLL-2003 token tags (tags_iob2, all splits).

Mean-normalised inverse_sqrt (alpha=0.5): O lowest, the rarest tags highest, the rarest B- tag
above every other B- tag, and no weight above ~3. Ordering properties only, no stored numbers.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import dataset_path

import curate

pytestmark = pytest.mark.datasets


@pytest.fixture(scope="module")
def table():
    path = dataset_path("conll2003_ner")
    return curate.io.read_labels(path, column="tags_iob2", level="token", background="O")


@pytest.mark.parametrize("kwargs", [
    {"background_weight": "scaled"},  # O excluded from the mean, scaled like the others
    {"background": False},  # seed 002's exact recipe: O treated as any class
    {},  # the default once a background is named: background_weight="lowest"
])
def test_seed_002_shape(table, kwargs):
    w = curate.class_weights(table, scheme="inverse_sqrt", alpha=0.5, **kwargs).to_series()
    counts = table.counts
    assert w["O"] == w.min()  # the default ("lowest") ties O with the most frequent tag
    entity = w.drop("O")
    if kwargs.get("background") is not False:
        assert entity.mean() == pytest.approx(1.0)  # O is out of the normalisation
    else:
        assert w.mean() == pytest.approx(1.0)
    # weights are ordered exactly opposite to counts
    order = counts.drop("O").sort_values().index
    assert np.all(np.diff(entity[order].to_numpy()) < 0)
    b_tags = [c for c in counts.index if c.startswith("B-")]
    rarest_b = counts[b_tags].idxmin()
    assert w[b_tags].idxmax() == rarest_b
    assert w.max() <= 3.0 and w.max() > 1.0


def test_background_default_weight_is_the_lowest(table):
    w = curate.class_weights(table)
    others = np.delete(w.weights, w.classes.index("O"))
    assert w.to_dict()["O"] == others.min()  # never above any entity tag
    np.testing.assert_allclose(others.mean(), 1.0)
    assert curate.class_weights(table, background_weight=1.0).to_dict()["O"] == 1.0
