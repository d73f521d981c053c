"""curate.losses against torch references (float64, 1e-6) and the papers' formulas."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

F = torch.nn.functional

import curate  # noqa: E402
from curate.exceptions import CurateTypeError, CurateValueError  # noqa: E402
from curate.losses import (  # noqa: E402
    BalancedSoftmaxLoss,
    ClassBalancedLoss,
    DistributionBalancedLoss,
    FocalLoss,
    LogitAdjustedLoss,
    SigmoidFocalLoss,
    WeightedCrossEntropy,
    priors_from,
    token_classification_loss,
)

ATOL = 1e-6
REDUCTIONS = ["mean", "sum", "none"]


def _batch(shape, c, seed, ignore_frac=0.2, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    logits = (torch.randn(*shape, c, generator=g, dtype=torch.float64) * 3).to(dtype)
    target = torch.randint(0, c, shape, generator=g)
    target[torch.rand(shape, generator=g) < ignore_frac] = -100
    weights = torch.rand(c, generator=g, dtype=torch.float64) * 3 + 0.05
    return logits.requires_grad_(True), target, weights


def _ref_ce(logits, target, weights, reduction, label_smoothing=0.0):
    c = logits.shape[-1]
    out = F.cross_entropy(logits.reshape(-1, c), target.reshape(-1), weight=weights,
                          ignore_index=-100, reduction=reduction, label_smoothing=label_smoothing)
    return out.reshape(target.shape) if reduction == "none" else out


# ---------------------------------------------------------------- weighted CE
@pytest.mark.parametrize("shape", [(37,), (4, 13)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
@pytest.mark.parametrize("weighted", [True, False])
def test_weighted_ce_equals_torch(shape, reduction, label_smoothing, weighted):
    logits, target, w = _batch(shape, 7, seed=len(shape) * 10 + int(label_smoothing * 10))
    w = w if weighted else None
    loss = WeightedCrossEntropy(w, label_smoothing=label_smoothing, reduction=reduction)
    got = loss(logits, target)
    ref = _ref_ce(logits, target, w, reduction, label_smoothing)
    assert got.dtype == torch.float64 and got.shape == ref.shape
    torch.testing.assert_close(got, ref, atol=ATOL, rtol=0)
    (g1,) = torch.autograd.grad(got.sum(), logits)
    (g2,) = torch.autograd.grad(ref.sum(), logits)
    torch.testing.assert_close(g1, g2, atol=ATOL, rtol=0)


def test_weight_inputs_equivalent():
    logits, target, _ = _batch((20,), 3, seed=1)
    cw = curate.class_weights({"a": 100, "b": 10, "c": 1})
    ref = _ref_ce(logits, target, torch.from_numpy(cw.to_numpy()), "mean")
    for form in (cw, cw.weights, cw.weights.tolist(), cw.to_tensor()):
        torch.testing.assert_close(WeightedCrossEntropy(form)(logits, target), ref,
                                   atol=ATOL, rtol=0)


def test_custom_ignore_index():
    logits, target, w = _batch((30,), 4, seed=2, ignore_frac=0.0)
    target[::3] = 3
    got = WeightedCrossEntropy(w, ignore_index=3)(logits, target)
    ref = F.cross_entropy(logits, target, weight=w, ignore_index=3)
    torch.testing.assert_close(got, ref, atol=ATOL, rtol=0)


# ---------------------------------------------------------------- focal
def _ref_focal(logits, target, alpha, gamma, reduction):
    """The paper's formula, written independently: -alpha_y (1 - p_y)^gamma log p_y."""
    z = logits.reshape(-1, logits.shape[-1])
    y = target.reshape(-1)
    p = torch.softmax(z, dim=-1)
    out, denom = [], 0.0
    for i in range(len(y)):
        if y[i] == -100:
            out.append(torch.zeros((), dtype=z.dtype))
            continue
        a = 1.0 if alpha is None else alpha[y[i]]
        out.append(-a * (1 - p[i, y[i]]) ** gamma * torch.log(p[i, y[i]]))
        denom = denom + a
    per = torch.stack(out)
    if reduction == "none":
        return per.reshape(target.shape)
    return per.sum() if reduction == "sum" else per.sum() / denom


@pytest.mark.parametrize("gamma", [0.5, 2.0, 3.0])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(23,), (3, 9)])
def test_focal_equals_formula(gamma, reduction, shape):
    logits, target, w = _batch(shape, 5, seed=7)
    got = FocalLoss(gamma, alpha=w, reduction=reduction)(logits, target)
    torch.testing.assert_close(got, _ref_focal(logits, target, w, gamma, reduction),
                               atol=ATOL, rtol=0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [True, False])
def test_focal_gamma_zero_is_weighted_ce(reduction, weighted):
    logits, target, w = _batch((5, 11), 6, seed=3)
    w = w if weighted else None
    got = FocalLoss(0.0, alpha=w, reduction=reduction)(logits, target)
    torch.testing.assert_close(got, _ref_ce(logits, target, w, reduction), atol=ATOL, rtol=0)
    (g1,) = torch.autograd.grad(got.sum(), logits)
    (g2,) = torch.autograd.grad(_ref_ce(logits, target, w, reduction).sum(), logits)
    torch.testing.assert_close(g1, g2, atol=ATOL, rtol=0)


def test_focal_confident_correct_is_finite_with_gradient():
    logits = torch.tensor([[60.0, -60.0, 0.0]], dtype=torch.float64, requires_grad=True)
    for gamma in (0.5, 2.0):
        loss = FocalLoss(gamma)(logits, torch.tensor([0]))
        (g,) = torch.autograd.grad(loss, logits)
        assert torch.isfinite(loss) and torch.isfinite(g).all()


