"""compare(): per-class deltas and summary deltas between two evaluations."""

from __future__ import annotations

import json

import numpy as np
import pytest

from curate.exceptions import CurateTypeError, CurateValueError
from curate.metrics import Comparison, compare, evaluate


@pytest.fixture()
def runs():
    rng = np.random.default_rng(0)
    y = rng.choice(["a", "b", "c"], p=[0.8, 0.15, 0.05], size=400)
    weak = np.where(rng.random(400) < 0.9, "a", y)
    strong = np.where(rng.random(400) < 0.1, "a", y)
    return evaluate(y, weak, zero_division=0), evaluate(y, strong, zero_division=0)


def test_deltas_are_b_minus_a(runs):
    a, b = runs
    c = compare(a, b)
    assert isinstance(c, Comparison)
    for cls in a.classes:
        for m in ("precision", "recall", "f1"):
            assert c.per_class.loc[cls, f"{m}_delta"] == pytest.approx(
                b.per_class.loc[cls, m] - a.per_class.loc[cls, m])
    assert c.summary.loc["macro recall", "delta"] == pytest.approx(b.macro.recall - a.macro.recall)
    assert c.summary.loc["accuracy", "delta"] == pytest.approx(b.accuracy - a.accuracy)
    assert set(c.improved) | set(c.regressed) | set(c.unchanged) == set(a.classes)
    assert "b" in c.improved


def test_swap_negates(runs):
    a, b = runs
    ab, ba = compare(a, b), compare(b, a, names=("x", "y"))
    np.testing.assert_allclose(ab.per_class["f1_delta"], -ba.per_class["f1_delta"])
    assert ab.improved == ba.regressed


def test_classes_in_one_run_only():
    a = evaluate(["x", "y"], ["x", "x"], zero_division=0)
    b = evaluate(["x", "y"], ["x", "z"], zero_division=0)
    c = compare(a, b)
    assert list(c.per_class.index) == ["x", "y", "z"]
    assert np.isnan(c.per_class.loc["z", "f1_unbalanced"])
    assert c.added == ["z"] and c.removed == [] and "z" not in c.unchanged
    assert compare(b, a).removed == ["z"]


def test_to_dict_is_json_and_markdown_mentions_names(runs):
    c = compare(*runs, names=("before", "after"))
    d = json.loads(json.dumps(c.to_dict()))
    assert d["names"] == ["before", "after"]
    assert set(d["per_class"]["a"]) == {"a", "b", "delta"}
    assert "**before:**" in c.to_markdown()


def test_tags_compare_has_token_level():
    t = [["B-PER", "I-PER", "O"], ["B-LOC"]]
    a = evaluate(t, [["O", "O", "O"], ["O"]], zero_division=0)
    b = evaluate(t, t)
    c = compare(a, b)
    assert c.token is not None and c.token.a.level == "token"
    assert c.improved == ["LOC", "PER"]


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        (("x", None), {}, CurateTypeError, "argument 1 must be an Evaluation"),
        (None, {"names": ("a", "a")}, CurateValueError, "two different strings"),
        (None, {"metric": "auc"}, CurateValueError, "'metric' parameter of compare"),
    ],
)
def test_errors(runs, args, kwargs, error, match):
    with pytest.raises(error, match=match):
        compare(*(args or runs), **kwargs)


def test_different_tasks_rejected():
    a = evaluate([0, 1], [0, 1])
    b = evaluate(np.array([[1, 0], [0, 1]]), np.array([[1, 0], [0, 1]]))
    with pytest.raises(CurateValueError, match="same task and level"):
        compare(a, b)
