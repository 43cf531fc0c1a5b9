"""Review pages: one self-contained HTML file per tagged input, with the match, the model, the score
curves, and a row per event with thumbnails from the sampler and a player that jumps to it.

Events files are read by ``highlighter.outputs.events`` (the one reader) and the match video is found by
``highlighter.inputs``; ``thumbnails`` decodes frames around events, ``curves`` draws score curves, ``page``
renders the HTML (``template.html``), ``build`` puts them together.
"""

from highlighter.review.build import ReportResult, ReviewSettings, report_path, write_report

__all__ = ["ReportResult", "ReviewSettings", "report_path", "write_report"]
