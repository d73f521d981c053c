"""Drop-ins for the frameworks people train with (each an optional extra, imported lazily).

* :mod:`curate.integrations.transformers`: Hugging Face ``datasets`` columns to a
  :class:`~curate.LabelTable` (:func:`~curate.integrations.transformers.table_from_hf`), a
  ``Trainer`` that samples a :class:`~curate.BalancePlan`
  (:class:`~curate.integrations.transformers.BalancedTrainerMixin`, ``BalancedTrainer``), and
  :func:`curate.evaluate` as ``compute_metrics``. Needs ``pip install 'curate[hf]'``.
* :mod:`curate.integrations.lightning`: a callback that keeps a
  :class:`~curate.BalancedSampler` on its planned epochs under Lightning, and refuses a DDP
  run that would shard it a second time. Needs ``lightning``.
* :mod:`curate.integrations.ultralytics`: train Ultralytics YOLO detect, segment and classify
  models on a :class:`~curate.BalancedSampler`
  (:func:`~curate.integrations.ultralytics.train`,
  :func:`~curate.integrations.ultralytics.balanced_trainer`). Needs ``ultralytics`` (and
  torchvision; ``make test-integrations`` builds such an environment).

``import curate.integrations`` imports neither framework.

Examples
--------
>>> import curate.integrations
>>> curate.integrations.__all__
['lightning', 'transformers', 'ultralytics']
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["lightning", "transformers", "ultralytics"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return importlib.import_module(f"curate.integrations.{name}")
    raise AttributeError(f"module 'curate.integrations' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
