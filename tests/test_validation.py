"""The shared argument checks produce the house message template."""

from __future__ import annotations

import numpy as np
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


# ---------------------------------------------------------------------------- one exception rule
from curate._validation import (  # noqa: E402
    Bool,
    InstanceOf,
    check_bool,
    check_epoch,
    check_float,
    check_instance,
    check_int,
    param_error,
    param_message,
)


def test_the_message_template_is_defined_once():
    text = param_message("alpha", "class_weights", "a float in the range (0, 1]", 1.5)
    assert text == ("The 'alpha' parameter of class_weights must be a float in the range (0, 1]. "
                    "Got 1.5 instead.")
    assert type(param_error("a", "f", "x", 1)) is CurateValueError
    assert type(param_error("a", "f", "x", 1, wrong_type=True)) is CurateTypeError


@pytest.mark.parametrize("value", [True, False, np.True_, np.False_])
def test_check_bool_accepts_real_bools(value):
    result = check_bool("shuffle", value, "S")
    assert result is bool(value)


@pytest.mark.parametrize("value", [1, 0, 1.0, "yes", None, np.int64(1), [True]])
def test_check_bool_rejects_everything_else_with_type_error(value):
    with pytest.raises(CurateTypeError, match=r"^The 'shuffle' parameter of S must be a bool\. "):
        check_bool("shuffle", value, "S")


def test_bool_options_do_not_match_ints():
    """Options({True, False}) used to accept 1 (1 == True): bools are their own type."""
    with pytest.raises(CurateTypeError, match=r"Got 1 instead"):
        check_param("minimize_duplicates", 1, [Options({True, False})], "InterClassBalancer")
    check_param("minimize_duplicates", np.True_, [Options({True, False})], "InterClassBalancer")
    check_param("minimize_duplicates", False, [Bool()], "InterClassBalancer")


@pytest.mark.parametrize(
    ("value", "exc", "shown"),
    [
        ("1", CurateTypeError, "'1'"),
        (1.0, CurateTypeError, "1.0"),
        (True, CurateTypeError, "True"),
        (None, CurateTypeError, "None"),
        (-1, CurateValueError, "-1"),
        (np.int64(-2), CurateValueError, "-2"),
    ],
)
def test_check_epoch(value, exc, shown):
    with pytest.raises(exc) as info:
        check_epoch(value, "BalancePlan.draw")
    assert str(info.value) == (
        "The 'epoch' parameter of BalancePlan.draw must be an int in the range [0, inf). "
        f"Got {shown} instead."
    )


def test_check_epoch_returns_python_int():
    out = check_epoch(np.int32(3), "f")
    assert out == 3 and type(out) is int


def test_check_int_and_float():
    assert check_int("k", None, "f", none_ok=True) is None
    assert check_int("k", np.uint8(4), "f", low=1, high=4) == 4
    with pytest.raises(CurateValueError, match=r"an int in the range \[1, 4\] or None\. Got 5"):
        check_int("k", 5, "f", low=1, high=4, none_ok=True)
    assert check_float("a", 1, "f", low=0, high=1) == 1.0
    with pytest.raises(CurateValueError, match=r"a float in the range \(0, 1\]\. Got 0 instead"):
        check_float("a", 0, "f", low=0, high=1, closed="right")
    with pytest.raises(CurateTypeError, match=r"Got '0\.5' instead"):
        check_float("a", "0.5", "f", low=0, high=1)


def test_check_instance_and_instance_of():
    assert check_instance("title", "x", "f", str, "a str") == "x"
    with pytest.raises(CurateTypeError, match=r"must be a curate\.LabelTable or None\. "
                       r"Got an object of type DataFrame instead"):
        import pandas as pd

        check_param("table", pd.DataFrame(), [InstanceOf((dict,), "a curate.LabelTable"), None],
                    "f")


@pytest.mark.parametrize(
    ("rules", "value", "exc"),
    [
        ([Options({"a", "b"})], "c", CurateValueError),  # right type, not allowed
        ([Options({"a", "b"})], 3, CurateTypeError),  # not a str at all
        ([Interval(float, 0, 1), Options({"lowest"})], "highest", CurateValueError),
        ([Interval(float, 0, 1), Options({"lowest"})], 2.0, CurateValueError),
        ([Interval(float, 0, 1), Options({"lowest"})], [1], CurateTypeError),
        ([Interval(int, 0, None)], None, CurateTypeError),
    ],
)
def test_type_or_value_error_is_decided_by_the_rules(rules, value, exc):
    with pytest.raises(exc):
        check_param("p", value, rules, "f")


def test_str_enum_non_str_is_a_type_error():
    with pytest.raises(CurateTypeError, match=r"'solver' parameter of fit must be one of "
                       r"\{'fast', 'exact'\}\. Got 3 instead"):
        _Mode.from_str(3, "solver", "fit")


def test_long_values_are_shortened_in_messages():
    with pytest.raises(CurateTypeError) as info:
        check_bool("flag", "x" * 500, "f")
    assert len(str(info.value)) < 200 and "..." in str(info.value)
    with pytest.raises(CurateTypeError, match=r"Got an array of shape \(100,\) instead"):
        check_bool("flag", np.zeros(100), "f")
