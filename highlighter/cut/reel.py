"""Highlight reels with FFmpeg: the selected windows of the match, in order, in one video file.

Default: frame-accurate. Each window is its own input, seeked exactly (``-ss``/``-t`` before ``-i``),
and one filter graph joins them (``concat``: audio stays in sync, padded with silence where a segment's
audio is short) for a single libx264/AAC encode. ``fast``: stream copy of each window from the key
frame at or before its start, then FFmpeg's concat demuxer; no re-encoding, cuts snap to key frames.
Output is written beside the target under a temporary name and renamed when FFmpeg succeeds.
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from rich.progress import Progress

from highlighter.cut.captions import caption_text, make_caption
from highlighter.cut.windows import Window
from highlighter.progress import Tracker
from highlighter.errors import HighlighterError
from highlighter.inputs import MatchVideos
from highlighter.video.encode import ffmpeg_binary

#: FFmpeg muxer of each reel suffix
MUXERS = {"mp4": "mp4", "mkv": "matroska"}


#: AAC bitrate of a re-encoded reel's audio
AUDIO_BITRATE = "128k"


@dataclass(frozen=True)
class ReelSettings:
    """How the reel is encoded (``crf``, ``preset`` and ``caption_renderer`` from the ``cut`` settings)."""

    fast: bool  # stream copy, cuts at key frames
    labels: bool  # burn a caption (class, match clock) into each segment
    crf: int
    preset: str
    caption_renderer: str  # auto | drawtext | opencv


def write_reel(windows: list[Window], videos: MatchVideos, out: str | Path, container: str,
               settings: ReelSettings, progress: Progress | None = None) -> Path:
    """Cut ``windows`` out of the match into ``out`` (``container`` ``mp4`` or ``mkv``)."""
    out = Path(out)
    if container not in MUXERS:
        raise HighlighterError(f"a reel is .mp4 or .mkv, not {container!r}")
    if settings.fast and settings.labels:
        raise HighlighterError("--labels burns captions into the picture, which needs re-encoding: drop --fast")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.stem}.part.{container}")
    total = sum(w.duration_s for w in windows)
    tracker = Tracker(progress, f"reel {out.name}", round(total, 1))
    try:
        with tempfile.TemporaryDirectory(prefix="highlighter-cut-") as scratch:
            if settings.fast:
                _stream_copy(windows, videos, partial, container, Path(scratch), tracker)
            else:
                _reencode(windows, videos, partial, container, settings, Path(scratch), tracker)
        partial.replace(out)
        tracker.update(completed=round(total, 1))
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return out


def _has_audio(videos: MatchVideos, windows: list[Window]) -> bool:
    return all(videos.half(w.half).info.has_audio for w in windows)


def _reencode(windows: list[Window], videos: MatchVideos, partial: Path, container: str, settings: ReelSettings,
              scratch: Path, tracker: Tracker) -> None:
    first = videos.half(windows[0].half).info
    width, height = first.width + first.width % 2, first.height + first.height % 2
    rates = {round(videos.half(w.half).info.avg_fps, 3) for w in windows}
    same_rate = len(rates) == 1
    audio = _has_audio(videos, windows)
    inputs: list[str] = []
    for window in windows:
        fps = videos.half(window.half).info.avg_fps
        if fps > 0:  # seek a quarter frame before the first frame's time: exact seeking keeps frames from there on
            first, end = window.frames(fps)
            start, duration = max((first - 0.25) / fps, 0.0), (end - first) / fps
        else:  # frame rate unknown: the window's own times
            start, duration = window.start_s, window.duration_s
        inputs += ["-ss", f"{start:.6f}", "-t", f"{duration:.6f}", "-i", str(videos.half(window.half).path)]
    chains, images = [], []
    for number, window in enumerate(windows):
        stream = videos.half(window.half).info.stream_index  # the match's video stream, as the sampler read it
        chain = f"[{number}:{stream}]scale={width}:{height},setsar=1,format=yuv420p"
        if not same_rate:
            chain += f",fps={first.avg_fps:.6f}"
        chain += ",setpts=PTS-STARTPTS"
        caption = make_caption(caption_text(window), width, height, scratch, number, settings.caption_renderer) \
            if settings.labels else None
        if caption is not None and caption.filter:
            chain += "," + caption.filter
        if caption is not None and caption.image:
            images.append(caption.image)
            margin = max(8, height // 44)
            chain += (f"[base{number}];[base{number}][{len(windows) + len(images) - 1}:v]"
                      f"overlay=x={margin}:y=main_h-overlay_h-{margin}")
        chains.append(chain + f"[v{number}]")
        if audio:
            chains.append(f"[{number}:a:0]aformat=sample_fmts=fltp:sample_rates=48000:channel_layouts=stereo,"
                          f"asetpts=PTS-STARTPTS[a{number}]")
    joined = "".join(f"[v{n}]" + (f"[a{n}]" if audio else "") for n in range(len(windows)))
    chains.append(f"{joined}concat=n={len(windows)}:v=1:a={1 if audio else 0}[v]" + ("[a]" if audio else ""))
    for image in images:
        inputs += ["-i", str(image)]
    command = [*inputs, "-filter_complex", ";".join(chains), "-map", "[v]"]
    if audio:
        command += ["-map", "[a]", "-c:a", "aac", "-b:a", AUDIO_BITRATE]
    command += ["-c:v", "libx264", "-preset", settings.preset, "-crf", str(settings.crf), "-pix_fmt", "yuv420p"]
    run_ffmpeg([*command, *_muxer_args(container), str(partial)], tracker)


def _stream_copy(windows: list[Window], videos: MatchVideos, partial: Path, container: str, scratch: Path,
                 tracker: Tracker) -> None:
    audio = _has_audio(videos, windows)
    segments = []
    for number, window in enumerate(windows):
        segment = scratch / f"segment{number}.{container}"
        maps = ["-map", f"0:{videos.half(window.half).info.stream_index}"] + (["-map", "0:a:0"] if audio else [])
        run_ffmpeg(["-ss", f"{window.start_s:.6f}", "-i", str(videos.half(window.half).path), "-t",
                    f"{window.duration_s:.6f}", *maps, "-c", "copy", "-avoid_negative_ts", "make_zero",
                    "-f", MUXERS[container], str(segment)])
        segments.append(segment)
        tracker.advance(window.duration_s)
    run_ffmpeg(["-f", "concat", "-i", str(concat_list(segments, scratch)), "-c", "copy", *_muxer_args(container),
                str(partial)])


def concat_list(files: list[Path], scratch: Path) -> Path:
    """A list for FFmpeg's concat demuxer, in ``scratch``, of ``files`` in order. Each file is linked into
    ``scratch`` under a plain name (``part0``, ...) that the list gives relative to itself: no path, whatever
    quotes or line breaks it holds, is written into the list's lines (and the demuxer's safe mode holds)."""
    lines = []
    for number, file in enumerate(files):
        link = scratch / f"part{number}"
        link.symlink_to(Path(file).resolve())
        lines.append(f"file '{link.name}'\n")
    listing = scratch / "concat.txt"
    listing.write_text("".join(lines))
    return listing


def _muxer_args(container: str) -> list[str]:
    extra = ["-movflags", "+faststart"] if container == "mp4" else []
    return [*extra, "-f", MUXERS[container]]


def run_ffmpeg(arguments: list[str], tracker: Tracker | None = None) -> None:
    """Run FFmpeg; with a progress tracker, advance it to the output time FFmpeg reports."""
    command = [ffmpeg_binary(), "-v", "error", "-nostdin", "-y", "-progress", "pipe:1", "-nostats", *arguments]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in process.stdout:
            key, _, value = line.strip().partition("=")
            if key == "out_time_us" and tracker is not None and value.lstrip("-").isdigit():
                tracker.update(completed=max(int(value), 0) / 1e6)
        errors = process.stderr.read()
    except BaseException:
        process.kill()
        process.wait()
        raise
    if process.wait() != 0:
        raise HighlighterError(f"ffmpeg failed: {errors.strip().splitlines()[-1] if errors.strip() else 'no message'}")
