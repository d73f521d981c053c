"""``curate resample``: balance labels offline into a manifest, or turn a manifest back."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from curate._atomic import atomic_write
from curate.cli._common import add_input_arguments, amount, check_out, read_input
from curate.exceptions import CurateValueError

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``resample`` subcommand.

    Examples
    --------
    >>> import argparse
    >>> sub = argparse.ArgumentParser().add_subparsers()
    >>> register(sub)
    """

    p = subparsers.add_parser(
        "resample",
        help="balance labels with the integer program and write a manifest",
        description="Solve InterClassBalancer on INPUT, write a manifest parquet (sample_id, "
        "index, multiplicity of epoch 0, the plan and its metadata, verified on load) and print "
        "the before/after summary with per-epoch balance and coverage. With --from-manifest, "
        "turn a saved manifest back into any epoch's indices or a resampled label file.",
    )
    add_input_arguments(p, optional=True)
    p.add_argument("--out", help="manifest parquet to write (metadata inside the file)")
    p.add_argument("--minimize-duplicates", action="store_true",
                   help="draw every sample holding a rare (below-median) class in every epoch "
                   "and spread copies over them")
    p.add_argument("--count", choices=("instances", "samples"), default="instances",
                   help="balance instance totals or samples per class (default: instances)")
    p.add_argument("--target-size", type=amount, default=None,
                   help="epoch size: a count or a fraction of the samples (default: unchanged)")
    p.add_argument("--max-duplicates", type=amount, default=None,
                   help="most extra copies per epoch: an int count or a fraction in (0, 1)")
    p.add_argument("--max-removals", type=amount, default=None,
                   help="most samples sitting out per epoch: an int count or a fraction in (0, 1)")
    p.add_argument("--max-repeats", type=int, default=4, help="most copies per sample (default 4)")
    p.add_argument("--coverage-epochs", type=int, default=2,
                   help="every sample is drawn at least once in every N consecutive epochs "
                   "(default 2)")
    p.add_argument("--permanent", action="store_true",
                   help="a fixed offline subset: removed samples are dropped for good and every "
                   "epoch is the same")
    p.add_argument("--solver", choices=("auto", "lp", "cbc", "highs"), default="auto",
                   help="solver backend (default: auto; cbc/highs need --permanent)")
    p.add_argument("--time-limit", type=float, default=None,
                   help="abort guard in seconds (default: none; a stopped plan depends on "
                   "machine load and says so)")
    p.add_argument("--seed", type=int, default=0, help="seed of the per-epoch draws (default 0)")
    p.add_argument("--from-manifest", metavar="MANIFEST", default=None,
                   help="read a saved manifest instead of solving")
    p.add_argument("--epoch", type=int, default=0, help="epoch to draw from a manifest")
    p.add_argument("--write-indices", metavar="PATH", default=None,
                   help="with --from-manifest: write the epoch's row indices, one per line")
    p.add_argument("--write-labels", metavar="PATH", default=None,
                   help="with --from-manifest: write the resampled labels as parquet "
                   "(sample_id, index, labels)")
    p.set_defaults(func=run)


def _from_manifest(args: argparse.Namespace) -> int:
    from curate.balance import BalancePlan

    plan = BalancePlan.load(args.from_manifest)
    if args.write_indices is None and args.write_labels is None:
        print(plan.summary())
        return 0
    if args.write_indices is not None:
        idx = plan.indices(args.epoch, shuffle=False)
        text = "\n".join(map(str, idx.tolist())) + "\n"
        atomic_write(args.write_indices, lambda tmp: Path(tmp).write_text(text))
    if args.write_labels is not None:
        frame = plan.resampled_labels(args.epoch)
        atomic_write(args.write_labels, lambda tmp: frame.to_parquet(tmp, index=False))
    return 0


def run(args: argparse.Namespace) -> int:
    """Run ``curate resample``; return the exit status.

    Examples
    --------
    >>> import argparse, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "l.jsonl").write_text('{"labels": ["a"]}\\n' * 3 + '{"labels": ["b"]}\\n')
    >>> from curate.cli import main
    >>> main(["resample", str(d / "l.jsonl"), "--out", str(d / "m.parquet")])
    ... # doctest: +ELLIPSIS
    class  before  after  change
    ...
    0
    """
    if args.from_manifest is not None:
        return _from_manifest(args)
    if args.input is None or args.out is None:
        raise CurateValueError(
            "resample needs INPUT and --out (or --from-manifest MANIFEST); "
            "e.g. curate resample labels.parquet --out manifest.parquet"
        )
    from curate.balance import InterClassBalancer
    check_out(args.out)
    table = read_input(args)
    balancer = InterClassBalancer(
        background_class=args.background, minimize_duplicates=args.minimize_duplicates,
        count=args.count, target_size=args.target_size, max_duplicates=args.max_duplicates,
        max_removals=args.max_removals, max_repeats=args.max_repeats,
        coverage_epochs=args.coverage_epochs, permanent=args.permanent, solver=args.solver,
        time_limit=args.time_limit, seed=args.seed,
    )
    plan = balancer.fit(table)
    plan.save(args.out)
    print(plan.summary())
    print(f"manifest written to {args.out}")
    return 0
