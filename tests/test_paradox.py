"""The accuracy-paradox verdict: the all-O predictor is flagged, a good predictor is not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from curate.metrics import evaluate
from curate.metrics._paradox import default_rare, judge
from tests.conftest import dataset_path


def _conll_test():
    df = pd.read_parquet(dataset_path("conll2003_ner"), columns=["tags_iob2", "split"])
    return [list(s) for s in df.loc[df["split"] == "test", "tags_iob2"]]


@pytest.mark.datasets
def test_all_o_predictor_on_conll_is_flagged():
    y_true = _conll_test()
    ev = evaluate(y_true, [["O"] * len(s) for s in y_true], zero_division=0)
    assert ev.paradox.flagged
    fired = {r["name"] for r in ev.paradox.rules if r["triggered"]}
    assert fired == {"baseline", "recall_gap", "rare_recall"}
    assert ev.accuracy == pytest.approx(ev.majority_baseline)
    assert "always predicting 'O'" in ev.paradox.reasons[0]


@pytest.mark.datasets
def test_good_predictor_on_conll_is_not_flagged():
    y_true = _conll_test()
    vocab = sorted({t for s in y_true for t in s})
    rng = np.random.default_rng(3)
    y_pred = []
    for seq in y_true:  # 2 % of tokens wrong, spread evenly over all tags
        seq = list(seq)
        for i in np.flatnonzero(rng.random(len(seq)) < 0.02):
            seq[i] = next(t for t in rng.permutation(vocab) if t != seq[i])
        y_pred.append(seq)
    ev = evaluate(y_true, y_pred)
    assert 0.97 < ev.accuracy < 0.99
    assert not ev.paradox.flagged, ev.paradox.reasons
    assert ev.paradox.reasons == []


def test_each_rule_fires_alone():
    base = {"score_name": "Accuracy", "majority_label": "a", "recalls": {"b": 0.9},
            "rare": ["b"]}
    near = judge(score=0.91, baseline=0.9, macro_recall=0.9, **base)
    assert [r["name"] for r in near.rules if r["triggered"]] == ["baseline"]
    gap = judge(score=0.95, baseline=0.5, macro_recall=0.7, **base)
    assert [r["name"] for r in gap.rules if r["triggered"]] == ["recall_gap"]
    rare = judge(score=0.95, baseline=0.5, macro_recall=0.9,
                 **{**base, "recalls": {"b": 0.4}})
    assert [r["name"] for r in rare.rules if r["triggered"]] == ["rare_recall"]
    low_acc = judge(score=0.7, baseline=0.5, macro_recall=0.6,
                    **{**base, "recalls": {"b": 0.4}})
    assert not low_acc.flagged  # rare rule needs accuracy >= high_accuracy


def test_thresholds_move_the_verdict():
    y_true = ["a"] * 90 + ["b"] * 10
    y_pred = ["a"] * 90 + ["b"] * 4 + ["a"] * 6
    strict = evaluate(y_true, y_pred, rare_recall=0.5)
    loose = evaluate(y_true, y_pred, rare_recall=0.3, recall_gap=0.5)
    assert strict.paradox.flagged and not loose.paradox.flagged
    assert strict.paradox.rules[2]["rare_recalls"] == {"b": pytest.approx(0.4)}


def test_rare_default_and_explicit():
    assert default_rare(["a", "b", "c", "d", "e", "f"], [9, 1, 5, 2, 3, 7]) == ["b", "d"]
    assert default_rare(["a", "b", "c"], [9, 0, 5]) == ["c"]
    ev = evaluate(["a"] * 8 + ["b", "c"], ["a"] * 8 + ["b", "a"], rare=["b"], zero_division=0)
    assert ev.paradox.rules[2]["rare_classes"] == ["b"]


def test_multilabel_uses_micro_f1():
    t = np.array([[1, 0, 0]] * 8 + [[1, 1, 0], [1, 0, 1]])
    p = np.array([[1, 0, 0]] * 10)
    ev = evaluate(t, p, zero_division=0)
    assert ev.paradox.flagged
    assert ev.paradox.reasons[0].startswith("Micro-F1")
    assert ev.majority_baseline == pytest.approx(ev.micro.f1)


def test_verdict_is_json_ready():
    import json

    ev = evaluate([0, 0, 0, 1], [0, 0, 0, 0], zero_division=0)
    json.dumps(ev.paradox.to_dict())
    assert str(ev.paradox).startswith("Accuracy paradox:")
