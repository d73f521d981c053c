"""Readers that turn label files into a :class:`~curate.LabelTable`, and streaming counts.

=================  =========================================================
``read_labels``    one dispatcher: picks the reader from ``format`` or the path
``read_column``    one column of labels or predictions (parquet/CSV/JSONL/CoNLL)
``infer_format``   the one format table: a path's format from its suffix or content
``read_coco``      COCO instances JSON (images without annotations = empty samples)
``read_voc``       folder of PASCAL VOC annotation XMLs (``ImageSets/Main`` splits)
``read_yolo``      YOLO ``labels/*.txt`` + class names, ``data.yaml`` (ultralytics)
``read_cvat``      CVAT for-images export (``annotations.xml``)
``read_conll``     CoNLL / BIO token-tag columns (``read_conll_sentences`` for raw columns)
``read_table``     parquet / CSV / JSONL column of labels or label lists
``count_labels``   per-class counts of a parquet dataset larger than memory
=================  =========================================================
"""

from __future__ import annotations

from curate.io._coco import read_coco
from curate.io._conll import read_conll, read_conll_sentences
from curate.io._cvat import read_cvat
from curate.io._formats import FORMATS, infer_format, read_column
from curate.io._read import read_labels
from curate.io._stream import count_labels
from curate.io._tabular import read_table
from curate.io._voc import read_voc
from curate.io._yolo import read_yolo

__all__ = [
    "FORMATS",
    "count_labels",
    "infer_format",
    "read_coco",
    "read_column",
    "read_conll",
    "read_conll_sentences",
    "read_cvat",
    "read_labels",
    "read_table",
    "read_voc",
    "read_yolo",
]
