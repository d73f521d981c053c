"""Helpers shared by the benchmark scripts: machine description, peak memory, JSON output.

Every script writes ``benchmarks/results/<name>.json`` with the shape::

    {"name": str, "command": str, "date": iso8601, "machine": {...},
     "tables": [{"title": str, "columns": [str, ...], "rows": [[...], ...], "notes": str}]}

``benchmarks/render_docs.py`` turns those files into ``docs/benchmarks.md``.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import resource
import sys
import tempfile
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def machine_info() -> dict[str, Any]:
    """CPU model, cores, RAM and library versions of the machine running the benchmark."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram_gb = round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    versions = {"python": platform.python_version()}
    for mod in ("numpy", "scipy", "pandas", "pyarrow", "torch", "pulp", "sklearn", "seqeval"):
        if mod in sys.modules:
            versions[mod] = getattr(sys.modules[mod], "__version__", "?")
    info = {"cpu": cpu, "cores": os.cpu_count(), "ram_gb": ram_gb, "versions": versions}
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_initialized():  # a GPU benchmark: name the GPU
        info["gpu"] = torch.cuda.get_device_name()
    return info


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (Linux ``ru_maxrss`` is KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_results(
    name: str,
    tables: list[dict[str, Any]],
    command: str | None = None,
    out: str | Path | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write the results JSON atomically and return its path."""
    path = Path(out) if out else RESULTS / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "name": name,
        "command": command or "python " + " ".join(sys.argv),
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "tables": tables,
        **(extra or {}),
    }
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.chmod(tmp, 0o644)
    with os.fdopen(fd, "w") as fh:
        json.dump(payload, fh, indent=2, default=float)
    os.replace(tmp, path)
    return path


def merge_tables(name: str, out: str | Path | None, new: list[dict[str, Any]],
                 sections: dict[str, str], redone: set[str] | list[str]) -> list[dict[str, Any]]:
    """The tables of results file ``name`` (or ``out``) with sections ``redone`` replaced by
    ``new``: a re-run of some parts keeps the other parts' tables from the previous run.

    ``sections`` maps the start of a table title to its section, in the order the tables go.
    """
    path = Path(out) if out else RESULTS / f"{name}.json"
    old = json.loads(path.read_text())["tables"] if path.is_file() else []

    def section(table: dict[str, Any]) -> str:
        return next((v for k, v in sections.items() if table["title"].startswith(k)), "")

    order = list(dict.fromkeys(sections.values()))
    kept = [t for t in old if section(t) not in redone]
    return sorted(kept + new, key=lambda t: order.index(section(t)) if section(t) in order
                  else len(order))


def print_table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    """Print one table as aligned plain text."""
    cells = [[f"{v:.4g}" if isinstance(v, float) else str(v) for v in row] for row in rows]
    widths = [
        max(len(c), *(len(r[i]) for r in cells)) if cells else len(c) for i, c in enumerate(columns)
    ]
    print(f"\n{title}")
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    for r in cells:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)))
