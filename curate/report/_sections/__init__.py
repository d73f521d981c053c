"""Report sections: one module per section, each with ``build`` (results -> JSON) and ``layout``.

``build`` turns curate's result objects into the plain JSON part of the report; ``layout``
turns that part, and nothing else, into a section of already formatted blocks that both the
HTML and the Markdown renderer draw (see :mod:`curate.report._sections._blocks`).

================  ===========================================  ==============================
module            JSON keys                                    layout section ids
================  ===========================================  ==============================
``headline``      headline, advice                             headline, advice
``classes``       classes, cumulative                          distribution, cumulative
``samples``       labels_per_sample, classes_per_sample        labels-per-sample
``cooccurrence``  cooccurrence                                 cooccurrence
``weights``       weights                                      weights
``plan``          plan (with plan.epoch_stats when available)  plan
``frontier``      frontier                                     frontier
``evaluation``    runs, verdict, comparison                    verdict, summary, per-class,
                                                               comparison
================  ===========================================  ==============================
"""
