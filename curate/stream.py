"""``BalancedIterable``: rebalance a *streaming* dataset (WebDataset, HF streaming, generators).

A map-style dataset is rebalanced by a sampler that picks indices; a stream has no indices, so
:class:`BalancedIterable` decides, sample by sample as the stream goes by, how many copies of
each sample to yield this epoch (0 = skip it), and mixes the copies through a bounded shuffle
buffer so that copies of one sample do not come out next to each other.

Two ways to decide the number of copies:

``mode="plan"``
    A :class:`~curate.BalancePlan` made beforehand from the labels alone (a cheap first pass:
    labels are tiny next to images or text) gives every sample key its multiplicity for the
    epoch, ``plan.draw(epoch)``. Class totals of an epoch, summed over every DataLoader worker
    and DDP rank, equal the plan's exactly.
``mode="online"``
    No first pass: the multiplicity comes from running class frequencies of the stream
    (repeat-factor style, Gupta et al. 2019), so class totals are balanced in expectation only;
    see :class:`BalancedIterable` for the error bound of the running estimate.

Sharding contract: the *source* shards the stream by DDP rank and DataLoader worker
(``wds.split_by_node``/``split_by_worker``, ``datasets.distributed.split_dataset_by_node`` and
HF's own worker split), so that every sample of an epoch reaches exactly one (rank, worker).
Multiplicities in plan mode are a function of ``(plan, epoch, key)`` alone, so the copies of
all ranks together are the plan's epoch, whatever the split. For a source that does not shard
itself (a plain generator), pass ``shard=True``: sample ``j`` of the stream then goes to
(rank, worker) number ``j mod (num_replicas * num_workers)``.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import numpy as np
import torch.distributed as dist
from torch.utils.data import IterableDataset, get_worker_info

from curate._validation import Bool, Interval, Options, StrEnum, check_param, param_error
from curate.exceptions import CurateTypeError, CurateValueError

__all__ = ["BalancedIterable", "StreamMode"]

_OWNER = "BalancedIterable"
_STATE_VERSION = 1
_UNIFORM_BATCH = 4096


class StreamMode(StrEnum):
    """Where the multiplicities of :class:`BalancedIterable` come from.

    Examples
    --------
    >>> StreamMode.from_str("online") is StreamMode.ONLINE
    True
    """

    PLAN = "plan"  # a BalancePlan keyed by sample key: exact per-epoch class totals
    ONLINE = "online"  # running class frequencies: balanced in expectation, no first pass


class _Field:
    """Picklable getter of one field of a (dict) sample; names the field on error."""

    def __init__(self, field: str, name: str) -> None:
        self.field, self.name = field, name

    def __call__(self, sample: Any) -> Any:
        try:
            return sample[self.field]
        except (KeyError, IndexError, TypeError) as exc:
            shown = sorted(map(str, sample)) if isinstance(sample, Mapping) else type(sample)
            raise CurateValueError(
                f"{self.name}={self.field!r}: a sample from the source has no field "
                f"{self.field!r} (it has {shown}); pass {self.name}= the field that holds it, "
                "or a callable"
            ) from exc


def _field_getter(spec: Any, name: str) -> Callable[[Any], Any]:
    """Turn ``"field"`` (a dict key) or a callable into a getter."""
    if callable(spec):
        return spec  # type: ignore[no-any-return]
    if not isinstance(spec, str):
        raise param_error(name, _OWNER, "a str (a field of each sample) or a callable sample "
                          "-> value", spec, wrong_type=True)
    return _Field(spec, name)


def _as_label_list(value: Any) -> list[Any]:
    """Labels of one sample as a list (a scalar is one label; ``None`` is no label)."""
    if value is None:
        return []
    if isinstance(value, str | bytes | int | np.integer):
        return [value]
    if hasattr(value, "tolist"):
        value = value.tolist()
        return value if isinstance(value, list) else [value]
    return list(value)


def _plan_digest(plan: Any) -> str:
    """A digest identical in every process for the same plan (``plan.digest`` when present)."""
    digest = getattr(plan, "digest", None)
    if isinstance(digest, str):
        return digest
    h = hashlib.sha256()
    h.update(str(int(plan.seed)).encode())
    h.update(np.ascontiguousarray(plan.group, dtype=np.int64).tobytes())
    h.update(np.ascontiguousarray(plan.group_total, dtype=np.float64).tobytes())
    return h.hexdigest()


def _uniforms(seed: list[int]) -> Callable[[], float]:
    """``next`` of an endless iterator of uniform [0, 1) numbers from a seeded generator.

    Drawn in batches of ``_UNIFORM_BATCH``; the returned callable is C-level (a bound
    ``__next__`` of ``itertools.chain``), so a draw costs no Python call.
    """
    rng = np.random.default_rng(seed)
    batches = (rng.random(_UNIFORM_BATCH).tolist() for _ in itertools.repeat(None))
    return itertools.chain.from_iterable(batches).__next__


_NOTHING = object()  # "no copy popped yet": compared by identity with the samples


class _OnlineRate:
    """Running class frequencies and the repeat factor they give (one per stream)."""

    def __init__(self, *, threshold: float | None, power: float, max_repeats: int,
                 undersample: bool, background: Any, prior: Mapping[Any, int] | None,
                 prior_samples: int | None) -> None:
        self.threshold, self.power, self.max_repeats = threshold, power, max_repeats
        self.undersample, self.background = undersample, background
        self.counts: dict[Any, int] = {k: int(v) for k, v in (prior or {}).items()
                                       if k != background}
        if prior_samples is None:
            prior_samples = int(sum(self.counts.values()))
        self.seen = int(prior_samples)

    def rate(self, labels: list[Any]) -> float:
        """Update the running counts with ``labels`` and return the sample's repeat factor."""
        self.seen += 1
        present = {lab for lab in labels if lab != self.background}
        for lab in present:
            self.counts[lab] = self.counts.get(lab, 0) + 1
        if not present:
            return 1.0
        t = self.threshold if self.threshold is not None else 1.0 / len(self.counts)
        best = max((t * self.seen / self.counts[lab]) ** self.power for lab in present)
        r = min(best, float(self.max_repeats))
        return r if self.undersample else max(r, 1.0)


