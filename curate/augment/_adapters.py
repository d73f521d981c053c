"""Adapters that feed :class:`PartnerSampler` partners to composite augmentation code.

- :class:`PartnerDataset` wraps a map-style dataset and returns ``(anchor, partner, ...)``
  tuples for a user's own Mosaic/MixUp/CutMix code;
- :class:`EpochTagSampler` wraps a sampler so that every index carries its epoch, which keeps
  partners right with persistent DataLoader workers (they never see ``set_epoch``);
- :func:`attach_partners` hooks the mix transforms of an Ultralytics-style dataset (``Mosaic``,
  ``MixUp``, ``CutMix``, which pick partners with ``get_indexes()``).

None of these imports torch: a DataLoader accepts any object with ``__getitem__`` and
``__len__`` as a dataset and any iterable as a sampler.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from curate._validation import check_instance, param_error
from curate.augment._partners import _MAX_KEY, PartnerSampler, _check_key
from curate.exceptions import CurateValueError

__all__ = ["EpochTagSampler", "PartnerDataset", "PartnerHook", "attach_partners"]


def _check_sampler(partner_sampler: Any, owner: str) -> PartnerSampler:
    return check_instance("partner_sampler", partner_sampler, owner, PartnerSampler,
                          "a curate.augment.PartnerSampler")


def _split_index(index: Any, default_epoch: int) -> tuple[int, int]:
    """``i`` or ``(epoch, i)`` (from :class:`EpochTagSampler`) → ``(epoch, i)``."""
    if isinstance(index, tuple):
        if len(index) != 2:
            raise CurateValueError(
                f"index {index!r} is a tuple of length {len(index)}; pass an int or an "
                f"(epoch, index) pair as EpochTagSampler yields"
            )
        return (_check_key(index[0], "epoch", _MAX_KEY + 1),
                _check_key(index[1], "index", _MAX_KEY + 1))
    return default_epoch, _check_key(index, "index", _MAX_KEY + 1)


class PartnerDataset:
    """Map-style dataset of composites: item ``i`` is ``(dataset[i], dataset[p1], ...)``.

    The partners ``p1 .. p(k-1)`` are ``partner_sampler.partners(i, epoch)``; feed the tuple
    to your own Mosaic/MixUp/CutMix code (in ``collate_fn`` or a transform). Works as the
    ``dataset`` of a ``torch.utils.data.DataLoader`` with any sampler, including
    :class:`~curate.BalancedSampler` for the anchors.

    .. warning::
        Call :meth:`set_epoch` before each epoch, as for the sampler. DataLoader workers copy
        the dataset when an epoch's iterator starts, so this reaches them unless
        ``persistent_workers=True``; then wrap the sampler in :class:`EpochTagSampler`, whose
        ``(epoch, index)`` pairs carry the epoch to every worker.

    Parameters
    ----------
    dataset : object with ``__getitem__`` and ``__len__``
        The samples, in the order of the labels the sampler was built on.
    partner_sampler : PartnerSampler
        Chooses the partners.
    epoch : int >= 0, default=0
        The starting epoch.

    Attributes
    ----------
    epoch : int
        The epoch set by :meth:`set_epoch`.

    Examples
    --------
    >>> import curate
    >>> t = curate.LabelTable.from_labels([["a"], ["a"], ["b"]])
    >>> ps = curate.augment.PartnerSampler(t, k=2)
    >>> ds = curate.augment.PartnerDataset(["img0", "img1", "img2"], ps)
    >>> anchor, partner = ds[2]
    >>> anchor, partner == ["img0", "img1", "img2"][ps.partners(2, epoch=0)[0]]
    ('img2', True)
    """

    def __init__(self, dataset: Any, partner_sampler: PartnerSampler, *, epoch: int = 0) -> None:
        owner = "PartnerDataset"
        self.partner_sampler = _check_sampler(partner_sampler, owner)
        if not (hasattr(dataset, "__getitem__") and hasattr(dataset, "__len__")):
            raise param_error("dataset", owner, "a map-style dataset (with __getitem__ and "
                              "__len__)", dataset, wrong_type=True)
        if len(dataset) != partner_sampler.n_samples:
            raise CurateValueError(
                f"dataset has {len(dataset)} samples but partner_sampler was built on "
                f"{partner_sampler.n_samples}; build the sampler on this dataset's labels"
            )
        self.dataset = dataset
        self.epoch = _check_key(epoch, "epoch", _MAX_KEY + 1)

    def set_epoch(self, epoch: int) -> None:
        """Use ``epoch`` for the partners of the following items.

        Parameters
        ----------
        epoch : int >= 0
            The epoch about to start.
        """
        self.epoch = _check_key(epoch, "epoch", _MAX_KEY + 1)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int | tuple[int, int]) -> tuple[Any, ...]:
        epoch, i = _split_index(index, self.epoch)
        members = [i, *self.partner_sampler.partners(i, epoch)]
        return tuple(self.dataset[j] for j in members)

    def __repr__(self) -> str:
        return (f"PartnerDataset({type(self.dataset).__name__} of {len(self)}, "
                f"k={self.partner_sampler.k}, epoch={self.epoch})")


class EpochTagSampler:
    """Wrap a sampler so that it yields ``(epoch, index)`` pairs instead of indices.

    The epoch is read when iteration starts, in the main process, so every DataLoader worker
    (persistent or not) and every DDP rank computes the partners of the same epoch;
    :class:`PartnerDataset` and :func:`attach_partners` accept these pairs.

    Parameters
    ----------
    sampler : iterable of int with ``__len__``
        E.g. a :class:`~curate.BalancedSampler`, ``DistributedSampler`` or ``RandomSampler``.

    Attributes
    ----------
    epoch : int
        The epoch set by :meth:`set_epoch` (forwarded to ``sampler`` when it has one).

    Examples
    --------
    >>> import curate
    >>> s = curate.augment.EpochTagSampler([2, 0, 1])
    >>> s.set_epoch(3)
    >>> list(s), len(s)
    ([(3, 2), (3, 0), (3, 1)], 3)
    """

    def __init__(self, sampler: Any) -> None:
        if not hasattr(sampler, "__iter__"):
            raise param_error("sampler", "EpochTagSampler", "an iterable of indices", sampler,
                              wrong_type=True)
        self.sampler = sampler
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Store ``epoch`` and forward it to the wrapped sampler's ``set_epoch``.

        Parameters
        ----------
        epoch : int >= 0
            The epoch about to start.
        """
        self.epoch = _check_key(epoch, "epoch", _MAX_KEY + 1)
        if callable(getattr(self.sampler, "set_epoch", None)):
            self.sampler.set_epoch(self.epoch)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        epoch = self.epoch
        for i in self.sampler:
            yield epoch, int(i)

    def __len__(self) -> int:
        return len(self.sampler)


