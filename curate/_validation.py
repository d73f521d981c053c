"""Declarative argument checks with one message template.

Each public function declares its scalar argument rules once::

    @validate_params({"alpha": [Interval(float, 0, 1, closed="right")],
                      "scheme": [Options({"inverse", "inverse_sqrt"})]})
    def class_weights(table, *, scheme="inverse_sqrt", alpha=0.5): ...

and a bad value raises ``The 'alpha' parameter of class_weights must be a float in the
range (0, 1]. Got 1.5 instead.`` That sentence is built in one place, :func:`param_message`.

The exception rule: a value of the wrong *type* raises :class:`~curate.exceptions.CurateTypeError`
(a ``TypeError``); a value of the right type outside the allowed set raises
:class:`~curate.exceptions.CurateValueError` (a ``ValueError``). Bools are real bools
(``numpy.bool_`` too): ``1`` is not accepted where a bool is expected, and ``True`` is not
accepted where an int is.

Call-site helpers for the common cases: :func:`check_bool`, :func:`check_int`,
:func:`check_float`, :func:`check_epoch` and :func:`check_instance`. Data errors use
:func:`data_error` so that they name the position, the value and the allowed set.
"""

from __future__ import annotations

import functools
import inspect
import numbers
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

import numpy as np

from curate.exceptions import CurateTypeError, CurateValueError

__all__ = [
    "Bool",
    "InstanceOf",
    "Interval",
    "Options",
    "StrEnum",
    "check_bool",
    "check_epoch",
    "check_float",
    "check_instance",
    "check_int",
    "check_param",
    "data_error",
    "param_error",
    "param_message",
    "user_stacklevel",
    "validate_params",
]

F = TypeVar("F", bound=Callable[..., Any])
_TYPE_NAMES = {
    int: "an int",
    float: "a float",
    numbers.Real: "a float",
    str: "a str",
    bool: "a bool",
}
_MAX_SHOWN = 80  # characters of a value's repr shown in a message


def _show(value: Any) -> str:
    """The value as a message shows it: Python values (numpy scalars converted), kept short."""
    if isinstance(value, np.ndarray) and value.size > 20:
        return f"an array of shape {value.shape}"
    if isinstance(value, np.generic | np.ndarray):
        value = value.tolist()
    simple = (type(None), bool, int, float, complex, str, bytes, list, tuple, dict, set, frozenset)
    if not isinstance(value, simple):
        return f"an object of type {type(value).__name__}"
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def param_message(name: str, owner: str, expected: str, value: Any) -> str:
    """The one argument-error sentence: ``The 'name' parameter of owner must be ... Got ...``.

    Parameters
    ----------
    name : str
        Parameter name.
    owner : str
        Function or class that takes the parameter (``"class_weights"``, ``"Report.save"``).
    expected : str
        What is allowed, as a noun phrase (``"a float in the range (0, 1]"``).
    value : object
        The value that was passed.

    Returns
    -------
    str

    Examples
    --------
    >>> param_message("alpha", "class_weights", "a float in the range (0, 1]", 1.5)
    "The 'alpha' parameter of class_weights must be a float in the range (0, 1]. Got 1.5 instead."
    """
    return f"The {name!r} parameter of {owner} must be {expected}. Got {_show(value)} instead."


def param_error(
    name: str, owner: str, expected: str, value: Any, *, wrong_type: bool = False
) -> CurateTypeError | CurateValueError:
    """Build (not raise) the error for a bad argument: ``TypeError`` when ``wrong_type``.

    Parameters
    ----------
    name, owner, expected, value
        As in :func:`param_message`.
    wrong_type : bool, default=False
        The value has the wrong type (``CurateTypeError``) rather than a wrong value of the
        right type (``CurateValueError``).

    Returns
    -------
    CurateTypeError or CurateValueError

    Examples
    --------
    >>> err = param_error("k", "f", "an int", "3", wrong_type=True)
    >>> type(err).__name__, isinstance(err, TypeError)
    ('CurateTypeError', True)
    """
    cls = CurateTypeError if wrong_type else CurateValueError
    return cls(param_message(name, owner, expected, value))


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool | np.bool_)


