"""Beyond one machine: the label pass on a distributed engine (Ray Data; optional extra).

=====================  ===========================================================
``label_pass``         per-class counts and label-signature totals of a parquet
                       dataset, one partition per task, reduced by signature key
``LabelPass``          its result: classes, counts, signature vectors, sizes, first rows
``partitions``         row-group partitions of a parquet dataset (footer metadata only)
``update_partition``   the pure per-partition step (what each worker runs)
``reduce_partials``    the reduction (sum of sizes, min of first rows per signature)
=====================  ===========================================================

``import curate.engine`` does not import Ray; ``label_pass(engine="ray")`` does, and says
how to install it (``pip install 'curate[engine]'``) when it is missing.
"""

from __future__ import annotations

from curate.engine._labels import (
    LabelPass,
    Partition,
    partitions,
    reduce_partials,
    signature_key,
    update_partition,
)
from curate.engine._run import label_pass

__all__ = [
    "LabelPass",
    "Partition",
    "label_pass",
    "partitions",
    "reduce_partials",
    "signature_key",
    "update_partition",
]
