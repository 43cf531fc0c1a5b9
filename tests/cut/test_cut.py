"""`highlight cut`: selection, reels checked with ffprobe and frame numbers, EDL / SRT / chapters parsed back."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import highlight
from highlighter.config.settings import shipped_settings
from highlighter.cut.selection import NothingSelectedError, SelectionSettings, merge_windows, select_windows
from highlighter.cut.windows import Window
from highlighter.outputs.events import Event
from tests.support import SHARED_DATA, flat, open_sampler, sample, write_events_file

FPS = 25.0
SIZE = dict(width=160, height=120)
#: the events of the single-video match (60 s): goal at 12 s, card at 30.5 s (merges with the goal), sub at 50 s
SINGLE_EVENTS = [("goal", 12.0, 0.93, None), ("card", 30.5, 0.61, None), ("substitution", 50.0, 0.47, None)]
PADDING = ["--before", "4", "--after", "6"]


def run(*args) -> object:
    return CliRunner().invoke(highlight, [*map(str, args)])


def write_events(path: Path, video: Path | str, duration: float, events: list[tuple]) -> Path:
    return write_events_file(path, video, duration, events)


@pytest.fixture(scope="module")
def single(clip, tmp_path_factory) -> Path:
    """Events of a 60 s pattern clip with audio (a key frame every 2 s)."""
    video = clip("match.mp4", seconds=60, fps=FPS, audio=True, **SIZE)
    return write_events(tmp_path_factory.mktemp("single") / "match.events.json", video, 60.0, SINGLE_EVENTS)


@pytest.fixture(scope="module")
def game(clip, tmp_path_factory) -> Path:
    """Events of a SoccerNet-style game folder with two 40 s halves (1_224p.mkv, 2_224p.mkv)."""
    folder = tmp_path_factory.mktemp("game") / "2015-02-21 - 18-00 Home 1 - 0 Away"
    folder.mkdir()
    for half in (1, 2):
        shutil.copy(clip("half.mkv", seconds=40, fps=FPS, audio=True, **SIZE), folder / f"{half}_224p.mkv")
    events = [("card", 8.0, 0.7, 2), ("goal", 20.0, 0.9, 1), ("substitution", 30.0, 0.5, 2)]
    return write_events(folder.parent / "game.events.json", folder, 80.0, events)


def ffprobe(*args) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-of", "json", *map(str, args)], capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out)


def stream_durations(path: Path) -> dict[str, float]:
    """Duration of each stream type, from the last packet's end (works for MKV too)."""
    durations = {}
    for kind in ("v", "a"):
        packets = ffprobe("-select_streams", f"{kind}:0", "-show_entries", "packet=pts_time,duration_time", path)["packets"]
        durations[kind] = max(float(p["pts_time"]) + float(p.get("duration_time", 0)) for p in packets)
    return durations


# --- selection -------------------------------------------------------------------------------------------

def event(label: str, t: float, confidence: float = 0.9, half: int | None = None) -> Event:
    return Event(label, t, t, t, confidence, half)


def test_padding_per_class_and_merging():
    settings = SelectionSettings(None, 0.0, {"default": 5, "goal": 10}, {"default": 10, "goal": 20}, None)
    windows = select_windows([event("goal", 100), event("card", 125), event("substitution", 300)], {None: 600}, settings)
    assert [(w.start_s, w.end_s) for w in windows] == [(90, 135), (295, 310)]
    assert [e.label for e in windows[0].events] == ["goal", "card"]
    assert select_windows([event("goal", 3)], {None: 15}, settings)[0].start_s == 0  # clamped to the video
    assert select_windows([event("goal", 3)], {None: 15}, settings)[0].end_s == 15


def test_max_duration_keeps_the_most_confident_then_orders_by_time():
    events = [event("goal", 100, 0.5), event("card", 300, 0.9), event("goal", 500, 0.8), event("card", 700, 0.4)]
    settings = SelectionSettings(None, 0.0, {"default": 5}, {"default": 5}, 25)
    windows = select_windows(events, {None: 1000}, settings)
    assert [w.events[0].time_s for w in windows] == [300, 500]  # the two best fit (10 s each), in match order


