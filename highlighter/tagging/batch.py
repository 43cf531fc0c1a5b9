"""A batch run of `highlight tag`: plan the inputs' outputs, skip the complete ones, hand the rest to the chosen
engine (``local``: one process, input after input; ``ray``: decoding tasks and scoring actors on a Ray cluster),
which reports each result to the finisher that writes and records it."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from highlighter.inputs import expand_inputs
from highlighter.model.checkpoint import read_spec, resolve_checkpoint
from highlighter.provenance import TrainedOn, warn_if_real_footage
from highlighter.outputs.result import TagResult
from highlighter.review.build import ReviewSettings
from highlighter.tagging.finisher import Finisher, FleetRun, FleetSettings
from highlighter.tagging.jobs import Job, plan_jobs
from highlighter.tagging.manifest import Manifest


def tag_fleet(paths: list[Path], out: Path | None, settings: FleetSettings, scores: Path | None = None,
              plot: Path | None = None, report: ReviewSettings | None = None,
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
            from highlighter.tagging.engines.ray_engine import run_ray as engine
        else:
            from highlighter.tagging.engines.local import run_local as engine
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
