"""Saving and loading plans: one parquet file, every byte that matters under a checksum.

The parquet holds the manifest columns (``sample_id``, ``index``, ``multiplicity`` of epoch 0),
the plan's arrays (``group``, ``group_total`` per row) and the labels
(``label_index``/``label_count`` lists); its key-value metadata holds everything else. Three
checksums are stored and verified on load: the labels' (:func:`label_checksum`), the plan's
:attr:`~BalancePlan.digest` (labels, groups, totals, rounding, seed) and one over the
metadata itself plus the sample ids; the epoch-0 column must equal the rebuilt plan's draw.
A damaged or hand-edited file is refused instead of loading as a different plan. There is no
sidecar file, so concurrent writers cannot leave two files that disagree.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from curate._atomic import atomic_write
from curate._format import jsonable
from curate.balance._plan import PlanStatus, label_checksum
from curate.exceptions import CurateValueError
from curate.labels import LabelTable

if TYPE_CHECKING:
    from curate.balance._plan import BalancePlan

__all__ = ["load_plan", "manifest_indices", "save_plan"]

_META_KEY = b"curate.plan"
#: Version of the file layout; :func:`load_plan` refuses other versions.
FORMAT_VERSION = 2


def _ids_checksum(ids: np.ndarray) -> str:
    """SHA-256 of the sample ids: their bytes for numbers, else their reprs joined by NUL."""
    h = hashlib.sha256()
    if ids.dtype.kind in "biuf":
        h.update(ids.dtype.str.encode())
        h.update(np.ascontiguousarray(ids).tobytes())
    else:
        h.update("\0".join(map(repr, ids.tolist())).encode())
    return h.hexdigest()


def _meta_checksum(meta: dict[str, Any]) -> str:
    body = {k: v for k, v in meta.items() if k != "meta_checksum"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _by_class(classes: tuple[str, ...], counts: Any) -> dict[str, int]:
    """``{class: int count}`` without iterating the Series (a million classes: 0.1 s)."""
    return dict(zip(classes, np.asarray(counts, dtype=np.int64).tolist(), strict=True))


def _metadata(plan: BalancePlan, ids: np.ndarray) -> dict[str, Any]:
    meta = jsonable({
        "format_version": FORMAT_VERSION,
        "classes": list(plan.table.classes), "background": plan.table.background,
        "level": plan.table.level, "input_checksum": label_checksum(plan.table),
        "ids_checksum": _ids_checksum(ids), "digest": plan.digest,
        "count": plan.count, "seed": plan.seed, "method": plan.method,
        "rounding": plan.rounding, "window": plan.window,
        "status": plan.status.value, "message": plan.message, "objective": plan.objective,
        # wall-clock timings describe the run, not the plan: left out, so the same inputs and
        # seed write byte-identical files (DVC, caches, diffs)
        "lower_bound": plan.lower_bound, "gap": plan.gap, "solve_seconds": None,
        "options": plan.options,
        "details": {k: v for k, v in plan.details.items() if k != "timings"},
        "counts_before": _by_class(plan.table.classes, plan.counts_before),
        "counts_after": _by_class(plan.table.classes, plan.counts_after),
        "epoch_size": plan.epoch_size, "n_duplicates": plan.n_duplicates,
        "n_removed": plan.n_removed,
    })
    meta["meta_checksum"] = _meta_checksum(meta)
    return meta


def save_plan(plan: BalancePlan, path: str | os.PathLike[str]) -> Path:
    """Write ``plan`` to ``path`` atomically (see :meth:`BalancePlan.save`)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    if path.is_dir():
        raise CurateValueError(f"{str(path)!r} is a directory; pass a file path such as "
                               f"{str(path / 'manifest.parquet')!r}")
    m = plan.table.matrix
    offsets = pa.array(m.indptr.astype(np.int64), type=pa.int64())
    ids = plan.table.sample_ids
    if ids.dtype == object:
        ids = np.asarray([str(v) for v in ids], dtype=object)
    columns = {
        "sample_id": pa.array(ids),
        "index": pa.array(np.arange(plan.n_samples, dtype=np.int64)),
        "multiplicity": pa.array(plan.multiplicity),
        "group": pa.array(plan.group),
        "group_total": pa.array(plan.group_total[plan.group]),
        "label_index": pa.LargeListArray.from_arrays(
            offsets, pa.array(m.indices.astype(np.int32))),
        "label_count": pa.LargeListArray.from_arrays(
            offsets, pa.array(m.data.astype(np.int64))),
    }
    table = pa.table(columns)
    meta = _metadata(plan, ids)
    table = table.replace_schema_metadata({_META_KEY: json.dumps(meta).encode()})
    atomic_write(path, lambda tmp: pq.write_table(table, tmp))
    return path


