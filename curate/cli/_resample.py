"""``curate resample``: balance labels offline into a manifest, or turn a manifest back."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from curate._atomic import atomic_write
from curate.cli._common import (
    UsageError,
    add_input_arguments,
    amount,
    check_distinct,
    check_out,
    input_paths,
    read_input,
    reject_flags,
)
from curate.exceptions import CurateValueError

__all__ = ["register", "run"]

#: Columns taken as the sample ids of a table when --id-column is not given, in this order.
ID_COLUMNS = ("sample_id", "id")
#: Balancer options and their defaults; they default to None on the parser so that passing
#: one together with --from-manifest (which solves nothing) is a usage error.
_BALANCER_DEFAULTS: dict[str, Any] = {
    "minimize_duplicates": False, "count": "instances", "target_size": None,
    "max_duplicates": None, "max_removals": None, "max_repeats": 4, "coverage_epochs": 2,
    "permanent": False, "solver": "auto", "time_limit": None, "seed": 0,
}
_READER_OPTIONS = ("format", "column", "background", "level", "id_column", "delimiter",
                   "label_names", "ignore_index", "data_yaml", "names", "split", "encoding")
_MANIFEST_OPTIONS = ("epoch", "write_indices", "write_labels")


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
    p.add_argument("--id-column", metavar="NAME", default=None,
                   help="parquet/csv/jsonl: column of sample ids written as the manifest's "
                   "sample_id (default: a column named sample_id or id if there is one, else "
                   "row positions)")
    p.add_argument("--out", help="manifest parquet to write (metadata inside the file)")
    p.add_argument("--minimize-duplicates", action="store_true",
                   help="draw every sample holding a rare (below-median) class in every epoch "
                   "and spread copies over them")
    p.add_argument("--count", choices=("instances", "samples"), default=None,
                   help="balance instance totals or samples per class (default: instances)")
    p.add_argument("--target-size", type=amount, default=None,
                   help="epoch size: a count or a fraction of the samples (default: unchanged)")
    p.add_argument("--max-duplicates", type=amount, default=None,
                   help="most extra copies per epoch: an int count or a fraction in (0, 1)")
    p.add_argument("--max-removals", type=amount, default=None,
                   help="most samples sitting out per epoch: an int count or a fraction in (0, 1)")
    p.add_argument("--max-repeats", type=int, default=None,
                   help="most copies per sample (default 4)")
    p.add_argument("--coverage-epochs", type=int, default=None,
                   help="every sample is drawn at least once in every N consecutive epochs "
                   "(default 2)")
    p.add_argument("--permanent", action="store_true",
                   help="a fixed offline subset: removed samples are dropped for good and every "
                   "epoch is the same")
    p.add_argument("--solver", choices=("auto", "lp", "cbc", "highs"), default=None,
                   help="solver backend (default: auto; cbc/highs need --permanent)")
    p.add_argument("--time-limit", type=float, default=None,
                   help="abort guard in seconds (default: none; a stopped plan depends on "
                   "machine load and says so)")
    p.add_argument("--seed", type=int, default=None, help="seed of the per-epoch draws (default 0)")
    g = p.add_argument_group("from a saved manifest (with --from-manifest)")
    g.add_argument("--from-manifest", metavar="MANIFEST", default=None,
                   help="read a saved manifest instead of solving (no INPUT, --out, reader or "
                   "balancer options)")
    g.add_argument("--epoch", type=int, default=None,
                   help="epoch to draw from the manifest (default 0)")
    g.add_argument("--write-indices", metavar="PATH", default=None,
                   help="write the epoch's row indices, one per line")
    g.add_argument("--write-labels", metavar="PATH", default=None,
                   help="write the resampled labels as parquet (sample_id, index, labels)")
    p.set_defaults(func=run)


def _from_manifest(args: argparse.Namespace) -> int:
    from curate.balance import BalancePlan

    reject_flags(args, ("input", "out", *_READER_OPTIONS, *_BALANCER_DEFAULTS),
                 "cannot be used with --from-manifest (the manifest already holds the labels "
                 "and the plan); remove them, or drop --from-manifest to solve a new plan "
                 "from INPUT")
    check_distinct({"--write-indices": args.write_indices, "--write-labels": args.write_labels},
                   {"--from-manifest": args.from_manifest})
    epoch = 0 if args.epoch is None else args.epoch
    plan = BalancePlan.load(args.from_manifest)
    if args.write_indices is None and args.write_labels is None:
        print(plan.summary())
        return 0
    if args.write_indices is not None:
        idx = plan.indices(epoch, shuffle=False)
        text = "\n".join(map(str, idx.tolist())) + "\n"
        atomic_write(args.write_indices, lambda tmp: Path(tmp).write_text(text))
    if args.write_labels is not None:
        frame = plan.resampled_labels(epoch)
        atomic_write(args.write_labels, lambda tmp: frame.to_parquet(tmp, index=False))
    return 0


def _columns(path: Path, fmt: str, encoding: str | None) -> list[str] | None:
    """Column names of a parquet / CSV / JSONL input (JSONL: keys of the first row), or
    ``None`` when they cannot be read cheaply (the reader then reports the problem)."""
    try:
        if fmt == "parquet":
            import pyarrow.dataset as ds

            return list(ds.dataset(path, format="parquet").schema.names)
        if fmt == "csv":
            import pandas as pd

            sep = "\t" if path.suffix.lower() == ".tsv" else ","
            return [str(c) for c in pd.read_csv(path, sep=sep, nrows=0,
                                                encoding=encoding or "utf-8").columns]
        with path.open(encoding=encoding or "utf-8") as fh:
            for line in fh:
                if line.strip():
                    row = json.loads(line)
                    return [str(k) for k in row] if isinstance(row, dict) else None
    except Exception:  # only a guess: read_labels reports the real problem
        return None
    return None


def _id_column(args: argparse.Namespace) -> tuple[str | None, str]:
    """The id column to read (``--id-column``, else ``sample_id`` / ``id`` if present) and a
    line saying where the manifest's ``sample_id`` comes from."""
    from curate.io._formats import infer_format

    path = Path(args.input)
    if not path.exists():
        return args.id_column, ""  # read_labels reports the missing file
    fmt = args.format or infer_format(path)
    source = f"{path.name}"
    if fmt not in ("parquet", "csv", "jsonl"):
        if args.id_column is not None:
            raise CurateValueError(
                f"--id-column applies to parquet/csv/jsonl input, not {fmt} (its reader names "
                "the samples, e.g. COCO image ids or VOC file names); remove --id-column")
        return None, f"sample_id: the sample ids of the {fmt} reader ({source})"
    names = _columns(path, fmt, args.encoding)
    if args.id_column is not None:
        if names is not None and args.id_column not in names:
            raise CurateValueError(f"--id-column {args.id_column!r} is not a column of {source} "
                                   f"(columns: {names}); pass one of them")
        return args.id_column, f"sample_id: column {args.id_column!r} of {source}"
    found = [c for c in ID_COLUMNS if names and len(names) > 1 and c in names
             and c != args.column]
    if found:
        return found[0], (f"sample_id: column {found[0]!r} of {source} (choose another with "
                          "--id-column)")
    return None, (f"sample_id: row positions 0..N-1 ({source} has no {' or '.join(ID_COLUMNS)} "
                  "column; pass --id-column NAME to use one)")


