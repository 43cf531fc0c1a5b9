"""The sampler on real videos made by ffmpeg, whose frames show their own numbers."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from highlighter.errors import VideoError
from highlighter.video import probe
from tests.support import HOLE, OFFSET, PLAIN, SHARED_DATA, SMALL, needs_shared, on_screen_reference, open_sampler, sample

DECODERS = ["decord", "pyav"]


def assert_on_time(path, fps, kept, decoder, rate=1.0):
    """Each sample is the frame on screen at its tick, and its time is that frame's own timestamp."""
    times, _, numbers = sample(path, decoder=decoder, fps=rate)
    assert numbers == on_screen_reference(kept, fps, rate)
    np.testing.assert_allclose(times, np.array(numbers) / fps, atol=1e-3)


@pytest.mark.parametrize("decoder", DECODERS)
@pytest.mark.parametrize("container", ["mkv", "mp4", "avi"])
@pytest.mark.parametrize("fps", [25.0, 29.97])
def test_containers_and_frame_rates(clip, container, fps, decoder):
    codec = "mpeg4" if container == "avi" else "libx264"  # AVI has no presentation times for B-frames
    path = clip(f"plain-{fps}.{container}", seconds=8, fps=fps, codec=codec, **SMALL)
    frames = round(8 * fps)
    assert_on_time(path, 30000 / 1001 if fps == 29.97 else fps, list(range(frames)), decoder)


@pytest.mark.parametrize("decoder", DECODERS)
@pytest.mark.parametrize("container", ["mkv", "mp4"])
def test_container_start_offset_is_removed(clip, container, decoder):
    path = clip(f"offset.{container}", **OFFSET)
    assert probe(path).start_time_s == pytest.approx(3.5, abs=0.05)
    assert_on_time(path, 25.0, list(range(150)), decoder)


@pytest.mark.parametrize("decoder", DECODERS)
@pytest.mark.parametrize("container", ["mkv", "mp4"])
def test_ten_second_hole_keeps_later_frames_on_time(clip, container, decoder):
    path = clip(f"hole.{container}", **HOLE)
    kept = list(range(200)) + list(range(450, 625))
    assert_on_time(path, 25.0, kept, decoder)
    times, _, numbers = sample(path, decoder=decoder)
    after = numbers[times.tolist().index(20.0)]
    assert after == 500, "index/fps sampling would show frame 250 (10 s late) here"


@pytest.mark.parametrize("decoder", DECODERS)
def test_rate_other_than_one(clip, decoder):
    path = clip("plain.mkv", **PLAIN)
    assert_on_time(path, 25.0, list(range(200)), decoder, rate=2.5)


@pytest.mark.parametrize("decoder", DECODERS)
def test_mp4_edit_list_start(clip, ffmpeg, decoder):
    """A stream copy cut after a key frame hides frames before the start (an MP4 edit list)."""
    source = clip("long-gop.mp4", seconds=10, gop=100, **SMALL)
    folder = ffmpeg("-ss", "1.3", "-i", str(source), "-c", "copy", "cut.mp4")
    times, _, numbers = sample(folder / "cut.mp4", decoder=decoder)
    assert numbers[0] == pytest.approx(1.3 * 25, abs=1)
    np.testing.assert_allclose(times, (np.array(numbers) - numbers[0]) / 25.0, atol=1e-3)


@pytest.mark.parametrize("name, spec", [("plain.mkv", PLAIN), ("hole.mkv", HOLE),
                                        ("ntsc.mp4", dict(PLAIN, fps=29.97))])
@pytest.mark.parametrize("sampling", ["exact", "keyframes"])
def test_backends_agree_frame_for_frame(clip, name, spec, sampling):
    path = clip(name, **spec)
    decord_times, decord_images, decord_numbers = sample(path, decoder="decord", sampling=sampling)
    pyav_times, pyav_images, pyav_numbers = sample(path, decoder="pyav", sampling=sampling)
    assert decord_numbers == pyav_numbers
    np.testing.assert_allclose(decord_times, pyav_times, atol=1e-6)
    difference = np.abs(decord_images.astype(int) - pyav_images.astype(int))
    assert difference.mean() < 1.0  # same swscale bicubic scaling; rounding differs by a level or two


