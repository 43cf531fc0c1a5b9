"""Decoding the files archives hold, with the default settings: open-GOP H.264 (what broadcast encoders
write), files with more than one video stream, raw elementary streams and HDR video (issue 19, findings 1, 2
and 6). Every file is made here by ffmpeg from clock clips, whose frames show their own numbers."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli import highlight
from highlighter.video import probe
from tests.support import CLIP_16_9, needs_encoder, open_sampler, sample, write_events_file

#: x264 writing open GOPs: key frames that are not IDR pictures, B-frames after them shown before them.
OPEN_GOP = ("-c:v", "libx264", "-preset", "ultrafast", "-x264-params", "open-gop=1:keyint=50:bframes=3")


def assert_every_second(times: np.ndarray, numbers: list[int], seconds: int) -> None:
    """One sample per second, each the frame on screen at its tick (25 fps), at that frame's time."""
    assert numbers == [25 * k for k in range(seconds)]
    np.testing.assert_allclose(times, np.arange(seconds), atol=1e-3)


# --- finding 1: open GOPs ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def open_gop_1080p(clip, ffmpeg) -> dict[str, Path]:
    """An 8-second 1920x1080 open-GOP clock clip in MKV and (a stream copy) MP4."""
    source = clip("clock-180p.mkv", seconds=8, width=320, height=180)
    folder = ffmpeg("-i", str(source), "-vf", "scale=1920:1080:flags=neighbor", *OPEN_GOP, "open-gop-1080p.mkv")
    ffmpeg("-i", "open-gop-1080p.mkv", "-c", "copy", "open-gop-1080p.mp4")
    return {container: folder / f"open-gop-1080p.{container}" for container in ("mkv", "mp4")}


@pytest.fixture(scope="module")
def open_gop(clip, ffmpeg) -> Path:
    """A 12-second open-GOP clock clip at 160x90."""
    source = clip("clock-tiny.mkv", seconds=12, **CLIP_16_9)
    return ffmpeg("-i", str(source), *OPEN_GOP, "open-gop.mkv") / "open-gop.mkv"


@pytest.mark.parametrize("container", ["mkv", "mp4"])
def test_finding_1_open_gop_1080p_is_frame_exact_with_the_default_decoder(open_gop_1080p, container):
    times, _, numbers = sample(open_gop_1080p[container], size=48)  # the shipped settings: decoder auto
    assert_every_second(times, numbers, 8)


def test_finding_1_decord_asked_for_on_an_open_gop_gives_way_to_pyav(open_gop, clip, caplog):
    times, _, numbers = sample(open_gop, size=48, decoder="decord")
    assert_every_second(times, numbers, 12)
    caplog.clear()  # the warning of the sampling above
    with caplog.at_level(logging.WARNING):
        sampler = open_sampler(open_gop, size=48, decoder="decord")
    assert sampler.decoder == "pyav"
    assert [r.message for r in caplog.records] == [f"{open_gop}: decord is not frame-exact on open GOPs; "
                                                   "decoding it with pyav instead of decord"]
    assert probe(open_gop, scan_packets=True).open_gop is True
    assert probe(clip("clock-tiny.mkv", seconds=12, **CLIP_16_9), scan_packets=True).open_gop is False
    details = json.loads(CliRunner().invoke(highlight, ["info", "--json", str(open_gop)]).output)
    assert details["open_gop"] is True and details["auto_decoder"] == "pyav" and "open GOPs" in details["decord_unfit"]


def test_finding_1_keyframes_mode_returns_every_key_frame_of_open_gops(open_gop):
    times, _, numbers = sample(open_gop, size=48, sampling="keyframes")
    assert numbers == list(range(0, 300, 50))  # a key frame every 50 frames, each at its own time
    np.testing.assert_allclose(times, np.arange(0, 12, 2.0), atol=1e-3)


# --- finding 2: the match's stream -------------------------------------------------------------------


