"""Beyond one machine: the label pass, the plan and its partitioned manifest on Ray Data.

=====================  ===========================================================
``label_pass``         per-class counts and label-signature totals of a parquet
                       dataset, one partition per task, reduced by signature key
``LabelPass``          its result: classes, counts, signature vectors, sizes, first rows,
                       and per-partition signature counts
``fit_plan``           solve ``InterClassBalancer`` on the signature totals
``GroupPlan``          the resulting plan per group (no per-row array) and its draws
``write_manifest``     the plan as one part file per partition (row, group, member rank)
``Manifest``           a loaded, verified partitioned manifest: per-partition draws
``ManifestSampler``    map-style DDP sampler: each rank draws and reads only its share
``partitions``         row-group partitions of a parquet dataset (footer metadata only)
``run_partitions``     run a task per partition, in-process or as Ray Data tasks
``update_partition``   the pure per-partition step of the label pass
``reduce_partials``    the reduction (sum of sizes, min of first rows per signature)
=====================  ===========================================================

``import curate.engine`` does not import Ray; ``engine="ray"`` does, and says how to install
it (``pip install 'curate[engine]'``) when it is missing; nor torch, until
``ManifestSampler`` is used. ``curate.ray.balance`` turns a
manifest into a Ray Dataset whose rows are repeated or dropped per epoch.
"""

from __future__ import annotations

from typing import Any

from curate.engine._labels import (
    LabelPass,
    Partition,
    partitions,
    reduce_partials,
    signature_key,
    update_partition,
)
from curate.engine._manifest import Manifest, repeat_rows, write_manifest
from curate.engine._plan import GroupPlan, fit_plan
from curate.engine._run import label_pass, run_partitions

__all__ = [
    "GroupPlan",
    "LabelPass",
    "Manifest",
    "ManifestSampler",
    "Partition",
    "fit_plan",
    "label_pass",
    "partitions",
    "reduce_partials",
    "repeat_rows",
    "run_partitions",
    "signature_key",
    "update_partition",
    "write_manifest",
]


def __getattr__(name: str) -> Any:
    if name == "ManifestSampler":  # imports torch: only when asked for
        from curate.engine._sampler import ManifestSampler

        return ManifestSampler
    raise AttributeError(f"module 'curate.engine' has no attribute {name!r}")