@pytest.mark.parametrize("decoder", DECODERS)
def test_keyframes_mode_returns_only_key_frames_with_their_times(clip, decoder):
    path = clip("gop-40.mkv", seconds=12.6, gop=40, **SMALL)  # a key frame every 1.6 s, the last at 11.2 s
    times, _, numbers = sample(path, decoder=decoder, sampling="keyframes")
    keyframes = list(range(0, 315, 40))
    assert numbers == on_screen_reference(keyframes, 25.0, 1.0, last_frame=314)
    assert numbers[-1] == 280, "the last key frame is on screen at 12 s"
    np.testing.assert_allclose(times, np.array(numbers) / 25.0, atol=1e-3)
    assert probe(path, scan_packets=True).keyframe_count == len(numbers)


@pytest.mark.parametrize("container", ["mkv", "mp4"])
@pytest.mark.parametrize("decoder", DECODERS)
def test_truncated_file_keeps_what_is_there_and_warns(clip, ffmpeg, tmp_path, container, decoder, caplog):
    whole = clip(f"whole.{container}", seconds=20, **SMALL)
    if container == "mp4":  # move the index (moov atom) to the front, so a truncated copy still opens
        whole = ffmpeg("-i", str(whole), "-c", "copy", "-movflags", "+faststart", "faststart.mp4") / "faststart.mp4"
    truncated = tmp_path / f"truncated.{container}"
    data = whole.read_bytes()
    truncated.write_bytes(data[: len(data) * 6 // 10])
    with caplog.at_level(logging.WARNING):
        times, _, numbers = sample(truncated, decoder=decoder)
    assert 5 <= len(numbers) < 20
    np.testing.assert_allclose(times, np.array(numbers) / 25.0, atol=1e-3)
    assert numbers == [25 * k for k in range(len(numbers))]
    assert any("decoding stopped at" in record.message for record in caplog.records)


def test_file_with_no_frames_left_is_an_error(clip, tmp_path):
    whole = clip("plain.mkv", **PLAIN)
    stub = tmp_path / "stub.mkv"
    stub.write_bytes(whole.read_bytes()[:600])  # header only
    with pytest.raises(VideoError, match="stub.mkv"):
        sample(stub)


def test_audio_only_file_is_rejected(ffmpeg):
    folder = ffmpeg("-f", "lavfi", "-i", "sine", "-t", "2", "tone.m4a")
    with pytest.raises(VideoError, match="no video stream"):
        open_sampler(folder / "tone.m4a")


@pytest.mark.parametrize("content, message", [(None, "no such file"), (b"", "empty file"),
                                              (b"not a video" * 100, "not a readable video")])
def test_bad_files_get_one_line_errors(tmp_path, content, message):
    path = tmp_path / "match.mkv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(VideoError, match=message) as error:
        open_sampler(path)
    assert "\n" not in str(error.value)


def test_batches_are_bounded_and_numbered(clip):
    path = clip("plain.mkv", **PLAIN)
    batches = list(open_sampler(path, size=32, batch_size=3))
    assert [len(b) for b in batches] == [3, 3, 2]
    assert [b.first_index for b in batches] == [0, 3, 6]
    assert batches[0].images.shape == (3, 32, 32, 3) and batches[0].images.dtype == np.uint8


def test_bad_options_are_rejected(clip):
    path = clip("plain.mkv", **PLAIN)
    for kwargs, message in [(dict(fps=0), "fps"), (dict(decoder="opencv"), "decoder"),
                            (dict(sampling="every"), "sampling"), (dict(size=0), "size")]:
        with pytest.raises(VideoError, match=message):
            open_sampler(path, **kwargs)


@needs_shared("broadcast-clip-360p.mp4")
@pytest.mark.parametrize("decoder", DECODERS)
def test_real_broadcast_clip_samples_23_frames_on_the_second(decoder):
    sampler = open_sampler(SHARED_DATA / "broadcast-clip-360p.mp4", decoder=decoder)
    times = np.concatenate([batch.times for batch in sampler])
    ticks = np.arange(23.0)
    assert len(times) == 23
    # each sample is the frame on screen at its tick: at most one frame (1/30 s) before it; the clip
    # drops the frames at 22.0-22.07 s, so the one shown at 22 s is the frame of 21.967 s
    assert np.all((times <= ticks + 1e-3) & (times > ticks - 1 / 30 - 1e-3))
    np.testing.assert_allclose(times[:22], ticks[:22], atol=1e-3)
    assert times[22] == pytest.approx(21.9667, abs=1e-3)
    assert sampler.expected_samples == 23
