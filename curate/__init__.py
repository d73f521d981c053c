"""curate: measure class imbalance, rebalance with an integer program, weight the loss,
and prove with macro metrics that it helped.

Every public name is resolved lazily (PEP 562), so ``import curate`` stays cheap and never
imports torch, matplotlib or PuLP until a feature that needs them is used.

Examples
--------
>>> import curate
>>> table = curate.LabelTable.from_labels([["cat", "dog"], ["cat"], []])
>>> table.counts.to_dict()
{'cat': 2, 'dog': 1}
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY = {
    "BalancePlan": "curate.balance",
    "BalancedIterable": "curate.stream",
    "BalancedSampler": "curate.sampler",
    "ClassWeights": "curate.weights",
    "Evaluation": "curate.metrics",
    "ImbalanceStats": "curate.stats",
    "InterClassBalancer": "curate.balance",
    "LabelTable": "curate.labels",
    "WeightedSampler": "curate.sampler",
    "average_precision": "curate.metrics",
    "class_weights": "curate.weights",
    "compare": "curate.metrics",
    "count_labels": "curate.io",
    "evaluate": "curate.metrics",
    "imbalance_stats": "curate.stats",
    "logit_adjust": "curate.adjust",
    "oversample_rare": "curate.augment",
    "rare_classes": "curate.augment",
    "tune_tau": "curate.adjust",
    "tune_thresholds": "curate.metrics",
}
_SUBMODULES = (
    "adjust",
    "augment",
    "balance",
    "datasets",
    "engine",
    "exceptions",
    "integrations",
    "io",
    "labels",
    "losses",
    "metrics",
    "ray",
    "report",
    "sampler",
    "stats",
    "stream",
    "weights",
)

__all__ = sorted([*_LAZY, *_SUBMODULES, "__version__"])


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"curate.{name}")
    raise AttributeError(f"module 'curate' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
