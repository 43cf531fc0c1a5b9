"""What a person sees is right (issue 22): subtitles on screen at their event, the review page at common widths,
charts that say what they show, provenance of a checkpoint, output paths and suffixes, and the small things."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import highlight
from tests.conftest import write_events_file

FPS = 25.0
SMALL = dict(width=160, height=120)
#: the events the issue's subtitles got wrong on the 22 s broadcast clip: a card at 11 s and a goal at 17 s
CLOSE_EVENTS = [("card", 11.0, 0.52, None), ("goal", 17.0, 0.98, None), ("substitution", 19.5, 0.4, None)]


def run(*args):
    return CliRunner().invoke(highlight, [*map(str, args)])


@pytest.fixture(scope="module")
def short_match(clip, tmp_path_factory) -> Path:
    """Events of a 22 s pattern clip whose padded windows overlap."""
    video = clip("short.mp4", seconds=22, fps=FPS, **SMALL)
    return write_events_file(tmp_path_factory.mktemp("short") / "short.events.json", video, 22.0, CLOSE_EVENTS)


# --- 1. subtitles --------------------------------------------------------------------------------------------

def test_finding_1_each_subtitle_covers_its_event(short_match, tmp_path):
    import srt

    out = tmp_path / "ev.srt"
    result = run("cut", short_match, "-o", out)
    assert result.exit_code == 0, result.output
    cues = list(srt.parse(out.read_text()))
    assert len(cues) == len(CLOSE_EVENTS)
    for label, time_s, _, _ in CLOSE_EVENTS:
        (cue,) = [c for c in cues if c.content.lower().startswith(label)]
        at = datetime.timedelta(seconds=time_s)
        assert cue.start <= at <= cue.end, (label, cue.start, cue.end)
    for before, after in zip(cues, cues[1:]):
        assert before.end <= after.start  # one cue at a time


# --- 6. paths and suffixes -----------------------------------------------------------------------------------

ZERO_SHOT = ["--zero-shot", "--model", "highlighter-tiny", "--pretrained", "none", "--device", "cpu"]


@pytest.fixture(scope="module")
def small_video(clip) -> Path:
    return clip("small.mp4", seconds=6, fps=FPS, **SMALL)


def test_finding_6_output_folder_with_a_slash_is_made(small_video, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("tag", small_video, *ZERO_SHOT, "-o", "newdir/", "--scores", "s.csv", "--plot", "p.png")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "newdir").is_dir()
    written = sorted(p.name for p in (tmp_path / "newdir").iterdir())
    assert f"{small_video.stem}.events.json" in written and f"{small_video.stem}.plot.png" in written
    # every output path is printed
    for name in (f"{small_video.stem}.events.json", f"{small_video.stem}.scores.csv", f"{small_video.stem}.plot.png"):
        assert name in result.output
    assert run("cut", f"newdir/{small_video.stem}.events.json", "-o", "reels/").exit_code == 1
    assert not (tmp_path / "reels").exists()


def test_finding_6_plot_and_scores_are_what_their_suffix_says(small_video, tmp_path):
    from PIL import Image

    events = tmp_path / "w.events.json"
    result = run("tag", small_video, *ZERO_SHOT, "-o", events, "--plot", tmp_path / "w.jpg",
                 "--scores", tmp_path / "w.csv")
    assert result.exit_code == 0, result.output
    with Image.open(tmp_path / "w.jpg") as image:
        assert image.format == "JPEG"
    assert (tmp_path / "w.csv").read_text().splitlines()[0] == "half,time_s,background,goal,card,substitution"
    for option, name in (("--scores", "w.txt"), ("--plot", "w.gif")):
        result = run("tag", small_video, *ZERO_SHOT, "-o", tmp_path / "x.events.json", option, tmp_path / name)
        assert result.exit_code == 1 and result.output.startswith("Error: ") and name in result.output
        assert "Traceback" not in result.output
        assert not (tmp_path / name).exists() and not (tmp_path / "x.events.json").exists()  # refused before work


def test_finding_6_missing_checkpoint_names_weights_and_zero_shot(small_video, tmp_path):
    result = run("tag", small_video, "--weights", tmp_path / "nothing", "-o", tmp_path / "e.json")
    assert result.exit_code == 1
    assert "--weights" in result.output and "--zero-shot" in result.output
