"""``LabelTable`` constructors: label lists, arrays, tag sequences, token ids, data frames.

Each function takes the class as its first argument and is attached to
:class:`~curate.labels.LabelTable` as a classmethod, so ``LabelTable.from_tags(...)`` is the
public spelling.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from curate._tags import entities_default
from curate._validation import Interval, check_bool, check_param, data_error, param_error
from curate.exceptions import CurateValueError
from curate.labels import _arrow, _parse
from curate.labels._base import (
    Level,
    _check_background_in,
    _check_no_mixed_types,
    _check_not_empty,
    _class_names,
)

if TYPE_CHECKING:
    from curate.labels._table import LabelTable


def from_labels(
    cls: type[LabelTable],
    labels: Iterable[Iterable[Hashable]],
    *,
    classes: Sequence[str] | None = None,
    sample_ids: Sequence[Any] | None = None,
    background: str | None = None,
    level: str = "instance",
) -> LabelTable:
    """Build a table from per-sample label lists; a repeated name counts as more instances.

    Parameters
    ----------
    labels : iterable of iterables of str or int
        ``labels[i]`` holds the labels of sample ``i`` (may be empty). Mixing ``1`` and
        ``"1"`` is an error (both would be class ``"1"``).
    classes : sequence of str, default=None
        Fixes the column order and lets classes with no label appear; every label must
        be one of them. ``None`` uses the sorted set of labels seen.
    sample_ids : sequence, default=None
        One id per sample.
    background : str, default=None
        Background class name (must occur in the data).
    level : {"instance", "sample", "token", "entity"}, default="instance"
        What a label counts.

    Returns
    -------
    LabelTable

    Examples
    --------
    >>> from curate.labels import LabelTable
    >>> t = LabelTable.from_labels([["person", "person", "dog"], [], ["dog"]])
    >>> t.classes, t.counts.tolist()
    (('dog', 'person'), [2, 2])
    """
    rows = []
    for i, sample in enumerate(labels):
        if isinstance(sample, str | bytes | dict) or not isinstance(sample, Iterable):
            raise data_error(
                f"labels[{i}]", sample, f"is {sample!r}, not a list of labels",
                "pass one list per sample (use LabelTable.from_array for single-label data)",
            )
        rows.append(list(sample))
    _check_not_empty(len(rows), "labels")
    lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
    flat = [lab for r in rows for lab in r]
    for j, lab in enumerate(flat):
        if lab is None or (isinstance(lab, float) and np.isnan(lab)):
            i = int(np.searchsorted(np.cumsum(lengths), j, side="right"))
            raise data_error(f"labels[{i}]", lab, f"holds a missing label ({lab!r})",
                             "drop it or give it a class name")
    return from_flat(cls, flat, lengths, classes=classes, sample_ids=sample_ids,
                     background=background, level=level, field="labels")


def from_flat(
    cls: type[LabelTable],
    flat: Sequence[Hashable] | np.ndarray,
    lengths: np.ndarray,
    *,
    classes: Sequence[str] | None,
    sample_ids: Sequence[Any] | None,
    background: str | None,
    level: str,
    field: str,
) -> LabelTable:
    """Build a table from all labels in one flat list and the number of labels per sample."""
    has_float = False
    for j, lab in enumerate(flat):
        if not isinstance(lab, Hashable) or isinstance(lab, tuple):
            i = int(np.searchsorted(np.cumsum(lengths), j, side="right"))
            raise data_error(f"{field}[{i}]", lab, f"holds {lab!r}, not a label",
                             "labels must be strings or integers")
        if isinstance(lab, bytes | bytearray):  # str(b"a") would name a class "b'a'"
            i = int(np.searchsorted(np.cumsum(lengths), j, side="right"))
            raise data_error(f"{field}[{i}]", lab, f"holds bytes {bytes(lab)!r}, not a label name",
                             "decode the labels to strings first (x.decode())")
        has_float = has_float or isinstance(lab, float | np.floating)
    if has_float:
        # a float label is a number: 2.0 is class "2" (as in arrow columns and float arrays)
        # and 1.5 or NaN is refused, never a class named "1.5"
        fixed = []
        for j, v in enumerate(flat):
            if isinstance(v, float | np.floating):
                if not (np.isfinite(v) and v == np.round(v)):
                    i = int(np.searchsorted(np.cumsum(lengths), j, side="right"))
                    raise data_error(f"{field}[{i}]", v, f"holds {float(v)!r}",
                                     "labels must be integers or strings, without NaN")
                v = int(v)
            fixed.append(v)
        flat = fixed
    _check_no_mixed_types(list(flat), lengths, field)
    names = np.array([str(v) for v in flat], dtype=object)
    classes = _class_names(flat) if classes is None else [str(c) for c in classes]
    lookup = pd.Index(classes)
    if not lookup.is_unique:
        dups = sorted(lookup[lookup.duplicated()])
        raise CurateValueError(f"classes has duplicate names: {dups}")
    codes = lookup.get_indexer(names) if len(names) else np.array([], dtype=np.int64)
    if (codes < 0).any():
        j = int(np.flatnonzero(codes < 0)[0])
        i = int(np.searchsorted(np.cumsum(lengths), j, side="right"))
        shown = list(classes) if len(classes) <= 20 else [*list(classes)[:20], "..."]
        raise data_error(
            f"{field}[{i}]", names[j], f"has class {names[j]!r} not in classes={shown}",
            "add it to classes or fix the label",
        )
    rows = np.repeat(np.arange(len(lengths)), lengths)
    m = sp.csr_matrix(
        (np.ones(len(codes), dtype=np.int64), (rows, codes)), shape=(len(lengths), len(classes))
    )
    m.sum_duplicates()
    _check_background_in(background, classes)
    table = cls(m, classes, sample_ids=sample_ids, background=background, level=level)
    table._check_background_occurs()
    return table


def from_array(
    cls: type[LabelTable],
    y: Any,
    *,
    classes: Sequence[str] | None = None,
    sample_ids: Sequence[Any] | None = None,
    background: str | None = None,
) -> LabelTable:
    """Build a single-label table (one class per sample) from ints or strings.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        One label per sample. Integer labels are ordered numerically. Mixing the int ``1``
        and the string ``"1"`` is an error, never a silent merge.
    classes : sequence of str, default=None
        Fixes the column order; ``None`` uses the sorted labels seen.
    sample_ids : sequence, default=None
        One id per sample.
    background : str, default=None
        Background class name.

    Returns
    -------
    LabelTable
        With ``level="sample"``.

    Examples
    --------
    >>> from curate.labels import LabelTable
    >>> LabelTable.from_array([2, 0, 2, 10]).counts.to_dict()
    {'0': 1, '2': 2, '10': 1}
    """
    if hasattr(y, "detach"):
        y = y.detach().cpu().numpy()
    arr = np.asarray(y)
    if arr.dtype.kind in "US" and arr.ndim == 1 and not isinstance(y, np.ndarray):
        # numpy turns [1, "1"] into two strings: keep the Python values so that mixing
        # numbers and strings is caught below instead of merged
        values = list(y)
        if not all(isinstance(v, str) for v in values):
            arr = np.empty(len(values), dtype=object)
            arr[:] = values
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise CurateValueError(
            f"y must be 1-D (one label per sample); got shape {arr.shape}. "
            "Use LabelTable.from_labels for multi-label data"
        )
    if arr.dtype.kind == "f":
        bad = np.flatnonzero(np.isnan(arr) | (arr != np.round(arr)))
        if bad.size:
            raise data_error(f"y[{bad[0]}]", arr[bad[0]], f"is {arr[bad[0]].tolist()}",
                             "labels must be integers or strings, without NaN")
        arr = arr.astype(np.int64)
    if arr.dtype == object:
        missing = [i for i, v in enumerate(arr.tolist()) if v is None or v != v]
        if missing:
            raise data_error(f"y[{missing[0]}]", None, "is missing (None/NaN)",
                             "drop the sample or give it a class")
    _check_not_empty(len(arr), "y")
    flat = arr.tolist()
    return from_flat(cls, flat, np.ones(len(flat), dtype=np.int64), classes=classes,
                     sample_ids=sample_ids, background=background, level="sample", field="y")


def from_tags(
    cls: type[LabelTable],
    tags: Iterable[Sequence[str]],
    *,
    tokens: Iterable[Sequence[Any]] | None = None,
    level: str = "token",
    scheme: str = "IOB2",
    suffix: bool = False,
    background: str | None = "auto",
    classes: Sequence[str] | None = None,
    sample_ids: Sequence[Any] | None = None,
) -> LabelTable:
    """Build a table from BIO / IOB2 / IOBES / BILOU tag sequences (one sequence per sample).

    Parameters
    ----------
    tags : iterable of sequences of str
        ``tags[i]`` holds one tag per token of sample ``i`` (``"O"``, ``"B-PER"``, ...).
    tokens : iterable of sequences, default=None
        The tokens; when given, each ``tokens[i]`` must have as many items as ``tags[i]``.
    level : {"token", "entity"}, default="token"
        ``"token"`` counts tags, one per token (``B-PER`` and ``I-PER`` are separate
        classes, ``O`` included). ``"entity"`` counts spans per entity type, extracted as
        ``seqeval`` does in its default mode: an ``I-X`` that follows ``O`` or another
        type opens a span (IOB1-style starts are repaired), ``E-``/``S-`` close spans
        (BILOU's ``L-``/``U-`` read as ``E-``/``S-``).
    scheme : {"IOB2", "BIO", "IOB1", "IOE1", "IOE2", "IOBES", "BILOU"}, default="IOB2"
        Allowed tag prefixes: ``B``/``I`` (IOB1, IOB2 and BIO), ``I``/``E`` (IOE1, IOE2),
        ``B``/``I``/``E``/``S`` (IOBES) or ``B``/``I``/``L``/``U`` (BILOU); ``O`` is
        always allowed. Any other tag is an error.
    suffix : bool, default=False
        Tags carry the prefix at the end (``"PER-B"``), as seqeval's ``suffix=True``.
    background : str or None, default="auto"
        ``"auto"`` means ``"O"`` at token level when ``O`` occurs, and ``None`` at
        entity level (spans have no background). An explicit name must occur.
    classes : sequence of str, default=None
        Fixes the column order (tags at token level, entity types at entity level).
    sample_ids : sequence, default=None
        One id per sample.

    Returns
    -------
    LabelTable
        With ``level="token"`` or ``level="entity"``.

    Examples
    --------
    >>> from curate.labels import LabelTable
    >>> tags = [["B-PER", "I-PER", "O"], ["O", "I-LOC", "O", "B-PER"]]
    >>> LabelTable.from_tags(tags).counts.to_dict()
    {'B-PER': 2, 'I-LOC': 1, 'I-PER': 1, 'O': 3}
    >>> LabelTable.from_tags(tags, level="entity").counts.to_dict()
    {'LOC': 1, 'PER': 2}
    >>> LabelTable.from_tags([["PER-B", "PER-I", "O"]], suffix=True, level="entity").classes
    ('PER',)
    """
    owner = "LabelTable.from_tags"
    lvl = Level.from_str(level, "level", owner)
    if lvl not in (Level.TOKEN, Level.ENTITY):
        raise param_error("level", owner, "one of {'entity', 'token'}", level)
    suffix = check_bool("suffix", suffix, owner)
    scheme_ = _parse.Scheme.from_str(scheme, "scheme", owner)
    seqs = _parse.tag_sequences(tags, tokens)
    _parse.check_tags(seqs, scheme_, suffix)
    if lvl is Level.ENTITY:
        seqs = [[span[0] for span in entities_default(_parse.iob_prefix_tags(seq, suffix))]
                for seq in seqs]
        if background == "auto":
            background = None
    elif background == "auto":
        background = "O" if any("O" in seq for seq in seqs) else None
    lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
    flat = [t for s in seqs for t in s]
    return from_flat(cls, flat, lengths, classes=classes, sample_ids=sample_ids,
                     background=background, level=lvl.value, field="tags")


def from_token_ids(
    cls: type[LabelTable],
    label_ids: Any,
    *,
    id2label: Any,
    ignore_index: int = -100,
    level: str = "token",
    background: str | None = "auto",
    sample_ids: Sequence[Any] | None = None,
) -> LabelTable:
    """Build a table from Hugging Face-style tokenized label ids.

    Parameters
    ----------
    label_ids : list of sequences of int or array-like of shape (n_samples, seq_len)
        Label id per (sub-)token; padded 2-D arrays and torch tensors work too.
        Positions equal to ``ignore_index`` (padding, continuation sub-words,
        special tokens) are never counted.
    id2label : dict of {int: str}, sequence of str, or path
        Name of each label id: a model config's ``id2label`` (string keys such as
        ``"3"`` from a JSON config are accepted), a list of names, or the path of a
        Hugging Face ``config.json``. Its names, in id order, are the classes, so
        unseen labels appear with count 0 and column ``i`` is label id ``i``.
    ignore_index : int, default=-100
        Id that marks positions to skip.
    level : {"token", "entity", "instance"}, default="token"
        ``"token"`` counts one label per kept position; ``"entity"`` maps ids to tag
        names, drops ignored positions and counts spans per type as
        :meth:`from_tags` does; ``"instance"`` counts like ``"token"`` for ids that are
        not tags.
    background : str or None, default="auto"
        ``"auto"`` is ``"O"`` at token level when ``id2label`` names an ``O`` label that
        occurs, otherwise none; an explicit name must occur.
    sample_ids : sequence, default=None
        One id per sample.

    Returns
    -------
    LabelTable

    Examples
    --------
    >>> from curate.labels import LabelTable
    >>> id2label = {0: "O", 1: "B-PER", 2: "I-PER"}
    >>> ids = [[-100, 1, 2, 0, -100], [-100, 0, 1, -100, -100]]
    >>> t = LabelTable.from_token_ids(ids, id2label=id2label)
    >>> t.counts.to_dict(), t.background
    ({'O': 2, 'B-PER': 2, 'I-PER': 1}, 'O')
    >>> LabelTable.from_token_ids(ids, id2label=id2label, level="entity").counts.to_dict()
    {'PER': 2}
    """
    owner = "LabelTable.from_token_ids"
    lvl = Level.from_str(level, "level", owner)
    check_param("ignore_index", ignore_index, [Interval(int, None, None)], owner)
    ids, names = _parse.normalize_id2label(id2label)
    flat, lengths = _parse.flatten_ids(label_ids)
    keep = flat != ignore_index
    _check_known_ids(flat, keep, ids, lengths, ignore_index)
    order = np.argsort(ids)
    ids, names = ids[order], [names[k] for k in order]
    if lvl is Level.ENTITY:
        rows = np.repeat(np.arange(len(lengths)), lengths)
        tag_of = dict(zip(ids.tolist(), names, strict=True))
        seqs: list[list[str]] = [[] for _ in range(len(lengths))]
        for r, v in zip(rows[keep].tolist(), flat[keep].tolist(), strict=True):
            seqs[r].append(tag_of[v])
        found = _parse.detect_tags([names])
        return from_tags(cls, seqs, level="entity", scheme=found.scheme if found else "IOBES",
                         suffix=found.suffix if found else False,
                         background=None if background == "auto" else background,
                         sample_ids=sample_ids)
    if lvl not in (Level.TOKEN, Level.INSTANCE):
        raise param_error("level", owner, "one of {'entity', 'instance', 'token'}", level)
    rows = np.repeat(np.arange(len(lengths)), lengths)[keep]
    codes = np.searchsorted(ids, flat[keep])
    m = sp.csr_matrix((np.ones(len(codes), dtype=np.int64), (rows, codes)),
                      shape=(len(lengths), len(names)))
    if background == "auto":
        seen = "O" in names and m[:, names.index("O")].nnz > 0
        background = "O" if lvl is Level.TOKEN and seen else None
    _check_background_in(background, names)
    table = cls(m, names, sample_ids=sample_ids, background=background, level=lvl.value)
    table._check_background_occurs()
    return table


def _check_known_ids(flat: np.ndarray, keep: np.ndarray, ids: np.ndarray, lengths: np.ndarray,
                     ignore_index: int) -> None:
    known = np.isin(flat, ids)
    if (known | ~keep).all():
        return
    j = int(np.flatnonzero(keep & ~known)[0])
    i = int(np.searchsorted(np.cumsum(lengths), j, side="right"))
    shown = f"[{ids.min()}..{ids.max()}]" if len(ids) > 20 else ids.tolist()
    raise data_error(
        f"label_ids[{i}]", flat[j], f"has id {flat[j].tolist()}, not in id2label (ids {shown})",
        f"fix the id, add it to id2label, or mark it with ignore_index={ignore_index}",
    )


def from_frame(
    cls: type[LabelTable],
    frame: Any,
    column: str,
    *,
    id_column: str | None = None,
    classes: Sequence[str] | None = None,
    background: str | None = None,
    level: str | None = None,
    id2label: Any = None,
    ignore_index: int = -100,
) -> LabelTable:
    """Build a table from one column of a pandas DataFrame or a pyarrow Table.

    A column of scalars gives single-label data (``level="sample"``); a column of lists
    gives multi-label / instance data (``level="instance"``, repeated names count as
    more instances). A list column whose values are all tags of one tagging scheme
    (``O``, ``B-PER``, ``I-PER``, ...; IOB1/IOB2/IOE/IOBES/BILOU, prefix or suffix style)
    is read as tags: ``level="token"`` with background ``"O"``. A null list is an empty
    sample; a null label is an error. Integer labels equal to ``ignore_index`` are never
    counted.

    Parameters
    ----------
    frame : pandas.DataFrame or pyarrow.Table
        The data; it is not modified.
    column : str
        Name of the label column.
    id_column : str, default=None
        Column holding sample ids; ``None`` numbers the rows.
    classes : sequence of str, default=None
        Fixes the column order; ``None`` uses the sorted labels seen (or ``id2label``'s
        order).
    background : str, default=None
        Background class; must occur. ``None`` means ``"O"`` for tag data at token level
        (when it occurs) and no background otherwise.
    level : {"instance", "sample", "token", "entity"}, default=None
        ``None`` picks ``"sample"`` for scalars, ``"token"`` for tag sequences and
        ``"instance"`` for other lists. ``"sample"`` on a list column counts each class
        once per sample (presence). ``"token"`` and ``"entity"`` read a list column as
        tag sequences (see :meth:`from_tags`); ``"instance"`` on tags counts them as plain
        labels, with no background.
    id2label : dict, sequence of str or path, default=None
        Names of integer label ids (a dict, a list, or a Hugging Face ``config.json``);
        they become the classes in id order.
    ignore_index : int, default=-100
        Integer label that marks positions to skip; never a class.

    Returns
    -------
    LabelTable

    Examples
    --------
    >>> import pandas as pd
    >>> from curate.labels import LabelTable
    >>> df = pd.DataFrame({"id": ["a", "b"], "labels": [["cat", "cat"], ["dog"]]})
    >>> t = LabelTable.from_frame(df, "labels", id_column="id")
    >>> t.counts.to_dict(), t.sample_ids.tolist()
    ({'cat': 2, 'dog': 1}, ['a', 'b'])
    >>> tags = pd.DataFrame({"tags": [["B-PER", "I-PER", "O"], ["O", "O"]]})
    >>> t = LabelTable.from_frame(tags, "tags")
    >>> t.level, t.background, t.counts.to_dict()
    ('token', 'O', {'B-PER': 1, 'I-PER': 1, 'O': 3})
    """
    owner = "LabelTable.from_frame"
    check_param("ignore_index", ignore_index, [Interval(int, None, None)], owner)
    chunks = _arrow.frame_chunks(frame, column, "column")
    ids = None if id_column is None else _arrow.frame_column(frame, id_column, "id_column")
    _check_not_empty(len(chunks), f"frame[{column!r}]")
    is_list = _arrow.is_list_type(chunks.type)
    lvl = None if level is None else Level.from_str(level, "level", owner)
    sample_ids = None if ids is None else ids.to_numpy(zero_copy_only=False)
    if is_list and not _holds_strings(chunks) and lvl in (None, Level.SAMPLE):
        hot = _multi_hot_rows(chunks, column, id2label=id2label, classes=classes)
        if hot is not None:
            matrix, names = hot
            return cls(matrix, names, sample_ids=sample_ids, background=background,
                       level="sample")
    if id2label is not None and _holds_strings(chunks):
        if classes is not None:
            raise CurateValueError("pass id2label or classes, not both; id2label fixes the "
                                   "class order")
        ids_, names_ = _parse.normalize_id2label(id2label)
        classes = [names_[k] for k in np.argsort(ids_)]
        if lvl is Level.ENTITY:
            classes = None  # id2label names tags; entity columns are span types
    elif id2label is not None:
        return _from_id_column(cls, _arrow.decode(chunks), column, id2label=id2label,
                               ignore_index=ignore_index, level=lvl, background=background,
                               sample_ids=sample_ids)
    encoded = _arrow.encode_chunks(chunks)
    found = None
    if is_list and lvl in (None, Level.TOKEN, Level.ENTITY) and _holds_strings(chunks):
        found = (_parse.detect_tags([encoded.vocabulary()]) if encoded.null_row is None
                 else detect_frame_tags(chunks))
    if lvl in (Level.TOKEN, Level.ENTITY) or (lvl is None and found is not None):
        if not is_list:
            raise CurateValueError(
                f"frame[{column!r}] holds scalars, but level={lvl.value!r} needs one tag "  # type: ignore[union-attr]
                "sequence (list) per row; use level=None for single-label data"
            )
        seqs = [[] if s is None else s for s in _arrow.decode(chunks).to_pylist()]
        if found is not None:
            found = _parse.detect_tags(seqs) or found  # positions tell IOB1 from IOB2
        return from_tags(cls, seqs, level="token" if lvl is None else lvl.value,
                         scheme=found.scheme if found else "IOBES",
                         suffix=found.suffix if found else False,
                         background="auto" if background is None else background,
                         classes=classes, sample_ids=sample_ids)
    if lvl is None:
        lvl = Level.INSTANCE if is_list else Level.SAMPLE
    # count each class once per sample (presence) when a list column is read at sample level
    return _arrow.table_from_chunks(cls, encoded, f"frame[{column!r}]", classes=classes,
                                    sample_ids=sample_ids, background=background,
                                    level=lvl.value, ignore_index=ignore_index,
                                    presence=lvl is Level.SAMPLE and is_list)


def _multi_hot_rows(chunks: Any, column: str, *, id2label: Any,
                    classes: Any) -> tuple[Any, list[str]] | None:
    """``(0/1 matrix, class names)`` when a list column holds multi-hot rows, else None.

    Multi-hot: every row has the same length ``L >= 2`` and holds only 0 and 1 (bools, or
    numbers: Hugging Face's multi-label ``labels`` are float vectors). Read as label ids
    they became two classes named "0" and "1". Bool and float rows are multi-hot; integer
    rows of ``L >= 3`` are when ``id2label`` or ``classes`` names exactly ``L`` classes,
    and a clear error (not a guess) when nothing names them; ``L = 2`` integer rows stay
    label ids.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    inner = _arrow._decoded_type(chunks.type).value_type
    if not (pa.types.is_boolean(inner) or pa.types.is_integer(inner)
            or pa.types.is_floating(inner)) or chunks.null_count or not len(chunks):
        return None
    # the row lengths first, on the chunks as stored: most id columns end here, uncopied
    lengths = pc.list_value_length(chunks).to_numpy()
    width = int(lengths[0])
    if width < 2 or (lengths != width).any():
        return None
    if pa.types.is_integer(inner) and width == 2:
        return None  # [[0, 1], [1, 1]]: a pair of ids as likely as two-class multi-hot
    arr = _arrow.decode(chunks)
    values = pc.list_flatten(arr).to_numpy(zero_copy_only=False)
    if values.dtype != bool and not np.isin(values, (0, 1)).all():
        return None
    names: list[str] | None = None
    if id2label is not None:
        ids, named = _parse.normalize_id2label(id2label)
        if len(named) == width and sorted(int(i) for i in ids) == list(range(width)):
            names = [named[k] for k in np.argsort(ids)]
    elif classes is not None and len(classes) == width:
        names = [str(c) for c in classes]
    if names is None:
        if pa.types.is_integer(inner) and (id2label is not None or classes is not None):
            return None  # label ids: the names given do not fit L columns
        if pa.types.is_integer(inner):
            raise CurateValueError(
                f"frame[{column!r}] holds 0/1 rows of length {width}: multi-hot vectors over "
                f"{width} classes, or lists of the label ids 0 and 1? Pass id2label (e.g. the "
                f"model's config.json, --label-names) or classes= with {width} names to read "
                "them as multi-hot, or level='instance' to read label ids")
        names = [str(j) for j in range(width)]
    m = sp.csr_matrix(values.reshape(len(arr), width).astype(np.int64))
    return m, names


def refuse_multi_hot(values: Any, column: str, who: str) -> None:
    """Raise when a label column of ``who`` (a counter of label values: ``count_labels``,
    the engine's label pass) holds multi-hot rows, which it would count as classes "0" and
    "1"; :func:`curate.io.read_table` reads them as one column per class."""
    import pyarrow as pa

    if not _arrow.is_list_type(values.type):
        return
    chunks = values if isinstance(values, pa.ChunkedArray) else pa.chunked_array([values])
    if _multi_hot_rows(chunks, column, id2label=None, classes=None) is not None:
        raise CurateValueError(
            f"column {column!r} holds multi-hot rows (0/1 per class); {who} counts label "
            "values, which would give classes '0' and '1': use "
            "curate.io.read_table(path, column=..., id2label=...).counts")


def _holds_strings(arr: Any) -> bool:
    import pyarrow as pa

    t = arr.type.value_type if _arrow.is_list_type(arr.type) else arr.type
    t = t.value_type if pa.types.is_dictionary(t) else t
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t))