def run(args: argparse.Namespace) -> int:
    """Run ``curate resample``; return the exit status.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed ``resample`` arguments.

    Returns
    -------
    int
        0 on success.

    Raises
    ------
    UsageError
        Flags that do not go together, or an output path that is an input.

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
    reject_flags(args, _MANIFEST_OPTIONS,
                 "cannot be used without --from-manifest MANIFEST (they draw an epoch of a "
                 "saved manifest); write the manifest with --out first, then run curate "
                 "resample --from-manifest MANIFEST with them")
    if args.input is None or args.out is None:
        raise UsageError(
            "resample needs INPUT and --out (or --from-manifest MANIFEST); "
            "e.g. curate resample labels.parquet --out manifest.parquet"
        )
    check_distinct({"--out": args.out}, input_paths(args))
    from curate.balance import InterClassBalancer
    check_out(args.out)
    id_column, id_line = _id_column(args)
    table = read_input(args, id_column=id_column)
    options = {k: default if getattr(args, k) is None else getattr(args, k)
               for k, default in _BALANCER_DEFAULTS.items()}
    balancer = InterClassBalancer(background_class=args.background, **options)
    plan = balancer.fit(table)
    plan.save(args.out)
    print(plan.summary())
    if id_line:
        print(id_line)
    print(f"manifest written to {args.out}")
    return 0
