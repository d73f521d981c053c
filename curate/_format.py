"""One place for turning results into JSON values, shown numbers and Markdown text.

- :func:`jsonable` converts numpy/pandas values, enums and containers into plain JSON types
  (non-finite floats become ``null``, or ``"inf"``/``"-inf"`` with ``nonfinite="str"``);
- :func:`fmt_number` is how every renderer (HTML, Markdown, terminal) shows one number;
- :func:`markdown_escape` and :func:`markdown_table` render text that came from the data
  (class names, titles) as Markdown that cannot carry raw HTML or markup.

Units of :func:`fmt_number`:

====================  ==========================================  ===============
unit                  meaning                                     example
====================  ==========================================  ===============
``""``                a count or a plain number                   ``12,345``, ``3.142``
``"percent"``         a share in [0, 1]                           ``91.23 %``
``"score"``           a metric in [0, 1] (precision, recall, ...)  ``0.6000``
``"delta"``           a signed difference of two scores           ``+0.0500``
``"infinite"``        an infinite value stored as ``null``        ``∞``
====================  ==========================================  ===============
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = ["MISSING", "fmt_number", "jsonable", "markdown_escape", "markdown_table"]

MISSING = "–"  # how an undefined number (None or NaN) is shown
_MD_SPECIAL = set("\\`*_[]<>|&~")
_ORDERED = re.compile(r"^(\d{1,9})[.)]")


def jsonable(value: Any, *, nonfinite: Literal["null", "str"] = "null") -> Any:
    """Convert numpy/pandas values, enums and containers to plain JSON types.

    Parameters
    ----------
    value : object
        Scalars, numpy arrays and scalars, pandas Series, enums, paths, and dicts, lists,
        tuples and sets of those (recursively). Anything else becomes ``str(value)``.
    nonfinite : {"null", "str"}, default="null"
        NaN is always ``None``; infinities are ``None`` with ``"null"``, or the strings
        ``"inf"`` and ``"-inf"`` with ``"str"``.

    Returns
    -------
    object
        ``None``, bool, int, float, str, list or dict (with str keys); ``json.dumps(...,
        allow_nan=False)`` accepts it.

    Examples
    --------
    >>> import numpy as np
    >>> jsonable({"a": np.int64(2), "b": [np.float64("inf"), 0.5], 3: (np.True_,)})
    {'a': 2, 'b': [None, 0.5], '3': [True]}
    >>> jsonable([float("-inf"), float("nan")], nonfinite="str")
    ['-inf', None]
    """
    if isinstance(value, Mapping):
        if _plain(value.keys(), keys=True) and _plain(value.values()):
            return dict(value)  # a million class counts: no call per entry
        return {str(k): jsonable(v, nonfinite=nonfinite) for k, v in value.items()}
    if isinstance(value, pd.Series | np.ndarray):
        arr = np.asarray(value)
        if arr.dtype.kind in "biu" or (arr.dtype.kind == "f" and np.isfinite(arr).all()):
            return arr.tolist()  # plain Python ints / bools / finite floats already
        return jsonable(value.tolist(), nonfinite=nonfinite)
    if isinstance(value, list | tuple) and _plain(value):
        return list(value)
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [jsonable(v, nonfinite=nonfinite) for v in items]
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if math.isfinite(value):
            return float(value)
        if nonfinite == "str" and math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return None
    if isinstance(value, str):
        return str(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return str(value)


_PLAIN = frozenset({str, int, bool})


def _plain(items: Any, *, keys: bool = False) -> bool:
    """Whether every item is already JSON as it is: ``str`` (keys), or ``str``, ``int``,
    ``bool`` or a finite ``float`` (values; exact types, so numpy scalars and subclasses such
    as enums take the general path)."""
    if keys:
        return all(type(k) is str for k in items)
    return all(type(v) in _PLAIN or (type(v) is float and math.isfinite(v)) for v in items)


def fmt_number(value: Any, unit: str = "") -> str:
    """Format one number the way every renderer shows it.

    Parameters
    ----------
    value : int, float, bool, str or None
        The number; a str is returned unchanged, ``None`` and NaN are ``–``, a bool is
        ``yes``/``no``.
    unit : {"", "percent", "score", "delta", "infinite"}, default=""
        ``""``: ints (and integral floats) with thousands separators, other floats with four
        significant digits; ``"percent"``: a share in [0, 1] as a percentage with two
        decimals; ``"score"``: four decimals; ``"delta"``: four decimals with a sign;
        ``"infinite"``: ``∞`` (an infinite value stored as ``null``).

    Returns
    -------
    str

    Examples
    --------
    >>> fmt_number(12345), fmt_number(0.91234, "percent"), fmt_number(3.14159)
    ('12,345', '91.23 %', '3.142')
    >>> fmt_number(0.6, "score"), fmt_number(0.05, "delta"), fmt_number(None)
    ('0.6000', '+0.0500', '–')
    """
    if unit == "infinite":
        return "∞"
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if unit == "percent":
        return f"{100 * value:.2f} %"
    if unit == "score":
        return f"{value:.4f}"
    if unit == "delta":
        return f"{value:+.4f}"
    if isinstance(value, int):
        return f"{value:,}"
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:.4g}"


def markdown_escape(text: Any, *, cell: bool = False) -> str:
    """Escape text from the data so Markdown shows it literally (no HTML, links or emphasis).

    Backslash-escapes ``\\ ` * _ [ ] < > | & ~`` (CommonMark shows each as itself; an
    underscore between two letters or digits is left alone, as it never starts emphasis),
    escapes a leading ``-``, ``+``, ``#``, ``=`` or ``1.`` that would start a block (not in
    a table cell, where they are inert), turns line breaks into spaces and strips the ends.

    Parameters
    ----------
    text : object
        Converted with ``str`` first.
    cell : bool, default=False
        The text goes inside a table cell: block markers are left alone (``-3``, ``0.5``).

    Returns
    -------
    str

    Examples
    --------
    >>> print(markdown_escape("<img src=x onerror=alert(1)> a|b *c* _d_ e_f"))
    \\<img src=x onerror=alert(1)\\> a\\|b \\*c\\* \\_d\\_ e_f
    >>> print(markdown_escape("1. first"), markdown_escape("-0.5", cell=True))
    1\\. first -0.5
    """
    flat = re.sub(r"[\r\n]+", " ", str(text)).strip()
    out = []
    for i, ch in enumerate(flat):
        if ch == "_" and 0 < i < len(flat) - 1 and flat[i - 1].isalnum() and flat[i + 1].isalnum():
            out.append(ch)  # intraword: CommonMark never reads it as emphasis (class_01)
        else:
            out.append("\\" + ch if ch in _MD_SPECIAL else ch)
    escaped = "".join(out)
    if cell:
        return escaped
    if escaped[:1] in ("-", "+", "#", "="):  # would start a list, a heading or an underline
        return "\\" + escaped
    ordered = _ORDERED.match(escaped)  # "1." or "1)" would start an ordered list
    if ordered:
        return escaped[: ordered.end(1)] + "\\" + escaped[ordered.end(1):]
    return escaped


def markdown_table(
    columns: Sequence[Any],
    rows: Sequence[Sequence[Any]],
    *,
    unit: str = "",
    note: str = "",
) -> str:
    """A GitHub Markdown table: first column left-aligned, the others right-aligned.

    Strings are escaped with :func:`markdown_escape`; numbers are shown with
    :func:`fmt_number` in ``unit``.

    Parameters
    ----------
    columns : sequence
        Header cells.
    rows : sequence of sequences
        Body cells.
    unit : str, default=""
        Unit of the numeric cells (see :func:`fmt_number`).
    note : str, default=""
        A line shown in italics under the table.

    Returns
    -------
    str
        The table (no trailing newline).

    Examples
    --------
    >>> print(markdown_table(["class", "f1", "support"], [["<a>", 0.5, 1200]], unit="score"))
    | class | f1 | support |
    |:---|---:|---:|
    | \\<a\\> | 0.5000 | 1,200 |
    """

    def cell(v: Any) -> str:
        if isinstance(v, int | np.integer) and not isinstance(v, bool | np.bool_):
            v = fmt_number(v)
        elif not isinstance(v, str):
            v = fmt_number(v, unit)
        return markdown_escape(v, cell=True)

    align = [":---"] + ["---:"] * (len(columns) - 1)
    lines = ["| " + " | ".join(markdown_escape(c, cell=True) for c in columns) + " |",
             "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    if note:
        lines += ["", f"*{markdown_escape(note)}*"]
    return "\n".join(lines)
