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
    """Holds the optional class-weight buffer and the device/dtype cache of buffers."""

    weight: Tensor | None

    def __init__(self, weights: Any, reduction: str, owner: str, name: str = "weights") -> None:
        super().__init__()
        check_param("reduction", reduction, [REDUCTIONS], owner)
        self.reduction = reduction
        self.register_buffer("weight", as_weight_tensor(weights, owner, name))
        self._cache: dict[tuple[Any, ...], Tensor] = {}
        self._versions: dict[tuple[Any, ...], int] = {}

    def _cast(self, t: Tensor, logits: Tensor, dtype: torch.dtype, key: tuple[Any, ...]) -> Tensor:
        """``t`` on the logits' device in ``dtype``, copied once and cached.

        The cache entry is dropped when the buffer changes in place (``load_state_dict``
        copies into buffers without calling ``_apply``), tracked by the tensor's version.
        Under ``torch.compile`` the cast is traced instead (a dict cache would break the
        graph, and the compiler fuses the cast into the loss's kernels).
        """
        if t.device == logits.device and t.dtype == dtype:
            return t
        if torch.compiler.is_compiling():
            return t.to(device=logits.device, dtype=dtype)
        cached = self._cache.get(key)
        version = t._version
        if cached is None or cached.shape != t.shape or self._versions.get(key) != version:
            cached = t.detach().to(device=logits.device, dtype=dtype)
            self._cache[key] = cached
            self._versions[key] = version
        return cached

    def _weight_for(self, logits: Tensor, n_classes: int, dtype: torch.dtype) -> Tensor | None:
        w = self.weight
        if w is None:
            return None
        if w.numel() != n_classes:
            raise CurateValueError(
                f"{type(self).__name__} has {w.numel()} class weights but the logits have "
                f"{n_classes} classes"
            )
        return self._cast(w, logits, dtype, (logits.device, dtype))

    def _apply(self, fn: Any, recurse: bool = True) -> Any:  # .to()/.cuda() drop the cache
        self._cache = {}
        self._versions = {}
        return super()._apply(fn, recurse)

    def extra_repr(self) -> str:
        n = None if self.weight is None else self.weight.numel()
        return f"n_weights={n}, reduction={self.reduction!r}"


def reduce(per_item: Tensor, denom: Tensor, reduction: str, shape: torch.Size) -> Tensor:
    """Apply ``reduction``; ``"mean"`` divides by ``denom`` (0/0 -> 0 with a gradient)."""
    if reduction == "none":
        return per_item.reshape(shape)
    total = per_item.sum()
    if reduction == "sum":
        return total
    # weighted mean; an all-ignored batch has total == 0 and denom == 0 -> 0 with a grad
    return total / denom.clamp_min(torch.finfo(denom.dtype).tiny)


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
    return total / denom.clamp_min(torch.finfo(z.dtype).tiny)
