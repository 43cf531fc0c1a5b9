"""The sampler on the files real archives hold, made by ffmpeg: joined transport streams (timestamp jumps),
anamorphic and rotated pictures, modern codecs in their usual containers, and decoders that stall."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli import highlight
from highlighter.errors import VideoError
from highlighter.video import probe
from highlighter.video.backends import BACKENDS, DecordBackend, PyAVBackend
from highlighter.video.geometry import centre_crop, scaled_size
from tests.support import CLIP_16_9, decoder_processes, needs_encoder, open_sampler, sample

DECODERS = ["auto", "decord", "pyav"]
def every_second(path: Path, decoder: str, fps: float = 25.0, **kwargs) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Sample at 1 fps and check each sample is the frame on screen at its tick, at that frame's time."""
    times, images, numbers = sample(path, decoder=decoder, **kwargs)
    assert numbers == [round(k * fps) for k in range(len(numbers))], f"{decoder}: frames {numbers}"
    np.testing.assert_allclose(times, np.arange(len(times)), atol=1e-3)
    return times, images, numbers


# --- timestamp discontinuities ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def joined(clip, tmp_path_factory):
    """``joined(name, *parts)``: the parts' bytes one after the other (``cat a.ts b.ts > c.ts``)."""
    folder = tmp_path_factory.mktemp("joined")

    def join(name: str, *parts: Path) -> Path:
        path = folder / name
        if not path.exists():
            path.write_bytes(b"".join(part.read_bytes() for part in parts))
        return path

    return join


@pytest.fixture(scope="module")
def joined_broadcast(clip, joined) -> Path:
    """Two 30 s MPEG-2 transport streams joined: the second part's timestamps start again."""
    part = clip("broadcast.ts", seconds=30, codec="mpeg2video", **CLIP_16_9)
    return joined("two-recordings.ts", part, part)


@pytest.mark.parametrize("decoder", DECODERS)
def test_joined_transport_streams_give_one_timeline(joined_broadcast, decoder, caplog):
    with caplog.at_level(logging.WARNING):
        sampler = open_sampler(joined_broadcast, size=32, decoder=decoder)
        times = np.concatenate([batch.times for batch in sampler])
    np.testing.assert_allclose(times, np.arange(60.0), atol=1e-3)
    assert [d.to_dict() for d in sampler.discontinuities] == [{"position_s": 30.0, "jump_s": -29.96}]
    jumps = [r for r in caplog.records if "timestamps jump" in r.message]
    assert len(jumps) == 1 and "30.0 s" in jumps[0].message
    assert sampler.decoder == "pyav"


def test_keyframes_mode_places_the_jump_where_the_packets_show_it(joined_broadcast):
    sampler = open_sampler(joined_broadcast, size=32, sampling="keyframes")
    times = np.concatenate([batch.times for batch in sampler])
    np.testing.assert_allclose(times, np.arange(0.0, 60.0, 2.0), atol=1e-3)  # a key frame every 2 s
    assert [d.to_dict() for d in sampler.discontinuities] == [{"position_s": 30.0, "jump_s": -29.96}]


def test_joined_transport_streams_show_all_frames_and_their_jump_in_info(joined_broadcast):
    info = probe(joined_broadcast, scan_packets=True)
    assert info.length_s == pytest.approx(60.0) and info.samples_at(1.0) == 60 and info.frame_count == 1500
    assert [d.to_dict() for d in info.discontinuities] == [{"position_s": 30.0, "jump_s": -29.96}]
    _, _, numbers = sample(joined_broadcast, decoder="pyav", size=32)
    assert numbers == [25 * (k % 30) for k in range(60)]  # the second part shows frames 0, 25, ... again
    table = CliRunner().invoke(highlight, ["info", str(joined_broadcast)]).output
    assert "timestamp jumps" in table and "1: at 30.0 s (-30.0 s)" in table
    details = json.loads(CliRunner().invoke(highlight, ["info", str(joined_broadcast), "--json"]).output)
    assert details["samples"] == 60 and details["discontinuities"] == [{"position_s": 30.0, "jump_s": -29.96}]
    assert details["auto_decoder"] == "pyav" and "mpegts" in details["decord_unfit"]


