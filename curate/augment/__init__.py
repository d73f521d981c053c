"""Rare-label helpers and rare-aware partners for composite augmentation.

Rare-label helpers, the cheap complements to a weighted loss for token classification (NER,
KIE):

- augment samples that hold a rare label more often (:func:`rare_aware_probability` per sample,
  :func:`has_rare_label` inside a collator working on ``labels`` tensors with -100);
- duplicate samples holding rare labels, capped at ``max_factor`` (1–2x: more copies mostly
  teach the model those exact samples), with :func:`oversample_rare`, which returns the same
  :class:`~curate.BalancePlan` as every other resampler. The other rule-based plans (repeat
  factors, quotas) are in :mod:`curate.balance.baselines`; the integer-program balancer is
  :class:`curate.InterClassBalancer`.

Composite augmentation (Mosaic stitches 4 images, CutMix and MixUp blend 2):

- :class:`PartnerSampler` draws the partners of each anchor so that the class totals of the
  composites move toward balanced targets, deterministically per ``(seed, epoch, index)``;
- :func:`effective_looks` and :func:`looks_table` count how often each class is seen per epoch
  when composites are counted, for uniform and rare-aware partners;
- :class:`PartnerDataset`, :class:`EpochTagSampler` and :func:`attach_partners` plug the
  partners into a user's own Mosaic/MixUp code or into Ultralytics' mix transforms.
"""

from curate.augment._adapters import EpochTagSampler, PartnerDataset, PartnerHook, attach_partners
from curate.augment._partners import PartnerSampler, effective_looks, looks_table
from curate.augment._rare import (
    has_rare_label,
    oversample_rare,
    rare_aware_probability,
    rare_classes,
)

__all__ = [
    "EpochTagSampler",
    "PartnerDataset",
    "PartnerHook",
    "PartnerSampler",
    "attach_partners",
    "effective_looks",
    "has_rare_label",
    "looks_table",
    "oversample_rare",
    "rare_aware_probability",
    "rare_classes",
]
