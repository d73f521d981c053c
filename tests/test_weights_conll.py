"""Seed 002's weight-table shape on real CoNLL-2003 token tags (tags_iob2, all splits).

Mean-normalised inverse_sqrt (alpha=0.5): O lowest, the rarest tags highest, the rarest B- tag
above every other B- tag, and no weight above ~3. Ordering properties only, no stored numbers.
"""

from __future__ import annotations

import numpy as np
import pytest

import curate
from tests.conftest import dataset_path

pytestmark = pytest.mark.datasets


@pytest.fixture(scope="module")
def table():
    pytest.importorskip("curate.io")
    path = dataset_path("conll2003_ner")
    return curate.io.read_labels(path, column="tags_iob2", level="token", background="O")


@pytest.mark.parametrize("kwargs", [
    {"background_weight": "scaled"},  # O excluded from the mean, scaled like the others
    {"background": False},  # seed 002's exact recipe: O treated as any class
])
def test_seed_002_shape(table, kwargs):
    w = curate.class_weights(table, scheme="inverse_sqrt", alpha=0.5, **kwargs).to_series()
    counts = table.counts
    assert w.idxmin() == "O"
    entity = w.drop("O")
    if "background_weight" in kwargs:
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


def test_background_default_weight_is_one(table):
    w = curate.class_weights(table)
    assert w.to_dict()["O"] == 1.0
    np.testing.assert_allclose(np.delete(w.weights, w.classes.index("O")).mean(), 1.0)
