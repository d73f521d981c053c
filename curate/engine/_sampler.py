"""``ManifestSampler``: a map-style DDP sampler that draws each rank's share from a manifest.

Every rank works from the small group-level plan and the per-partition counts of a
:class:`~curate.engine.Manifest` (``counts-D.parquet``), and reads only the part files of
the partitions its share of the epoch comes from: no process holds the global epoch, its
permutation, or the rows of other ranks.

Epoch ``e`` on ``R`` ranks:

1. every partition's copies in ``e`` are computed from the per-partition counts (a group's
   rows in a partition hold a contiguous range of its member ranks, and the systematic draw
   gives a range of member ranks a closed-form number of copies): ``n_partitions`` numbers,
   the same on every rank, summing to the plan's epoch size ``E``;
2. the partitions are laid end to end in an order seeded by ``(seed, e)`` (partition order
   with ``shuffle=False``), each contributing its copies in row order, and the sequence is
   cut into ``R`` contiguous slices, rank ``r`` taking positions
   ``[r·E // R, (r + 1)·E // R)``: slices differ in length by at most one, and a rank reads
   the part files of the partitions its slice touches (a partition on a cut is read by the
   two ranks that share it);
3. the rank expands its slice into global row indices (int32 below 2^31 rows, else int64),
   shuffles them in place with ``numpy.random.default_rng([seed, e, 1, r])``, and pads them
   to ``ceil(E / R)`` by repeating its own indices from the start (or, with
   ``drop_last=True``, cuts them to ``E // R``).

Without padding (``R`` dividing ``E``, or ``R = 1``) the union over ranks is exactly
``plan.draw(e)``; padding adds ``R·ceil(E / R) − E ≤ R − 1`` samples to the epoch (so class
totals move by at most ``R − 1`` samples' labels), ``drop_last`` removes ``E mod R ≤ R − 1``.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from curate._validation import Bool, Interval, check_epoch, check_param
from curate.engine._manifest import Manifest, _damaged
from curate.exceptions import CurateTypeError, CurateValueError
from curate.sampler import _distributed, _index_dtype, _ShardSampler

__all__ = ["ManifestSampler"]

_OWNER = "ManifestSampler"
#: What a resumed state must share with the sampler, besides world size and rank.
_IDENTITY = ("manifest_digest", "shuffle", "drop_last")


def _extras_below(x: np.ndarray, start: np.ndarray, rem: np.ndarray,
                  size: np.ndarray) -> np.ndarray:
    """Members among ranks ``[0, x)`` (``x <= size``) that get one extra copy: the ``rem``
    ranks from ``start`` on, cyclically (:class:`curate.balance._draw.EpochState`)."""
    end = np.minimum(start + rem, size)
    wrapped = np.maximum(start + rem - size, 0)
    return np.clip(x - start, 0, end - start) + np.minimum(x, wrapped)


class ManifestSampler(_ShardSampler):
    """Sample a partitioned manifest per DDP rank: each rank draws and reads only its share.

    The map-style counterpart of :class:`curate.BalancedSampler` for datasets too large for
    one in-memory plan: built from a :class:`~curate.engine.Manifest` (the group-level plan
    and per-partition counts, both small), it computes every partition's copies for the
    epoch, gives rank ``r`` the ``r``-th of ``num_replicas`` equal contiguous slices of the
    partitions laid end to end (in an order seeded by ``(seed, epoch)``), reads only the part
    files of those partitions, draws their rows' copies with the plan (equal, row for row, to
    the single-machine ``plan.draw(epoch)``), expands them to global row indices and shuffles
    them in place (seeded by ``(seed, epoch, rank)``). Indices are the manifest's global
    ``row`` numbers (the row order of ``curate.io.read_table`` on the source: its files in
    pyarrow dataset order): index the map-style dataset the same way. Details:
    :mod:`curate.engine._sampler`.

    Shards have equal length (``ceil(E / R)`` for an epoch of ``E`` copies, ``E // R`` with
    ``drop_last``): a short rank repeats its own indices from the start, so padding adds at
    most ``num_replicas - 1`` samples to an epoch (and class totals change by at most the
    labels of those); with one rank, or ``E`` divisible by ``R``, the epoch's class totals
    are exactly the plan's. Memory per rank: its ``E / R`` indices (4 bytes each below 2^31
    rows) plus one part file at a time. The order differs from
    :class:`curate.BalancedSampler`'s (it is not a permutation of a global epoch).

    Under ``torch.distributed`` (a process group of ``num_replicas`` ranks) the constructor
    is a collective call: every rank checks with ``all_gather_object`` that all hold the
    same manifest digest, seed, ``shuffle`` and ``drop_last``, and raises otherwise.

    Parameters
    ----------
    manifest : Manifest or str or path-like
        A manifest written by :func:`curate.engine.write_manifest` (or its folder), with
        per-partition counts (written by this curate; older ones are refused).
    num_replicas : int, default=None
        Number of ranks; ``None`` reads ``torch.distributed.get_world_size()`` when a process
        group is initialised, else 1.
    rank : int, default=None
        This process's rank in ``[0, num_replicas - 1]``; ``None`` reads
        ``torch.distributed.get_rank()`` when initialised, else 0.
    seed : int, default=0
        Seeds the partition order and the local shuffle (not the draw, which the plan's own
        seed decides). Must be identical on all ranks.
    shuffle : bool, default=True
        ``False``: partitions in order and each rank's indices in row order (copies
        adjacent).
    drop_last : bool, default=False
        ``True`` cuts every shard to ``E // num_replicas`` instead of padding.

    Attributes
    ----------
    manifest : Manifest
        The loaded manifest.
    epoch : int
        The epoch set by :meth:`set_epoch`.

    Examples
    --------
    >>> import os, tempfile
    >>> import pyarrow as pa, pyarrow.parquet as pq
    >>> from curate.engine import fit_plan, label_pass, write_manifest
    >>> d = tempfile.mkdtemp()
    >>> pq.write_table(pa.table({"y": ["a"] * 6 + ["b"] * 2}), os.path.join(d, "l.parquet"))
    >>> lp = label_pass(os.path.join(d, "l.parquet"), column="y", engine="local",
    ...                 rows_per_partition=3)
    >>> m = write_manifest(os.path.join(d, "m"), lp, fit_plan(lp), engine="local")
    >>> ranks = [ManifestSampler(m, num_replicas=2, rank=r, shuffle=False) for r in (0, 1)]
    >>> [len(s) for s in ranks], [list(s) for s in ranks]
    ([4, 4], [[0, 1, 2, 3], [6, 6, 7, 7]])
    """

    def __init__(
        self,
        manifest: Manifest | str | os.PathLike[str],
        *,
        num_replicas: int | None = None,
        rank: int | None = None,
        seed: int = 0,
        shuffle: bool = True,
        drop_last: bool = False,
    ) -> None:
        if isinstance(manifest, str | os.PathLike):
            manifest = Manifest.load(manifest)
        if not isinstance(manifest, Manifest):
            raise CurateTypeError(
                f"The 'manifest' parameter of {_OWNER} must be a curate.engine.Manifest or "
                f"its folder. Got {type(manifest).__name__} instead; write one with "
                "curate.engine.write_manifest"
            )
        check_param("seed", seed, [Interval(int, 0, None)], _OWNER)
        check_param("shuffle", shuffle, [Bool()], _OWNER)
        super().__init__(num_replicas=num_replicas, rank=rank, drop_last=drop_last,
                         owner=_OWNER)
        self.manifest = manifest
        self._seed, self.shuffle = int(seed), bool(shuffle)
        self._counts = self._load_counts()
        if _distributed(self.num_replicas):
            self._agree((manifest.plan.digest, self.seed, self.shuffle, self.drop_last),
                        "(manifest digest, seed, shuffle, drop_last)")

    @property
    def seed(self) -> int:
        """Seeds the partition order and the local shuffle."""
        return self._seed

    def _set_seed(self, seed: int) -> None:
        # the seed decides which rows this rank holds: a state of another seed is refused
        # (in load_state_dict, before anything changes), never adopted
        if seed != self._seed:
            raise CurateValueError(
                f"state_dict['seed'] is {seed!r} but this sampler has seed={self._seed!r}; "
                "resume with the same manifest, seed, options, world size and rank"
            )

    def _load_counts(self) -> tuple[np.ndarray, ...]:
        """(group, offset, size, first entry of each partition) from the counts file,
        checked against the plan's group sizes and the partitions' row counts."""
        m = self.manifest
        frame = m.partition_counts()
        part = frame["partition"].to_numpy(np.int64)
        group = frame["group"].to_numpy(np.int64)
        offset = frame["offset"].to_numpy(np.int64)
        size = frame["size"].to_numpy(np.int64)
        n_parts = m.n_partitions
        rows = np.array([p.n_rows for p in m.partitions], dtype=np.int64)
        path = m.folder / (m.counts[0] if m.counts else "")
        if (part.size and (np.any(np.diff(part) < 0) or part[0] < 0 or part[-1] >= n_parts
                           or group.min() < 0 or group.max() >= m.plan.n_groups)):
            raise _damaged(path, "its partition or group ids are out of range")
        per_part = np.bincount(part, weights=size, minlength=n_parts)
        per_group = np.bincount(group, weights=size, minlength=m.plan.n_groups)
        if (not np.array_equal(per_part, rows) or not np.array_equal(per_group, m.plan.sizes)
                or np.any(offset < 0) or np.any(offset + size > m.plan.sizes[group])):
            raise _damaged(path, "its counts do not add up to the partitions and groups")
        ends = np.cumsum(np.bincount(part, minlength=n_parts))
        return group, offset, size, ends

    # ------------------------------------------------------------------ the epoch's layout
    def partition_copies(self, epoch: int | None = None) -> np.ndarray:
        """Copies of every partition in ``epoch``, from the per-partition counts alone.

        Parameters
        ----------
        epoch : int, default=None
            The epoch; ``None`` means the one set by :meth:`set_epoch`.

        Returns
        -------
        ndarray of int64, shape (n_partitions,)
            Sums to the plan's epoch size; entry ``p`` equals the sum of
            ``manifest.draw_partition(p, epoch)["multiplicity"]``.

        Examples
        --------
        >>> import os, tempfile
        >>> import pyarrow as pa, pyarrow.parquet as pq
        >>> from curate.engine import fit_plan, label_pass, write_manifest
        >>> d = tempfile.mkdtemp()
        >>> pq.write_table(pa.table({"y": ["a"] * 6 + ["b"] * 2}), os.path.join(d, "l.p"))
        >>> lp = label_pass(os.path.join(d, "l.p"), column="y", engine="local",
        ...                 rows_per_partition=4)
        >>> m = write_manifest(os.path.join(d, "m"), lp, fit_plan(lp), engine="local")
        >>> ManifestSampler(m).partition_copies(1).tolist()
        [2, 6]
        """
        epoch = self.epoch if epoch is None else check_epoch(epoch, _OWNER)
        st = self.manifest.plan.epoch_state(epoch)
        group, offset, size, ends = self._counts
        lo_start, rem, cyc = st.start[group], st.rem[group], st.size[group]
        copies = st.base[group] * size + (
            _extras_below(offset + size, lo_start, rem, cyc)
            - _extras_below(offset, lo_start, rem, cyc))
        running = np.concatenate([[0], np.cumsum(copies)])
        starts = np.concatenate([[0], ends[:-1]])
        return (running[ends] - running[starts]).astype(np.int64)

    def _layout(self, epoch: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(partition order, copies in that order, copies per partition) of ``epoch``."""
        copies = self.partition_copies(epoch)
        n = len(copies)
        order = (np.random.default_rng([self.seed, epoch, 0]).permutation(n) if self.shuffle
                 else np.arange(n))
        return order, copies[order], copies

    def _slice(self, total: int, rank: int) -> tuple[int, int]:
        return rank * total // self.num_replicas, (rank + 1) * total // self.num_replicas

    def _per_rank(self, total: int) -> int:
        r = self.num_replicas
        return total // r if self.drop_last else -(-total // r)

    def rank_partitions(self, epoch: int | None = None) -> list[int]:
        """The partitions whose part files this rank reads in ``epoch``, in read order.

        Parameters
        ----------
        epoch : int, default=None
            The epoch; ``None`` means the one set by :meth:`set_epoch`.

        Returns
        -------
        list of int

        Examples
        --------
        >>> import os, tempfile
        >>> import pyarrow as pa, pyarrow.parquet as pq
        >>> from curate.engine import fit_plan, label_pass, write_manifest
        >>> d = tempfile.mkdtemp()
        >>> pq.write_table(pa.table({"y": ["a"] * 6 + ["b"] * 2}), os.path.join(d, "l.p"))
        >>> lp = label_pass(os.path.join(d, "l.p"), column="y", engine="local",
        ...                 rows_per_partition=2)
        >>> m = write_manifest(os.path.join(d, "m"), lp, fit_plan(lp), engine="local")
        >>> [ManifestSampler(m, num_replicas=2, rank=r, shuffle=False).rank_partitions(0)
        ...  for r in (0, 1)]
        [[0, 1], [3]]
        """
        epoch = self.epoch if epoch is None else check_epoch(epoch, _OWNER)
        order, ordered, _ = self._layout(epoch)
        return [p for p, _, _ in self._pieces(order, ordered)]

    def _pieces(self, order: np.ndarray, copies: np.ndarray) -> list[tuple[int, int, int]]:
        """(partition, first copy, end copy) of every partition this rank's slice touches."""
        total = int(copies.sum())
        lo, hi = self._slice(total, self.rank)
        if lo == hi and not self.drop_last and total:
            lo, hi = 0, 1  # fewer copies than ranks: a rank without any repeats the first
        cum = np.concatenate([[0], np.cumsum(copies)])
        first = int(np.searchsorted(cum, lo, side="right")) - 1
        out = []
        for i in range(max(first, 0), len(copies)):
            if cum[i] >= hi:
                break
            a, b = max(lo, int(cum[i])), min(hi, int(cum[i + 1]))
            if b > a:
                out.append((int(order[i]), a - int(cum[i]), b - int(cum[i])))
        return out

    def _epoch_shard(self, epoch: int) -> np.ndarray:
        m = self.manifest
        order, ordered, expected = self._layout(epoch)
        pieces = self._pieces(order, ordered)
        per_rank = self._per_rank(int(expected.sum()))
        own = sum(b - a for _, a, b in pieces)
        out = np.empty(max(own, per_rank), dtype=_index_dtype(m.plan.n_rows))
        state = m.plan.epoch_state(epoch)
        pos = 0
        for p, a, b in pieces:
            part = m.read_part(p)
            x = state.draw(part["group"].to_numpy(), part["rank"].to_numpy())
            cum = np.cumsum(x)
            if int(cum[-1]) != int(expected[p]):
                raise _damaged(m.folder / m.files[p], "its rows' copies differ from the "
                               "per-partition counts")
            i0 = int(np.searchsorted(cum, a, side="right"))
            i1 = int(np.searchsorted(cum, b, side="left")) + 1
            rows = part["row"].to_numpy()[i0:i1].astype(out.dtype)
            skip = a - (int(cum[i0 - 1]) if i0 else 0)
            out[pos:pos + b - a] = np.repeat(rows, x[i0:i1])[skip:skip + b - a]
            pos += b - a
        if self.shuffle:
            np.random.default_rng([self.seed, epoch, 1, self.rank]).shuffle(out[:own])
        for i in range(own, len(out), max(own, 1)):  # pad with own indices from the start
            out[i:i + own] = out[:min(own, len(out) - i)]
        shard = out[:per_rank]
        shard.flags.writeable = False
        return shard

    def rank_indices(self, epoch: int | None = None) -> np.ndarray:
        """This rank's indices of ``epoch`` in iteration order (padded or cut to ``len``).

        Parameters
        ----------
        epoch : int, default=None
            The epoch; ``None`` means the one set by :meth:`set_epoch`.

        Returns
        -------
        ndarray of int32 (int64 from 2^31 rows on)
            Read-only; cached for the last epoch asked.

        Examples
        --------
        >>> import os, tempfile
        >>> import pyarrow as pa, pyarrow.parquet as pq
        >>> from curate.engine import fit_plan, label_pass, write_manifest
        >>> d = tempfile.mkdtemp()
        >>> pq.write_table(pa.table({"y": ["a"] * 3 + ["b"]}), os.path.join(d, "l.p"))
        >>> lp = label_pass(os.path.join(d, "l.p"), column="y", engine="local")
        >>> m = write_manifest(os.path.join(d, "m"), lp, fit_plan(lp), engine="local")
        >>> s = ManifestSampler(m, num_replicas=3, rank=2, shuffle=False)
        >>> s.rank_indices(0).tolist(), s.rank_indices(0).dtype
        ([3, 3], dtype('int32'))
        """
        epoch = self.epoch if epoch is None else check_epoch(epoch, _OWNER)
        if self._cache is None or self._cache[0] != epoch:
            self._cache = (epoch, self._epoch_shard(epoch))
        return self._cache[1]

    # ------------------------------------------------------------------ Sampler API
    # set_epoch, __iter__, state_dict and load_state_dict come from curate.sampler's
    # _ShardSampler (the same resume rules as BalancedSampler); the state adds the manifest
    # digest, shuffle and drop_last, and load_state_dict refuses other values.
    def _shard(self, epoch: int) -> list[np.ndarray]:
        return [self.rank_indices(epoch)]

    def __len__(self) -> int:
        return self._per_rank(self.manifest.plan.epoch_size)

    def _extra_state(self) -> dict[str, Any]:
        return {"manifest_digest": self.manifest.plan.digest, "shuffle": self.shuffle,
                "drop_last": self.drop_last}

    def _load_extra_state(self, extra: dict[str, Any]) -> None:
        missing = [k for k in _IDENTITY if k not in extra]
        if missing:
            raise CurateValueError(f"state_dict is missing keys {missing}; pass a dict from "
                                   f"{_OWNER}.state_dict()")
        for key, value in self._extra_state().items():
            if extra[key] != value:
                raise CurateValueError(
                    f"state_dict[{key!r}] is {extra[key]!r} but this sampler has "
                    f"{key}={value!r}; resume with the same manifest, seed, options, world "
                    "size and rank"
                )

    def __repr__(self) -> str:
        return (f"ManifestSampler(n_partitions={self.manifest.n_partitions}, "
                f"num_replicas={self.num_replicas}, rank={self.rank}, epoch={self.epoch}, "
                f"len={len(self)})")
