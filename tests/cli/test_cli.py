"""The `highlight` command line, run in-process with click's runner on ffmpeg-made clips."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from cli import highlight
from highlighter.video.testpattern import read_pattern_number
from tests.support import needs_shared, HOLE, OFFSET, PLAIN, SHARED_DATA, SMALL


def run(*args: str):
    return CliRunner().invoke(highlight, list(args), catch_exceptions=False)


def test_help_lists_the_commands():
    result = run("--help")
    assert result.exit_code == 0
    for command in ("frames", "info", "testclip"):
        assert command in result.output


def test_frames_writes_images_and_index(clip, tmp_path):
    import cv2

    video = clip("plain.mkv", **PLAIN)
    out = tmp_path / "frames"
    result = run("frames", str(video), "-o", str(out), "--size", "64", "--image-format", "png", "--quiet")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "frames.csv")
    assert list(table.columns) == ["index", "time_s", "path"]
    assert table["index"].tolist() == list(range(8))
    assert table.time_s.tolist() == [float(k) for k in range(8)]
    for time_s, name in zip(table.time_s, table.path):
        image = cv2.cvtColor(cv2.imread(str(out / name)), cv2.COLOR_BGR2RGB)
        assert image.shape == (64, 64, 3)
        assert read_pattern_number(image) == round(time_s * 25)
    assert not list(out.glob(".*.part")), "no temporary files are left behind"


def test_frames_options_come_from_a_config_file(clip, tmp_path):
    video = clip("plain.mkv", **PLAIN)
    config = tmp_path / "my.yaml"
    config.write_text("video:\n  fps: 2.0\n  decoder: pyav\nframes:\n  size: 32\n")
    out = tmp_path / "frames"
    result = run("--config", str(config), "frames", str(video), "-o", str(out), "-q")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "frames.csv")
    assert table.time_s.tolist()[:3] == [0.0, 0.48, 1.0]  # at 0.5 s the frame of 0.48 s is on screen
    assert len(list(out.glob("*.jpg"))) == len(table)


def test_frames_keyframes_mode(clip, tmp_path):
    video = clip("gop-25.mkv", seconds=6, gop=25, **SMALL)
    result = run("frames", str(video), "-o", str(tmp_path), "--sampling", "keyframes", "-q")
    assert result.exit_code == 0, result.output
    assert pd.read_csv(tmp_path / "frames.csv").time_s.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


def test_info_json_describes_the_video(clip):
    video = clip("hole.mkv", **HOLE)
    result = run("info", str(video), "--json")
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["codec"] == "h264" and (info["width"], info["height"]) == (160, 120)
    assert info["avg_fps"] == pytest.approx(25.0, rel=0.1)
    assert info["variable_frame_rate"] is True  # the 10-second hole
    assert info["frame_count"] == 375
    assert info["keyframe_count"] >= 7
    assert info["scanned_duration_s"] == pytest.approx(25.0, abs=0.05)


def test_info_table_and_constant_rate(clip):
    video = clip("offset.mkv", **OFFSET)
    details = json.loads(run("info", str(video), "--json").output)
    assert details["variable_frame_rate"] is False
    assert details["start_time_s"] == pytest.approx(3.5, abs=0.05)
    assert details["samples"] == 6
    result = run("info", str(video))
    assert result.exit_code == 0 and "key-frame interval" in result.output


@pytest.mark.parametrize("make, message", [
    (lambda p: None, "no such file"),
    (lambda p: p.write_bytes(b""), "empty file"),
    (lambda p: p.write_text("{}" * 500), "not a readable video"),
])
def test_bad_input_is_one_line_and_exit_1(tmp_path, make, message):
    video = tmp_path / "match.mkv"
    make(video)
    for args in (["frames", str(video), "-o", str(tmp_path / "out")], ["info", str(video)]):
        result = CliRunner().invoke(highlight, args)
        assert result.exit_code == 1
        assert message in result.output
        assert result.output.strip().count("\n") == 0 and "Traceback" not in result.output


def test_audio_only_is_rejected(ffmpeg, tmp_path):
    folder = ffmpeg("-f", "lavfi", "-i", "sine", "-t", "2", "song.mp3")
    result = CliRunner().invoke(highlight, ["frames", str(folder / "song.mp3"), "-o", str(tmp_path)])
    assert result.exit_code == 1 and "no video stream" in result.output


def test_malformed_config_is_one_line(tmp_path, clip):
    config = tmp_path / "bad.yaml"
    config.write_text("frames: [unclosed\n")
    result = CliRunner().invoke(highlight, ["--config", str(config), "info", str(clip("plain.mkv", **PLAIN))])
    assert result.exit_code == 1 and "malformed YAML" in result.output


def test_testclip_writes_a_pattern_video(tmp_path):
    out = tmp_path / "clip.mp4"
    result = run("testclip", str(out), "--seconds", "3", "--fps", "29.97", "--start-offset", "2")
    assert result.exit_code == 0, result.output
    info = json.loads(run("info", str(out), "--json").output)
    assert info["frame_count"] == 90 and info["start_time_s"] == pytest.approx(2.0, abs=0.05)


@needs_shared("broadcast-clip-360p.mp4")
def test_real_broadcast_clip_info():
    info = json.loads(run("info", str(SHARED_DATA / "broadcast-clip-360p.mp4"), "--json").output)
    assert info["has_audio"] and info["samples"] == 23 and (info["width"], info["height"]) == (640, 360)