# ---------------------------------------------------------------- sigmoid focal
def _ref_sigmoid_focal(x, t, alpha, gamma, reduction):
    """Lin et al. 2017, eq. (5), written from the paper with numpy float64."""
    x, t = x.detach().numpy(), t.detach().numpy()
    p = 1 / (1 + np.exp(-x))
    pt = np.where(t == 1, p, 1 - p)
    at = np.where(t == 1, alpha, 1 - alpha) if alpha is not None else 1.0
    loss = -at * (1 - pt) ** gamma * np.log(pt)
    if reduction == "none":
        return torch.as_tensor(loss)
    return torch.as_tensor(loss.sum() if reduction == "sum" else loss.mean())


@pytest.mark.parametrize("alpha", [0.25, None, 0.9])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_sigmoid_focal_equals_formula(alpha, reduction):
    g = torch.Generator().manual_seed(5)
    x = torch.randn(6, 4, 5, generator=g, dtype=torch.float64) * 2
    t = (torch.rand(6, 4, 5, generator=g) < 0.3).double()
    got = SigmoidFocalLoss(2.0, alpha=alpha, reduction=reduction)(x, t)
    torch.testing.assert_close(got, _ref_sigmoid_focal(x, t, alpha, 2.0, reduction),
                               atol=ATOL, rtol=0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_sigmoid_focal_equals_torchvision(reduction):
    ops = pytest.importorskip("torchvision.ops")
    g = torch.Generator().manual_seed(6)
    x = torch.randn(8, 7, generator=g, dtype=torch.float64) * 3
    t = (torch.rand(8, 7, generator=g) < 0.2).double()
    ref = ops.sigmoid_focal_loss(x, t, alpha=0.25, gamma=2.0, reduction=reduction)
    torch.testing.assert_close(SigmoidFocalLoss(reduction=reduction)(x, t), ref,
                               atol=ATOL, rtol=0)


def test_sigmoid_focal_column_weights():
    x = torch.randn(4, 3, dtype=torch.float64)
    t = (torch.rand(4, 3) < 0.5).double()
    w = torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64)
    plain = SigmoidFocalLoss(reduction="none")(x, t)
    torch.testing.assert_close(SigmoidFocalLoss(weights=w, reduction="none")(x, t), plain * w)


# ---------------------------------------------------------------- class-balanced
def test_class_balanced_weights_follow_cui():
    counts = [5000, 120, 7, 1]
    beta = 0.999
    eff = np.array([(1 - beta) / (1 - beta**n) for n in counts])
    expected = eff / eff.sum() * len(counts)
    loss = ClassBalancedLoss(counts, beta=beta)
    np.testing.assert_allclose(loss.weights.numpy(), expected, rtol=1e-12)
    assert loss.weights.sum().item() == pytest.approx(4.0)


@pytest.mark.parametrize("base", ["ce", "focal"])
def test_class_balanced_equals_weighted_base(base):
    counts = [300, 30, 3]
    logits, target, _ = _batch((4, 6), 3, seed=9)
    cb = ClassBalancedLoss(counts, beta=0.99, base=base, gamma=1.5)
    ref_mod = (WeightedCrossEntropy(cb.weights) if base == "ce"
               else FocalLoss(1.5, alpha=cb.weights))
    torch.testing.assert_close(cb(logits, target), ref_mod(logits, target), atol=ATOL, rtol=0)


def test_class_balanced_sigmoid_accepts_table():
    t = curate.LabelTable.from_labels([["a", "b"], ["a"], ["a"]])
    cb = ClassBalancedLoss(t, beta=0.9, base="sigmoid")
    out = cb(torch.zeros(3, 2), torch.tensor([[1.0, 1.0], [1.0, 0.0], [1.0, 0.0]]))
    assert out.ndim == 0 and torch.isfinite(out)


