"""Training frames from SoccerNet-v2 game folders (half videos + Labels-v2.json), through the sampler.

Frames within a window around an event of a mapped class get that event's label; frames at least
``background_gap_s`` away from every such event are background (a seeded sample of them); frames in
between are ambiguous and left out. The kept frames are cached on disk (keyed by the video file and
every setting), so later epochs and later runs do not decode again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from rich.progress import Progress

from highlighter.atomic import atomic_write
from highlighter.soccernet.records import FrameRecord
from highlighter.labels import BACKGROUND, LabelMap
from highlighter.progress import Tracker
from highlighter.config.settings import TrainSettings, VideoSettings
from highlighter.soccernet.files import LABELS_FILE, read_labels
from highlighter.soccernet.games import half_videos
from highlighter.video import FrameSampler

@dataclass(frozen=True)
class VideoFrameSettings:
    """How frames are drawn from half videos (from the training and video settings: see frame_settings)."""

    fps: float
    size: int  # stored square size (the model's input size)
    window: tuple[float, float]  # seconds around an event that take its label
    background_gap_s: float
    background_per_event: float  # background frames kept per event frame in a half
    decoder: str
    sampling: str  # exact, or keyframes
    stall_timeout_s: float  # how long the decoder may deliver nothing (does not change the frames)
    seed: int

    def cache_key(self) -> dict:
        """The settings that decide which frames are drawn (the stall timeout does not)."""
        return {name: value for name, value in asdict(self).items() if name != "stall_timeout_s"}


#: frames per decoded batch while drawing training frames (memory only: the frames are the same at any size)
DECODE_BATCH = 64


def frame_settings(training: TrainSettings | dict, video: VideoSettings | dict, size: int) -> VideoFrameSettings:
    """The frame-drawing settings of a run (its settings, or as saved in a checkpoint's JSON)."""
    train = training if isinstance(training, dict) else asdict(training)
    sampling = video if isinstance(video, dict) else asdict(video)
    return VideoFrameSettings(fps=train["frame_fps"] or sampling["fps"], size=size, window=tuple(train["event_window"]),
                              background_gap_s=train["background_gap_s"],
                              background_per_event=train["background_per_event"], decoder=sampling["decoder"],
                              sampling=sampling["sampling"], stall_timeout_s=sampling["stall_timeout_s"],
                              seed=train["seed"])


def read_v2_game(folder: Path, game: str, label_map: LabelMap, settings: VideoFrameSettings, cache_dir: Path,
                 progress: Progress | None = None) -> list[FrameRecord]:
    """Records for the event and background frames of both halves (decoding only on a cache miss)."""
    spots = read_labels(folder / LABELS_FILE)
    records = []
    for half, video in half_videos(folder).items():
        events = sorted((s.position_ms / 1000, s.label) for s in spots
                        if s.half == half and _mapped(label_map, s.label))
        store = _cached_half(video, events, settings, cache_dir, progress)
        meta = json.loads(store.with_suffix(".json").read_text())
        for row, (label, time_s) in enumerate(zip(meta["labels"], meta["times"])):
            source = "v2-background" if label == BACKGROUND else "v2-event"
            records.append(FrameRecord(game, label, source, str(store), row, time_s, half))
    return records


def _mapped(label_map: LabelMap, label: str) -> bool:
    try:
        return label_map.class_of(label) is not None
    except KeyError:
        return False  # unknown labels are counted and reported by the caller


def label_for_time(time_s: float, events: list[tuple[float, str]], settings: VideoFrameSettings) -> str | None:
    """The event label, ``background``, or None (ambiguous) for a frame at ``time_s``."""
    if not events:
        return BACKGROUND
    distances = [time_s - event_time for event_time, _ in events]
    inside = [(abs(d), label) for d, (_, label) in zip(distances, events) if settings.window[0] <= d <= settings.window[1]]
    if inside:
        return min(inside)[1]
    if min(abs(d) for d in distances) >= settings.background_gap_s:
        return BACKGROUND
    return None


def background_seed(video: Path, events: list[tuple[float, str]]) -> tuple[int, ...]:
    """What draws a half's background frames besides the run's seed: the half's game folder and file name and its
    events, never the file's bytes (re-muxing a video, adding a track, must not change the training set)."""
    digest = hashlib.sha1(json.dumps([video.parent.name, video.stem, events]).encode()).digest()
    return tuple(int.from_bytes(digest[i:i + 4], "little") for i in range(0, 16, 4))


def _cached_half(video: Path, events: list[tuple[float, str]], settings: VideoFrameSettings, cache_dir: Path,
                 progress: Progress | None) -> Path:
    stat = video.stat()
    key = json.dumps([str(video.resolve()), stat.st_mtime_ns, stat.st_size, settings.cache_key(), events])
    store = cache_dir / f"{hashlib.sha1(key.encode()).hexdigest()}.npy"
    if store.exists() and store.with_suffix(".json").exists():
        return store
    sampler = FrameSampler(video, fps=settings.fps, size=settings.size, decoder=settings.decoder,
                           sampling=settings.sampling, batch_size=DECODE_BATCH, stall_timeout_s=settings.stall_timeout_s)
    expected = sampler.expected_samples or 1
    event_frames = sum(1 for k in range(expected) if label_for_time(k / settings.fps, events, settings) not in (None, BACKGROUND))
    background_candidates = max(expected - event_frames, 1)
    keep_background = min(1.0, max(settings.background_per_event * max(event_frames, 5), 1) / background_candidates)
    rng = np.random.default_rng([settings.seed, *background_seed(video, events)])
    images, labels, times = [], [], []
    tracker = Tracker(progress, f"frames {video.parent.name[:24]}/{video.name}", expected)
    for batch in sampler:
        for time_s, image in zip(batch.times, batch.images):
            label = label_for_time(float(time_s), events, settings)
            if label is None or (label == BACKGROUND and rng.random() >= keep_background):
                continue
            images.append(image)
            labels.append(label)
            times.append(round(float(time_s), 3))
        tracker.advance(len(batch))
    tracker.finish(remove=True)
    cache_dir.mkdir(parents=True, exist_ok=True)
    array = np.stack(images) if images else np.zeros((0, settings.size, settings.size, 3), np.uint8)
    with atomic_write(store, "wb") as handle:
        np.save(handle, array)
    with atomic_write(store.with_suffix(".json")) as handle:
        json.dump({"video": str(video), "labels": labels, "times": times}, handle)
    return store