class _HookedLoader:
    """Replaces ``dataset.get_image_and_label``: tells anchors from partner loads."""

    def __init__(self, hook: PartnerHook, original: Any) -> None:
        self.hook = hook
        self.original = original  # the class function, called with the dataset

    def __call__(self, index: Any) -> Any:
        i = self.hook._load(index)
        return self.original(self.hook.dataset, i)


class _HookedIndexes:
    """Replaces a mix transform's ``get_indexes``: partners of the current anchor."""

    def __init__(self, hook: PartnerHook, n: int, as_int: bool) -> None:
        self.hook = hook
        self.n = n
        self.as_int = as_int

    def __call__(self, *args: Any, **kwargs: Any) -> int | list[int]:
        picked = self.hook._indexes(self.n)
        return picked[0] if self.as_int else picked


class PartnerHook:
    """The state :func:`attach_partners` installs on a dataset (``dataset.curate_partners``).

    It tracks the current anchor: a call of ``get_image_and_label`` is a partner load while
    partners handed out by a mix transform are still to be loaded, otherwise it starts a new
    anchor. The ``d``-th ``get_indexes()`` call for one anchor (Mosaic first, then MixUp, then
    the Mosaic of the MixUp partner, ...) returns ``partner_sampler.partners(anchor, epoch,
    draw=d, n=...)``. All of this is per process and reset by each anchor, so DataLoader
    workers and DDP ranks get the same partners for the same ``(epoch, anchor)``.

    Parameters
    ----------
    dataset : object
        The hooked dataset.
    partner_sampler : PartnerSampler
        Chooses the partners.
    epoch : int >= 0, default=0
        The starting epoch.

    Attributes
    ----------
    epoch : int
        The epoch set by :meth:`set_epoch`; an ``(epoch, index)`` pair overrides it per item.
    transforms : list
        The mix transforms whose ``get_indexes`` were replaced.

    Examples
    --------
    >>> import curate
    >>> t = curate.LabelTable.from_labels([["a"], ["b"]])
    >>> hook = curate.augment.PartnerHook(object(), curate.augment.PartnerSampler(t, k=2))
    >>> hook.set_epoch(1)
    >>> hook.epoch
    1
    """

    def __init__(self, dataset: Any, partner_sampler: PartnerSampler, *, epoch: int = 0) -> None:
        self.dataset = dataset
        self.partner_sampler = _check_sampler(partner_sampler, "PartnerHook")
        self.epoch = _check_key(epoch, "epoch", _MAX_KEY + 1)
        self.transforms: list[Any] = []
        self._anchor: int | None = None
        self._anchor_epoch = self.epoch
        self._draw = 0
        self._pending = 0

    def set_epoch(self, epoch: int) -> None:
        """Use ``epoch`` for the partners of the following anchors.

        Parameters
        ----------
        epoch : int >= 0
            The epoch about to start.
        """
        self.epoch = _check_key(epoch, "epoch", _MAX_KEY + 1)

    def _load(self, index: Any) -> int:
        epoch, i = _split_index(index, self.epoch)
        if self._pending > 0 and not isinstance(index, tuple):
            self._pending -= 1  # a partner handed out by the last get_indexes()
            return i
        self._anchor, self._anchor_epoch, self._draw, self._pending = i, epoch, 0, 0
        return i

    def _indexes(self, n: int) -> list[int]:
        if self._anchor is None:
            raise CurateValueError(
                "get_indexes() was called before the hooked dataset loaded an anchor; "
                "attach_partners expects dataset[i] to call get_image_and_label(i) first"
            )
        picked = self.partner_sampler.partners(
            self._anchor, self._anchor_epoch, draw=self._draw, n=n
        )
        self._draw += 1
        self._pending += n
        return picked

    def __repr__(self) -> str:
        return (f"PartnerHook(k={self.partner_sampler.k}, epoch={self.epoch}, "
                f"transforms={[type(t).__name__ for t in self.transforms]})")


