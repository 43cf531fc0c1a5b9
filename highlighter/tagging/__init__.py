"""`highlight tag`: one input's videos scored and smoothed into a result (``tagger``), and batch runs of many
inputs on an engine (``batch``, ``engines``) whose results are written and recorded as they arrive."""
