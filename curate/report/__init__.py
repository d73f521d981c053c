"""Reports people would rather look at: EDA and evaluation as HTML (with plots), Markdown, JSON.

A report is first a plain JSON structure built from curate's results
(:func:`curate.imbalance_stats`, a :class:`curate.BalancePlan`, :func:`curate.class_weights`,
:func:`curate.evaluate`); HTML, Markdown and the plots are rendered from that structure only,
so they never disagree.

- :func:`dataset_report` — exploratory report of a label table (and a balancing plan);
- :func:`evaluation_report` — accuracy-paradox verdict and per-class metrics (and deltas);
- :class:`Report` — ``.data``, ``.to_json()``, ``.to_markdown()``, ``.to_html(plots=...)``.
"""

from __future__ import annotations

from curate.report._report import Report, dataset_report, evaluation_report

__all__ = ["Report", "dataset_report", "evaluation_report"]