def _kind(value: Any) -> type:
    """Type family used to tell a wrong type from a wrong value: bool, number, str or the type."""
    if _is_bool(value):
        return bool
    if isinstance(value, numbers.Number):
        return numbers.Number
    if isinstance(value, str):
        return str
    return type(value)


# ---------------------------------------------------------------------------- rules
@dataclass(frozen=True)
class Interval:
    """A number of ``type`` in [left, right] (``closed`` says which ends belong)."""

    type: type
    left: float | None
    right: float | None
    closed: str = "both"  # "both" | "left" | "right" | "neither"
    finite: bool = False  # also refuse +-inf (an open end is otherwise unbounded)

    def type_ok(self, value: Any) -> bool:
        """Whether ``value`` has the right type (not bool; an integer when ``type`` is int)."""
        if _is_bool(value) or not isinstance(value, numbers.Real):
            return False
        return self.type is not int or isinstance(value, numbers.Integral)

    def accepts(self, value: Any) -> bool:
        if not self.type_ok(value):
            return False
        if isinstance(value, float | np.floating) and (
                np.isnan(value) or (self.finite and np.isinf(value))):
            return False
        lo_ok = self.left is None or (
            value >= self.left if self.closed in ("both", "left") else value > self.left
        )
        hi_ok = self.right is None or (
            value <= self.right if self.closed in ("both", "right") else value < self.right
        )
        return bool(lo_ok and hi_ok)

    def __str__(self) -> str:
        lb = "[" if self.closed in ("both", "left") and self.left is not None else "("
        rb = "]" if self.closed in ("both", "right") and self.right is not None else ")"
        lo = "-inf" if self.left is None else f"{self.left:g}"
        hi = "inf" if self.right is None else f"{self.right:g}"
        kind = _TYPE_NAMES.get(self.type, self.type.__name__)
        if self.finite:
            kind = f"a finite {kind.split(' ', 1)[-1]}"
        return f"{kind} in the range {lb}{lo}, {hi}{rb}"


@dataclass(frozen=True)
class Options:
    """One of a fixed set of values; ``1`` does not match ``True`` (bools are their own type)."""

    values: frozenset[Any] | set[Any] | tuple[Any, ...]

    def type_ok(self, value: Any) -> bool:
        """Whether ``value`` is of the type of some option (bool, number, str or other)."""
        return _kind(value) in {_kind(v) for v in self.values}

    def accepts(self, value: Any) -> bool:
        if not self.type_ok(value):
            return False
        try:
            return value in self.values
        except TypeError:  # unhashable: not one of the options
            return False

    def __str__(self) -> str:
        return "one of {" + ", ".join(repr(v) for v in sorted(self.values, key=str)) + "}"


@dataclass(frozen=True)
class InstanceOf:
    """An instance of one of ``types``; ``label`` names them in the message."""

    types: tuple[type, ...]
    label: str

    def type_ok(self, value: Any) -> bool:
        """Same as :meth:`accepts`: the only thing checked is the type."""
        return isinstance(value, self.types) and not (
            isinstance(value, bool) and bool not in self.types
        )

    def accepts(self, value: Any) -> bool:
        return self.type_ok(value)

    def __str__(self) -> str:
        return self.label


@dataclass(frozen=True)
class Bool:
    """A real bool: ``True``/``False`` or ``numpy.bool_`` (not ``0``/``1``, not ``"yes"``)."""

    def type_ok(self, value: Any) -> bool:
        """Whether ``value`` is a bool."""
        return _is_bool(value)

    def accepts(self, value: Any) -> bool:
        return _is_bool(value)

    def __str__(self) -> str:
        return "a bool"


def _describe(rules: Iterable[Any]) -> str:
    texts = ["None" if r is None else str(r) for r in rules]
    return texts[0] if len(texts) == 1 else ", ".join(texts[:-1]) + " or " + texts[-1]


