"""The accuracy-paradox verdict: three plain rules over numbers an evaluation already holds.

1. ``baseline``: the headline score is at most ``baseline_margin`` above (or below) the score
   of always predicting the most frequent true label.
2. ``recall_gap``: the headline score exceeds the macro recall by ``recall_gap`` or more.
3. ``rare_recall``: the headline score is at least ``high_accuracy`` while a rare class has
   recall below ``rare_recall``.
4. ``threshold`` (multi-label scores cut at one fixed threshold): per-class thresholds
   tuned on the same scores raise macro-F1 by at least ``threshold_gain``, so the fixed
   threshold, not the model's ranking, is what fails the rare classes.

When the headline score or the macro recall cannot be computed (no item, no class with
support) there is no verdict: ``flagged`` is False and ``note`` says why.

The headline score is accuracy (token accuracy for tags) or, for multi-label, micro-F1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from curate._format import jsonable

__all__ = ["ParadoxVerdict", "default_rare", "judge"]


@dataclass(frozen=True)
class ParadoxVerdict:
    """Whether an evaluation shows the accuracy paradox, and why.

    Attributes
    ----------
    flagged : bool
        True when at least one rule fired.
    reasons : list of str
        One plain sentence per rule that fired, with its numbers.
    rules : list of dict
        Every rule checked: ``name``, ``triggered``, the numbers it used and its threshold.
    note : str
        Why there is no verdict (nothing to judge), or ``""``.

    Examples
    --------
    >>> v = judge(score=0.83, score_name="Accuracy", baseline=0.83, majority_label="O",
    ...           macro_recall=0.0, recalls={"PER": 0.0}, rare=["PER"])
    >>> v.flagged, [r["name"] for r in v.rules if r["triggered"]]
    (True, ['baseline', 'recall_gap', 'rare_recall'])
    >>> print(v.reasons[0])
    Accuracy 0.830 is within 0.02 of the 0.830 you get by always predicting 'O'.
    """

    flagged: bool
    reasons: list[str] = field(default_factory=list)
    rules: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable copy: ``{"flagged", "reasons", "rules"}``.

        Examples
        --------
        >>> ParadoxVerdict(False).to_dict()
        {'flagged': False, 'reasons': [], 'rules': [], 'note': ''}
        """
        return {
            "flagged": bool(self.flagged),
            "reasons": list(self.reasons),
            "rules": [dict(rule) for rule in self.rules],
            "note": self.note,
        }

    def __str__(self) -> str:
        if self.note:
            return f"No verdict: {self.note}"
        if not self.flagged:
            return "No accuracy paradox: the headline score agrees with per-class recall."
        return "Accuracy paradox: " + " ".join(self.reasons)


