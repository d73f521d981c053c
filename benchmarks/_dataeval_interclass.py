"""A faithful re-implementation of DataEval's ``ClassBalance(method="interclass")`` selection.

Written from the source of ``dataeval.selection._classbalance.ClassBalance`` (aria-ml/dataeval,
``_inter_balance`` and ``_calculate_selection_probability``, as published in 2025) with its
defaults ``num_samples=None``, ``num_empty=None``, ``minimize_duplicates=False``; no DataEval
code is imported or copied. What it does:

1. ``images_per_class``: for each class (in order of first appearance), the images holding
   it; ``classes_per_image``: each image's distinct classes in order of appearance (here: the
   column order of the table, since a ``LabelTable`` does not keep the within-image order).
2. The background class is dropped; ``N`` picks are spread over the ``K`` remaining classes:
   ``samples_per_class, leftover = divmod(N, K)``; ``leftover`` class *ids* are drawn with
   ``rng.permutation(class_keys)[:leftover]`` and a class at *position* ``i`` gets one extra
   pick when ``i`` is among those ids (DataEval compares the position with class ids; kept).
3. For each class in turn, every candidate image gets the score
   ``1 / (1 + num_repeats + 2 * wrong_labels)``, normalised to probabilities, and
   ``rng.choice(class_imgs, size=n, replace=len(class_imgs) < n, p=probs)`` picks the images.
   As in DataEval, ``num_repeats = np.nonzero(selection_so_far == idx)[0].sum()`` and
   ``wrong_labels = np.nonzero(classes_of_idx != cls)[0].sum()`` sum the *positions* of the
   matches rather than counting them (kept: it is what DataEval computes).
4. The selection is sorted; an image picked ``m`` times appears ``m`` times.

**Where it is quadratic.** Step 3 rebuilds an array from the whole selection so far and
scans it once *per candidate image of each class*: the work is
``Σ_k |images_k| · |selection before k|``, which grows as ``N² · (labels per image) / 2`` for a
fixed class count. Doubling ``N`` roughly quadruples the time.
"""

from __future__ import annotations

import numpy as np

from curate.labels import LabelTable

__all__ = ["interclass_multiplicity", "interclass_selection"]


def _label_structure(table: LabelTable) -> tuple[dict[int, list[int]], list[list[int]]]:
    pres = table.presence()
    classes_per_image = [
        pres.indices[pres.indptr[i]:pres.indptr[i + 1]].tolist() for i in range(table.n_samples)
    ]
    images_per_class: dict[int, list[int]] = {}
    for i, held in enumerate(classes_per_image):
        for k in held:
            images_per_class.setdefault(k, []).append(i)
    return images_per_class, classes_per_image


def _scores(
    imgs: list[int], cls: int, selection: list[int], per_image: list[list[int]]
) -> list[float]:
    out = []
    for idx in imgs:
        num_repeats = np.nonzero(np.asarray(selection) == idx)[0].sum()
        wrong_labels = np.nonzero(np.asarray(per_image[idx]) != cls)[0].sum()
        out.append(1 / (1 + num_repeats + 2 * wrong_labels))
    total = sum(out)
    return [s / total for s in out] if total > 0 else [1.0 / len(imgs)] * len(imgs)


def interclass_selection(table: LabelTable, *, seed: int = 0) -> list[int]:
    """Sorted list of selected image indices (with repeats), as DataEval's interclass method."""
    rng = np.random.default_rng(seed)
    images_per_class, per_image = _label_structure(table)
    background = table.background_index
    class_keys = [k for k in images_per_class if k != background]
    if not class_keys:
        return []
    per_class, leftover = divmod(table.n_samples, len(class_keys))
    extra = rng.permutation(class_keys)[:leftover].tolist()
    selection: list[int] = []
    for i, cls in enumerate(class_keys):
        imgs = images_per_class[cls]
        n = per_class + (1 if i in extra else 0)
        probs = _scores(imgs, cls, selection, per_image)
        picked = rng.choice(imgs, size=n, replace=len(imgs) < n, p=probs, shuffle=False)
        selection.extend(int(v) for v in picked)
    selection.sort()
    return selection


def interclass_multiplicity(table: LabelTable, *, seed: int = 0) -> np.ndarray:
    """Per-sample multiplicities of :func:`interclass_selection`."""
    sel = interclass_selection(table, seed=seed)
    return np.bincount(np.asarray(sel, dtype=np.int64), minlength=table.n_samples)
