"""The ``LabelTable`` class: a dataset's labels as one sparse samples × classes count matrix."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from curate._validation import Options, check_param, data_error
from curate.exceptions import CurateTypeError, CurateValueError
from curate.labels import _constructors
from curate.labels._base import Level, _readonly

__all__ = ["LabelTable"]


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
    def _check_ids(sample_ids: Any, n: int) -> np.ndarray | None:
        """A read-only copy of the ids; ``None`` (row positions) stays ``None``.

        Positions are made on access (:attr:`sample_ids`): at 10^8 rows an int64 array per
        table is 800 MB that most tables never read.
        """
        if sample_ids is None:
            return None
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
        """Row identifiers (read-only array); row positions ``0 .. n_samples - 1`` by default."""
        if self._sample_ids is None:
            ids = np.arange(self.n_samples, dtype=np.int64)
            ids.flags.writeable = False
            return ids
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

    @classmethod
    def _from_canonical(
        cls,
        matrix: sp.csr_matrix,
        classes: Sequence[str],
        *,
        sample_ids: Any = None,
        background: str | None = None,
        level: str = "instance",
    ) -> LabelTable:
        """A table from a CSR matrix already in canonical form (no copy, no rescan).

        The caller guarantees int64 data > 0, sorted indices without duplicates and one
        column per class (the vectorised readers build it so); everything else is checked
        as in ``__init__``. Skips the matrix copy and the O(nnz) passes of
        ``_check_matrix``, which dominate big parquet reads.
        """
        if not (sp.isspmatrix_csr(matrix) and matrix.data.dtype == np.int64
                and matrix.has_canonical_format and matrix.shape[1] == len(classes)):
            raise CurateValueError("internal: _from_canonical needs a canonical int64 CSR "
                                   "matrix with one column per class")
        out = object.__new__(cls)
        out._level = Level.from_str(level, "level", "LabelTable")
        out._classes = tuple(str(c) for c in classes)
        if len(set(out._classes)) != len(out._classes):
            dup = pd.Series(out._classes)[pd.Series(out._classes).duplicated()].iloc[0]
            raise data_error("classes", dup, f"has duplicate name {dup!r}",
                             "class names must be unique")
        out._matrix = _readonly(matrix)
        out._sample_ids = cls._check_ids(sample_ids, matrix.shape[0])
        if background is not None:
            check_param("background", str(background), [Options(set(out._classes))],
                        "LabelTable")
        out._background = None if background is None else str(background)
        return out

    def _with(self, matrix: sp.csr_matrix, sample_ids: np.ndarray) -> LabelTable:
        out = object.__new__(LabelTable)
        out._level, out._classes, out._background = self._level, self._classes, self._background
        out._matrix = _readonly(matrix)
        sample_ids = np.asarray(sample_ids)
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
        ids = (np.where(idx < 0, idx + self.n_samples, idx) if self._sample_ids is None
               else self._sample_ids[idx])
        return self._with(self._matrix[idx], ids)

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
    from_labels = classmethod(_constructors.from_labels)
    from_array = classmethod(_constructors.from_array)
    from_tags = classmethod(_constructors.from_tags)
    from_token_ids = classmethod(_constructors.from_token_ids)
    from_frame = classmethod(_constructors.from_frame)

    @classmethod
    def from_hf(cls, dataset: Any, column: str = "labels", *, split: str | None = None,
                level: str = "auto", id2label: Any = None,
                ignore_index: int = -100) -> LabelTable:
        """A label column of a Hugging Face dataset as a table (``table_from_hf``).

        Same parameters and result as
        :func:`curate.integrations.transformers.table_from_hf`, imported on first call.

        Parameters
        ----------
        dataset : datasets.Dataset, datasets.DatasetDict or datasets.IterableDataset
            The dataset; row ``i`` becomes sample ``i``.
        column : str, default="labels"
            The label column (``ClassLabel``, ``Sequence(ClassLabel)``, ids, strings).
        split : str, default=None
            Split of a ``DatasetDict``; ``None`` takes ``"train"`` or the only split.
        level : {"auto", "sample", "instance", "token", "entity"}, default="auto"
            What an entry counts.
        id2label : dict of {int: str} or sequence of str, default=None
            Names of integer ids (``model.config.id2label``).
        ignore_index : int, default=-100
            Integer id never counted.

        Returns
        -------
        LabelTable

        Examples
        --------
        >>> import datasets
        >>> from curate import LabelTable
        >>> ds = datasets.Dataset.from_dict(
        ...     {"label": [0, 1, 1]},
        ...     features=datasets.Features({"label": datasets.ClassLabel(names=["neg", "pos"])}))
        >>> LabelTable.from_hf(ds, "label").counts.to_dict()
        {'neg': 1, 'pos': 2}
        """
        from curate.integrations.transformers import table_from_hf

        return table_from_hf(dataset, column, split=split, level=level, id2label=id2label,
                             ignore_index=ignore_index)

    def _check_background_occurs(self) -> None:
        bi = self.background_index
        if bi is not None and self.n_samples and self.counts.iloc[bi] == 0:
            raise data_error(
                "background", self._background,
                f"is {self._background!r}, a class that never occurs in the data",
                "pass the background label used in your data, or background=None",
            )
