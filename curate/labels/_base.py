"""Small pieces every part of the labels package shares: the level enum and name ordering."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from curate._validation import StrEnum, data_error
from curate.exceptions import CurateValueError

__all__ = ["Level"]


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


def is_ignored(value: Any, ignore_index: int | None) -> bool:
    """Whether a label value is ``ignore_index``: an integer only, never a bool or a string.

    Examples
    --------
    >>> is_ignored(-100, -100), is_ignored("-100", -100), is_ignored(True, 1)
    (True, False, False)
    """
    return (ignore_index is not None and isinstance(value, int | np.integer)
            and not isinstance(value, bool) and int(value) == ignore_index)


def _check_no_mixed_types(flat: Sequence[Any], lengths: np.ndarray, field: str) -> None:
    """Refuse data where ``1`` and ``"1"`` would become the same class name."""
    seen: dict[str, Any] = {}
    for j, value in enumerate(flat):
        key = str(value)
        first = seen.setdefault(key, value)
        if first is value or type(first) is type(value) or first == value:
            continue
        i = int(np.searchsorted(np.cumsum(lengths), j, side="right"))
        raise data_error(
            f"{field}[{i}]", value,
            f"holds {value!r} ({type(value).__name__}) while another sample holds {first!r} "
            f"({type(first).__name__}): both would be class {key!r}",
            "convert the labels to one type first (all str or all int)",
        )


def _readonly(matrix: sp.csr_matrix) -> sp.csr_matrix:
    for arr in (matrix.data, matrix.indices, matrix.indptr):
        arr.flags.writeable = False
    return matrix
