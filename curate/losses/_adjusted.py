"""Prior-shifted softmax losses: logit-adjusted (Menon et al. 2021), balanced softmax (Ren 2020)."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import torch
from torch import Tensor

from curate._validation import Interval, check_param
from curate.adjust import _check_tau, priors_from
from curate.exceptions import CurateValueError
from curate.losses._base import WeightedLoss, compute_dtype, cross_entropy, flatten

__all__ = ["BalancedSoftmaxLoss", "LogitAdjustedLoss"]


class _ShiftedCrossEntropy(WeightedLoss):
    """Cross-entropy of ``logits + offset`` with ``offset = tau * log(priors)`` (a buffer)."""

    offset: Tensor

    def __init__(self, priors: Any, tau: float, weights: Any, ignore_index: int,
                 reduction: str, owner: str) -> None:
        super().__init__(weights, reduction, owner)
        check_param("ignore_index", ignore_index, [Interval(int, None, None)], owner)
        self.ignore_index = int(ignore_index)
        self._tau = tau
        pi = priors_from(priors)
        pi.flags.writeable = False
        self.priors = pi  # float64 numpy, summing to 1
        if self.weight is not None and self.weight.numel() != pi.size:
            raise CurateValueError(
                f"{owner} got {pi.size} priors but {self.weight.numel()} class weights; pass "
                "one of each per class, in label-id order"
            )
        self.register_buffer("offset", torch.from_numpy(tau * np.log(pi)))

    @property
    def tau(self) -> float:
        """The strength of the adjustment (read-only: it is baked into ``offset``)."""
        return self._tau


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
        owner = type(self).__name__
        z, y = flatten(logits, target, owner)
        if self.offset.numel() != z.shape[-1]:
            raise CurateValueError(
                f"{owner} has {self.offset.numel()} priors but the logits have {z.shape[-1]} "
                "classes"
            )
        dtype = compute_dtype(logits)
        # half-precision logits + a float32 offset promote to float32 in one kernel
        z = z + self._cast(self.offset, logits, dtype)
        w = self._weight_for(logits, z.shape[-1], dtype)
        return cross_entropy(z, y, w, self.ignore_index, 0.0, self.reduction, target.shape)

    def extra_repr(self) -> str:
        """The parameters shown by ``repr(loss)``.

        Returns
        -------
        str
        """
        return f"n_classes={self.offset.numel()}, tau={self._tau}, " + super().extra_repr()


class LogitAdjustedLoss(_ShiftedCrossEntropy):
    """Logit-adjusted softmax cross-entropy (Menon et al. 2021, the loss form).

    With priors ``pi`` and strength ``tau``, the loss of a position with label ``y`` is
    ``l = -w_y log softmax(z + tau log pi)_y``
    ``= -w_y log [exp(z_y + tau log pi_y) / sum_j exp(z_j + tau log pi_j)]``.
    Adding ``tau log pi`` during training asks the rare classes for a larger margin, so the
    raw logits ``z`` (used unchanged at prediction time) estimate the balanced posterior.
    ``tau=0`` is plain (weighted) cross-entropy; ``tau=1`` equals :class:`BalancedSoftmaxLoss`.
    ``"mean"`` is the weighted mean ``sum_i l_i / sum_i w_{y_i}`` over non-ignored positions,
    as in ``F.cross_entropy``. For an already-trained model use :func:`curate.logit_adjust`
    instead (the post-hoc form).

    Parameters
    ----------
    priors : LabelTable, ClassWeights, tensor, ndarray or list of shape (C,)
        Training class priors or counts, read by :func:`curate.adjust.priors_from`
        (normalised to sum to 1; every prior must be > 0).
    tau : float >= 0, default=1.0
        Strength of the adjustment.
    weights : ClassWeights, tensor, ndarray or list of shape (C,), default=None
        Optional class weights ``w`` on top of the adjustment (``None`` weighs every class 1).
    ignore_index : int, default=-100
        Target value that does not count.
    reduction : {"mean", "sum", "none"}, default="mean"
        ``"none"`` returns the per-position loss in the target's shape (0 at ignored ones).

    References
    ----------
    A. K. Menon, S. Jayasumana, A. S. Rawat, H. Jain, A. Veit and S. Kumar, "Long-tail
    learning via logit adjustment", ICLR 2021.

    Examples
    --------
    >>> import torch
    >>> from curate.losses import LogitAdjustedLoss
    >>> loss = LogitAdjustedLoss([900, 90, 10], tau=1.0, reduction="none")
    >>> loss.priors.tolist()
    [0.9, 0.09, 0.01]
    >>> logits = torch.zeros(2, 3)
    >>> loss(logits, torch.tensor([0, 2])).round(decimals=4)  # -log 0.9, -log 0.01
    tensor([0.1054, 4.6052])
    >>> LogitAdjustedLoss([900, 90, 10], tau=0.0)(logits, torch.tensor([0, 2])).item()
    1.0986...
    """

    def __init__(
        self,
        priors: Any,
        tau: float = 1.0,
        *,
        weights: Any = None,
        ignore_index: int = -100,
        reduction: Literal["mean", "sum", "none"] = "mean",
    ) -> None:
        super().__init__(priors, _check_tau(tau, "LogitAdjustedLoss"), weights, ignore_index,
                         reduction, "LogitAdjustedLoss")


class BalancedSoftmaxLoss(_ShiftedCrossEntropy):
    """Balanced softmax cross-entropy (Ren et al. 2020).

    The softmax is reweighted by the training class counts ``n_j`` (priors
    ``pi_j = n_j / sum n``): ``phi_y = n_y exp(z_y) / sum_j n_j exp(z_j)`` and
    ``l = -w_y log phi_y = -w_y log softmax(z + log pi)_y``. It is the label-shift-corrected
    likelihood of a model whose raw softmax estimates the balanced posterior; the same
    function as :class:`LogitAdjustedLoss` with ``tau=1`` (derived independently in the two
    papers). With uniform priors it is plain cross-entropy. ``"mean"`` is the weighted mean
    ``sum_i l_i / sum_i w_{y_i}`` over non-ignored positions.

    Parameters
    ----------
    priors : LabelTable, ClassWeights, tensor, ndarray or list of shape (C,)
        Training class counts or priors, read by :func:`curate.adjust.priors_from`.
    weights : ClassWeights, tensor, ndarray or list of shape (C,), default=None
        Optional class weights ``w`` (``None`` weighs every class 1).
    ignore_index : int, default=-100
        Target value that does not count.
    reduction : {"mean", "sum", "none"}, default="mean"
        ``"none"`` returns the per-position loss in the target's shape (0 at ignored ones).

    References
    ----------
    J. Ren, C. Yu, S. Sheng, X. Ma, H. Zhao, S. Yi and H. Li, "Balanced Meta-Softmax for
    Long-Tailed Visual Recognition", NeurIPS 2020.

    Examples
    --------
    >>> import torch
    >>> from curate.losses import BalancedSoftmaxLoss
    >>> loss = BalancedSoftmaxLoss([900, 90, 10], reduction="none")
    >>> loss(torch.zeros(2, 3), torch.tensor([0, 2])).round(decimals=4)
    tensor([0.1054, 4.6052])
    >>> BalancedSoftmaxLoss([5, 5, 5])(torch.zeros(4, 3), torch.tensor([0, 1, 2, -100])).item()
    1.0986...
    """

    def __init__(
        self,
        priors: Any,
        *,
        weights: Any = None,
        ignore_index: int = -100,
        reduction: Literal["mean", "sum", "none"] = "mean",
    ) -> None:
        super().__init__(priors, 1.0, weights, ignore_index, reduction, "BalancedSoftmaxLoss")
