"""Hugging Face ``datasets`` and ``transformers``: label tables, a balanced ``Trainer``, metrics.

* :func:`table_from_hf` reads a label column of a ``datasets.Dataset``, ``DatasetDict`` or
  ``IterableDataset`` into a :class:`~curate.LabelTable`, with the class names taken from the
  column's ``ClassLabel`` feature (or ``id2label``) and ``-100`` positions ignored.
* :class:`BalancedTrainerMixin` (and ``BalancedTrainer``, the mixin on
  ``transformers.Trainer``) trains on a :class:`~curate.BalancedSampler` (or any curate
  sampler) while evaluation keeps the Trainer's sequential order.
* :func:`compute_metrics` turns :func:`curate.evaluate` into a ``compute_metrics`` callable.

``transformers`` is imported only when ``BalancedTrainer`` is first used; ``datasets`` is never
imported here (the objects passed in are inspected), so this module imports without either.
Install both with ``pip install 'curate[hf]'``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from curate.balance import BalancePlan
from curate.exceptions import CurateTypeError, CurateValueError
from curate.integrations._common import check_constant_size
from curate.labels import LabelTable, _parse

# BalancedTrainer is built on first access (module __getattr__), so transformers stays unimported
__all__ = ["BalancedTrainer", "BalancedTrainerMixin", "compute_metrics",  # noqa: F822
           "table_from_hf", "unshard_curate_loader"]

_LEVELS = ("auto", "entity", "instance", "sample", "token")


def _is_dict_of_splits(dataset: Any) -> bool:
    name = type(dataset).__name__
    return name in ("DatasetDict", "IterableDatasetDict") or (
        isinstance(dataset, Mapping) and not hasattr(dataset, "features"))


def _pick_split(dataset: Any, split: str | None) -> Any:
    splits = list(dataset)
    if split is None:
        if "train" in splits:
            return dataset["train"]
        if len(splits) == 1:
            return dataset[splits[0]]
        raise CurateValueError(
            f"table_from_hf got a dataset with splits {splits} and no split=; pass "
            "split='<name>' to choose one"
        )
    if split not in splits:
        raise CurateValueError(
            f"The 'split' parameter of table_from_hf must be one of {splits}. Got {split!r} "
            "instead."
        )
    return dataset[split]


def _inner(feature: Any) -> tuple[bool, Any]:
    """``(is_sequence, item feature)`` of a ``datasets`` feature (List, LargeList, Sequence)."""
    if type(feature).__name__ in ("List", "LargeList", "Sequence") and hasattr(feature, "feature"):
        return True, feature.feature
    if isinstance(feature, list) and len(feature) == 1:  # the [ClassLabel(...)] shorthand
        return True, feature[0]
    return False, feature


def _names_of(feature: Any) -> list[str] | None:
    if type(feature).__name__ == "ClassLabel":
        return [str(n) for n in feature.names]
    return None


def _id2label_names(id2label: Any) -> list[str]:
    if isinstance(id2label, Mapping):
        try:
            items = sorted((int(k), str(v)) for k, v in id2label.items())
        except (TypeError, ValueError) as exc:
            raise CurateTypeError(
                "The 'id2label' parameter of table_from_hf must map integer ids (or their "
                f"strings) to names, as a model config's id2label. Got {id2label!r}."
            ) from exc
        if [k for k, _ in items] != list(range(len(items))):
            raise CurateValueError(
                "The 'id2label' parameter of table_from_hf must have the ids 0..n-1. Got ids "
                f"{[k for k, _ in items]}; pass a complete mapping."
            )
        return [v for _, v in items]
    if isinstance(id2label, Sequence) and not isinstance(id2label, str):
        return [str(v) for v in id2label]
    raise CurateTypeError(
        "The 'id2label' parameter of table_from_hf must be a dict of {id: name} or a list of "
        f"names. Got {type(id2label).__name__} instead."
    )


def _column_values(dataset: Any, column: str) -> tuple[list[Any], Any]:
    """The column as a Python list (one item per row) and its feature (or None)."""
    features = getattr(dataset, "features", None)
    names = getattr(dataset, "column_names", None)
    if names is not None and column not in names:
        raise CurateValueError(
            f"The 'column' parameter of table_from_hf must name a column of the dataset "
            f"{sorted(names)}. Got {column!r} instead."
        )
    feature = None if features is None else features.get(column)
    if hasattr(dataset, "select_columns") and hasattr(dataset, "with_format") and hasattr(
            dataset, "__len__"):
        table = dataset.select_columns([column]).with_format("arrow")[:]
        return table.column(column).to_pylist(), feature
    if hasattr(dataset, "__iter__") and not isinstance(dataset, (str, bytes, Mapping)):
        it = dataset.select_columns([column]) if hasattr(dataset, "select_columns") else dataset
        values = []
        for row in it:
            if not isinstance(row, Mapping) or column not in row:
                raise CurateValueError(
                    f"table_from_hf: a row of the dataset has no column {column!r}; pass the "
                    "name of the label column"
                )
            values.append(row[column])
        return values, feature
    raise CurateTypeError(
        "The 'dataset' parameter of table_from_hf must be a datasets.Dataset, DatasetDict or "
        f"IterableDataset. Got {type(dataset).__name__} instead."
    )


def _looks_like_tags(names: Sequence[str]) -> bool:
    return _parse.detect_tags([list(names)]) is not None


def table_from_hf(
    dataset: Any,
    column: str = "labels",
    *,
    split: str | None = None,
    level: str = "auto",
    id2label: Any = None,
    ignore_index: int = -100,
) -> LabelTable:
    """Read a label column of a Hugging Face dataset into a :class:`~curate.LabelTable`.

    Parameters
    ----------
    dataset : datasets.Dataset, datasets.DatasetDict or datasets.IterableDataset
        The dataset; row ``i`` becomes sample ``i`` of the table (so a plan fitted on it
        indexes the dataset). An ``IterableDataset`` is read once, to the end.
    column : str, default="labels"
        The label column: ``ClassLabel`` (one class per row), ``Sequence(ClassLabel)``
        (token tags such as ``ner_tags``, or multi-label sets), integer ids (with
        ``id2label``), strings, or lists of them.
    split : str, default=None
        Split of a ``DatasetDict``; ``None`` takes ``"train"`` when present, else the only
        split.
    level : {"auto", "sample", "instance", "token", "entity"}, default="auto"
        ``"auto"``: ``"sample"`` for one label per row; for sequences ``"token"`` when the
        class names are BIO-style tags (``O``, ``B-PER``...), else ``"instance"`` (a
        multi-label set). ``"entity"`` counts entity spans per type.
    id2label : dict of {int: str} or sequence of str, default=None
        Names of integer ids, e.g. ``model.config.id2label``; needed when the column is not
        a ``ClassLabel`` (tokenized ``labels`` columns are plain integers). Overrides the
        feature's names when given.
    ignore_index : int, default=-100
        Integer id never counted (padding, special tokens, continuation sub-words). A
        ``ClassLabel``'s ``-1`` (no label) is never counted either.

    Returns
    -------
    LabelTable

    Examples
    --------
    >>> import datasets
    >>> from curate.integrations.transformers import table_from_hf
    >>> tags = datasets.ClassLabel(names=["O", "B-PER", "I-PER", "B-LOC"])
    >>> ds = datasets.Dataset.from_dict(
    ...     {"ner_tags": [[1, 2, 0], [0, 3], [1, 0, 0]]},
    ...     features=datasets.Features({"ner_tags": datasets.Sequence(tags)}))
    >>> table_from_hf(ds, "ner_tags").counts.to_dict()
    {'O': 4, 'B-PER': 2, 'I-PER': 1, 'B-LOC': 1}
    >>> table_from_hf(ds, "ner_tags", level="entity").counts.to_dict()
    {'LOC': 1, 'PER': 2}
    >>> tokenized = datasets.Dataset.from_dict({"labels": [[-100, 1, 2, -100], [-100, 3, -100]]})
    >>> id2label = {0: "O", 1: "B-PER", 2: "I-PER", 3: "B-LOC"}
    >>> table_from_hf(tokenized, id2label=id2label).counts.to_dict()
    {'O': 0, 'B-PER': 1, 'I-PER': 1, 'B-LOC': 1}
    """
    owner = "table_from_hf"
    if not isinstance(column, str):
        raise CurateTypeError(
            f"The 'column' parameter of {owner} must be a str. Got {type(column).__name__} "
            "instead."
        )
    if level not in _LEVELS:
        raise CurateValueError(
            f"The 'level' parameter of {owner} must be one of {list(_LEVELS)}. Got {level!r} "
            "instead."
        )
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer)):
        raise CurateTypeError(
            f"The 'ignore_index' parameter of {owner} must be an int. Got "
            f"{type(ignore_index).__name__} instead."
        )
    if _is_dict_of_splits(dataset):
        dataset = _pick_split(dataset, split)
    fast = _fast_int_table(dataset, column, level, id2label, int(ignore_index))
    if fast is not None:
        return fast
    values, feature = _column_values(dataset, column)
    is_seq, item = _inner(feature) if feature is not None else (None, None)
    if is_seq is None:  # no features (some IterableDatasets): look at the values
        is_seq = any(isinstance(v, (list, tuple, np.ndarray)) for v in values)
    names = _id2label_names(id2label) if id2label is not None else _names_of(item)
    skip = {int(ignore_index), -1} if _names_of(item) is not None else {int(ignore_index)}
    rows = [list(v) if isinstance(v, (list, tuple, np.ndarray)) else ([] if v is None else [v])
            for v in values]
    if not is_seq and any(len(r) != 1 for r in rows if r):
        raise CurateValueError(f"{owner}: column {column!r} mixes single labels and lists")
    flat = [x for r in rows for x in r]
    if any(isinstance(x, str) for x in flat):  # string labels name themselves
        if level == "auto":
            level = ("token" if _looks_like_tags(sorted(set(flat))) else "instance") if is_seq \
                else "sample"
        # an explicit id2label puts the names in the model's id order (column i = id i)
        # and refuses a label it lacks; entity columns are span types, not tags
        order = _id2label_names(id2label) if id2label is not None and level != "entity" \
            else None
        if level in ("token", "entity"):
            return LabelTable.from_tags(rows, level=level, classes=order)
        return LabelTable.from_labels(rows, level=level, classes=order)
    if names is None:
        raise CurateValueError(
            f"{owner}: column {column!r} holds integer ids without class names (its feature "
            f"is {feature!r}); pass id2label= (e.g. model.config.id2label) or cast the column "
            "to a ClassLabel"
        )
    if level == "auto":
        level = ("token" if _looks_like_tags(names) else "instance") if is_seq else "sample"
    kept = [[int(x) for x in r if x is not None and int(x) not in skip] for r in rows]
    bad = sorted({x for r in kept for x in r if not 0 <= x < len(names)})
    if bad:
        raise CurateValueError(
            f"{owner}: column {column!r} holds ids {bad[:10]} outside 0..{len(names) - 1} of "
            f"the {len(names)} class names; pass the id2label of the model that made the "
            f"labels, or ignore_index= for the id that marks skipped positions"
        )
    if level == "entity":
        return LabelTable.from_token_ids([np.asarray(r, dtype=np.int64) for r in kept],
                                         id2label=names, level="entity")
    return LabelTable.from_labels([[names[x] for x in r] for r in kept], classes=names,
                                  level=level,
                                  background="O" if level == "token" and "O" in names and any(
                                      names[x] == "O" for r in kept for x in r) else None)


def _fast_int_table(dataset: Any, column: str, level: str, id2label: Any,
                    ignore_index: int) -> LabelTable | None:
    """Integer ids of a map-style Dataset counted straight from Arrow (no Python lists).

    Returns None (the general path) for anything else: strings, entity level, no names,
    iterable datasets.
    """
    names_ = getattr(dataset, "column_names", None)
    features = getattr(dataset, "features", None)
    if (names_ is None or column not in names_ or features is None or level == "entity"
            or not hasattr(dataset, "with_format") or not hasattr(dataset, "__len__")):
        return None
    is_seq, item = _inner(features[column])
    names = _id2label_names(id2label) if id2label is not None else _names_of(item)
    if names is None:
        return None
    import pyarrow as pa
    import pyarrow.compute as pc
    import scipy.sparse as sp

    arr = dataset.select_columns([column]).with_format("arrow")[:].column(column)
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    if is_seq:
        if not (pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type)):
            return None
        lengths = pc.fill_null(pc.list_value_length(arr), 0).to_numpy(zero_copy_only=False)
        values = arr.flatten()
    else:
        lengths = np.ones(len(arr), dtype=np.int64)
        values = arr
    if not pa.types.is_integer(values.type):
        return None
    flat = pc.fill_null(values, ignore_index).to_numpy(zero_copy_only=False).astype(np.int64)
    skip = np.isin(flat, [ignore_index, -1] if _names_of(item) is not None else [ignore_index])
    keep = ~skip
    bad = np.unique(flat[keep & ((flat < 0) | (flat >= len(names)))])
    if bad.size:
        raise CurateValueError(
            f"table_from_hf: column {column!r} holds ids {bad[:10].tolist()} outside "
            f"0..{len(names) - 1} of the {len(names)} class names; pass the id2label of the "
            "model that made the labels, or ignore_index= for the id that marks skipped "
            "positions"
        )
    if level == "auto":
        level = ("token" if _looks_like_tags(names) else "instance") if is_seq else "sample"
    rows = np.repeat(np.arange(len(lengths)), lengths.astype(np.int64))[keep]
    m = sp.csr_matrix((np.ones(len(rows), dtype=np.int64), (rows, flat[keep])),
                      shape=(len(lengths), len(names)))
    background = None
    if level == "token" and "O" in names and m[:, names.index("O")].nnz > 0:
        background = "O"
    return LabelTable(m, names, background=background, level=level)


def _choose_sampler(balance: Any, table: LabelTable | None, seed: int | None,
                    n_rows: int) -> Any:
    from curate.sampler import BalancedSampler, WeightedSampler

    if isinstance(balance, (BalancedSampler, WeightedSampler)):
        sampler = balance
    elif isinstance(balance, BalancePlan):
        sampler = BalancedSampler(balance, seed=seed)
    elif callable(getattr(balance, "fit", None)):
        assert table is not None
        sampler = BalancedSampler(table, balance, seed=seed)
    else:
        raise CurateTypeError(
            "The 'balance' parameter of BalancedTrainer must be a BalancePlan, a balancer with "
            "fit(table) (such as curate.InterClassBalancer()), or a curate BalancedSampler / "
            f"WeightedSampler. Got {type(balance).__name__} instead."
        )
    if isinstance(sampler, BalancedSampler):
        check_constant_size(sampler.plan, "BalancedTrainer", "transformers' Trainer")
    n = sampler.plan.n_samples if isinstance(sampler, BalancedSampler) else None
    if isinstance(sampler, WeightedSampler):
        n = len(sampler.weights) if hasattr(sampler, "weights") else None
    if n is not None and n != n_rows:
        raise CurateValueError(
            f"BalancedTrainer: the plan covers {n} samples but the train dataset has {n_rows} "
            "rows; fit the plan on this train dataset (table_from_hf(train_dataset, column))"
        )
    return sampler


class BalancedTrainerMixin:
    """Mixin for a ``transformers.Trainer`` (sub)class: train on a curate sampler.

    ``_get_train_sampler`` returns a :class:`~curate.BalancedSampler` over the plan of the
    train dataset (built once, then reused); the Trainer calls its ``set_epoch`` every
    epoch, so each epoch draws ``plan.draw(epoch)``. Under DDP every rank builds the sampler
    (rank 0 fits the balancer and broadcasts the plan) and takes its own shard, and
    ``accelerate``'s batch sharding is switched off for this loader so the shard is not
    split a second time. Evaluation and prediction keep the Trainer's sequential sampler.
    Put the mixin first: ``class MyTrainer(BalancedTrainerMixin, Seq2SeqTrainer)``.

    Parameters
    ----------
    *args : Any
        Passed to the Trainer.
    balance : BalancePlan, balancer or curate sampler
        A plan fitted on the train dataset (``len(train_dataset)`` samples), a balancer with
        ``fit(table)`` such as :class:`curate.InterClassBalancer` (fitted on
        ``table_from_hf(train_dataset, label_column, ...)``), or a ready
        :class:`~curate.BalancedSampler` / :class:`~curate.WeightedSampler`.
    label_column : str, default="labels"
        Column the table is read from when ``balance`` is a balancer.
    id2label : dict or sequence of str, default=None
        Names of the ids in ``label_column`` (default: the column's ``ClassLabel`` names,
        else ``model.config.id2label``).
    level : str, default="auto"
        Counting level, as in :func:`table_from_hf`.
    sampler_seed : int, default=None
        Shuffle seed of the sampler (default: the plan's seed).
    **kwargs : Any
        Passed to the Trainer.

    Attributes
    ----------
    train_table : LabelTable or None
        The labels the balancer was fitted on (None when a plan or sampler was given).
    train_sampler : BalancedSampler or WeightedSampler or None
        The sampler of the last training dataloader.

    Examples
    --------
    >>> import transformers
    >>> from curate.integrations.transformers import BalancedTrainerMixin
    >>> class BalancedSeq2SeqTrainer(BalancedTrainerMixin, transformers.Seq2SeqTrainer):
    ...     pass
    >>> BalancedSeq2SeqTrainer.__mro__[1].__name__
    'BalancedTrainerMixin'
    """

    def __init__(self, *args: Any, balance: Any, label_column: str = "labels",
                 id2label: Any = None, level: str = "auto", sampler_seed: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._curate_balance = balance
        self._curate_seed = sampler_seed
        self.train_sampler: Any = None
        self.train_table: LabelTable | None = None
        train = getattr(self, "train_dataset", None)
        if train is None:
            raise CurateValueError(
                "BalancedTrainer needs train_dataset=; the plan is fitted on its labels")
        if callable(getattr(balance, "fit", None)) and not isinstance(balance, BalancePlan):
            if id2label is None and _names_of(_inner(getattr(train, "features", {}).get(
                    label_column))[1]) is None:
                model = getattr(self, "model", None)
                id2label = getattr(getattr(model, "config", None), "id2label", None)
            self.train_table = table_from_hf(train, label_column, id2label=id2label,
                                             level=level)

    def _get_train_sampler(self, train_dataset: Any = None) -> Any:
        """Return the curate sampler for ``train_dataset`` (built once, then reused).

        Parameters
        ----------
        train_dataset : Dataset, default=None
            The (column-pruned) train dataset; ``None`` means ``self.train_dataset``.

        Returns
        -------
        BalancedSampler or WeightedSampler
        """
        if train_dataset is None:
            train_dataset = getattr(self, "train_dataset", None)
        if self.train_sampler is None:
            self.train_sampler = _choose_sampler(self._curate_balance, self.train_table,
                                                 self._curate_seed, len(train_dataset))
        return self.train_sampler

    def get_train_dataloader(self) -> Any:
        """The Trainer's training dataloader, with ``accelerate``'s re-sharding undone.

        Returns
        -------
        torch.utils.data.DataLoader
        """
        loader = super().get_train_dataloader()  # type: ignore[misc]
        unshard_curate_loader(loader)
        return loader


def unshard_curate_loader(loader: Any) -> bool:
    """Turn off ``accelerate``'s batch sharding of a loader whose sampler already shards.

    ``accelerate.prepare`` wraps the batch sampler in ``BatchSamplerShard``, which hands
    every ``num_processes``-th batch to each rank; a curate sampler already yields only this
    rank's shard, so the wrapper would drop all but ``1 / num_processes`` of it. This makes
    the wrapper pass batches through unchanged (and not pad the last one).

    Parameters
    ----------
    loader : torch.utils.data.DataLoader
        A loader returned by ``accelerator.prepare``.

    Returns
    -------
    bool
        True when a wrapper around a curate sampler was found and switched off.

    Examples
    --------
    >>> import torch
    >>> from accelerate.data_loader import BatchSamplerShard
    >>> from curate.sampler import WeightedSampler
    >>> from curate.integrations.transformers import unshard_curate_loader
    >>> s = WeightedSampler([1.0, 1.0, 1.0, 1.0, 1.0], num_samples=5, num_replicas=2, rank=0)
    >>> batches = torch.utils.data.BatchSampler(s, batch_size=2, drop_last=False)
    >>> loader = torch.utils.data.DataLoader(range(5), batch_sampler=BatchSamplerShard(
    ...     batches, num_processes=2, process_index=0))
    >>> len(list(loader))
    1
    >>> unshard_curate_loader(loader), len(list(loader))
    (True, 2)
    """
    from curate.sampler import BalancedSampler, WeightedSampler

    shard = getattr(loader, "batch_sampler", None)
    inner = getattr(shard, "batch_sampler", None)
    sampler = getattr(inner, "sampler", None)
    if shard is None or type(shard).__name__ != "BatchSamplerShard" or not isinstance(
            sampler, (BalancedSampler, WeightedSampler)):
        return False
    shard.num_processes = 1
    shard.process_index = 0
    shard.even_batches = False
    return True


def compute_metrics(
    id2label: Any = None,
    *,
    task: str = "auto",
    ignore_index: int = -100,
    **evaluate_kwargs: Any,
) -> Callable[[Any], dict[str, float]]:
    """A ``compute_metrics`` for ``transformers.Trainer`` built on :func:`curate.evaluate`.

    Predictions are logits (argmax over the last axis) or already class ids. Token
    classification (labels with ``ignore_index`` positions) is scored at entity level when
    ``id2label`` names BIO tags, as seqeval does; sequence classification per sample.

    Parameters
    ----------
    id2label : dict of {int: str} or sequence of str, default=None
        Names of the label ids (``model.config.id2label``); required for token tags.
    task : {"auto", "multiclass", "multilabel", "tags"}, default="auto"
        Passed to :func:`curate.evaluate`. ``"auto"``: 2-d float labels shaped like the
        predictions are multi-label (``problem_type="multi_label_classification"``), other
        2-d labels are token tags, 1-d labels are classes. Multi-label predictions that are
        logits are scored at ``sigmoid(logit) >= 0.5`` (``thresholds=`` to change it), and
        ``id2label`` names the label columns.
    ignore_index : int, default=-100
        Label id of positions to skip.
    **evaluate_kwargs : Any
        More options of :func:`curate.evaluate` (``zero_division=0``, ``mode="strict"``...).

    Returns
    -------
    callable
        ``f(eval_prediction) -> dict`` with ``accuracy``, ``balanced_accuracy``,
        ``macro_precision``, ``macro_recall``, ``macro_f1``, ``micro_f1``,
        ``weighted_f1`` and ``paradox`` (1.0 when the accuracy paradox is flagged).

    Examples
    --------
    >>> import numpy as np
    >>> from curate.integrations.transformers import compute_metrics
    >>> f = compute_metrics({0: "O", 1: "B-PER", 2: "I-PER"}, zero_division=0)
    >>> logits = np.eye(3)[[[0, 1, 2, 0], [0, 0, 1, 0]]]
    >>> labels = np.array([[-100, 1, 2, 0], [-100, 0, 1, -100]])
    >>> round(f((logits, labels))["macro_f1"], 4)
    1.0
    """
    from curate.metrics import evaluate

    names = None if id2label is None else _id2label_names(id2label)

    def _compute(eval_pred: Any) -> dict[str, float]:
        if hasattr(eval_pred, "predictions"):
            preds, labels = eval_pred.predictions, eval_pred.label_ids
        else:
            preds, labels = eval_pred[0], eval_pred[1]
        if isinstance(preds, tuple):
            preds = preds[0]
        preds, labels = np.asarray(preds), np.asarray(labels)
        if preds.ndim == labels.ndim + 1:
            preds = preds.argmax(axis=-1)
        kind = task
        if kind == "auto" and labels.ndim == 2:
            # multi_label_classification gives float multi-hot labels; integer ones are tags
            floats = labels.dtype.kind == "f" and preds.shape == labels.shape
            kind = "multilabel" if floats else "tags"
        kw = dict(evaluate_kwargs)
        if kind == "multilabel":
            ev = _multilabel(labels, preds, names, kw)
            return _summary(ev)
        if kind == "tags":
            if names is None:
                raise CurateValueError(
                    "compute_metrics: token labels need id2label= (model.config.id2label)")
            kw.setdefault("labels", names)
            kw.setdefault("ignore_index", ignore_index)
        elif names is not None:
            labels = np.asarray(names, dtype=object)[labels]
            preds = np.asarray(names, dtype=object)[preds]
            kw.setdefault("labels", names)
        ev = evaluate(labels, preds, task=kind, **kw)
        return _summary(ev)

    return _compute


def _summary(ev: Any) -> dict[str, float]:
    return {
        "accuracy": float(ev.accuracy),
        "balanced_accuracy": float(ev.balanced_accuracy),
        "macro_precision": float(ev.macro.precision),
        "macro_recall": float(ev.macro.recall),
        "macro_f1": float(ev.macro.f1),
        "micro_f1": float(ev.micro.f1),
        "weighted_f1": float(ev.weighted.f1),
        "paradox": float(bool(ev.paradox.flagged)),
    }


def _multilabel(labels: np.ndarray, preds: np.ndarray, names: list[str] | None,
                kw: dict[str, Any]) -> Any:
    """Indicator labels against logits (``sigmoid >= 0.5``, or ``thresholds=``) or 0/1
    predictions; ``id2label`` names the columns (it never indexes the 0/1 cells)."""
    from curate.metrics import evaluate

    if labels.shape != preds.shape or labels.ndim != 2:
        raise CurateValueError(
            f"compute_metrics(task='multilabel') needs labels and predictions of one shape "
            f"(n_samples, n_labels); got {labels.shape} and {preds.shape}")
    if not np.isin(labels, (0, 1)).all():
        raise CurateValueError(
            "compute_metrics(task='multilabel') needs 0/1 (multi-hot) labels; got values "
            f"{np.unique(labels)[:5].tolist()}")
    if names is not None:
        if len(names) != labels.shape[1]:
            raise CurateValueError(
                f"id2label names {len(names)} labels but the label matrix has "
                f"{labels.shape[1]} columns")
        kw.setdefault("target_names", names)
    y = labels.astype(np.int64)
    if preds.dtype.kind == "f" and not np.isin(preds, (0, 1)).all():
        scores = 1.0 / (1.0 + np.exp(-preds.astype(np.float64)))  # logits -> probabilities
        kw.setdefault("thresholds", 0.5)
        return evaluate(y, scores, task="multilabel", **kw)
    return evaluate(y, preds.astype(np.int64), task="multilabel", **kw)


_TRAINER_CLASS: type | None = None


def _balanced_trainer() -> type:
    global _TRAINER_CLASS
    if _TRAINER_CLASS is None:
        from curate._optional import require

        transformers = require("transformers", "curate.integrations.transformers")
        cls = type("BalancedTrainer", (BalancedTrainerMixin, transformers.Trainer), {
            "__module__": __name__,
            "__doc__": _BALANCED_TRAINER_DOC,
        })
        cls.__qualname__ = "BalancedTrainer"
        _TRAINER_CLASS = cls
    return _TRAINER_CLASS


_BALANCED_TRAINER_DOC = """``transformers.Trainer`` that trains on a curate plan.

    Built on first access, so importing this module does not import ``transformers``.

    Parameters
    ----------
    *args : Any
        Passed to ``transformers.Trainer`` (``model``, ``args``...).
    balance : BalancePlan, balancer or curate sampler
        As in :class:`BalancedTrainerMixin`.
    label_column : str, default="labels"
        Column the table is read from when ``balance`` is a balancer.
    id2label : dict or sequence of str, default=None
        Names of the ids in ``label_column`` (default: its ``ClassLabel`` names, else
        ``model.config.id2label``).
    level : str, default="auto"
        Counting level, as in :func:`table_from_hf`.
    sampler_seed : int, default=None
        Shuffle seed of the sampler (default: the plan's seed).
    **kwargs : Any
        The Trainer's own keywords.

    Attributes
    ----------
    train_table : LabelTable or None
        The labels the balancer was fitted on.
    train_sampler : BalancedSampler or WeightedSampler or None
        The sampler of the last training dataloader.

    Examples
    --------
    >>> import transformers
    >>> from curate.integrations.transformers import BalancedTrainer
    >>> issubclass(BalancedTrainer, transformers.Trainer)
    True
    """


def __getattr__(name: str) -> Any:
    if name == "BalancedTrainer":
        return _balanced_trainer()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
