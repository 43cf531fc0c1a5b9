"""Helpers and constants the tests share (fixtures are in conftest.py): shared data, clips' recipes, samplers with
the shipped settings, processes, the tiny model's training settings, events files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from highlighter.config.settings import shipped_settings
from highlighter.video import FrameSampler
from highlighter.video.testpattern import read_pattern_number

#: the repository, and the shared data beside it
ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
SHARED_ABSENT = "../shared/data is absent"
#: CI sets CI=true: there every package is installed and ../shared/data is present, so a test skipped for
#: either reason is a failure, not a skip (a skip would hide exactly the breakage CI is for).
IN_CI = os.environ.get("CI", "").lower() == "true"
FORBIDDEN_IN_CI = ("could not import", "is not installed", SHARED_ABSENT)


def needs_shared(*names: str):
    """Mark a test that reads these files or folders of ../shared/data (skipped where it is absent)."""
    return pytest.mark.skipif(not all((SHARED_DATA / name).exists() for name in names), reason=SHARED_ABSENT)


SMALL = dict(width=160, height=120)
#: Clips several tests share: 8 s at 25 fps; a 10-second hole of dropped frames; a 3.5 s start offset.
PLAIN = dict(seconds=8, fps=25.0, **SMALL)
HOLE = dict(seconds=25, drop=(8.0, 18.0), **SMALL)
OFFSET = dict(seconds=6, start_offset_s=3.5, **SMALL)
#: a small 16:9 frame size for archive-format clips
CLIP_16_9 = dict(width=160, height=90)


#: The shipped video, audio and smoother settings, for tests that build a Trainer or a sampler themselves.
VIDEO = shipped_settings().video
AUDIO = shipped_settings().audio
SMOOTHER = shipped_settings().smoother

#: Small synthetic SoccerNet games shared by the training, tagging and synth tests.
SYNTH = dict(games=6, minutes=1.0, seed=7, size="320x180", density=30.0)


def flat(text: str) -> str:
    """Console output as one line of single spaces, however Rich wrapped it (a wrap moves with the length of a
    temporary path, which differs between pytest-xdist workers)."""
    return " ".join(text.split())


def open_sampler(path: Path, **settings) -> FrameSampler:
    """A sampler of ``path`` with the shipped video and frames settings, ``settings`` over them."""
    shipped = shipped_settings()
    return FrameSampler(path, **{"fps": shipped.video.fps, "decoder": shipped.video.decoder,
                                 "sampling": shipped.video.sampling, "stall_timeout_s": shipped.video.stall_timeout_s,
                                 "size": shipped.frames.size, "batch_size": shipped.frames.batch_size, **settings})


def child_processes(pid: int) -> list[int]:
    """The running (not zombie) child processes of ``pid``, from /proc."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):  # ended while being read
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            children.append(int(stat.parent.name))
    return children


def decoder_processes() -> list[int]:
    """The decoding processes of this process: the children of its children (its decoders' fork server)."""
    return [grandchild for child in child_processes(os.getpid()) for grandchild in child_processes(child)]


def sample(path: Path, **kwargs) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """All samples of a video: times, images, and the frame number each image shows."""
    kwargs.setdefault("size", 64)
    batches = list(open_sampler(path, **kwargs))
    times = np.concatenate([batch.times for batch in batches])
    images = np.concatenate([batch.images for batch in batches])
    return times, images, [read_pattern_number(image) for image in images]


def on_screen_reference(kept: list[int], fps: float, rate: float, last_frame: int | None = None) -> list[int]:
    """Brute force: for each tick up to the last frame, the last kept frame number n whose time n/fps is
    <= the tick; each once."""
    chosen: list[int] = []
    last_time = max(kept[-1], last_frame or 0) / fps
    tick = 0
    while tick / rate <= last_time + 1e-6:
        shown = max(n for n in kept if n / fps <= tick / rate + 1e-6)
        if not chosen or chosen[-1] != shown:
            chosen.append(shown)
        tick += 1
    return chosen


#: A tiny open_clip classifier trained from scratch (CPU, seconds): what the train and tag tests share (the
#: image model alone: tests/training/test_audio.py trains its own with the audio fusion).
TINY = dict(model="highlighter-tiny", pretrained=None, mode="finetune", lr=2e-3, batch_size=32, frame_fps=2.0,
            wise_alpha=1.0, fusion=False, spotting_head=False)


def config(synth_root: Path, tmp: Path, **overrides):
    """The train settings of the tiny model on the synthetic games (frame cache beside ``tmp``)."""
    from highlighter.api import configured

    return configured(("train",), None, {"data": [str(synth_root)], "out": str(tmp / "weights" / "tiny"),
                                         "cache_dir": str(tmp.parent / "cache"), **TINY, "epochs": 10, **overrides},
                      none_means_unset=False)["train"]


def write_events_file(path: Path, video: Path | str, duration: float, events: list[tuple]) -> Path:
    """An events JSON as `highlight tag` writes it, for ``events`` given as (label, time_s, confidence,
    half) tuples (each event spans 2 s before to 3 s after its time)."""
    rows = [{"label": label, "time_s": t, "timecode": "", "start_s": max(t - 2, 0), "end_s": t + 3, "confidence": c,
             "half": half} for label, t, c, half in events]
    path.write_text(json.dumps({"video": str(video), "duration_s": duration, "fps": 1.0,
                                "model": {"name": "highlighter-tiny", "checkpoint": "weights/tiny", "sha256": "ab" * 32},
                                "classes": ["background", "goal", "card", "substitution"], "events": rows,
                                "timing": {"wall_s": 2.5, "frames": int(duration)}}))
    return path


@lru_cache(maxsize=None)
def encoders() -> str:
    """The encoder list of this ffmpeg."""
    return subprocess.run([shutil.which("ffmpeg"), "-hide_banner", "-encoders"], capture_output=True, text=True).stdout


def needs_encoder(name: str) -> None:
    """Skip (with the reason) where this ffmpeg was built without ``name``."""
    if f" {name} " not in encoders():
        pytest.skip(f"this ffmpeg has no {name} encoder")
