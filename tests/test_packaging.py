"""Packaging as users install it: the built wheel in a clean virtual environment.

``pip install curate`` (the wheel, no Makefile, no extras) must give a working command line,
``curate report`` included (matplotlib is a core dependency). The test builds the wheel from
a copy of the sources (nothing is written into the working tree), creates a virtual
environment without system site-packages, installs the torch wheel already installed here
(same version, so pip takes it from the local wheel cache or index) and then the curate wheel
with its dependencies, and runs ``curate --version``, ``curate stats`` and ``curate report``
on a shared data set. Installing the dependencies takes one to three minutes, so these tests
are marked ``packaging`` (and slow): ``make test`` leaves them out to stay within its time
budget, ``make test-packaging`` runs them, and CI (``.ci/run``) runs both.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import curate
from tests.conftest import dataset_path

pytestmark = [pytest.mark.slow, pytest.mark.packaging]

ROOT = Path(__file__).resolve().parents[1]
PIP_TIMEOUT = 1800  # generous: a busy machine, or a cold pip cache


def _run(cmd: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PYTHONNOUSERSITE"] = "1"
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def _ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, f"{proc.args}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from a copy of pyproject.toml, README.md and curate/."""
    work = tmp_path_factory.mktemp("build")
    src = work / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "curate", src / "curate",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    _ok(_run([sys.executable, "-m", "pip", "wheel", "--no-deps",
              "--wheel-dir", str(work / "dist"), str(src)], cwd=work))
    (found,) = (work / "dist").glob("curate-*.whl")
    return found


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean virtual environment with torch and the curate wheel (and nothing else of ours)."""
    home = tmp_path_factory.mktemp("venv")
    env_dir = home / "env"
    _ok(_run([sys.executable, "-m", "venv", str(env_dir)], cwd=home, timeout=300))
    py = env_dir / "bin" / "python"
    torch_version = importlib.metadata.version("torch")
    _ok(_run([str(py), "-m", "pip", "install", "--quiet", f"torch=={torch_version}"], cwd=home,
             timeout=PIP_TIMEOUT))
    _ok(_run([str(py), "-m", "pip", "install", "--quiet", str(wheel)], cwd=home,
             timeout=PIP_TIMEOUT))
    return env_dir


def test_wheel_metadata_has_spdx_license_and_core_matplotlib(wheel: Path) -> None:
    import zipfile

    with zipfile.ZipFile(wheel) as zf:
        (meta_name,) = [n for n in zf.namelist() if n.endswith(".dist-info/METADATA")]
        meta = zf.read(meta_name).decode()
        names = zf.namelist()
    assert f"Version: {curate.__version__}\n" in meta
    assert "License-Expression: Apache-2.0\n" in meta
    core = [line for line in meta.splitlines()
            if line.startswith("Requires-Dist:") and "extra ==" not in line]
    assert any(line.startswith("Requires-Dist: matplotlib") for line in core), core
    assert "curate/py.typed" in names
    assert "curate/report/_sections/plan.py" in names  # subpackages are shipped
    assert not any(n.startswith("tests/") for n in names)


def test_installed_wheel_runs_version(venv: Path, tmp_path: Path) -> None:
    out = _ok(_run([str(venv / "bin" / "curate"), "--version"], cwd=tmp_path))
    assert out.strip() == f"curate {curate.__version__}"
    where = _ok(_run([str(venv / "bin" / "python"), "-c",
                      "import curate; print(curate.__file__)"], cwd=tmp_path))
    assert Path(where.strip()).is_relative_to(venv)  # the installed copy, not the sources


@pytest.mark.datasets
def test_installed_wheel_runs_stats_and_report(venv: Path, tmp_path: Path) -> None:
    labels = dataset_path("mulan_emotions")
    frame = pd.read_parquet(labels)  # the oracle: rows and labels counted by pandas
    curate_bin = str(venv / "bin" / "curate")

    stats = json.loads(_ok(_run([curate_bin, "stats", "--json", str(labels)], cwd=tmp_path)))
    assert stats["n_samples"] == len(frame)
    assert stats["n_labels"] == int(frame["labels"].map(len).sum())
    assert stats["n_classes"] == len({c for row in frame["labels"] for c in row})

    page = tmp_path / "report.html"
    proc = _run([curate_bin, "report", str(labels), "--out", str(page)], cwd=tmp_path)
    _ok(proc)
    assert proc.stderr.strip() == ""
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert html.count('src="data:image/png;base64,') >= 4  # plots drawn: matplotlib is there

    data_path = tmp_path / "report.json"
    _ok(_run([curate_bin, "report", str(labels), "--out", str(data_path)], cwd=tmp_path))
    head = {h["key"]: h["value"] for h in json.loads(data_path.read_text())["headline"]}
    assert head["n_samples"] == len(frame)


def test_python_dash_m_curate_runs_the_command_line():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "curate", "--version"], capture_output=True,
                         text=True, check=True)
    assert out.stdout.startswith("curate ")
