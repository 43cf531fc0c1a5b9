"""The end of every engine's work on an input: its result written into its files and recorded in the manifest,
or its failure recorded, as the engine reports it. Both engines end here, so their files agree."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from rich.progress import Progress

from highlighter.config.settings import SmootherSettings, TagSettings, VideoSettings
from highlighter.errors import failure_message
from highlighter.outputs.result import TagResult
from highlighter.review.build import ReviewSettings
from highlighter.tagging.jobs import Job
from highlighter.tagging.manifest import Manifest

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FleetSettings:
    """What every engine needs: the ``video``, ``smoother`` and ``tag`` settings and the progress display."""

    video: VideoSettings
    smoother: SmootherSettings
    tag: TagSettings
    progress: Progress | None = None


@dataclass
class FleetRun:
    """What a run did with its inputs."""

    done: list[Path] = field(default_factory=list)  # tagged, whole or in part
    skipped: list[Path] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # one line per failed input
    partial: list[str] = field(default_factory=list)  # one line per input decoded only in part
    manifest: Path | None = None


class Finisher:
    """Writes and records each input's result (or failure) as an engine reports it. With a single input
    and no output folder a failure is raised as it is; otherwise it is logged and the others go on."""

    def __init__(self, settings: FleetSettings, manifest: Manifest | None, single: bool,
                 report: ReviewSettings | None,
                 on_result: Callable[[TagResult, Job], None] | None, run: FleetRun) -> None:
        self.settings, self.manifest, self.single, self.report = settings, manifest, single, report
        self.on_result, self.run = on_result, run

    def done(self, job: Job, result: TagResult) -> None:
        """Write ``result`` into ``job``'s files and record it (a failing write fails the input)."""
        try:
            job.write(result, self.settings.tag.format, self.report, self.settings.progress)
        except Exception as exc:  # an unwritable output fails this input only
            self.failed(job, exc)
            return
        if self.manifest is not None:
            self.manifest.done(job.path, job.outputs, result)
        self.run.done.append(job.path)
        self.run.partial += [f"{job.path}: {span.partial}" for span in result.partial]
        if self.on_result is not None:
            self.on_result(result, job)

    def failed(self, job: Job, error: Exception | str) -> None:
        """Record that ``job`` failed (an exception, or the one-line message a remote worker sent)."""
        if self.single and self.manifest is None and isinstance(error, Exception):
            raise error
        message = error if isinstance(error, str) else failure_message(job.path, error)
        log.error("%s", message)
        if self.manifest is not None:
            self.manifest.failed(job.path, job.outputs, message)
        self.run.failed.append(message)
