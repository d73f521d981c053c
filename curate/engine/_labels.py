"""The label pass as pure functions of one partition, and their reduction.

A parquet dataset is cut into :class:`Partition` s (row ranges inside row groups, found from
the footer metadata alone, so every partition knows the global index of its first row).
:func:`update_partition` reads one partition's label column and returns its distinct label
signatures with their sizes and first global rows; :func:`reduce_partials` adds those up.
Summing partition outputs equals one pass over the whole column, whatever the partitioning:
a signature's size is a sum and its first row a minimum.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from curate._validation import check_int
from curate.exceptions import CurateValueError
from curate.labels._arrow import integral_values
from curate.labels._base import is_ignored
from curate.labels._constructors import refuse_multi_hot

__all__ = ["LabelPass", "Partition", "partitions", "reduce_partials", "update_partition"]


def _sort_key(value: Any) -> tuple[int, Any]:
    """LabelTable's class order: numbers first (numerically), then strings (lexically)."""
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return (0, int(value))
    return (1, str(value))


@dataclass(frozen=True)
class Partition:
    """Rows ``[start, stop)`` of row group ``row_group`` of one parquet file.

    Attributes
    ----------
    path : str
        The parquet file.
    row_group : int
        Row group inside the file.
    start, stop : int
        Rows ``[start, stop)`` of the row group.
    offset : int
        Global index of row ``start`` (over the files in the order of
        :func:`partitions`: the row of ``curate.io.read_table``'s table).

    Examples
    --------
    >>> Partition("a.parquet", 0, 0, 10, 0).n_rows
    10
    """

    path: str
    row_group: int
    start: int
    stop: int
    offset: int

    @property
    def n_rows(self) -> int:
        """Rows in the partition."""
        return self.stop - self.start


def _files(path: str | os.PathLike[str]) -> list[str]:
    """The parquet files of ``path`` as the single-machine readers see them.

    ``pyarrow.dataset.dataset(path, format="parquet").files``, in that order: what
    :func:`curate.io.read_table` and :func:`curate.count_labels` read (files and folders
    whose names start with ``_`` or ``.`` skipped, any suffix read), so global row ``i`` is
    row ``i`` of their table.
    """
    import pyarrow as pa
    import pyarrow.dataset as ds

    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"no parquet file or folder at {str(p)!r}")
    try:
        files = list(ds.dataset(p, format="parquet").files)
    except (pa.ArrowException, OSError) as exc:
        raise CurateValueError(f"{p.name} is not a readable parquet dataset ({exc})") from exc
    if not files:
        raise CurateValueError(f"{str(p)!r} holds no parquet files; pass a parquet file or a "
                               "folder of them")
    return files


