"""COCO instances JSON reader."""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np
import scipy.sparse as sp

from curate._validation import StrEnum
from curate.exceptions import CurateValueError
from curate.io._common import existing_path
from curate.labels import LabelTable

__all__ = ["read_coco"]


class _Crowd(StrEnum):
    INCLUDE = "include"
    EXCLUDE = "exclude"
    ONLY = "only"


def read_coco(
    path: str | os.PathLike[str],
    *,
    iscrowd: str = "include",
    background: str | None = None,
) -> LabelTable:
    """Read a COCO ``instances_*.json`` file: one sample per image, instances per category.

    Parameters
    ----------
    path : str or path-like
        The annotation JSON (keys ``images``, ``annotations``, ``categories``).
    iscrowd : {"include", "exclude", "only"}, default="include"
        Which annotations count: all of them, only ``iscrowd == 0``, or only crowd regions.
        A missing ``iscrowd`` key reads as 0.
    background : str, default=None
        Name of a background category, if the file has one; it must occur.

    Returns
    -------
    LabelTable
        ``level="instance"``; rows follow ``images`` (images without annotations are empty
        samples), columns follow ``categories`` sorted by id (named by ``name``);
        ``sample_ids`` are the image ids.

    Examples
    --------
    >>> import json, tempfile, os
    >>> doc = {"images": [{"id": 1}, {"id": 2}],
    ...        "categories": [{"id": 1, "name": "person"}, {"id": 3, "name": "car"}],
    ...        "annotations": [{"image_id": 1, "category_id": 1},
    ...                        {"image_id": 1, "category_id": 3, "iscrowd": 1}]}
    >>> d = tempfile.mkdtemp(); p = os.path.join(d, "instances.json")
    >>> with open(p, "w") as f:
    ...     json.dump(doc, f)
    >>> t = read_coco(p)
    >>> t.classes, t.matrix.toarray().tolist()
    (('person', 'car'), [[1, 1], [0, 0]])
    >>> read_coco(p, iscrowd="exclude").counts.to_dict()
    {'person': 1, 'car': 0}
    """
    crowd = _Crowd.from_str(iscrowd, "iscrowd", "read_coco")
    p = existing_path(path, "path", kind="file")
    try:
        doc = json.loads(p.read_text(encoding="utf-8-sig"))  # a BOM is not JSON
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CurateValueError(f"{p} is not valid JSON ({exc}); pass a COCO instances file"
                               ) from exc
    if not isinstance(doc, dict):
        raise CurateValueError(f"{p} holds a JSON {type(doc).__name__}, not a COCO object")
    images = _section(doc, "images", p)
    cats = _section(doc, "categories", p)
    anns = doc.get("annotations", [])
    if not isinstance(anns, list):
        raise CurateValueError(
            f"{p} has 'annotations': {type(anns).__name__ if anns is not None else 'null'}, "
            "not a list; give the objects as a list ([] for images without objects)"
        )
    if not images:
        raise CurateValueError(f"{p} has no images (0 samples); pass a non-empty dataset")
    image_ids = [_key(img, "id", f"images[{i}]") for i, img in enumerate(images)]
    _check_unique(image_ids, "images", "id", p)
    cat_ids = [_key(c, "id", f"categories[{i}]") for i, c in enumerate(cats)]
    kinds = {type(v) for v in cat_ids}
    if len(kinds) > 1 or kinds & {bool, float, type(None), list, dict}:
        i, v = next((i, v) for i, v in enumerate(cat_ids)
                    if type(v) is not int or len(kinds) == 1)
        raise CurateValueError(
            f"categories[{i}] has id {v!r} ({type(v).__name__}); COCO category ids are "
            "integers, all of one type: fix the id in the categories list"
        )
    cat_pairs = sorted((cid, str(_key(c, "name", f"categories[{i}]")))
                       for i, (cid, c) in enumerate(zip(cat_ids, cats, strict=True)))
    _check_unique([c for c, _ in cat_pairs], "categories", "id", p)
    row_of = {v: i for i, v in enumerate(image_ids)}
    col_of = {cid: j for j, (cid, _) in enumerate(cat_pairs)}
    rows, cols = _annotation_cells(anns, row_of, col_of, crowd)
    m = sp.csr_matrix((np.ones(len(rows), dtype=np.int64), (rows, cols)),
                      shape=(len(image_ids), len(cat_pairs)))
    table = LabelTable(m, [n for _, n in cat_pairs], sample_ids=np.asarray(image_ids),
                       background=background, level="instance")
    table._check_background_occurs()
    return table


def _check_unique(ids: list[Any], section: str, key: str, p: Any) -> None:
    seen: set[Any] = set()
    for i, v in enumerate(ids):
        if v in seen:
            raise CurateValueError(
                f"{section}[{i}] repeats {key} {v!r} in {p.name}; every entry of {section!r} "
                "needs its own id (merge or renumber the duplicates)")
        seen.add(v)


def _section(doc: dict[str, Any], key: str, p: Any) -> list[Any]:
    if key not in doc or not isinstance(doc[key], list):
        raise CurateValueError(
            f"{p} has no {key!r} list; a COCO instances file needs 'images', 'categories' "
            "and 'annotations'"
        )
    return list(doc[key])


def _key(obj: Any, key: str, where: str) -> Any:
    if not isinstance(obj, dict) or key not in obj:
        raise CurateValueError(f"{where} has no {key!r} field; every entry needs one")
    return obj[key]


def _is_crowd(value: Any, i: int) -> bool:
    """COCO's 0/1 ``iscrowd``; ``"0"`` is 0 (``bool("0")`` would make it a crowd)."""
    if isinstance(value, bool) or value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip() in ("0", "1"):
        return value.strip() == "1"
    raise CurateValueError(
        f"annotations[{i}] has iscrowd {value!r}; COCO's iscrowd is 0 or 1: fix the annotation"
    )


def _annotation_cells(anns: list[Any], row_of: dict[Any, int], col_of: dict[Any, int],
                      crowd: _Crowd) -> tuple[list[int], list[int]]:
    rows, cols = [], []
    for i, ann in enumerate(anns):
        is_crowd = _is_crowd(ann.get("iscrowd", 0), i) if isinstance(ann, dict) else False
        if (crowd is _Crowd.EXCLUDE and is_crowd) or (crowd is _Crowd.ONLY and not is_crowd):
            continue
        img, cat = _key(ann, "image_id", f"annotations[{i}]"), _key(
            ann, "category_id", f"annotations[{i}]")
        if img not in row_of:
            raise CurateValueError(
                f"annotations[{i}] has image_id {img!r}, not an id in 'images'; "
                "fix the annotation or add the image"
            )
        if cat not in col_of:
            raise CurateValueError(
                f"annotations[{i}] has category_id {cat!r}, not an id in "
                f"categories={sorted(col_of)}; fix the annotation or add the category"
            )
        rows.append(row_of[img])
        cols.append(col_of[cat])
    return rows, cols
