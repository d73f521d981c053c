"""Exceptions and warnings raised by curate.

The hierarchy is small on purpose::

    Exception
     └── CurateError                      base of every error curate raises itself
          ├── CurateValueError(ValueError)  a bad value: names the field, the value, the fix
          ├── CurateTypeError(TypeError)    a bad type
          ├── MissingDependencyError(ModuleNotFoundError)  says the pip command that fixes it
          └── SolverError                  the optimiser failed and no plan could be made
               └── InfeasibleError(ValueError)  the options admit no plan; says which option

    UserWarning
     └── CurateWarning
          ├── UndefinedMetricWarning       a metric divided by zero (see ``zero_division``)
          ├── SolverTimeLimitWarning       time limit hit; the plan carries its gap
          └── ZeroCountWarning             a class has no labels; a finite fallback was used

``CurateValueError``, ``CurateTypeError`` and ``MissingDependencyError`` subclass the
builtins, so ``except ValueError`` works as with numpy or scikit-learn, while the command line
catches ``CurateError`` alone and prints it as one line.

Examples
--------
>>> from curate.exceptions import CurateError, CurateTypeError
>>> issubclass(CurateTypeError, TypeError), issubclass(CurateTypeError, CurateError)
(True, True)
"""

from __future__ import annotations

__all__ = [
    "CurateError",
    "CurateTypeError",
    "CurateValueError",
    "CurateWarning",
    "InfeasibleError",
    "MissingDependencyError",
    "SolverError",
    "SolverTimeLimitWarning",
    "UndefinedMetricWarning",
    "ZeroCountWarning",
]


class CurateError(Exception):
    """Base class of every error raised by curate itself.

    Examples
    --------
    >>> import curate
    >>> try:
    ...     curate.class_weights({"a": 3}, scheme="nope")
    ... except CurateError as exc:
    ...     print(type(exc).__name__)
    CurateValueError
    """


class CurateValueError(CurateError, ValueError):
    """A value is not allowed: the message names the field, the value and the fix.

    Examples
    --------
    >>> import curate
    >>> curate.class_weights({"a": 3}, alpha=1.5)
    Traceback (most recent call last):
    ...
    curate.exceptions.CurateValueError: The 'alpha' parameter of class_weights must be a float \
in the range (0, 1]. Got 1.5 instead.
    """


class CurateTypeError(CurateError, TypeError):
    """A value has the wrong type.

    Examples
    --------
    >>> from curate.metrics import evaluate
    >>> evaluate([0, 1], [0, 1]).to_text(digits="2")
    Traceback (most recent call last):
    ...
    curate.exceptions.CurateTypeError: The 'digits' parameter of Evaluation.to_text must be an \
int in the range [0, inf). Got '2' instead.
    """


class MissingDependencyError(CurateError, ModuleNotFoundError):
    """A package a feature needs is not installed; the message gives the install command.

    Examples
    --------
    >>> from curate._optional import require
    >>> require("no_such_package_xyz", "this example")
    Traceback (most recent call last):
    ...
    curate.exceptions.MissingDependencyError: ...pip install no_such_package_xyz...
    """


class SolverError(CurateError):
    """The optimiser failed and no feasible plan could be produced.

    Examples
    --------
    >>> issubclass(InfeasibleError, SolverError)  # catching SolverError covers both
    True
    """


class InfeasibleError(SolverError, ValueError):
    """The chosen options admit no plan; the message says which option to relax.

    Examples
    --------
    >>> issubclass(InfeasibleError, ValueError), issubclass(InfeasibleError, CurateError)
    (True, True)
    """


class CurateWarning(UserWarning):
    """Base class of curate's warnings.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", CurateWarning)  # silences all of curate's warnings
    """


class UndefinedMetricWarning(CurateWarning):
    """A precision, recall or F-score is ill-defined (0/0); ``zero_division`` was used.

    Examples
    --------
    >>> import warnings
    >>> from curate.metrics import evaluate
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = evaluate(["a", "b"], ["a", "a"])
    >>> caught[0].category.__name__
    'UndefinedMetricWarning'
    """


class SolverTimeLimitWarning(CurateWarning):
    """The solver hit ``time_limit``; the best plan found is returned with its gap.

    Examples
    --------
    >>> issubclass(SolverTimeLimitWarning, CurateWarning)
    True
    """


class ZeroCountWarning(CurateWarning):
    """A class has zero labels; a documented finite fallback was used instead of inf.

    Examples
    --------
    >>> import warnings
    >>> import curate
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = curate.class_weights({"a": 5, "b": 0})
    >>> caught[0].category.__name__
    'ZeroCountWarning'
    """
