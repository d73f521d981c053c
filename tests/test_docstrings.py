"""numpydoc validation of every public function, class and method (no whitelist).

Checked rules: a docstring exists (GL08), it has a summary (SS01, SS03 ends with a period),
every parameter is documented and no unknown one is (PR01, PR02), and public functions and
classes carry an Examples section (EX01), which ``--doctest-modules`` runs.
"""

from __future__ import annotations

import enum
import importlib
import inspect
import pkgutil
import re

import numpydoc.validate as numpydoc_validate
import pytest

CHECKS = {"GL08", "SS01", "SS03", "PR01", "PR02", "EX01"}
# every public (non-underscore) module with an __all__; tests/test_docstrings.py checks below
# that none is missing, so a new public module cannot skip validation
MODULES = ["curate", "curate.adjust", "curate.augment", "curate.balance",
           "curate.balance.baselines", "curate.cli", "curate.datasets", "curate.demo",
           "curate.engine", "curate.exceptions", "curate.integrations",
           "curate.integrations.lightning", "curate.integrations.transformers",
           "curate.integrations.ultralytics", "curate.io", "curate.labels", "curate.losses",
           "curate.metrics", "curate.ray", "curate.report", "curate.sampler", "curate.stats",
           "curate.stream", "curate.weights"]


def _public_objects():
    seen = set()
    for mod_name in MODULES:
        mod = importlib.import_module(mod_name)
        for name in getattr(mod, "__all__", []):
            obj = getattr(mod, name)
            if inspect.ismodule(obj) or not callable(obj) or id(obj) in seen:
                continue
            seen.add(id(obj))
            qual = f"{obj.__module__}.{obj.__qualname__}"
            yield qual, obj, True
            if inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    if attr.startswith("_") or not (inspect.isfunction(member)
                                                    or isinstance(member, classmethod)):
                        continue
                    yield f"{qual}.{attr}", getattr(obj, attr), False


# docstrings in files another engineer owns right now, fixed there next: strict xfail, so the
# entry must go once the docstring passes
PENDING: dict[str, str] = {}
CASES = [pytest.param(*c, id=c[0], marks=[pytest.mark.xfail(reason=PENDING[c[0]], strict=True)]
                      if c[0] in PENDING else [])
         for c in sorted(_public_objects(), key=lambda c: c[0])]


def _attributes(obj: object) -> set[str]:
    """Names documented under ``Attributes`` (result objects document their fields there)."""
    from numpydoc.docscrape import ClassDoc

    doc = ClassDoc(obj, config={"show_class_members": False})
    return {name.strip() for item in doc["Attributes"] for name in item.name.split(",")}


@pytest.mark.parametrize(("name", "obj", "needs_example"), CASES)
def test_docstring(name, obj, needs_example):
    result = numpydoc_validate.validate(name)
    checks = CHECKS if needs_example else CHECKS - {"EX01"}
    if inspect.isclass(obj) and issubclass(obj, enum.Enum):
        checks = checks - {"PR01"}  # members, not constructor parameters
    errors = []
    for code, msg in result["errors"]:
        if code not in checks:
            continue
        if code == "PR01" and inspect.isclass(obj):
            missing = set(re.findall(r"'([^']+)'", msg)) - _attributes(obj)
            if not missing:
                continue
        errors.append(f"{code}: {msg}")
    assert not errors, f"{name}:\n" + "\n".join(errors)


def test_every_public_module_is_validated():
    """A module whose dotted path has no ``_`` part and that defines ``__all__`` is listed."""
    import curate

    public = set()
    for info in pkgutil.walk_packages(curate.__path__, "curate."):
        parts = info.name.split(".")
        if any(p.startswith("_") for p in parts):
            continue
        if hasattr(importlib.import_module(info.name), "__all__"):
            public.add(info.name)
    assert public - set(MODULES) == set()