def _mix_transforms(root: Any) -> list[Any]:
    """Objects with ``get_indexes`` in a Compose tree (``transforms`` lists, ``pre_transform``)."""
    found: list[Any] = []
    seen: set[int] = set()
    stack = [root]
    while stack:
        obj = stack.pop()
        if obj is None or id(obj) in seen:
            continue
        seen.add(id(obj))
        if callable(getattr(obj, "get_indexes", None)):
            found.append(obj)
        children = getattr(obj, "transforms", None)
        if isinstance(children, list | tuple):
            stack.extend(reversed(children))
        stack.append(getattr(obj, "pre_transform", None))
    return found


def attach_partners(
    dataset: Any, partner_sampler: PartnerSampler, *, epoch: int = 0
) -> PartnerHook:
    """Make an Ultralytics-style dataset's Mosaic/MixUp/CutMix pick rare-aware partners.

    Ultralytics' mix transforms (``BaseMixTransform`` subclasses) call ``get_indexes()`` to
    choose partners — uniformly, from the whole dataset or from ``dataset.buffer`` — and then
    load them with ``dataset.get_image_and_label(i)``; ``dataset[i]`` is
    ``dataset.transforms(dataset.get_image_and_label(i))``. This replaces, on these instances
    only, ``dataset.get_image_and_label`` (to note the anchor) and ``get_indexes`` of every
    transform in ``dataset.transforms`` that has one (also inside ``pre_transform``), so that
    they return ``partner_sampler.partners(anchor, epoch, draw=d, n=...)``: ``n - 1`` partners
    for a transform with an ``n`` attribute (Mosaic), otherwise one partner as an int (MixUp,
    CutMix). ``dataset.buffer`` is no longer used for partners.

    Parameters
    ----------
    dataset : object
        Has ``get_image_and_label(i)`` and ``transforms``; built with its mix transforms.
    partner_sampler : PartnerSampler
        Built on this dataset's labels, in the same order.
    epoch : int >= 0, default=0
        The starting epoch; change it with ``dataset.curate_partners.set_epoch(e)``.

    Returns
    -------
    PartnerHook
        Also stored as ``dataset.curate_partners``.

    Examples
    --------
    >>> import curate
    >>> class Mix:  # the shape of Ultralytics' MixUp
    ...     def __init__(self, dataset):
    ...         self.dataset = dataset
    ...     def get_indexes(self):
    ...         raise AssertionError("replaced by attach_partners")
    ...     def __call__(self, labels):
    ...         j = self.get_indexes()
    ...         return [labels, self.dataset.get_image_and_label(j)]
    >>> class Data:
    ...     def __init__(self, names):
    ...         self.names, self.transforms = names, Mix(self)
    ...     def __len__(self):
    ...         return len(self.names)
    ...     def get_image_and_label(self, i):
    ...         return self.names[i]
    ...     def __getitem__(self, i):
    ...         return self.transforms(self.get_image_and_label(i))
    >>> t = curate.LabelTable.from_labels([["a"], ["a"], ["b"]])
    >>> ps = curate.augment.PartnerSampler(t, k=2)
    >>> data = Data(["img0", "img1", "img2"])
    >>> hook = curate.augment.attach_partners(data, ps)
    >>> data[0] == ["img0", data.names[ps.partners(0, epoch=0)[0]]]
    True
    """
    owner = "attach_partners"
    partner_sampler = _check_sampler(partner_sampler, owner)
    loader = getattr(type(dataset), "get_image_and_label", None)
    if not callable(loader):
        raise param_error("dataset", owner, "an Ultralytics-style dataset (with a "
                          "get_image_and_label(i) method)", dataset, wrong_type=True)
    if hasattr(dataset, "__len__") and len(dataset) != partner_sampler.n_samples:
        raise CurateValueError(
            f"dataset has {len(dataset)} samples but partner_sampler was built on "
            f"{partner_sampler.n_samples}; build the sampler on this dataset's labels"
        )
    mixers = _mix_transforms(getattr(dataset, "transforms", None))
    if not mixers:
        raise CurateValueError(
            f"dataset.transforms holds no transform with get_indexes() (Mosaic, MixUp, "
            f"CutMix); build the dataset with augmentation on (e.g. mosaic > 0) before calling "
            f"{owner}"
        )
    hook = PartnerHook(dataset, partner_sampler, epoch=epoch)
    hook.transforms = mixers
    for t in mixers:
        n = getattr(t, "n", None)
        size = n if isinstance(n, int) and not isinstance(n, bool) and n >= 2 else 0
        t.get_indexes = _HookedIndexes(hook, size - 1 if size else 1, as_int=not size)
    dataset.get_image_and_label = _HookedLoader(hook, loader)
    dataset.curate_partners = hook
    return hook
