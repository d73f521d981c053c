"""curate._format: JSON conversion, number formatting and Markdown escaping.

Oracles: ``json.dumps(..., allow_nan=False)`` and the values themselves for :func:`jsonable`;
Python's format mini-language for :func:`fmt_number`; a CommonMark renderer (markdown-it-py,
installed with rich) for :func:`markdown_escape`: escaped text must render as exactly the
original characters, with no tag, link or emphasis.
"""

from __future__ import annotations

import enum
import html
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from curate._format import fmt_number, jsonable, markdown_escape, markdown_table

markdown_it = pytest.importorskip("markdown_it")
MD = markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"])


# ---------------------------------------------------------------------------- jsonable
class _Colour(enum.Enum):
    RED = "red"


def test_jsonable_converts_every_kind_of_value():
    value = {
        1: np.int64(3), "f": np.float32(0.5), "b": np.bool_(True), "arr": np.arange(3),
        "s": pd.Series([1.5, np.nan]), "t": (np.inf, -np.inf), "e": _Colour.RED,
        "p": Path("a") / "b", "set": {"y", "x"}, "none": None, "nested": [{"k": np.uint8(7)}],
    }
    out = jsonable(value)
    assert out == {
        "1": 3, "f": 0.5, "b": True, "arr": [0, 1, 2], "s": [1.5, None], "t": [None, None],
        "e": "red", "p": str(Path("a") / "b"), "set": ["x", "y"], "none": None,
        "nested": [{"k": 7}],
    }
    assert type(out["1"]) is int and type(out["b"]) is bool and type(out["f"]) is float
    json.dumps(out, allow_nan=False)


def test_jsonable_nonfinite_as_strings():
    assert jsonable([np.inf, -np.inf, np.nan, 1.0], nonfinite="str") == ["inf", "-inf", None, 1.0]


@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner,
                                                                max_size=4),
    max_leaves=20,
))
def test_jsonable_is_strict_json_and_keeps_finite_values(value):
    out = jsonable(value)
    assert json.loads(json.dumps(out, allow_nan=False)) == out

    def same(a, b):
        if isinstance(a, float) and not math.isfinite(a):
            return b is None
        if isinstance(a, list):
            return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
        if isinstance(a, dict):
            return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
        return a == b and type(a) is type(b)

    assert same(value, out)


# ---------------------------------------------------------------------------- fmt_number
@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (None, "", "–"), (float("nan"), "score", "–"), (np.float64("nan"), "", "–"),
        (True, "", "yes"), (False, "", "no"), ("text", "score", "text"),
        (None, "infinite", "∞"), (float("inf"), "", "∞"), (-float("inf"), "", "-∞"),
    ],
)
def test_fmt_number_special_values(value, unit, expected):
    assert fmt_number(value, unit) == expected


@given(st.integers(-10**12, 10**12))
def test_fmt_number_ints_use_thousands_separators(n):
    assert fmt_number(n) == f"{n:,}"
    assert fmt_number(np.int64(n)) == f"{n:,}"
    assert fmt_number(float(n)) == f"{n:,}"


@given(st.floats(-1e6, 1e6, allow_nan=False).filter(lambda x: not float(x).is_integer()))
def test_fmt_number_floats(x):
    assert fmt_number(x) == f"{x:.4g}"
    assert fmt_number(x, "score") == f"{x:.4f}"
    assert fmt_number(x, "delta") == f"{x:+.4f}"
    assert fmt_number(x, "percent") == f"{100 * x:.2f} %"


def test_fmt_number_evaluation_scores_show_four_decimals():
    assert fmt_number(0.6, "score") == "0.6000"  # the same as Evaluation.to_markdown
    assert fmt_number(1, "score") == "1.0000"


# ---------------------------------------------------------------------------- markdown
def _rendered_text(markdown: str) -> str:
    """Render as CommonMark and return the paragraph's inner HTML."""
    out = MD.render(markdown).strip()
    assert out.startswith("<p>") and out.endswith("</p>"), out
    return out[3:-4]


HOSTILE = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[a](javascript:x)",
    "**bold** _it_ *it*", "`code`", "a|b", "~~gone~~", "&lt;b&gt;", "&amp;", "back\\slash\\",
    "# heading", "- item", "+ item", "1. first", "12) twelfth", "=", "---", "___", "> quote",
    "class_01", "a_b_c", "snake_case_", "_lead", "![img](x.png)", "<http://x.org>", "R&D",
    "line\nbreak", "multi\r\nline\n\nend", "trailing  ", "ünïcödé_ß", "x\\*y",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_markdown_escape_renders_as_the_literal_text(text):
    expected = html.escape(" ".join(text.replace("\r\n", "\n").split("\n")).strip(),
                           quote=False)
    expected = " ".join(part for part in expected.split(" ") if part) \
        if "\n" in text else expected
    assert _rendered_text(markdown_escape(text)) == expected.replace('"', "&quot;")


@given(st.text(alphabet=st.characters(codec="ascii", exclude_categories=("Cc",)), min_size=1,
               max_size=30).filter(lambda s: s.strip()))
def test_markdown_escape_never_yields_markup(text):
    expected = html.escape(text.strip(), quote=False).replace('"', "&quot;")
    assert _rendered_text(markdown_escape(text)) == expected


def test_markdown_table_keeps_one_cell_per_column():
    rows = [[name, 0.5, 12_345] for name in HOSTILE]
    table = markdown_table(["class", "f1", "support"], rows, unit="score", note="*n*")
    rendered = MD.render(table)
    assert rendered.count("<tr>") == len(rows) + 1
    assert rendered.count("<td") == 3 * len(rows)
    assert "<script" not in rendered and "<img" not in rendered and "<a " not in rendered
    assert '<td style="text-align:right">0.5000</td>' in rendered
    assert '<td style="text-align:right">12,345</td>' in rendered
    for name in HOSTILE:
        shown = html.escape(" ".join(name.split()).strip(), quote=False).replace('"', "&quot;")
        assert f'<td style="text-align:left">{shown}</td>' in rendered, name
    assert table.endswith("\n\n*\\*n\\**")
