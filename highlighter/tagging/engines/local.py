"""The local engine: one process tags the inputs one after another (each input's decoding overlaps its
scoring in the sampler's background thread, and the first input starts decoding while the model loads)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from highlighter.inputs import expand_inputs
from highlighter.config.settings import TagSettings, VideoSettings
from highlighter.video import FrameSampler, decode_together
from highlighter.model.checkpoint import checkpoint_image_size, resolve_checkpoint

if TYPE_CHECKING:
    from highlighter.tagging.jobs import Job
    from highlighter.tagging.finisher import Finisher, FleetSettings


def start_decoding(path: Path, video: VideoSettings, tag: TagSettings) -> dict[int | None, FrameSampler] | None:
    """The samplers of the videos of input ``path`` (a video or a game folder), decoding already (the first half, or
    both where halves decode together) before PyTorch and the model load (about 4 s on 2 cores). None where that
    cannot be done ahead (a zero-shot model, whose input size only open_clip knows, or any problem with the input,
    which tagging reports as usual)."""
    if tag.zero_shot:
        return None
    try:
        size = checkpoint_image_size(resolve_checkpoint(tag.weights))
        if size is None:
            return None
        samplers = {half: FrameSampler.from_settings(file, video, size, tag.batch_size)
                    for half, file in expand_inputs([path])[0][1].items()}
    except Exception:  # tagging the input reports it, with the usual message
        return None
    first, *others = samplers.values()
    for sampler in [first, *others] if decode_together(len(samplers)) else [first]:
        sampler.start()
    return samplers


def run_local(jobs: list[Job], settings: FleetSettings, finisher: Finisher) -> None:
    """Tag ``jobs`` in this process with one model, reporting each result or failure to ``finisher``."""
    ahead = start_decoding(jobs[0].path, settings.video, settings.tag) if jobs else None
    try:
        from highlighter.tagging.tagger import Tagger

        tagger = Tagger.from_settings(settings.video, settings.smoother, settings.tag, settings.progress)
    except BaseException:
        for sampler in (ahead or {}).values():
            sampler.close()
        raise
    for number, job in enumerate(jobs):
        try:
            source, halves = expand_inputs([job.path])[0]
            result = tagger.tag(source, halves, samplers=ahead if number == 0 else None)
        except Exception as exc:  # one bad input must not end a batch
            finisher.failed(job, exc)
            continue
        finisher.done(job, result)
