"""The HTML reports in a real browser: headless Chromium loads them, dumps the DOM, screenshots.

Skipped (with the reason) when no Chromium is installed; ``make browser`` installs the Debian
package ``chromium``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import curate
from curate.balance import BalancePlan
from curate.report import dataset_report, evaluation_report

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser",
                                              "google-chrome")) if p), None)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0"]
BLUE = np.array([0x3B, 0x6E, 0xA8]) / 255  # bar colour of the plots
RED_BORDER = np.array([0xB3, 0x26, 0x1E]) / 255  # flagged verdict banner


def _chromium(tmp: Path, page: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    if CHROMIUM is None:
        pytest.skip("headless Chromium not installed (run `make browser` or "
                    "`apt-get install chromium`)")
    cmd = [CHROMIUM, *FLAGS, f"--user-data-dir={tmp / 'profile'}", *extra, page.as_uri()]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    errors = [line for line in out.stderr.splitlines()
              if "Uncaught" in line or ("CONSOLE" in line and "error" in line.lower())
              or "net::ERR_" in line]
    assert not errors, errors
    return out


def _screenshot(tmp: Path, page: Path) -> np.ndarray:
    mpimg = pytest.importorskip("matplotlib.image")
    shot = tmp / f"{page.stem}.png"
    _chromium(tmp, page, f"--screenshot={shot}", "--window-size=1280,2000")
    assert shot.is_file() and shot.stat().st_size > 0
    pixels = mpimg.imread(shot)[..., :3]
    assert pixels.shape[:2] == (2000, 1280)
    return pixels


def _near(pixels: np.ndarray, colour: np.ndarray, tol: float = 0.06) -> int:
    return int((np.abs(pixels - colour).max(axis=-1) < tol).sum())


@pytest.fixture(scope="module")
def dataset_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    table = curate.datasets.make_long_tailed(2000, 60, seed=0)
    x = np.random.default_rng(0).integers(0, 3, size=table.n_samples)
    plan = BalancePlan.from_multiplicity(table, x)
    path = tmp_path_factory.mktemp("report") / "dataset.html"
    dataset_report(table, plan, "inverse_sqrt", frontier=None).to_html(path)
    return path


@pytest.fixture(scope="module")
def evaluation_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(1)
    y = rng.choice(["bg", "a", "b", "c"], size=500, p=[0.9, 0.05, 0.03, 0.02])
    lazy = np.where(rng.random(500) < 0.95, "bg", y)
    good = np.where(rng.random(500) < 0.8, y, "bg")
    path = tmp_path_factory.mktemp("report") / "evaluation.html"
    evaluation_report(curate.evaluate(y, lazy, zero_division=0),
                      curate.evaluate(y, good, zero_division=0),
                      names=("unbalanced", "balanced")).to_html(path)
    return path


def test_dataset_report_dom_has_every_section(tmp_path, dataset_page):
    dom = _chromium(tmp_path, dataset_page, "--dump-dom").stdout
    ids = re.findall(r'<section id="([^"]+)"', dom)
    assert ids == ["headline", "advice", "distribution", "cumulative", "labels-per-sample",
                   "cooccurrence", "weights", "plan"]
    assert len(re.findall(r'<img [^>]*src="data:image/png;base64,', dom)) == 5


def test_dataset_report_screenshot_is_not_blank(tmp_path, dataset_page):
    pixels = _screenshot(tmp_path, dataset_page)
    assert pixels.std() > 0.05
    assert (pixels.min(axis=-1) < 0.9).mean() > 0.02  # more than a white page with a title
    assert _near(pixels, BLUE) > 5000  # the embedded plots were decoded and painted


def test_evaluation_report_in_browser(tmp_path, evaluation_page):
    dom = _chromium(tmp_path, evaluation_page, "--dump-dom").stdout
    assert re.findall(r'<section id="([^"]+)"', dom) == ["verdict", "summary", "per-class",
                                                         "comparison"]
    assert 'class="banner flagged"' in dom
    pixels = _screenshot(tmp_path, evaluation_page)
    assert pixels.std() > 0.05
    assert _near(pixels, RED_BORDER) > 500  # the flagged verdict banner is drawn
    assert _near(pixels, BLUE) > 2000