def _cut(files: list[str], rows_per_partition: int | None) -> list[Partition]:
    """Partitions of ``files`` (in that order), from their footers."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out: list[Partition] = []
    offset = 0
    for f in files:
        try:
            meta = pq.ParquetFile(f).metadata
        except (pa.ArrowException, OSError) as exc:
            raise CurateValueError(f"{f!r} is not a readable parquet file ({exc})") from exc
        for g in range(meta.num_row_groups):
            n = meta.row_group(g).num_rows
            step = n if rows_per_partition is None else rows_per_partition
            for start in range(0, n, max(step, 1)):
                stop = min(start + step, n)
                out.append(Partition(f, g, start, stop, offset + start))
            offset += n
    return out


def partitions(path: str | os.PathLike[str], *,
               rows_per_partition: int | None = None) -> list[Partition]:
    """Cut a parquet file or folder into partitions, from footer metadata only.

    Files are taken as the single-machine readers take them (``pyarrow.dataset`` discovery:
    its order, names starting with ``_`` or ``.`` skipped); each row group is one partition,
    or several of at most ``rows_per_partition`` rows.

    Parameters
    ----------
    path : str or path-like
        A parquet file, or a folder of parquet files (a pyarrow dataset).
    rows_per_partition : int, default=None
        Split row groups larger than this; ``None`` keeps whole row groups.

    Returns
    -------
    list of Partition

    Examples
    --------
    >>> import os, tempfile
    >>> import pyarrow as pa, pyarrow.parquet as pq
    >>> p = os.path.join(tempfile.mkdtemp(), "l.parquet")
    >>> pq.write_table(pa.table({"y": list("abcde")}), p)
    >>> [(q.start, q.stop, q.offset) for q in partitions(p, rows_per_partition=2)]
    [(0, 2, 0), (2, 4, 2), (4, 5, 4)]
    """
    check_int("rows_per_partition", rows_per_partition, "partitions", low=1, none_ok=True)
    return _cut(_files(path), rows_per_partition)


def _read(part: Partition, column: str) -> Any:
    """The label column of one partition; strings read dictionary-encoded."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pq.read_schema(part.path)
    if column not in schema.names:
        raise CurateValueError(
            f"column {column!r} is not in {Path(part.path).name} (columns: {schema.names}); "
            "pass one of them"
        )
    t, leaf_path = schema.field(column).type, column
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        t, leaf_path = t.value_type, f"{column}.list.{t.value_field.name}"
    dict_cols = [leaf_path] if pa.types.is_string(t) or pa.types.is_large_string(t) else []
    pf = pq.ParquetFile(part.path, read_dictionary=dict_cols)
    meta = pf.metadata
    if part.row_group >= meta.num_row_groups \
            or meta.row_group(part.row_group).num_rows < part.stop:
        raise CurateValueError(
            f"{Path(part.path).name} no longer holds rows {part.start}-{part.stop} of row group "
            f"{part.row_group}; the source changed since the label pass: run label_pass, "
            "fit_plan and write_manifest again"
        )
    table = pf.read_row_group(part.row_group, columns=[column])
    return table.column(0).slice(part.start, part.n_rows).combine_chunks()


