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