def check_param(name: str, value: Any, rules: list[Any], owner: str) -> None:
    """Raise the house-style error unless ``value`` satisfies one of ``rules``.

    ``None`` in ``rules`` allows ``None``. The error is a ``CurateTypeError`` when no rule
    accepts the value's type, else a ``CurateValueError``.

    Parameters
    ----------
    name : str
        Parameter name.
    value : object
        The value passed.
    rules : list
        :class:`Interval`, :class:`Options`, :class:`InstanceOf`, :class:`Bool` or ``None``.
    owner : str
        Function or class that takes the parameter.

    Examples
    --------
    >>> check_param("alpha", 0.5, [Interval(float, 0, 1, closed="right")], "class_weights")
    >>> check_param("alpha", 1.5, [Interval(float, 0, 1, closed="right")], "class_weights")
    Traceback (most recent call last):
    ...
    curate.exceptions.CurateValueError: The 'alpha' parameter of class_weights must be a float \
in the range (0, 1]. Got 1.5 instead.
    """
    for rule in rules:
        if (rule is None and value is None) or (rule is not None and rule.accepts(value)):
            return
    typed = [r for r in rules if r is not None]
    wrong_type = not any(getattr(r, "type_ok", lambda _: True)(value) for r in typed)
    raise param_error(name, owner, _describe(rules), value, wrong_type=wrong_type)


def validate_params(rules: dict[str, list[Any]]) -> Callable[[F], F]:
    """Decorate a public function so that its arguments are checked against ``rules``.

    Parameters
    ----------
    rules : dict of str to list
        Parameter name to the rules of :func:`check_param`.

    Returns
    -------
    callable
        The decorator.

    Examples
    --------
    >>> @validate_params({"k": [Interval(int, 1, None)]})
    ... def f(*, k=1):
    ...     return k
    >>> f(k=3)
    3
    """

    def decorator(func: F) -> F:
        sig = inspect.signature(func)
        owner = func.__qualname__.replace(".__init__", "")

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            bound = sig.bind(*args, **kwargs)
            bound.apply_defaults()
            for name, param_rules in rules.items():
                check_param(name, bound.arguments[name], param_rules, owner)
            return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


# ---------------------------------------------------------------------------- call-site helpers
def check_bool(name: str, value: Any, owner: str) -> bool:
    """Return ``value`` as a bool, or raise ``CurateTypeError`` unless it is a real bool.

    Parameters
    ----------
    name : str
        Parameter name.
    value : object
        The value passed; ``True``, ``False`` or a ``numpy.bool_``.
    owner : str
        Function or class that takes the parameter.

    Returns
    -------
    bool

    Examples
    --------
    >>> import numpy as np
    >>> check_bool("shuffle", np.True_, "BalancedSampler")
    True
    >>> check_bool("shuffle", 1, "BalancedSampler")
    Traceback (most recent call last):
    ...
    curate.exceptions.CurateTypeError: The 'shuffle' parameter of BalancedSampler must be a bool. \
Got 1 instead.
    """
    check_param(name, value, [Bool()], owner)
    return bool(value)


def check_int(
    name: str,
    value: Any,
    owner: str,
    *,
    low: int | None = None,
    high: int | None = None,
    none_ok: bool = False,
) -> int | None:
    """Return ``value`` as a Python int in ``[low, high]``; a non-int (or a bool) is a type error.

    Parameters
    ----------
    name : str
        Parameter name.
    value : object
        The value passed: an ``int`` or a numpy integer.
    owner : str
        Function or class that takes the parameter.
    low, high : int, default=None
        Inclusive bounds; ``None`` leaves that side open.
    none_ok : bool, default=False
        Also allow ``None`` (returned as is).

    Returns
    -------
    int or None

    Examples
    --------
    >>> check_int("num_samples", 3, "WeightedSampler", low=1)
    3
    >>> check_int("num_samples", 0, "WeightedSampler", low=1)
    Traceback (most recent call last):
    ...
    curate.exceptions.CurateValueError: The 'num_samples' parameter of WeightedSampler must be \
an int in the range [1, inf). Got 0 instead.
    """
    check_param(name, value, [Interval(int, low, high), *([None] if none_ok else [])], owner)
    return None if value is None else int(value)


def check_float(
    name: str,
    value: Any,
    owner: str,
    *,
    low: float | None = None,
    high: float | None = None,
    closed: str = "both",
    none_ok: bool = False,
) -> float | None:
    """Return ``value`` as a Python float in the interval; ints are accepted, bools and NaN not.

    Parameters
    ----------
    name : str
        Parameter name.
    value : object
        The value passed.
    owner : str
        Function or class that takes the parameter.
    low, high : float, default=None
        Bounds; ``None`` leaves that side open.
    closed : {"both", "left", "right", "neither"}, default="both"
        Which bounds belong to the interval.
    none_ok : bool, default=False
        Also allow ``None`` (returned as is).

    Returns
    -------
    float or None

    Examples
    --------
    >>> check_float("alpha", 1, "class_weights", low=0, high=1, closed="right")
    1.0
    """
    rules = [Interval(float, low, high, closed), *([None] if none_ok else [])]
    check_param(name, value, rules, owner)
    return None if value is None else float(value)


