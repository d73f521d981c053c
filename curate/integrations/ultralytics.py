"""Ultralytics YOLO: train a detector, segmenter or classifier on a curate plan.

Ultralytics has no class-balanced sampling. :func:`train` (one call) and
:func:`balanced_trainer` (a trainer class for ``YOLO(...).train(trainer=...)``) build the
train dataloader on a :class:`~curate.BalancedSampler`:

* the labels are read from the train dataset ultralytics builds (the same images, after its
  own filtering and ``fraction``): for detect and segment the YOLO ``.txt`` label file of each
  image, parsed by the reader behind :func:`curate.io.read_yolo`; for classify the class
  folder of each image (:func:`table_from_yolo_dataset`);
* a balancer (such as :class:`~curate.InterClassBalancer`) is fitted on them once (under DDP
  on rank 0, then broadcast); a ready :class:`~curate.BalancePlan` (or the path of a saved
  one) is matched to the dataset's images by file path, and a plan row without an image, an
  image without a plan row or labels that changed since the plan was fitted is an error;
* epoch ``e`` iterates exactly the indices of ``plan.draw(e)``: ``set_epoch`` is called at
  every ``on_train_epoch_start``, and the loader builds each epoch's index order only when
  the epoch starts (ultralytics' own ``InfiniteDataLoader`` prefetches the next epoch's
  indices before the epoch is set when ``workers > 0``, so it is replaced by a ``DataLoader``
  with persistent workers);
* validation keeps ultralytics' sequential loader.

``ultralytics`` is imported only when a trainer is built, so this module imports without it.
It needs torchvision, which does not run beside the CPU-only torch wheel; see
``requirements-integrations.txt`` (``make test-integrations`` builds that environment).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from torch.utils.data import DataLoader, Sampler

from curate.balance import BalancePlan
from curate.exceptions import CurateTypeError, CurateValueError, MissingDependencyError
from curate.io._yolo import _class_columns, _id2name
from curate.labels import LabelTable

__all__ = ["balanced_trainer", "table_from_yolo_dataset", "train"]

_PIP = "pip install torch==2.14.1 torchvision==0.29.1 ultralytics==8.4.190"
_TASKS = ("classify", "detect", "segment")
_IMG_SUFFIXES = frozenset({".bmp", ".dng", ".heic", ".jpeg", ".jpg", ".mpo", ".png", ".tif",
                           ".tiff", ".webp", ".pfm", ".avif", ".jp2"})


def _ultralytics() -> ModuleType:
    try:
        import ultralytics
        from ultralytics.models import yolo  # noqa: F401  (the trainers)
    except ImportError as exc:
        raise MissingDependencyError(
            "curate.integrations.ultralytics needs ultralytics (with torchvision). Install "
            f"them with: {_PIP} (in a venv whose torch is not the +cpu wheel), or run "
            "`make test-integrations`, which builds .venv-integrations"
        ) from exc
    return ultralytics


# ---------------------------------------------------------------------------------- labels
def _label_path(image: str) -> Path:
    """The YOLO label file of an image: the last ``images`` folder becomes ``labels``."""
    parts = list(Path(image).parts)
    for k in range(len(parts) - 2, -1, -1):
        if parts[k] == "images":
            parts[k] = "labels"
            break
    return Path(*parts).with_suffix(".txt")


def table_from_yolo_dataset(dataset: Any, names: Sequence[str] | Mapping[int, str]) -> LabelTable:
    """Labels of an ultralytics train dataset, one row per image in the dataset's order.

    Parameters
    ----------
    dataset : ultralytics dataset
        A detection or segmentation dataset (``YOLODataset``: has ``im_files``; each image's
        labels are read from its YOLO ``.txt`` file, the last ``images`` folder of its path
        replaced by ``labels``; a missing file is an image without objects, as in
        ultralytics) or a classification dataset (``ClassificationDataset``: has
        ``samples``, ``(file, class_index, ...)`` per image, from the class folders).
    names : sequence of str or dict of {int: str}
        The class names by id (ultralytics' ``trainer.data["names"]``).

    Returns
    -------
    LabelTable
        ``sample_ids`` are the image paths. Detection: ``level="instance"`` (objects per
        image); classification: ``level="sample"``.

    Examples
    --------
    >>> import pathlib, tempfile, types
    >>> from curate.integrations.ultralytics import table_from_yolo_dataset
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "labels").mkdir()
    >>> box = " .5 .5 .1 .1\\n"
    >>> _ = (root / "labels" / "a.txt").write_text("0" + box + "1" + box + "1" + box)
    >>> ds = types.SimpleNamespace(im_files=[str(root / "images" / "a.jpg"),
    ...                                      str(root / "images" / "b.jpg")])  # b: no labels
    >>> table_from_yolo_dataset(ds, {0: "cat", 1: "dog"}).matrix.toarray().tolist()
    [[1, 2], [0, 0]]
    >>> cls = types.SimpleNamespace(samples=[("x/dog/1.jpg", 1), ("x/cat/2.jpg", 0)])
    >>> table_from_yolo_dataset(cls, ["cat", "dog"]).counts.tolist()
    [1, 1]
    """
    if isinstance(names, str) or not isinstance(names, (Sequence, Mapping)):
        raise CurateTypeError(
            "The 'names' parameter of table_from_yolo_dataset must be a list of class names or "
            f"a dict {{id: name}}. Got {type(names).__name__} instead."
        )
    id2name = _id2name(dict(names) if isinstance(names, Mapping) else list(names))
    ids = sorted(id2name)
    col_of = {k: j for j, k in enumerate(ids)}
    classes = [id2name[k] for k in ids]
    rows: list[int] = []
    cols: list[int] = []
    if hasattr(dataset, "im_files"):
        images = [str(f) for f in dataset.im_files]
        level = "instance"
        for r, image in enumerate(images):
            path = _label_path(image)
            if not path.is_file():
                continue  # ultralytics reads a missing label file as an image without objects
            found = _class_columns(path, path.parent, col_of, str(path), "the data.yaml names")
            rows.extend([r] * len(found))
            cols.extend(found)
    elif hasattr(dataset, "samples"):
        images = []
        level = "sample"
        for r, sample in enumerate(dataset.samples):
            images.append(str(sample[0]))
            cid = int(sample[1])
            if cid not in col_of:
                raise CurateValueError(
                    f"image {sample[0]} has class index {cid}, not in names (ids "
                    f"{ids[0]}..{ids[-1]}); pass the names of the dataset's class folders"
                )
            rows.append(r)
            cols.append(col_of[cid])
    else:
        raise CurateTypeError(
            "The 'dataset' parameter of table_from_yolo_dataset must be an ultralytics dataset "
            "with im_files (detect, segment) or samples (classify). Got "
            f"{type(dataset).__name__} instead."
        )
    if not images:
        raise CurateValueError("the ultralytics train dataset has 0 images; check data.yaml's "
                               "train path")
    m = sp.csr_matrix((np.ones(len(rows), dtype=np.int64), (rows, cols)),
                      shape=(len(images), len(classes)))
    return LabelTable(m, classes, sample_ids=images, level=level)


# ------------------------------------------------------------------------ plan ↔ dataset
def _keys(path: str) -> list[tuple[str, ...]]:
    """Path-part tuples that identify an image: with and without the image suffix, and the
    label file's path without ``.txt`` (what :func:`curate.io.read_yolo` uses as sample id)."""
    p = Path(path)
    out = [p.parts, p.with_suffix("").parts, _label_path(path).with_suffix("").parts]
    return list(dict.fromkeys(out))


