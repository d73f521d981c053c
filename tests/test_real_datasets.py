"""Counts on every set in ../shared/datasets equal an independent pandas computation.

Skipped cleanly when the folder (or a file) is absent.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import dataset_path
from seqeval.metrics.sequence_labeling import get_entities

from curate import count_labels, imbalance_stats
from curate.io import read_labels, read_table

pytestmark = pytest.mark.datasets

SETS = [
    ("voc_detection", "labels"),
    ("coco_val2017_detection", "labels"),
    ("mulan_yeast", "labels"),
    ("places_lt", "label"),
    ("reuters_r52", "label"),
    ("conll2003_ner", "tags"),
    ("wnut17_ner", "tags"),
]


def _pandas_counts(path, column):
    s = pd.read_parquet(path, columns=[column])[column]
    if s.map(lambda v: hasattr(v, "__len__") and not isinstance(v, str)).all():
        s = s.explode().dropna()
    return s.astype(str).value_counts().sort_index()


@pytest.mark.parametrize(("name", "column"), SETS)
def test_counts_equal_pandas(name, column):
    path = dataset_path(name)
    expected = _pandas_counts(path, column)
    table = read_table(path, column=column, id_column="sample_id")
    got = table.counts[table.counts > 0].sort_index()
    assert got.to_dict() == expected.to_dict()
    assert table.n_samples == len(pd.read_parquet(path, columns=["sample_id"]))
    streamed = count_labels(path, column=column, progress=False)
    assert streamed.sort_index().to_dict() == expected.to_dict()
    stats = imbalance_stats(table)
    assert stats.n_labels == int(expected.sum())


@pytest.mark.parametrize("name", ["conll2003_ner", "wnut17_ner"])
def test_entity_counts_equal_seqeval(name):
    path = dataset_path(name)
    tags = pd.read_parquet(path, columns=["tags"])["tags"]
    expected = pd.Series([e[0] for seq in tags for e in get_entities(list(seq))]).value_counts()
    table = read_labels(path, column="tags", level="entity")
    assert table.counts.sort_index().to_dict() == expected.sort_index().to_dict()
    assert table.background is None


def test_conll_token_level_background():
    path = dataset_path("conll2003_ner")
    s = imbalance_stats(read_labels(path, column="tags", level="token"))
    assert s.background == "O" and s.majority_class == "O"
    assert s.majority_share > 0.8


@pytest.mark.parametrize("name", ["wnut17_ner", "conll2003_ner"])
def test_cli_stats_reads_tag_columns_as_tokens_with_background_o(name, capsys):
    import json

    from curate.cli import main

    path = dataset_path(name)
    assert main(["stats", str(path), "--column", "tags", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    tags = pd.read_parquet(path, columns=["tags"])["tags"]
    flat = pd.Series([t for seq in tags for t in seq])
    entities = pd.Series([e[0] for seq in tags for e in get_entities(list(seq))]).value_counts()
    assert out["level"] == "token" and out["background"] == "O"
    assert out["n_labels"] == len(flat) and out["majority_class"] == "O"
    assert out["n_background_only"] == int(sum(set(seq) == {"O"} for seq in tags))
    assert out["tags"]["scheme"] == "IOB1 or IOB2" and out["tags"]["background"] == "O"
    assert out["tags"]["entity_counts"] == {k: int(v) for k, v in entities.items()}
    assert main(["stats", str(path), "--column", "tags"]) == 0
    assert "IOB1 or IOB2, background O" in capsys.readouterr().out