@pytest.fixture(scope="module")
def still_first(clip, ffmpeg):
    """``still_first(container)``: an 8-second clock clip muxed as the second video stream, after a one-frame
    still (cover art muxed as a normal track), with an audio track."""
    source = clip("clock-audio.mkv", seconds=8, audio=True, **CLIP_16_9)

    def make(container: str) -> Path:
        name = f"still-first.{container}"
        return ffmpeg("-f", "lavfi", "-i", "color=c=red:s=160x90:r=25:d=0.04", "-i", str(source), "-map", "0:v",
                      "-map", "1:v", "-map", "1:a", "-c:v:0", "libx264", "-pix_fmt:v:0", "yuv420p", "-c:v:1", "copy",
                      "-c:a", "copy", name) / name

    return make


@pytest.mark.parametrize("container", ["mkv", "mp4", "ts"])
def test_finding_2_the_match_is_the_longest_video_stream_not_the_first(still_first, container):
    path = still_first(container)
    times, _, numbers = sample(path, size=48)
    assert_every_second(times, numbers, 8)
    info = probe(path, scan_packets=True)
    assert (info.stream_index, info.video_streams) == (1, 2)
    assert info.length_s == pytest.approx(8.0, abs=0.05)


def test_finding_2_info_and_the_events_json_name_the_stream(still_first, tmp_path, caplog):
    path = still_first("mkv")
    table = CliRunner().invoke(highlight, ["info", str(path)]).output
    assert "#1 (of 2 video streams" in table
    details = json.loads(CliRunner().invoke(highlight, ["info", "--json", str(path)]).output)
    assert (details["stream_index"], details["video_streams"], details["samples"]) == (1, 2, 8)
    assert "its own choosing" in details["decord_unfit"]
    out = tmp_path / "events.json"
    result = CliRunner().invoke(highlight, ["tag", str(path), "--zero-shot", "--model", "highlighter-tiny",
                                            "--pretrained", "none", "-o", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text())
    assert document["video_streams"] == [{"half": None, "index": 1}]
    assert document["duration_s"] == pytest.approx(8.0, abs=0.05) and document["timing"]["frames"] == 8


@pytest.mark.parametrize("fast", [False, True])
def test_finding_2_a_reel_is_cut_from_the_match_stream(still_first, tmp_path, fast):
    events = write_events_file(tmp_path / "match.events.json", still_first("mkv"), 8.0, [("goal", 4.0, 0.9, None)])
    out = tmp_path / "reel.mkv"
    result = CliRunner().invoke(highlight, ["cut", str(events), "-o", str(out), "--before", "1", "--after", "2", "-q",
                                            *(["--fast"] if fast else [])])
    assert result.exit_code == 0, result.output
    _, _, numbers = sample(out, fps=25.0, size=48)
    if fast:  # from a key frame at or before 3 s (the muxer indexes the first video stream only), frame after frame
        assert numbers[0] in (0, 50, 75) and numbers[:150 - numbers[0]] == list(range(numbers[0], 150))  # to 6 s
    else:
        assert numbers == list(range(75, 150))  # 3 s to 6 s


def test_finding_2_a_cover_picture_alone_is_not_a_video(ffmpeg):
    folder = ffmpeg("-f", "lavfi", "-i", "sine=d=2", "-f", "lavfi", "-i", "color=c=blue:s=64x64:d=0.04", "-map", "0",
                    "-map", "1", "-c:a", "aac", "-c:v", "png", "-disposition:v", "attached_pic", "album.mp4")
    result = CliRunner().invoke(highlight, ["info", str(folder / "album.mp4")])
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {folder / 'album.mp4'}: no video stream (only a cover picture)"


# --- finding 6: raw streams and HDR ------------------------------------------------------------------------


@pytest.mark.parametrize("codec, muxer", [("libx264", "h264"), ("libx265", "hevc")])
def test_finding_6_a_raw_elementary_stream_is_timed_from_its_frame_durations(clip, ffmpeg, codec, muxer):
    needs_encoder(codec)
    source = clip(f"clock-{muxer}.mkv", seconds=12, gop=None, codec=codec, **CLIP_16_9)  # B-frames: reordered
    name = f"clock.{muxer}"
    raw = ffmpeg("-i", str(source), "-c", "copy", "-bsf:v", f"{muxer}_mp4toannexb", "-f", muxer, name) / name
    times, _, numbers = sample(raw, size=48)
    assert_every_second(times, numbers, 12)
    info = probe(raw, scan_packets=True)
    assert info.untimed and info.frame_count == 300 and info.length_s == pytest.approx(12.0)
    key_times, _, key_numbers = sample(raw, size=48, sampling="keyframes")
    assert key_numbers == sample(source, size=48, sampling="keyframes")[2]  # the container's key frames
    np.testing.assert_allclose(key_times, np.array(key_numbers) / 25, atol=1e-3)


@lru_cache(maxsize=None)
def ffmpeg_filters() -> str:
    """The filter list of this ffmpeg."""
    return subprocess.run([shutil.which("ffmpeg"), "-hide_banner", "-filters"], capture_output=True, text=True).stdout


def pixel(path: Path, filters: str, x: int, y: int) -> np.ndarray:
    """RGB of one pixel of the first frame of ``path`` as ffmpeg's own filters render it."""
    raw = subprocess.run([shutil.which("ffmpeg"), "-v", "error", "-i", str(path), "-frames:v", "1", "-vf",
                          f"{filters},format=rgb24", "-f", "rawvideo", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(180, 320, 3)[y, x].astype(int)


@pytest.mark.parametrize("transfer, name, tolerance", [("smpte2084", "PQ", 4), ("arib-std-b67", "HLG", 16)])
def test_finding_6_hdr_video_is_tone_mapped_to_sdr(ffmpeg, transfer, name, tolerance):
    needs_encoder("libx265")
    if " zscale " not in ffmpeg_filters():
        pytest.skip("this ffmpeg has no zscale filter to make an HDR clip with")
    # a white patch beside a pitch green, as SDR BT.709, then in BT.2020 with the HDR transfer (SDR white at
    # 100 nits: zscale's default), 10-bit HEVC tagged as HDR
    picture = "color=c=0x3c8c32:s=320x180:r=25:d=1,drawbox=x=0:y=0:w=160:h=180:color=white:t=fill"
    to_hdr = ("setparams=range=tv:color_primaries=bt709:color_trc=bt709:colorspace=bt709,zscale=t=linear,"
              f"format=gbrpf32le,zscale=p=bt2020:t={transfer}:m=bt2020nc:r=tv,format=yuv420p10le")
    clip = f"hdr-{name}.mkv"
    folder = ffmpeg("-f", "lavfi", "-i", picture, "-vf", to_hdr, "-c:v", "libx265", "-x265-params", "log-level=error",
                    "-color_primaries", "bt2020", "-color_trc", transfer, "-colorspace", "bt2020nc", clip)
    _, images, _ = sample(folder / clip, size=64)  # the central 64x64 square of a 114x64 picture
    white, green = images[0, 16:48, 2:10].mean(axis=(0, 1)), images[0, 16:48, 54:62].mean(axis=(0, 1))
    assert white.min() >= 235, f"white at {white}"
    zscale_sdr = "zscale=t=linear,format=gbrpf32le,zscale=p=bt709:t=bt709:m=bt709:r=pc"  # FFmpeg's own, clipped
    assert np.abs(green - pixel(folder / clip, zscale_sdr, 300, 90)).max() <= tolerance, f"green at {green}"
    details = json.loads(CliRunner().invoke(highlight, ["info", "--json", str(folder / clip)]).output)
    assert (details["color_transfer"], details["color_primaries"]) == (transfer, "bt2020")
