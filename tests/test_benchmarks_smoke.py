"""Smoke tests of the benchmark runner, the docs generator and the training experiment.

The training experiment runs in ``--quick`` mode (1 seed, 1 epoch, subsets) through the
runner, in a subprocess, writing only into ``tmp_path``; the renderer is tested on fixture
results files, including broken ones it must survive.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import dataset_path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))

import render_docs  # noqa: E402
import run_all  # noqa: E402


def _results(name: str = "bench_demo", **overrides: object) -> dict:
    data = {
        "name": name,
        "command": f"python benchmarks/{name}.py --quick",
        "date": "2025-01-02T03:04:05+00:00",
        "machine": {"cpu": "Test CPU 3000", "cores": 2, "ram_gb": 24.0,
                    "versions": {"python": "3.11.0", "torch": "2.13.0"}},
        "tables": [{"title": "Demo table", "columns": ["method", "time s", "ratio"],
                    "rows": [["curate", 0.123456, 12], ["baseline|x", None, 3.5e-05]],
                    "notes": "Measured on a busy machine."}],
    }
    data.update(overrides)
    return data


def _write(folder: Path, name: str, payload: object) -> None:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    (folder / f"{name}.json").write_text(text, encoding="utf-8")


# ----------------------------------------------------------------------------- render_docs
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "—"),
        (True, "yes"),
        (0.123456, "0.1235"),
        (1234.5, "1,234"),
        (3.5e-05, "3.5e-05"),
        (float("nan"), "nan"),
        (12, "12"),
        (123456, "123,456"),
        ("a|b", "a\\|b"),
        ([1, 2.5], "1, 2.5"),
        ({"k": 1}, "k=1"),
    ],
)
def test_fmt_cells(value: object, expected: str) -> None:
    assert render_docs.fmt(value) == expected


def test_render_well_formed_results(tmp_path: Path) -> None:
    _write(tmp_path, "bench_demo", _results())
    _write(tmp_path, "train_effect", _results("train_effect", links=[
        {"title": "Report", "path": str(tmp_path / "docs" / "r.html")}],
        description=["first finding", "second | finding"]))
    out = tmp_path / "docs" / "benchmarks.md"
    assert render_docs.main(["--results", str(tmp_path), "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    # one machine for both files: described once in the header, not per section
    assert page.count("Test CPU 3000; 2 cores; 24.0 GB RAM") == 1
    assert page.count("Versions: python 3.11.0, torch 2.13.0") == 2
    assert "Command: `python benchmarks/bench_demo.py --quick`" in page
    assert "Date: 2025-01-02T03:04:05+00:00" in page
    assert "| method | time s | ratio |" in page
    assert "| curate | 0.1235 | 12 |" in page
    assert "| baseline\\|x | — | 3.5e-05 |" in page
    assert "Measured on a busy machine." in page
    assert "[Report](r.html)" in page
    assert "- first finding\n- second \\| finding\n" in page
    # unknown names (bench_demo) come before the training experiment, which is always last
    assert page.index("## bench_demo") < page.index("## train_effect")


def test_render_different_machines_named_per_section(tmp_path: Path) -> None:
    _write(tmp_path, "a", _results("a"))
    other = _results("b")
    other["machine"] = {"cpu": "Other CPU", "cores": 16}
    _write(tmp_path, "b", other)
    page = render_docs.render(tmp_path, tmp_path / "x.md")
    assert "Machine: Other CPU; 16 cores" in page
    assert "Machine: Test CPU 3000" in page


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("{not json", r"Could not read `broken\.json`"),
        ("[1, 2]", r"holds a list, not a results object"),
        ({"name": "x", "score": 0.5, "nested": {"a": [1, 2]}},
         r"unrecognised shape(.|\n)*\| score \| 0\.5 \|(.|\n)*\| nested \| \{\"a\": \[1, 2\]\} \|"),
        ({"tables": [{"title": "t", "columns": "oops", "rows": 3}]}, r"unrecognised shape"),
        ({"tables": [{"columns": ["a"], "rows": [[1, 2], 3]}], "machine": "weird"},
         r"\| a \|  \|\n\|---\|---\|\n\| 1 \| 2 \|\n\| 3 \|  \|"),
    ],
)
def test_render_survives_odd_files(tmp_path: Path, payload: object, expected: str) -> None:
    import re

    _write(tmp_path, "broken", payload)
    out = tmp_path / "page.md"
    assert render_docs.main(["--results", str(tmp_path), "--out", str(out)]) == 0
    assert re.search(expected, out.read_text(encoding="utf-8"))


def test_render_empty_folder(tmp_path: Path) -> None:
    page = render_docs.render(tmp_path / "missing", tmp_path / "x.md")
    assert "No results yet" in page


# ----------------------------------------------------------------------------- run_all
def test_runner_discovers_every_script_train_effect_last() -> None:
    scripts = run_all.discover()
    assert scripts[-1].name == "train_effect.py"
    assert [s.name for s in scripts[:-1]] == sorted(p.name for p in BENCH.glob("bench_*.py"))


@pytest.mark.parametrize(
    ("name", "hit"),
    [("sampler", True), ("bench_sampler", True), ("bench_sampler.py", True),
     ("samp", False), ("train_effect", True)],
)
def test_runner_only_names(name: str, hit: bool) -> None:
    script = BENCH / ("train_effect.py" if name.startswith("train") else "bench_sampler.py")
    assert run_all._matches(script, [name]) is hit


def test_runner_rejects_unknown_only(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        run_all.main(["--only", "no_such_bench", "--no-render"])
    assert exc.value.code == 2
    assert "matches no script" in capsys.readouterr().err


# ----------------------------------------------------------------------------- train_effect
@pytest.mark.slow
@pytest.mark.datasets
def test_train_effect_quick_through_runner(tmp_path: Path) -> None:
    dataset_path("mulan_yeast", "features.parquet")
    dataset_path("wnut17_ner")
    proc = subprocess.run(
        [sys.executable, str(BENCH / "run_all.py"), "--quick", "--only", "train_effect",
         "--results-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=1800, check=False,  # generous: busy machines
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    data = json.loads((tmp_path / "train_effect.json").read_text())
    assert data["quick"] is True and data["seeds"] == [0]
    titles = [t["title"] for t in data["tables"]]
    configs = ["none", "weighted", "focal", "sampler", "sampler+weights"]
    for ds in ("mulan_yeast", "wnut17_ner"):
        table = data["tables"][titles.index(f"{ds}: test scores by training configuration")]
        assert [r[0] for r in table["rows"]] == configs
        runs = data["runs"][ds]
        for row in table["rows"]:
            (run,) = runs[row[0]]
            assert all(0.0 <= run[k] <= 1.0 for k in ("accuracy", "micro_f1", "macro_f1",
                                                        "rare_recall"))
            # the table cell is the formatted run value (one seed: std 0)
            assert row[3] == f"{run['macro_f1']:.3f} ± 0.000"
            rare = [v for k, v in run.items() if k.startswith("recall[")]
            assert run["rare_recall"] == pytest.approx(np.mean(rare))
    for link in data["links"]:
        html = Path(link["path"])
        assert html.parent == tmp_path and html.read_text().lstrip().startswith("<!")
    for ds in ("mulan_yeast", "wnut17_ner"):
        said = [line for line in data["description"] if line.startswith(f"{ds}, ")]
        assert len(said) == 4 and all("macro-F1" in line for line in said)
    page = (tmp_path / "benchmarks.md").read_text()
    assert "## train_effect" in page and "entity macro-F1" in page
