"""Shared plumbing of curate's losses: weight/offset buffers, flattening, reductions, dtypes."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from curate._validation import Options, check_param, param_error
from curate.exceptions import CurateTypeError, CurateValueError

REDUCTIONS = Options({"mean", "sum", "none"})


def as_weight_tensor(weights: Any, owner: str, name: str = "weights") -> Tensor | None:
    """ClassWeights / tensor / ndarray / list -> 1-D float64 CPU tensor (a copy)."""
    if weights is None:
        return None
    if hasattr(weights, "weights") and hasattr(weights, "classes"):  # ClassWeights
        weights = weights.weights
    try:
        if isinstance(weights, Tensor):
            t = weights.detach().to("cpu", torch.float64).clone()
        else:
            t = torch.from_numpy(np.array(weights, dtype=np.float64))  # a writable copy
    except (TypeError, ValueError) as exc:
        raise param_error(name, owner, "a ClassWeights, tensor, ndarray or list of floats",
                          weights, wrong_type=True) from exc
    if t.ndim != 1 or t.numel() == 0:
        raise param_error(name, owner, "a non-empty 1-D array with one weight per class",
                          t.numpy())
    if not torch.isfinite(t).all() or (t < 0).any():
        raise param_error(name, owner, "an array of finite weights >= 0", t.numpy())
    return t


def compute_dtype(logits: Tensor) -> torch.dtype:
    """float32 for half-precision logits, else the logits' own dtype."""
    return torch.float32 if logits.dtype in (torch.float16, torch.bfloat16) else logits.dtype


def flatten(logits: Tensor, target: Tensor, owner: str) -> tuple[Tensor, Tensor]:
    """(..., C) logits and (...) integer targets -> (M, C) and (M,)."""
    if logits.ndim < 1 or target.shape != logits.shape[:-1]:
        raise CurateValueError(
            f"{owner} expects logits of shape (N, C) or (B, T, C) and targets of shape (N,) or "
            f"(B, T); got logits {tuple(logits.shape)} and targets {tuple(target.shape)}"
        )
    if target.dtype.is_floating_point or target.dtype == torch.bool:
        raise CurateTypeError(f"{owner} expects integer class ids as targets; got {target.dtype}")
    return logits.reshape(-1, logits.shape[-1]), target.reshape(-1)


class WeightedLoss(nn.Module):
    """Holds the optional class-weight buffer and casts buffers to the logits' device/dtype."""

    weight: Tensor | None

    def __init__(self, weights: Any, reduction: str, owner: str, name: str = "weights") -> None:
        super().__init__()
        check_param("reduction", reduction, [REDUCTIONS], owner)
        self.reduction = reduction
        self.register_buffer("weight", as_weight_tensor(weights, owner, name))

    @staticmethod
    def _cast(t: Tensor, logits: Tensor, dtype: torch.dtype) -> Tensor:
        """``t`` on the logits' device in ``dtype``, cast on every call.

        Not cached: a cache can serve a stale copy after the buffer changes (reassigned,
        ``.data`` replaced or copied into, ``load_state_dict``), and the cast is one kernel
        over ``C`` numbers. A no-op when device and dtype already match.
        """
        return t.to(device=logits.device, dtype=dtype)

    def _weight_for(self, logits: Tensor, n_classes: int, dtype: torch.dtype) -> Tensor | None:
        w = self.weight
        if w is None:
            return None
        if w.numel() != n_classes:
            raise CurateValueError(
                f"{type(self).__name__} has {w.numel()} class weights but the logits have "
                f"{n_classes} classes"
            )
        return self._cast(w, logits, dtype)

    def extra_repr(self) -> str:
        n = None if self.weight is None else self.weight.numel()
        return f"n_weights={n}, reduction={self.reduction!r}"


def reduce(per_item: Tensor, denom: Tensor, reduction: str, shape: torch.Size,
           any_valid: Tensor) -> Tensor:
    """Apply ``reduction``; ``"mean"`` divides by ``denom``, the targets' total weight.

    As ``F.cross_entropy``: targets that all weigh 0 give a non-finite mean (``x / 0``), not
    a number that looks like a loss; a batch with every position ignored gives 0 with a
    (zero) gradient, dividing by 1 instead of 0 so that no NaN reaches the gradient.
    """
    if reduction == "none":
        return per_item.reshape(shape)
    total = per_item.sum()
    if reduction == "sum":
        return total
    return total / torch.where(any_valid, denom, torch.ones_like(denom))


def to_output(loss: Tensor, logits: Tensor) -> Tensor:
    """float32 for half-precision logits (as autocast returns ``cross_entropy``)."""
    return loss if logits.dtype not in (torch.float16, torch.bfloat16) else loss.float()


def cross_entropy(
    z: Tensor, y: Tensor, w: Tensor | None, ignore_index: int, label_smoothing: float,
    reduction: str, shape: torch.Size,
) -> Tensor:
    """``F.cross_entropy`` on (M, C) logits with a 0 (not NaN) mean for an all-ignored batch."""
    if reduction == "none":
        per = F.cross_entropy(z, y, weight=w, ignore_index=ignore_index,
                              label_smoothing=label_smoothing, reduction="none")
        return per.reshape(shape)
    if reduction == "mean" and label_smoothing == 0:
        # fast path: F.cross_entropy's own weighted mean; an all-ignored batch makes it
        # 0/0 = nan, replaced by 0 with a (zero) gradient, without a host sync
        mean = F.cross_entropy(z, y, weight=w, ignore_index=ignore_index)
        return torch.where((y != ignore_index).any(), mean, 0.0)
    total = F.cross_entropy(z, y, weight=w, ignore_index=ignore_index,
                            label_smoothing=label_smoothing, reduction="sum")
    if reduction == "sum":
        return total
    valid = y != ignore_index
    denom = valid.sum().to(z.dtype) if w is None else (w[torch.where(valid, y, 0)] * valid).sum()
    # as torch: targets that all weigh 0 give NaN; all ignored gives 0 (divide by 1)
    any_valid = valid.any()
    mean = total / torch.where(any_valid, denom, torch.ones_like(denom))
    return torch.where(any_valid & (denom == 0), torch.nan, mean)