def _norm_id(sample_id: Any) -> tuple[str, ...]:
    p = Path(str(sample_id).replace("\\", "/"))
    if p.suffix == ".txt":
        p = p.with_suffix("")
    return tuple(x for x in p.parts if x not in ("", "."))


def _plan_order(plan: BalancePlan, table: LabelTable) -> np.ndarray:
    """``order[r]`` = the dataset index of plan row ``r``, matched by file path."""
    plan_ids = [_norm_id(s) for s in plan.table.sample_ids]
    depth = max((len(p) for p in plan_ids), default=1)
    where: dict[tuple[str, ...], set[int]] = {}
    for i, image in enumerate(table.sample_ids):
        for parts in _keys(str(image)):
            for j in range(max(len(parts) - depth, 0), len(parts)):
                where.setdefault(parts[j:], set()).add(i)
    order = np.empty(len(plan_ids), dtype=np.int64)
    for r, key in enumerate(plan_ids):
        hits = where.get(key, set())
        if len(hits) != 1:
            what = "matches no image" if not hits else f"matches {len(hits)} images"
            raise CurateValueError(
                f"plan sample_ids[{r}] = {plan.table.sample_ids[r]!r} {what} of the "
                f"ultralytics train dataset ({table.n_samples} images, e.g. "
                f"{str(table.sample_ids[0])!r}); fit the plan on this dataset's labels "
                "(read_yolo on its labels folder, or pass the balancer instead of a plan)"
            )
        order[r] = hits.pop()
    counts = np.bincount(order, minlength=table.n_samples)
    if (counts != 1).any():
        i = int(np.flatnonzero(counts != 1)[0])
        problem = "no plan row" if counts[i] == 0 else f"{counts[i]} plan rows"
        raise CurateValueError(
            f"train image {str(table.sample_ids[i])!r} has {problem}; the plan covers "
            f"{plan.n_samples} samples, the dataset {table.n_samples} images: fit the plan on "
            "this dataset's labels (or pass the balancer instead of a plan)"
        )
    if list(plan.table.classes) != list(table.classes):
        raise CurateValueError(
            f"the plan's classes {list(plan.table.classes)} differ from the data.yaml names "
            f"{list(table.classes)}; fit the plan on this dataset's labels"
        )
    diff = np.flatnonzero(np.asarray(abs(plan.table.matrix - table.matrix[order]).sum(axis=1))
                          .ravel())
    if len(diff):
        r = int(diff[0])
        raise CurateValueError(
            f"the labels of {str(table.sample_ids[order[r]])!r} differ from those the plan was "
            f"fitted on ({len(diff)} images differ); refit the plan on the current labels"
        )
    return order