def default_rare(names: Sequence[str], support: Sequence[float]) -> list[str]:
    """The bottom third (at least one) of the classes with support, by support then name.

    Examples
    --------
    >>> default_rare(["a", "b", "c", "d"], [50, 3, 0, 9])
    ['b']
    >>> default_rare(["a", "b", "c"], [1.9, 1.1, 6])  # weighted supports are not truncated
    ['b']
    """
    seen = [(float(s), n) for n, s in zip(names, support, strict=True) if s > 0]
    if not seen:
        return []
    return [n for _, n in sorted(seen)[: max(1, len(seen) // 3)]]


def judge(
    *,
    score: float,
    score_name: str,
    baseline: float,
    majority_label: Any,
    macro_recall: float,
    recalls: dict[str, float],
    rare: Sequence[str],
    baseline_margin: float = 0.02,
    recall_gap: float = 0.2,
    rare_recall: float = 0.5,
    high_accuracy: float = 0.8,
    threshold_check: dict[str, Any] | None = None,
) -> ParadoxVerdict:
    """Apply the rules and return the verdict (see the module docstring).

    ``threshold_check`` (rule 4) holds ``threshold``, ``gain``, ``names`` and the per-class
    F scores ``f_fixed`` and ``f_tuned``; None skips the rule.

    Examples
    --------
    >>> judge(score=0.98, score_name="Accuracy", baseline=0.83, majority_label="O",
    ...       macro_recall=0.95, recalls={"PER": 0.96}, rare=["PER"]).flagged
    False
    """
    rules: list[dict[str, Any]] = []
    reasons: list[str] = []
    finite = not np.isnan(score)

    near = finite and not np.isnan(baseline) and score <= baseline + baseline_margin
    rules.append({"name": "baseline", "triggered": bool(near), "score": jsonable(score),
                  "baseline": jsonable(baseline), "majority_label": f"{majority_label}",
                  "threshold": baseline_margin})
    if near:
        how = (f"is below the {baseline:.3f}" if score < baseline - baseline_margin
               else f"is within {baseline_margin:g} of the {baseline:.3f}")
        reasons.append(f"{score_name} {score:.3f} {how} you get by always predicting "
                       f"'{majority_label}'.")

    gap = score - macro_recall if finite and not np.isnan(macro_recall) else float("nan")
    wide = bool(not np.isnan(gap) and gap >= recall_gap)
    rules.append({"name": "recall_gap", "triggered": wide, "score": jsonable(score),
                  "macro_recall": jsonable(macro_recall), "gap": jsonable(gap),
                  "threshold": recall_gap})
    if wide:
        reasons.append(f"{score_name} {score:.3f} exceeds macro recall {macro_recall:.3f} by "
                       f"{gap:.3f} (threshold {recall_gap:g}): many classes are missed.")

    low = {n: recalls[n] for n in rare if n in recalls and recalls[n] < rare_recall}
    fires = bool(finite and score >= high_accuracy and low)
    rules.append({"name": "rare_recall", "triggered": fires, "score": jsonable(score),
                  "rare_classes": list(rare),
                  "rare_recalls": {n: jsonable(recalls.get(n, float("nan"))) for n in rare},
                  "threshold": rare_recall, "high_accuracy": high_accuracy})
    if fires:
        listed = ", ".join(f"'{n}' {r:.3f}" for n, r in low.items())
        reasons.append(f"{score_name} is {score:.3f} (at least {high_accuracy:g}) but rare "
                       f"classes have recall below {rare_recall:g}: {listed}.")
    if threshold_check is not None:
        _threshold_rule(threshold_check, rare, rules, reasons)
    if np.isnan(score) or np.isnan(macro_recall):
        what = ("no item to score" if np.isnan(score) else
                "no averaged class occurs in y_true, so recall is undefined")
        return ParadoxVerdict(flagged=False, reasons=[], rules=rules,
                              note=f"nothing to judge ({what}).")
    return ParadoxVerdict(flagged=bool(reasons), reasons=reasons, rules=rules)


def _threshold_rule(check: dict[str, Any], rare: Sequence[str], rules: list[dict[str, Any]],
                    reasons: list[str]) -> None:
    names = list(check["names"])
    f_fixed = np.asarray(check["f_fixed"], dtype=np.float64)
    f_tuned = np.asarray(check["f_tuned"], dtype=np.float64)
    fixed, tuned = float(np.mean(f_fixed)), float(np.mean(f_tuned))
    fires = bool(tuned - fixed >= check["gain"])
    rules.append({"name": "threshold", "triggered": fires, "threshold": check["threshold"],
                  "macro_f1_fixed": fixed, "macro_f1_tuned": tuned,
                  "min_gain": check["gain"]})
    if fires:
        where = {n: i for i, n in enumerate(names)}
        shown = [n for n in rare if n in where] or names
        gains = sorted(shown, key=lambda n: f_fixed[where[n]] - f_tuned[where[n]])[:3]
        listed = ", ".join(f"'{n}' {f_fixed[where[n]]:.3f} -> {f_tuned[where[n]]:.3f}"
                           for n in gains)
        reasons.append(
            f"The fixed threshold {check['threshold']:g}, not the model, fails the rare "
            f"classes: per-class thresholds tuned on these scores raise macro-F1 from "
            f"{fixed:.3f} to {tuned:.3f} ({listed}). Tune them on a validation split with "
            "curate.tune_thresholds (these tuned numbers are in-sample, so optimistic).")
