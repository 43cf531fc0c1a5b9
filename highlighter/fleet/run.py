"""One fleet run: plan the inputs' outputs, skip the complete ones, hand the rest to the chosen engine, and
write and record each result as it arrives. Both engines end in the same writers, so their files agree."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from rich.progress import Progress

from highlighter.curves import expand_inputs
from highlighter.errors import failure_message
from highlighter.events import TagResult
from highlighter.fleet.jobs import Job, plan_jobs
from highlighter.fleet.manifest import Manifest
from highlighter.provenance import TrainedOn, warn_if_real_footage
from highlighter.settings import SmootherSettings, TagSettings, VideoSettings
from highlighter.weights import read_spec, resolve_checkpoint

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

    def __init__(self, settings: FleetSettings, manifest: Manifest | None, single: bool, report,
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


def tag_fleet(paths: list[Path], out: Path | None, settings: FleetSettings, scores: Path | None = None,
              plot: Path | None = None, report=None,
              on_result: Callable[[TagResult, Job], None] | None = None) -> FleetRun:
    """Tag ``paths`` on the engine ``settings.tag.engine`` names and write each input's files.

    With an output folder (``out`` a folder, or several inputs) the run is resumable: an input whose
    outputs all exist is skipped unless ``settings.tag.overwrite`` or it was decoded only in part (tagged again,
    as the file may be whole now), and ``OUT/manifest.jsonl`` records every input. ``report``
    (``highlighter.review.ReviewSettings``) also writes each input's review page.
    """
    jobs = plan_jobs(paths, out, settings.tag.format, scores, plot, report is not None)
    single = len(paths) == 1
    run = FleetRun()
    manifest = None
    if out is not None and (not single or out.is_dir()):
        out.mkdir(parents=True, exist_ok=True)
        manifest = Manifest(out, settings.tag.engine)
        run.manifest = manifest.path
    pending = []
    for job in jobs:
        if (manifest is not None and not settings.tag.overwrite and job.complete()
                and not manifest.was_partial(job.path)):
            manifest.skipped(job.path, job.outputs)
            run.skipped.append(job.path)
        else:
            pending.append(job)
    trained = None
    if pending and not settings.tag.zero_shot:  # a missing checkpoint fails the run at once, before PyTorch loads
        trained = read_spec(resolve_checkpoint(settings.tag.weights)).trained_on
    finisher = Finisher(settings, manifest, single, report, on_result, run)
    pending = [job for job in pending if _openable(job, finisher, trained)]
    if pending:
        if settings.tag.engine == "ray":
            from highlighter.fleet.ray_engine import run_ray as engine
        else:
            from highlighter.fleet.local import run_local as engine
        engine(pending, settings, finisher)
    return run


def _openable(job: Job, finisher: Finisher, trained: TrainedOn | None = None) -> bool:
    """Whether ``job``'s input opens as a video or a game folder (else it has failed, reported at once: before the
    model loads, so a mistyped path costs no wait); a warning where a checkpoint ``trained`` on synthetic games
    only is to tag real footage."""
    try:
        (_, videos), = expand_inputs([job.path])
        warn_if_real_footage(trained, job.path, list(videos.values()))
    except Exception as exc:
        finisher.failed(job, exc)
        return False
    return True