class _DatasetOrder(Sampler[int]):
    """A curate sampler whose plan rows are in another order than the dataset's images."""

    def __init__(self, sampler: Any, order: np.ndarray) -> None:
        self.sampler = sampler
        self.order = order

    def __iter__(self) -> Iterator[int]:
        order = self.order
        return (int(order[i]) for i in self.sampler)

    def __len__(self) -> int:
        return len(self.sampler)

    def set_epoch(self, epoch: int) -> None:
        self.sampler.set_epoch(epoch)


class _EpochLoader(DataLoader):
    """A ``DataLoader`` with the ``reset`` / ``close`` that ultralytics' trainer calls.

    Unlike ultralytics' ``InfiniteDataLoader`` it asks the sampler for an epoch's indices
    only when the epoch's iteration starts, after ``set_epoch``; workers persist.
    """

    def close(self) -> None:
        it, self._iterator = self._iterator, None
        shutdown = getattr(it, "_shutdown_workers", None)
        if shutdown is not None:
            shutdown()

    def reset(self) -> None:
        self.close()  # the next epoch starts fresh workers, which see the changed dataset


def _on_train_epoch_start(trainer: Any) -> None:
    sampler = getattr(trainer, "curate_sampler", None)
    if sampler is None:
        return
    loader_sampler = getattr(trainer.train_loader, "sampler", None)
    if loader_sampler is not trainer._curate_loader_sampler:
        raise CurateValueError(
            "the trainer's train_loader does not use the curate sampler its get_dataloader "
            "built; a subclass that overrides get_dataloader must return "
            "super().get_dataloader(...) for mode='train'"
        )
    epoch = int(trainer.epoch)
    loader_sampler.set_epoch(epoch)
    trainer.curate_class_totals[epoch] = sampler.class_totals(epoch)