def test_halves_come_in_order_and_windows_never_merge_across_them():
    windows = merge_windows([Window(2, 0, 10, ()), Window(1, 2690, 2700, ()), Window(1, 5, 15, ())])
    assert [(w.half, w.start_s) for w in windows] == [(1, 5), (1, 2690), (2, 0)]


def test_classes_and_confidence_filter_and_nothing_selected():
    events = [event("goal", 100, 0.5), event("card", 300, 0.9)]
    settings = SelectionSettings.from_settings(shipped_settings().cut, classes="goal,substitution", min_confidence=0.4)
    assert [w.events[0].label for w in select_windows(events, {None: 1000}, settings)] == ["goal"]
    with pytest.raises(NothingSelectedError, match="no events selected"):
        select_windows(events, {None: 1000}, SelectionSettings.from_settings(shipped_settings().cut, min_confidence=0.95))


# --- reels ---------------------------------------------------------------------------------------------

def expected_windows(events, before=4.0, after=6.0, duration=60.0):
    return merge_windows([Window(h, max(t - before, 0), min(t + after, duration), ()) for _, t, _, h in events])


def test_reel_is_frame_accurate_with_audio_in_sync(single, tmp_path):
    out = tmp_path / "reel.mp4"
    outcome = run("cut", single, "-o", out, *PADDING, "-q")
    assert outcome.exit_code == 0, outcome.output
    windows = expected_windows(SINGLE_EVENTS)
    assert [(w.start_s, w.end_s) for w in windows] == [(8, 18), (26.5, 36.5), (46, 56)]
    total = sum(w.duration_s for w in windows)
    probed = ffprobe("-show_entries", "format=duration:stream=codec_type,codec_name", out)
    assert {s["codec_type"]: s["codec_name"] for s in probed["streams"]} == {"video": "h264", "audio": "aac"}
    durations = stream_durations(out)
    assert durations["v"] == pytest.approx(total, abs=len(windows) / FPS)
    assert abs(durations["a"] - durations["v"]) <= 0.05
    # each segment starts on the frame shown at its window's start, and runs frame by frame
    _, _, numbers = sample(out, fps=FPS, size=64)
    at = 0
    for window in windows:
        first, end = window.frames(FPS)  # the frame on screen at the start, to the one just before the end
        assert numbers[at:at + end - first] == list(range(first, end))
        at += end - first
    assert len(numbers) == at
    assert not list(tmp_path.glob(".*part*"))


def test_game_reel_spans_both_halves_in_order_with_labels(game, tmp_path):
    out = tmp_path / "reel.mkv"
    outcome = run("cut", game, "-o", out, *PADDING, "--labels", "-q")
    assert outcome.exit_code == 0, outcome.output
    _, _, numbers = sample(out, fps=FPS, size=64)
    # half 1: goal 16-26 s; half 2: card 4-14 s and substitution 26-36 s (each from its half's own start)
    expected = [*range(400, 650), *range(100, 350), *range(650, 900)]
    assert len(numbers) == pytest.approx(len(expected), abs=3)
    starts = [i for i in range(len(numbers)) if i == 0 or numbers[i] != numbers[i - 1] + 1]
    assert [numbers[i] for i in starts] == [400, 100, 650]
    durations = stream_durations(out)
    assert abs(durations["a"] - durations["v"]) <= 0.05


def test_captions_with_opencv_when_drawtext_is_not_wanted(single, tmp_path):
    plain, labelled = tmp_path / "plain.mp4", tmp_path / "labelled.mp4"
    assert run("cut", single, "-o", plain, "--classes", "goal", *PADDING, "-q").exit_code == 0
    outcome = run("cut", single, "-o", labelled, "--classes", "goal", *PADDING, "--labels", "--caption-renderer",
                  "opencv", "-q")
    assert outcome.exit_code == 0, outcome.output
    import av
    import numpy as np

    def first_frame(path):
        with av.open(str(path)) as container:
            return next(container.decode(video=0)).to_ndarray(format="rgb24").astype(int)

    difference = np.abs(first_frame(plain) - first_frame(labelled)).sum(axis=2) > 40
    rows, cols = np.nonzero(difference)
    assert difference.sum() > 100 and rows.min() > 120 * 0.6 and cols.min() < 20  # bottom left, nowhere else