# ---------------------------------------------------------------- numerics, devices
@pytest.mark.parametrize("half", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("make", [
    lambda w: WeightedCrossEntropy(w), lambda w: FocalLoss(2.0, alpha=w),
    lambda w: ClassBalancedLoss([100, 10, 1, 1000, 5], base="focal"),
])
def test_half_precision_no_nan(half, make):
    logits, target, w = _batch((4, 16), 5, seed=11, dtype=torch.float64)
    big = (logits.detach() * 30).to(half).requires_grad_(True)  # up to ~|300| logits
    loss = make(w)(big, target)
    loss.backward()
    assert loss.dtype == torch.float32
    assert torch.isfinite(loss) and torch.isfinite(big.grad).all()
    ref = make(w)(big.detach().float(), target)
    torch.testing.assert_close(loss, ref)


def test_sigmoid_half_precision_no_nan():
    x = (torch.randn(4, 6) * 40).to(torch.float16).requires_grad_(True)
    t = (torch.rand(4, 6) < 0.5).half()
    loss = SigmoidFocalLoss()(x, t)
    loss.backward()
    assert loss.dtype == torch.float32 and torch.isfinite(loss)
    assert torch.isfinite(x.grad).all()


@pytest.mark.parametrize("make", [
    lambda: WeightedCrossEntropy([1.0, 2.0, 3.0]), lambda: WeightedCrossEntropy(),
    lambda: WeightedCrossEntropy([1.0, 2.0, 3.0], label_smoothing=0.1),
    lambda: FocalLoss(2.0, alpha=[1.0, 2.0, 3.0]), lambda: FocalLoss(0.0),
])
def test_all_ignored_batch_is_zero_with_grad(make):
    logits = torch.randn(2, 5, 3, dtype=torch.float64, requires_grad=True)
    loss = make()(logits, torch.full((2, 5), -100))
    assert loss.item() == 0.0 and loss.requires_grad
    loss.backward()
    assert torch.equal(logits.grad, torch.zeros_like(logits))
    # F.cross_entropy itself gives NaN here: the reason for the guard
    assert torch.isnan(F.cross_entropy(logits.detach().reshape(-1, 3),
                                       torch.full((10,), -100)))


def test_weights_are_a_buffer_that_moves_with_to():
    loss = WeightedCrossEntropy([1.0, 2.0])
    assert "weight" in dict(loss.named_buffers())
    assert "weight" in loss.state_dict()
    moved = loss.to(torch.float32)
    assert moved.weight.dtype == torch.float32
    meta = WeightedCrossEntropy([1.0, 2.0]).to("meta")
    assert meta.weight.device.type == "meta"


@pytest.mark.parametrize("change", ["assign", "data", "data_copy", "inplace"])
@pytest.mark.parametrize("make", [
    lambda w: WeightedCrossEntropy(w),
    lambda w: FocalLoss(0.0, alpha=w),
])
def test_changed_weight_buffer_takes_effect_at_once(change, make):
    # float32 logits, float64 buffer: each call casts; a cache keyed on (device, dtype) kept
    # serving the old weights after any change but load_state_dict
    loss = make([1.0, 1.0, 1.0])
    z = torch.randn(6, 3, generator=torch.Generator().manual_seed(0))
    y = torch.tensor([0, 1, 2, 2, 1, 0])
    loss(z, y)
    new = torch.tensor([1.0, 5.0, 0.2], dtype=torch.float64)
    if change == "assign":
        loss.weight = new
    elif change == "data":
        loss.weight.data = new
    elif change == "data_copy":
        loss.weight.data.copy_(new)  # does not bump the tensor's version
    else:
        with torch.no_grad():
            loss.weight.mul_(new)
    torch.testing.assert_close(loss(z, y), F.cross_entropy(z, y, weight=new.float()))


def test_changed_offset_buffer_takes_effect_at_once():
    loss = LogitAdjustedLoss([10, 1], 1.0)
    z, y = torch.zeros(2, 2), torch.tensor([0, 1])
    loss(z, y)
    loss.offset = torch.log(torch.tensor([0.5, 0.5], dtype=torch.float64))
    torch.testing.assert_close(loss(z, y), F.cross_entropy(z, y))


def test_output_follows_logits_dtype_and_device():
    for dtype in (torch.float32, torch.float64):
        x = torch.randn(3, 4, dtype=dtype)
        for mod in (WeightedCrossEntropy([1.0] * 4), FocalLoss(alpha=[1.0] * 4)):
            assert mod(x, torch.tensor([0, 1, 2])).dtype == dtype


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_follows_logits():
    loss = WeightedCrossEntropy([1.0, 2.0, 3.0])
    x = torch.randn(5, 3, device="cuda")
    out = loss(x, torch.tensor([0, 1, 2, -100, 1], device="cuda"))
    assert out.device.type == "cuda"


# ---------------------------------------------------------------- Hugging Face
class _Outputs(SimpleNamespace):
    """Stand-in for transformers' TokenClassifierOutput (attribute and key access)."""

    def __getitem__(self, key):
        return getattr(self, key)


@pytest.mark.parametrize("kind", ["ce", "focal"])
def test_hf_compute_loss_func_signature_and_values(kind):
    logits, target, w = _batch((3, 10), 5, seed=21)
    fn = token_classification_loss(w, loss=kind, gamma=2.0, num_labels=5)
    out = _Outputs(logits=logits, loss=None)
    # how transformers.Trainer.compute_loss calls it
    mean = fn(out, target, num_items_in_batch=None)
    ref_mod = WeightedCrossEntropy(w) if kind == "ce" else FocalLoss(2.0, alpha=w)
    torch.testing.assert_close(mean, ref_mod(logits, target), atol=ATOL, rtol=0)
    n_items = (target != -100).sum()
    acc = fn(out, target, num_items_in_batch=n_items)
    ref_sum = (WeightedCrossEntropy(w, reduction="sum") if kind == "ce"
               else FocalLoss(2.0, alpha=w, reduction="sum"))(logits, target)
    torch.testing.assert_close(acc, ref_sum / n_items, atol=ATOL, rtol=0)
    fn({"logits": logits}, target).backward()
    assert logits.grad is not None


def test_hf_unweighted_matches_transformers_formula():
    # transformers' ForTokenClassification loss: sum CE / num_items_in_batch
    logits, target, _ = _batch((2, 8), 4, seed=22)
    fn = token_classification_loss()
    ref = F.cross_entropy(logits.reshape(-1, 4), target.reshape(-1), reduction="sum") / 9
    torch.testing.assert_close(fn(_Outputs(logits=logits), target, num_items_in_batch=9), ref)


# ---------------------------------------------------------------- errors
ERRORS = [
    (lambda: WeightedCrossEntropy(reduction="avg"), CurateValueError,
     r"The 'reduction' parameter of WeightedCrossEntropy must be one of"),
    (lambda: WeightedCrossEntropy(label_smoothing=1.5), CurateValueError, "'label_smoothing'"),
    (lambda: WeightedCrossEntropy([[1.0, 2.0]]), CurateValueError, "must be a non-empty 1-D array"),
    (lambda: WeightedCrossEntropy([1.0, float("nan")]), CurateValueError, "finite weights"),
    (lambda: WeightedCrossEntropy("abc"), CurateTypeError, "'weights' parameter"),
    (lambda: FocalLoss(gamma=-1), CurateValueError, "'gamma' parameter of FocalLoss"),
    (lambda: SigmoidFocalLoss(alpha=1.5), CurateValueError, "'alpha' parameter"),
    (lambda: ClassBalancedLoss([1, 2], base="bce"), CurateValueError, "'base' parameter"),
    (lambda: ClassBalancedLoss([1, 2], beta=1.0), CurateValueError, "'beta' parameter"),
    (lambda: token_classification_loss(loss="mse"), CurateValueError, "'loss' parameter"),
    (lambda: token_classification_loss([1.0, 2.0], num_labels=3), CurateValueError,
     "2 weights but num_labels=3"),
    (lambda: WeightedCrossEntropy([1.0, 2.0])(torch.zeros(2, 3), torch.tensor([0, 1])),
     CurateValueError, "2 class weights but the logits have 3 classes"),
    (lambda: FocalLoss()(torch.zeros(2, 3), torch.tensor([0, 1, 2])), CurateValueError,
     r"logits \(2, 3\) and targets \(3,\)"),
    (lambda: FocalLoss()(torch.zeros(2, 3), torch.tensor([0.0, 1.0])), CurateTypeError,
     "integer class ids"),
    (lambda: SigmoidFocalLoss()(torch.zeros(2, 3), torch.zeros(2)), CurateValueError,
     "shaped like the logits"),
    (lambda: token_classification_loss()(object(), torch.zeros(1)), CurateTypeError,
     r"\.logits tensor"),
    (lambda: LogitAdjustedLoss([1, 2], tau=-1.0), CurateValueError,
     "'tau' parameter of LogitAdjustedLoss"),
    (lambda: LogitAdjustedLoss([1, 2], reduction="avg"), CurateValueError, "'reduction'"),
    (lambda: LogitAdjustedLoss([1, 0]), CurateValueError, r"counts\[1\] gives a prior of 0"),
    (lambda: BalancedSoftmaxLoss([1, 2], weights=[1.0, 2.0, 3.0]), CurateValueError,
     "2 priors but 3 class weights"),
    (lambda: LogitAdjustedLoss([1, 2])(torch.zeros(2, 3), torch.tensor([0, 1])),
     CurateValueError, "2 priors but the logits have 3 classes"),
    (lambda: BalancedSoftmaxLoss([1, 2])(torch.zeros(2, 2), torch.tensor([0.0, 1.0])),
     CurateTypeError, "integer class ids"),
    (lambda: DistributionBalancedLoss([0.5, 0.2], neg_scale=0.0), CurateValueError,
     "'neg_scale' parameter of DistributionBalancedLoss"),
    (lambda: DistributionBalancedLoss([0.5, 0.2], mu=float("inf")), CurateValueError,
     "'mu' parameter of DistributionBalancedLoss must be a finite float"),
    (lambda: DistributionBalancedLoss([3, 1]), CurateValueError, "pass n_samples=N"),
    (lambda: DistributionBalancedLoss([0.5, 0.2])(torch.zeros(2, 2), torch.zeros(2)),
     CurateValueError, "shaped like the logits"),
    (lambda: DistributionBalancedLoss([0.5, 0.2])(torch.zeros(2, 3), torch.zeros(2, 3)),
     CurateValueError, "2 priors but the logits have 3 classes"),
]


@pytest.mark.parametrize(("call", "exc", "match"), ERRORS)
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ---------------------------------------------------------------- benchmark smoke
def test_bench_losses_quick_runs(tmp_path, capsys):
    import importlib.util
    import json
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_losses.py"
    spec = importlib.util.spec_from_file_location("bench_losses", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "losses.json"
    assert module.main(["--quick", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    names = [row[1] for row in result["tables"][0]["rows"]]
    assert names[0].startswith("F.cross_entropy") and "FocalLoss(gamma=2)" in names
    assert "x F.cross_entropy" in capsys.readouterr().out


# ================================================================ prior-based losses

SHAPES = [(37,), (4, 13), (2, 3, 5)]
PRIOR_COUNTS = [5000.0, 1200.0, 300.0, 40.0, 7.0, 1.0]


def _np(t):
    return t.detach().to(torch.float64).numpy()


def _ref_shifted_ce(logits, target, shift, weights, reduction):
    """-w_y log softmax(z + shift)_y in float64 numpy, with its gradient for "mean"/"sum"."""
    z = _np(logits).reshape(-1, logits.shape[-1]) + np.asarray(shift, dtype=np.float64)
    y = target.reshape(-1).numpy()
    w = np.ones(z.shape[1]) if weights is None else _np(weights)
    m = z.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(z - m).sum(axis=1))
    per = np.zeros(len(y))
    grad = np.zeros_like(z)
    denom = 0.0
    for i, yi in enumerate(y):
        if yi == -100:
            continue
        per[i] = -w[yi] * (z[i, yi] - lse[i])
        p = np.exp(z[i] - lse[i])
        p[yi] -= 1.0
        grad[i] = w[yi] * p
        denom += w[yi]
    if reduction == "none":
        return per.reshape(target.shape), None
    if reduction == "sum":
        return per.sum(), grad.reshape(logits.shape)
    return per.sum() / denom, (grad / denom).reshape(logits.shape)


def _check_against(got, logits, ref, ref_grad, reduction):
    torch.testing.assert_close(got, torch.as_tensor(ref, dtype=torch.float64), atol=ATOL, rtol=0)
    if ref_grad is not None:
        (g,) = torch.autograd.grad(got, logits)
        np.testing.assert_allclose(g.numpy(), ref_grad, atol=ATOL, rtol=0)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [True, False])
@pytest.mark.parametrize("tau", [0.5, 1.0, 2.0])
def test_logit_adjusted_equals_formula(shape, reduction, weighted, tau):
    logits, target, w = _batch(shape, 6, seed=31 + len(shape))
    w = w if weighted else None
    pi = np.array(PRIOR_COUNTS) / sum(PRIOR_COUNTS)
    got = LogitAdjustedLoss(PRIOR_COUNTS, tau, weights=w, reduction=reduction)(logits, target)
    ref, ref_grad = _ref_shifted_ce(logits, target, tau * np.log(pi), w, reduction)
    assert got.dtype == torch.float64
    _check_against(got, logits, ref, ref_grad, reduction)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [True, False])
def test_balanced_softmax_equals_ren_formula(shape, reduction, weighted):
    """Ren et al. 2020, eq. (4): phi_y = n_y exp(z_y) / sum_j n_j exp(z_j), raw counts."""
    logits, target, w = _batch(shape, 6, seed=41 + len(shape))
    w = w if weighted else None
    got = BalancedSoftmaxLoss(PRIOR_COUNTS, weights=w, reduction=reduction)(logits, target)
    n = np.array(PRIOR_COUNTS)
    z = _np(logits).reshape(-1, 6)
    y = target.reshape(-1).numpy()
    wv = np.ones(6) if w is None else _np(w)
    per = np.zeros(len(y))
    for i, yi in enumerate(y):
        if yi != -100:
            e = n * np.exp(z[i] - z[i].max())
            per[i] = -wv[yi] * np.log(e[yi] / e.sum())
    keep = y != -100
    ref = {"none": per.reshape(target.shape), "sum": per.sum(),
           "mean": per.sum() / wv[y[keep]].sum()}[reduction]
    torch.testing.assert_close(got, torch.as_tensor(ref), atol=ATOL, rtol=0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [True, False])
def test_tau_zero_is_cross_entropy(reduction, weighted):
    logits, target, w = _batch((5, 11), 6, seed=51)
    w = w if weighted else None
    got = LogitAdjustedLoss(PRIOR_COUNTS, 0.0, weights=w, reduction=reduction)(logits, target)
    ref = _ref_ce(logits, target, w, reduction)
    torch.testing.assert_close(got, ref, atol=ATOL, rtol=0)
    g1, = torch.autograd.grad(got.sum(), logits)
    g2, = torch.autograd.grad(ref.sum(), logits)
    torch.testing.assert_close(g1, g2, atol=ATOL, rtol=0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_balanced_softmax_uniform_priors_is_cross_entropy(reduction):
    logits, target, w = _batch((3, 17), 5, seed=52)
    for priors in ([7, 7, 7, 7, 7], np.full(5, 0.2)):
        got = BalancedSoftmaxLoss(priors, weights=w, reduction=reduction)(logits, target)
        torch.testing.assert_close(got, _ref_ce(logits, target, w, reduction), atol=ATOL, rtol=0)


def test_balanced_softmax_is_logit_adjusted_tau_one():
    logits, target, w = _batch((4, 9), 6, seed=53)
    a = BalancedSoftmaxLoss(PRIOR_COUNTS, weights=w)(logits, target)
    b = LogitAdjustedLoss(PRIOR_COUNTS, 1.0, weights=w)(logits, target)
    torch.testing.assert_close(a, b, atol=1e-12, rtol=0)


def test_adjusted_gradcheck():
    logits, target, w = _batch((3, 4), 6, seed=54)
    for loss in (LogitAdjustedLoss(PRIOR_COUNTS, 1.5, weights=w),
                 BalancedSoftmaxLoss(PRIOR_COUNTS)):
        assert torch.autograd.gradcheck(lambda z, f=loss: f(z, target), (logits,))


def test_priors_sources_agree():
    table = curate.LabelTable.from_labels([["a"]] * 30 + [["b"]] * 9 + [["c"]] * 1)
    cw = curate.class_weights(table)
    logits, target, _ = _batch((12,), 3, seed=55)
    ref = LogitAdjustedLoss([30, 9, 1])(logits, target)
    for source in (table, cw, np.array([0.75, 0.225, 0.025]), torch.tensor([30, 9, 1]),
                   {"a": 30, "b": 9, "c": 1}):
        torch.testing.assert_close(LogitAdjustedLoss(source)(logits, target), ref,
                                   atol=1e-12, rtol=0)
    np.testing.assert_allclose(LogitAdjustedLoss(table).priors, [0.75, 0.225, 0.025])
    np.testing.assert_array_equal(LogitAdjustedLoss(table).priors, priors_from(table))


# ---------------------------------------------------------------- distribution-balanced
def _ref_db(x, t, p, *, alpha, beta, mu, lam, kappa, gamma, reduction):
    """Wu et al. 2020 (DB-Focal) element by element, in plain Python floats."""
    import math

    x2 = _np(x).reshape(-1, x.shape[-1])
    t2 = t.reshape(-1, t.shape[-1]).to(torch.float64).numpy()
    n_rows, c = x2.shape
    out = np.zeros((n_rows, c))
    count = 0
    sig = lambda v: 1.0 / (1.0 + math.exp(-v))  # noqa: E731

    def softplus(v):
        return max(v, 0.0) + math.log1p(math.exp(-abs(v)))

    for k in range(n_rows):
        s = sum(t2[k, j] / p[j] for j in range(c) if t2[k, j] != -100)
        for i in range(c):
            if t2[k, i] == -100:
                continue
            count += 1
            y = t2[k, i]
            r_hat = alpha + 1.0 if s == 0 else alpha + sig(beta * ((1.0 / p[i]) / s - mu))
            nu = kappa / lam * math.log(1.0 / p[i] - 1.0)
            zp = x2[k, i] - nu
            val = (y * (1 - sig(zp)) ** gamma * softplus(-zp)
                   + (1 - y) * sig(lam * zp) ** gamma * softplus(lam * zp) / lam)
            out[k, i] = r_hat * val
    if reduction == "none":
        return out.reshape(x.shape)
    return out.sum() if reduction == "sum" else out.sum() / count


def _ml_batch(shape, c, seed, ignore_frac=0.1, empty_rows=True):
    g = torch.Generator().manual_seed(seed)
    x = (torch.randn(*shape, c, generator=g, dtype=torch.float64) * 3).requires_grad_(True)
    t = (torch.rand(*shape, c, generator=g) < 0.3).long()
    t[torch.rand(*shape, c, generator=g) < ignore_frac] = -100
    if empty_rows:
        t.reshape(-1, c)[0] = 0  # a sample with no positive label
    return x, t


DB_PARAMS = [
    dict(alpha=0.1, beta=10.0, mu=0.2, lam=2.0, kappa=0.05, gamma=2.0),  # COCO-MLT
    dict(alpha=0.1, beta=10.0, mu=0.3, lam=5.0, kappa=0.05, gamma=2.0),  # VOC-MLT
    dict(alpha=0.5, beta=3.0, mu=0.1, lam=1.0, kappa=0.0, gamma=0.0),
]


@pytest.mark.parametrize("shape", [(9,), (3, 4)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("params", DB_PARAMS)
@pytest.mark.parametrize("target_dtype", [torch.long, torch.float32, torch.float64])
def test_distribution_balanced_equals_formula(shape, reduction, params, target_dtype):
    p = np.array([0.4, 0.2, 0.05, 0.01, 0.3])
    x, t = _ml_batch(shape, 5, seed=61)
    t = t.to(target_dtype)
    loss = DistributionBalancedLoss(p, alpha=params["alpha"], beta=params["beta"],
                                    mu=params["mu"], neg_scale=params["lam"],
                                    kappa=params["kappa"], gamma=params["gamma"],
                                    reduction=reduction)
    got = loss(x, t)
    ref = _ref_db(x, t, p, **params, reduction=reduction)
    torch.testing.assert_close(got, torch.as_tensor(ref), atol=ATOL, rtol=0)


def _authors_procedure(x, t, class_freq, train_num):
    """The steps of the authors' ResampleLoss (rebalance + logit_reg + focal), re-derived in
    float64 for hard labels, without the constant balance_param factor."""
    freq_inv = 1.0 / class_freq
    repeat_rate = (t * freq_inv).sum(dim=1, keepdim=True)
    weight = torch.sigmoid(10.0 * (freq_inv / repeat_rate - 0.2)) + 0.1
    init_bias = -torch.log(train_num / class_freq - 1) * 0.05 / 2.0
    z = x + init_bias
    z = z * (1 - t) * 2.0 + z * t
    weight = weight / 2.0 * (1 - t) + weight * t
    pt = torch.exp(-F.binary_cross_entropy_with_logits(z, t, reduction="none"))
    loss = F.binary_cross_entropy_with_logits(z, t, weight=weight, reduction="none")
    return ((1 - pt) ** 2) * loss


def test_distribution_balanced_matches_authors_procedure():
    g = torch.Generator().manual_seed(62)
    class_freq = torch.tensor([3000.0, 800.0, 120.0, 15.0, 4.0], dtype=torch.float64)
    x = torch.randn(16, 5, generator=g, dtype=torch.float64) * 2
    t = (torch.rand(16, 5, generator=g) < 0.4).double()
    t[:, 0] = 1.0  # every sample has a positive, as in their data
    ref = _authors_procedure(x, t, class_freq, 10000.0)
    got = DistributionBalancedLoss(class_freq.long(), n_samples=10000, reduction="none")(x, t)
    torch.testing.assert_close(got, ref, atol=ATOL, rtol=0)


def test_distribution_balanced_gradcheck_and_priors_from_table():
    labels = [["a", "b"], ["a"], ["a", "c"], ["a"], ["b"], []]
    table = curate.LabelTable.from_labels(labels)
    loss = DistributionBalancedLoss(table, gamma=2.0)
    np.testing.assert_allclose(loss.priors, [4 / 6, 2 / 6, 1 / 6])  # presence / N
    same = DistributionBalancedLoss([4, 2, 1], n_samples=6)
    x, t = _ml_batch((4,), 3, seed=63)
    torch.testing.assert_close(loss(x, t), same(x, t), atol=1e-12, rtol=0)
    assert torch.autograd.gradcheck(lambda z: loss(z, t), (x,))


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
def test_distribution_balanced_soft_targets_formula_and_gradcheck(gamma):
    g = torch.Generator().manual_seed(64)
    p = np.array([0.3, 0.1, 0.02, 0.5])
    x = (torch.randn(6, 4, generator=g, dtype=torch.float64) * 2).requires_grad_(True)
    t = torch.rand(6, 4, generator=g, dtype=torch.float64)
    t[1, 2] = -100
    loss = DistributionBalancedLoss(p, gamma=gamma, reduction="sum")
    ref = _ref_db(x, t, p, alpha=0.1, beta=10.0, mu=0.2, lam=2.0, kappa=0.05, gamma=gamma,
                  reduction="sum")
    torch.testing.assert_close(loss(x, t), torch.as_tensor(ref), atol=ATOL, rtol=0)
    for target in (t, (t > 0.5).long(), (t > 0.5)):
        for reduction in REDUCTIONS:
            loss.reduction = reduction
            assert torch.autograd.gradcheck(lambda z, y=target, f=loss: f(z, y), (x,))


def test_distribution_balanced_no_positive_row_weight_is_alpha_plus_one():
    loss = DistributionBalancedLoss([0.5, 0.1], alpha=0.1, gamma=0.0, kappa=0.0,
                                    neg_scale=1.0, reduction="none")
    x = torch.zeros(1, 2, dtype=torch.float64)
    got = loss(x, torch.zeros(1, 2))
    torch.testing.assert_close(got, torch.full((1, 2), 1.1 * np.log(2.0), dtype=torch.float64))


# ---------------------------------------------------------------- numerics of the new losses
NEW_LOSSES = [
    lambda w: LogitAdjustedLoss([1e6, 1e3, 10, 1, 1], 1.0, weights=w),
    lambda w: BalancedSoftmaxLoss([1e6, 1e3, 10, 1, 1]),
    lambda w: LogitAdjustedLoss([1e6, 1e3, 10, 1, 1], 2.0),
]


@pytest.mark.parametrize("half", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("make", NEW_LOSSES)
def test_new_losses_half_precision(half, make):
    logits, target, w = _batch((4, 16), 5, seed=71, dtype=torch.float64)
    big = (logits.detach() * 30).to(half).requires_grad_(True)  # |logits| up to ~300
    loss = make(w)(big, target)
    loss.backward()
    assert loss.dtype == torch.float32
    assert torch.isfinite(loss) and torch.isfinite(big.grad).all()
    torch.testing.assert_close(loss, make(w)(big.detach().float(), target))


@pytest.mark.parametrize("half", [torch.float16, torch.bfloat16])
def test_distribution_balanced_half_precision(half):
    x, t = _ml_batch((4, 6), 5, seed=72)
    big = (x.detach() * 40).to(half).requires_grad_(True)
    loss = DistributionBalancedLoss([0.4, 0.2, 0.01, 1e-4, 0.5])
    out = loss(big, t)
    out.backward()
    assert out.dtype == torch.float32 and torch.isfinite(out)
    assert torch.isfinite(big.grad).all()
    torch.testing.assert_close(out, loss(big.detach().float(), t))


def test_cpu_autocast_bfloat16_gradients_finite():
    g = torch.Generator().manual_seed(73)
    layer = torch.nn.Linear(8, 5)
    feats = torch.randn(3, 7, 8, generator=g) * 20
    target = torch.randint(0, 5, (3, 7), generator=g)
    target[0] = -100
    multi = (torch.rand(3, 7, 5, generator=g) < 0.3).long()
    for loss, tgt in ((LogitAdjustedLoss([1e5, 100, 10, 2, 1]), target),
                      (BalancedSoftmaxLoss([1e5, 100, 10, 2, 1]), target),
                      (DistributionBalancedLoss([0.5, 0.2, 0.01, 1e-3, 0.3]), multi)):
        layer.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits = layer(feats)
            assert logits.dtype == torch.bfloat16
            value = loss(logits, tgt)
        value.backward()
        assert value.dtype == torch.float32 and torch.isfinite(value)
        assert all(torch.isfinite(p.grad).all() for p in layer.parameters())


@pytest.mark.parametrize("make", [
    lambda: LogitAdjustedLoss([5, 3, 1], 1.0, weights=[1.0, 2.0, 3.0]),
    lambda: LogitAdjustedLoss([5, 3, 1], 0.0),
    lambda: BalancedSoftmaxLoss([5, 3, 1]),
])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_new_losses_all_ignored_is_zero_with_grad(make, reduction):
    loss = make()
    loss.reduction = reduction
    logits = torch.randn(2, 5, 3, dtype=torch.float64, requires_grad=True)
    value = loss(logits, torch.full((2, 5), -100))
    assert value.item() == 0.0 and value.requires_grad
    value.backward()
    assert torch.equal(logits.grad, torch.zeros_like(logits))


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_distribution_balanced_all_ignored_is_zero_with_grad(reduction):
    x = torch.randn(2, 4, 3, dtype=torch.float64, requires_grad=True)
    value = DistributionBalancedLoss([0.5, 0.2, 0.1], reduction=reduction)(
        x, torch.full((2, 4, 3), -100))
    assert value.item() == 0.0 and value.requires_grad
    value.backward()
    assert torch.equal(x.grad, torch.zeros_like(x))


def test_ignored_elements_do_not_change_the_result():
    x, t = _ml_batch((6,), 4, seed=74, ignore_frac=0.0)
    loss = DistributionBalancedLoss([0.5, 0.2, 0.1, 0.05], reduction="none")
    full = loss(x, t)
    t2 = t.clone()
    t2[2, 1] = -100  # a negative or positive turned "unknown"
    part = loss(x, t2)
    assert part[2, 1] == 0
    # other rows are untouched; row 2 changes only through its rebalancing weight
    keep = torch.ones_like(t2, dtype=torch.bool)
    keep[2] = False
    torch.testing.assert_close(part[keep], full[keep])


def test_buffers_move_and_refresh_after_load_state_dict():
    loss = LogitAdjustedLoss([10, 1], 1.0, weights=[1.0, 1.0])
    assert {"offset", "weight"} <= set(loss.state_dict())
    x = torch.zeros(1, 2)  # float32 logits: the float64 buffers get cast
    before = loss(x, torch.tensor([1])).item()
    other = LogitAdjustedLoss([1, 10], 1.0, weights=[1.0, 1.0])
    loss.load_state_dict(other.state_dict())
    after = loss(x, torch.tensor([1])).item()
    assert after == pytest.approx(other(x, torch.tensor([1])).item()) and after != before
    wce = WeightedCrossEntropy([1.0, 1.0])
    z, y = torch.tensor([[0.3, -0.2], [1.0, 2.0]]), torch.tensor([0, 1])
    wce(z, y)  # float32 weights [1, 1]
    wce.load_state_dict({"weight": torch.tensor([1.0, 3.0], dtype=torch.float64)})
    torch.testing.assert_close(wce(z, y), F.cross_entropy(z, y, weight=torch.tensor([1.0, 3.0])))


def _load_bench(name):
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_losses_gpu_without_cuda_exits_zero(tmp_path, capsys, monkeypatch):
    module = _load_bench("bench_losses_gpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    out = tmp_path / "gpu.json"
    assert module.main(["--out", str(out)]) == 0
    assert "no CUDA device available" in capsys.readouterr().out
    assert not out.exists()


def test_bench_losses_gpu_script_runs_on_cpu(tmp_path):
    import json

    module = _load_bench("bench_losses_gpu")
    out = tmp_path / "gpu.json"
    assert module.main(["--quick", "--device", "cpu", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["errors"] == []
    assert [t["title"].split(", ")[-1] for t in result["tables"]] == ["float32 logits",
                                                                        "bfloat16 logits"]
    names = {row[2] for row in result["tables"][0]["rows"]}
    assert {"LogitAdjustedLoss(tau=1)", "BalancedSoftmaxLoss", "DistributionBalancedLoss",
            "FocalLoss(gamma=2)", "F.cross_entropy (weighted)"} <= names
    diffs = [row[-1] for row in result["tables"][0]["rows"] if row[-1] is not None]
    assert diffs and max(diffs) < 1e-4


@pytest.mark.parametrize("lam", [0.3, 1.7])
def test_distribution_balanced_float64_exact_for_any_neg_scale(lam):
    p = np.array([0.4, 0.2, 0.05])
    x, t = _ml_batch((5,), 3, seed=65)
    got = DistributionBalancedLoss(p, neg_scale=lam, reduction="sum")(x, t)
    ref = _ref_db(x, t, p, alpha=0.1, beta=10.0, mu=0.2, lam=lam, kappa=0.05, gamma=2.0,
                  reduction="sum")
    torch.testing.assert_close(got, torch.as_tensor(ref), atol=1e-12, rtol=1e-12)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_new_losses_on_cuda_equal_cpu(dtype):
    logits, target, w = _batch((4, 32), 6, seed=81, dtype=torch.float32)
    x, t = _ml_batch((4, 32), 6, seed=82)
    for loss, z, y in ((LogitAdjustedLoss(PRIOR_COUNTS, 1.0, weights=w), logits, target),
                       (BalancedSoftmaxLoss(PRIOR_COUNTS), logits, target),
                       (DistributionBalancedLoss(np.array(PRIOR_COUNTS) / 1e4), x, t)):
        zc = z.detach().to("cuda", dtype).requires_grad_(True)
        out = loss.to("cuda")(zc, y.to("cuda"))
        out.backward()
        assert out.device.type == "cuda" and torch.isfinite(zc.grad).all()
        ref = loss.to("cpu")(zc.detach().cpu().float(), y)
        torch.testing.assert_close(out.cpu(), ref, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("target_dtype", [torch.long, torch.float64])
def test_distribution_balanced_same_value_without_grad(target_dtype):
    x, t = _ml_batch((3, 5), 4, seed=66)
    t = t.to(target_dtype)
    loss = DistributionBalancedLoss([0.4, 0.2, 0.05, 0.01], reduction="none")
    with_grad = loss(x, t)
    with torch.no_grad():
        no_grad = loss(x, t)
    assert not no_grad.requires_grad
    torch.testing.assert_close(no_grad, with_grad.detach(), atol=0, rtol=0)
    torch.testing.assert_close(loss(x.detach(), t), with_grad.detach(), atol=0, rtol=0)


# ---------------------------------------------------------------- torch.compile
def _compile_cases():
    counts = [50.0, 20.0, 5.0, 1.0]
    w = [0.5, 1.0, 2.0, 4.0]
    return [
        ("ce", WeightedCrossEntropy(w), "ids"),
        ("focal", FocalLoss(2.0, alpha=w), "ids"),
        ("la", LogitAdjustedLoss(counts, tau=1.5, weights=w), "ids"),
        ("bs", BalancedSoftmaxLoss(counts), "ids"),
        ("sigmoid_focal", SigmoidFocalLoss(2.0, weights=w), "multi-hot"),
        ("db", DistributionBalancedLoss([c / 100 for c in counts]), "multi-hot"),
    ]


# dynamo itself instantiates DistributionBalancedLoss's autograd.Function while tracing it
# (torch/autograd/function.py warns about that); curate never does
@pytest.mark.filterwarnings("ignore:.*should not be instantiated:DeprecationWarning")
@pytest.mark.parametrize("case", range(6), ids=[c[0] for c in _compile_cases()])
def test_losses_trace_as_one_graph_and_compile_to_the_eager_value(case):
    # float64 buffers cast to the logits' float32: the cached cast must not break the
    # graph (it did: every weighted loss compiled as 2-3 graphs), and the traced loss
    # must give the eager value and gradient
    _, loss, kind = _compile_cases()[case]
    g = torch.Generator().manual_seed(case)
    logits = torch.randn(3, 5, 4, generator=g)
    ids = torch.randint(0, 4, (3, 5), generator=g)
    ids[0, :2] = -100
    target = ids if kind == "ids" else (torch.rand(3, 5, 4, generator=g) < 0.3).float()
    explained = torch._dynamo.explain(loss)(logits, target)
    assert explained.graph_break_count == 0, explained.break_reasons
    assert explained.graph_count == 1
    torch._dynamo.reset()
    compiled = torch.compile(loss, backend="aot_eager", fullgraph=True)
    for fn in (loss, compiled):
        x = logits.clone().requires_grad_(True)
        value = fn(x, target)
        value.backward()
        if fn is loss:
            want, want_grad = value.detach(), x.grad
        else:
            assert torch.allclose(value.detach(), want, atol=1e-6)
            assert torch.allclose(x.grad, want_grad, atol=1e-6)
    torch._dynamo.reset()


@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
def test_targets_that_all_weigh_zero_give_nan_as_torch(label_smoothing):
    # torch's weighted mean is 0/0 there; a huge finite "loss" (x / tiny) would train on it
    z = torch.randn(2, 3, generator=torch.Generator().manual_seed(3))
    y, w = torch.tensor([0, 0]), torch.tensor([0.0, 1.0, 1.0])
    want = F.cross_entropy(z, y, weight=w, label_smoothing=label_smoothing)
    got = WeightedCrossEntropy(w, label_smoothing=label_smoothing)(z, y)
    assert torch.isnan(want) and torch.isnan(got)
    if label_smoothing == 0:
        assert torch.isnan(FocalLoss(0.0, alpha=w)(z, y))  # gamma=0 is WeightedCrossEntropy


@pytest.mark.parametrize("bad", [[[2.0, 0.0]], [[-1.0, 1.0]], [[float("nan"), 0.0]]])
def test_sigmoid_focal_refuses_targets_outside_0_1_on_cpu(bad):
    # counts or class ids passed as targets gave a finite loss, silently
    with pytest.raises(CurateValueError, match=r"targets must lie in \[0, 1\]"):
        SigmoidFocalLoss()(torch.zeros(1, 2), torch.tensor(bad))
    soft = SigmoidFocalLoss()(torch.zeros(1, 2), torch.tensor([[0.3, 1.0]]))
    assert torch.isfinite(soft)


def test_sigmoid_focal_target_check_leaves_vmap_and_grad_alone():
    # the eager check branched on data, which vmap refuses: per-sample gradients failed
    from torch.func import grad, vmap

    loss = SigmoidFocalLoss()
    z, t = torch.randn(8, 3), (torch.rand(8, 3) > 0.5).float()
    per = vmap(loss)(z, t)
    assert per.shape == (8,)
    assert torch.allclose(per, torch.stack([loss(z[i], t[i]) for i in range(8)]))
    assert vmap(grad(lambda zi, ti: loss(zi, ti)))(z, t).shape == (8, 3)