class _BalancedMixin:
    """Methods a balanced trainer adds to an ultralytics trainer class."""

    curate_balance: Any = None
    curate_seed: int | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.curate_plan: BalancePlan | None = None
        self.curate_sampler: Any = None
        self._curate_loader_sampler: Any = None
        self.curate_class_totals: dict[int, pd.Series] = {}
        hooks = self.callbacks["on_train_epoch_start"]  # type: ignore[attr-defined]
        if _on_train_epoch_start not in hooks:  # the dict is shared with the YOLO model
            hooks.append(_on_train_epoch_start)

    def get_dataloader(self, dataset_path: str, batch_size: int = 16, rank: int = 0,
                       mode: str = "train") -> Any:
        """The train loader on a curate sampler; other modes unchanged (sequential)."""
        if mode != "train":
            return super().get_dataloader(dataset_path, batch_size, rank, mode)  # type: ignore[misc]
        from ultralytics.utils.torch_utils import torch_distributed_zero_first

        with torch_distributed_zero_first(rank):
            dataset = self.build_dataset(dataset_path, mode, batch_size)  # type: ignore[attr-defined]
        if getattr(dataset, "rect", False):
            raise CurateValueError(
                "rect=True batches images in the dataset's aspect-ratio order, which a balanced "
                "sampler replaces; pass rect=False"
            )
        table = table_from_yolo_dataset(dataset, self.data["names"])  # type: ignore[attr-defined]
        sampler, order = self._curate_make_sampler(table)
        self.curate_sampler = sampler
        loader_sampler = sampler if order is None else _DatasetOrder(sampler, order)
        self._curate_loader_sampler = loader_sampler
        epoch = int(getattr(self, "epoch", 0) or 0)
        loader_sampler.set_epoch(epoch)
        return self._curate_loader(dataset, loader_sampler, batch_size)

    def _curate_make_sampler(self, table: LabelTable) -> tuple[Any, np.ndarray | None]:
        from curate.sampler import BalancedSampler

        balance, seed = self.curate_balance, self.curate_seed
        if self.curate_plan is not None:  # a rebuilt loader (OOM retry) keeps the fitted plan
            balance = self.curate_plan
        if isinstance(balance, (str, os.PathLike)):
            balance = BalancePlan.load(balance)
        if isinstance(balance, BalancePlan):
            order = _plan_order(balance, table)
            sampler = BalancedSampler(balance, seed=seed)
            self.curate_plan = balance
            return sampler, None if np.array_equal(order, np.arange(len(order))) else order
        sampler = BalancedSampler(table, balance, seed=seed)  # DDP: rank 0 fits, broadcasts
        self.curate_plan = sampler.plan
        return sampler, None

    def _curate_loader(self, dataset: Any, sampler: Any, batch_size: int) -> DataLoader:
        import torch
        from ultralytics.data.build import seed_worker

        args = self.args  # type: ignore[attr-defined]
        n = len(sampler)
        batch = max(min(int(batch_size), n), 1)
        batches = -(-n // batch)
        device = getattr(self, "device", None)
        cuda = getattr(device, "type", str(device)) == "cuda"
        n_gpu = torch.cuda.device_count() if cuda else 0
        workers = min((os.cpu_count() or 1) // max(n_gpu, 1), int(args.workers),
                      0 if batches <= 1 else batches)
        generator = torch.Generator()
        generator.manual_seed(6148914691236517205 + int(getattr(self, "curate_seed", 0) or 0))
        drop_last = bool(getattr(args, "compile", False)) and n > batch and n % batch != 0
        return _EpochLoader(
            dataset, batch_size=batch, sampler=sampler, shuffle=False, num_workers=workers,
            persistent_workers=workers > 0, prefetch_factor=4 if workers > 0 else None,
            pin_memory=n_gpu > 0, collate_fn=getattr(dataset, "collate_fn", None),
            worker_init_fn=seed_worker, generator=generator, drop_last=drop_last)


_BASES = {"classify": ("classify", "ClassificationTrainer"),
          "detect": ("detect", "DetectionTrainer"),
          "segment": ("segment", "SegmentationTrainer")}


def _check_balance(balance: Any, owner: str) -> None:
    if isinstance(balance, (BalancePlan, str, os.PathLike)) or callable(
            getattr(balance, "fit", None)):
        return
    raise CurateTypeError(
        f"The 'balance' parameter of {owner} must be a balancer with fit(table) (such as "
        "curate.InterClassBalancer()), a BalancePlan, or the path of a plan saved with "
        f"plan.save(path). Got {type(balance).__name__} instead."
    )


def balanced_trainer(balance: Any, *, task: str = "detect", base: type | None = None,
                     seed: int | None = None) -> type:
    """An ultralytics trainer class whose train dataloader samples a curate plan.

    Pass it as ``YOLO(...).train(trainer=..., data=..., ...)``. Its ``get_dataloader`` reads
    the train dataset's labels (:func:`table_from_yolo_dataset`), fits ``balance`` on them
    (or matches a given plan to the images by path) and builds the train loader on a
    :class:`~curate.BalancedSampler`; ``set_epoch`` is called at every epoch start.
    Validation keeps ultralytics' own sequential loader.

    Parameters
    ----------
    balance : balancer, BalancePlan, str or path-like
        A balancer with ``fit(table)`` (such as :class:`~curate.InterClassBalancer`), fitted
        once on the train labels; or a plan fitted on these labels (rows matched to the
        images by file path: ``read_yolo`` sample ids such as ``"train/img1"`` match); or
        the path of a plan saved with ``plan.save(path)``.
    task : {"detect", "segment", "classify"}, default="detect"
        Picks the ultralytics trainer to extend; must match the model's task.
    base : type, default=None
        Another ultralytics trainer class to extend instead (its train dataset must have
        ``im_files`` or ``samples``); overrides ``task``.
    seed : int, default=None
        Shuffle seed of the sampler (``None``: the plan's seed).

    Returns
    -------
    type
        A subclass of the ultralytics trainer. After training its instance
        (``model.trainer``) holds ``curate_plan``, ``curate_sampler`` and
        ``curate_class_totals`` (``{epoch: pandas.Series}``, the class totals each epoch
        drew).

    Examples
    --------
    Build the trainer and pass it to ``YOLO.train`` (needs ultralytics)::

        Trainer = balanced_trainer(curate.InterClassBalancer(), task="detect")
        YOLO("yolov8n.yaml").train(trainer=Trainer, data="data.yaml", epochs=50)

    Arguments are checked before ultralytics is imported:

    >>> import curate
    >>> from curate.integrations.ultralytics import balanced_trainer
    >>> balanced_trainer(curate.InterClassBalancer(), task="pose")
    Traceback (most recent call last):
    ...
    curate.exceptions.CurateValueError: The 'task' parameter of balanced_trainer must be ...
    """
    _check_balance(balance, "balanced_trainer")
    if seed is not None and (not isinstance(seed, (int, np.integer)) or isinstance(seed, bool)
                             or seed < 0):
        raise CurateValueError(f"seed must be a non-negative integer or None; got {seed!r}")
    if base is None:
        if task not in _BASES:
            raise CurateValueError(
                f"The 'task' parameter of balanced_trainer must be one of {list(_TASKS)}. Got "
                f"{task!r} instead; pass base=<trainer class> for another task"
            )
        _ultralytics()
        import importlib

        sub, name = _BASES[task]
        base = getattr(importlib.import_module(f"ultralytics.models.yolo.{sub}"), name)
    elif not isinstance(base, type) or not callable(getattr(base, "get_dataloader", None)):
        raise CurateTypeError(
            "The 'base' parameter of balanced_trainer must be an ultralytics trainer class. "
            f"Got {base!r} instead."
        )
    assert base is not None
    return type(f"Balanced{base.__name__}", (_BalancedMixin, base),
                {"curate_balance": balance, "curate_seed": None if seed is None else int(seed),
                 "__module__": __name__})


def train(model: Any, data: str | os.PathLike[str], balance: Any, *, seed: int | None = None,
          **train_args: Any) -> Any:
    """Train an ultralytics YOLO model with its train images sampled by a curate plan.

    ``YOLO.train(data=data, trainer=balanced_trainer(balance, task=model.task), ...)`` in one
    call: see :func:`balanced_trainer`.

    Parameters
    ----------
    model : ultralytics.YOLO, str or path-like
        The model, or what ``YOLO(...)`` takes (``"yolov8n.yaml"``, ``"yolo11n-cls.pt"``).
    data : str or path-like
        The dataset: a ``data.yaml`` (detect, segment) or a class-folder root (classify).
    balance : balancer, BalancePlan, str or path-like
        As in :func:`balanced_trainer`.
    seed : int, default=None
        Shuffle seed of the sampler (``None``: the plan's seed).
    **train_args
        Passed on to ``YOLO.train`` (``epochs``, ``imgsz``, ``batch``, ``device``...).

    Returns
    -------
    ultralytics trainer
        ``model.trainer``: ``metrics``, ``curate_plan``, ``curate_sampler`` and
        ``curate_class_totals``; ``model`` holds the trained weights.

    Examples
    --------
    One call (needs ultralytics)::

        trainer = train(YOLO("yolov8n.yaml"), data="data.yaml",
                        balance=curate.InterClassBalancer(), epochs=50, imgsz=640)
        trainer.curate_class_totals[0]  # what epoch 0 drew per class

    Arguments are checked before ultralytics is imported:

    >>> from curate.integrations.ultralytics import train
    >>> train("yolov8n.yaml", data="data.yaml", balance=[1, 2, 3])
    Traceback (most recent call last):
    ...
    curate.exceptions.CurateTypeError: The 'balance' parameter of train must be a balancer ...
    """
    if "trainer" in train_args:
        raise CurateValueError("train() builds the trainer itself; pass trainer=... to "
                               "YOLO.train with balanced_trainer(...) instead")
    _check_balance(balance, "train")
    ultralytics = _ultralytics()
    if isinstance(model, (str, os.PathLike)):
        model = ultralytics.YOLO(str(model))
    task = getattr(model, "task", None)
    if task not in _TASKS:
        raise CurateValueError(
            f"train() supports YOLO models of task {list(_TASKS)}; this model's task is "
            f"{task!r}; for another task use balanced_trainer(balance, base=<trainer class>)"
        )
    trainer = balanced_trainer(balance, task=task, seed=seed)
    model.train(data=str(data), trainer=trainer, **train_args)
    return model.trainer