def detect_frame_tags(arr: Any) -> _parse.Detected | None:
    """The tagging scheme of a pyarrow list column of strings, judged by its vocabulary.

    ``arr`` may be chunked and dictionary-encoded: the vocabulary is then read from the
    dictionaries of the values that occur, never from one string per label.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if not _holds_strings(arr):
        return None
    chunks = arr if isinstance(arr, pa.ChunkedArray) else pa.chunked_array([arr])
    vocab: dict[str, None] = {}  # first-appearance order, as pc.unique of the whole column
    for chunk in chunks.chunks:
        values, _ = _arrow.flat_values(chunk)
        if pa.types.is_dictionary(values.type):
            used = pc.unique(values.indices).drop_null()
            values = values.dictionary.take(used)
        vocab.update((v, None) for v in pc.unique(values).to_pylist() if v is not None)
    return _parse.detect_tags([list(vocab)])


def _from_id_column(cls: type[LabelTable], arr: Any, column: str, *, id2label: Any,
                    ignore_index: int, level: Level | None, background: str | None,
                    sample_ids: Any) -> LabelTable:
    values, lengths = _arrow.flat_values(arr)
    flat = values.to_numpy(zero_copy_only=False)
    if flat.dtype.kind not in "iuf":
        raise CurateValueError(
            f"id2label names integer label ids, but frame[{column!r}] holds "
            f"{values.type} values; remove id2label or pass the column of ids"
        )
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    rows = [flat[offsets[i]:offsets[i + 1]] for i in range(len(lengths))]
    _, names = _parse.normalize_id2label(id2label)
    is_tags = _parse.detect_tags([names]) is not None
    if level is None:  # as without id2label: tags by token, a scalar column by sample
        if is_tags:
            level = Level.TOKEN
        else:
            level = Level.INSTANCE if _arrow.is_list_type(arr.type) else Level.SAMPLE
    lvl_arg = "instance" if level is Level.SAMPLE else level.value
    bg: str | None = ("auto" if is_tags else None) if background is None else background
    table = from_token_ids(cls, rows, id2label=id2label, ignore_index=ignore_index,
                           level=lvl_arg, background=bg, sample_ids=sample_ids)
    if level is Level.SAMPLE:
        table = cls(table.presence(), table.classes, sample_ids=table.sample_ids,
                    background=table.background, level="sample")
    return table
