"""YOLO label folder reader (``labels/*.txt`` with ``cls cx cy w h`` lines)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from curate.exceptions import CurateValueError
from curate.io._common import existing_path
from curate.labels import LabelTable

__all__ = ["read_yolo"]


def read_yolo(
    labels_dir: str | os.PathLike[str],
    *,
    names: Sequence[str] | dict[int, str] | None = None,
    data_yaml: str | os.PathLike[str] | None = None,
    background: str | None = None,
    split: str | None = None,
) -> LabelTable:
    """Read YOLO label files: one sample per ``.txt`` file, one instance per line.

    Each line is ``class_id cx cy w h`` (segmentation lines with more coordinates work too;
    only the first field is read). Empty files are images without objects.

    Parameters
    ----------
    labels_dir : str or path-like
        Folder of ``*.txt`` files, searched recursively (``labels/train/...``), or an
        ultralytics dataset root (``data.yaml`` beside ``images/`` and ``labels/``), or
        that ``data.yaml`` itself. When neither ``names`` nor ``data_yaml`` is given, a
        ``data.yaml`` in the root (or beside ``labels/``) names the classes, else a
        ``classes.txt`` in the folder (never a sample); when both exist they must agree.
        Files in hidden folders (``.ipynb_checkpoints``) are not samples; an image of the
        mirrored ``images/`` folder without a label file is an empty sample, as ultralytics
        trains on it (a background image).
    names : sequence of str or dict of {int: str}, default=None
        Class name of each id.
    data_yaml : str or path-like, default=None
        A YOLO ``data.yaml``; its ``names:`` entry (inline list ``[a, b]``, block list
        ``- a`` or mapping ``0: a``) gives the names. Parsed with PyYAML when it is
        installed, otherwise with a small built-in parser of those three forms.
    background : str, default=None
        Background class; must occur.
    split : str, default=None
        Read only ``labels/<split>/`` (``"train"``, ``"val"``); ``None`` reads every split.

    Returns
    -------
    LabelTable
        ``level="instance"``; columns in id order; ``sample_ids`` are the file paths
        relative to ``labels_dir`` without ``.txt``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> box = " 0.5 0.5 0.2 0.2\\n"
    >>> _ = (d / "img1.txt").write_text("0" + box + "1" + box + "0" + box)
    >>> _ = (d / "img2.txt").write_text("")
    >>> t = read_yolo(d, names=["person", "car"])
    >>> t.matrix.toarray().tolist(), t.sample_ids.tolist()
    ([[2, 1], [0, 0]], ['img1', 'img2'])
    """
    root, data_yaml = _layout(existing_path(labels_dir, "labels_dir"), names, data_yaml)
    if names is not None and data_yaml is not None:
        raise CurateValueError("pass either names or data_yaml, not both")
    if split is not None:
        root = _split_dir(root, split)
    # hidden files and folders (.ipynb_checkpoints, ._name forks) hold no samples
    files = sorted(f for f in root.rglob("*.txt") if f.name != "classes.txt"
                   and not any(part.startswith(".") for part in f.relative_to(root).parts))
    if names is None and data_yaml is None and (root / "classes.txt").is_file():
        names = _classes_txt(root / "classes.txt")
    if data_yaml is not None:
        names = read_yaml_names(existing_path(data_yaml, "data_yaml", kind="file"))
    if names is None:
        raise CurateValueError(
            "read_yolo needs the class names: pass names=[...] or data_yaml='data.yaml' "
            "(--names a,b,c or --data-yaml data.yaml)"
        )
    id2name = _id2name(names)
    if not id2name:
        raise CurateValueError(
            "the class names are empty (names=[], an empty classes.txt or 'names:' entry); "
            "list one name per class id"
        )
    # every sample: its label file, or an image of the mirrored images/ folder without one
    # (ultralytics trains on those as background images: no objects)
    samples: dict[Path, Path | None] = {f.relative_to(root).with_suffix(""): f for f in files}
    for image in _images_without_labels(root, samples):
        samples[image] = None
    if not samples:
        raise CurateValueError(
            f"labels_dir {str(root)!r} holds no .txt label files (0 samples)"
        )
    rows, cols = [], []
    ids = sorted(id2name)
    col_of = {k: j for j, k in enumerate(ids)}
    order = sorted(samples)
    for r, key in enumerate(order):
        f = samples[key]
        if f is None:
            continue
        found = _class_columns(f, root, col_of, str(f.relative_to(root)), "names")
        rows.extend([r] * len(found))
        cols.extend(found)
    m = sp.csr_matrix((np.ones(len(rows), dtype=np.int64), (rows, cols)),
                      shape=(len(order), len(ids)))
    sample_ids = [str(key) for key in order]
    table = LabelTable(m, [id2name[k] for k in ids], sample_ids=sample_ids,
                       background=background, level="instance")
    table._check_background_occurs()
    return table


def _layout(path: Path, names: Any, data_yaml: Any) -> tuple[Path, Any]:
    """``(labels folder, data.yaml)`` of a labels folder, a dataset root or a data.yaml."""
    if path.is_file():
        if path.suffix.lower() not in (".yaml", ".yml"):
            raise CurateValueError(f"{path.name} is a file; pass the YOLO labels folder, the "
                                   "dataset root or its data.yaml")
        data_yaml = path if data_yaml is None and names is None else data_yaml
        path = path.parent
    root = path / "labels" if (path / "labels").is_dir() else path
    if data_yaml is None and names is None:
        found = next((c for c in (path / "data.yaml", path / "data.yml",
                                  root.parent / "data.yaml") if c.is_file()), None)
        txt = root / "classes.txt"
        if found is not None and txt.is_file():
            # two sources of the class names: they must agree, or every id may be misnamed
            in_txt = _classes_txt(txt)
            in_yaml = [v for _, v in sorted(_id2name(read_yaml_names(found)).items())]
            if in_txt != in_yaml:
                raise CurateValueError(
                    f"{txt} names the classes {in_txt[:10]} but {found} names them "
                    f"{in_yaml[:10]}; pass the one the labels were written with "
                    "(data_yaml= / --data-yaml, or names=[...] / --names)")
        if found is not None:
            data_yaml = found  # ultralytics reads data.yaml
    return root, data_yaml


#: image suffixes ultralytics trains on (its IMG_FORMATS)
_IMAGE_SUFFIXES = {".bmp", ".dng", ".jpeg", ".jpg", ".mpo", ".png", ".tif", ".tiff", ".webp",
                   ".pfm", ".heic"}


def _images_without_labels(root: Path, labelled: dict[Path, Any]) -> list[Path]:
    """Images (relative, without suffix) of the ``images/`` folder that mirrors ``root``
    (ultralytics maps ``.../images/x.jpg`` to ``.../labels/x.txt``) that have no label file;
    none when ``root`` is not under a ``labels`` folder or no such images folder exists."""
    parts = root.parts
    if "labels" not in parts:
        return []
    i = len(parts) - 1 - parts[::-1].index("labels")
    images = Path(*parts[:i], "images", *parts[i + 1:])
    if not images.is_dir():
        return []
    out = []
    for f in images.rglob("*"):
        rel = f.relative_to(images)
        if (f.suffix.lower() in _IMAGE_SUFFIXES and f.is_file()
                and not any(part.startswith(".") for part in rel.parts)
                and rel.with_suffix("") not in labelled):
            out.append(rel.with_suffix(""))
    return out


def _classes_txt(path: Path) -> list[str]:
    """The names in a ``classes.txt``, one per line (a BOM from Notepad dropped)."""
    text = path.read_text(encoding="utf-8-sig")
    return [ln.strip() for ln in text.split("\n") if ln.strip()]


def _split_dir(root: Path, split: str) -> Path:
    sub = root / split
    if not sub.is_dir():
        found = sorted(d.name for d in root.iterdir() if d.is_dir())
        raise CurateValueError(
            f"split {split!r} has no folder {str(sub)!r}; pass one of {found} or no split")
    return sub


def _class_columns(path: Path, root: Path, col_of: dict[int, int], shown: str,
                   names: str) -> list[int]:
    """Table columns of the objects in one label file; an id missing from ``col_of`` raises
    (``shown`` names the file, ``names`` where the class names came from)."""
    out = []
    for cid in _class_ids(path, root):
        if cid not in col_of:
            ids = sorted(col_of)
            raise CurateValueError(
                f"{shown} has class id {cid}, not in {names} (ids {ids[0]}..{ids[-1]}); fix "
                "the label or add the name"
            )
        out.append(col_of[cid])
    return out


def _class_ids(path: Path, root: Path) -> list[int]:
    out = []
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CurateValueError(f"{path.relative_to(root)} is not a UTF-8 text label file "
                               f"({exc.reason}); remove it or re-save it") from exc
    for n, line in enumerate(text.splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        try:
            cid = int(parts[0])
        except ValueError as exc:
            raise CurateValueError(
                f"{path.relative_to(root)}:{n} starts with {parts[0]!r}, not an integer class "
                "id; lines must read 'class_id cx cy w h'"
            ) from exc
        if len(parts) < 5:
            raise CurateValueError(
                f"{path.relative_to(root)}:{n} has {len(parts)} fields; lines must read "
                "'class_id cx cy w h'"
            )
        out.append(cid)
    return out


def _id2name(names: Sequence[str] | dict[Any, str]) -> dict[int, str]:
    if isinstance(names, dict):
        try:
            return {int(k): str(v) for k, v in names.items()}
        except (TypeError, ValueError) as exc:
            raise CurateValueError(f"names has a non-integer key; got {list(names)}") from exc
    if isinstance(names, str):
        raise CurateValueError("names must be a list of class names, not one string")
    return {i: str(v) for i, v in enumerate(names)}


def read_yaml_names(path: Path) -> list[str] | dict[int, str]:
    """Return the ``names`` entry of a YOLO ``data.yaml`` (PyYAML, as ultralytics reads it)."""
    import yaml

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise CurateValueError(f"{path.name} is not UTF-8 text ({exc.reason}); re-save it "
                               "as UTF-8") from exc
    except yaml.YAMLError as exc:
        raise CurateValueError(f"{path.name} is not valid YAML ({exc})") from exc
    names = doc.get("names") if isinstance(doc, dict) else None
    if not names or not isinstance(names, list | dict):
        raise CurateValueError(
            f"{path.name} has no 'names:' list or mapping; add the class names to it"
        )
    return names
