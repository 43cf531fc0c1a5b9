"""The local engine: one process tags the inputs one after another (each input's decoding overlaps its
scoring in the sampler's background thread)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from highlighter.tagging import Tagger, expand_inputs

if TYPE_CHECKING:
    from highlighter.fleet.jobs import Job
    from highlighter.fleet.run import Finisher, FleetSettings


def run_local(jobs: list[Job], settings: FleetSettings, finisher: Finisher) -> None:
    """Tag ``jobs`` in this process with one model, reporting each result or failure to ``finisher``."""
    tagger = Tagger.from_settings(settings.video, settings.smoother, settings.tag, settings.progress)
    for job in jobs:
        try:
            source, halves = expand_inputs([job.path])[0]
            result = tagger.tag(source, halves)
        except Exception as exc:  # one bad input must not end a batch
            finisher.failed(job, exc)
            continue
        finisher.done(job, result)
