"""Samplers for ``torch.utils.data.DataLoader``: per-epoch rebalancing, DDP shards, resume.

Both samplers follow the contract of :class:`torch.utils.data.DistributedSampler`:

* an epoch's *global* index order is a pure function of ``(seed, epoch)``, so every rank
  computes the same order without communicating, and the global RNG is never touched;
* the order is padded by wrapping around (or truncated with ``drop_last=True``) to a multiple
  ``total_size`` of ``num_replicas``, and rank ``r`` takes ``order[r:total_size:num_replicas]``:
  shards are disjoint, of equal length, and ``len(sampler)`` is exact for every rank;
* :meth:`set_epoch` only stores the epoch; the work happens in ``__iter__`` (cached per epoch);
* ``state_dict()`` records ``seed``, ``epoch``, ``num_replicas``, ``rank`` and how many indices
  this rank has yielded; after ``load_state_dict`` the next iteration yields exactly the rest
  (the protocol torchdata's ``StatefulDataLoader`` uses).

:class:`BalancedSampler` redraws a :class:`~curate.BalancePlan` every epoch
(:meth:`BalancePlan.draw`): class totals stay as planned while the dropped and repeated samples
rotate, so every sample is seen within ``plan.coverage_epochs`` epochs.
:class:`WeightedSampler` is a drop-in for :class:`torch.utils.data.WeightedRandomSampler` with
the same contract and no 2^24-category limit.
"""

from __future__ import annotations

import hashlib
import operator
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd
import torch
import torch.distributed as dist
from torch.utils.data import Sampler

from curate._validation import Bool, Interval, check_epoch, check_param
from curate.balance import BalancePlan
from curate.exceptions import CurateTypeError, CurateValueError
from curate.labels import LabelTable

__all__ = ["BalancedSampler", "WeightedSampler"]

_STATE_KEYS = ("seed", "epoch", "num_replicas", "rank", "yielded")


@runtime_checkable
class _Balancer(Protocol):
    def fit(self, table: LabelTable) -> BalancePlan: ...  # pragma: no cover


def _resolve_replicas(num_replicas: int | None, rank: int | None, owner: str) -> tuple[int, int]:
    """Fill ``num_replicas``/``rank`` from ``torch.distributed`` when initialised, else 1/0."""
    initialised = dist.is_available() and dist.is_initialized()
    if num_replicas is None:
        num_replicas = dist.get_world_size() if initialised else 1
    if rank is None:
        rank = dist.get_rank() if initialised else 0
    check_param("num_replicas", num_replicas, [Interval(int, 1, None)], owner)
    check_param("rank", rank, [Interval(int, None, None)], owner)
    if rank < 0 or rank >= num_replicas:
        raise CurateValueError(
            f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]"
        )
    return int(num_replicas), int(rank)


def _distributed(num_replicas: int) -> bool:
    """Whether a process group of exactly ``num_replicas`` ranks is initialised."""
    return (dist.is_available() and dist.is_initialized()
            and dist.get_world_size() == num_replicas and num_replicas > 1)


#: indices turned into Python ints at a time while iterating (a list of the whole shard
#: costs ~36 bytes an index: 3.6 GB for 10^8)
_CHUNK = 1 << 16


class _Cursor:
    """Where an iteration is: start of the current chunk, its length and its list iterator."""

    __slots__ = ("it", "lo", "n", "start")

    def __init__(self, start: int) -> None:
        self.lo, self.n, self.it = start, 0, iter(())
        self.start = start  # where this pass began (a resumed prefix is not its own)

    def position(self) -> int:
        """Indices yielded so far (in this epoch, counting a resumed prefix)."""
        return self.lo + self.n - operator.length_hint(self.it)


def _iterate(parts: list[np.ndarray], start: int, cursor: _Cursor) -> Iterator[int]:
    """Yield ``parts`` (concatenated) from ``start`` as Python ints, ``_CHUNK`` at a time.

    Each chunk is a plain list iterator (the fastest thing a DataLoader can pull from);
    ``cursor`` tracks it, so ``state_dict`` knows how far the iteration got.
    """
    offset = 0
    for part in parts:
        lo = max(start - offset, 0)
        for i in range(lo, len(part), _CHUNK):
            chunk = part[i:i + _CHUNK].tolist()
            cursor.lo, cursor.n, cursor.it = offset + i, len(chunk), iter(chunk)
            yield from cursor.it
        offset += len(part)


