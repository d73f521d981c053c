"""Render ``docs/benchmarks.md`` from ``benchmarks/results/*.json`` — and from nothing else.

Every number on the page is read from a results file; the page describes the machine each
file recorded, the command that made each table and its date. Files follow the shape written
by ``benchmarks/_common.py::write_results``::

    {"name", "command", "date", "machine": {...}, "description": str | [str, ...],
     "tables": [{"title", "columns", "rows", "notes"}], "links": [{"title", "path"}]}

(``description`` and ``links`` are optional.)

Anything else (another shape, a broken file) is rendered as a generic key/value table or a
one-line note: the renderer never crashes on a results file.

Usage::

    python benchmarks/render_docs.py [--results DIR] [--out docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# Sections in this order, then any other results file by name, then the training experiment
# and its follow-ups (train_effect_*).
ORDER = ("bench_counting", "counting", "bench_losses", "losses", "losses_gpu",
         "bench_balancer", "balancer",
         "bench_sampler", "sampler", "bench_metrics", "metrics",
         "bench_report", "report")
LAST = "train_effect"
MACHINE_KEYS = ("cpu", "cores", "ram_gb", "gpu", "device", "versions")


def fmt(value: Any) -> str:
    """One table cell: 4 significant digits for floats, '—' for missing, pipes escaped."""
    if value is None:
        text = "—"
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, float):
        if math.isnan(value):
            text = "nan"
        elif math.isinf(value):
            text = "∞" if value > 0 else "-∞"
        elif value != 0 and (abs(value) >= 1e6 or abs(value) < 1e-3):
            text = f"{value:.3g}"
        elif abs(value) >= 1000:
            text = f"{value:,.0f}"
        else:
            text = f"{value:.4g}"
    elif isinstance(value, int):
        text = f"{value:,}" if abs(value) >= 10_000 else str(value)
    elif isinstance(value, dict):
        text = ", ".join(f"{k}={fmt(v)}" for k, v in value.items())
    elif isinstance(value, list | tuple):
        text = ", ".join(fmt(v) for v in value)
    else:
        text = str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(columns: list[Any], rows: list[Any]) -> str:
    """A GitHub-flavoured Markdown table; short rows are padded, long ones keep extra cells."""
    width = max([len(columns), *(len(r) for r in rows if isinstance(r, list | tuple))])
    cols = [fmt(c) for c in columns] + [""] * (width - len(columns))
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * width]
    for row in rows:
        cells = list(row) if isinstance(row, list | tuple) else [row]
        cells = [fmt(v) for v in cells] + [""] * (width - len(cells))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def describe_hardware(machine: Any) -> str:
    """CPU, cores, RAM and GPU of a recorded machine (no library versions)."""
    if not isinstance(machine, dict) or not machine:
        return "machine not recorded"
    parts = []
    if machine.get("cpu"):
        parts.append(str(machine["cpu"]))
    if machine.get("cores"):
        parts.append(f"{machine['cores']} cores")
    if machine.get("ram_gb"):
        parts.append(f"{machine['ram_gb']} GB RAM")
    for key in ("gpu", "device"):
        if machine.get(key):
            parts.append(f"{key} {machine[key]}")
    extra = {k: v for k, v in machine.items() if k not in MACHINE_KEYS}
    if extra:
        parts.append(fmt(extra))
    return "; ".join(parts) or "machine not recorded"


def describe_versions(machine: Any) -> str:
    """``python 3.11.7, numpy 2.4.6, ...`` as recorded (empty when missing)."""
    versions = machine.get("versions") if isinstance(machine, dict) else None
    if not isinstance(versions, dict):
        return ""
    return ", ".join(f"{k} {v}" for k, v in versions.items())


def describe_machine(machine: Any) -> str:
    """Hardware and library versions in one line."""
    versions = describe_versions(machine)
    hardware = describe_hardware(machine)
    return f"{hardware}; {versions}" if versions else hardware


def _is_table(t: Any) -> bool:
    return isinstance(t, dict) and isinstance(t.get("columns"), list) and isinstance(
        t.get("rows"), list)


def _section_tables(data: dict[str, Any]) -> list[str]:
    out = []
    tables = data.get("tables")
    if isinstance(tables, list) and tables and all(_is_table(t) for t in tables):
        for t in tables:
            if t.get("title"):
                out.append(f"### {fmt(t['title'])}\n")
            out.append(markdown_table(t["columns"], t["rows"]) + "\n")
            if t.get("notes"):
                out.append(f"{t['notes']}\n")
        return out
    # Unknown shape: every top-level key with a compact value.
    skip = {"name", "command", "date", "machine", "links", "description"}
    rows = [[k, _compact(v)] for k, v in data.items() if k not in skip]
    out.append("Results file in an unrecognised shape; its top-level keys:\n")
    out.append(markdown_table(["key", "value"], rows) + "\n")
    return out


def _description(text: Any) -> list[str]:
    """Optional prose: a string is one paragraph, a list of strings a bullet list."""
    if isinstance(text, str) and text.strip():
        return [text.strip() + "\n"]
    if isinstance(text, list) and text:
        return ["\n".join(f"- {fmt(item)}" for item in text) + "\n"]
    return []


def _compact(value: Any, limit: int = 200) -> str:
    if isinstance(value, dict | list):
        text = json.dumps(value, default=str)
        return text if len(text) <= limit else text[: limit - 1] + "…"
    return fmt(value)


def _links(data: dict[str, Any], out_dir: Path) -> list[str]:
    links = data.get("links")
    if not isinstance(links, list):
        return []
    lines = []
    for link in links:
        if not isinstance(link, dict) or "path" not in link:
            continue
        target = Path(str(link["path"]))
        if not target.is_absolute():
            target = ROOT / target
        rel = os.path.relpath(target, out_dir)
        lines.append(f"- [{link.get('title', target.name)}]({rel})")
    return ["\n".join(lines) + "\n"] if lines else []


def render_section(path: Path, out_dir: Path, shared_machine: str | None) -> str:
    """Markdown for one results file (never raises)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"## {path.stem}\n\nCould not read `{path.name}`: {exc}\n"
    if not isinstance(data, dict):
        return (f"## {path.stem}\n\n`{path.name}` holds a {type(data).__name__}, "
                "not a results object.\n")
    try:
        parts = [f"## {fmt(data.get('name', path.stem))}\n"]
        meta = []
        if data.get("command"):
            meta.append(f"Command: `{data['command']}`")
        if data.get("date"):
            meta.append(f"Date: {data['date']}")
        hardware = describe_hardware(data.get("machine"))
        if hardware != shared_machine:
            meta.append(f"Machine: {hardware}")
        versions = describe_versions(data.get("machine"))
        if versions:
            meta.append(f"Versions: {versions}")
        if meta:
            parts.append("  \n".join(meta) + "\n")
        parts.extend(_description(data.get("description")))
        parts.extend(_section_tables(data))
        parts.extend(_links(data, out_dir))
        return "\n".join(parts)
    except Exception as exc:  # a malformed file must not stop the page
        return f"## {path.stem}\n\nCould not render `{path.name}`: {type(exc).__name__}: {exc}\n"


