"""CVAT "for images 1.1" export reader (``annotations.xml``)."""

from __future__ import annotations

import os
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from curate.exceptions import CurateValueError
from curate.io._common import existing_path
from curate.labels import LabelTable

__all__ = ["read_cvat"]

#: annotation elements of an <image> that carry a ``label`` attribute
_SHAPES = ("box", "polygon", "polyline", "points", "mask", "ellipse", "cuboid", "skeleton", "tag")


def read_cvat(
    path: str | os.PathLike[str],
    *,
    classes: Sequence[str] | None = None,
    background: str | None = None,
) -> LabelTable:
    """Read a CVAT for-images export: one sample per ``<image>``, one instance per shape.

    Parameters
    ----------
    path : str or path-like
        The ``annotations.xml`` file, or the export folder holding it.
    classes : sequence of str, default=None
        Column order; ``None`` uses the labels declared in ``<meta>`` (in their order,
        declared but unused ones included; labels used but not declared follow, sorted, with
        a warning), else the sorted labels seen.
    background : str, default=None
        Background class; must occur.

    Returns
    -------
    LabelTable
        ``level="instance"``; ``sample_ids`` are the image names.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "annotations.xml").write_text(
    ...     "<annotations><image id='0' name='a.jpg'><box label='cat'/><box label='cat'/>"
    ...     "</image><image id='1' name='b.jpg'/></annotations>")
    >>> t = read_cvat(d)
    >>> t.counts.to_dict(), t.sample_ids.tolist()
    ({'cat': 2}, ['a.jpg', 'b.jpg'])
    """
    p = existing_path(path, "path")
    if p.is_dir():
        p = p / "annotations.xml"
        if not p.is_file():
            raise CurateValueError(
                f"folder {str(p.parent)!r} has no annotations.xml; pass a CVAT for-images "
                "export (for VOC XML folders use format='voc')")
    root = _parse(p)
    images = root.findall("image")
    if not images:
        kind = "a video/track export" if root.find("track") is not None else "no <image> entries"
        raise CurateValueError(
            f"{p.name} holds {kind} (0 samples); export the task as 'CVAT for images 1.1'")
    # names stripped as the declared ones are: 'cat ' on a shape is the declared <name>cat</name>
    labels = [[str(el.get("label")).strip() for el in img
               if el.tag in _SHAPES and str(el.get("label") or "").strip()] for img in images]
    if classes is None:
        declared = [str(n.findtext("name")).strip() for n in root.iterfind("meta//labels/label")
                    if n.findtext("name")]
        seen = {lab for row in labels for lab in row}
        if declared:
            extra = sorted(seen - set(declared))
            if extra:  # a hand-edited or merged export: keep the declared ids, add the rest
                warnings.warn(
                    f"{p.name}: shapes use labels {extra} that <meta> does not declare; they "
                    "are appended after the declared classes (pass classes= to choose the "
                    "order)", UserWarning, stacklevel=2)
            classes = list(dict.fromkeys(declared)) + extra
    ids = [str(img.get("name") or img.get("id") or i) for i, img in enumerate(images)]
    return LabelTable.from_labels(labels, classes=classes, sample_ids=ids, background=background,
                                  level="instance")


def _parse(p: Path) -> ET.Element:
    try:
        root = ET.parse(p).getroot()
    except ET.ParseError as exc:
        raise CurateValueError(f"{p.name} is not valid XML ({exc}); fix or re-export it"
                               ) from exc
    if root.tag != "annotations":
        raise CurateValueError(
            f"{p.name} has root <{root.tag}>, not a CVAT <annotations> export; for PASCAL VOC "
            "files pass their folder with format='voc'")
    return root