class _ShardSampler(Sampler[int]):
    """DDP, epoch and resume machinery of every curate sampler: subclasses define
    :meth:`_shard` (this rank's indices of an epoch), ``__len__``, ``seed``/:meth:`_set_seed`
    and, for more state, :meth:`_extra_state`/:meth:`_load_extra_state`."""

    def __init__(
        self, *, num_replicas: int | None, rank: int | None, drop_last: bool, owner: str
    ) -> None:
        check_param("drop_last", drop_last, [Bool()], owner)
        self.num_replicas, self.rank = _resolve_replicas(num_replicas, rank, owner)
        self.drop_last = bool(drop_last)
        self.epoch = 0
        self._owner = owner
        self._cache: tuple[Any, np.ndarray] | None = None  # (epoch key, cached order)
        self._resume_at = 0  # indices of the current epoch to skip on the next __iter__
        self._live: tuple[int, int, _Cursor] | None = None  # (epoch, shard size, cursor)

    # ------------------------------------------------------------------ to override
    @property
    def seed(self) -> int:  # pragma: no cover - overridden
        raise NotImplementedError

    def _set_seed(self, seed: int) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _shard(self, epoch: int) -> list[np.ndarray]:  # pragma: no cover - overridden
        """This rank's indices of ``epoch``, in iteration order (one or more arrays)."""
        raise NotImplementedError

    def __len__(self) -> int:  # pragma: no cover - overridden
        raise NotImplementedError

    # ------------------------------------------------------------------ Sampler API
    def set_epoch(self, epoch: int) -> None:
        """Set the epoch for the next iteration (the only thing it does is store it).

        Setting a different epoch discards a pending resume position from
        :meth:`load_state_dict`; setting the same epoch keeps it.

        Parameters
        ----------
        epoch : int
            Non-negative epoch number; the same on every rank.

        Examples
        --------
        >>> from curate.sampler import WeightedSampler
        >>> s = WeightedSampler([1.0, 2.0], 4)
        >>> s.set_epoch(3)
        >>> s.epoch
        3
        """
        epoch = check_epoch(epoch, self._owner)
        if epoch != self.epoch:
            self._resume_at = 0
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        parts = self._shard(self.epoch)
        size = sum(len(p) for p in parts)
        start = min(self._resume_at, size)
        self._resume_at = 0
        cursor = _Cursor(start)
        self._live = (self.epoch, size, cursor)
        return _iterate(parts, start, cursor)

    def _yielded(self) -> int:
        if self._resume_at or self._live is None or self._live[0] != self.epoch:
            return self._resume_at
        return self._live[2].position()

    def state_dict(self) -> dict[str, Any]:
        """Seed, epoch, replicas, rank and the number of indices this rank has yielded.

        Returns
        -------
        dict
            Keys ``"seed"``, ``"epoch"``, ``"num_replicas"``, ``"rank"``, ``"yielded"``
            (plain ints, safe for ``torch.save`` and JSON); :class:`BalancedSampler` adds
            ``"plan_digest"`` (its plan's digest: :meth:`load_state_dict` refuses a state of
            another plan), :class:`WeightedSampler` adds ``"draw"`` (the pass within the epoch).

        Examples
        --------
        >>> from curate.sampler import WeightedSampler
        >>> s = WeightedSampler([1.0, 2.0, 3.0], 6, seed=1)
        >>> it = iter(s)
        >>> first = [next(it), next(it)]
        >>> s.state_dict()["yielded"], s.state_dict()["draw"]
        (2, 0)
        """
        return {
            "seed": int(self.seed),
            "epoch": int(self.epoch),
            "num_replicas": self.num_replicas,
            "rank": self.rank,
            "yielded": int(self._yielded()),
            **self._extra_state(),
        }

    def _extra_state(self) -> dict[str, Any]:
        """Keys a subclass adds to :meth:`state_dict`."""
        return {}

    def _check_extra_state(self, extra: dict[str, Any]) -> None:
        """Refuse the keys of :meth:`_extra_state` when they do not fit this sampler."""

    def _load_extra_state(self, extra: dict[str, Any]) -> None:
        """Check and restore the keys of :meth:`_extra_state` (before anything else changes)."""
        self._check_extra_state(extra)

    def _restore_generator(self, extra: dict[str, Any], seed: int, *, started: bool) -> None:
        """Restore a user generator's state saved in :meth:`_extra_state` (checked already);
        ``started``: the checkpoint's pass had begun, so its seed was drawn already."""

    def _agree(self, key: Any, what: str) -> None:
        """Under ``torch.distributed``: every rank must hold the same ``key`` (compared with
        ``all_gather_object``), else every rank raises naming the ranks that differ."""
        everyone: list[Any] = [None] * dist.get_world_size()
        dist.all_gather_object(everyone, key)
        if any(other != everyone[0] for other in everyone):
            ranks = [r for r, other in enumerate(everyone) if other != everyone[0]]
            raise CurateValueError(
                f"ranks {ranks} hold a different {what} than rank 0; every rank of "
                f"{self._owner} must draw the same epochs, or the shards overlap"
            )

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore seed and epoch; the next iteration yields the indices not yet yielded.

        Parameters
        ----------
        state_dict : dict
            A dict from :meth:`state_dict` of a sampler with the same data (the same plan
            for a :class:`BalancedSampler`), ``num_replicas`` and ``rank``.

        Examples
        --------
        >>> from curate.sampler import WeightedSampler
        >>> a = WeightedSampler([1.0, 2.0, 3.0], 6, seed=1)
        >>> it = iter(a)
        >>> head = [next(it) for _ in range(4)]
        >>> b = WeightedSampler([1.0, 2.0, 3.0], 6, seed=1)
        >>> b.load_state_dict(a.state_dict())
        >>> head + list(b) == list(a.epoch_indices(0))
        True
        """
        if not isinstance(state_dict, dict):
            raise CurateTypeError(
                f"state_dict must be a dict from {self._owner}.state_dict(); "
                f"got {type(state_dict).__name__}"
            )
        missing = [k for k in _STATE_KEYS if k not in state_dict]
        if missing:
            raise CurateValueError(
                f"state_dict is missing keys {missing}; pass a dict from {self._owner}.state_dict()"
            )
        for key in _STATE_KEYS:
            check_param(key, state_dict[key], [Interval(int, 0, None)], self._owner)
        for key in ("num_replicas", "rank"):
            if state_dict[key] != getattr(self, key):
                raise CurateValueError(
                    f"state_dict[{key!r}] is {state_dict[key]} but this sampler has "
                    f"{key}={getattr(self, key)}; resume with the same world size and rank"
                )
        extra = {k: v for k, v in state_dict.items() if k not in _STATE_KEYS}
        if int(state_dict["epoch"]) < self.epoch and int(state_dict["yielded"]) >= len(self):
            # a checkpoint of a finished earlier epoch, applied after set_epoch moved on:
            # torchdata's StatefulDataLoader restores its sampler lazily, at the next
            # iteration, so it lands after the training loop's set_epoch(e + 1); nothing of
            # that epoch is left, and replaying it would train on it twice
            self._check_extra_state(extra)
            self._restore_generator(extra, int(state_dict["seed"]), started=True)
            self._set_seed(int(state_dict["seed"]))
            self._live = None  # what ran before the restore is no pass of this epoch
            return
        self._load_extra_state(extra)
        self._restore_generator(extra, int(state_dict["seed"]),
                                started=int(state_dict["yielded"]) > 0)
        self._set_seed(int(state_dict["seed"]))
        self.epoch = int(state_dict["epoch"])
        self._cache = None
        self._live = None
        self._resume_at = int(state_dict["yielded"])


class _EpochShardSampler(_ShardSampler):
    """Samplers with a global epoch order (:meth:`_epoch_order`), sharded ``DistributedSampler``
    style: rank ``r`` takes every ``num_replicas``-th index from ``r``."""

    def _epoch_order(self, epoch: int) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError

    # ------------------------------------------------------------------ epoch order
    def _cache_key(self, epoch: int) -> Any:
        return epoch

    def _order(self, epoch: int) -> np.ndarray:
        key = self._cache_key(epoch)
        if self._cache is None or self._cache[0] != key:
            order = np.ascontiguousarray(self._epoch_order(epoch))
            order.flags.writeable = False
            self._cache = (key, order)
        return self._cache[1]

    def _sizes(self, n: int) -> tuple[int, int]:
        """(indices per rank, total_size) for an epoch of ``n`` indices."""
        r = self.num_replicas
        per_rank = n // r if self.drop_last else -(-n // r)
        return per_rank, per_rank * r

    def epoch_indices(self, epoch: int | None = None) -> np.ndarray:
        """All ranks' indices of ``epoch`` in global order, padded or truncated to ``total_size``.

        Rank ``r`` iterates ``epoch_indices(epoch)[r::num_replicas]``.

        Parameters
        ----------
        epoch : int, default=None
            The epoch; ``None`` means the one set by :meth:`set_epoch`.

        Returns
        -------
        ndarray of int32 (int64 from 2^31 samples on), shape (total_size,)

        Examples
        --------
        >>> from curate.sampler import WeightedSampler
        >>> s = WeightedSampler([1.0, 0.0, 1.0], 5, num_replicas=2, rank=0)
        >>> idx = s.epoch_indices(0)
        >>> len(idx), sorted(set(idx.tolist())) <= [0, 2]
        (6, True)
        """
        epoch = self.epoch if epoch is None else check_epoch(epoch, self._owner)
        order = self._order(epoch)
        _, total = self._sizes(len(order))
        if total <= len(order):
            return order[:total]
        return np.concatenate([order, np.resize(order, total - len(order))])

    def _shard(self, epoch: int) -> list[np.ndarray]:
        """This rank's indices of ``epoch`` as views of the cached order (plus the wrapped
        padding, at most ``num_replicas`` - 1 indices): no copy of the epoch."""
        order = self._order(epoch)
        per_rank, _ = self._sizes(len(order))
        head = order[self.rank::self.num_replicas][:per_rank]
        if len(head) == per_rank:
            return [head]
        pos = self.rank + self.num_replicas * np.arange(len(head), per_rank)
        return [head, order[pos % len(order)]]

    def __len__(self) -> int:
        return self._sizes(len(self._order(self.epoch)))[0]


class BalancedSampler(_EpochShardSampler):
    """Sample a :class:`~curate.BalancePlan` anew every epoch, sharded across DDP ranks.

    Epoch ``e`` iterates the indices of ``plan.draw(e)`` (sample ``i`` repeated ``x_i``
    times): class totals as planned, with different samples dropped or repeated from epoch to
    epoch, so every sample is seen within ``plan.coverage_epochs`` epochs. The order is
    shuffled with a numpy generator seeded by ``(seed, e)``; with the default seed it equals
    ``plan.indices(e)``. Memory per process: the epoch is one int32 array (int64 from 2^31
    samples on), shuffled in place; a balancer (systematic) plan is drawn 2^20 samples at a
    time, so no N-sized int64 array is made; iteration turns 65 536 indices at a time into
    Python ints.

    .. warning::
        Call :meth:`set_epoch` before each epoch (``sampler.set_epoch(epoch)``), with the same
        epoch on every rank. Otherwise every epoch repeats the draw and order of epoch 0.
        PyTorch Lightning calls it for you.

    Under ``torch.distributed`` (a process group of ``num_replicas`` ranks) the constructor is
    a collective call: every rank must build the sampler. It checks with
    ``all_gather_object`` that every rank holds the same plan (:attr:`BalancePlan.digest`)
    and seed, and raises otherwise; :meth:`load_state_dict` refuses a state saved under
    another plan.

    Parameters
    ----------
    plan_or_table : BalancePlan or LabelTable
        The plan to sample, or the labels to fit ``balancer`` on.
    balancer : object with ``fit(table) -> BalancePlan``, default=None
        Required with a table; fitted lazily, once, on first use. Under ``torch.distributed``
        rank 0 fits it when the sampler is built and broadcasts the plan; a plan stopped by
        its ``time_limit`` is refused there.
    num_replicas : int, default=None
        Number of ranks; ``None`` reads ``torch.distributed.get_world_size()`` when a process
        group is initialised, else 1.
    rank : int, default=None
        This process's rank in ``[0, num_replicas - 1]``; ``None`` reads
        ``torch.distributed.get_rank()`` when initialised, else 0.
    shuffle : bool, default=True
        Shuffle each epoch; ``False`` yields indices in sample order (repeats adjacent).
    seed : int, default=None
        Seeds the epoch shuffle as ``numpy.random.default_rng([seed, epoch, 2])``. ``None``
        uses ``plan.seed``, which the plan also uses for its draws: the same number on every
        rank without configuration. The draw itself (which samples are dropped or repeated)
        is always seeded by ``plan.seed``. Must be identical on all ranks.
    drop_last : bool, default=False
        ``False`` pads the epoch by wrapping around to a multiple of ``num_replicas``
        (a few indices are seen twice); ``True`` drops the tail instead.

    Attributes
    ----------
    epoch : int
        The epoch set by :meth:`set_epoch`.

    See Also
    --------
    WeightedSampler : the same contract for per-sample weights.
    torch.utils.data.DistributedSampler : the sharding rules copied here.

    Examples
    --------
    >>> import curate
    >>> from curate.balance import BalancePlan
    >>> t = curate.LabelTable.from_labels([["a"], ["a"], ["a"], ["a"], ["b"]])
    >>> plan = BalancePlan.from_multiplicity(t, [1, 1, 0, 0, 2], group=[0, 0, 0, 0, 1])
    >>> sampler = curate.BalancedSampler(plan, seed=0)
    >>> len(sampler)
    4
    >>> for epoch in range(2):
    ...     sampler.set_epoch(epoch)
    ...     print(sampler.class_totals().tolist())
    [2, 2]
    [2, 2]
    >>> sorted(set(sampler.epoch_indices(0).tolist()) | set(sampler.epoch_indices(1).tolist()))
    [0, 1, 2, 3, 4]
    """

    def __init__(
        self,
        plan_or_table: BalancePlan | LabelTable,
        balancer: _Balancer | None = None,
        *,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int | None = None,
        drop_last: bool = False,
    ) -> None:
        owner = "BalancedSampler"
        if isinstance(plan_or_table, BalancePlan):
            if balancer is not None:
                raise CurateValueError(
                    "balancer must be None when a BalancePlan is given; pass the table instead "
                    "of the plan to fit the balancer"
                )
        elif isinstance(plan_or_table, LabelTable):
            if balancer is None or not callable(getattr(balancer, "fit", None)):
                raise CurateTypeError(
                    "BalancedSampler(table, balancer) needs a balancer with a fit(table) "
                    f"method, such as curate.InterClassBalancer(); got {balancer!r}"
                )
        else:
            raise CurateTypeError(
                "The 'plan_or_table' parameter of BalancedSampler must be a BalancePlan or a "
                f"LabelTable. Got {type(plan_or_table).__name__} instead."
            )
        check_param("shuffle", shuffle, [Bool()], owner)
        check_param("seed", seed, [None, Interval(int, 0, None)], owner)
        super().__init__(num_replicas=num_replicas, rank=rank, drop_last=drop_last, owner=owner)
        self._plan = plan_or_table if isinstance(plan_or_table, BalancePlan) else None
        self._table = plan_or_table if isinstance(plan_or_table, LabelTable) else None
        self._balancer = balancer
        self.shuffle = bool(shuffle)
        self._seed = None if seed is None else int(seed)
        if _distributed(self.num_replicas):
            self._agree_on_plan()

    def _agree_on_plan(self) -> None:
        """Under ``torch.distributed``: rank 0 fits and broadcasts, then every rank compares
        plan digests (and shuffle seeds) with ``all_gather_object``; a mismatch raises."""
        if self._plan is None:
            box: list[Any] = [None]
            if dist.get_rank() == 0:
                try:
                    box[0] = self._fit()
                except Exception as exc:  # every rank must learn that rank 0 failed
                    box[0] = f"{type(exc).__name__}: {exc}"
                    dist.broadcast_object_list(box, src=0)
                    raise
            dist.broadcast_object_list(box, src=0)
            if isinstance(box[0], str):
                raise CurateValueError(f"rank 0 could not fit the balancer: {box[0]}")
            self._plan = box[0]
        plan = self._plan
        assert plan is not None
        if plan.status.value == "time_limit":
            raise CurateValueError(
                "the plan was stopped by its time_limit, so it depends on machine load; under "
                "DDP use a plan solved to the end (time_limit=None), or fit once, save it and "
                "pass BalancedSampler.from_manifest(path)"
            )
        self._agree((plan.digest, self.seed),
                    "plan or seed (build the plan from the same table and options with "
                    "time_limit=None, or load one saved plan with "
                    "BalancedSampler.from_manifest)")

    @classmethod
    def from_manifest(
        cls, path: str | Path, *, table: LabelTable | None = None, **kwargs: Any
    ) -> BalancedSampler:
        """Build a sampler from a plan saved with ``BalancePlan.save`` (the DDP-safe route).

        Parameters
        ----------
        path : str or Path
            Manifest written by ``plan.save(path)``.
        table : LabelTable, default=None
            The original labels, passed to ``BalancePlan.load`` (checked against the stored
            checksum); ``None`` rebuilds them from the manifest.
        **kwargs
            Keyword options of :class:`BalancedSampler` (``num_replicas``, ``rank``,
            ``shuffle``, ``seed``, ``drop_last``).

        Returns
        -------
        BalancedSampler

        Examples
        --------
        >>> import os, tempfile
        >>> import curate
        >>> from curate.balance import BalancePlan
        >>> t = curate.LabelTable.from_labels([["a"], ["a"], ["b"]], sample_ids=["p", "q", "r"])
        >>> plan = BalancePlan.from_multiplicity(t, [1, 0, 2], seed=1)
        >>> with tempfile.TemporaryDirectory() as d:
        ...     s = curate.BalancedSampler.from_manifest(plan.save(os.path.join(d, "m.parquet")))
        >>> list(s) == list(curate.BalancedSampler(plan))
        True
        """
        return cls(BalancePlan.load(path, table=table), **kwargs)

    def _fit(self) -> BalancePlan:
        plan = self._balancer.fit(self._table)  # type: ignore[union-attr,arg-type]
        if not isinstance(plan, BalancePlan):
            raise CurateTypeError(
                f"balancer.fit(table) must return a BalancePlan; got {type(plan).__name__}"
            )
        return plan

    @property
    def plan(self) -> BalancePlan:
        """The plan sampled (fitting the balancer on first access when built from a table)."""
        if self._plan is None:
            self._plan = self._fit()
        return self._plan

    def _extra_state(self) -> dict[str, Any]:
        return {"plan_digest": self.plan.digest}

    def _check_extra_state(self, extra: dict[str, Any]) -> None:
        if "plan_digest" in extra and extra["plan_digest"] != self.plan.digest:
            raise CurateValueError(
                f"state_dict was saved while sampling another plan (digest "
                f"{str(extra['plan_digest'])[:12]}…, this sampler's plan "
                f"{self.plan.digest[:12]}…); resume with the plan the run started with"
            )

    @property
    def seed(self) -> int:
        """The shuffle seed (``plan.seed`` unless given)."""
        return self.plan.seed if self._seed is None else self._seed

    def _set_seed(self, seed: int) -> None:
        self._seed = seed

    def _epoch_order(self, epoch: int) -> np.ndarray:
        plan = self.plan
        idx = _repeat_indices(_draw_blocks(plan, epoch), plan.n_samples)
        if self.shuffle:  # in place: the order of Generator.permutation, without a copy
            np.random.default_rng([self.seed, epoch, 2]).shuffle(idx)
        return idx

    def class_totals(self, epoch: int | None = None) -> pd.Series:
        """Class totals of one epoch over all ranks (padding included, dropped tail excluded).

        With ``num_replicas=1`` (or an epoch size divisible by it) these equal
        ``plan.class_totals(plan.draw(epoch))``.

        Parameters
        ----------
        epoch : int, default=None
            The epoch; ``None`` means the one set by :meth:`set_epoch`.

        Returns
        -------
        pandas.Series
            Indexed by class name.

        Examples
        --------
        >>> import curate
        >>> from curate.balance import BalancePlan
        >>> t = curate.LabelTable.from_labels([["a"], ["a"], ["b"]])
        >>> plan = BalancePlan.from_multiplicity(t, [1, 0, 2])
        >>> curate.BalancedSampler(plan).class_totals(0).to_dict()
        {'a': 1, 'b': 2}
        """
        epoch = self.epoch if epoch is None else check_epoch(epoch, self._owner)
        x = np.bincount(self.epoch_indices(epoch), minlength=self.plan.n_samples)
        return self.plan.class_totals(x).rename(f"epoch {epoch}")

    def __repr__(self) -> str:
        return (
            f"BalancedSampler(plan={self._plan!r}, num_replicas={self.num_replicas}, "
            f"rank={self.rank}, shuffle={self.shuffle}, seed={self._seed}, "
            f"drop_last={self.drop_last})"
        )


class WeightedSampler(_EpochShardSampler):
    """Draw indices with probability proportional to ``weights``, sharded across DDP ranks.

    A drop-in for :class:`torch.utils.data.WeightedRandomSampler` (same first three
    arguments) that adds DDP sharding, mid-epoch resume and a seed, and has no limit on the
    number of categories (``torch.multinomial`` refuses more than 2^24).

    * ``replacement=True``: ``num_samples`` independent draws by inverse-CDF sampling,
      ``searchsorted(cumsum(weights), u)``, with ``u`` drawn as sorted uniforms (normalised
      exponential spacings) so the search is cache-friendly, then shuffled.
    * ``replacement=False``: weighted sampling without replacement by Efraimidis–Spirakis keys
      ``E_i / w_i`` (``E_i`` standard exponential); the ``num_samples`` smallest keys, in
      increasing order, have the distribution of successive draws without replacement, as
      ``torch.multinomial(..., replacement=False)``.

    All ranks draw the same global epoch from ``numpy.random.default_rng([seed, epoch, 3])``
    and take their shard of it, as :class:`BalancedSampler` does. Like
    ``WeightedRandomSampler``, every ``__iter__`` draws anew: iterating again without a
    :meth:`set_epoch` in between takes the next draw of the epoch
    (``default_rng([seed, epoch, 3, k])`` for the ``k``-th repeat), so a loop that never calls
    :meth:`set_epoch` still sees fresh draws. Calling :meth:`set_epoch` each epoch (what
    Lightning and DDP loops do) makes the draws a function of the epoch alone.

    Parameters
    ----------
    weights : array-like of shape (n_samples,)
        Non-negative finite weights (need not sum to one), at least one positive.
    num_samples : int
        Indices per epoch over all ranks (per rank: ``ceil(num_samples / num_replicas)``,
        or ``floor`` with ``drop_last``).
    replacement : bool, default=True
        Draw with replacement; ``False`` needs ``num_samples`` <= the number of positive
        weights.
    seed : int, default=0
        Seeds every epoch's draw; must be the same on every rank.
    num_replicas : int, default=None
        Number of ranks; ``None`` reads ``torch.distributed`` when initialised, else 1.
    rank : int, default=None
        This process's rank; ``None`` reads ``torch.distributed`` when initialised, else 0.
    drop_last : bool, default=False
        Pad by wrapping around (``False``) or drop the tail (``True``) to split evenly.
    generator : torch.Generator, default=None
        As in ``WeightedRandomSampler``: when given, every ``__iter__`` takes a fresh seed
        from it (``seed`` must then be left at 0). Under DDP every rank needs an identically
        seeded generator.

    See Also
    --------
    BalancedSampler : per-epoch redraws of a balancing plan.

    Examples
    --------
    >>> from curate import WeightedSampler
    >>> s = WeightedSampler([0.1, 0.0, 0.9], 8, seed=0)
    >>> idx = list(s)
    >>> len(idx), 1 in idx
    (8, False)
    >>> WeightedSampler([1.0, 1.0, 2.0], 3, replacement=False, seed=0).epoch_indices(0).size
    3
    """

    def __init__(
        self,
        weights: Sequence[float] | np.ndarray | torch.Tensor,
        num_samples: int,
        replacement: bool = True,
        *,
        seed: int = 0,
        num_replicas: int | None = None,
        rank: int | None = None,
        drop_last: bool = False,
        generator: torch.Generator | None = None,
    ) -> None:
        owner = "WeightedSampler"
        if generator is not None and not isinstance(generator, torch.Generator):
            raise CurateTypeError(
                "The 'generator' parameter of WeightedSampler must be a torch.Generator or "
                f"None. Got {type(generator).__name__} instead."
            )
        if generator is not None and seed != 0:
            raise CurateValueError(
                "pass either seed or generator to WeightedSampler, not both: with a generator "
                "every iteration takes its seed from it"
            )
        check_param("num_samples", num_samples, [Interval(int, 1, None)], owner)
        check_param("replacement", replacement, [Bool()], owner)
        check_param("seed", seed, [Interval(int, 0, None)], owner)
        super().__init__(num_replicas=num_replicas, rank=rank, drop_last=drop_last, owner=owner)
        self.weights = _check_weights(weights)
        # draws use weights / max: the same distribution, without under- or overflow in the
        # cumulative sums and the exponential keys (1e-320 weights drew index 0 only); the
        # scaled copy is made per draw, not kept next to the weights
        self._w_max = float(self.weights.max())
        self.num_samples = int(num_samples)
        self.replacement = bool(replacement)
        self._seed = int(seed)
        self.generator = generator
        self._gen_before: torch.Tensor | None = None  # generator state before the last seed
        self._draw = 0  # repeats of this epoch without set_epoch in between
        self._iterated = False
        n_pos = int(np.count_nonzero(self.weights))
        if not self.replacement and self.num_samples > n_pos:
            raise CurateValueError(
                f"num_samples={self.num_samples} exceeds the {n_pos} positive weights; "
                "without replacement each index is drawn at most once: lower num_samples "
                "or use replacement=True"
            )
        self._cdf: np.ndarray | None = None
        if _distributed(self.num_replicas):
            if generator is not None:
                raise CurateValueError(
                    "WeightedSampler under torch.distributed takes seed=, not generator=: "
                    "every rank must draw the same epochs, and nothing checks that the ranks' "
                    "generators agree"
                )
            digest = hashlib.sha256(self.weights.tobytes()).hexdigest()
            self._agree((digest, self.num_samples, self.replacement, self._seed),
                        "weights, num_samples, replacement or seed")

    @property
    def seed(self) -> int:
        """The seed of every epoch's draw."""
        return self._seed

    def _set_seed(self, seed: int) -> None:
        self._seed = seed

    def _cache_key(self, epoch: int) -> Any:
        return (self._seed, epoch, self._draw)

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch of the next iteration (and restart its draws at the first one).

        Parameters
        ----------
        epoch : int
            Non-negative epoch number; the same on every rank.

        Examples
        --------
        >>> s = WeightedSampler([1.0, 2.0], 4)
        >>> s.set_epoch(3)
        >>> s.epoch
        3
        """
        super().set_epoch(epoch)
        self._draw = 0
        self._iterated = False

    def __iter__(self) -> Iterator[int]:
        live = self._live
        if (self._iterated and not self._resume_at and live is not None
                and live[2].position() > live[2].start):
            # no set_epoch since a pass that yielded indices: draw anew (an iterator made and
            # dropped unused, as torchdata's StatefulDataLoader does while restoring, is no pass)
            self._draw += 1
        if self.generator is not None and not self._resume_at:
            self._gen_before = self.generator.get_state()  # what a checkpoint restores
            self._seed = _seed_from(self.generator)
        self._iterated = True
        return super().__iter__()

    def _extra_state(self) -> dict[str, Any]:
        extra: dict[str, Any] = {"draw": int(self._draw)}
        if self.generator is not None:
            # the state before this pass drew its seed: a resume that has not yielded yet
            # draws the same seed again, one that has (or a finished pass) redraws it to
            # move the generator on; later epochs then take the same seeds as this run
            before = self._gen_before
            extra["generator_state"] = (self.generator.get_state() if before is None
                                        else before).tolist()
        return extra

    def _check_extra_state(self, extra: dict[str, Any]) -> None:
        check_param("draw", extra.get("draw", 0), [Interval(int, 0, None)], self._owner)
        saved = extra.get("generator_state")
        if saved is not None and self.generator is None:
            raise CurateValueError(
                "state_dict comes from a WeightedSampler with generator=, this one has none; "
                "pass a torch.Generator (its state is restored from the checkpoint)"
            )
        if saved is not None and (
                not isinstance(saved, list)
                or not all(isinstance(b, int) and 0 <= b < 256 for b in saved)):
            raise CurateValueError(
                "state_dict['generator_state'] must be the list of byte values that "
                "WeightedSampler.state_dict() saved"
            )
        if saved is None and self.generator is not None:
            warnings.warn(
                "state_dict holds no generator state: the interrupted epoch resumes exactly, "
                "but later epochs take their seeds from this generator as it is, not as the "
                "interrupted run's was", UserWarning, stacklevel=4)

    def _load_extra_state(self, extra: dict[str, Any]) -> None:
        self._check_extra_state(extra)
        self._draw = int(extra.get("draw", 0))
        self._iterated = False

    def _restore_generator(self, extra: dict[str, Any], seed: int, *, started: bool) -> None:
        saved = extra.get("generator_state")
        if saved is None or self.generator is None:
            return
        state = torch.tensor(saved, dtype=torch.uint8)
        try:
            self.generator.set_state(state)
        except RuntimeError as exc:  # another generator kind (device) or a cut state
            raise CurateValueError(
                f"state_dict['generator_state'] does not fit this generator ({exc}); "
                "resume with a generator of the same kind as the checkpointed one"
            ) from exc
        self._gen_before = state
        if started and _seed_from(self.generator) != seed:
            raise CurateValueError(
                "state_dict['generator_state'] does not give the checkpoint's seed; pass a "
                "state_dict from WeightedSampler.state_dict() unchanged"
            )

    def _epoch_order(self, epoch: int) -> np.ndarray:
        key = [self._seed, epoch, 3] + ([self._draw] if self._draw else [])
        rng = np.random.default_rng(key)
        m = self.num_samples
        if not self.replacement:
            with np.errstate(divide="ignore"):
                keys = rng.standard_exponential(len(self.weights))
                keys /= self.weights / self._w_max
            top = np.argpartition(keys, m - 1)[:m] if m < len(keys) else np.arange(len(keys))
            return top[np.argsort(keys[top], kind="stable")].astype(_index_dtype(len(keys)))
        if self._cdf is None:
            self._cdf = np.cumsum(self.weights / self._w_max)
        cdf = self._cdf
        # every step in place (the values and the order are those of the out-of-place code)
        spacings = rng.standard_exponential(m + 1)
        np.cumsum(spacings, out=spacings)
        spacings *= cdf[-1] / spacings[m]
        u = spacings[:m]  # sorted uniforms on (0, total)
        idx = np.searchsorted(cdf, u, side="right")
        del spacings, u
        np.minimum(idx, len(cdf) - 1, out=idx)
        idx = idx.astype(_index_dtype(len(cdf)))
        rng.shuffle(idx)  # in place: the order of rng.permutation(idx)
        return idx

    def __repr__(self) -> str:
        return (
            f"WeightedSampler(n_weights={len(self.weights)}, num_samples={self.num_samples}, "
            f"replacement={self.replacement}, seed={self._seed}, "
            f"num_replicas={self.num_replicas}, rank={self.rank}, drop_last={self.drop_last})"
        )


def _seed_from(generator: torch.Generator) -> int:
    """The seed of one ``WeightedSampler`` pass, drawn from a user's generator."""
    return int(torch.randint(0, 2**62, (1,), generator=generator).item())


