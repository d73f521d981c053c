"""Smoke test: ``bench_balancer.py --quick`` runs and writes its JSON, so it cannot rot."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "bench_balancer.py"


def test_quick_run_writes_results(tmp_path):
    out = tmp_path / "balancer.json"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--time-limit", "5", "--out", str(out)],
        capture_output=True, text=True, cwd=tmp_path, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads(out.read_text())
    assert data["name"] == "balancer" and data["machine"]["cores"]
    titles = [t["title"] for t in data["tables"]]
    assert any(t.startswith("Scale") for t in titles)
    assert any(t.startswith("DataEval") for t in titles)
    for table in data["tables"]:
        assert table["rows"] and all(len(r) == len(table["columns"]) for r in table["rows"])
    assert {"scale", "dataeval"} <= set(data["records"])
    assert not list(tmp_path.glob("*.tmp"))
    # re-measuring one part keeps the others' tables and records from the previous file
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--skip", "quality,epochs,dataeval", "--out",
         str(out)], capture_output=True, text=True, cwd=tmp_path, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    again = json.loads(out.read_text())
    assert [t["title"] for t in again["tables"]] == titles
    kept = [t for t in again["tables"] if not t["title"].startswith("Scale")]
    assert kept == [t for t in data["tables"] if not t["title"].startswith("Scale")]
    assert again["records"]["dataeval"] == data["records"]["dataeval"]


def test_dataeval_reimplementation_picks_per_class():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from _dataeval_interclass import interclass_selection

    import curate

    t = curate.LabelTable.from_array(["a"] * 12 + ["b"] * 3 + ["c"] * 6)
    sel = interclass_selection(t, seed=0)
    assert len(sel) == t.n_samples and sel == sorted(sel)
    codes = [t.classes.index(c) for c in ["a"] * 12 + ["b"] * 3 + ["c"] * 6]
    per_class = [sum(codes[i] == k for i in sel) for k in range(3)]
    assert per_class == [7, 7, 7]  # 21 picks spread over 3 classes
