"""Declarative argument checks with one message template.

Each public function declares its scalar argument rules once::

    @validate_params({"alpha": [Interval(float, 0, 1, closed="right")],
                      "scheme": [Options({"inverse", "inverse_sqrt"})]})
    def class_weights(table, *, scheme="inverse_sqrt", alpha=0.5): ...

and a bad value raises ``The 'alpha' parameter of class_weights must be a float in the
range (0, 1]. Got 1.5 instead.`` Data errors use :func:`data_error` so that they name the
position, the value and the allowed set.
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
    "Interval",
    "Options",
    "StrEnum",
    "data_error",
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


def _show(value: Any) -> str:
    if isinstance(value, np.generic | np.ndarray):
        value = value.tolist()
    return repr(value)


@dataclass(frozen=True)
class Interval:
    """A number of ``type`` in [left, right] (``closed`` says which ends belong)."""

    type: type
    left: float | None
    right: float | None
    closed: str = "both"  # "both" | "left" | "right" | "neither"

    def type_ok(self, value: Any) -> bool:
        """Whether ``value`` has the right type (not bool; an integer when ``type`` is int)."""
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return False
        return self.type is not int or isinstance(value, numbers.Integral)

    def accepts(self, value: Any) -> bool:
        if not self.type_ok(value):
            return False
        if isinstance(value, float) and np.isnan(value):
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
        return f"{_TYPE_NAMES.get(self.type, self.type.__name__)} in the range {lb}{lo}, {hi}{rb}"


@dataclass(frozen=True)
class Options:
    """One of a fixed set of values."""

    values: frozenset[Any] | set[Any] | tuple[Any, ...]

    def accepts(self, value: Any) -> bool:
        try:
            return value in self.values
        except TypeError:
            return False

    def __str__(self) -> str:
        return "one of {" + ", ".join(repr(v) for v in sorted(self.values, key=str)) + "}"


@dataclass(frozen=True)
class InstanceOf:
    """An instance of one of ``types``."""

    types: tuple[type, ...]
    label: str

    def accepts(self, value: Any) -> bool:
        return isinstance(value, self.types) and not (
            isinstance(value, bool) and bool not in self.types
        )

    def __str__(self) -> str:
        return self.label


def _describe(rules: Iterable[Any]) -> str:
    texts = ["None" if r is None else str(r) for r in rules]
    return texts[0] if len(texts) == 1 else ", ".join(texts[:-1]) + " or " + texts[-1]


def check_param(name: str, value: Any, rules: list[Any], owner: str) -> None:
    """Raise the house-style error unless ``value`` satisfies one of ``rules``.

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
    cls = CurateValueError
    intervals = [r for r in rules if isinstance(r, Interval)]
    if intervals and len(intervals) == len([r for r in rules if r is not None]):
        if value is not None and not any(r.type_ok(value) for r in intervals):
            cls = CurateTypeError  # type: ignore[assignment]
    raise cls(
        f"The {name!r} parameter of {owner} must be {_describe(rules)}. Got {_show(value)} instead."
    )


def validate_params(rules: dict[str, list[Any]]) -> Callable[[F], F]:
    """Decorate a public function so that its arguments are checked against ``rules``.

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


class StrEnum(str, Enum):
    """A string option parsed with :meth:`from_str`, which lists the choices on error."""

    @classmethod
    def from_str(cls, value: Any, param: str = "value", owner: str = "curate") -> Any:
        """Return the member whose value is ``value`` (case-insensitive).

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
        choices = ", ".join(repr(m.value) for m in cls)
        raise CurateValueError(
            f"The {param!r} parameter of {owner} must be one of {{{choices}}}. "
            f"Got {_show(value)} instead."
        )

    def __str__(self) -> str:
        return str(self.value)


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
