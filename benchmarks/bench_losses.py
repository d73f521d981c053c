"""Forward+backward time of curate's losses against ``F.cross_entropy``.

Shape (B=64, T=512, C=29) float32 with 15 % ignored positions, CPU (and CUDA when available);
median of ``--repeats`` interleaved timed rounds after warm-up. Target: each curate loss <= 1.5x
of ``F.cross_entropy`` with the same weights. The multi-label losses (sigmoid focal,
distribution-balanced) take multi-hot targets of the logits' shape; the table also times
``F.binary_cross_entropy_with_logits`` as their own baseline. ``benchmarks/bench_losses_gpu.py``
times the same losses on a GPU with CUDA events, in float32 and bfloat16.

    python benchmarks/bench_losses.py [--quick] [--out PATH]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch
import torch.nn.functional as F
from _common import print_table, write_results

from curate.losses import (
    BalancedSoftmaxLoss,
    DistributionBalancedLoss,
    FocalLoss,
    LogitAdjustedLoss,
    SigmoidFocalLoss,
    WeightedCrossEntropy,
)


def cases(weights: torch.Tensor, priors: torch.Tensor, rates: torch.Tensor, c: int,
          device: str) -> list[tuple[str, Any, str]]:
    """(name, loss callable, target kind) for every loss; kind is "ids" or "multi-hot"."""

    def ref(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(z.reshape(-1, c).float(), y.reshape(-1), weight=weights)

    def ref_bce(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(z.float(), y)

    return [
        ("F.cross_entropy (weighted)", ref, "ids"),
        ("WeightedCrossEntropy", WeightedCrossEntropy(weights).to(device), "ids"),
        ("FocalLoss(gamma=0)", FocalLoss(0.0, alpha=weights).to(device), "ids"),
        ("FocalLoss(gamma=2)", FocalLoss(2.0, alpha=weights).to(device), "ids"),
        ("LogitAdjustedLoss(tau=1)", LogitAdjustedLoss(priors, weights=weights).to(device),
         "ids"),
        ("BalancedSoftmaxLoss", BalancedSoftmaxLoss(priors).to(device), "ids"),
        ("F.binary_cross_entropy_with_logits", ref_bce, "multi-hot"),
        ("SigmoidFocalLoss(gamma=2)", SigmoidFocalLoss(2.0).to(device), "multi-hot"),
        ("DistributionBalancedLoss", DistributionBalancedLoss(rates).to(device), "multi-hot"),
    ]


def make_inputs(b: int, t: int, c: int, device: str, dtype: torch.dtype = torch.float32
                ) -> dict[str, Any]:
    """Seeded logits, integer and multi-hot targets, weights, priors and positive rates."""
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(b, t, c, generator=g).to(device=device, dtype=dtype)
    target = torch.randint(0, c, (b, t), generator=g)
    target[torch.rand(b, t, generator=g) < 0.15] = -100
    multi = (torch.rand(b, t, c, generator=g) < 0.1).float()
    weights = torch.rand(c, generator=g) * 3 + 0.1
    counts = torch.logspace(4, 0, c, dtype=torch.float64)  # 10^4 .. 1: a long tail
    return {"logits": logits.requires_grad_(True), "ids": target.to(device),
            "multi-hot": multi.to(device), "weights": weights.to(device),
            "priors": counts, "rates": counts / (2 * counts.max())}


def _step(fn: Any, logits: torch.Tensor, target: torch.Tensor, device: str) -> float:
    logits.grad = None
    if device == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    fn(logits, target).backward()
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t0


def run(b: int, t: int, c: int, repeats: int, device: str) -> list[list[Any]]:
    x = make_inputs(b, t, c, device)
    logits = x["logits"]
    todo = cases(x["weights"], x["priors"], x["rates"], c, device)
    times: dict[str, list[float]] = {name: [] for name, _, _ in todo}
    for rep in range(repeats + 2):  # interleaved, so load changes hit every loss alike
        for name, fn, kind in todo:
            sec = _step(fn, logits, x[kind], device)
            if rep >= 2:  # 2 warm-up rounds
                times[name].append(sec)
    base = statistics.median(times[todo[0][0]])
    rows = []
    for name, _, kind in todo:
        sec = statistics.median(times[name])
        rows.append([device, name, kind, f"{b}x{t}x{c}", round(sec * 1e3, 3),
                     round(sec / base, 3)])
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small shape, few repeats (smoke)")
    parser.add_argument("--out", default=None, help="results JSON (default results/losses.json)")
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args(argv)
    b, t, c, repeats = (4, 32, 29, 3) if args.quick else (64, 512, 29, args.repeats)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    columns = ["device", "loss", "targets", "shape", "fwd+bwd ms (median)", "x F.cross_entropy"]
    tables = []
    for device in devices:
        rows = run(b, t, c, repeats, device)
        title = f"Loss forward+backward, {device}, float32"
        print_table(title, columns, rows)
        tables.append({"title": title, "columns": columns, "rows": rows,
                       "notes": f"median of {repeats} interleaved rounds after 2 warm-up rounds; "
                                f"torch threads={torch.get_num_threads()}; 15% ignored labels; "
                                "multi-hot targets with 10% positives; priors 10^4..1"})
    path = write_results("losses", tables, out=args.out,
                         extra={"quick": args.quick, "torch": torch.__version__})
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
