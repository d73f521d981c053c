"""curate.losses against torch references (float64, 1e-6) and the papers' formulas."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

import curate  # noqa: E402
from curate.exceptions import CurateTypeError, CurateValueError  # noqa: E402
from curate.losses import (  # noqa: E402
    ClassBalancedLoss,
    FocalLoss,
    SigmoidFocalLoss,
    WeightedCrossEntropy,
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


def test_weights_cast_once_and_cached():
    loss = FocalLoss(2.0, alpha=[1.0, 2.0])  # float64 buffer
    x = torch.randn(4, 2)
    loss(x, torch.tensor([0, 1, 1, 0]))
    first = loss._cache[(x.device, torch.float32)]
    loss(x, torch.tensor([1, 1, 1, 0]))
    assert loss._cache[(x.device, torch.float32)] is first


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
    (lambda: WeightedCrossEntropy([[1.0, 2.0]]), CurateValueError, "must be 1-D"),
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
