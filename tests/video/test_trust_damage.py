"""Damaged and partial files (issue 19, findings 3 to 5): a transport stream with zeros or random bytes over its
middle keeps every sample at its true time and never ends in a traceback; a truncated file, or one still being
written, is a visible partial decode (warning, events JSON, manifest, exit code) that cut and report accept."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli import highlight
from highlighter.video import probe
from highlighter.video.timeline import Clock
from tests.support import SMALL, flat, open_sampler, sample

DECODERS = ["auto", "decord", "pyav"]
#: A minute of 320x180 H.264 in MPEG-TS with B-frames (x264's default preset), 25 fps, a key frame every 2 s.
BROADCAST = dict(seconds=60, width=320, height=180)
ZERO_TINY_MODEL = ["--zero-shot", "--model", "highlighter-tiny", "--pretrained", "none"]


def damaged_copy(source: Path, folder: Path, name: str, at: float, garbage: bytes) -> Path:
    """A copy of ``source`` with ``garbage`` written over it from ``at`` (a fraction of its size) on, as
    ``dd conv=notrunc`` does."""
    data = bytearray(source.read_bytes())
    start = int(len(data) * at)
    data[start:start + len(garbage)] = garbage
    path = folder / name
    path.write_bytes(bytes(data))
    return path


@pytest.fixture(scope="module")
def broadcast(clip) -> Path:
    return clip("broadcast.ts", **BROADCAST)


@pytest.fixture(scope="module")
def zeroed(broadcast, tmp_path_factory) -> Path:
    """150 kB of zeros over the second third: the demuxer loses sync (EAGAIN) and the decoder is flushed."""
    return damaged_copy(broadcast, tmp_path_factory.mktemp("zeroed"), "zeroed.ts", 1 / 3, bytes(150_000))


@pytest.fixture(scope="module")
def scrambled(broadcast, tmp_path_factory) -> Path:
    """20 kB of random bytes over the middle: two frames from before the damage decode after later ones."""
    garbage = random.Random(0).randbytes(20_000)
    return damaged_copy(broadcast, tmp_path_factory.mktemp("scrambled"), "scrambled.ts", 1 / 2, garbage)


def assert_on_time(times: np.ndarray, numbers: list[int], damaged_pictures: int = 2) -> None:
    """Each sample is the frame on screen at its own tick (a whole second, or the last frame before a hole,
    once), at that frame's time, showing that frame, except at most ``damaged_pictures`` whose picture the
    damage spoilt (FFmpeg shows them so too); the last at 59 s."""
    ticks = np.ceil(times - 1e-3)
    assert np.all(np.diff(ticks) > 0) and np.all(ticks - times < 1)
    assert round(times[-1], 3) == 59 and numbers[-1] == 59 * 25
    wrong = [(round(t, 2), n) for t, n in zip(times, numbers) if n != round(t * 25)]
    assert len(wrong) <= damaged_pictures, f"samples showing another frame than their time's: {wrong}"


# --- finding 3: zeros over a transport stream ----------------------------------------------------------


@pytest.mark.parametrize("decoder", DECODERS)
def test_finding_3_zeros_over_a_transport_stream_decode_as_ffmpeg_decodes_them(zeroed, decoder):
    """Reading resumes after the unreadable stretch (as the ffmpeg tool does), frames flushed from the
    decoder keep their times (no NaN), and the lost stretch stays a hole: later samples are on time."""
    sampler = open_sampler(zeroed, size=64, decoder=decoder)
    times, _, numbers = sample(zeroed, size=64, decoder=decoder)
    assert_on_time(times, numbers)
    assert 30 < len(times) < 60  # the stretch the zeros hid has no samples
    assert sampler.info.length_s == pytest.approx(60.0, abs=0.05) and sampler.info.discontinuities == ()


def test_finding_3_commands_on_zeros_over_a_transport_stream(zeroed, tmp_path):
    """`info` reports the minute FFmpeg decodes; `frames` and `tag` finish without a traceback."""
    details = json.loads(CliRunner().invoke(highlight, ["info", str(zeroed), "--json"]).output)
    assert details["scanned_duration_s"] == pytest.approx(60.0, abs=0.05) and details["samples"] == 60
    frames = CliRunner().invoke(highlight, ["frames", str(zeroed), "-o", str(tmp_path / "frames"), "--quiet"])
    assert frames.exit_code == 0 and frames.exception is None, frames.output
    listed = (tmp_path / "frames" / "frames.csv").read_text().splitlines()
    assert listed[-1].split(",")[1].startswith("59.0")
    out = tmp_path / "zeroed.events.json"
    tagged = CliRunner().invoke(highlight, ["tag", str(zeroed), *ZERO_TINY_MODEL, "-o", str(out), "--quiet"])
    assert tagged.exit_code == 0 and tagged.exception is None, tagged.output
    document = json.loads(out.read_text())
    assert document["duration_s"] == pytest.approx(60.0, abs=0.05) and "partial" not in document


# --- finding 4: random bytes, glitches against resets -------------------------------------------------


@pytest.mark.parametrize("decoder", DECODERS)
def test_finding_4_random_bytes_in_a_transport_stream_keep_every_sample_on_time(scrambled, decoder):
    """Frames that decode late after the damage are dropped, not taken for a timestamp reset that would
    shift the rest of the file."""
    sampler = open_sampler(scrambled, size=64, decoder=decoder)
    batches = list(sampler)
    times = np.concatenate([batch.times for batch in batches])
    assert sampler.discontinuities == [] and sampler.info.discontinuities == ()
    _, _, numbers = sample(scrambled, size=64, decoder=decoder)
    assert_on_time(times, numbers)
    assert sampler.info.length_s == pytest.approx(60.0, abs=0.05)


def test_finding_4_clock_drops_a_late_frame_but_rebases_a_real_reset():
    frame = 0.04
    before = [round(n * frame, 2) for n in range(1530)]  # 0 .. 61.16
    after = [round(61.2 + n * frame, 2) for n in range(50)]
    glitch = Clock(frame)
    timed = list(glitch.retime(before + [59.92] + after, lambda raw: raw))
    assert [t for t, _ in timed] == before + after  # the late frame is dropped, the rest stays on time
    assert glitch.discontinuities == [] and glitch.dropped == 1
    two_recordings = [round(1.4 + n * frame, 2) for n in range(30)] * 2  # the whole second one from the new base
    reset = Clock(frame)
    timed = [round(t, 2) for t, _ in reset.retime(two_recordings, lambda raw: raw)]
    assert timed == [round(1.4 + n * frame, 2) for n in range(60)] and len(reset.discontinuities) == 1
    none_or_nan = Clock(frame)
    assert [t for t, _ in none_or_nan.retime([0.0, None, float("nan"), 0.04], lambda raw: raw)] == [0.0, 0.04]


def test_finding_4_forward_step_over_lost_bytes_is_a_hole_not_a_splice():
    """In a transport stream a step of more than 10 s forward is a splice (re-based) where the next packet
    follows at once, and a hole (kept) where the bytes between could have carried the missing time."""
    frame, rate = 0.04, 10_000  # bytes per second
    steady = [(n * frame, int(n * frame * rate)) for n in range(250)]  # 10 s
    for gap_bytes, kept in ((400, False), (20 * rate, True)):
        clock = Clock(frame, forward_limit_s=10.0)
        after = [(30.0 + n * frame, steady[-1][1] + gap_bytes + int(n * frame * rate)) for n in range(50)]
        timed = [t for t, _ in clock.retime(steady + after, lambda item: item[0], lambda item: item[1])]
        assert timed[250] == pytest.approx(30.0 if kept else 10.0)
        assert len(clock.discontinuities) == (0 if kept else 1)


# --- finding 5: partial decodes are visible -----------------------------------------------------------


def tag(*args) -> tuple[int, str]:
    outcome = CliRunner().invoke(highlight, ["tag", *map(str, args), *ZERO_TINY_MODEL])
    assert outcome.exception is None or isinstance(outcome.exception, SystemExit), outcome.output
    return outcome.exit_code, flat(outcome.output)


def manifest(folder: Path) -> dict[str, dict]:
    return {r["input"]: r for r in map(json.loads, (folder / "manifest.jsonl").read_text().splitlines())}


def test_finding_5_a_truncated_mkv_is_a_partial_decode_that_cut_and_report_accept(clip, tmp_path):
    whole = clip("match.mkv", seconds=60, **SMALL)
    video = tmp_path / "match.mkv"  # the first quarter of it, as a copy that stopped (or one still being written)
    video.write_bytes(whole.read_bytes()[: whole.stat().st_size // 4])

    events = tmp_path / "match.events.json"
    code, output = tag(video, "-o", events)
    assert code == 1 and "Error:" in output and "decoded only in part" in output
    assert "decoding stopped at" in output and "a partial decode" in output  # the warning line
    document = json.loads(events.read_text())
    decoded = document["duration_s"]
    assert 5 < decoded < 30 and document["declared_duration_s"] == pytest.approx(60.0)
    [partial] = document["partial"]
    assert partial["half"] is None and partial["decoded_s"] == decoded and partial["declared_s"] == pytest.approx(60.0)
    assert "truncated" in partial["reason"]
    assert all(event["time_s"] <= decoded for event in document["events"])

    out = tmp_path / "out"
    out.mkdir()
    for _ in range(2):  # the next run tags it again (the file may be whole by then), and says so again
        code, output = tag(video, "-o", out, "--quiet")
        assert code == 1 and "decoded only in part" in output and "skipped" not in output
        record = manifest(out)[str(video)]
        assert record["status"] == "partial" and "truncated" in record["error"]

    shutil.copyfile(whole, video)  # the file is whole now: its events still hold for the span decoded
    goal = decoded - 2  # an event the random model may not have found, its padding running past the span
    document["events"] = [{"label": "goal", "time_s": goal, "timecode": "", "start_s": goal - 1, "end_s": goal + 1,
                           "confidence": 0.9, "half": None}]
    events.write_text(json.dumps(document))
    srt = tmp_path / "match.srt"
    cut = CliRunner().invoke(highlight, ["cut", str(events), "-o", str(srt), "--classes", "all"])
    assert cut.exit_code == 0, cut.output
    assert flat(cut.output).count("the events cover only the first") == 1
    ends = [line.split(" --> ")[1] for line in srt.read_text().splitlines() if " --> " in line]
    assert ends and all(_seconds(end) <= decoded + 1e-3 for end in ends)
    page = CliRunner().invoke(highlight, ["report", str(events)])
    assert page.exit_code == 0 and flat(page.output).count("the events cover only the first") == 1, page.output


def _seconds(srt_time: str) -> float:
    hours, minutes, seconds = srt_time.strip().replace(",", ".").split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


@pytest.mark.parametrize("name, args, reason", [
    ("live.ts", (), "ends inside a packet"),
    ("live.mp4", ("-movflags", "frag_keyframe+empty_moov"), "ends inside a packet"),
    ("live.mkv", (), "decoding stopped at"),
])
def test_finding_5_a_file_still_being_written_is_a_partial_decode(clip, tmp_path, name, args, reason):
    """A copy of a recording in progress (its first bytes, cut anywhere) is partial; so is a file that grows
    while it is read."""
    whole = clip(name, seconds=20, codec_args=args, **SMALL)
    data = whole.read_bytes()
    snapshot = tmp_path / name
    snapshot.write_bytes(data[: len(data) * 2 // 5 + 77])
    sampler = open_sampler(snapshot, size=32)
    samples = sum(len(batch) for batch in sampler)
    assert reason in sampler.partial and 4 <= samples < 10 and sampler.decoded_s < 10

    growing = tmp_path / f"growing-{name}"
    growing.write_bytes(data[: len(data) // 2])
    sampler = open_sampler(growing, size=32)
    with growing.open("ab") as handle:  # the recorder writes on while the file is read
        handle.write(data[len(data) // 2:])
    list(sampler)
    assert sampler.partial is not None
    assert probe(whole, scan_packets=True).cut_off is False
