"""Review pages: one self-contained HTML file per tagged input, with the match, the model, the score
curves, and a row per event with thumbnails from the sampler and a player that jumps to it.

Events files are read by ``highlighter.events`` (the one reader); ``source`` finds and checks the match
video, ``thumbnails`` decodes frames around events, ``curves`` reads and draws score curves,
``page`` renders the HTML (``template.html``), ``build`` puts them together.
"""

from highlighter.review.build import ReportResult, ReviewSettings, report_path, write_report

__all__ = ["ReportResult", "ReviewSettings", "report_path", "write_report"]
