"""Highlight reels and editor timelines from an events file (`highlight cut`).

``selection`` picks and pads events into merged windows, ``reel`` cuts them with FFmpeg (``captions``
burns labels in), ``timelines`` writes EDL / SRT / YouTube and FFmpeg chapters, ``run`` ties a request
together; ``formats`` holds the option names. Events files are read through
``highlighter.outputs.events.load_events_document``.
"""


def __getattr__(name: str):
    """``cut_events`` and friends without importing FFmpeg helpers until they are used."""
    if name in ("cut_events", "plan_cut", "write_cut", "CutPlan", "CutResult", "output_format"):
        from highlighter.cut import run

        return getattr(run, name)
    raise AttributeError(name)
