"""Small helpers shared by the readers."""

from __future__ import annotations

import os
from pathlib import Path

from curate.exceptions import CurateValueError


def existing_path(path: str | os.PathLike[str], field: str, *, kind: str = "any") -> Path:
    """Return ``path`` as a Path, or raise FileNotFoundError / CurateValueError naming it."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{field} {str(p)!r} does not exist; check the path")
    if kind == "file" and not p.is_file():
        raise CurateValueError(f"{field} {str(p)!r} is a folder; pass a file")
    if kind == "dir" and not p.is_dir():
        raise CurateValueError(f"{field} {str(p)!r} is a file; pass a folder")
    return p


def schema_hint(p: Path) -> str:
    """The likely cause of a failed read of a parquet folder, for the error message."""
    if p.is_dir():
        return ("; every file of a parquet folder must hold its columns with the same types: "
                "rewrite the files that differ")
    return ""