def _damaged(path: Any, what: str) -> CurateValueError:
    return CurateValueError(
        f"{str(path)!r} is damaged or was edited: {what}. Write it again with "
        "BalancePlan.save or `curate resample`"
    )


def _read(path: str | os.PathLike[str]) -> tuple[Any, dict[str, Any]]:
    import pyarrow.parquet as pq

    try:
        stored = pq.read_table(path)
    except (OSError, ValueError) as exc:
        if not Path(path).exists():
            raise FileNotFoundError(f"no manifest at {str(path)!r}") from exc
        raise CurateValueError(f"{str(path)!r} is not a readable manifest parquet: {exc}") from exc
    raw = (stored.schema.metadata or {}).get(_META_KEY)
    if raw is None:
        raise CurateValueError(
            f"{str(path)!r} has no curate plan metadata; write manifests with "
            "BalancePlan.save or `curate resample`"
        )
    try:
        meta = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise _damaged(path, "its metadata is not valid JSON") from exc
    if not isinstance(meta, dict) or meta.get("meta_checksum") != _meta_checksum(meta):
        raise _damaged(path, "its metadata does not match its checksum")
    if meta.get("format_version") != FORMAT_VERSION:
        raise CurateValueError(
            f"{str(path)!r} has manifest format version {meta.get('format_version')!r}; this "
            f"curate reads version {FORMAT_VERSION}. Re-create it with this version's "
            "`curate resample`"
        )
    return stored, meta


def load_plan(cls: type[BalancePlan], path: str | os.PathLike[str],
              table: LabelTable | None) -> BalancePlan:
    """Rebuild and verify a plan written by :func:`save_plan` (see :meth:`BalancePlan.load`)."""
    import pyarrow as pa

    stored, meta = _read(path)
    try:
        return _rebuild(cls, path, stored, meta, table)
    except (KeyError, TypeError, IndexError, pa.ArrowException) as exc:
        raise _damaged(path, f"{type(exc).__name__}: {exc}") from exc


def _rebuild(cls: type[BalancePlan], path: Any, stored: Any, meta: dict[str, Any],
             table: LabelTable | None) -> BalancePlan:
    n = stored.num_rows
    group = stored.column("group").to_numpy().astype(np.int64)
    per_row_total = stored.column("group_total").to_numpy().astype(np.float64)
    ids = stored.column("sample_id").to_numpy()
    n_groups = int(group.max()) + 1 if n else 0
    if n and (group.min() < 0 or n_groups > n):
        raise _damaged(path, "group ids outside [0, n_samples)")
    first = np.full(n_groups, -1, dtype=np.int64)
    first[group[::-1]] = np.arange(n - 1, -1, -1)
    totals = per_row_total[np.maximum(first, 0)]
    if (per_row_total != totals[group]).any():
        raise _damaged(path, "members of one group disagree on its total")
    stored_table = _stored_table(stored, meta)
    if label_checksum(stored_table) != meta["input_checksum"]:
        raise _damaged(path, "its labels do not match their checksum")
    if _ids_checksum(ids) != meta["ids_checksum"]:
        raise _damaged(path, "its sample ids do not match their checksum")
    if table is None:
        table = stored_table
    elif label_checksum(table) != meta["input_checksum"]:
        raise CurateValueError(
            f"table does not match the labels the manifest {str(path)!r} was made from "
            "(checksum differs); pass the same table, or table=None to use the stored labels"
        )
    else:
        _check_same_ids(np.asarray(table.sample_ids), ids, path)
    plan = cls(
        table, group, totals, count=meta["count"], seed=int(meta["seed"]),
        method=meta["method"], status=PlanStatus(meta["status"]), message=meta["message"],
        objective=meta["objective"], lower_bound=meta["lower_bound"], gap=meta["gap"],
        solve_seconds=meta["solve_seconds"], options=meta["options"],
        details=meta["details"], rounding=meta["rounding"], window=meta["window"],
    )
    if plan.digest != meta["digest"]:
        raise _damaged(path, "its plan arrays do not match the stored digest")
    if not np.array_equal(stored.column("multiplicity").to_numpy(), plan.multiplicity):
        raise _damaged(path, "its epoch-0 multiplicities differ from the plan's draw")
    if not np.array_equal(stored.column("index").to_numpy(), np.arange(n)):
        raise _damaged(path, "its index column is not 0..n-1")
    return plan