def _check_weights(weights: Any) -> np.ndarray:
    if isinstance(weights, torch.Tensor):
        weights = weights.detach().cpu().numpy()
    try:
        w = np.array(weights, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise CurateTypeError(
            f"weights must be a 1-D sequence of numbers; got {type(weights).__name__}"
        ) from exc
    if w.ndim != 1 or w.size == 0:
        raise CurateValueError(
            f"weights must be a non-empty 1-D sequence (one weight per sample); got shape {w.shape}"
        )
    bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
    if bad.size:
        i = int(bad[0])
        raise CurateValueError(
            f"weights[{i}] is {w[i].tolist()}; weights must be finite and >= 0"
        )
    if not w.any():
        raise CurateValueError("weights are all zero; at least one weight must be positive")
    w.flags.writeable = False
    return w


#: samples drawn and expanded per block (bounds the draw's temporaries to this size)
_BLOCK = 1 << 20


def _index_dtype(n: int) -> type[np.signedinteger[Any]]:
    """int32 for indices below 2^31 (half the memory of int64), else int64."""
    return np.int32 if n < 2**31 else np.int64


def _draw_blocks(plan: BalancePlan, epoch: int) -> list[np.ndarray]:
    """``plan.draw(epoch)`` as consecutive blocks of rows, each in the smallest dtype.

    A systematic plan (the balancer's) draws ``_BLOCK`` rows at a time from the epoch's
    per-group state (:meth:`curate.balance._draw.Systematic.draw_rows`: any subset of rows
    gets exactly its entries of the whole draw), so no N-sized int64 array or temporary
    exists: the blocks hold one byte per sample for up to 255 copies. Other roundings
    draw the whole epoch at once.
    """
    if plan.rounding != "systematic":
        return [plan.draw(epoch)]
    systematic = plan._systematic
    state = systematic.epoch_state(epoch)
    rank = systematic._members[1]
    blocks = []
    for lo in range(0, plan.n_samples, _BLOCK):
        x = state.draw(plan.group[lo:lo + _BLOCK], rank[lo:lo + _BLOCK])
        blocks.append(x.astype(np.min_scalar_type(int(x.max()))) if len(x) else x)
    return blocks


def _repeat_indices(blocks: list[np.ndarray], n: int) -> np.ndarray:
    """``np.repeat(arange(n), concatenate(blocks))`` in int32 where it fits, block by block
    (no N-sized arange or concatenation)."""
    total = sum(int(b.sum()) for b in blocks)
    out = np.empty(total, dtype=_index_dtype(n))
    pos = lo = 0
    for block in blocks:
        for i in range(0, len(block), _BLOCK):
            x = block[i:i + _BLOCK]
            part = np.repeat(np.arange(lo + i, lo + i + len(x), dtype=out.dtype), x)
            out[pos:pos + len(part)] = part
            pos += len(part)
        lo += len(block)
    return out
