"""``LabelTable``: a dataset's labels as one sparse samples × classes count matrix.

Every feature of curate is a function of this matrix: statistics read it, weights come from
its column sums, the balancer picks a multiplicity per row and the sampler turns those into
indices.

The package is split along its seams: ``_table`` holds the class and its row operations,
``_constructors`` the ``from_*`` constructors, ``_parse`` the parsing of tags and label ids,
``_arrow`` the vectorised pandas / pyarrow path, ``_base`` the shared pieces.
"""

from __future__ import annotations

from curate.labels._base import Level
from curate.labels._table import LabelTable

__all__ = ["LabelTable", "Level"]