def test_fast_reel_snaps_to_key_frames(single, tmp_path):
    out = tmp_path / "fast.mp4"
    outcome = run("cut", single, "-o", out, *PADDING, "--fast", "-q")
    assert outcome.exit_code == 0, outcome.output
    total = sum(w.duration_s for w in expected_windows(SINGLE_EVENTS))
    duration = stream_durations(out)["v"]
    assert total - 0.1 <= duration <= total + 3 * 2.0 + 0.1  # each cut starts at most one GOP (2 s) early
    assert "snaps to the key frame" in flat(run("cut", "--help").output)


# --- timelines -----------------------------------------------------------------------------------------

def expected_spans(events, before=4.0, after=6.0, duration=60.0, offsets=None):
    """Each event's padded window on the source timeline, ended where the next begins."""
    spans = sorted((max(t - before, 0) + (offsets or {}).get(h, 0), min(t + after, duration) + (offsets or {}).get(h, 0))
                   for _, t, _, h in events)
    return [(s, min(e, spans[i + 1][0]) if i + 1 < len(spans) else e) for i, (s, e) in enumerate(spans)]


def test_ffmeta_chapters_read_back_with_ffprobe_and_mux_into_a_copy(single, tmp_path):
    out, copy = tmp_path / "chapters.ffmeta", tmp_path / "with-chapters.mkv"
    outcome = run("cut", single, "-o", out, *PADDING, "--chapters-into", copy, "-q")
    assert outcome.exit_code == 0, outcome.output
    expected = expected_spans(SINGLE_EVENTS)
    for chapters in (ffprobe("-f", "ffmetadata", "-show_chapters", out)["chapters"],
                     ffprobe("-show_chapters", copy)["chapters"]):
        assert len(chapters) == len(SINGLE_EVENTS)
        for chapter, (start, end) in zip(chapters, expected):
            assert float(chapter["start_time"]) == pytest.approx(start, abs=0.001)
            assert float(chapter["end_time"]) == pytest.approx(end, abs=0.001)
        assert [c["tags"]["title"] for c in chapters] == ["Goal 00:12", "Card 00:30", "Substitution 00:50"]
    assert ffprobe("-show_entries", "format=duration", copy)["format"]["duration"].startswith("60.0")


def test_game_chapters_join_the_halves(game, tmp_path):
    out, copy = tmp_path / "game.ffmeta", tmp_path / "game.mkv"
    assert run("cut", game, "-o", out, *PADDING, "--chapters-into", copy, "-q").exit_code == 0
    events = [("card", 8.0, 0.7, 2), ("goal", 20.0, 0.9, 1), ("substitution", 30.0, 0.5, 2)]
    expected = expected_spans(events, duration=40.0, offsets={1: 0.0, 2: 40.0})
    chapters = ffprobe("-show_chapters", copy)["chapters"]
    assert [float(c[key]) for c in chapters for key in ("start_time", "end_time")] == pytest.approx(
        [t for span in expected for t in span], abs=0.001)
    assert [c["tags"]["title"] for c in chapters] == ["Goal 1H 00:20", "Card 2H 00:08", "Substitution 2H 00:30"]


EDL_EVENT = re.compile(r"^(\d{3})\s+(\S+)\s+V\s+C\s+(\d\d:\d\d:\d\d[:;]\d\d) (\d\d:\d\d:\d\d[:;]\d\d) "
                       r"(\d\d:\d\d:\d\d[:;]\d\d) (\d\d:\d\d:\d\d[:;]\d\d)\s*$")


