"""The shared argument checks produce the house message template."""

from __future__ import annotations

import pytest

from curate._validation import Interval, Options, StrEnum, check_param, validate_params
from curate.exceptions import CurateError, CurateTypeError, CurateValueError


@validate_params(
    {
        "alpha": [Interval(float, 0, 1, closed="right")],
        "k": [Interval(int, 1, None), None],
        "mode": [Options({"a", "b"})],
    }
)
def _func(x, *, alpha=0.5, k=None, mode="a"):
    return x, alpha, k, mode


@pytest.mark.parametrize(
    ("kwargs", "exc", "message"),
    [
        (
            {"alpha": 1.5},
            CurateValueError,
            r"^The 'alpha' parameter of _func must be a float in the range \(0, 1\]\. "
            r"Got 1\.5 instead\.$",
        ),
        ({"alpha": 0.0}, CurateValueError, r"range \(0, 1\]\. Got 0\.0 instead"),
        ({"alpha": float("nan")}, CurateValueError, r"Got nan instead"),
        ({"alpha": "x"}, CurateTypeError, r"Got 'x' instead"),
        (
            {"k": 0},
            CurateValueError,
            r"'k' parameter of _func must be an int in the range \[1, inf\) or None",
        ),
        ({"k": 2.5}, CurateTypeError, r"Got 2\.5 instead"),
        ({"k": True}, CurateTypeError, r"Got True instead"),
        ({"mode": "c"}, CurateValueError, r"must be one of \{'a', 'b'\}\. Got 'c' instead"),
    ],
)
def test_bad_arguments_name_the_parameter(kwargs, exc, message):
    with pytest.raises(exc, match=message):
        _func(1, **kwargs)


def test_good_arguments_pass_through():
    assert _func(1, alpha=1.0, k=3, mode="b") == (1, 1.0, 3, "b")


def test_errors_are_builtin_and_curate_errors():
    with pytest.raises(ValueError):
        _func(1, alpha=2.0)
    with pytest.raises(CurateError):
        _func(1, alpha=2.0)


def test_numpy_scalars_are_shown_as_python_values():
    import numpy as np

    with pytest.raises(CurateValueError, match=r"Got 7 instead"):
        check_param("k", np.int64(7), [Interval(int, 1, 5)], "f")


class _Mode(StrEnum):
    FAST = "fast"
    EXACT = "exact"


def test_str_enum_lists_choices():
    assert _Mode.from_str("EXACT") is _Mode.EXACT
    with pytest.raises(
        CurateValueError, match=r"'solver' parameter of fit must be one of \{'fast', 'exact'\}"
    ):
        _Mode.from_str("slow", "solver", "fit")


def test_warnings_point_at_the_callers_line():
    import curate
    from curate.exceptions import UndefinedMetricWarning

    with pytest.warns(UndefinedMetricWarning) as record:
        curate.evaluate(["a", "b", "a"], ["a", "a", "a"])
    assert {w.filename for w in record} == {__file__}