def _sort_key(path: Path) -> tuple[int, str]:
    stem = path.stem
    if stem == LAST or stem.startswith(LAST + "_"):
        return (len(ORDER) + 1, stem)
    return (ORDER.index(stem), stem) if stem in ORDER else (len(ORDER), stem)


def render(results: Path, out: Path) -> str:
    """The whole page for every ``*.json`` in ``results``."""
    files = sorted(results.glob("*.json"), key=_sort_key) if results.is_dir() else []
    machines = []
    for f in files:
        try:
            data = json.loads(f.read_text(encoding="utf-8"))
            machines.append(describe_hardware(data.get("machine")) if isinstance(data, dict)
                            else None)
        except (OSError, ValueError):
            machines.append(None)
    known = {m for m in machines if m and m != "machine not recorded"}
    shared = known.pop() if len(known) == 1 else None
    head = [
        "# Benchmarks\n",
        "<!-- Generated by benchmarks/render_docs.py from benchmarks/results/*.json; "
        "do not edit by hand. Reproduce with `make bench`. -->\n",
        "Every number below is read from the results files that `make bench` "
        "(`python benchmarks/run_all.py`) writes; each section gives the command that made "
        "it and when.\n",
    ]
    if shared:
        head.append(f"**Machine** (every section): {shared}. Library versions are listed per "
                    "section, as each script recorded them.\n")
    elif known:
        head.append("The sections were measured on different machines; each names its own.\n")
    if not files:
        head.append(f"No results yet: no `*.json` in `{results}`. Run `make bench`.\n")
    body = [render_section(f, out.parent, shared) for f in files]
    return "\n".join(head + body).rstrip() + "\n"


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(tmp, 0o644)  # mkstemp creates 0600; the page is a normal readable file
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=HERE / "results",
                        help="folder of results JSON files (default: benchmarks/results)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md",
                        help="Markdown file to write (default: docs/benchmarks.md)")
    args = parser.parse_args(argv)
    write_atomic(args.out, render(args.results, args.out))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
