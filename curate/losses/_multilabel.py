"""Distribution-balanced loss for multi-label targets (Wu et al. 2020)."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from torch.autograd.function import once_differentiable

from curate._validation import Interval, check_param, param_error
from curate.adjust import priors_from
from curate.exceptions import CurateValueError
from curate.losses._base import WeightedLoss, compute_dtype, to_output

__all__ = ["DistributionBalancedLoss"]

_OWNER = "DistributionBalancedLoss"


class _ValueAndGrad(torch.autograd.Function):
    """Attach a gradient computed together with the value: one saved tensor, a one-pass
    backward (``grad_out * d value / d z``), instead of autograd's chain of element-wise ops."""

    @staticmethod
    def forward(ctx: Any, z: Tensor, compute: Any) -> Tensor:
        value, grad = compute(z)
        ctx.save_for_backward(grad)
        ctx.input_dtype = z.dtype
        return value  # type: ignore[no-any-return]

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad_out: Tensor) -> tuple[Tensor, None]:
        (grad,) = ctx.saved_tensors
        return (grad * grad_out).to(ctx.input_dtype), None


class DistributionBalancedLoss(WeightedLoss):
    """Distribution-balanced loss for multi-label classification (Wu et al. 2020, DB-Focal).

    Binary cross-entropy per class with two changes, for logits ``z`` and 0/1 targets ``y``
    of sample ``k`` and per-class positive rates ``p_i = n_i / N`` of the training set:

    1. **Re-balanced weighting.** Class-aware re-sampling draws class ``i`` with probability
       ``P^C_i = 1 / (C n_i)`` but a sample with probability
       ``P^I(k) = (1 / C) sum_{j: y_j = 1} 1 / n_j``; their ratio
       ``r_i = (1 / n_i) / sum_{j: y_j = 1} (1 / n_j)`` is smoothed to
       ``r_hat_i = alpha + sigmoid(beta (r_i - mu))`` and weighs every class of the sample
       (positives and negatives alike, as in the authors' code). A sample without positives
       takes the limit ``r -> inf``: ``r_hat = alpha + 1``.
    2. **Negative-tolerant regularisation.** With the shifted logit ``z'_i = z_i - nu_i``,
       ``nu_i = (kappa / lambda) log(1 / p_i - 1)`` (the class's "intrinsic bias"
       ``b_i = -log(1 / p_i - 1)`` scaled by ``-kappa / lambda``, as in the authors' code):
       ``L_i = y_i log(1 + exp(-z'_i)) + (1 - y_i) (1 / lambda) log(1 + exp(lambda z'_i))``,
       whose gradient on negatives vanishes quickly once they are below the margin.

    With the focal factor (DB-Focal, the paper's best variant; ``gamma=0`` turns it off)::

        l_i = r_hat_i [ y_i (1 - sigmoid(z'_i)) ** gamma log(1 + exp(-z'_i))
                        + (1 - y_i) sigmoid(lambda z'_i) ** gamma (1 / lambda)
                          log(1 + exp(lambda z'_i)) ]

    ``"mean"`` averages over the non-ignored elements (the paper's ``1/C sum_i`` per sample,
    averaged over the batch). Integer or bool targets count ``> 0`` as a positive; soft
    floating-point targets in ``[0, 1]`` follow the same formula (``y_i`` also enters
    ``sum_j y_j / n_j``). The gradient is computed together with the loss (one saved tensor,
    a one-pass backward), so the loss is differentiable once, not twice. The
    authors' code also multiplies the focal loss by a constant 2 (``balance_param``), which
    only rescales the learning rate; curate leaves it out.

    Parameters
    ----------
    priors : LabelTable, ClassWeights, tensor, ndarray or list of shape (C,)
        A multi-label :class:`~curate.LabelTable` (its ``support`` and ``n_samples``), or
        per-class positive counts with ``n_samples``, or positive rates ``p_i`` in (0, 1);
        read by ``priors_from(priors, multilabel=True, n_samples=n_samples)``.
    n_samples : int, default=None
        Number of training samples ``N`` when ``priors`` holds counts.
    alpha : float >= 0, default=0.1
        Lower bound of the smoothed weight ``r_hat``.
    beta : float >= 0, default=10.0
        Steepness of the smoothing sigmoid.
    mu : float, default=0.2
        Centre of the smoothing sigmoid (0.2 for COCO-MLT and 0.3 for VOC-MLT in the
        authors' configurations).
    neg_scale : float > 0, default=2.0
        ``lambda``, the negative-tolerance scale (2 for COCO-MLT, 5 for VOC-MLT).
    kappa : float >= 0, default=0.05
        Scale of the class-specific bias ``nu``; 0 turns the shift off.
    gamma : float >= 0, default=2.0
        Focusing exponent; 0 gives the loss without the focal factor.
    ignore_index : int, default=-100
        Target value (element-wise) that does not count, e.g. an unknown label.
    reduction : {"mean", "sum", "none"}, default="mean"
        ``"none"`` returns the element-wise loss in the logits' shape (0 at ignored ones).

    References
    ----------
    T. Wu, Q. Huang, Z. Liu, Y. Wang and D. Lin, "Distribution-Balanced Loss for Multi-Label
    Classification in Long-Tailed Datasets", ECCV 2020. Defaults follow the authors'
    COCO-MLT configuration (https://github.com/wutong16/DistributionBalancedLoss).

    Examples
    --------
    >>> import torch
    >>> from curate.losses import DistributionBalancedLoss
    >>> loss = DistributionBalancedLoss([500, 50, 5], n_samples=1000)
    >>> [round(v, 4) for v in loss.priors.tolist()]
    [0.5, 0.05, 0.005]
    >>> logits = torch.zeros(2, 3, requires_grad=True)
    >>> target = torch.tensor([[1, 0, 1], [0, 1, -100]])
    >>> value = loss(logits, target)
    >>> value.backward()
    >>> round(value.item(), 4)
    0.11
    """

    inv_freq: Tensor
    shift: Tensor

    def __init__(
        self,
        priors: Any,
        *,
        n_samples: int | None = None,
        alpha: float = 0.1,
        beta: float = 10.0,
        mu: float = 0.2,
        neg_scale: float = 2.0,
        kappa: float = 0.05,
        gamma: float = 2.0,
        ignore_index: int = -100,
        reduction: Literal["mean", "sum", "none"] = "mean",
    ) -> None:
        super().__init__(None, reduction, _OWNER)
        for name, value, rule in (
            ("alpha", alpha, Interval(float, 0, None)), ("beta", beta, Interval(float, 0, None)),
            ("mu", mu, Interval(float, None, None)),
            ("neg_scale", neg_scale, Interval(float, 0, None, closed="neither")),
            ("kappa", kappa, Interval(float, 0, None)), ("gamma", gamma, Interval(float, 0, None)),
            ("ignore_index", ignore_index, Interval(int, None, None)),
        ):
            check_param(name, value, [rule], _OWNER)
            if not np.isfinite(value):
                allowed = str(rule).replace("a float", "a finite float")
                raise param_error(name, _OWNER, allowed, value)
        p = priors_from(priors, multilabel=True, n_samples=n_samples)
        p.flags.writeable = False
        self.priors = p  # float64 numpy positive rates
        self.alpha, self.beta, self.mu = float(alpha), float(beta), float(mu)
        self.neg_scale, self.kappa, self.gamma = float(neg_scale), float(kappa), float(gamma)
        self.ignore_index = int(ignore_index)
        inv = 1.0 / p
        # r is a ratio of inverse frequencies: scale them into (0, 1] so float16-range
        # inputs never overflow
        self.register_buffer("inv_freq", torch.from_numpy(inv / inv.max()))
        # z' = z - nu = z + (kappa / lambda) * log(p / (1 - p))
        self.register_buffer("shift", torch.from_numpy(self.kappa / self.neg_scale
                                                       * np.log(p / (1 - p))))

    def _rebalance(self, y: Tensor, inv: Tensor, valid: Tensor) -> Tensor:
        """``r_hat`` of every element (0 where ignored), from the targets only."""
        c = inv.numel()
        s = torch.mv(y.reshape(-1, c), inv)  # sum_j y_j / n_j per sample (scaled)
        # no positive: s -> tiny, r huge and finite, r_hat -> alpha + 1 (never 0 * inf)
        q = torch.outer(s.clamp_min(torch.finfo(s.dtype).tiny).reciprocal_(), inv * self.beta)
        r_hat = torch.sigmoid_(q.sub_(self.beta * self.mu)).add_(self.alpha)
        return r_hat.reshape(y.shape).mul_(valid)

    def _branch(self, s: Tensor, need_grad: bool) -> tuple[Tensor, Tensor | None]:
        """``f(s) = sigmoid(s)^gamma softplus(s)`` and ``f'(s)``, stable for any ``s``."""
        sp = F.softplus(s)
        if self.gamma == 0:
            return sp, (torch.sigmoid(s) if need_grad else None)
        sg = torch.sigmoid(s)
        if self.gamma == 2:
            focal = sg.square()
        elif self.gamma >= 1:
            focal = sg.pow(self.gamma)
        else:  # d/dx x**gamma is infinite at 0: go through log-sigmoid
            focal = torch.exp(F.logsigmoid(s).mul_(self.gamma))
        if not need_grad:
            return sp.mul_(focal), None
        # f' = sigmoid(s)^gamma (gamma (1 - sigmoid(s)) softplus(s) + sigmoid(s))
        grad = torch.addcmul(sg, torch.rsub(sg, 1.0), sp, value=self.gamma).mul_(focal)
        return sp.mul_(focal), grad

    def _terms(self, z: Tensor, r_hat: Tensor, y: Tensor, hard: bool, need_grad: bool
               ) -> tuple[Tensor, Tensor | None]:
        """Element-wise loss and its derivative in ``z`` (no autograd graph); ``z`` is owned."""
        lam = self.neg_scale
        if hard:  # one branch per element: s = -z' for positives, lambda z' for negatives
            pos = y.bool()
            ds = torch.where(pos, z.new_tensor(-1.0), z.new_tensor(lam))  # d s / d z'
            val, grad = self._branch(z.mul_(ds), need_grad)
            w = torch.where(pos, r_hat, r_hat * (1.0 / lam))  # r_hat, or r_hat / lambda
            val = val.mul_(w)
            return val, (None if grad is None else grad.mul_(w.mul_(ds)))
        v1, g1 = self._branch(-z, need_grad)  # positive part, s = -z'
        v2, g2 = self._branch(z.mul_(lam), need_grad)  # negative part, s = lambda z'
        neg = torch.rsub(y, 1.0)
        val = (y * v1).addcmul_(neg, v2, value=1.0 / lam).mul_(r_hat)
        if g1 is None or g2 is None:
            return val, None
        return val, (neg * g2).sub_(y * g1).mul_(r_hat)

    def forward(self, logits: Tensor, target: Tensor) -> Tensor:
        """Loss of ``logits`` against 0/1 (or soft) ``target`` of the same shape.

        Parameters
        ----------
        logits : Tensor of shape (N, C) or (B, T, C)
            Unnormalised per-class scores, classes last; floating point (``float16`` and
            ``bfloat16`` are computed in ``float32``).
        target : Tensor of the same shape as ``logits``
            Integer or bool multi-hot targets (``> 0`` is a positive, ``0`` a negative), or
            floating-point targets in ``[0, 1]`` (soft labels allowed); ``ignore_index`` at
            elements that do not count.

        Returns
        -------
        Tensor
            A scalar for ``"mean"`` and ``"sum"``, the element-wise loss of ``logits.shape``
            for ``"none"``; ``float32`` for half-precision logits, else the logits' dtype.
            Differentiable once in ``logits`` (the gradient is computed with the loss).
        """
        if target.shape != logits.shape or logits.ndim < 1:
            raise CurateValueError(
                f"{_OWNER} expects targets shaped like the logits (N, C) or (B, T, C); got "
                f"logits {tuple(logits.shape)} and targets {tuple(target.shape)}"
            )
        if logits.shape[-1] != self.inv_freq.numel():
            raise CurateValueError(
                f"{_OWNER} has {self.inv_freq.numel()} priors but the logits have "
                f"{logits.shape[-1]} classes"
            )
        dtype = compute_dtype(logits)
        inv = self._cast(self.inv_freq, logits, dtype)
        shift = self._cast(self.shift, logits, dtype)
        hard = not (target.dtype.is_floating_point or target.dtype.is_complex)
        with torch.no_grad():
            valid = target != self.ignore_index
            if hard:
                y = ((target > 0) & valid).to(dtype)
            else:
                y = torch.where(valid, target.to(dtype), 0)
            r_hat = self._rebalance(y, inv, valid)
        n_valid = valid.sum().to(dtype)
        reduction = self.reduction

        def compute(z: Tensor, need_grad: bool = True) -> tuple[Tensor, Tensor | None]:
            val, grad = self._terms(z + shift, r_hat, y, hard, need_grad)
            if reduction == "none":
                return val, grad
            if reduction == "sum":
                return val.sum(), grad
            scale = 1.0 / n_valid.clamp_min(1.0)  # all ignored: 0 / 1 = 0 with a zero grad
            return val.sum() * scale, (None if grad is None else grad.mul_(scale))

        # z + shift promotes half-precision logits to float32 inside ``compute``
        if logits.requires_grad and torch.is_grad_enabled():
            loss = _ValueAndGrad.apply(logits, compute)
        else:  # evaluation: no gradient to compute or keep
            with torch.no_grad():
                loss = compute(logits, False)[0]
        return to_output(loss, logits)

    def extra_repr(self) -> str:
        """The parameters shown by ``repr(loss)``.

        Returns
        -------
        str
        """
        return (f"n_classes={self.inv_freq.numel()}, alpha={self.alpha}, beta={self.beta}, "
                f"mu={self.mu}, neg_scale={self.neg_scale}, kappa={self.kappa}, "
                f"gamma={self.gamma}, reduction={self.reduction!r}")
