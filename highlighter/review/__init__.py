"""Review pages: one self-contained HTML file per tagged input, with the match, the model, the score
curves, and a row per event with thumbnails from the sampler and a player that jumps to it.

``events`` reads events files (the one reader ``highlighter.cut`` uses too), ``source`` finds and checks
the match video, ``thumbnails`` decodes frames around events, ``curves`` reads and draws score curves,
``page`` renders the HTML (``template.html``), ``build`` puts them together.
"""

from highlighter.review.build import ReportResult, ReportSettings, report_path, write_report
from highlighter.review.events import EventsDocument, document_from_dict, load_events_document

__all__ = ["EventsDocument", "ReportResult", "ReportSettings", "document_from_dict", "load_events_document",
           "report_path", "write_report"]
