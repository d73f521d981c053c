"""numpydoc validation of every public function, class and method (no whitelist).

Checked rules: a docstring exists (GL08), it has a summary (SS01, SS03 ends with a period),
every parameter is documented and no unknown one is (PR01, PR02), and public functions and
classes carry an Examples section (EX01), which ``--doctest-modules`` runs.
"""

from __future__ import annotations

import enum
import importlib
import inspect
import re

import pytest

numpydoc_validate = pytest.importorskip("numpydoc.validate")

CHECKS = {"GL08", "SS01", "SS03", "PR01", "PR02", "EX01"}
MODULES = ["curate", "curate.io", "curate.balance", "curate.balance.baselines", "curate.losses",
           "curate.metrics", "curate.report", "curate.sampler", "curate.augment",
           "curate.weights", "curate.stats", "curate.datasets", "curate.labels"]


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


CASES = sorted(_public_objects(), key=lambda c: c[0])


def _attributes(obj: object) -> set[str]:
    """Names documented under ``Attributes`` (result objects document their fields there)."""
    from numpydoc.docscrape import ClassDoc

    doc = ClassDoc(obj, config={"show_class_members": False})
    return {name.strip() for item in doc["Attributes"] for name in item.name.split(",")}


@pytest.mark.parametrize(("name", "obj", "needs_example"), CASES, ids=[c[0] for c in CASES])
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
