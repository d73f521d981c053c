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
    """Base class of every error raised by curate itself."""


class CurateValueError(CurateError, ValueError):
    """A value is not allowed: the message names the field, the value and the fix."""


class CurateTypeError(CurateError, TypeError):
    """A value has the wrong type."""


class MissingDependencyError(CurateError, ModuleNotFoundError):
    """A package a feature needs is not installed; the message gives the install command."""


class SolverError(CurateError):
    """The optimiser failed and no feasible plan could be produced."""


class InfeasibleError(SolverError, ValueError):
    """The chosen options admit no plan; the message says which option to relax."""


class CurateWarning(UserWarning):
    """Base class of curate's warnings."""


class UndefinedMetricWarning(CurateWarning):
    """A precision, recall or F-score is ill-defined (0/0); ``zero_division`` was used."""


class SolverTimeLimitWarning(CurateWarning):
    """The solver hit ``time_limit``; the best plan found is returned with its gap."""


class ZeroCountWarning(CurateWarning):
    """A class has zero labels; a documented finite fallback was used instead of inf."""