def _local_matrix(values: Any, n_rows: int, field: str = "the label column",
                  offset: int = 0) -> tuple[sp.csr_matrix, list[Any]]:
    """Rows × local classes instance-count matrix of one partition, and the local class values.

    Integral floats become ints (``2.0`` is class ``2``, named ``'2'``), as
    :class:`~curate.LabelTable` reads them; a null, NaN or non-integral float label raises,
    naming ``field`` and the global row (``offset`` + row in the partition).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_list(values.type) or pa.types.is_large_list(values.type):
        rows = pc.list_parent_indices(values).to_numpy(zero_copy_only=False)
        flat = pc.list_flatten(values)
    else:
        rows, flat = np.arange(n_rows), values
    if flat.null_count:
        j = int(np.flatnonzero(flat.is_null().to_numpy(zero_copy_only=False))[0])
        raise CurateValueError(
            f"{field} row {offset + int(rows[j])} holds a missing label (null/NaN); drop it or "
            "give it a class name"
        )
    flat = integral_values(flat, lambda j: f"{field} row {offset + int(rows[j])}")
    encoded = flat if pa.types.is_dictionary(flat.type) else pc.dictionary_encode(flat)
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    names = encoded.dictionary.to_pylist()
    m = sp.csr_matrix((np.ones(len(codes), dtype=np.int64), (rows, codes)),
                      shape=(n_rows, len(names)))
    m.sum_duplicates()
    return m, names


def _group_keys(sig: Any, names: list[Any]) -> list[str]:
    """:func:`signature_key` of every group of ``sig`` (its vectors over columns ``names``)."""
    vec = sig.vectors
    return [
        signature_key([names[j] for j in vec.indices[vec.indptr[g]: vec.indptr[g + 1]]],
                      vec.data[vec.indptr[g]: vec.indptr[g + 1]].tolist())
        for g in range(sig.n_groups)
    ]


def _checksum(sig: Any, names: list[Any]) -> str:
    """SHA-256 of a partition's labels: every row's label multiset, in row order.

    Hashes the distinct vectors with their columns renumbered in sorted name order (so the
    order in which the file happens to store the classes does not matter) and every row's
    group; arrays, not one Python string per group (that doubled the label pass's time).
    """
    import scipy.sparse as sp

    plain = [v.item() if hasattr(v, "item") else v for v in names]
    order = sorted(range(len(plain)), key=lambda j: (isinstance(plain[j], str), plain[j]))
    rank = np.empty(len(plain), dtype=np.int64)
    rank[order] = np.arange(len(plain))
    vec = sig.vectors
    m = sp.csr_matrix((vec.data.copy(), rank[vec.indices], vec.indptr.copy()), shape=vec.shape)
    m.sort_indices()
    h = hashlib.sha256(json.dumps([plain[j] for j in order]).encode())
    for a in (m.indptr, m.indices, m.data, sig.group):
        h.update(np.ascontiguousarray(a, dtype=np.int64).tobytes())
    return h.hexdigest()


def _partition_labels(part: Partition, column: str, count: str = "instances",
                      ignore_index: int | None = -100) -> tuple[Any, list[Any], str]:
    """Signatures of a partition's label vectors (``ignore_index`` dropped, presence with
    ``count="samples"``), their column names, and the checksum of its labels as stored
    (:func:`_label_checksum`)."""
    from curate.balance._formulation import signatures

    field = f"{Path(part.path).name}[{column!r}]"
    values = _read(part, column)
    refuse_multi_hot(values, column, "label_pass")  # as count_labels: 0/1 rows are no ids
    m, names = _local_matrix(values, part.n_rows, field, part.offset)
    raw = signatures(m)
    checksum = _checksum(raw, names)
    keep = [not is_ignored(v, ignore_index) for v in names]
    if all(keep) and count == "instances":
        return raw, names, checksum
    m = m[:, np.flatnonzero(keep)] if not all(keep) else m.copy()
    names = [v for v, k in zip(names, keep, strict=True) if k]
    if count == "samples":
        m.data[:] = 1
    return signatures(m), names, checksum


def _label_checksum(part: Partition, column: str) -> str:
    """SHA-256 of the labels of one partition: the label multiset of every row, in row order.

    Independent of how the column is stored (dictionary or not, chunks, the order of labels
    inside a row); integral floats count as integers. The label pass records it per
    partition, the manifest stores it, and both check the source against it.

    Parameters
    ----------
    part : Partition
        The rows to read.
    column : str
        Label column.

    Returns
    -------
    str
        64 hex digits.

    Examples
    --------
    >>> import os, tempfile
    >>> import pyarrow as pa, pyarrow.parquet as pq
    >>> d = tempfile.mkdtemp()
    >>> pq.write_table(pa.table({"y": [["a", "b"], []]}), os.path.join(d, "1.parquet"))
    >>> pq.write_table(pa.table({"y": [["b", "a"], []]}), os.path.join(d, "2.parquet"))
    >>> one, two = (_label_checksum(partitions(os.path.join(d, f))[0], "y")
    ...             for f in ("1.parquet", "2.parquet"))
    >>> one == two, len(one)
    (True, 64)
    """
    return _partition_labels(part, column, ignore_index=None)[2]


def signature_key(labels: list[Any], counts: list[int]) -> str:
    """Canonical text of one label vector: ``[[label, count], ...]`` sorted by label.

    Parameters
    ----------
    labels : list
        Label values (str or int) present in the vector.
    counts : list of int
        Their counts, in the same order.

    Returns
    -------
    str

    Examples
    --------
    >>> signature_key(["dog", "cat"], [1, 2])
    '[["cat", 2], ["dog", 1]]'
    """
    pairs = sorted(zip(labels, counts, strict=True), key=lambda p: _sort_key(p[0]))
    return json.dumps([[lab, int(c)] for lab, c in pairs])


def update_partition(part: Partition, column: str, count: str = "instances",
                     ignore_index: int = -100) -> pd.DataFrame:
    """Distinct label signatures of one partition: ``key``, ``size``, ``first_row``; pure.

    The frame also carries ``checksum`` (SHA-256 of the partition's labels as stored: every
    row's label multiset in row order, before ``ignore_index`` and ``count`` apply; on the
    first row, empty on the others), and ``pid`` and ``rss`` (peak resident memory, bytes)
    of the process that computed it, for the engine's per-worker report.

    Parameters
    ----------
    part : Partition
        The rows to read.
    column : str
        Label column: scalars or lists of labels.
    count : {"instances", "samples"}, default="instances"
        Count every instance, or a class once per row.
    ignore_index : int, default=-100
        Integer label that is never a class (Hugging Face padding), dropped as
        :func:`curate.io.read_table` drops it: its rows keep their other labels.

    Returns
    -------
    pandas.DataFrame
        One row per distinct label vector of the partition, in first-occurrence order.

    Examples
    --------
    >>> import os, tempfile
    >>> import pyarrow as pa, pyarrow.parquet as pq
    >>> p = os.path.join(tempfile.mkdtemp(), "l.parquet")
    >>> pq.write_table(pa.table({"y": [["a"], ["b", "a"], ["a"]]}), p)
    >>> update_partition(partitions(p)[0], "y")[["key", "size", "first_row"]].values.tolist()
    [['[["a", 1]]', 2, 0], ['[["a", 1], ["b", 1]]', 1, 1]]
    """
    sig, names, checksum = _partition_labels(part, column, count, ignore_index)
    _, first = np.unique(sig.group, return_index=True)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
    return pd.DataFrame({
        "key": pd.Series(_group_keys(sig, names), dtype=object),
        "size": sig.sizes.astype(np.int64),
        "first_row": (first + part.offset).astype(np.int64),
        "checksum": pd.Series(([checksum] + [""] * (sig.n_groups - 1))[:sig.n_groups],
                              dtype=object),
        "pid": np.full(sig.n_groups, os.getpid(), dtype=np.int64),
        "rss": np.full(sig.n_groups, rss, dtype=np.int64),
    })


@dataclass(frozen=True)
class LabelPass:
    """Per-class counts and label-signature totals of a dataset, from a partitioned pass.

    Attributes
    ----------
    classes : list of str
        Class names in :class:`~curate.LabelTable` order (numbers numerically, then strings).
    counts : pandas.Series
        Instances (or samples, with ``count="samples"``) per class; equals
        :func:`curate.count_labels` for instance counts.
    vectors : scipy.sparse.csr_matrix of shape (n_signatures, n_classes)
        The distinct label vectors, ordered by their first row.
    sizes : ndarray of int64, shape (n_signatures,)
        Rows holding each vector.
    first_row : ndarray of int64, shape (n_signatures,)
        Global index of the first row holding each vector.
    n_rows, n_partitions : int
        Rows read and partitions they were cut into.
    count : {"instances", "samples"}
        What an entry of ``vectors`` counts.
    details : dict
        Engine, workers, seconds, and ``worker_peak_rss`` (bytes, per worker process).
    partitions : tuple of Partition
        The partitions, in row order (empty when built by :func:`reduce_partials` alone).
    partition_groups, partition_sizes : tuple of ndarray
        Per partition: the signature (group) id of each of its distinct label vectors, in
        the order :func:`update_partition` lists them (first occurrence in the partition),
        and how many of its rows hold each. What :meth:`member_offsets` and the
        partitioned manifest (:func:`curate.engine.write_manifest`) are built from.
    partition_checksums : tuple of str
        Per partition: SHA-256 of its labels as the pass read them (every row's label
        multiset, in row order); :func:`~curate.engine.write_manifest` refuses a partition
        that no longer matches, and the manifest stores them for its readers to check.

    Examples
    --------
    >>> import scipy.sparse as sp, numpy as np, pandas as pd
    >>> lp = LabelPass(["a"], pd.Series({"a": 2}), sp.csr_matrix([[1]]), np.array([2]),
    ...                np.array([0]), 2, 1, "instances")
    >>> lp.n_signatures
    1
    """

    classes: list[str]
    counts: pd.Series
    vectors: sp.csr_matrix
    sizes: np.ndarray
    first_row: np.ndarray
    n_rows: int
    n_partitions: int
    count: str
    details: dict[str, Any] = field(default_factory=dict)
    partitions: tuple[Partition, ...] = ()
    partition_groups: tuple[np.ndarray, ...] = ()
    partition_sizes: tuple[np.ndarray, ...] = ()
    partition_checksums: tuple[str, ...] = ()

    @property
    def n_signatures(self) -> int:
        """Number of distinct label vectors."""
        return len(self.sizes)

    def member_offsets(self) -> list[np.ndarray]:
        """Per partition, members of each of its groups in all earlier partitions.

        A row's member rank (its position among all rows of its signature, in row order)
        is this offset plus its rank inside its own partition: prefix sums of the
        per-partition counts, no per-row array.

        Returns
        -------
        list of ndarray of int64
            Aligned with :attr:`partition_groups`.

        Examples
        --------
        >>> import os, tempfile
        >>> import pyarrow as pa, pyarrow.parquet as pq
        >>> p = os.path.join(tempfile.mkdtemp(), "l.parquet")
        >>> pq.write_table(pa.table({"y": ["a", "b", "a", "a", "b"]}), p)
        >>> from curate.engine import label_pass
        >>> lp = label_pass(p, column="y", engine="local", rows_per_partition=2)
        >>> [g.tolist() for g in lp.partition_groups], [o.tolist() for o in lp.member_offsets()]
        ([[0, 1], [0], [1]], [[0, 0], [1], [1]])
        """
        if len(self.partition_groups) != self.n_partitions:
            raise CurateValueError(
                "this LabelPass holds no per-partition counts (it was built by "
                "reduce_partials alone); run curate.engine.label_pass to get them"
            )
        running = np.zeros(self.n_signatures, dtype=np.int64)
        out = []
        for ids, sizes in zip(self.partition_groups, self.partition_sizes, strict=True):
            out.append(running[ids].copy())
            running[ids] += sizes
        return out


class _Reducer:
    """Merge per-partition partials as they arrive: keys interned once, counts kept per
    partition as small int arrays (the driver holds distinct keys, never rows)."""

    def __init__(self, n_partitions: int) -> None:
        self.ids: dict[str, int] = {}
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray] | None] = \
            [None] * n_partitions
        self.checksums: list[str] = [""] * n_partitions
        self.rss: dict[int, int] = {}

    def add(self, index: int, frame: pd.DataFrame) -> None:
        """Take the partial of partition ``index`` (rows in :func:`update_partition` order)."""
        if self.parts[index] is not None:
            raise CurateValueError(  # pragma: no cover - an engine delivering a task twice
                f"partition {index} was reported twice; a task ran twice")
        intern = self.ids.setdefault
        ids = np.fromiter((intern(k, len(self.ids)) for k in frame["key"]), dtype=np.int64,
                          count=len(frame))
        self.parts[index] = (ids, frame["size"].to_numpy(dtype=np.int64),
                             frame["first_row"].to_numpy(dtype=np.int64))
        self.checksums[index] = str(frame["checksum"].iloc[0]) if len(frame) else ""
        for pid, peak in frame.groupby("pid")["rss"].max().items():
            self.rss[int(pid)] = max(self.rss.get(int(pid), 0), int(peak))

    def result(self, parts: list[Partition], count: str) -> LabelPass:
        """The :class:`LabelPass`, with per-partition group ids in its final group order."""
        missing = [i for i, p in enumerate(self.parts) if p is None]
        if missing:
            raise CurateValueError(  # pragma: no cover - a lost task
                f"partitions {missing[:5]} returned nothing; a task was lost")
        done = [p for p in self.parts if p is not None]
        n_keys = len(self.ids)
        size = np.zeros(n_keys, dtype=np.int64)
        first = np.full(n_keys, np.iinfo(np.int64).max, dtype=np.int64)
        for ids, sizes, firsts in done:
            np.add.at(size, ids, sizes)
            np.minimum.at(first, ids, firsts)
        totals = pd.DataFrame({"key": pd.Series(list(self.ids), dtype=object), "size": size,
                               "first_row": first})
        lp = reduce_partials(totals, n_rows=sum(p.n_rows for p in parts),
                             n_partitions=len(parts), count=count)
        relabel = np.empty(n_keys, dtype=np.int64)
        relabel[np.argsort(first, kind="stable")] = np.arange(n_keys, dtype=np.int64)
        return LabelPass(lp.classes, lp.counts, lp.vectors, lp.sizes, lp.first_row, lp.n_rows,
                         lp.n_partitions, count, {}, tuple(parts),
                         tuple(relabel[ids] for ids, _, _ in done),
                         tuple(sizes for _, sizes, _ in done), tuple(self.checksums))


def reduce_partials(totals: pd.DataFrame, *, n_rows: int, n_partitions: int,
                    count: str) -> LabelPass:
    """Turn reduced signature totals (``key``, ``size``, ``first_row``) into a :class:`LabelPass`.

    ``totals`` may still hold several rows per key (partials): they are summed here.

    Parameters
    ----------
    totals : pandas.DataFrame
        Columns ``key`` (:func:`signature_key`), ``size`` and ``first_row``.
    n_rows : int
        Rows of the dataset; the sizes must add up to it.
    n_partitions : int
        Partitions the pass used (reported).
    count : {"instances", "samples"}
        What the signatures count.

    Returns
    -------
    LabelPass

    Examples
    --------
    >>> import pandas as pd
    >>> parts = pd.DataFrame({"key": ['[["b", 1]]', '[["a", 2]]', '[["b", 1]]'],
    ...                       "size": [1, 1, 3], "first_row": [4, 1, 0]})
    >>> lp = reduce_partials(parts, n_rows=5, n_partitions=2, count="instances")
    >>> lp.counts.to_dict(), lp.sizes.tolist(), lp.first_row.tolist()
    ({'a': 2, 'b': 4}, [4, 1], [0, 1])
    """
    grouped = totals.groupby("key", sort=False).agg(size=("size", "sum"),
                                                    first_row=("first_row", "min"))
    grouped = grouped.sort_values("first_row", kind="stable")
    decoded = [json.loads(k) for k in grouped.index]
    raw = sorted({lab for pairs in decoded for lab, _ in pairs}, key=_sort_key)
    column = {lab: j for j, lab in enumerate(raw)}
    indptr = np.zeros(len(decoded) + 1, dtype=np.int64)
    np.cumsum([len(p) for p in decoded], out=indptr[1:])
    indices = np.asarray([column[lab] for p in decoded for lab, _ in p], dtype=np.int64)
    data = np.asarray([c for p in decoded for _, c in p], dtype=np.int64)
    vectors = sp.csr_matrix((data, indices, indptr), shape=(len(decoded), len(raw)))
    sizes = grouped["size"].to_numpy(dtype=np.int64)
    classes = [str(v) for v in raw]
    counts = pd.Series(np.asarray(vectors.T @ sizes, dtype=np.int64).ravel(),
                       index=pd.Index(classes, name="class"), name="count")
    if int(sizes.sum()) != n_rows:
        raise CurateValueError(  # pragma: no cover - a lost or doubled partition
            f"signature sizes add up to {int(sizes.sum())} rows, not the {n_rows} read; "
            "a partition was lost or counted twice"
        )
    return LabelPass(classes, counts, vectors, sizes,
                     grouped["first_row"].to_numpy(dtype=np.int64), n_rows, n_partitions, count)
