"""Smoke test: ``benchmarks/bench_rotation.py --quick`` runs and writes its table."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_rotation.py"


def test_quick_run_writes_results(tmp_path):
    out = tmp_path / "rotation.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--epochs", "4", "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    rows = json.loads(out.read_text())["tables"][0]["rows"]
    by_mode = {row[1]: row for row in rows}
    assert set(by_mode) == {"signature", "presence"}
    assert by_mode["signature"][4] == 0  # exact groups never drift
    assert by_mode["presence"][3] >= by_mode["signature"][3]  # presence sees at least as many