def check_epoch(epoch: Any, owner: str) -> int:
    """Return ``epoch`` as an int >= 0: ``"1"`` or ``1.0`` is a type error, ``-1`` a value error.

    Parameters
    ----------
    epoch : object
        The epoch passed.
    owner : str
        Function or method that takes it (``"BalancePlan.draw"``, ``"BalancedSampler.set_epoch"``).

    Returns
    -------
    int

    Examples
    --------
    >>> check_epoch(2, "BalancePlan.draw")
    2
    >>> check_epoch("1", "BalancePlan.draw")
    Traceback (most recent call last):
    ...
    curate.exceptions.CurateTypeError: The 'epoch' parameter of BalancePlan.draw must be an int \
in the range [0, inf). Got '1' instead.
    """
    return int(check_int("epoch", epoch, owner, low=0))  # type: ignore[arg-type]


def check_instance(name: str, value: Any, owner: str, types: Any, label: str) -> Any:
    """Return ``value`` unchanged, or raise ``CurateTypeError`` unless it is one of ``types``.

    Parameters
    ----------
    name : str
        Parameter name.
    value : object
        The value passed.
    owner : str
        Function or class that takes the parameter.
    types : type or tuple of type
        Accepted types.
    label : str
        How the message names them (``"a curate.LabelTable"``).

    Returns
    -------
    object
        ``value``.

    Examples
    --------
    >>> check_instance("title", 3, "dataset_report", str, "a str")
    Traceback (most recent call last):
    ...
    curate.exceptions.CurateTypeError: The 'title' parameter of dataset_report must be a str. \
Got 3 instead.
    """
    types = types if isinstance(types, tuple) else (types,)
    check_param(name, value, [InstanceOf(types, label)], owner)
    return value


# ---------------------------------------------------------------------------- string options
class StrEnum(str, Enum):
    """A string option parsed with :meth:`from_str`, which lists the choices on error."""

    @classmethod
    def from_str(cls, value: Any, param: str = "value", owner: str = "curate") -> Any:
        """Return the member whose value is ``value`` (case-insensitive).

        A non-str raises ``CurateTypeError``; an unknown str raises ``CurateValueError``.

        Examples
        --------
        >>> class Colour(StrEnum):
        ...     RED = "red"
        >>> Colour.from_str("RED") is Colour.RED
        True
        """
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            for member in cls:
                if member.value == value.lower():
                    return member
        choices = "one of {" + ", ".join(repr(m.value) for m in cls) + "}"
        raise param_error(param, owner, choices, value, wrong_type=not isinstance(value, str))

    def __str__(self) -> str:
        return str(self.value)


# ---------------------------------------------------------------------------- data errors
def data_error(field: str, value: Any, problem: str, fix: str = "") -> CurateValueError:
    """Build a data error naming the field, the offending value and the fix.

    Examples
    --------
    >>> str(data_error("labels[3]", "cat", "has class 'cat' not in classes=['dog']"))
    "labels[3] has class 'cat' not in classes=['dog']"
    """
    del value  # the problem text quotes it; kept in the signature for call-site clarity
    msg = f"{field} {problem}"
    if fix:
        msg += f"; {fix}"
    return CurateValueError(msg)


def user_stacklevel() -> int:
    """``stacklevel`` for :func:`warnings.warn` that points at the first frame outside curate.

    Internal call depths differ between code paths, so a fixed ``stacklevel`` would blame a
    curate line for some of them; this counts the frames up to the user's call instead.

    Examples
    --------
    >>> user_stacklevel() >= 1
    True
    """
    import sys
    from pathlib import Path
    from types import FrameType

    package = str(Path(__file__).resolve().parent)
    frame: FrameType | None = sys._getframe(1)  # the caller of this helper: the one that warns
    level = 1
    while frame is not None and str(Path(frame.f_code.co_filename).resolve()).startswith(package):
        frame = frame.f_back
        level += 1
    return level
