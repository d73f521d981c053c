"""The partitioned manifest: a :class:`GroupPlan` plus one small parquet per input partition.

Layout of the folder (``D`` = the first 16 hex digits of the plan's digest)::

    manifest.json          what follows, the source partitions, and a checksum over itself
    groups-D.parquet       the plan per group: size, first_row, total, label vector
    counts-D.parquet       per partition and group in it: rows and member-rank offset
    part-D-00000.parquet   per row of partition 0: row (global index), group, rank [, key]
    part-D-00001.parquet   ...

``rank`` is the row's member rank: its position among all rows of its group in row order,
the offset of its partition (members of the group in earlier partitions, prefix sums of the
label pass's per-partition counts) plus its rank inside the partition. A row's copies in an
epoch are ``GroupPlan.draw_rows(epoch, group, rank)``: each worker draws its own rows from its
part file and the small group-level plan, with no global per-row array anywhere.

Every file is written atomically (temp file + rename) and ``manifest.json`` last, so a reader
sees the old manifest or the new one. Part and group file names carry the digest, so a new
plan written into the same folder never overwrites files an existing ``manifest.json`` names.
``manifest.json`` holds the SHA-256 of every file and of its own body; :meth:`Manifest.load`
checks the body, the group file and the plan digest rebuilt from it, and each part file is
checked when a worker reads it. It also holds, per partition, the SHA-256 of the source's
labels (every row's label multiset, in row order): :func:`write_manifest` refuses a
partition whose labels differ from the label pass's, and :meth:`Manifest.read_partition`
(so ``balance_partition`` and ``curate.ray.read``) one whose labels differ from the
manifest's.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from curate._atomic import atomic_write, atomic_write_text
from curate._format import jsonable
from curate._validation import InstanceOf, Interval, Options, validate_params
from curate.balance._draw import EpochState, member_rank
from curate.balance._plan import PlanStatus
from curate.engine._labels import LabelPass, Partition, _label_checksum, _partition_labels, _read
from curate.engine._plan import GroupPlan
from curate.engine._run import run_partitions
from curate.exceptions import CurateTypeError, CurateValueError

__all__ = ["Manifest", "write_manifest"]

FORMAT = "curate.partitioned-manifest"
#: Version of the folder layout; :meth:`Manifest.load` refuses others.
FORMAT_VERSION = 1


def _sha256(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _meta_checksum(meta: dict[str, Any]) -> str:
    body = {k: v for k, v in meta.items() if k != "meta_checksum"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _damaged(path: Any, what: str) -> CurateValueError:
    return CurateValueError(
        f"{str(path)!r} is damaged or was edited: {what}. Write the manifest again with "
        "curate.engine.write_manifest"
    )


def _write_parquet(path: Path, table: Any) -> str:
    import pyarrow.parquet as pq

    atomic_write(path, lambda tmp: pq.write_table(table, tmp))
    return _sha256(path)


def _changed(index: int, part: Partition, since: str) -> CurateValueError:
    return CurateValueError(
        f"partition {index} ({part.path}, row group {part.row_group}, rows "
        f"{part.start}-{part.stop}) no longer holds the labels {since}; the data changed "
        "since: run label_pass, fit_plan and write_manifest again"
    )


class _PartTask:
    """One partition -> its part file (row, group, rank [, key]); returns its name and hash."""

    def __init__(self, folder: str, prefix: str, column: str, count: str, ignore_index: int,
                 key: str | None, groups: tuple[np.ndarray, ...],
                 checksums: tuple[str, ...], offsets: list[np.ndarray]) -> None:
        self.folder, self.prefix, self.column, self.count, self.key = \
            folder, prefix, column, count, key
        self.ignore_index = ignore_index
        self.groups, self.checksums, self.offsets = groups, checksums, offsets

    def __call__(self, index: int, part: Partition) -> pd.DataFrame:
        import pyarrow as pa

        sig, _, checksum = _partition_labels(part, self.column, self.count, self.ignore_index)
        if checksum != self.checksums[index]:
            raise _changed(index, part, "the label pass read")
        group = self.groups[index][sig.group]
        rank = self.offsets[index][sig.group] + member_rank(sig.group, sig.n_groups)
        cols: dict[str, Any] = {
            "row": pa.array(np.arange(part.offset, part.offset + part.n_rows, dtype=np.int64)),
            "group": pa.array(group.astype(np.int64)),
            "rank": pa.array(rank.astype(np.int64)),
        }
        if self.key is not None:
            cols["key"] = _read(part, self.key)
        name = f"part-{self.prefix}-{index:05d}.parquet"
        digest = _write_parquet(Path(self.folder) / name, pa.table(cols))
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        return pd.DataFrame({"file": [name], "sha256": [digest], "rows": [part.n_rows],
                             "pid": [os.getpid()], "rss": [rss]})


@validate_params({
    "engine": [Options(("ray", "local"))],
    "num_workers": [Interval(int, 1, None)],
    "key": [InstanceOf((str,), "a column name (str)"), None],
})
def write_manifest(
    folder: str | os.PathLike[str],
    label_pass: LabelPass,
    plan: GroupPlan,
    *,
    key: str | None = None,
    engine: str = "ray",
    num_workers: int = 2,
) -> Manifest:
    """Write ``plan`` as a partitioned manifest: one part file per partition of the pass.

    Each worker reads its partition's label column again, checks that its labels are those
    the label pass read (the SHA-256 of every row's label multiset, in row order; a changed
    source is refused), recomputes its rows' local signatures and writes, per row, the
    global ``row``, its ``group`` and its member ``rank`` (partition offset + local rank),
    plus the ``key`` column when given. The driver writes the group-level plan and
    ``manifest.json`` (format: module docstring of :mod:`curate.engine._manifest` and
    docs/scale.md), which keeps each partition's label checksum:
    :meth:`Manifest.read_partition` checks the source against it.

    Parameters
    ----------
    folder : str or path-like
        Output folder (created).
    label_pass : LabelPass
        The pass the plan was fitted on (:func:`curate.engine.label_pass`).
    plan : GroupPlan
        From :func:`curate.engine.fit_plan` on ``label_pass``.
    key : str, default=None
        A column of the source (sample key) copied into every part file.
    engine : {"ray", "local"}, default="ray"
        Where the per-partition tasks run (as :func:`curate.engine.label_pass`).
    num_workers : int, default=2
        Concurrent tasks.

    Returns
    -------
    Manifest
        Loaded back and verified.

    Examples
    --------
    >>> import os, tempfile
    >>> import pyarrow as pa, pyarrow.parquet as pq
    >>> from curate.engine import label_pass, fit_plan
    >>> d = tempfile.mkdtemp()
    >>> pq.write_table(pa.table({"y": ["a"] * 6 + ["b"] * 2}), os.path.join(d, "l.parquet"))
    >>> lp = label_pass(os.path.join(d, "l.parquet"), column="y", engine="local",
    ...                 rows_per_partition=3)
    >>> m = write_manifest(os.path.join(d, "plan"), lp, fit_plan(lp), engine="local")
    >>> m.n_partitions, m.read_part(2).values.tolist()
    (3, [[6, 1, 0], [7, 1, 1]])
    """
    if not isinstance(label_pass, LabelPass):
        raise CurateTypeError(f"label_pass must be a curate.engine.LabelPass; got "
                              f"{type(label_pass).__name__}")
    if not isinstance(plan, GroupPlan):
        raise CurateTypeError(f"plan must be a curate.engine.GroupPlan (from fit_plan); got "
                              f"{type(plan).__name__}")
    if not (plan.n_groups == label_pass.n_signatures
            and np.array_equal(plan.sizes, label_pass.sizes)
            and np.array_equal(plan.first_row, label_pass.first_row)
            and list(plan.classes) == list(label_pass.classes)
            and plan.count == label_pass.count
            and plan.vectors.shape == label_pass.vectors.shape
            and (plan.vectors != label_pass.vectors).nnz == 0):
        raise CurateValueError(
            "plan was not fitted on this label pass (its groups differ); make it with "
            "curate.engine.fit_plan(label_pass)"
        )
    column = label_pass.details.get("column")
    ignore_index = label_pass.details.get("ignore_index")
    if not column or ignore_index is None \
            or len(label_pass.partition_checksums) != label_pass.n_partitions:
        raise CurateValueError("label_pass does not name its column and ignore_index, or "
                               "holds no per-partition checksums; make it with "
                               "curate.engine.label_pass")
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    prefix = plan.digest[:16]
    parts = list(label_pass.partitions)
    task = _PartTask(str(out), prefix, column, label_pass.count, ignore_index, key,
                     label_pass.partition_groups, label_pass.partition_checksums,
                     label_pass.member_offsets())
    done: dict[int, dict[str, Any]] = {}
    rss: dict[int, int] = {}
    for index, frame in run_partitions(task, parts, engine=engine, num_workers=num_workers):
        row = frame.iloc[0]
        done[index] = {"file": str(row["file"]), "sha256": str(row["sha256"]),
                       "rows": int(row["rows"]),
                       "labels_sha256": label_pass.partition_checksums[index]}
        rss[int(row["pid"])] = max(rss.get(int(row["pid"]), 0), int(row["rss"]))
    groups_name = f"groups-{prefix}.parquet"
    groups_sha = _write_parquet(out / groups_name, _groups_table(plan))
    counts_name = f"counts-{prefix}.parquet"
    counts_sha = _write_parquet(out / counts_name, _counts_table(
        label_pass.partition_groups, label_pass.partition_sizes, task.offsets))
    meta = jsonable({
        "format": FORMAT, "format_version": FORMAT_VERSION, "digest": plan.digest,
        "column": column, "key": key, "count": plan.count, "ignore_index": int(ignore_index),
        "n_rows": plan.n_rows,
        "plan": {
            "classes": list(plan.classes), "seed": int(plan.seed), "window": plan.window,
            "balanced_classes": list(plan.balanced_classes), "status": plan.status.value,
            "message": plan.message, "objective": plan.objective,
            "lower_bound": plan.lower_bound, "gap": plan.gap,
            "solve_seconds": None, "options": plan.options,  # wall clock: not saved, so
        },                                                   # equal inputs give equal files
        "groups": {"file": groups_name, "sha256": groups_sha},
        "counts": {"file": counts_name, "sha256": counts_sha},
        "partitions": [{"path": p.path, "row_group": p.row_group, "start": p.start,
                        "stop": p.stop, "offset": p.offset, **done[i]}
                       for i, p in enumerate(parts)],
    })
    meta["meta_checksum"] = _meta_checksum(meta)
    atomic_write_text(out / "manifest.json", json.dumps(meta, indent=1))
    manifest = Manifest.load(out)
    manifest.details["worker_peak_rss"] = rss
    return manifest


def _groups_table(plan: GroupPlan) -> Any:
    import pyarrow as pa

    m = plan.vectors
    offsets = pa.array(m.indptr.astype(np.int64), pa.int64())
    return pa.table({
        "size": pa.array(plan.sizes), "first_row": pa.array(plan.first_row),
        "total": pa.array(plan.group_total, pa.float64()),
        "label_index": pa.LargeListArray.from_arrays(offsets, pa.array(m.indices.astype(np.int64))),
        "label_count": pa.LargeListArray.from_arrays(offsets, pa.array(m.data.astype(np.int64))),
    })


def _counts_table(groups: tuple[np.ndarray, ...], sizes: tuple[np.ndarray, ...],
                  offsets: list[np.ndarray]) -> Any:
    """Per partition and each group in it: rows of the group there and the member rank of
    the first of them (the partition's ranks of that group are ``offset .. offset + size``)."""
    import pyarrow as pa

    lengths = [len(g) for g in groups]

    def cat(arrs: Any) -> np.ndarray:
        if not len(arrs):
            return np.zeros(0, dtype=np.int64)
        return np.concatenate([np.asarray(a, dtype=np.int64) for a in arrs])

    return pa.table({
        "partition": pa.array(np.repeat(np.arange(len(groups), dtype=np.int64), lengths)),
        "group": pa.array(cat(groups)), "offset": pa.array(cat(offsets)),
        "size": pa.array(cat(sizes)),
    })


@dataclass(frozen=True, eq=False)
class Manifest:
    """A loaded, verified partitioned manifest (see :func:`write_manifest`).

    Attributes
    ----------
    folder : pathlib.Path
        Its folder.
    plan : GroupPlan
        The group-level plan (rebuilt from ``groups-*.parquet``, digest verified).
    partitions : tuple of Partition
        The source partitions, in row order.
    files, checksums : tuple of str
        Part file name and SHA-256 per partition.
    column : str
        The label column.
    key : str or None
        The key column copied into the part files.
    details : dict
        ``worker_peak_rss`` after :func:`write_manifest`.
    counts : tuple of str or None
        File name and SHA-256 of ``counts-D.parquet`` (:meth:`partition_counts`); ``None``
        for a manifest written before that file existed.
    label_checksums : tuple of str or None
        Per partition: SHA-256 of the source labels the manifest was written from (every
        row's label multiset, in row order), checked by :meth:`read_partition`; ``None``
        for a manifest written before they were stored.

    Examples
    --------
    >>> import os, tempfile
    >>> import pyarrow as pa, pyarrow.parquet as pq
    >>> from curate.engine import label_pass, fit_plan, write_manifest
    >>> d = tempfile.mkdtemp()
    >>> pq.write_table(pa.table({"y": ["a"] * 3 + ["b"]}), os.path.join(d, "l.parquet"))
    >>> lp = label_pass(os.path.join(d, "l.parquet"), column="y", engine="local")
    >>> _ = write_manifest(os.path.join(d, "m"), lp, fit_plan(lp), engine="local")
    >>> m = Manifest.load(os.path.join(d, "m"))
    >>> m  # doctest: +ELLIPSIS
    Manifest(folder='...', n_partitions=1, n_rows=4, n_groups=2)
    >>> m.draw_partition(0, epoch=0)["multiplicity"].tolist()
    [1, 1, 0, 2]
    """

    folder: Path
    plan: GroupPlan
    partitions: tuple[Partition, ...]
    files: tuple[str, ...]
    checksums: tuple[str, ...]
    column: str
    key: str | None
    details: dict[str, Any]
    counts: tuple[str, str] | None = None
    label_checksums: tuple[str, ...] | None = None

    @property
    def n_partitions(self) -> int:
        """Number of partitions (part files)."""
        return len(self.partitions)

    def __repr__(self) -> str:
        return (f"Manifest(folder={str(self.folder)!r}, n_partitions={self.n_partitions}, "
                f"n_rows={self.plan.n_rows}, n_groups={self.plan.n_groups})")

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> Manifest:
        """Read ``manifest.json`` and the group-level plan, verifying both.

        Parameters
        ----------
        folder : str or path-like
            A folder written by :func:`write_manifest`.

        Returns
        -------
        Manifest

        Raises
        ------
        ValueError
            When the metadata, the group file or the plan digest do not match their
            checksums, or the format version differs.

        Examples
        --------
        >>> Manifest.load("/nonexistent")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        FileNotFoundError: no partitioned manifest at '/nonexistent/manifest.json'; ...
        """
        import pyarrow.parquet as pq
        import scipy.sparse as sp

        root = Path(folder)
        path = root / "manifest.json"
        if not path.is_file():
            raise FileNotFoundError(f"no partitioned manifest at {str(path)!r}; write one "
                                    "with curate.engine.write_manifest")
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise _damaged(path, "it is not valid JSON") from exc
        if not isinstance(meta, dict) or meta.get("meta_checksum") != _meta_checksum(meta):
            raise _damaged(path, "its body does not match its checksum")
        if meta.get("format") != FORMAT or meta.get("format_version") != FORMAT_VERSION:
            raise CurateValueError(
                f"{str(path)!r} is format {meta.get('format')!r} version "
                f"{meta.get('format_version')!r}; this curate reads {FORMAT!r} version "
                f"{FORMAT_VERSION}. Write it again with curate.engine.write_manifest"
            )
        groups = root / meta["groups"]["file"]
        if not groups.is_file() or _sha256(groups) != meta["groups"]["sha256"]:
            raise _damaged(groups, "the group file is missing or does not match its checksum")
        g = pq.read_table(groups)
        idx = g.column("label_index").combine_chunks()
        cnt = g.column("label_count").combine_chunks()
        p = meta["plan"]
        vectors = sp.csr_matrix(
            (cnt.values.to_numpy(), idx.values.to_numpy(), idx.offsets.to_numpy()),
            shape=(g.num_rows, len(p["classes"])))
        plan = GroupPlan(
            p["classes"], vectors, g.column("size").to_numpy(), g.column("first_row").to_numpy(),
            g.column("total").to_numpy(), meta["count"], p["seed"], p["window"],
            p["balanced_classes"], status=PlanStatus(p["status"]), message=p["message"],
            objective=p["objective"], lower_bound=p["lower_bound"], gap=p["gap"],
            solve_seconds=p["solve_seconds"], options=p["options"])
        if plan.digest != meta["digest"]:
            raise _damaged(groups, "the plan rebuilt from it does not match the stored digest")
        parts = meta["partitions"]
        return cls(root, plan,
                   tuple(Partition(q["path"], q["row_group"], q["start"], q["stop"], q["offset"])
                         for q in parts),
                   tuple(q["file"] for q in parts), tuple(q["sha256"] for q in parts),
                   meta["column"], meta["key"], {},
                   (meta["counts"]["file"], meta["counts"]["sha256"]) if "counts" in meta
                   else None,
                   tuple(q["labels_sha256"] for q in parts)
                   if all("labels_sha256" in q for q in parts) else None)

    def _check_index(self, index: int) -> int:
        if isinstance(index, bool) or not isinstance(index, int | np.integer):
            raise CurateTypeError(f"partition index must be an int; got {index!r}")
        if not 0 <= int(index) < self.n_partitions:
            raise CurateValueError(f"partition index {index} is out of range; the manifest has "
                                   f"{self.n_partitions} partitions (0 .. {self.n_partitions - 1})")
        return int(index)

    def read_part(self, index: int) -> pd.DataFrame:
        """Part file ``index`` (``row``, ``group``, ``rank`` [, ``key``]), checksum verified.

        Parameters
        ----------
        index : int
            Partition index (``0 .. n_partitions - 1``).

        Returns
        -------
        pandas.DataFrame

        Examples
        --------
        >>> import os, tempfile
        >>> import pyarrow as pa, pyarrow.parquet as pq
        >>> from curate.engine import label_pass, fit_plan, write_manifest
        >>> d = tempfile.mkdtemp()
        >>> pq.write_table(pa.table({"y": ["a", "b", "a"]}), os.path.join(d, "l.parquet"))
        >>> lp = label_pass(os.path.join(d, "l.parquet"), column="y", engine="local")
        >>> m = write_manifest(os.path.join(d, "m"), lp, fit_plan(lp), engine="local")
        >>> m.read_part(0).values.tolist()
        [[0, 0, 0], [1, 1, 0], [2, 0, 1]]
        """
        import pyarrow.parquet as pq

        i = self._check_index(index)
        path = self.folder / self.files[i]
        if not path.is_file() or _sha256(path) != self.checksums[i]:
            raise _damaged(path, "the part file is missing or does not match its checksum")
        frame: pd.DataFrame = pq.read_table(path).to_pandas()
        if len(frame) != self.partitions[i].n_rows:  # pragma: no cover - checksum caught it
            raise _damaged(path, "its row count differs from its partition")
        return frame

    def partition_counts(self) -> pd.DataFrame:
        """Rows of every group in every partition, and the member rank of the first of them.

        Small (one row per distinct label vector of each partition): what a worker needs to
        know how many copies every partition gets in an epoch without reading its rows
        (:class:`curate.engine.ManifestSampler` sizes its shards from it).

        Returns
        -------
        pandas.DataFrame
            ``partition``, ``group``, ``offset`` (member rank of the group's first row in
            the partition), ``size`` (its rows there); checksum verified.

        Raises
        ------
        ValueError
            When the manifest was written before this file existed, or the file does not
            match its checksum.

        Examples
        --------
        >>> import os, tempfile
        >>> import pyarrow as pa, pyarrow.parquet as pq
        >>> from curate.engine import label_pass, fit_plan, write_manifest
        >>> d = tempfile.mkdtemp()
        >>> pq.write_table(pa.table({"y": ["a", "b", "a", "a", "b"]}), os.path.join(d, "l.p"))
        >>> lp = label_pass(os.path.join(d, "l.p"), column="y", engine="local",
        ...                 rows_per_partition=2)
        >>> m = write_manifest(os.path.join(d, "m"), lp, fit_plan(lp), engine="local")
        >>> m.partition_counts().values.tolist()
        [[0, 0, 0, 1], [0, 1, 0, 1], [1, 0, 1, 2], [2, 1, 1, 1]]
        """
        import pyarrow.parquet as pq

        if self.counts is None:
            raise CurateValueError(
                f"the manifest at {str(self.folder)!r} has no per-partition counts (written "
                "by an older curate); write it again with curate.engine.write_manifest"
            )
        path = self.folder / self.counts[0]
        if not path.is_file() or _sha256(path) != self.counts[1]:
            raise _damaged(path, "the counts file is missing or does not match its checksum")
        frame: pd.DataFrame = pq.read_table(path).to_pandas()
        return frame

    def draw_partition(self, index: int, epoch: int = 0,
                       state: EpochState | None = None) -> pd.DataFrame:
        """Copies in ``epoch`` of the rows of partition ``index``: ``row``, ``multiplicity``.

        Equal, row for row, to the single-machine ``plan.draw(epoch)`` on those rows.

        Parameters
        ----------
        index : int
            Partition index (``0 .. n_partitions - 1``).
        epoch : int, default=0
            Non-negative epoch.
        state : EpochState, default=None
            ``plan.epoch_state(epoch)``, made once and passed to every partition.

        Returns
        -------
        pandas.DataFrame
            ``row`` and ``multiplicity`` (and ``key`` first when the manifest has one).

        Examples
        --------
        >>> import os, tempfile
        >>> import pyarrow as pa, pyarrow.parquet as pq
        >>> from curate.engine import label_pass, fit_plan, write_manifest
        >>> d = tempfile.mkdtemp()
        >>> pq.write_table(pa.table({"y": ["a"] * 6 + ["b"] * 2}), os.path.join(d, "l.parquet"))
        >>> lp = label_pass(os.path.join(d, "l.parquet"), column="y", engine="local",
        ...                 rows_per_partition=4)
        >>> m = write_manifest(os.path.join(d, "m"), lp, fit_plan(lp), engine="local")
        >>> [m.draw_partition(i, 1)["multiplicity"].tolist() for i in range(2)]
        [[1, 1, 0, 0], [1, 1, 2, 2]]
        """
        part = self.read_part(index)
        st = self.plan.epoch_state(epoch) if state is None else state
        out = pd.DataFrame({"row": part["row"].to_numpy(),
                            "multiplicity": st.draw(part["group"].to_numpy(),
                                                    part["rank"].to_numpy())})
        if self.key is not None:
            out.insert(0, "key", part["key"])
        return out

    def check_source(self, index: int) -> None:
        """Refuse a source partition whose labels are not those the manifest was written from.

        Reads the partition's label column and compares the SHA-256 of its labels (every
        row's label multiset, in row order) with the one stored in ``manifest.json``: the
        part file's groups and ranks, and so every draw, hold only for those rows.

        Parameters
        ----------
        index : int
            Partition index (``0 .. n_partitions - 1``).

        Raises
        ------
        ValueError
            When the labels differ (the source changed: write the manifest again), or the
            manifest was written before the checksums were stored.

        Examples
        --------
        >>> import os, tempfile
        >>> import pyarrow as pa, pyarrow.parquet as pq
        >>> from curate.engine import label_pass, fit_plan, write_manifest
        >>> d = tempfile.mkdtemp()
        >>> src = os.path.join(d, "l.parquet")
        >>> pq.write_table(pa.table({"y": ["a", "a", "b"]}), src)
        >>> lp = label_pass(src, column="y", engine="local")
        >>> m = write_manifest(os.path.join(d, "m"), lp, fit_plan(lp), engine="local")
        >>> m.check_source(0)
        >>> pq.write_table(pa.table({"y": ["b", "a", "a"]}), src)
        >>> m.check_source(0)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        curate.exceptions.CurateValueError: partition 0 (...) no longer holds the labels ...
        """
        i = self._check_index(index)
        if self.label_checksums is None:
            raise CurateValueError(
                f"the manifest at {str(self.folder)!r} holds no checksums of its source's "
                "labels (written by an older curate), so a changed source cannot be told "
                "apart; write it again with curate.engine.write_manifest"
            )
        part = self.partitions[i]
        if _label_checksum(part, self.column) != self.label_checksums[i]:
            raise _changed(i, part, "the manifest was written from")

    def read_partition(self, index: int, columns: list[str] | None = None) -> Any:
        """Source rows of partition ``index`` (``columns``; ``None``: all) with the part
        file's ``row``, ``group`` and ``rank`` appended, as a ``pyarrow.Table``.

        The partition's labels are checked first (:meth:`check_source`): a source that
        changed since the manifest was written is refused, not balanced with another
        dataset's plan.

        Parameters
        ----------
        index : int
            Partition index (``0 .. n_partitions - 1``).
        columns : list of str, default=None
            Source columns to read (``None``: all).

        Returns
        -------
        pyarrow.Table

        Examples
        --------
        >>> import os, tempfile
        >>> import pyarrow as pa, pyarrow.parquet as pq
        >>> from curate.engine import label_pass, fit_plan, write_manifest
        >>> d = tempfile.mkdtemp()
        >>> pq.write_table(pa.table({"y": ["a", "b"], "x": [5, 6]}), os.path.join(d, "l.parquet"))
        >>> lp = label_pass(os.path.join(d, "l.parquet"), column="y", engine="local")
        >>> m = write_manifest(os.path.join(d, "m"), lp, fit_plan(lp), engine="local")
        >>> m.read_partition(0, ["x"]).column_names
        ['x', 'row', 'group', 'rank']
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        i = self._check_index(index)
        self.check_source(i)
        p = self.partitions[i]
        source = pq.ParquetFile(p.path).read_row_group(p.row_group, columns=columns)
        source = source.slice(p.start, p.n_rows)
        part = self.read_part(i)
        for name in ("row", "group", "rank"):
            if name in source.column_names:
                raise CurateValueError(f"the source already has a column {name!r}; pass "
                                       "columns= without it")
            source = source.append_column(name, pa.array(part[name].to_numpy()))
        return source

    def balance_partition(self, index: int, epoch: int = 0, columns: list[str] | None = None,
                          state: EpochState | None = None) -> Any:
        """Rows of partition ``index`` repeated/dropped per ``epoch`` (local engine of
        :func:`curate.ray.balance`), in row order, as a ``pyarrow.Table``.

        Parameters
        ----------
        index : int
            Partition index (``0 .. n_partitions - 1``).
        epoch : int, default=0
            Non-negative epoch.
        columns : list of str, default=None
            Source columns to read (``None``: all).
        state : EpochState, default=None
            ``plan.epoch_state(epoch)``, made once and passed to every partition.

        Returns
        -------
        pyarrow.Table

        Examples
        --------
        >>> import os, tempfile
        >>> import pyarrow as pa, pyarrow.parquet as pq
        >>> from curate.engine import label_pass, fit_plan, write_manifest
        >>> d = tempfile.mkdtemp()
        >>> pq.write_table(pa.table({"y": ["a"] * 3 + ["b"]}), os.path.join(d, "l.parquet"))
        >>> lp = label_pass(os.path.join(d, "l.parquet"), column="y", engine="local")
        >>> m = write_manifest(os.path.join(d, "m"), lp, fit_plan(lp), engine="local")
        >>> m.balance_partition(0, 0, ["y"]).column("y").to_pylist()
        ['a', 'a', 'b', 'b']
        """
        table = self.read_partition(index, columns)
        st = self.plan.epoch_state(epoch) if state is None else state
        return repeat_rows(table, st.draw(table.column("group").to_numpy(),
                                          table.column("rank").to_numpy()))


def repeat_rows(table: Any, multiplicity: np.ndarray) -> Any:
    """Each row of a ``pyarrow.Table`` repeated ``multiplicity`` times, in row order.

    Parameters
    ----------
    table : pyarrow.Table
        The rows.
    multiplicity : ndarray of int
        Copies of every row (0: dropped).

    Returns
    -------
    pyarrow.Table

    Examples
    --------
    >>> import numpy as np, pyarrow as pa
    >>> repeat_rows(pa.table({"x": [1, 2, 3]}), np.array([2, 0, 1])).column("x").to_pylist()
    [1, 1, 3]
    """
    m = np.asarray(multiplicity, dtype=np.int64)
    return table.take(np.repeat(np.arange(table.num_rows, dtype=np.int64), m))
