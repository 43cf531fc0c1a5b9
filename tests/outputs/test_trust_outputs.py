"""Outputs stay where they are told and carry no records of their own (issue 19, findings 8-10): the files a
tag run plans from its inputs' names stay inside OUT; a label is burnt into a reel as its literal text;
every line-based timeline holds one record per event, read back with the real readers."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli import highlight
from highlighter.cut.captions import drawtext_font, drawtext_style
from highlighter.cut.reel import ReelSettings
from highlighter.cut.run import CutPlan, output_format, write_cut
from highlighter.cut.selection import SelectionSettings, select_windows
from highlighter.errors import HighlighterError
from highlighter.outputs.events import Event, EventsDocument
from highlighter.outputs.result import TagResult
from highlighter.inputs import locate_videos

SHORT = dict(seconds=4, fps=25.0, width=64, height=48)
ZERO_SHOT = ["--zero-shot", "--model", "highlighter-tiny", "--pretrained", "none", "-q"]


def tag(*args) -> object:
    """`highlight tag ARGS` with the tiny zero-shot model (random weights: no download)."""
    return CliRunner().invoke(highlight, ["tag", *map(str, args), *ZERO_SHOT])


def files_under(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def game_folder(folder: Path, clip) -> Path:
    """A SoccerNet-style game folder with two short halves."""
    folder.mkdir(parents=True, exist_ok=True)
    for half in (1, 2):
        shutil.copy(clip("half.mkv", **SHORT), folder / f"{half}_224p.mkv")
    return folder


# --- finding 8: outputs named after inputs stay inside OUT ------------------------------------------------

def test_finding_8_a_folder_given_through_dot_dot_writes_inside_out(clip, tmp_path, monkeypatch):
    game_folder(tmp_path / "game", clip)
    (tmp_path / "game" / "sub").mkdir()
    (tmp_path / "out").mkdir()
    before = files_under(tmp_path)
    monkeypatch.chdir(tmp_path)
    outcome = tag("game/sub/..", "--format", "soccernet", "-o", "out/")
    assert outcome.exit_code == 0, outcome.output
    assert files_under(tmp_path) - before == {"out/game/results_spotting.json", "out/manifest.jsonl"}
    assert json.loads((tmp_path / "out" / "game" / "results_spotting.json").read_text())["UrlLocal"] == "game"


def test_finding_8_the_working_folder_and_a_file_beside_it_write_inside_out(clip, tmp_path, monkeypatch):
    here = game_folder(tmp_path / "in", clip)
    shutil.copy(clip("other.mkv", **SHORT), tmp_path / "other.mkv")
    before = files_under(tmp_path)
    monkeypatch.chdir(here)
    outcome = tag(".", "../other.mkv", "-o", "../out2/", "--scores", "x.npz")
    assert outcome.exit_code == 0, outcome.output
    assert files_under(tmp_path) - before == {"out2/in.events.json", "out2/in.scores.npz", "out2/other.events.json",
                                              "out2/other.scores.npz", "out2/manifest.jsonl"}


def test_finding_8_a_video_named_with_dots_writes_inside_out(clip, tmp_path):
    video = tmp_path / "videos" / "...mkv"  # its stem is ".."
    video.parent.mkdir()
    shutil.copy(clip("dots.mkv", **SHORT), video)
    out = tmp_path / "videos" / "out"
    out.mkdir()
    before = files_under(tmp_path)
    outcome = tag(video, "--format", "soccernet", "-o", out)
    assert outcome.exit_code == 0, outcome.output
    assert files_under(tmp_path) - before == {"videos/out/_../results_spotting.json", "videos/out/manifest.jsonl"}


@pytest.mark.parametrize("name", ["..", ".", "../elsewhere", "/tmp/elsewhere", ""])
def test_finding_8_the_planner_refuses_an_output_outside_out(tmp_path, name):
    from highlighter.tagging.jobs import output_paths

    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(HighlighterError, match="outside"):
        output_paths(name, out, False, "soccernet", None, None)


def test_finding_8_the_planner_refuses_a_game_folder_in_out_that_leads_elsewhere(tmp_path):
    from highlighter.tagging.jobs import output_paths

    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "game").symlink_to(elsewhere)
    with pytest.raises(HighlighterError, match="outside"):
        output_paths("game", out, False, "soccernet", None, None)
    assert output_paths("game", out, False, "json", None, None)[0] == out / "game.events.json"


# --- finding 9: captions show the label's literal text ------------------------------------------------------

#: 320x240: captions large enough to hold a whole label
REEL = dict(seconds=12, fps=25.0, width=320, height=240)
AT_S = 2.0  # the event: its reel runs from 1 s to 3 s of the match


def cut(video: Path, labels: list[str], out: Path, labelled: bool = False, at_s: float = AT_S) -> None:
    """Cut events labelled ``labels`` (at ``at_s``, then every 20 s, each with 1 s either side) of ``video``
    into ``out``, in process:
    the labels reach the writers as a checkpoint's class names do, whatever an events file reader accepts.
    Reels are lossless (crf 0), so a caption can be compared pixel for pixel."""
    events = [Event(label, at_s + 20 * n, at_s + 20 * n, at_s + 20 * n, 0.9) for n, label in enumerate(labels)]
    document = EventsDocument(where="test", video=str(video), duration_s=None, events=events)
    videos = locate_videos(document)
    selection = SelectionSettings(classes=None, min_confidence=0.0, before_s={"default": 1.0},
                                  after_s={"default": 1.0}, max_duration_s=None)
    windows = select_windows(events, {h.half: h.info.duration_s for h in videos.halves}, selection)
    reel = ReelSettings(fast=False, labels=labelled, crf=0, preset="ultrafast", caption_renderer="drawtext")
    write_cut(CutPlan(out, output_format(out), videos, windows, selection), reel)


def first_frame(path: Path) -> np.ndarray:
    import av

    with av.open(str(path)) as container:
        return next(container.decode(video=0)).to_ndarray(format="rgb24")


@pytest.fixture(scope="module")
def reel_source(clip, tmp_path_factory) -> tuple[Path, Path]:
    """The match, and its (lossless) reel of an event at AT_S without a caption."""
    if drawtext_font() is None:
        pytest.skip("FFmpeg has no drawtext or no font is installed")
    video = clip("captions.mp4", **REEL)
    plain = tmp_path_factory.mktemp("plain") / "plain.mkv"
    cut(video, ["goal"], plain)
    return video, plain


def assert_caption_reads(labelled: Path, plain: Path, shown: str, scratch: Path) -> None:
    """The captioned reel's first frame is the plain reel's with ``shown`` drawn on it by drawtext from a
    text file with expansion off (the literal text; no escaping layer between it and the screen)."""
    (scratch / "shown.txt").write_text(shown, encoding="utf-8")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(plain), "-frames:v", "1", "-vf",
                    f"drawtext={drawtext_style(REEL['height'])}:textfile=shown.txt:expansion=none",
                    "-c:v", "libx264", "-crf", "0", "-pix_fmt", "yuv420p", "reference.mkv"], cwd=scratch, check=True)
    on_screen, reference = first_frame(labelled), first_frame(scratch / "reference.mkv")
    assert (np.abs(on_screen.astype(int) - first_frame(plain)).sum(axis=2) > 60).sum() > 100  # a caption is there
    assert np.array_equal(on_screen, reference)


@pytest.mark.parametrize("label, shown", [
    ("goal%{pts}", "Goal%{pts} 00:02"),  # was burnt in as "Goal1.000000"
    ("goal%{eif:1/0:d}", "Goal%{eif:1/0:d} 00:02"),  # dropped every caption
    ("goal\\net\\", "Goal\\net\\ 00:02"),  # backslashes were eaten
    ("goal\x00hidden", "Goal hidden 00:02"),  # NUL cut the caption short
    ("goal\ncard\r", "Goal card 00:02"),  # one line
])
def test_finding_9_captions_show_the_label_literally(reel_source, tmp_path, label, shown):
    video, plain = reel_source
    labelled = tmp_path / "labelled.mkv"
    cut(video, [label], labelled, labelled=True)
    assert_caption_reads(labelled, plain, shown, tmp_path)


def test_finding_9_captions_survive_a_scratch_folder_with_filter_graph_characters(reel_source, tmp_path,
                                                                                   monkeypatch):
    video, plain = reel_source
    scratch = tmp_path / "tmp:a,b;c'd[e]=f\\g"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    labelled = tmp_path / "labelled.mkv"
    cut(video, ["goal"], labelled, labelled=True)
    assert_caption_reads(labelled, plain, "Goal 00:02", tmp_path)


# --- finding 10: one record per event in every line-based output --------------------------------------------

#: labels that tried to add records to each format (a blank line and a cue for SRT, an edit for CMX 3600, a
#: chapter line for YouTube, a [CHAPTER] section for FFmetadata after NUL or CR), and other line breaks
HOSTILE = [
    "goal\n\n7\n00:00:01,000 --> 00:00:02,000\ninjected cue\r\n\r\n8\r\n00:00:03,000 --> 00:00:04,000\r\nagain",
    "card\n002  AX       V     C        00:00:00:00 00:00:01:00 00:00:00:00 00:00:01:00\n0:30 Injected chapter",
    "substitution\x00\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=1000\nEND=2000\ntitle=injected\r[CHAPTER]\u2028\x85\x0b",
]
EDL_EVENT = re.compile(r"^\d{3}\s+\S+\s+V\s+C\s+(\d\d:\d\d:\d\d[:;]\d\d ){3}\d\d:\d\d:\d\d[:;]\d\d\s*$")


@pytest.fixture(scope="module")
def hostile_match(clip, tmp_path_factory) -> Path:
    """A 70 s match whose file name tries to add an edit to an EDL (the EDL names its video)."""
    video = tmp_path_factory.mktemp("hostile") / (
        "my match\n002  AX       V     C        00:00:00:00 00:00:01:00 00:00:00:00 00:00:01:00.mp4")
    shutil.copy(clip("timeline.mp4", seconds=70, fps=25.0, width=64, height=48), video)
    return video


def timeline(video: Path, folder: Path, suffix: str) -> Path:
    out = folder / f"timeline.{suffix}"
    cut(video, HOSTILE, out, at_s=12.0)  # events at 12, 32 and 52 s
    return out


def test_finding_10_an_edl_has_one_edit_per_event(hostile_match, tmp_path):
    import opentimelineio as otio

    text = timeline(hostile_match, tmp_path, "edl").read_text()
    clips = list(otio.adapters.read_from_string(text, "cmx_3600", rate=25).find_clips())
    assert len(clips) == 3 and [c.name.split()[0] for c in clips] == ["Goal", "Card", "Substitution"]
    assert sum(bool(EDL_EVENT.match(line)) for line in text.splitlines()) == 3
    assert all(line == "" or line.startswith(("TITLE:", "FCM:", "*")) or EDL_EVENT.match(line)
               for line in text.splitlines())


def test_finding_10_subtitles_have_one_cue_per_event(hostile_match, tmp_path):
    import srt

    out = timeline(hostile_match, tmp_path, "srt")
    cues = list(srt.parse(out.read_text(encoding="utf-8")))
    assert [c.content.splitlines()[0].split()[0] for c in cues] == ["Goal", "Card", "Substitution"]
    assert all(len(c.content.splitlines()) == 2 for c in cues)  # the title, and the confidence
    packets = json.loads(subprocess.run(["ffprobe", "-v", "error", "-of", "json", "-show_packets", str(out)],
                                        capture_output=True, text=True, check=True).stdout)["packets"]
    assert len(packets) == 3


def test_finding_10_youtube_chapters_have_one_line_per_chapter(hostile_match, tmp_path):
    lines = timeline(hostile_match, tmp_path, "txt").read_text(encoding="utf-8").splitlines()
    assert [line.split()[:2] for line in lines] == [["0:00", "Start"], ["0:11", "Goal"], ["0:31", "Card"],
                                                    ["0:51", "Substitution"]]


def test_finding_10_ffmetadata_has_one_chapter_per_event(hostile_match, tmp_path):
    out = timeline(hostile_match, tmp_path, "ffmeta")
    chapters = json.loads(subprocess.run(["ffprobe", "-v", "error", "-of", "json", "-f", "ffmetadata",
                                          "-show_chapters", str(out)],
                                         capture_output=True, text=True, check=True).stdout)["chapters"]
    assert [c["tags"]["title"].split()[0] for c in chapters] == ["Goal", "Card", "Substitution"]
    assert [float(c["start_time"]) for c in chapters] == [11.0, 31.0, 51.0]


def test_finding_10_an_events_csv_has_one_line_per_event(tmp_path):
    import pandas as pd

    events = [Event(label, 10.0 * n, 10.0 * n, 10.0 * n + 1, 0.5) for n, label in enumerate(HOSTILE)]
    result = TagResult(source="match.mp4", duration_s=60.0, fps=25.0, model={}, classes=["background"],
                       events=events, curves=[])
    out = result.save(tmp_path / "events.csv", "csv")
    assert len(out.read_bytes().split(b"\n")) == len(events) + 2  # header, events, the final newline
    table = pd.read_csv(out)
    assert [label.split()[0] for label in table["label"]] == ["goal", "card", "substitution"]


def test_finding_10_a_chaptered_copy_of_a_game_names_no_path_in_its_concat_list(clip, tmp_path):
    """The halves of a game folder whose name holds a quote and a line break (given with --video: an events file
    cannot name it, its video must be one line) are joined by FFmpeg's concat demuxer, whose list is line-based:
    the copy holds both halves, nothing else."""
    from tests.support import write_events_file

    folder = game_folder(tmp_path / "it's\nfile 'elsewhere.mkv", clip)
    events = write_events_file(tmp_path / "game.events.json", "game", 8.0, [("goal", 2.0, 0.9, 1), ("card", 2.0, 0.8, 2)])
    copy = tmp_path / "copy.mkv"
    outcome = CliRunner().invoke(highlight, ["cut", str(events), "-o", str(tmp_path / "game.ffmeta"),
                                             "--chapters-into", str(copy), "--video", str(folder), "-q"])
    assert outcome.exit_code == 0, outcome.output
    probed = json.loads(subprocess.run(["ffprobe", "-v", "error", "-of", "json", "-show_chapters", "-show_entries",
                                        "format=duration", str(copy)], capture_output=True, text=True,
                                       check=True).stdout)
    assert float(probed["format"]["duration"]) == pytest.approx(8.0, abs=0.1)
    assert [c["tags"]["title"] for c in probed["chapters"]] == ["Goal 1H 00:02", "Card 2H 00:02"]


def test_finding_10_the_reviewers_table_shows_labels_and_names_literally():
    """Rich reads ``[...]`` as markup: a label or a file name from a hostile events file is shown as written,
    neither restyled, nor hidden, nor turned into a link."""
    from rich.console import Console

    from highlighter.cli.tables import events_table

    labels = ["[link=https://evil.example]goal[/link]", "card[/]", "[bold red]substitution"]
    events = [Event(label, 10.0 * n, 10.0 * n, 10.0 * n + 1, 0.5) for n, label in enumerate(labels)]
    result = TagResult(source="[blink]match.mp4", duration_s=60.0, fps=25.0, model={},
                       classes=["background", *labels], events=events, curves=[])
    console = Console(record=True, width=200, force_terminal=True)
    console.print(events_table(result))
    shown = console.export_text()
    assert "[blink]match.mp4" in shown
    assert all(label in shown for label in labels)
    assert "href" not in console.export_html()  # no link, only the literal text