def test_events_json_records_the_jumps(joined_broadcast, tmp_path):
    out = tmp_path / "events.json"
    result = CliRunner().invoke(highlight, ["tag", str(joined_broadcast), "--zero-shot", "--model", "highlighter-tiny",
                                            "--pretrained", "none", "-o", str(out), "--quiet"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text())
    assert document["duration_s"] == pytest.approx(60.0) and document["timing"]["frames"] == 60
    assert document["discontinuities"] == [{"half": None, "position_s": 30.0, "jump_s": -29.96}]


@pytest.mark.parametrize("decoder", DECODERS)
def test_forward_jump_in_a_transport_stream_starts_a_segment(clip, joined, decoder):
    first = clip("part.ts", seconds=5, **CLIP_16_9)
    later = clip("part-later.ts", seconds=5, start_offset_s=100.0, **CLIP_16_9)  # 100 s on: a splice, not a hole
    times, _, numbers = sample(joined("spliced.ts", first, later), decoder=decoder, size=32)
    np.testing.assert_allclose(times, np.arange(10.0), atol=1e-3)
    assert numbers == [25 * (k % 5) for k in range(10)]


# --- display geometry ----------------------------------------------------------------------------------


def ffmpeg_displayed(path: Path, size: int, numbers: list[int]) -> np.ndarray:
    """FFmpeg's own displayed frames (square pixels, autorotated), resized so the short side is ``size``
    and centre-cropped, for the given frame numbers."""
    info = probe(path)
    width, height = scaled_size(*info.display_size, size)
    command = [shutil.which("ffmpeg"), "-v", "error", "-i", str(path), "-vf",
               f"scale=iw*sar:ih,setsar=1,scale={width}:{height}:flags=bicubic", "-f", "rawvideo", "-pix_fmt",
               "rgb24", "-"]
    raw = subprocess.run(command, capture_output=True, check=True).stdout
    frames = np.frombuffer(raw, np.uint8).reshape(-1, height, width, 3)
    return np.stack([centre_crop(frames[n], size) for n in numbers])


@pytest.mark.parametrize("decoder", DECODERS)
@pytest.mark.parametrize("name, spec, shown", [
    ("anamorphic.mkv", dict(width=1024, height=576, stored_size=(720, 576)), (1024, 576)),
    ("phone.mp4", dict(width=180, height=320, rotation=90), (180, 320)),
    ("phone-270.mp4", dict(width=180, height=320, rotation=270), (180, 320)),
])
def test_samples_are_what_ffmpeg_displays(clip, name, spec, shown, decoder):
    path = clip(name, seconds=3, **spec)
    assert probe(path).display_size == shown
    _, images, numbers = every_second(path, decoder, size=96)  # the block grid reads right only if upright
    difference = np.abs(images.astype(int) - ffmpeg_displayed(path, 96, numbers).astype(int))
    assert difference.mean() < 2.0  # one bicubic pass here, two in the reference


def test_info_shows_aspect_and_rotation(clip):
    anamorphic = json.loads(CliRunner().invoke(highlight, ["info", "--json", str(
        clip("anamorphic.mkv", seconds=3, width=1024, height=576, stored_size=(720, 576)))]).output)
    assert (anamorphic["sample_aspect"], anamorphic["display_aspect"]) == ("64:45", "16:9")
    assert (anamorphic["display_width"], anamorphic["display_height"]) == (1024, 576)
    table = CliRunner().invoke(highlight, ["info", str(clip("phone.mp4", seconds=3, width=180, height=320,
                                                            rotation=90))]).output
    assert "90 degrees counter-clockwise" in table and "180x320" in table


# --- codecs and containers -------------------------------------------------------------------------------

#: Clock clips in the codecs and containers archives hold, at each encoder's own defaults (B-frames, long
#: GOPs, open GOPs). On these, decord was 2 s late on H.264/TS and hung there, 0.5 s late on MPEG-2/TS,
#: 10 s off from 10 s on 10-bit HEVC, and could not index AV1.
CODEC_CLIPS = {
    "h264.ts": dict(codec="libx264"),
    "h264-interlaced.ts": dict(codec="libx264", codec_args=("-flags", "+ilme+ildct", "-x264opts", "tff=1"),
                               height=96),  # interlaced H.264 wants a height divisible by 4
    "mpeg2.ts": dict(codec="mpeg2video", codec_args=("-bf", "2")),
    "mpeg2.mp4": dict(codec="mpeg2video", codec_args=("-bf", "2")),
    "h264.mov": dict(codec="libx264"),
    "hevc.mp4": dict(codec="libx265"),
    "hevc-10bit.mkv": dict(codec="libx265", pix_fmt="yuv420p10le"),
    "vp9.webm": dict(codec="libvpx-vp9", codec_args=("-deadline", "realtime", "-cpu-used", "8")),
    "av1.mkv": dict(codec="libsvtav1"),
}


@pytest.mark.parametrize("name", CODEC_CLIPS)
def test_every_decoder_is_frame_exact_on_each_codec_and_container(clip, name):
    spec = CODEC_CLIPS[name]
    needs_encoder(spec["codec"])
    path = clip(name, seconds=12, gop=None, **{**CLIP_16_9, **spec})
    results = {decoder: every_second(path, decoder, size=48) for decoder in DECODERS}
    for decoder in ("decord", "pyav"):  # the same times and pixels, whichever decoder ran
        np.testing.assert_allclose(results[decoder][0], results["auto"][0], atol=1e-6)
        assert np.abs(results[decoder][1].astype(int) - results["auto"][1].astype(int)).mean() < 1.0


@pytest.mark.parametrize("name, reason", [("h264.ts", "mpegts"), ("hevc-10bit.mkv", "hevc"),
                                          ("h264-interlaced.mkv", "interlaced")])
def test_files_decord_gets_wrong_are_routed_to_pyav_with_the_reason(clip, name, reason, caplog):
    spec = CODEC_CLIPS.get(name, CODEC_CLIPS["h264-interlaced.ts"])
    needs_encoder(spec["codec"])
    path = clip(name, seconds=12, gop=None, **{**CLIP_16_9, **spec})
    with caplog.at_level(logging.WARNING):
        assert open_sampler(path, decoder="decord").decoder == "pyav"
        assert open_sampler(path, decoder="auto").decoder == "pyav"
    warnings = [r.message for r in caplog.records]
    assert len(warnings) == 1 and reason in warnings[0] and "instead of decord" in warnings[0]


def test_auto_is_pyav_and_decord_runs_where_asked_for_and_exact(clip):
    small = clip("plain.mkv", seconds=8, **CLIP_16_9)
    large = clip("1080p.mp4", seconds=1, width=1920, height=1080)
    for path in (small, large):
        assert open_sampler(path).decoder == "pyav"
        assert open_sampler(path, sampling="keyframes").decoder == "pyav"
        assert open_sampler(path, decoder="decord").decoder == "decord"  # closed GOPs, one video stream


# --- the watchdog ------------------------------------------------------------------------------------------


class StallingDecord(DecordBackend):
    """decord that delivers three samples, then spins in place like decord on an interlaced stream."""

    def frames(self, rate: float, keyframes_only: bool):
        for count, item in enumerate(super().frames(rate, keyframes_only)):
            if count == 3:
                while True:
                    pass
            yield item


class CrashingDecord(DecordBackend):
    """decord that crashes in C code after two samples."""

    def frames(self, rate: float, keyframes_only: bool):
        for count, item in enumerate(super().frames(rate, keyframes_only)):
            if count == 2:
                os.abort()
            yield item


class StallingPyAV(PyAVBackend):
    """PyAV that never delivers a frame."""

    def frames(self, rate: float, keyframes_only: bool):
        while True:
            pass
        yield


#: How late, past the stall timeout, the watchdog may notice a stall: the time a busy machine takes to schedule
#: the waiting thread and kill the child (the tests must pass under load, e.g. two spinning processes on 2 cores).
STALL_SLACK_S = 3.0


@dataclass
class WatchdogTimes:
    """When (time.monotonic()) the sampler's watchdog started each decoder, received each sample and gave up."""

    starts: list[float] = field(default_factory=list)
    samples: list[float] = field(default_factory=list)
    stalls: list[float] = field(default_factory=list)

    def stall_noticed_after(self) -> float:
        """Seconds from the decoder's last sample (or its start) to the watchdog's giving up on it: what a stall
        costs, apart from the decoding before and after it."""
        stalled = self.stalls[0]
        return stalled - max(t for t in [*self.starts, *self.samples] if t < stalled)


@pytest.fixture
def watched(monkeypatch) -> WatchdogTimes:
    """The times of the sampler's watchdog in this test (each decoder started with its fork server running)."""
    from highlighter.video import sampler, watchdog
    from highlighter.video.forkserver import fork_server

    times = WatchdogTimes()

    def timed(*args, **kwargs):
        fork_server()
        times.starts.append(time.monotonic())
        try:
            for item in watchdog.decode_isolated(*args, **kwargs):
                times.samples.append(time.monotonic())
                yield item
        except watchdog.Stalled:
            times.stalls.append(time.monotonic())
            raise

    monkeypatch.setattr(sampler, "decode_isolated", timed)
    return times


def test_a_stalled_decoder_gives_way_to_pyav_within_the_timeout(clip, monkeypatch, caplog, watched):
    path = clip("plain.mkv", seconds=8, **CLIP_16_9)
    expected = sample(path, decoder="pyav")
    monkeypatch.setitem(BACKENDS, "decord", StallingDecord)
    with caplog.at_level(logging.WARNING):  # a timeout longer than opening the file takes on a busy machine
        times, images, numbers = sample(path, decoder="decord", stall_timeout_s=3.0)
    assert 3.0 <= watched.stall_noticed_after() < 3.0 + STALL_SLACK_S
    assert numbers == expected[2] and np.array_equal(times, expected[0])
    assert any("delivered no frame for 3 s after 2.0 s" in r.message and "with pyav" in r.message
               for r in caplog.records)
    assert decoder_processes() == []  # the spinning child is gone


def test_a_crashed_decord_gives_way_to_pyav(clip, monkeypatch, caplog):
    path = clip("plain.mkv", seconds=8, **CLIP_16_9)
    monkeypatch.setitem(BACKENDS, "decord", CrashingDecord)
    with caplog.at_level(logging.WARNING):
        every_second(path, "decord")
    assert any("the decord decoder died (exit code -6)" in r.message for r in caplog.records)


def test_a_stalled_pyav_is_a_one_line_error_within_the_timeout(clip, monkeypatch, watched):
    path = clip("plain.mkv", seconds=8, **CLIP_16_9)
    monkeypatch.setitem(BACKENDS, "pyav", StallingPyAV)
    with pytest.raises(VideoError, match="decoding stalled") as error:
        sample(path, decoder="pyav", stall_timeout_s=1.0)
    assert 1.0 <= watched.stall_noticed_after() < 1.0 + STALL_SLACK_S and "\n" not in str(error.value)
    assert decoder_processes() == []


def test_decord_hanging_on_a_real_file_is_caught(clip, monkeypatch, caplog, watched):
    """decord spins forever on H.264 in MPEG-TS; forced onto one, the watchdog hands the file to PyAV."""
    path = clip("h264.ts", seconds=12, gop=None, **CLIP_16_9, **CODEC_CLIPS["h264.ts"])
    monkeypatch.setattr("highlighter.video.sampler.choose_backend", lambda requested, info, **_: ("decord", None))
    with caplog.at_level(logging.WARNING):
        every_second(path, "decord", size=48, stall_timeout_s=2.0)
    assert 2.0 <= watched.stall_noticed_after() < 2.0 + STALL_SLACK_S
    assert any("decord delivered no frame" in r.message for r in caplog.records)