class BalancedIterable(IterableDataset):  # type: ignore[type-arg]
    """Yield each sample of a stream as many times as a balance plan (or running counts) says.

    Parameters
    ----------
    source : iterable
        Any iterable of samples: a torch ``IterableDataset``, a WebDataset pipeline, a Hugging
        Face ``IterableDataset``, a list, or a callable returning a fresh iterator per epoch
        (a generator *function*, not a generator: a generator can be iterated only once).
    plan : BalancePlan, default=None
        Required with ``mode="plan"``; ``plan.table.sample_ids`` are the keys.
    key : str or callable, default="__key__"
        The sample key (plan mode): a field of each (dict) sample, or ``sample -> key``.
        Keys are compared as strings with ``str(plan.table.sample_ids)``.
    labels : str or callable, default=None
        The sample's labels (online mode): a field or ``sample -> label or list of labels``.
    mode : {"plan", "online"}, default=None
        ``None``: ``"plan"`` when ``plan`` is given, else ``"online"`` (which needs
        ``labels``).
    transform : callable, default=None
        Applied to each yielded copy (decode + augment here): skipped samples are never
        decoded, and every copy is transformed on its own, so random augmentations differ.
    buffer_size : int, default=1024
        Copies held in the shuffle buffer. A copy leaves the buffer at a random position,
        never right after another copy of the same sample unless only copies of that sample
        are left (at the end of the stream).
    seed : int, default=0
        Seeds the buffer and the stochastic rounding per ``(seed, epoch, rank, worker)``.
    shard : bool, default=False
        ``True``: keep only every ``num_replicas * num_workers``-th sample of the stream (for
        sources that do not shard themselves). ``False``: the source shards.
    num_replicas, rank : int, default=None
        DDP world size and rank; ``None`` reads them from ``torch.distributed`` when it is
        initialised (else 1 and 0). They seed the buffer and drive ``shard=True``.
    on_missing : {"error", "skip", "keep"}, default="error"
        Plan mode, a key that is not in the plan: raise, yield it 0 times, or once.
    threshold : float, default=None
        Online mode: target class frequency ``t``; ``None`` is ``1 / K`` for the ``K``
        classes seen so far (a uniform target).
    power : float, default=1.0
        Online mode: repeat factor ``r_c = (t / f_c) ** power``; ``0.5`` with
        ``threshold=0.001`` and ``undersample=False`` is LVIS repeat-factor sampling.
    max_repeats : int, default=10
        Online mode: cap on a sample's repeat factor.
    undersample : bool, default=True
        Online mode: allow ``r < 1`` (samples of frequent classes are skipped with
        probability ``1 - r``); ``False`` only repeats.
    background : str, default=None
        Online mode: a label that does not count (samples with only background get ``r = 1``).
    prior : mapping of label to int, default=None
        Online mode: class counts (samples holding the class) to start the running counts
        from, e.g. from a previous epoch or a sample of the stream.
    prior_samples : int, default=None
        Online mode: the number of samples ``prior`` was counted on; ``None`` is the sum of
        ``prior`` (right for single-label data).

    Notes
    -----
    **Online mode.** After the stream has shown ``n`` samples, ``n_c`` of them holding class
    ``c``, the running frequency is ``f̂_c = n_c / n``. A sample's repeat factor is
    ``r = min(max_repeats, max_c (t / f̂_c) ** power)`` over its classes (``max(r, 1)`` unless
    ``undersample``), and it is yielded ``floor(r)`` times plus once more with probability
    ``r - floor(r)``. With ``power=1``, ``t = 1/K`` and single-label data, the expected
    total of every class is ``n / K``. The running estimate is off early in the stream: when
    the stream is in random order (shuffled shards), the multiplicative Chernoff bound gives
    ``P(|f̂_c - f_c| > ε f_c) ≤ 2 exp(-ε² n f_c / 3)``, so with probability ``1 - δ`` the
    relative error of ``f̂_c`` is at most ``ε = sqrt(3 ln(2/δ) / (n f_c))`` — it depends on
    how many samples of ``c`` were seen (``n f_c``), e.g. ``ε ≤ 0.24`` once 200 have gone by
    (``δ = 0.05``) — and the repeat factor's relative error is at most
    ``(1 - ε) ** -power - 1``. Samples of class ``c`` before that are weighted with the
    noisier estimate; ``prior`` removes this warm-up. A stream sorted by class breaks the
    bound (the estimate is then not a random sample): shuffle the shards.

    **Resume.** :meth:`state_dict` records the epoch and how many copies this (rank, worker)
    has yielded; after :meth:`load_state_dict` the next iteration replays the epoch's
    decisions without transforming anything and yields exactly the rest. This needs the
    source to give the same order for the same epoch (seeded shard shuffles); the replayed
    prefix is read again, not decoded. torchdata's ``StatefulDataLoader`` calls both methods
    in every worker.

    .. warning::
        Call :meth:`set_epoch` before each epoch, as with ``DistributedSampler``. DataLoader
        workers see the epoch that was set when they started: use
        ``persistent_workers=False`` (the default), or the epoch never advances in them.

    References
    ----------
    Gupta, Dollár and Girshick, "LVIS: A Dataset for Large Vocabulary Instance
    Segmentation", CVPR 2019 (repeat-factor sampling).

    Examples
    --------
    >>> import curate
    >>> table = curate.LabelTable.from_labels([["a"], ["a"], ["b"]], sample_ids=["x", "y", "z"])
    >>> plan = curate.BalancePlan.from_multiplicity(table, [1, 0, 2])
    >>> samples = [{"__key__": k} for k in ["x", "y", "z"]]
    >>> stream = BalancedIterable(samples, plan, buffer_size=4)
    >>> sorted(s["__key__"] for s in stream)
    ['x', 'z', 'z']
    """

    def __init__(
        self,
        source: Iterable[Any] | Callable[[], Iterable[Any]],
        plan: Any = None,
        *,
        key: str | Callable[[Any], Any] = "__key__",
        labels: str | Callable[[Any], Any] | None = None,
        mode: str | None = None,
        transform: Callable[[Any], Any] | None = None,
        buffer_size: int = 1024,
        seed: int = 0,
        shard: bool = False,
        num_replicas: int | None = None,
        rank: int | None = None,
        on_missing: str = "error",
        threshold: float | None = None,
        power: float = 1.0,
        max_repeats: int = 10,
        undersample: bool = True,
        background: Any = None,
        prior: Mapping[Any, int] | None = None,
        prior_samples: int | None = None,
    ) -> None:
        if mode is None:
            mode = "plan" if plan is not None else "online"
        self.mode = StreamMode.from_str(mode, "mode", _OWNER)
        _check_args(locals())
        if not callable(source) and not isinstance(source, Iterable):
            raise param_error("source", _OWNER, "an iterable of samples or a callable "
                              "returning one", source, wrong_type=True)
        if self.mode is StreamMode.PLAN:
            if plan is None or not hasattr(plan, "draw") or not hasattr(plan, "table"):
                raise CurateValueError(
                    f"mode='plan' needs a BalancePlan (plan={plan!r}); pass one from "
                    "InterClassBalancer().fit(table) or BalancePlan.load(path), or "
                    "mode='online' with labels="
                )
            self._key = _field_getter(key, "key")
        elif labels is None:
            raise CurateValueError(
                "mode='online' needs labels= (a field of each sample or a callable "
                "sample -> labels); pass labels='cls' for example"
            )
        self._labels = None if labels is None else _field_getter(labels, "labels")
        self.source, self.plan, self.transform = source, plan, transform
        self.buffer_size, self.seed, self.shard = int(buffer_size), int(seed), bool(shard)
        self.on_missing = on_missing
        self._online = dict(threshold=threshold, power=float(power),
                            max_repeats=int(max_repeats), undersample=bool(undersample),
                            background=background, prior=dict(prior) if prior else None,
                            prior_samples=prior_samples)
        self.num_replicas, self.rank = _resolve_replicas(num_replicas, rank)
        self.epoch = 0
        self._digest = _plan_digest(plan) if plan is not None else "online"
        self._index: dict[str, int] | None = None
        self._draw_cache: tuple[int, np.ndarray] | None = None
        self._resume: int = 0
        self._last: _BalancedIterator | None = None

    # ------------------------------------------------------------------ epochs
    def set_epoch(self, epoch: int) -> None:
        """Use ``epoch`` for the next iteration (redraws the plan, reseeds the buffer).

        Setting a different epoch discards a pending resume position from
        :meth:`load_state_dict`; setting the same epoch keeps it (as
        :meth:`curate.BalancedSampler.set_epoch`).

        Parameters
        ----------
        epoch : int
            Non-negative epoch number.

        Examples
        --------
        >>> s = BalancedIterable([{"x": 1}], mode="online", labels="x")
        >>> s.set_epoch(3); s.epoch
        3
        """
        check_param("epoch", epoch, [Interval(int, 0, None)], f"{_OWNER}.set_epoch")
        if int(epoch) != self.epoch:
            self._resume = 0
        self.epoch = int(epoch)

    def __iter__(self) -> Iterator[Any]:
        info = get_worker_info()
        worker, workers = (0, 1) if info is None else (int(info.id), int(info.num_workers))
        skip, self._resume = self._resume, 0
        it = _BalancedIterator(self, self.epoch, worker, workers, skip)
        self._last = it
        return it

    def __getstate__(self) -> dict[str, Any]:
        # DataLoader workers (spawn) get the settings, not this process's caches/iterators
        state = dict(self.__dict__)
        state.update(_index=None, _draw_cache=None, _last=None)
        return state

    # ------------------------------------------------------------------ plan lookup
    def _plan_index(self) -> dict[str, int]:
        if self._index is None:
            ids = self.plan.table.sample_ids.tolist()
            index = {str(k): i for i, k in enumerate(ids)}
            if len(index) < len(ids):  # samples are found by key: a repeated key loses rows
                seen: dict[str, int] = {}
                for i, k in enumerate(ids):
                    first = seen.setdefault(str(k), i)
                    if first != i:
                        raise CurateValueError(
                            f"the plan's sample_ids[{i}] = {k!r} repeats sample_ids[{first}] "
                            f"= {ids[first]!r} (as the key {str(k)!r}); BalancedIterable "
                            "finds samples by key, so give every sample its own id"
                        )
            self._index = index
        return self._index

    def _draw(self, epoch: int) -> np.ndarray:
        if self._draw_cache is None or self._draw_cache[0] != epoch:
            self._draw_cache = (epoch, np.asarray(self.plan.draw(epoch), dtype=np.int64))
        return self._draw_cache[1]

    # ------------------------------------------------------------------ resume
    def state_dict(self) -> dict[str, Any]:
        """Epoch and copies yielded so far by the latest iterator of this (rank, worker).

        Examples
        --------
        >>> s = BalancedIterable([{"x": 1}, {"x": 2}], mode="online", labels="x")
        >>> it = iter(s); _ = next(it)
        >>> s.state_dict()["yielded"]
        1
        """
        # a restored position not iterated yet is still the state; an iterator of another
        # epoch (set_epoch since) has yielded nothing of this one
        last = self._last
        if self._resume or last is None or last.epoch != self.epoch:
            yielded, complete = self._resume, False
        else:
            yielded, complete = last.position, last.done
        return {"version": _STATE_VERSION, "epoch": self.epoch, "yielded": yielded,
                "complete": complete,
                "seed": self.seed, "rank": self.rank, "num_replicas": self.num_replicas,
                "digest": self._digest}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`; the next iteration yields exactly the rest of the epoch.

        Parameters
        ----------
        state : dict
            A dict returned by :meth:`state_dict` of an iterable with the same plan, seed,
            ``rank`` and ``num_replicas``.

        Examples
        --------
        >>> s = BalancedIterable([{"x": 1}, {"x": 2}], mode="online", labels="x", seed=1)
        >>> full = [d["x"] for d in s]
        >>> t = BalancedIterable([{"x": 1}, {"x": 2}], mode="online", labels="x", seed=1)
        >>> t.load_state_dict({**s.state_dict(), "yielded": 1})
        >>> [d["x"] for d in t] == full[1:]
        True
        """
        _check_state(self, state)
        if _finished_earlier(state, self.epoch):
            return
        self.epoch = int(state["epoch"])
        self._resume = int(state["yielded"])

    def __repr__(self) -> str:
        return (f"BalancedIterable(mode={self.mode.value!r}, epoch={self.epoch}, "
                f"buffer_size={self.buffer_size}, seed={self.seed}, rank={self.rank}/"
                f"{self.num_replicas})")


class _BalancedIterator(Iterator[Any]):
    """One epoch of one (rank, worker): a stateful iterator (torchdata ``Stateful``).

    The per-copy path is kept short (it runs once per yielded sample, next to the source's
    read and decode): uniforms come from a C-level iterator over batches, the buffer's pop is
    inline, and attributes live in slots.
    """

    __slots__ = ("_gen", "_skip", "_started", "done", "epoch", "owner", "worker", "workers",
                 "yielded")

    def __init__(self, owner: BalancedIterable, epoch: int, worker: int, workers: int,
                 skip: int) -> None:
        self.owner, self.epoch, self.worker, self.workers = owner, epoch, worker, workers
        self.yielded = 0
        self.done = False  # the epoch ran to its end (a checkpoint then has nothing left)
        self._skip = skip
        self._started = False
        self._gen = self._run()  # its body starts on the first next(), after any restore

    def __next__(self) -> Any:
        return next(self._gen)

    @property
    def position(self) -> int:
        """Copies of the epoch behind this iterator: a restored one that has not replayed
        its skipped copies yet is already at the skip."""
        return max(self.yielded, self._skip)

    def state_dict(self) -> dict[str, Any]:
        state = self.owner.state_dict()
        state["yielded"] = self.position
        state["epoch"] = self.epoch
        state["complete"] = self.done
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if self._started:
            raise CurateValueError(
                "load_state_dict on a BalancedIterable iterator that has started; "
                "restore before the first next()"
            )
        _check_state(self.owner, state)
        if _finished_earlier(state, self.epoch):
            return
        self.epoch, self._skip = int(state["epoch"]), int(state["yielded"])

    # ------------------------------------------------------------------ the epoch
    def _source(self) -> Iterator[Any]:
        src = self.owner.source
        stream = src() if callable(src) and not isinstance(src, Iterable) else src
        it = iter(stream)
        if not self.owner.shard:
            return it
        owner = self.owner
        parts = owner.num_replicas * self.workers
        me = owner.rank * self.workers + self.worker
        return itertools.islice(it, me, None, parts)

    def _decider(self, uniform: Callable[[], float]) -> Callable[[Any], int]:
        owner = self.owner
        if owner.mode is StreamMode.ONLINE:
            rate = _OnlineRate(**owner._online)  # type: ignore[arg-type]
            get_labels = owner._labels
            assert get_labels is not None  # guarded in __init__

            def online(sample: Any) -> int:
                r = rate.rate(_as_label_list(get_labels(sample)))
                whole = math.floor(r)
                return whole + (uniform() < r - whole)

            return online
        index, copies = owner._plan_index(), owner._draw(self.epoch).tolist()
        get_key, missing = owner._key, owner.on_missing
        fast = operator.itemgetter(get_key.field) if isinstance(get_key, _Field) else get_key
        row_of = index.get

        def planned(sample: Any) -> int:
            try:
                k = fast(sample)
            except (KeyError, IndexError, TypeError):
                k = get_key(sample)  # raises the error that names the field and the fix
            row = row_of(k if type(k) is str else str(k))
            if row is not None:
                return copies[row]  # type: ignore[no-any-return]
            if missing == "error":
                raise CurateValueError(
                    f"key {k!r} of a sample from the source is not in the plan's "
                    f"sample_ids ({len(index)} keys); build the plan from the same label "
                    "set, or pass on_missing='skip' or 'keep'"
                )
            return 0 if missing == "skip" else 1

        return planned

    def _run(self) -> Iterator[Any]:
        self._started = True
        owner = self.owner
        uniform = _uniforms([owner.seed, self.epoch, owner.rank, self.worker, 0x5EED])
        decide = self._decider(uniform)
        transform, size, skip = owner.transform, owner.buffer_size, self._skip
        buf: list[Any] = []
        push, take = buf.append, buf.pop
        last: Any = _NOTHING
        yielded = self.yielded  # a local counter, stored before each yield (state_dict reads it)
        for sample in self._source():
            m = decide(sample)
            while m > 0:
                m -= 1
                push(sample)
                n = len(buf)
                if n < size:
                    continue
                # pop a copy at a random position, never right after its twin if avoidable
                j = int(uniform() * n)
                item = buf[j]
                if item is last and n > 1:
                    j, item = _other_than(buf, j, last)
                tail = take()
                if j < n - 1:
                    buf[j] = tail
                last = item
                yielded += 1
                if yielded > skip:  # replayed copies (resume) are not transformed
                    self.yielded = yielded
                    yield item if transform is None else transform(item)
        while buf:
            n = len(buf)
            j = int(uniform() * n)
            item = buf[j]
            if item is last and n > 1:
                j, item = _other_than(buf, j, last)
            tail = take()
            if j < n - 1:
                buf[j] = tail
            last = item
            yielded += 1
            if yielded > skip:
                self.yielded = yielded
                yield item if transform is None else transform(item)
        self.yielded = yielded
        self.done = True


def _finished_earlier(state: Mapping[str, Any], epoch: int) -> bool:
    """A checkpoint of an epoch that ran to its end, applied once ``set_epoch`` has moved
    past it: torchdata's ``StatefulDataLoader`` restores lazily, at the next iteration, so
    the state of epoch ``e`` lands after the loop's ``set_epoch(e + 1)``. Nothing of ``e`` is
    left; applying it would replay ``e`` instead of drawing ``e + 1``."""
    return bool(state.get("complete", False)) and int(state["epoch"]) < epoch


def _other_than(buf: list[Any], j: int, last: Any) -> tuple[int, Any]:
    """The first position after ``j`` (cyclically) whose item is not ``last``, and the item.

    ``(j, buf[j])`` when every item is ``last`` (only copies of one sample are left).
    """
    n = len(buf)
    for step in range(1, n):
        i = (j + step) % n
        if buf[i] is not last:
            return i, buf[i]
    return j, buf[j]


def _resolve_replicas(num_replicas: int | None, rank: int | None) -> tuple[int, int]:
    initialised = dist.is_available() and dist.is_initialized()
    if num_replicas is None:
        num_replicas = dist.get_world_size() if initialised else 1
    if rank is None:
        rank = dist.get_rank() if initialised else 0
    check_param("num_replicas", num_replicas, [Interval(int, 1, None)], _OWNER)
    check_param("rank", rank, [Interval(int, None, None)], _OWNER)
    if rank < 0 or rank >= num_replicas:
        raise CurateValueError(
            f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]"
        )
    return int(num_replicas), int(rank)


def _check_args(args: Mapping[str, Any]) -> None:
    rules: dict[str, list[Any]] = {
        "buffer_size": [Interval(int, 1, None)],
        "seed": [Interval(int, 0, None)],
        "shard": [Bool()],
        "on_missing": [Options(("error", "skip", "keep"))],
        "threshold": [Interval(float, 0, None, closed="neither"), None],
        "power": [Interval(float, 0, None, closed="neither")],
        "max_repeats": [Interval(int, 1, None)],
        "undersample": [Bool()],
        "prior_samples": [Interval(int, 0, None), None],
    }
    for name, r in rules.items():
        check_param(name, args[name], r, _OWNER)
    if args["transform"] is not None and not callable(args["transform"]):
        raise param_error("transform", _OWNER, "a callable or None", args["transform"],
                          wrong_type=True)


def _check_state(owner: BalancedIterable, state: Mapping[str, Any]) -> None:
    if not isinstance(state, Mapping):
        raise CurateTypeError(f"state must be a dict from state_dict(); got {type(state)}")
    missing = {"epoch", "yielded", "seed", "rank", "num_replicas", "digest"} - set(state)
    if missing:
        raise CurateValueError(
            f"state is missing {sorted(missing)}; pass a dict saved by "
            "BalancedIterable.state_dict()"
        )
    mine = {"seed": owner.seed, "rank": owner.rank, "num_replicas": owner.num_replicas,
            "digest": owner._digest}
    for name, value in mine.items():
        if state[name] != value:
            raise CurateValueError(
                f"state {name}={state[name]!r} does not match this BalancedIterable's "
                f"{name}={value!r}; resume with the same plan, seed and DDP layout"
            )
