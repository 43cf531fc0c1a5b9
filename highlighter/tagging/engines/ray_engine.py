"""The Ray engine: tagging many inputs on a Ray cluster (or a Ray instance on this machine) with Ray Data.

What runs where: the driver (the `highlight tag` process) plans the inputs, reads the model's name, digest and image
size from the checkpoint's metadata (it never loads PyTorch, so Ray and the actors start sooner), and at the end
smooths each input's score curves and writes its files with the same code as the local engine. Each video (a game's
half is one) is decoded and sampled by one Ray task on ``tag.decode_cpus`` CPUs (one by default), which streams its
frame batches out as it goes; the batches are scored by a pool of actors that each load the model once (one per GPU
with a GPU each, else ``tag.workers`` actors on ``tag.worker_cpus`` CPUs each). Ray Data's streaming executor keeps
every stage a few blocks ahead at most (a decoding task pauses while its output waits), so memory stays bounded
however many inputs there are. A task whose worker process dies is run again (Ray Data retries its tasks on such
system failures; decoder crashes never get that far, the sampler decodes in a child process of its own) and a lost
actor is restarted; the driver drops the batches it already has, so each frame counts once.

Frame batches travel as raw bytes with their row count (no tensor extension types), and every model call
sees the same batch as in the local engine, so the scores, and the files, are the same.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from highlighter.audio.fusion import Fusion, load_fusion
from highlighter.tagging.assemble import fuse_curves, read_cues, tag_result
from highlighter.outputs.scores import ScoreCurves
from highlighter.inputs import expand_inputs
from highlighter.errors import HighlighterError
from highlighter.config.settings import TagSettings
from highlighter.model.checkpoint import checkpoint_info, is_hub_name, read_spec, resolve_checkpoint
from highlighter.outputs.events import VideoSpan
from highlighter.spotting.head import SpottingHead, load_spotting_head
from highlighter.tagging.engines.ray_decode import decode_video

if TYPE_CHECKING:
    from highlighter.tagging.jobs import Job
    from highlighter.tagging.finisher import Finisher, FleetSettings

RAY_MISSING = "--engine ray needs Ray: pip install 'highlighter[ray]' (or pip install 'ray[data]>=2.40')"
#: frame batches a decoding task holds at most (the sampler's read-ahead and the stream's buffer)
DECODE_BATCHES_HELD = 4


def import_ray() -> Any:
    """The ``ray`` module with Ray Data, or a one-line error saying how to install it."""
    try:
        import ray
        import ray.data  # noqa: F401  (the extra, not only ray's core)
    except ImportError:
        raise HighlighterError(RAY_MISSING) from None
    return ray


class ScoreBatches:
    """A Ray Data actor: loads the model once, then turns frame rows into probability rows."""

    def __init__(self, settings: TagSettings, threads: int | None, features: bool = False) -> None:
        from highlighter.tagging.tagger import load_scorer

        # threads: the CPUs Ray gave this actor, not every core of the machine
        self.scorer, _ = load_scorer(settings, threads, features)
        self.size = self.scorer.image_size

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        scored = []
        for rows, images in zip(batch["rows"], batch["images"]):
            frames = np.frombuffer(images, np.uint8).reshape(int(rows), self.size, self.size, 3).copy()
            probabilities = self.scorer(frames) if rows else np.zeros((0, self.scorer.width), np.float32)
            scored.append(probabilities.astype(np.float32).tobytes())
        return {**{k: v for k, v in batch.items() if k != "images"}, "probabilities": np.array(scored, dtype=object)}


class Collector:
    """Gathers the scored rows of every input on the driver (in any order, repeats dropped) and finishes an
    input once all batches of all its videos are in."""

    def __init__(self, jobs: list[Job], halves: dict[int, dict[int | None, Path]], classes: list[str],
                 model_info: dict, settings: FleetSettings, finisher: Finisher, fusion: Fusion | None,
                 head: SpottingHead | None = None, width: int | None = None) -> None:
        self.jobs, self.halves, self.classes, self.model_info = jobs, halves, classes, model_info
        self.settings, self.finisher, self.fusion, self.head = settings, finisher, fusion, head
        self.width = width or len(classes)  # columns of a scored row: the classes, then any embedding
        self.batches: dict[tuple[int, int], dict[int, tuple[np.ndarray, np.ndarray]]] = defaultdict(dict)
        self.ends: dict[tuple[int, int], dict] = {}
        self.finished: set[int] = set()

    def add(self, row: dict[str, Any]) -> None:
        """Take one scored row; finish its input when it was the last one missing."""
        key, half = int(row["key"]), int(row["half"])
        if key in self.finished:
            return
        if row["error"]:
            self.finished.add(key)
            self.finisher.failed(self.jobs[key], str(row["error"]))
            return
        if row["first_index"] < 0:
            self.ends[key, half] = json.loads(row["info"])
        else:
            times = np.frombuffer(row["times"], np.float64)
            probabilities = np.frombuffer(row["probabilities"], np.float32).reshape(len(times), self.width)
            self.batches[key, half][int(row["first_index"])] = times, probabilities
        if all((key, h or 0) in self.ends and len(self.batches[key, h or 0]) == self.ends[key, h or 0]["batches"]
               for h in self.halves[key]):
            self._finish(key)

    def _finish(self, key: int) -> None:
        self.finished.add(key)
        curves, jumps = [], []
        for half in self.halves[key]:
            batches = self.batches.pop((key, half or 0))
            parts = [batches[first] for first in sorted(batches)]
            curves.append((half, ScoreCurves.from_rows(self.classes, np.concatenate([t for t, _ in parts]),
                                                       np.concatenate([p for _, p in parts]))))
            jumps += [{"half": half, **jump} for jump in self.ends[key, half or 0]["jumps"]]
        ends = [self.ends[key, half or 0] for half in self.halves[key]]
        if self.fusion is not None:  # the crowd cue, on the driver as the local engine does it (its pass is cheap)
            videos = self.halves[key]
            try:
                fused = fuse_curves(self.fusion, self.settings.tag.audio, videos, dict(curves),
                                    read_cues(self.fusion, videos))
            except Exception as exc:  # --audio on without audio fails this input alone
                self.finisher.failed(self.jobs[key], exc)
                return
            curves = list(fused.items())
        source = expand_inputs([self.jobs[key].path])[0][0]
        spans = [VideoSpan(half, end["decoded_s"], end["declared_s"], end["partial"], end["stream"])
                 for half, end in zip(self.halves[key], ends)]
        result = tag_result(source, curves, spans, jumps, self.settings.video.fps,
                            self.model_info, self.settings.smoother, max(e["wall_s"] for e in ends), self.head)
        self.finisher.done(self.jobs[key], result)

    def unfinished(self) -> list[int]:
        """The inputs that never completed."""
        return [key for key in self.halves if key not in self.finished]


def for_workers(tag: TagSettings) -> TagSettings:
    """``tag`` as the scoring actors need it: a checkpoint folder given relative to the driver's working
    folder made absolute (a hub name stays a name: each node reads its own hub cache)."""
    if tag.zero_shot or is_hub_name(tag.weights):
        return tag
    return dataclasses.replace(tag, weights=os.path.abspath(tag.weights))


def model_summary(tag: TagSettings) -> tuple[int, list[str], dict]:
    """The model's input size, classes and ``model`` block of the events JSON, as the driver needs them: from
    the checkpoint's metadata, without PyTorch (the scoring actors load the model itself). A zero-shot model
    is built here once, as only open_clip knows its size."""
    if tag.zero_shot:
        from highlighter.tagging.tagger import load_classifier

        classifier, model_info = load_classifier(tag)
        return classifier.spec.image_size, list(classifier.spec.classes), model_info
    folder = resolve_checkpoint(tag.weights)
    spec = read_spec(folder)
    return spec.image_size, list(spec.classes), checkpoint_info(tag.weights, folder)


def run_ray(jobs: list[Job], settings: FleetSettings, finisher: Finisher) -> None:
    """Tag ``jobs`` on Ray: this machine (``tag.address`` None, unless Ray is already initialised in this
    process) or the cluster at ``tag.address`` (``auto`` or ``HOST:PORT``)."""
    ray = import_ray()
    tag = settings.tag
    if not ray.is_initialized():
        ray.init(address=tag.address, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    size, classes, model_info = model_summary(tag)
    head = load_spotting_head(tag, settings.video)  # NumPy on the driver, like the smoother
    halves: dict[int, dict[int | None, Path]] = {}
    for key, job in enumerate(jobs):
        try:
            halves[key] = expand_inputs([job.path])[0][1]
        except Exception as exc:  # a folder without half videos fails alone
            finisher.failed(job, exc)
    # Ray's workers do not share the driver's working folder: they get absolute paths
    parts = [{"key": key, "half": half or 0, "path": os.path.abspath(video)} for key, videos in halves.items()
             for half, video in videos.items()]
    if not parts:
        return
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = context.print_on_execution_start = False  # highlighter shows its own
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    batch_bytes = tag.batch_size * size * size * 3
    context.target_max_block_size = max(batch_bytes, 1 << 20)  # a block: about one batch
    cluster = ray.cluster_resources()
    gpus = int(cluster.get("GPU", 0))
    workers = tag.workers or max(gpus, 1)
    if tag.decode_cpus <= 0 or (not gpus and tag.worker_cpus <= 0):
        raise HighlighterError("--decode-cpus and --worker-cpus must be positive")
    if not gpus and workers * tag.worker_cpus > cluster.get("CPU", 0) - tag.decode_cpus:
        raise HighlighterError(f"{workers} scoring workers of {tag.worker_cpus:g} CPUs each leave too few of the "
                               f"{cluster.get('CPU', 0):g} CPUs for a decoding task of {tag.decode_cpus:g}: lower "
                               "--workers, --worker-cpus or --decode-cpus")
    resources = dict(num_gpus=1) if gpus else dict(num_cpus=tag.worker_cpus)
    threads = None if gpus else max(1, round(tag.worker_cpus))
    stream = (ray.data.from_items(parts, override_num_blocks=len(parts))
              # a decoding task holds a few batches (its reservation also keeps decoding a stage of its own,
              # not fused into the scoring actors, where decoding and scoring would take turns)
              .map_batches(decode_video, batch_size=1, num_cpus=tag.decode_cpus,
                           memory=DECODE_BATCHES_HELD * batch_bytes, fn_kwargs=dict(video=settings.video, size=size, batch_size=tag.batch_size))
              .map_batches(ScoreBatches, batch_size=1, compute=ray.data.ActorPoolStrategy(size=workers),
                           fn_constructor_kwargs=dict(settings=for_workers(tag), threads=threads,
                                                      features=head is not None), **resources))
    fusion = None if head is not None else load_fusion(tag)
    width = len(classes) + (read_spec(resolve_checkpoint(tag.weights)).model_config["embed_dim"] if head else 0)
    collector = Collector(jobs, halves, classes, model_info, settings, finisher, fusion, head, width)
    progress = settings.progress
    task = progress.add_task(f"tag {len(halves)} inputs on Ray", total=len(halves)) if progress else None
    try:
        for row in stream.iter_rows():
            collector.add(row)
            if task is not None:
                progress.update(task, completed=len(collector.finished))
    except ray.exceptions.RayError as exc:  # e.g. every scoring actor failing to start: one line, not Ray's trace
        cause = next((line for line in str(exc).splitlines()[::-1] if line.strip() and not line.startswith(" ")),
                     type(exc).__name__)
        raise HighlighterError(f"the Ray run stopped: {cause.strip()[:300]}") from None
    for key in collector.unfinished():
        finisher.failed(jobs[key], f"{jobs[key].path}: Ray returned only part of its frames")
