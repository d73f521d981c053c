"""Imbalance-aware losses for torch.

Softmax losses for integer targets: weighted cross-entropy, focal (Lin et al. 2017),
class-balanced (Cui et al. 2019), logit-adjusted (Menon et al. 2021) and balanced softmax
(Ren et al. 2020). Sigmoid losses for multi-hot targets: sigmoid focal and
distribution-balanced (Wu et al. 2020). Priors for the prior-based losses come from
:func:`priors_from` (a ``LabelTable``, a ``ClassWeights``' counts or an array), the same
priors :func:`curate.logit_adjust` and :func:`curate.tune_tau` use.

Every softmax loss takes logits shaped ``(N, C)`` or ``(B, T, C)`` (classes last, as Hugging
Face token classifiers return them) and integer targets ``(N,)`` or ``(B, T)`` where
``ignore_index`` marks positions that never count.

Numerics shared by all losses:

- log-softmax / log-sigmoid based, so large logits never overflow;
- ``float16`` / ``bfloat16`` logits are computed in ``float32`` and the loss is returned in
  ``float32`` (as autocast does for ``cross_entropy``); other dtypes compute and return in the
  logits' dtype, on the logits' device;
- a batch whose labels are all ``ignore_index`` gives a loss of exactly 0 that still has a
  gradient (of zeros), never NaN;
- class weights and priors are registered buffers: they move with ``loss.to(device)``; when
  the logits sit elsewhere, they are copied once per (device, dtype) and cached, not per call
  (a buffer changed in place, e.g. by ``load_state_dict``, is copied again).

Importing this module imports torch; ``import curate`` does not.
"""

from __future__ import annotations

from curate.adjust import priors_from
from curate.losses._adjusted import BalancedSoftmaxLoss, LogitAdjustedLoss
from curate.losses._classic import (
    ClassBalancedLoss,
    FocalLoss,
    SigmoidFocalLoss,
    WeightedCrossEntropy,
    token_classification_loss,
)
from curate.losses._multilabel import DistributionBalancedLoss

__all__ = [
    "BalancedSoftmaxLoss",
    "ClassBalancedLoss",
    "DistributionBalancedLoss",
    "FocalLoss",
    "LogitAdjustedLoss",
    "SigmoidFocalLoss",
    "WeightedCrossEntropy",
    "priors_from",
    "token_classification_loss",
]
