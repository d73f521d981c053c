"""Weighted cross-entropy, softmax and sigmoid focal, class-balanced, and the HF loss hook."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from curate._validation import Interval, Options, check_param
from curate.exceptions import CurateTypeError, CurateValueError
from curate.losses._base import (
    WeightedLoss,
    compute_dtype,
    cross_entropy,
    flatten,
    reduce,
    to_output,
)

__all__ = [
    "ClassBalancedLoss",
    "FocalLoss",
    "SigmoidFocalLoss",
    "WeightedCrossEntropy",
    "token_classification_loss",
]


class WeightedCrossEntropy(WeightedLoss):
    """Class-weighted cross-entropy equal to ``torch.nn.functional.cross_entropy``.

    For logits ``(N, C)`` or ``(B, T, C)`` and targets ``(N,)`` or ``(B, T)``, with
    ``w`` the class weights (1 when ``None``), ``l_i = -w_{y_i} log softmax(z_i)_{y_i}``
    (with label smoothing ``eps``: ``(1 - eps) l_i + eps / C * sum_c -w_c log p_ic``) and
    ``"mean"`` is the weighted mean ``sum_i l_i / sum_i w_{y_i}`` over non-ignored positions,
    exactly as ``F.cross_entropy`` computes it.

    Parameters
    ----------
    weights : ClassWeights, tensor, ndarray or list of shape (C,), default=None
        Class weights; ``None`` weighs every class 1. Stored as a buffer.
    ignore_index : int, default=-100
        Target value that does not count.
    label_smoothing : float in [0, 1], default=0.0
        As in ``F.cross_entropy``.
    reduction : {"mean", "sum", "none"}, default="mean"
        ``"none"`` returns the per-position loss in the target's shape (0 at ignored ones).

    Examples
    --------
    >>> import torch
    >>> from curate.losses import WeightedCrossEntropy
    >>> loss = WeightedCrossEntropy([0.2, 1.0, 3.0])
    >>> logits = torch.zeros(2, 4, 3)
    >>> labels = torch.tensor([[0, 1, 2, -100], [-100, -100, -100, -100]])
    >>> round(loss(logits, labels).item(), 4)  # log(3) when logits are flat
    1.0986
    >>> loss(logits, torch.full((2, 4), -100)).item()
    0.0
    """

    def __init__(
        self,
        weights: Any = None,
        ignore_index: int = -100,
        label_smoothing: float = 0.0,
        reduction: Literal["mean", "sum", "none"] = "mean",
    ) -> None:
        super().__init__(weights, reduction, "WeightedCrossEntropy")
        check_param("ignore_index", ignore_index, [Interval(int, None, None)],
                    "WeightedCrossEntropy")
        check_param("label_smoothing", label_smoothing, [Interval(float, 0, 1)],
                    "WeightedCrossEntropy")
        self.ignore_index = int(ignore_index)
        self.label_smoothing = float(label_smoothing)

    def forward(self, logits: Tensor, target: Tensor) -> Tensor:
        """Loss of ``logits`` (..., C) against integer ``target`` (...).

        Parameters
        ----------
        logits : Tensor of shape (N, C) or (B, T, C)
            Unnormalised class scores, classes last; floating point (``float16`` and
            ``bfloat16`` are computed in ``float32``).
        target : Tensor of shape (N,) or (B, T)
            Integer class ids (``torch.long``) in ``[0, C)``, or ``ignore_index`` at positions
            that do not count.

        Returns
        -------
        Tensor
            A scalar for ``"mean"`` and ``"sum"``, the per-position loss of shape
            ``target.shape`` for ``"none"``; ``float32`` for half-precision logits, else the
            logits' dtype.
        """
        z, y = flatten(logits, target, "WeightedCrossEntropy")
        dtype = compute_dtype(logits)
        z = z.to(dtype)
        w = self._weight_for(logits, z.shape[-1], dtype)
        return cross_entropy(z, y, w, self.ignore_index, self.label_smoothing, self.reduction,
                             target.shape)


class FocalLoss(WeightedLoss):
    """Softmax focal loss for multi-class targets (Lin et al. 2017), log-softmax based.

    ``l_i = -alpha_{y_i} (1 - p_i) ** gamma log p_i`` with ``p_i = softmax(z_i)_{y_i}``.
    ``"mean"`` divides by ``sum_i alpha_{y_i}`` over non-ignored positions (the count when
    ``alpha`` is None), the same weighted mean as ``F.cross_entropy``, so with ``gamma=0`` the
    loss equals :class:`WeightedCrossEntropy` with ``weights=alpha`` for every reduction.

    Parameters
    ----------
    gamma : float >= 0, default=2.0
        Focusing exponent; 0 is cross-entropy, larger values down-weight easy positions.
    alpha : ClassWeights, tensor, ndarray or list of shape (C,), default=None
        Class weights ``alpha_c``; ``None`` weighs every class 1.
    ignore_index : int, default=-100
        Target value that does not count.
    reduction : {"mean", "sum", "none"}, default="mean"
        ``"none"`` returns the per-position loss in the target's shape (0 at ignored ones).

    References
    ----------
    T.-Y. Lin, P. Goyal, R. Girshick, K. He and P. Dollár, "Focal Loss for Dense Object
    Detection", ICCV 2017.

    Examples
    --------
    >>> import torch
    >>> from curate.losses import FocalLoss
    >>> logits = torch.tensor([[4.0, 0.0], [0.0, 0.0]])
    >>> FocalLoss(gamma=2.0, reduction="none")(logits, torch.tensor([0, 1]))
    tensor([5.8716e-06, 1.7329e-01])
    """

    def __init__(
        self,
        gamma: float = 2.0,
        alpha: Any = None,
        ignore_index: int = -100,
        reduction: Literal["mean", "sum", "none"] = "mean",
    ) -> None:
        super().__init__(alpha, reduction, "FocalLoss", name="alpha")
        check_param("gamma", gamma, [Interval(float, 0, None)], "FocalLoss")
        check_param("ignore_index", ignore_index, [Interval(int, None, None)], "FocalLoss")
        self.gamma = float(gamma)
        self.ignore_index = int(ignore_index)

    def forward(self, logits: Tensor, target: Tensor) -> Tensor:
        """Loss of ``logits`` (..., C) against integer ``target`` (...).

        Parameters
        ----------
        logits : Tensor of shape (N, C) or (B, T, C)
            Unnormalised class scores, classes last; floating point (``float16`` and
            ``bfloat16`` are computed in ``float32``).
        target : Tensor of shape (N,) or (B, T)
            Integer class ids (``torch.long``) in ``[0, C)``, or ``ignore_index`` at positions
            that do not count.

        Returns
        -------
        Tensor
            A scalar for ``"mean"`` and ``"sum"``, the per-position loss of shape
            ``target.shape`` for ``"none"``; ``float32`` for half-precision logits, else the
            logits' dtype.
        """
        z, y = flatten(logits, target, "FocalLoss")
        dtype = compute_dtype(logits)
        z = z.to(dtype)
        valid = y != self.ignore_index
        safe_y = torch.where(valid, y, 0)
        # log p_y through cross_entropy: its fused log-softmax/NLL backward is much cheaper
        # than gather's; ignored positions give 0 here and weight 0 below
        per = F.cross_entropy(z, y, ignore_index=self.ignore_index, reduction="none")
        logp = -per
        if self.gamma != 0:
            one_minus_p = -torch.expm1(logp)  # 1 - p, accurate when p is close to 1
            if self.gamma < 1:  # d/dx x**gamma is infinite at 0
                one_minus_p = one_minus_p.clamp_min(torch.finfo(dtype).eps)
            per = per * one_minus_p.clamp_min(0).pow(self.gamma)
        w = self._weight_for(logits, z.shape[-1], dtype)
        wy = valid.to(dtype) if w is None else w[safe_y] * valid
        per = per * wy
        return to_output(reduce(per, wy.sum(), self.reduction, target.shape, valid.any()),
                         logits)


def _checkable(t: Tensor) -> bool:
    """Whether a value check on ``t`` is free: a CPU tensor in plain eager mode. Not while
    compiling (a graph break) nor under ``torch.func`` transforms (``vmap`` refuses
    data-dependent branches); the private hooks are looked up, not assumed."""
    if t.device.type != "cpu":
        return False
    compiling = getattr(getattr(torch, "compiler", None), "is_compiling", None)
    if compiling is not None and compiling():
        return False
    transforms = getattr(torch._C, "_are_functorch_transforms_active", None)
    return not (transforms is not None and transforms())


class SigmoidFocalLoss(WeightedLoss):
    """Sigmoid focal loss for multi-label targets, as ``torchvision.ops.sigmoid_focal_loss``.

    For logits ``z`` and 0/1 targets ``t`` of the same shape, ``p = sigmoid(z)``,
    ``p_t = p t + (1 - p)(1 - t)``, ``alpha_t = alpha t + (1 - alpha)(1 - t)`` and
    ``l = -alpha_t (1 - p_t) ** gamma log p_t``; ``"mean"`` averages over every element.
    With ``weights``, column ``c`` (the last dimension) is multiplied by ``weights[c]``.

    Parameters
    ----------
    gamma : float >= 0, default=2.0
        Focusing exponent.
    alpha : float in [0, 1] or None, default=0.25
        Weight of positives (``1 - alpha`` for negatives); ``None`` (or a negative value, as in
        torchvision) disables it.
    weights : ClassWeights, tensor, ndarray or list of shape (C,), default=None
        Per-class weights of the last dimension.
    reduction : {"mean", "sum", "none"}, default="mean"
        ``"none"`` returns the element-wise loss (torchvision's default).

    Examples
    --------
    >>> import torch
    >>> from curate.losses import SigmoidFocalLoss
    >>> loss = SigmoidFocalLoss(reduction="sum")
    >>> round(loss(torch.zeros(1, 2), torch.tensor([[1.0, 0.0]])).item(), 4)
    0.1733
    """

    def __init__(
        self,
        gamma: float = 2.0,
        alpha: float | None = 0.25,
        weights: Any = None,
        reduction: Literal["mean", "sum", "none"] = "mean",
    ) -> None:
        super().__init__(weights, reduction, "SigmoidFocalLoss")
        check_param("gamma", gamma, [Interval(float, 0, None)], "SigmoidFocalLoss")
        check_param("alpha", alpha, [Interval(float, None, 1), None], "SigmoidFocalLoss")
        self.gamma = float(gamma)
        self.alpha = None if alpha is None or alpha < 0 else float(alpha)

    def forward(self, logits: Tensor, target: Tensor) -> Tensor:
        """Loss of ``logits`` against 0/1 (or soft) ``target`` of the same shape.

        Parameters
        ----------
        logits : Tensor of shape (..., C)
            Unnormalised per-class scores, classes last; floating point (``float16`` and
            ``bfloat16`` are computed in ``float32``).
        target : Tensor of the same shape as ``logits``
            0/1 (multi-hot) or soft targets in ``[0, 1]``; any numeric dtype, converted to the
            compute dtype. Values outside ``[0, 1]`` raise on CPU (in eager mode); on an
            accelerator they are not checked (a check would wait for the device), as in
            torchvision.

        Returns
        -------
        Tensor
            A scalar for ``"mean"`` and ``"sum"``, the element-wise loss of ``logits.shape``
            for ``"none"``; ``float32`` for half-precision logits, else the logits' dtype.
        """
        if target.shape != logits.shape:
            raise CurateValueError(
                f"SigmoidFocalLoss expects targets shaped like the logits; got logits "
                f"{tuple(logits.shape)} and targets {tuple(target.shape)}"
            )
        if _checkable(target):
            # a count matrix or class ids passed as targets gave a loss, silently; on CPU the
            # check is one reduction (no host sync), on an accelerator it would be a sync
            low, high = torch.aminmax(target.detach()) if target.numel() else (0, 0)
            if not (0 <= low and high <= 1):  # NaN fails both
                raise CurateValueError(
                    f"SigmoidFocalLoss targets must lie in [0, 1] (multi-hot or soft labels); "
                    f"got values in [{float(low):g}, {float(high):g}]: pass 0/1 presence, e.g. "
                    "(counts > 0).float(), not counts or class ids"
                )
        dtype = compute_dtype(logits)
        z, t = logits.to(dtype), target.to(dtype)
        per = F.binary_cross_entropy_with_logits(z, t, reduction="none")
        if self.gamma != 0:
            p = torch.sigmoid(z)
            one_minus_pt = p + t - 2 * p * t  # = 1 - p_t
            if self.gamma < 1:
                one_minus_pt = one_minus_pt.clamp_min(torch.finfo(dtype).eps)
            per = per * one_minus_pt.pow(self.gamma)
        if self.alpha is not None:
            per = per * (self.alpha * t + (1 - self.alpha) * (1 - t))
        if logits.ndim:
            w = self._weight_for(logits, logits.shape[-1], dtype)
            if w is not None:
                per = per * w
        if self.reduction == "none":
            return to_output(per, logits)
        return to_output(per.sum() if self.reduction == "sum" else per.mean(), logits)


def _effective_weights(counts: Any, beta: float) -> Any:
    from curate.weights import class_weights

    cw = class_weights(counts, scheme="effective", beta=beta, normalize="none", background=False)
    return cw.weights * (len(cw.weights) / cw.weights.sum())


class ClassBalancedLoss(nn.Module):
    """Class-balanced loss (Cui et al. 2019): a base loss weighted by the effective number.

    Class ``c`` with ``n_c`` samples gets ``w_c = (1 - beta) / (1 - beta ** n_c)``, rescaled so
    that the weights sum to ``C``; zero counts take the weight of the rarest seen class (with
    a :class:`~curate.exceptions.ZeroCountWarning`).

    Parameters
    ----------
    counts : LabelTable, ClassWeights, Series, dict or 1-D array of shape (C,)
        Per-class counts, in label-id order.
    beta : float in [0, 1), default=0.999
        0 gives equal weights; close to 1 approaches inverse frequency.
    base : {"ce", "focal", "sigmoid"}, default="ce"
        ``"ce"``: :class:`WeightedCrossEntropy`; ``"focal"``: :class:`FocalLoss` with
        ``alpha=w``; ``"sigmoid"``: :class:`SigmoidFocalLoss` with per-column weights ``w``
        and ``alpha=None`` (multi-hot targets shaped like the logits; for one-hot targets this
        weighs every column of a sample by its column's class, a multi-label generalisation of
        the paper's per-sample weight).
    gamma : float >= 0, default=2.0
        Focusing exponent of the focal bases.
    ignore_index : int, default=-100
        Ignored target value (``"ce"``/``"focal"``).
    reduction : {"mean", "sum", "none"}, default="mean"
        Passed to the base loss.

    References
    ----------
    Y. Cui, M. Jia, T.-Y. Lin, Y. Song and S. Belongie, "Class-Balanced Loss Based on
    Effective Number of Samples", CVPR 2019.

    Examples
    --------
    >>> import torch
    >>> from curate.losses import ClassBalancedLoss
    >>> loss = ClassBalancedLoss([1000, 10], beta=0.99)
    >>> [round(v, 3) for v in loss.weights.tolist()]
    [0.175, 1.825]
    >>> loss(torch.zeros(2, 2), torch.tensor([0, 1])).shape
    torch.Size([])
    """

    def __init__(
        self,
        counts: Any,
        beta: float = 0.999,
        base: Literal["ce", "focal", "sigmoid"] = "ce",
        gamma: float = 2.0,
        ignore_index: int = -100,
        reduction: Literal["mean", "sum", "none"] = "mean",
    ) -> None:
        super().__init__()
        check_param("beta", beta, [Interval(float, 0, 1, closed="left")], "ClassBalancedLoss")
        check_param("base", base, [Options({"ce", "focal", "sigmoid"})], "ClassBalancedLoss")
        w = _effective_weights(counts, beta)
        self.beta, self.base = float(beta), base
        self.loss: nn.Module
        if base == "ce":
            self.loss = WeightedCrossEntropy(w, ignore_index=ignore_index, reduction=reduction)
        elif base == "focal":
            self.loss = FocalLoss(gamma, alpha=w, ignore_index=ignore_index, reduction=reduction)
        else:
            self.loss = SigmoidFocalLoss(gamma, alpha=None, weights=w, reduction=reduction)

    @property
    def weights(self) -> Tensor:
        """The class weights (float64, summing to C)."""
        return self.loss.weight  # type: ignore[return-value]

    def forward(self, logits: Tensor, target: Tensor) -> Tensor:
        """Loss of the base on ``logits`` and ``target``.

        Parameters
        ----------
        logits : Tensor of shape (N, C) or (B, T, C)
            Unnormalised class scores, classes last; floating point.
        target : Tensor
            For the ``"ce"`` and ``"focal"`` bases, integer class ids of shape ``(N,)`` or
            ``(B, T)`` (``ignore_index`` where they do not count); for ``"sigmoid"``, 0/1 or
            soft targets shaped like ``logits``.

        Returns
        -------
        Tensor
            The base loss, reduced as ``reduction`` says.
        """
        return self.loss(logits, target)  # type: ignore[no-any-return]


def _logits_of(outputs: Any) -> Tensor:
    if isinstance(outputs, Tensor):
        return outputs
    if isinstance(outputs, dict) and "logits" in outputs:
        return outputs["logits"]  # type: ignore[no-any-return]
    logits = getattr(outputs, "logits", None)
    if isinstance(logits, Tensor):
        return logits
    if isinstance(outputs, tuple | list) and outputs and isinstance(outputs[0], Tensor):
        return outputs[0]
    raise CurateTypeError(
        "compute_loss_func expected model outputs with a .logits tensor (or a dict with "
        f"'logits'); got {type(outputs).__name__}"
    )


def token_classification_loss(
    weights: Any = None,
    *,
    loss: Literal["ce", "focal"] = "ce",
    gamma: float = 2.0,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    num_labels: int | None = None,
) -> Callable[..., Tensor]:
    """A loss function for Hugging Face ``Trainer(compute_loss_func=...)``.

    The returned callable has the signature the Trainer uses,
    ``fn(outputs, labels, num_items_in_batch=None)``: ``outputs.logits`` is ``(B, T, C)``,
    ``labels`` is ``(B, T)`` with ``ignore_index`` on padding and sub-word continuations.
    Without ``num_items_in_batch`` it returns the weighted mean (as :class:`WeightedCrossEntropy`);
    with it (gradient accumulation) it returns ``sum_i l_i / num_items_in_batch`` like the
    Trainer's built-in token-classification loss, so accumulated steps add up to one batch.
    No model subclass is needed.

    Parameters
    ----------
    weights : ClassWeights, tensor, ndarray or list of shape (C,), default=None
        Class weights, in label-id order (``model.config.id2label``).
    loss : {"ce", "focal"}, default="ce"
        Weighted cross-entropy or softmax focal loss.
    gamma : float >= 0, default=2.0
        Focusing exponent when ``loss="focal"``.
    ignore_index : int, default=-100
        Label id that never counts.
    label_smoothing : float in [0, 1], default=0.0
        For ``loss="ce"``.
    num_labels : int, default=None
        If given, checked against the number of weights and the logits' last dimension.

    Returns
    -------
    callable

    Examples
    --------
    >>> import torch
    >>> from types import SimpleNamespace
    >>> from curate.losses import token_classification_loss
    >>> fn = token_classification_loss([0.1, 1.0, 2.0])
    >>> out = SimpleNamespace(logits=torch.zeros(2, 3, 3))
    >>> labels = torch.tensor([[0, 1, -100], [2, -100, -100]])
    >>> round(fn(out, labels).item(), 4), round(fn(out, labels, num_items_in_batch=6).item(), 4)
    (1.0986, 0.5676)
    """
    check_param("loss", loss, [Options({"ce", "focal"})], "token_classification_loss")
    if num_labels is not None:
        check_param("num_labels", num_labels, [Interval(int, 1, None)],
                    "token_classification_loss")
    module: WeightedLoss
    if loss == "ce":
        module = WeightedCrossEntropy(weights, ignore_index, label_smoothing, reduction="none")
    else:
        module = FocalLoss(gamma, weights, ignore_index, reduction="none")
    if num_labels is not None and module.weight is not None and module.weight.numel() != num_labels:
        raise CurateValueError(
            f"token_classification_loss got {module.weight.numel()} weights but "
            f"num_labels={num_labels}"
        )
    mean_module: nn.Module = (
        WeightedCrossEntropy(weights, ignore_index, label_smoothing) if loss == "ce"
        else FocalLoss(gamma, weights, ignore_index)
    )

    def compute_loss_func(outputs: Any, labels: Tensor, num_items_in_batch: Any = None,
                          **kwargs: Any) -> Tensor:
        logits = _logits_of(outputs)
        if num_labels is not None and logits.shape[-1] != num_labels:
            raise CurateValueError(
                f"logits have {logits.shape[-1]} classes but num_labels={num_labels}"
            )
        labels = labels.to(logits.device)
        if num_items_in_batch is None:
            return mean_module(logits, labels)  # type: ignore[no-any-return]
        total = module(logits, labels).sum()
        if isinstance(num_items_in_batch, Tensor):
            num_items_in_batch = num_items_in_batch.to(total.device)
        return total / num_items_in_batch

    compute_loss_func.loss_module = mean_module  # type: ignore[attr-defined]
    return compute_loss_func
