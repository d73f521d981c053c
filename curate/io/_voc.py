"""PASCAL VOC annotation XML reader."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from curate.exceptions import CurateValueError
from curate.io._common import existing_path
from curate.labels import LabelTable

__all__ = ["read_voc"]

VOC_CLASSES = (
    "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
    "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa",
    "train", "tvmonitor",
)


def read_voc(
    folder: str | os.PathLike[str],
    *,
    difficult: bool = False,
    classes: Sequence[str] | None = None,
    background: str | None = None,
    split: str | None = None,
) -> LabelTable:
    """Read a folder of PASCAL VOC annotation XMLs: one sample per file, one instance per object.

    Parameters
    ----------
    folder : str or path-like
        Folder holding ``*.xml`` files, or a VOC root holding ``Annotations/``.
    difficult : bool, default=False
        Whether objects marked ``<difficult>1</difficult>`` count (VOC's evaluation
        ignores them, hence the default).
    classes : sequence of str, default=None
        Column order; ``None`` uses the sorted object names seen (pass
        ``curate.io._voc.VOC_CLASSES`` for the 20 standard classes in VOC order).
    background : str, default=None
        Background class; must occur.
    split : str, default=None
        Read only the images listed in ``ImageSets/Main/<split>.txt`` of the VOC root
        (``"train"``, ``"val"``, ``"trainval"``), in the list's order. ``None`` reads
        every XML. macOS resource forks (``._name.xml``) are always skipped.

    Returns
    -------
    LabelTable
        ``level="instance"``; ``sample_ids`` are the file names without ``.xml``, sorted
        (or in the split list's order).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "000001.xml").write_text(
    ...     "<annotation><object><name>dog</name></object>"
    ...     "<object><name>person</name><difficult>1</difficult></object></annotation>")
    >>> read_voc(d).counts.to_dict(), read_voc(d, difficult=True).counts.to_dict()
    ({'dog': 1}, {'dog': 1, 'person': 1})
    """
    voc_root = root = existing_path(folder, "folder", kind="dir")
    if (root / "Annotations").is_dir():
        root = root / "Annotations"
    else:
        voc_root = root.parent
    files = sorted(f for f in root.iterdir()  # .xml in any case: ".XML" files are samples too
                   if f.suffix.lower() == ".xml" and f.is_file() and not f.name.startswith("._"))
    if split is not None:
        files = _split_files(voc_root, root, split)
    if not files:
        raise CurateValueError(
            f"folder {str(root)!r} holds no .xml files (0 samples); pass the VOC Annotations folder"
        )
    labels = [_objects(f, difficult) for f in files]
    return LabelTable.from_labels(labels, classes=classes, sample_ids=[f.stem for f in files],
                                  background=background, level="instance")


def _split_files(voc_root: Path, annotations: Path, split: str) -> list[Path]:
    listing = voc_root / "ImageSets" / "Main" / f"{split}.txt"
    if not listing.is_file():
        found = sorted(f.stem for f in listing.parent.glob("*.txt") if "_" not in f.stem) \
            if listing.parent.is_dir() else []
        raise CurateValueError(
            f"split {split!r} has no list {str(listing)!r}; pass one of {found} or no split"
            if found else f"split {split!r}: {str(listing.parent)!r} holds no split lists; "
            "pass the VOC root (holding Annotations/ and ImageSets/) or no split")
    text = listing.read_text(encoding="utf-8-sig")
    ids = [ln.split()[0] for ln in text.split("\n") if ln.split()]
    files = [annotations / f"{i}.xml" for i in ids]
    missing = [f.name for f in files if not f.is_file()]
    if missing:
        raise CurateValueError(
            f"{listing.name} lists {len(missing)} image(s) without an annotation file "
            f"(first: {missing[0]}); fix the list or add the XML files")
    return files


def _objects(path: Path, difficult: bool) -> list[str]:
    try:
        tree = ET.parse(path)
    except ET.ParseError as exc:
        raise CurateValueError(f"{path.name} is not valid XML ({exc}); fix or remove the file"
                               ) from exc
    if tree.getroot().tag != "annotation":
        hint = ("a CVAT export: read it with format='cvat'" if tree.getroot().tag ==
                "annotations" else "not a PASCAL VOC <annotation> file; remove it")
        raise CurateValueError(f"{path.name} has root <{tree.getroot().tag}>: {hint}")
    names = []
    for k, obj in enumerate(tree.getroot().iter("object")):
        name = obj.findtext("name")
        if name is None or not name.strip():
            raise CurateValueError(
                f"{path.name}: object {k} has no <name>; every object needs a class name"
            )
        flag = (obj.findtext("difficult") or "0").strip()
        if flag not in ("0", "1"):
            raise CurateValueError(
                f"{path.name}: object {k} has <difficult>{flag}</difficult>; use 0 or 1"
            )
        if flag == "1" and not difficult:
            continue
        names.append(name.strip())
    return names