def timecode_frames(timecode: str, rate: float) -> int:
    """Frame number of a CMX 3600 timecode: non-drop (``:``) or drop-frame (``;``, 29.97/59.94)."""
    hours, minutes, seconds, frames = map(int, re.split("[:;]", timecode))
    nominal = round(rate)
    if ";" not in timecode:
        return ((hours * 60 + minutes) * 60 + seconds) * nominal + frames
    dropped = 2 * nominal // 30  # 2 frame numbers per minute at 29.97, 4 at 59.94, except every tenth minute
    total_minutes = hours * 60 + minutes
    return ((total_minutes * 60 + seconds) * nominal + frames) - dropped * (total_minutes - total_minutes // 10)


def parse_edl(text: str, rate: float) -> tuple[list[str], list[tuple[int, int, int, int]]]:
    """Header lines and (source in, source out, record in, record out) frame numbers of each event."""
    header, events = [], []
    for line in text.splitlines():
        match = EDL_EVENT.match(line)
        if match:
            events.append(tuple(timecode_frames(tc, rate) for tc in match.groups()[2:]))
        elif line and not line.startswith("*") and not events:
            header.append(line)
    return header, events


def test_timecode_parser_knows_drop_frame():
    assert timecode_frames("00:01:00;02", 29.97) == 1800  # the first frame after the drop at minute 1
    assert timecode_frames("00:10:00;00", 29.97) == 17982  # ten minutes drop 18 frame numbers
    assert timecode_frames("01:00:00:00", 25) == 90000


@pytest.mark.parametrize("fps", [25.0, 29.97])
def test_edl_parses_back_to_the_windows_at_the_source_rate(clip, tmp_path, fps):
    from highlighter.video import probe

    video = clip("edl.mp4", seconds=130, fps=fps, width=64, height=48, gop=250)  # 29.97: past the drop at 1:00
    events = [("goal", 20.0, 0.9, None), ("card", 65.0, 0.8, None), ("substitution", 110.25, 0.6, None)]
    duration = probe(video).duration_s
    source = write_events(tmp_path / "edl.events.json", video, duration, events)
    out = tmp_path / "cut.edl"
    outcome = run("cut", source, "-o", out, *PADDING, "-q")
    assert outcome.exit_code == 0, outcome.output
    rate = 30000 / 1001 if fps == 29.97 else fps
    header, parsed = parse_edl(out.read_text(), rate)
    assert header[0].startswith("TITLE:")
    assert header[1] == ("FCM: DROP FRAME" if fps == 29.97 else "FCM: NON-DROP FRAME")
    windows = expected_windows(events, duration=duration)
    record = 0
    for (src_in, src_out, rec_in, rec_out), window in zip(parsed, windows, strict=True):
        assert (src_in, src_out) == (math.floor(window.start_s * rate + 1e-6), math.ceil(window.end_s * rate - 1e-6))
        assert (rec_in, rec_out) == (record, record + src_out - src_in)
        record = rec_out
    import opentimelineio as otio

    clips = list(otio.adapters.read_from_string(out.read_text(), "cmx_3600", rate=rate).find_clips())
    assert [round(c.source_range.start_time.to_seconds(), 2) for c in clips] == pytest.approx(
        [w.start_s for w in windows], abs=1 / fps)


def test_edl_refuses_a_rate_timecode_cannot_count(clip, tmp_path):
    video = clip("odd.mp4", seconds=20, fps=12.0, width=64, height=48)
    source = write_events(tmp_path / "odd.events.json", video, 20.0, [("goal", 10.0, 0.9, None)])
    outcome = run("cut", source, "-o", tmp_path / "odd.edl")
    assert outcome.exit_code == 1 and "12.000 fps" in outcome.output and "Traceback" not in outcome.output


def test_srt_has_one_subtitle_per_event(single, tmp_path):
    import srt

    out = tmp_path / "events.srt"
    assert run("cut", single, "-o", out, *PADDING, "-q").exit_code == 0
    subtitles = list(srt.parse(out.read_text()))
    assert [t for s in subtitles for t in (s.start.total_seconds(), s.end.total_seconds())] == pytest.approx(
        [t for span in expected_spans(SINGLE_EVENTS) for t in span], abs=0.001)
    assert subtitles[0].content == "Goal 00:12\nconfidence 0.93"
    reel = tmp_path / "reel.srt"
    assert run("cut", single, "-o", reel, *PADDING, "--timeline", "reel", "-q").exit_code == 0
    assert [s.start.total_seconds() for s in srt.parse(reel.read_text())] == pytest.approx([0, 10, 20])


def test_youtube_chapters_follow_the_rules_or_say_why_not(single, tmp_path):
    out = tmp_path / "chapters.txt"
    outcome = run("cut", single, "-o", out, *PADDING, "--timeline", "reel")
    assert outcome.exit_code == 0 and "YouTube will not show" not in outcome.output
    lines = out.read_text().splitlines()
    assert lines == ["0:00 Goal 00:12", "0:10 Card 00:30", "0:20 Substitution 00:50"]
    times = [int(m) * 60 + int(s) for m, s in (line.split()[0].split(":") for line in lines)]
    assert times[0] == 0 and len(times) >= 3 and all(b - a >= 10 for a, b in zip(times, times[1:]))
    crowded = tmp_path / "crowded.txt"
    outcome = run("cut", single, "-o", crowded, "--classes", "goal")  # Start and Goal: two chapters
    assert outcome.exit_code == 0
    assert "YouTube will not show these chapters" in outcome.output and "at least 3" in outcome.output


# --- bad input -----------------------------------------------------------------------------------------

def test_missing_or_different_video_is_one_line(single, clip, tmp_path):
    missing = write_events(tmp_path / "missing.events.json", tmp_path / "gone.mp4", 60.0, SINGLE_EVENTS)
    outcome = run("cut", missing, "-o", tmp_path / "reel.mp4")
    assert outcome.exit_code == 1 and "video not found" in outcome.output
    other = clip("other.mp4", seconds=20, fps=FPS, **SIZE)
    outcome = run("cut", single, "-o", tmp_path / "reel.mp4", "--video", other)
    assert outcome.exit_code == 1 and "not the same video" in outcome.output
    for result in (outcome,):
        assert result.output.strip().count("\n") == 0 and result.output.startswith("Error: ")
    assert not (tmp_path / "reel.mp4").exists()


def test_nothing_selected_writes_no_reel(single, tmp_path):
    out = tmp_path / "reel.mp4"
    outcome = run("cut", single, "-o", out, "--min-confidence", "0.99")
    assert outcome.exit_code == 1 and "no events selected" in outcome.output
    assert outcome.output.strip().count("\n") == 0
    assert not out.exists() and not list(tmp_path.iterdir())


def test_format_from_suffix_or_option(single, tmp_path):
    outcome = run("cut", single, "-o", tmp_path / "x.mov")
    assert outcome.exit_code == 1 and "--format" in outcome.output
    out = tmp_path / "chapters.meta"
    assert run("cut", single, "-o", out, "--format", "ffmeta", "-q").exit_code == 0
    assert out.read_text().startswith(";FFMETADATA1")


@pytest.mark.skipif(not (SHARED_DATA / "broadcast-clip-360p.mp4").exists(), reason="../shared/data is absent")
def test_reel_of_the_real_broadcast_clip_shows_the_sampler_s_frames(tmp_path):
    """The clip has an edit list (decord alone would be 1.7 s late): the reel's frames are the frames the
    sampler shows at the window times."""
    import numpy as np


    video = SHARED_DATA / "broadcast-clip-360p.mp4"
    events = write_events(tmp_path / "clip.events.json", video, 22.133,
                          [("goal", 5.0, 0.9, None), ("card", 17.0, 0.8, None)])
    out = tmp_path / "clip.mp4"
    assert run("cut", events, "-o", out, "--before", "2", "--after", "3", "-q").exit_code == 0
    durations = stream_durations(out)
    assert durations["v"] == pytest.approx(10.0, abs=2 / 30) and abs(durations["a"] - durations["v"]) <= 0.05

    def frames(path):
        return {round(float(t), 3): image.astype(int) for batch in open_sampler(path, fps=30, size=96, decoder="pyav")
                for t, image in zip(batch.times, batch.images)}

    source, reel = frames(video), frames(out)
    for reel_time, source_time in ((0.0, 3.0), (2.0, 5.0), (5.0, 15.0), (7.0, 17.0)):
        shown = reel[min(reel, key=lambda t: abs(t - reel_time))]
        best = min(source, key=lambda t: np.abs(source[t] - shown).mean())
        assert best == pytest.approx(source_time, abs=0.04)