def _check_same_ids(given: np.ndarray, stored: np.ndarray, path: Any) -> None:
    """Two rows with the same labels can swap places without changing the label checksum;
    when both tables name their samples, the names must match in order (a table without
    ids, whose ids are its row positions, cannot be checked)."""
    import pandas as pd

    def positions(ids: np.ndarray) -> bool:
        return ids.dtype.kind in "iu" and np.array_equal(ids, np.arange(len(ids)))

    if positions(given) or positions(stored) or pd.Index(given).equals(pd.Index(stored)):
        return
    differ = np.flatnonzero(given.astype(str) != stored.astype(str))
    i = int(differ[0]) if differ.size else 0
    raise CurateValueError(
        f"table's sample_ids differ from those the manifest {str(path)!r} was made from "
        f"(row {i}: {given.tolist()[i]!r} here, {stored.tolist()[i]!r} stored): the rows were "
        "reordered or are other samples with the same labels; pass the table in the order "
        "the plan was fitted on, or table=None to use the stored labels"
    )


def _stored_table(stored: Any, meta: dict[str, Any]) -> LabelTable:
    idx_col = stored.column("label_index").combine_chunks()
    cnt_col = stored.column("label_count").combine_chunks()
    indptr = idx_col.offsets.to_numpy()
    indices = idx_col.values.to_numpy()
    data = cnt_col.values.to_numpy()
    try:
        m = sp.csr_matrix((data, indices, indptr),
                          shape=(stored.num_rows, len(meta["classes"])))
        return LabelTable(m, meta["classes"], sample_ids=stored.column("sample_id").to_numpy(),
                          background=meta["background"], level=meta["level"])
    except ValueError as exc:
        raise CurateValueError(f"the stored labels are malformed: {exc}") from exc


def manifest_indices(path: str | os.PathLike[str], epoch: int = 0, *,
                     shuffle: bool = False) -> np.ndarray:
    """Flat row indices of a saved manifest for ``epoch`` (each repeated per multiplicity).

    Parameters
    ----------
    path : str or path-like
        A manifest written by :meth:`BalancePlan.save` or ``curate resample``.
    epoch : int, default=0
        Epoch to draw.
    shuffle : bool, default=False
        Permute the indices (seeded by the plan's seed and ``epoch``).

    Returns
    -------
    ndarray of int64

    Examples
    --------
    >>> import curate, tempfile, os
    >>> from curate.balance import BalancePlan
    >>> t = curate.LabelTable.from_labels([["a"], ["b"]])
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = BalancePlan.from_multiplicity(t, [0, 2]).save(os.path.join(d, "m.parquet"))
    ...     manifest_indices(path).tolist()
    [1, 1]
    """
    from curate.balance._plan import BalancePlan

    return BalancePlan.load(path).indices(epoch, shuffle=shuffle)
