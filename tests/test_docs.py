"""Every ```python block of README.md and docs/*.md runs as written, in order, per file.

Blocks of one file share a fresh namespace and run with the working directory set to an
empty temporary folder whose ``../shared`` is the shared datasets folder (so the documented
``../shared/datasets/...`` paths resolve). Blocks written as a doctest session (``>>>``) are
run by :mod:`doctest` and their shown output must match; other blocks are executed. A block
directly preceded by ``<!-- no-test: reason -->`` is skipped; use it only for blocks that
need something a test machine lacks (a GPU, a network download) and say which.
"""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest
from conftest import DATASETS, ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_FENCE = re.compile(r"^```python[^\n]*\n(.*?)^```", re.S | re.M)
_NO_TEST = re.compile(r"<!--\s*no-test\b[^>]*-->\s*$")
_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def python_blocks(text: str) -> list[tuple[int, str]]:
    """``(line number, code)`` of each ```python block not marked ``<!-- no-test -->``."""
    out = []
    for m in _FENCE.finditer(text):
        before = text[: m.start()].rstrip("\n").splitlines()
        if before and _NO_TEST.search(before[-1]):
            continue
        out.append((text.count("\n", 0, m.start()) + 2, m.group(1)))
    return out


def test_collector_sees_blocks_and_honours_no_test():
    text = "x\n```python\na = 1\n```\n<!-- no-test: needs a GPU -->\n```python\nb\n```\n"
    assert python_blocks(text) == [(3, "a = 1\n")]


def _run_page(page: Path) -> None:
    globs: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    runner = doctest.DocTestRunner(optionflags=_FLAGS)
    parser = doctest.DocTestParser()
    for line, code in python_blocks(page.read_text(encoding="utf-8")):
        name = f"{page.name}:{line}"
        if code.lstrip().startswith(">>>"):
            test = parser.get_doctest(code, globs, name, str(page), line)
            collect = _Out()
            result = runner.run(test, clear_globs=False, out=collect)
            globs.update(test.globs)  # DocTest ran on a copy; later blocks see its names
            assert result.failed == 0, f"{name} output differs:\n{collect.text}"
        else:
            try:
                exec(compile(code, name, "exec"), globs)
            except Exception as exc:
                raise AssertionError(f"{name} raised {type(exc).__name__}: {exc}") from exc


class _Out:
    def __init__(self) -> None:
        self.text = ""

    def __call__(self, s: str) -> None:
        self.text += s


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_page_runs_as_written(page, tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    if DATASETS.is_dir():
        (tmp_path / "shared").symlink_to(DATASETS.parent)
    elif "../shared/datasets" in page.read_text(encoding="utf-8"):
        pytest.skip(f"{page.name} reads ../shared/datasets, which is absent here")
    monkeypatch.chdir(work)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    _run_page(page)
