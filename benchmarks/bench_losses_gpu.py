"""GPU forward+backward time of every curate loss against ``F.cross_entropy(weight=...)``.

Logits ``(B, T, C)`` = (64, 512, 29) and (256, 512, 29), float32 and bfloat16, 15 % ignored
labels (softmax losses) or multi-hot targets with 10 % positives (sigmoid losses). Each loss
runs ``forward + backward`` inside a pair of CUDA events; the rounds interleave the losses
and the table reports the median of ``--repeats`` rounds after 3 warm-up rounds, the ratio to
weighted ``F.cross_entropy`` (computed in float32, as autocast runs it), the ratio to
``F.binary_cross_entropy_with_logits`` for the multi-label losses, the GPU time of the
kernels themselves (``torch.profiler``, mean of 5 steps) and its ratio to
``F.cross_entropy``'s (at these shapes each kernel runs for microseconds, so the wall time
is mostly launches: the kernel time is what a loss adds to a step whose launches overlap
the model's kernels), the peak memory of one step, and whether the loss meets the issue's
goal (<= 1.5x ``F.cross_entropy``, wall time). For the float32 runs it also checks every
loss's CUDA value against the same loss on the CPU in float64 (``|diff|`` column).

    python benchmarks/bench_losses_gpu.py [--quick] [--repeats N] [--out PATH] [--compile]

``--compile`` adds ``torch.compile``-d rows for the losses made of many element-wise ops
(``FocalLoss(gamma=2)``, ``LogitAdjustedLoss``, ``SigmoidFocalLoss``,
``DistributionBalancedLoss``) to show what
kernel fusion gains; each compiles once per shape and dtype during the warm-up rounds
(tens of seconds each), so it is off by default. Their ``|diff|`` is against the eager loss
on the same device.

Results go to ``--out``, else ``$OUT/losses_gpu.json`` when ``$OUT`` is set, else
``benchmarks/results/losses_gpu.json``. Without CUDA it prints why and exits 0 without
measuring (``--device cpu`` runs the same code on the CPU with wall-clock timing, for
testing the script). It exits 1 if a loss raised or disagreed with its CPU float64 value.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch
from _common import print_table, write_results
from bench_losses import cases, make_inputs

SHAPES = ((64, 512, 29), (256, 512, 29))
QUICK_SHAPES = ((4, 32, 29),)
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}
GOAL = 1.5
GOAL_NAMES = ("FocalLoss", "LogitAdjustedLoss", "BalancedSoftmaxLoss", "DistributionBalancedLoss")
COMPILE_NAMES = ("FocalLoss(gamma=2)", "LogitAdjustedLoss(tau=1)", "SigmoidFocalLoss(gamma=2)",
                 "DistributionBalancedLoss")
COMPILED = " (torch.compile)"
TOLERANCE = 1e-4  # float32 on the device vs float64 on the CPU, mean reduction


class _Timer:
    """CUDA events on a GPU, ``perf_counter`` plus a synchronize elsewhere."""

    def __init__(self, device: str) -> None:
        self.cuda = device == "cuda"

    def start(self) -> Any:
        if self.cuda:
            ev = torch.cuda.Event(enable_timing=True)
            ev.record()
            return ev
        return time.perf_counter()

    def stop(self, start: Any) -> Any:
        if self.cuda:
            ev = torch.cuda.Event(enable_timing=True)
            ev.record()
            return (start, ev)
        return time.perf_counter() - start

    def ms(self, token: Any) -> float:
        if self.cuda:
            return float(token[0].elapsed_time(token[1]))  # after a synchronize
        return float(token) * 1e3


def _peak_mb(fn: Any, logits: torch.Tensor, target: torch.Tensor, device: str) -> float | None:
    if device != "cuda":
        return None
    logits.grad = None
    torch.cuda.synchronize()
    base = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    fn(logits, target).backward()
    torch.cuda.synchronize()
    return round((torch.cuda.max_memory_allocated() - base) / 2**20, 1)


def _kernel_us(fn: Any, logits: torch.Tensor, target: torch.Tensor, device: str,
               steps: int = 5) -> float | None:
    """GPU time of the kernels one forward+backward runs (profiler, mean of ``steps``).

    The wall column holds the launch overhead of every kernel too (at these shapes a kernel
    runs for microseconds, and each launch costs about as much); this is the GPU's own work,
    what a loss adds to a training step whose launches overlap the model's kernels.
    """
    if device != "cuda":
        return None
    from torch.autograd import DeviceType
    from torch.profiler import ProfilerActivity, profile

    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(steps):
            logits.grad = None
            fn(logits, target).backward()
        torch.cuda.synchronize()
    total = sum(e.self_device_time_total for e in prof.key_averages()
                if e.device_type == DeviceType.CUDA)
    return total / steps


def _cpu_check(name: str, x: dict[str, Any], c: int, kind: str, device: str) -> float:
    """|loss on device (float32) - the same loss on the CPU in float64|."""
    dev_case = {n: f for n, f, _ in cases(x["weights"], x["priors"], x["rates"], c, device)}
    cpu = {k: (v.detach().cpu() if isinstance(v, torch.Tensor) else v) for k, v in x.items()}
    cpu_case = {n: f for n, f, _ in cases(cpu["weights"].double(), cpu["priors"], cpu["rates"],
                                          c, "cpu")}
    target = cpu[kind].double() if kind == "multi-hot" else cpu[kind]
    with torch.no_grad():
        got = dev_case[name](x["logits"], x[kind]).double().cpu()
        ref = cpu_case[name](cpu["logits"].double(), target)
    return float((got - ref).abs().max())


def _compiled_check(fn: Any, eager: Any, x: dict[str, Any], kind: str) -> float:
    with torch.no_grad():
        return float((fn(x["logits"], x[kind]).double() - eager(x["logits"], x[kind]).double())
                     .abs().max())


def run(shape: tuple[int, int, int], dtype_name: str, repeats: int, device: str,
        compile_: bool = False) -> tuple[list[list[Any]], list[str]]:
    b, t, c = shape
    x = make_inputs(b, t, c, device, DTYPES[dtype_name])
    logits = x["logits"]
    todo = cases(x["weights"], x["priors"], x["rates"], c, device)
    eager = {name: fn for name, fn, _ in todo}
    if compile_:
        todo += [(name + COMPILED, torch.compile(fn), kind) for name, fn, kind in todo
                 if name in COMPILE_NAMES]
    timer = _Timer(device)
    times: dict[str, list[float]] = {name: [] for name, _, _ in todo}
    errors: list[str] = []
    failed: set[str] = set()
    for rep in range(repeats + 3):  # interleaved rounds, 3 warm-up rounds
        tokens = []
        for name, fn, kind in todo:
            if name in failed:
                continue
            logits.grad = None
            start = timer.start()
            try:
                fn(logits, x[kind]).backward()
            except Exception as exc:  # recorded in the table and the exit code
                failed.add(name)
                errors.append(f"{name} ({dtype_name}, {b}x{t}x{c}): {type(exc).__name__}: {exc}")
                continue
            tokens.append((name, timer.stop(start)))
        if device == "cuda":
            torch.cuda.synchronize()
        if rep >= 3:
            for name, token in tokens:
                times[name].append(timer.ms(token))
    kernel = {name: _kernel_us(fn, logits, x[kind], device) for name, fn, kind in todo
              if name not in failed}
    base = statistics.median(times[todo[0][0]])
    base_kernel = kernel[todo[0][0]]
    bce_name = "F.binary_cross_entropy_with_logits"
    bce = statistics.median(times[bce_name]) if times[bce_name] else float("nan")
    rows = []
    for name, fn, kind in todo:
        if name in failed:
            rows.append([dtype_name, f"{b}x{t}x{c}", name, kind, None, None, None, None, None,
                         None, "error", None])
            continue
        ms = statistics.median(times[name])
        diff = None
        if name.endswith(COMPILED):
            diff = _compiled_check(fn, eager[name.removesuffix(COMPILED)], x, kind)
        elif dtype_name == "float32" and not name.startswith("F."):
            diff = _cpu_check(name, x, c, kind, device)
        if diff is not None and not diff <= TOLERANCE:
            what = "compiled - eager" if name.endswith(COMPILED) else "device - CPU float64"
            errors.append(f"{name} ({dtype_name}, {b}x{t}x{c}): |{what}| = {diff:.2e}")
        goal = ("yes" if ms / base <= GOAL else "NO") if name.startswith(GOAL_NAMES) else ""
        rows.append([dtype_name, f"{b}x{t}x{c}", name, kind, round(ms, 4),
                     round(ms / base, 3), round(ms / bce, 3) if kind == "multi-hot" else None,
                     None if kernel[name] is None else round(kernel[name], 1),
                     None if kernel[name] is None or not base_kernel
                     else round(kernel[name] / base_kernel, 3),
                     _peak_mb(fn, logits, x[kind], device), goal,
                     None if diff is None else float(f"{diff:.3g}")])
    return rows, errors


def _out_path(arg: str | None) -> str | None:
    if arg:
        return arg
    if os.environ.get("OUT"):
        return str(Path(os.environ["OUT"]) / "losses_gpu.json")
    return None  # write_results' default: benchmarks/results/losses_gpu.json


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one small shape, 3 repeats")
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--out", default=None, help="results JSON path")
    parser.add_argument("--compile", action="store_true",
                        help="also time torch.compile-d focal / DB losses (slow warm-up)")
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"],
                        help="cpu only to test this script (wall-clock timing)")
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        print(f"bench_losses_gpu: no CUDA device available (torch {torch.__version__}, CUDA "
              f"build {torch.version.cuda}); nothing measured, no file written. Run it on a "
              "machine with a GPU.")
        return 0
    shapes = QUICK_SHAPES if args.quick else SHAPES
    repeats = 3 if args.quick else args.repeats
    device_name = (torch.cuda.get_device_name() if args.device == "cuda" else "cpu")
    columns = ["dtype", "shape", "loss", "targets", "fwd+bwd ms (median)", "x F.cross_entropy",
               "x F.bce_with_logits", "GPU kernel µs", "kernel x F.cross_entropy",
               "peak MiB", f"<= {GOAL}x goal", "|diff| vs CPU f64"]
    tables, all_errors = [], []
    for dtype_name in DTYPES:
        rows: list[list[Any]] = []
        for shape in shapes:
            got, errors = run(shape, dtype_name, repeats, args.device, args.compile)
            rows += got
            all_errors += errors
        title = f"Loss forward+backward, {device_name}, {dtype_name} logits"
        print_table(title, columns, rows)
        tables.append({"title": title, "columns": columns, "rows": rows, "notes":
                       f"median of {repeats} interleaved rounds after 3 warm-up rounds, "
                       f"{'CUDA events' if args.device == 'cuda' else 'perf_counter'}; "
                       "F.cross_entropy computed in float32 (as autocast runs it); curate "
                       "losses compute half-precision logits in float32; 15% ignored labels; "
                       "multi-hot targets with 10% positives; priors 10^4..1"})
    extra = {"quick": args.quick, "compile": args.compile, "torch": torch.__version__,
             "cuda": torch.version.cuda,
             "device": device_name, "errors": all_errors}
    path = write_results("losses_gpu", tables, out=_out_path(args.out), extra=extra)
    print(f"\nwrote {path}")
    for line in all_errors:
        print("ERROR", line)
    return 1 if all_errors else 0


if __name__ == "__main__":
    sys.exit(main())
