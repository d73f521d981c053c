"""``LabelTable``: a dataset's labels as one sparse samples × classes count matrix.

Every feature of curate is a function of this matrix: statistics read it, weights come from
its column sums, the balancer picks a multiplicity per row and the sampler turns those into
indices.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from curate._tags import entities_default
from curate._validation import Interval, Options, StrEnum, check_param, data_error
from curate.exceptions import CurateTypeError, CurateValueError

__all__ = ["LabelTable", "Level"]


class Level(StrEnum):
    """What one entry of the matrix counts.

    ``INSTANCE`` counts objects or labels per sample (detection, multi-label lists),
    ``SAMPLE`` is 0/1 (single-label classification or presence), ``TOKEN`` counts token tags
    (BIO tags one per token) and ``ENTITY`` counts entity spans per type.

    Examples
    --------
    >>> from curate.labels import Level
    >>> Level.from_str("TOKEN") is Level.TOKEN, str(Level.SAMPLE)
    (True, 'sample')
    """

    INSTANCE = "instance"  # objects / labels per sample (detection, multi-label lists)
    SAMPLE = "sample"  # 0/1: single-label classification or presence
    TOKEN = "token"  # token tags (BIO tags counted one per token)
    ENTITY = "entity"  # entity spans per type


def _sort_key(value: Any) -> tuple[int, Any]:
    # numbers before strings, numbers numerically, strings lexically
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return (0, int(value))
    return (1, str(value))


def _class_names(values: Iterable[Hashable]) -> list[str]:
    return [str(v) for v in sorted(set(values), key=_sort_key)]


def _check_not_empty(n: int, field: str) -> None:
    if n == 0:
        raise CurateValueError(
            f"{field} is empty (0 samples); pass a dataset with at least one sample"
        )


def _check_background_in(background: str | None, classes: Sequence[str]) -> None:
    if background is not None and str(background) not in {str(c) for c in classes}:
        raise data_error(
            "background", background,
            f"is {background!r}, a class that never occurs in the data",
            "pass the background label used in your data, or background=None",
        )


def _readonly(matrix: sp.csr_matrix) -> sp.csr_matrix:
    for arr in (matrix.data, matrix.indices, matrix.indptr):
        arr.flags.writeable = False
    return matrix


class LabelTable:
    """Labels of ``n_samples`` samples over ``n_classes`` classes as a sparse count matrix.

    Entry ``(i, k)`` is the number of instances of class ``k`` in sample ``i`` (objects,
    tokens, spans, or 0/1 for single-label data). The table is immutable: every method that
    changes it returns a new table.

    Parameters
    ----------
    matrix : sparse or dense array-like of shape (n_samples, n_classes)
        Non-negative integer counts.
    classes : sequence of str of length n_classes
        Class names, in column order. Must be unique.
    sample_ids : sequence of length n_samples, default=None
        Identifiers of the rows; ``None`` numbers them ``0 .. n_samples - 1``.
    background : str, default=None
        Name of the background class (``"O"``, ``"__background__"``), if any. It is
        excluded from balance terms and kept at weight ≤ 1 by :func:`curate.class_weights`.
    level : {"instance", "sample", "token", "entity"}, default="instance"
        What an entry counts; carried along so weights and reports say what they count.

    Examples
    --------
    >>> import numpy as np
    >>> t = LabelTable(np.array([[2, 0], [0, 1], [1, 1]]), ["cat", "dog"])
    >>> t.counts.tolist(), t.support.tolist(), t.n_samples
    ([3, 2], [2, 2], 3)
    """

    def __init__(
        self,
        matrix: Any,
        classes: Sequence[str],
        *,
        sample_ids: Sequence[Any] | np.ndarray | None = None,
        background: str | None = None,
        level: str = "instance",
    ) -> None:
        self._level = Level.from_str(level, "level", "LabelTable")
        self._classes = tuple(str(c) for c in classes)
        self._matrix = _readonly(self._check_matrix(matrix, len(self._classes)))
        n = self._matrix.shape[0]
        self._sample_ids = self._check_ids(sample_ids, n)
        if len(set(self._classes)) != len(self._classes):
            dup = pd.Series(self._classes)[pd.Series(self._classes).duplicated()].iloc[0]
            raise data_error("classes", dup, f"has duplicate name {dup!r}",
                             "class names must be unique")
        if background is not None:
            check_param("background", str(background), [Options(set(self._classes))], "LabelTable")
        self._background = None if background is None else str(background)

    # ------------------------------------------------------------------ validation
    @staticmethod
    def _check_matrix(matrix: Any, n_classes: int) -> sp.csr_matrix:
        if sp.issparse(matrix):
            m = sp.csr_matrix(matrix, copy=True)
        else:
            arr = np.asarray(matrix)
            if arr.ndim != 2:
                raise CurateValueError(
                    f"matrix must be 2-D (n_samples, n_classes); got shape {arr.shape}"
                )
            if arr.dtype.kind not in "biuf":
                raise CurateTypeError(f"matrix must hold numbers; got dtype {arr.dtype}")
            m = sp.csr_matrix(arr)
        if m.shape[1] != n_classes:
            raise CurateValueError(
                f"matrix has {m.shape[1]} columns but classes has {n_classes} names; "
                "pass one class name per column"
            )
        data = m.data
        if data.dtype.kind == "f":
            if np.isnan(data).any():
                i = int(np.flatnonzero(np.isnan(data))[0])
                raise data_error("matrix", None, f"has NaN at entry {i}", "counts must be integers")
            if (data != np.round(data)).any():
                raise CurateValueError(
                    "matrix has non-integer counts; counts must be whole numbers"
                )
        if data.size and data.min() < 0:
            row = int(np.searchsorted(m.indptr, int(np.argmin(data)), side="right") - 1)
            raise data_error(
                f"matrix[{row}]", None, f"has a negative count {data.min().tolist()}",
                "counts must be >= 0",
            )
        m = sp.csr_matrix((data.astype(np.int64), m.indices, m.indptr), shape=m.shape)
        m.eliminate_zeros()
        m.sort_indices()
        return m

    @staticmethod
    def _check_ids(sample_ids: Any, n: int) -> np.ndarray:
        if sample_ids is None:
            return np.arange(n, dtype=np.int64)
        ids = np.asarray(sample_ids)
        if ids.ndim != 1 or len(ids) != n:
            raise CurateValueError(
                f"sample_ids has length {len(ids)} but the table has {n} samples; "
                "pass one id per sample"
            )
        ids = ids.copy()
        ids.flags.writeable = False
        return ids

    # ------------------------------------------------------------------ properties
    @property
    def matrix(self) -> sp.csr_matrix:
        """Sparse (n_samples, n_classes) int64 count matrix (read-only)."""
        return self._matrix

    @property
    def classes(self) -> tuple[str, ...]:
        """Class names in column order."""
        return self._classes

    @property
    def sample_ids(self) -> np.ndarray:
        """Row identifiers (read-only array)."""
        return self._sample_ids

    @property
    def background(self) -> str | None:
        """Name of the background class, or ``None``."""
        return self._background

    @property
    def level(self) -> str:
        """What an entry counts: ``"instance"``, ``"sample"``, ``"token"`` or ``"entity"``."""
        return self._level.value

    @property
    def n_samples(self) -> int:
        """Number of rows."""
        return int(self._matrix.shape[0])

    @property
    def n_classes(self) -> int:
        """Number of columns."""
        return int(self._matrix.shape[1])

    @property
    def counts(self) -> pd.Series:
        """Instances per class (column sums), indexed by class name."""
        values = np.asarray(self._matrix.sum(axis=0), dtype=np.int64).ravel()
        return pd.Series(values, index=pd.Index(self._classes, name="class"), name="count")

    @property
    def support(self) -> pd.Series:
        """Number of samples holding each class at least once."""
        values = np.bincount(self._matrix.indices, minlength=self.n_classes).astype(np.int64)
        return pd.Series(values, index=pd.Index(self._classes, name="class"), name="support")

    @property
    def background_index(self) -> int | None:
        """Column index of the background class, or ``None``."""
        return None if self._background is None else self._classes.index(self._background)

    def presence(self) -> sp.csr_matrix:
        """0/1 view of the matrix: 1 where a sample holds a class.

        Examples
        --------
        >>> LabelTable.from_labels([["a", "a", "b"]]).presence().toarray().tolist()
        [[1, 1]]
        """
        m = self._matrix
        return sp.csr_matrix(
            (np.ones_like(m.data, dtype=np.int64), m.indices.copy(), m.indptr.copy()), shape=m.shape
        )

    def __len__(self) -> int:
        return self.n_samples

    def __repr__(self) -> str:
        bg = f", background={self._background!r}" if self._background is not None else ""
        return (
            f"LabelTable(n_samples={self.n_samples}, n_classes={self.n_classes}, "
            f"n_labels={int(self._matrix.sum())}, level={self.level!r}{bg})"
        )

    def _with(self, matrix: sp.csr_matrix, sample_ids: np.ndarray) -> LabelTable:
        out = object.__new__(LabelTable)
        out._level, out._classes, out._background = self._level, self._classes, self._background
        out._matrix = _readonly(matrix)
        sample_ids.flags.writeable = False
        out._sample_ids = sample_ids
        return out

    # ------------------------------------------------------------------ row operations
    def select(self, indices: Any) -> LabelTable:
        """Return the table of rows ``indices`` (integer positions or a boolean mask).

        Parameters
        ----------
        indices : array-like of int, or of bool of shape (n_samples,)
            Row positions to keep, in the order given (repeats and negative positions are
            allowed), or a boolean mask over the rows.

        Returns
        -------
        LabelTable
            A new table holding the selected rows and their sample ids.

        Examples
        --------
        >>> t = LabelTable.from_labels([["a"], ["b"], ["a", "b"]])
        >>> t.select([2, 0]).counts.tolist()
        [2, 1]
        """
        idx = np.asarray(indices)
        if idx.dtype == bool:
            if idx.shape != (self.n_samples,):
                raise CurateValueError(
                    f"boolean indices must have length n_samples={self.n_samples}; "
                    f"got shape {idx.shape}"
                )
            idx = np.flatnonzero(idx)
        if idx.size and idx.dtype.kind not in "iu":
            raise CurateTypeError(f"indices must be integers or a boolean mask; got {idx.dtype}")
        idx = idx.astype(np.int64, copy=False).ravel()
        if idx.size and (idx.min() < -self.n_samples or idx.max() >= self.n_samples):
            bad = idx[(idx < -self.n_samples) | (idx >= self.n_samples)][0]
            raise data_error(
                "indices", bad, f"holds {bad.tolist()}, outside [0, {self.n_samples})",
                "pass row positions of this table",
            )
        return self._with(self._matrix[idx], self._sample_ids[idx])

    def repeat(self, multiplicity: Any) -> LabelTable:
        """Return the table a resampling plan produces: row ``i`` appears ``multiplicity[i]`` times.

        Parameters
        ----------
        multiplicity : array-like of int of shape (n_samples,)
            Non-negative number of copies of each row; 0 drops the row. Whole-valued floats
            are accepted.

        Returns
        -------
        LabelTable
            A new table with ``multiplicity.sum()`` rows.

        Examples
        --------
        >>> t = LabelTable.from_labels([["a"], ["b"]])
        >>> t.repeat([0, 3]).counts.tolist()
        [0, 3]
        """
        x = np.asarray(multiplicity)
        if x.shape != (self.n_samples,):
            raise CurateValueError(
                f"multiplicity must have shape ({self.n_samples},); got {x.shape}"
            )
        if x.dtype.kind not in "iu" and not (x.dtype.kind == "f" and np.all(x == np.round(x))):
            raise CurateTypeError(f"multiplicity must hold integers; got dtype {x.dtype}")
        x = x.astype(np.int64)
        if x.size and x.min() < 0:
            i = int(np.argmin(x))
            raise data_error(f"multiplicity[{i}]", x[i], f"is {x[i].tolist()}", "must be >= 0")
        return self.select(np.repeat(np.arange(self.n_samples), x))

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_labels(
        cls,
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
            ``labels[i]`` holds the labels of sample ``i`` (may be empty).
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
        >>> t = LabelTable.from_labels([["person", "person", "dog"], [], ["dog"]])
        >>> t.classes, t.counts.tolist()
        (('dog', 'person'), [2, 2])
        """
        rows = []
        for i, sample in enumerate(labels):
            if isinstance(sample, str | bytes) or not isinstance(sample, Iterable):
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
        return cls._from_flat(flat, lengths, classes=classes, sample_ids=sample_ids,
                              background=background, level=level, field="labels")

    @classmethod
    def _from_flat(
        cls,
        flat: Sequence[Hashable] | np.ndarray,
        lengths: np.ndarray,
        *,
        classes: Sequence[str] | None,
        sample_ids: Sequence[Any] | None,
        background: str | None,
        level: str,
        field: str,
    ) -> LabelTable:
        names = np.array([str(v) for v in flat], dtype=object)
        if classes is None:
            classes = _class_names(flat)
        else:
            classes = [str(c) for c in classes]
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

    def _check_background_occurs(self) -> None:
        bi = self.background_index
        if bi is not None and self.n_samples and self.counts.iloc[bi] == 0:
            raise data_error(
                "background", self._background,
                f"is {self._background!r}, a class that never occurs in the data",
                "pass the background label used in your data, or background=None",
            )

    @classmethod
    def from_array(
        cls,
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
            One label per sample. Integer labels are ordered numerically.
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
        >>> LabelTable.from_array([2, 0, 2, 10]).counts.to_dict()
        {'0': 1, '2': 2, '10': 1}
        """
        arr = np.asarray(y)
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
        return cls._from_flat(flat, np.ones(len(flat), dtype=np.int64), classes=classes,
                              sample_ids=sample_ids, background=background, level="sample",
                              field="y")

    @classmethod
    def from_tags(
        cls,
        tags: Iterable[Sequence[str]],
        *,
        tokens: Iterable[Sequence[Any]] | None = None,
        level: str = "token",
        scheme: str = "IOB2",
        background: str | None = "auto",
        classes: Sequence[str] | None = None,
        sample_ids: Sequence[Any] | None = None,
    ) -> LabelTable:
        """Build a table from BIO / IOB2 / IOBES tag sequences (one sequence per sample).

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
            type opens a span (IOB1-style starts are repaired), ``E-``/``S-`` close spans.
        scheme : {"IOB2", "BIO", "IOBES"}, default="IOB2"
            Allowed tag prefixes: ``B``/``I`` (IOB2 and BIO are the same) or ``B``/``I``/
            ``E``/``S`` (IOBES); ``O`` is always allowed. Any other tag is an error.
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
        >>> tags = [["B-PER", "I-PER", "O"], ["O", "I-LOC", "O", "B-PER"]]
        >>> LabelTable.from_tags(tags).counts.to_dict()
        {'B-PER': 2, 'I-LOC': 1, 'I-PER': 1, 'O': 3}
        >>> LabelTable.from_tags(tags, level="entity").counts.to_dict()
        {'LOC': 1, 'PER': 2}
        """
        lvl = Level.from_str(level, "level", "LabelTable.from_tags")
        if lvl not in (Level.TOKEN, Level.ENTITY):
            raise CurateValueError(
                "The 'level' parameter of LabelTable.from_tags must be one of "
                f"{{'entity', 'token'}}. Got {level!r} instead."
            )
        prefixes = _SCHEMES[_Scheme.from_str(scheme, "scheme", "LabelTable.from_tags")]
        seqs = _tag_sequences(tags, tokens)
        _check_tags(seqs, prefixes, scheme)
        if lvl is Level.ENTITY:
            seqs = [[span[0] for span in entities_default(seq)] for seq in seqs]
            if background == "auto":
                background = None
        elif background == "auto":
            background = "O" if any("O" in seq for seq in seqs) else None
        lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
        flat = [t for s in seqs for t in s]
        return cls._from_flat(flat, lengths, classes=classes, sample_ids=sample_ids,
                              background=background, level=lvl.value, field="tags")

    @classmethod
    def from_token_ids(
        cls,
        label_ids: Any,
        *,
        id2label: Any,
        ignore_index: int = -100,
        level: str = "token",
        background: str | None = None,
        sample_ids: Sequence[Any] | None = None,
    ) -> LabelTable:
        """Build a table from Hugging Face-style tokenized label ids.

        Parameters
        ----------
        label_ids : list of sequences of int or array-like of shape (n_samples, seq_len)
            Label id per (sub-)token; padded 2-D arrays and torch tensors work too.
            Positions equal to ``ignore_index`` (padding, continuation sub-words,
            special tokens) are never counted.
        id2label : dict of {int: str} or sequence of str
            Name of each label id (a model config's ``id2label``; string keys such as
            ``"3"`` from a JSON config are accepted). Its names, in id order, are the
            classes, so unseen labels appear with count 0.
        ignore_index : int, default=-100
            Id that marks positions to skip.
        level : {"token", "entity"}, default="token"
            ``"token"`` counts one label per kept position; ``"entity"`` maps ids to tag
            names, drops ignored positions and counts spans per type as
            :meth:`from_tags` does.
        background : str, default=None
            Background class (e.g. ``"O"`` at token level); must occur in the data.
        sample_ids : sequence, default=None
            One id per sample.

        Returns
        -------
        LabelTable

        Examples
        --------
        >>> id2label = {0: "O", 1: "B-PER", 2: "I-PER"}
        >>> ids = [[-100, 1, 2, 0, -100], [-100, 0, 1, -100, -100]]
        >>> LabelTable.from_token_ids(ids, id2label=id2label).counts.to_dict()
        {'O': 2, 'B-PER': 2, 'I-PER': 1}
        >>> LabelTable.from_token_ids(ids, id2label=id2label, level="entity").counts.to_dict()
        {'PER': 2}
        """
        lvl = Level.from_str(level, "level", "LabelTable.from_token_ids")
        check_param("ignore_index", ignore_index, [Interval(int, None, None)],
                    "LabelTable.from_token_ids")
        ids, names = _normalize_id2label(id2label)
        flat, lengths = _flatten_ids(label_ids)
        keep = flat != ignore_index
        if not np.isin(flat[keep], ids).all():
            j = int(np.flatnonzero(keep & ~np.isin(flat, ids))[0])
            i = int(np.searchsorted(np.cumsum(lengths), j, side="right"))
            shown = f"[{ids.min()}..{ids.max()}]" if len(ids) > 20 else ids.tolist()
            raise data_error(
                f"label_ids[{i}]", flat[j],
                f"has id {flat[j].tolist()}, not in id2label (ids {shown})",
                f"fix the id, add it to id2label, or mark it with ignore_index={ignore_index}",
            )
        order = np.argsort(ids)
        ids, names = ids[order], [names[k] for k in order]
        if lvl is Level.ENTITY:
            rows = np.repeat(np.arange(len(lengths)), lengths)
            tag_of = dict(zip(ids.tolist(), names, strict=True))
            seqs: list[list[str]] = [[] for _ in range(len(lengths))]
            for r, v in zip(rows[keep].tolist(), flat[keep].tolist(), strict=True):
                seqs[r].append(tag_of[v])
            return cls.from_tags(seqs, level="entity", scheme="IOBES", background=background,
                                 sample_ids=sample_ids)
        if lvl not in (Level.TOKEN, Level.INSTANCE):
            raise CurateValueError(
                "The 'level' parameter of LabelTable.from_token_ids must be one of "
                f"{{'entity', 'token'}}. Got {level!r} instead."
            )
        rows = np.repeat(np.arange(len(lengths)), lengths)[keep]
        codes = np.searchsorted(ids, flat[keep])
        m = sp.csr_matrix((np.ones(len(codes), dtype=np.int64), (rows, codes)),
                          shape=(len(lengths), len(names)))
        _check_background_in(background, names)
        table = cls(m, names, sample_ids=sample_ids, background=background, level=lvl.value)
        table._check_background_occurs()
        return table

    @classmethod
    def from_frame(
        cls,
        frame: Any,
        column: str,
        *,
        id_column: str | None = None,
        classes: Sequence[str] | None = None,
        background: str | None = None,
        level: str | None = None,
    ) -> LabelTable:
        """Build a table from one column of a pandas DataFrame or a pyarrow Table.

        A column of scalars gives single-label data (``level="sample"``); a column of lists
        gives multi-label / instance data (``level="instance"``, repeated names count as
        more instances). A null list is an empty sample; a null label is an error.

        Parameters
        ----------
        frame : pandas.DataFrame or pyarrow.Table
            The data; it is not modified.
        column : str
            Name of the label column.
        id_column : str, default=None
            Column holding sample ids; ``None`` numbers the rows.
        classes : sequence of str, default=None
            Fixes the column order; ``None`` uses the sorted labels seen.
        background : str, default=None
            Background class; must occur in the data.
        level : {"instance", "sample", "token", "entity"}, default=None
            ``None`` picks ``"sample"`` for scalars and ``"instance"`` for lists. ``"sample"``
            on a list column counts each class once per sample (presence). ``"token"`` and
            ``"entity"`` read a list column as tag sequences (see :meth:`from_tags`).

        Returns
        -------
        LabelTable

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"id": ["a", "b"], "labels": [["cat", "cat"], ["dog"]]})
        >>> t = LabelTable.from_frame(df, "labels", id_column="id")
        >>> t.counts.to_dict(), t.sample_ids.tolist()
        ({'cat': 2, 'dog': 1}, ['a', 'b'])
        """
        owner = "LabelTable.from_frame"
        arr = _frame_column(frame, column, "column")
        ids = None if id_column is None else _frame_column(frame, id_column, "id_column")
        _check_not_empty(len(arr), f"frame[{column!r}]")
        is_list = _is_list_type(arr.type)
        lvl = None if level is None else Level.from_str(level, "level", owner)
        sample_ids = None if ids is None else ids.to_numpy(zero_copy_only=False)
        if lvl in (Level.TOKEN, Level.ENTITY):
            if not is_list:
                raise CurateValueError(
                    f"frame[{column!r}] holds scalars, but level={lvl.value!r} needs one tag "
                    "sequence (list) per row; use level=None for single-label data"
                )
            seqs = [[] if s is None else s for s in arr.to_pylist()]
            return cls.from_tags(seqs, level=lvl.value, scheme="IOBES",
                                 background="auto" if background is None else background,
                                 classes=classes, sample_ids=sample_ids)
        if lvl is None:
            lvl = Level.INSTANCE if is_list else Level.SAMPLE
        table = _table_from_arrow(arr, f"frame[{column!r}]", classes=classes,
                                  sample_ids=sample_ids, background=background, level=lvl.value)
        if lvl is Level.SAMPLE and is_list:  # count each class once per sample (presence)
            table = cls(table.presence(), table.classes, sample_ids=table.sample_ids,
                        background=table.background, level="sample")
        return table


# ---------------------------------------------------------------------- helpers of constructors
class _Scheme(StrEnum):
    IOB2 = "iob2"
    BIO = "bio"
    IOBES = "iobes"


_SCHEMES = {_Scheme.IOB2: "BI", _Scheme.BIO: "BI", _Scheme.IOBES: "BIES"}


def _tag_sequences(tags: Any, tokens: Any) -> list[list[str]]:
    seqs = []
    for i, seq in enumerate(tags):
        if isinstance(seq, str | bytes) or not isinstance(seq, Iterable):
            raise data_error(f"tags[{i}]", seq, f"is {seq!r}, not a sequence of tags",
                             "pass one list of tags per sample")
        seqs.append(list(seq))
    _check_not_empty(len(seqs), "tags")
    if tokens is not None:
        toks = [list(t) for t in tokens]
        if len(toks) != len(seqs):
            raise CurateValueError(
                f"tokens has {len(toks)} sequences but tags has {len(seqs)}; "
                "pass one token sequence per tag sequence"
            )
        for i, (tk, tg) in enumerate(zip(toks, seqs, strict=True)):
            if len(tk) != len(tg):
                raise data_error(
                    f"tags[{i}]", None, f"has {len(tg)} tags but tokens[{i}] has {len(tk)} tokens",
                    "give exactly one tag per token",
                )
    return seqs


def _check_tags(seqs: list[list[str]], prefixes: str, scheme: str) -> None:
    seen: set[Any] = set()
    for seq in seqs:
        seen.update(seq)
    bad = {t for t in seen if not _valid_tag(t, prefixes)}
    if not bad:
        return
    for i, seq in enumerate(seqs):
        for j, tag in enumerate(seq):
            if tag in bad:
                allowed = ", ".join(["O", *(f"{p}-<type>" for p in prefixes)])
                raise data_error(
                    f"tags[{i}][{j}]", tag, f"is {tag!r}, not a valid {scheme} tag ({allowed})",
                    "fix the tag or pass the scheme your data uses (scheme='IOBES')",
                )


def _valid_tag(tag: Any, prefixes: str) -> bool:
    if not isinstance(tag, str):
        return False
    if tag == "O":
        return True
    return len(tag) > 2 and tag[0] in prefixes and tag[1] == "-"


def _normalize_id2label(id2label: Any) -> tuple[np.ndarray, list[str]]:
    if isinstance(id2label, dict):
        items = list(id2label.items())
    elif isinstance(id2label, Sequence) and not isinstance(id2label, str):
        items = list(enumerate(id2label))
    else:
        raise CurateTypeError(
            "id2label must be a dict {id: name} or a list of names; "
            f"got {type(id2label).__name__}"
        )
    if not items:
        raise CurateValueError("id2label is empty; pass the name of every label id")
    ids, names = [], []
    for key, name in items:
        try:
            ids.append(int(key))
        except (TypeError, ValueError) as exc:
            raise data_error("id2label", key, f"has key {key!r}, not an integer id",
                             "use integer ids as keys") from exc
        names.append(str(name))
    if len(set(names)) != len(names):
        dup = pd.Series(names)[pd.Series(names).duplicated()].iloc[0]
        raise data_error("id2label", dup, f"maps two ids to {dup!r}", "label names must be unique")
    return np.asarray(ids, dtype=np.int64), names


def _flatten_ids(label_ids: Any) -> tuple[np.ndarray, np.ndarray]:
    try:
        arr = np.asarray(label_ids)
    except ValueError:  # ragged sequences
        arr = None
    if arr is not None and arr.size == 0:
        _check_not_empty(0, "label_ids")
    if arr is not None and arr.dtype != object:
        if arr.ndim != 2:
            raise CurateValueError(
                f"label_ids must be 2-D (n_samples, seq_len) or a list of sequences; "
                f"got shape {arr.shape}"
            )
        _check_not_empty(arr.shape[0], "label_ids")
        flat, lengths = arr.ravel(), np.full(arr.shape[0], arr.shape[1], dtype=np.int64)
    else:
        rows = [np.asarray(r).ravel() for r in label_ids]
        _check_not_empty(len(rows), "label_ids")
        lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
        flat = np.concatenate(rows) if rows else np.array([], dtype=np.int64)
    return _as_int_ids(flat, lengths), lengths


def _as_int_ids(flat: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    if flat.dtype.kind in "iu":
        return flat.astype(np.int64, copy=False)
    bad = np.ones(len(flat), dtype=bool)
    if flat.dtype.kind == "f":
        bad = np.isnan(flat) | (flat != np.round(flat))
    elif flat.dtype.kind == "b" or len(flat) == 0:
        bad = np.zeros(len(flat), dtype=bool)
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        i = int(np.searchsorted(np.cumsum(lengths), j, side="right"))
        raise data_error(f"label_ids[{i}]", flat[j], f"holds {flat[j].tolist()!r}",
                         "label ids must be integers (no NaN)")
    return flat.astype(np.int64)


def _frame_column(frame: Any, column: Any, field: str) -> Any:
    import pyarrow as pa

    if isinstance(frame, pd.DataFrame):
        names = [str(c) for c in frame.columns]
    elif isinstance(frame, pa.Table | pa.RecordBatch):
        names = list(frame.column_names)
    else:
        raise CurateTypeError(
            f"frame must be a pandas DataFrame or a pyarrow Table; got {type(frame).__name__}"
        )
    if column not in names:
        raise data_error(field, column, f"is {column!r}, not a column of the data ({names})",
                         f"pass one of {names}")
    if isinstance(frame, pd.DataFrame):
        series = frame[column]
        if isinstance(series.dtype, pd.CategoricalDtype):
            series = series.astype(series.cat.categories.dtype)
        try:
            arr = pa.array(series, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise data_error(f"frame[{column!r}]", None, "mixes lists and scalars or holds "
                             "values of several types", "use one list or one label per row"
                             ) from exc
    else:
        arr = frame.column(column)
        arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if _is_list_type(arr.type) and pa.types.is_dictionary(arr.type.value_type):
        arr = arr.cast(pa.list_(arr.type.value_type.value_type))
    return arr


def _is_list_type(t: Any) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_list(t) or pa.types.is_large_list(t)
                or pa.types.is_fixed_size_list(t) or pa.types.is_list_view(t))


def _table_from_arrow(
    arr: Any,
    field: str,
    *,
    classes: Sequence[str] | None,
    sample_ids: Any,
    background: str | None,
    level: str,
) -> LabelTable:
    """Build a table from a pyarrow array of scalars or of lists (the fast path for big data)."""
    import pyarrow.compute as pc

    if _is_list_type(arr.type):
        lengths = pc.list_value_length(arr).fill_null(0).to_numpy().astype(np.int64)
        values = pc.list_flatten(arr)
    else:
        if arr.null_count:
            i = int(np.flatnonzero(arr.is_null().to_numpy(zero_copy_only=False))[0])
            raise data_error(f"{field}[{i}]", None, "is missing (null/NaN)",
                             "drop the row or give it a class")
        lengths, values = np.ones(len(arr), dtype=np.int64), arr
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    if values.null_count:
        j = int(np.flatnonzero(values.is_null().to_numpy(zero_copy_only=False))[0])
        i = int(np.searchsorted(indptr, j, side="right") - 1)
        raise data_error(f"{field}[{i}]", None, "holds a missing label (null/NaN)",
                         "drop it or give it a class name")
    values = _integral_values(values, field, indptr)
    enc = pc.dictionary_encode(values)
    uniques = enc.dictionary.to_pylist()
    names = _class_names(uniques) if classes is None else [str(c) for c in classes]
    lookup = pd.Index(names)
    if not lookup.is_unique:
        dups = sorted(lookup[lookup.duplicated()])
        raise CurateValueError(f"classes has duplicate names: {dups}")
    column_of = lookup.get_indexer([str(u) for u in uniques])
    codes = column_of[enc.indices.to_numpy()] if len(values) else np.array([], dtype=np.int64)
    if (codes < 0).any():
        j = int(np.flatnonzero(codes < 0)[0])
        i = int(np.searchsorted(indptr, j, side="right") - 1)
        bad = str(uniques[enc.indices[j].as_py()])
        shown = names if len(names) <= 20 else [*names[:20], "..."]
        raise data_error(f"{field}[{i}]", bad, f"has class {bad!r} not in classes={shown}",
                         "add it to classes or fix the label")
    m = sp.csr_matrix((np.ones(len(codes), dtype=np.int64), codes, indptr),
                      shape=(len(lengths), len(names)))
    m.sum_duplicates()
    _check_background_in(background, names)
    table = LabelTable(m, names, sample_ids=sample_ids, background=background, level=level)
    table._check_background_occurs()
    return table


def _integral_values(values: Any, field: str, indptr: np.ndarray) -> Any:
    """Floats holding whole numbers become int64 (a pandas int column with NaN arrives as float)."""
    import pyarrow as pa

    if not pa.types.is_floating(values.type):
        return values
    v = values.to_numpy()
    bad = np.flatnonzero(~np.isfinite(v) | (v != np.round(v)))
    if bad.size:
        i = int(np.searchsorted(indptr, bad[0], side="right") - 1)
        raise data_error(f"{field}[{i}]", v[bad[0]], f"holds {v[bad[0]].tolist()}",
                         "labels must be integers or strings, without NaN")
    return pa.array(v.astype(np.int64))
