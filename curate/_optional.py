"""Optional dependencies: availability flags and guards that say how to install them.

matplotlib is a core dependency (the EDA report's plots need it), so ``pip install curate``
brings it; the guard still turns a broken or stripped install into one clear line.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from curate.exceptions import MissingDependencyError

__all__ = ["has", "install_hint", "require"]

# module -> what to pip install; an extra of curate where one exists
_INSTALL = {
    "torch": "torch",
    "matplotlib": "matplotlib",
    "highspy": "'curate[highs]'",
    "ray": "'curate[engine]'",
    "rich": "rich",
    "sklearn": "'curate[dev]'",
    "seqeval": "'curate[dev]'",
}


def has(module: str) -> bool:
    """Return whether ``module`` can be imported, without importing it.

    Examples
    --------
    >>> has("numpy")
    True
    """
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def install_hint(module: str) -> str:
    """The ``pip install ...`` command that provides ``module``.

    Examples
    --------
    >>> install_hint("highspy")
    "pip install 'curate[highs]'"
    """
    return f"pip install {_INSTALL.get(module, module)}"


def require(module: str, feature: str) -> ModuleType:
    """Import ``module`` or raise :class:`~curate.exceptions.MissingDependencyError`.

    The error (a ``ModuleNotFoundError`` and a ``CurateError``) names ``feature`` and the
    install command, so the command line prints it as one line.

    Examples
    --------
    >>> require("numpy", "LabelTable").__name__
    'numpy'
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{feature} needs {module}. Install it with: {install_hint(module)}"
        ) from exc
