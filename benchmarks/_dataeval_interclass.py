"""DataEval's ``ClassBalance(method="interclass")``: the real package when installed.

The benchmark compares curate with DataEval itself, not with a re-implementation. This module
hands a :class:`curate.LabelTable` to ``dataeval.data.ClassBalance`` as a MAITE
object-detection dataset holding only labels (DataEval reads nothing else) and returns its
selection. Class ids are given in order of first appearance (labels of a sample in column
order), background last, which is also the order :func:`curate.balance.baselines.class_quota`
fills classes in; with the same seed the two selections are identical (checked by
``tests/test_baselines.py`` against real DataEval on synthetic and shared-set subsets).

When DataEval is not importable, :func:`interclass_selection` falls back to ``class_quota``
and :data:`IMPLEMENTATION` says so; timings are then curate's, not DataEval's (DataEval
rescans the whole selection for every candidate: quadratic in ``N``).

DataEval installs without pulling a CUDA torch as
``pip install --no-deps dataeval pydantic pydantic-core typing-inspection annotated-types maite
polars polars-runtime-32 psutil`` (1.1.4; ``ClassBalance`` needs nothing else).

Run ``python benchmarks/_dataeval_interclass.py`` to print the ``minimize_duplicates``
comparison quoted in ``docs/baselines.md``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

from curate.labels import LabelTable

__all__ = ["IMPLEMENTATION", "interclass_multiplicity", "interclass_selection"]


def _dataeval_version() -> str | None:
    try:
        import dataeval
        from dataeval.data import ClassBalance  # noqa: F401
    except ImportError:
        return None
    return str(dataeval.__version__)


_VERSION = _dataeval_version()
#: What :func:`interclass_selection` runs: ``"dataeval <version>"`` or the fallback.
IMPLEMENTATION = (f"dataeval {_VERSION}" if _VERSION
                  else "curate class_quota (DataEval not installed)")


@dataclass
class _Target:
    boxes: np.ndarray
    labels: np.ndarray
    scores: np.ndarray


class _LabelsOnly:
    """A MAITE object-detection dataset: a 1x1 image and the sample's class ids."""

    def __init__(self, rows: list[list[int]]) -> None:
        self.rows = rows
        self.metadata = {"id": "curate"}

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> tuple[np.ndarray, _Target, dict[str, int]]:
        lab = np.asarray(self.rows[i], dtype=np.int64)
        target = _Target(np.zeros((len(lab), 4)), lab, np.ones(len(lab)))
        return np.zeros((1, 1, 1), dtype=np.uint8), target, {"id": i}


def _coded_rows(table: LabelTable) -> tuple[list[list[int]], int | None]:
    """Each sample's classes as ids in order of first appearance; background id last."""
    pres = table.presence()
    bg = table.background_index
    cols = [pres.indices[pres.indptr[i]:pres.indptr[i + 1]].tolist()
            for i in range(table.n_samples)]
    ids: dict[int, int] = {}
    for held in cols:
        for k in sorted(held):
            if k != bg and k not in ids:
                ids[k] = len(ids)
    if bg is not None:
        ids[bg] = len(ids)
    return [[ids[k] for k in sorted(held)] for held in cols], (None if bg is None else ids[bg])


def interclass_selection(table: LabelTable, *, seed: int = 0, **options: Any) -> list[int]:
    """Sorted selected sample indices (with repeats) of DataEval's interclass method.

    ``options`` go to ``ClassBalance`` (``num_samples``, ``minimize_duplicates``).
    """
    if _VERSION is None:
        from curate.balance.baselines import class_quota

        x = class_quota(table, seed=seed, **options).multiplicity
        return np.repeat(np.arange(table.n_samples), x).tolist()
    import dataeval.config as dc
    from dataeval.data import ClassBalance, View

    rows, bg = _coded_rows(table)
    with dc.use_seed(seed):
        op = ClassBalance("interclass", background_class=bg, **options)
    return [int(i) for i in View(_LabelsOnly(rows), [op]).selection]


def interclass_multiplicity(table: LabelTable, *, seed: int = 0, **options: Any) -> np.ndarray:
    """Per-sample multiplicities of :func:`interclass_selection`."""
    sel = np.asarray(interclass_selection(table, seed=seed, **options), dtype=np.int64)
    return np.bincount(sel, minlength=table.n_samples)


def _rare_rows(table: LabelTable, count: str) -> tuple[np.ndarray, list[np.ndarray]]:
    """Samples holding a rare class (total below the median), and each rare class's holders."""
    totals = (table.counts if count == "instances" else table.support).to_numpy()
    rare = np.flatnonzero(totals < np.median(totals))
    pres = table.presence().tocsc()
    holders = [pres.indices[pres.indptr[k]:pres.indptr[k + 1]] for k in rare]
    rows = np.zeros(table.n_samples, dtype=bool)
    for h in holders:
        rows[h] = True
    return rows, holders


def _minimize_duplicates_table(n: int = 2000, seed: int = 0) -> None:  # pragma: no cover
    """Print DataEval's and curate's ``minimize_duplicates`` on the first ``n`` VOC2007 images."""
    from pathlib import Path

    import pandas as pd

    import curate
    from curate.balance import plan_quality

    path = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "voc_detection"
    df = pd.read_parquet(path / "labels.parquet")
    rows = [list(r) for r in df[df["split"] == "voc2007_trainval"]["labels"].head(n)]
    table = curate.LabelTable.from_labels(rows)
    print(f"VOC2007 trainval, first {n} images, seed {seed}; {IMPLEMENTATION}")
    print("| method | count | duplicates | removals | rare images | kept (epoch 0) | kept in "
          "every epoch 0-4 | copy spread | cv (images) | cv (instances) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    plans: list[tuple[str, str, Any]] = []
    for md in (False, True):
        x = interclass_multiplicity(table, seed=seed, minimize_duplicates=md)
        plans.append((f"DataEval interclass, minimize_duplicates={md}", "samples",
                      curate.BalancePlan.from_multiplicity(table, x, count="samples")))
    for count in ("samples", "instances"):
        for md in (False, True):
            plan = curate.InterClassBalancer(count=count, minimize_duplicates=md,
                                             seed=seed).fit(table)
            plans.append((f"curate InterClassBalancer, minimize_duplicates={md}", count, plan))
    for name, count, plan in plans:
        rare, holders = _rare_rows(table, count)
        qs = plan_quality(plan, count="samples")
        qi = plan_quality(plan, count="instances")
        x0 = plan.multiplicity
        every = np.all([plan.draw(e)[rare] > 0 for e in range(5)], axis=0).mean()
        spread = max(int(x0[h].max() - x0[h].min()) for h in holders)
        print(f"| {name} | {count} | {qs['duplicates']} | {qs['removals']} | {int(rare.sum())} | "
              f"{(x0[rare] > 0).mean():.3f} | {every:.3f} | {spread} | {qs['cv']:.3f} | "
              f"{qi['cv']:.3f} |")
    print(f"| original | - | 0 | 0 | - | 1 | 1 | 0 | {qs['cv_before']:.3f} | "
          f"{qi['cv_before']:.3f} |")


if __name__ == "__main__":  # pragma: no cover
    _minimize_duplicates_table(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
