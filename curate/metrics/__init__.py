"""Evaluation that makes the accuracy paradox impossible to miss.

:func:`evaluate` scores a prediction run per class and on average (micro, macro, weighted;
numbers equal scikit-learn's ``classification_report`` and seqeval's), adds balanced
accuracy and the majority-class baseline, and returns a :class:`ParadoxVerdict` saying in
plain sentences whether a high accuracy hides missed classes. :func:`compare` puts two runs
side by side (for example before and after rebalancing). For multi-label scores,
:func:`average_precision` / :func:`mean_average_precision` rank, and
:func:`tune_thresholds` / :func:`apply_thresholds` turn scores into predictions with one
threshold per class.

Examples
--------
>>> from curate.metrics import evaluate
>>> ev = evaluate(["cat"] * 9 + ["dog"], ["cat"] * 10, zero_division=0)
>>> ev.accuracy, ev.paradox.flagged
(0.9, True)
"""

from __future__ import annotations

from curate.metrics._compare import Comparison, compare
from curate.metrics._evaluation import Evaluation, detect_task, evaluate
from curate.metrics._paradox import ParadoxVerdict
from curate.metrics._ranking import (
    apply_thresholds,
    average_precision,
    mean_average_precision,
    tune_thresholds,
)
from curate.metrics._scores import Scores

__all__ = ["Comparison", "Evaluation", "ParadoxVerdict", "Scores", "apply_thresholds",
           "average_precision", "compare", "detect_task", "evaluate",
           "mean_average_precision", "tune_thresholds"]
