"""Optional dependencies: availability flags and guards that say how to install them."""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

__all__ = ["has", "require"]

_EXTRA = {
    "torch": "torch",
    "matplotlib": "report",
    "highspy": "highs",
    "rich": "rich",
    "sklearn": "dev",
    "seqeval": "dev",
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


def require(module: str, feature: str) -> ModuleType:
    """Import ``module`` or raise an error naming ``feature`` and the install command.

    Examples
    --------
    >>> require("numpy", "LabelTable").__name__
    'numpy'
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        extra = _EXTRA.get(module, module)
        raise ModuleNotFoundError(
            f"{feature} needs {module}. Install it with: pip install 'curate[{extra}]'"
        ) from exc
