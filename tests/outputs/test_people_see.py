"""What a person sees is right (issue 22): subtitles on screen at their event, the review page at common widths,
charts that say what they show, provenance of a checkpoint, output paths and suffixes, and the small things."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import highlight
from tests.support import flat, write_events_file

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


# --- 2. the review page at common widths ---------------------------------------------------------------------

PAGE_GEOMETRY = """(function () {
  var box = function (el) { var b = el.getBoundingClientRect(); return {left: b.left, top: b.top, right: b.right,
                                                                       bottom: b.bottom, width: b.width}; };
  var list = document.getElementById('events').closest('section');
  return {page: document.documentElement.scrollWidth, width: innerWidth, height: innerHeight,
          video: box(document.getElementById('player')), list: box(list),
          cells: Array.from(document.querySelectorAll('#ev-1 td')).map(box)};
})()"""
WIDTHS = {1280: 900, 1024: 800, 390: 844}


@pytest.fixture(scope="module")
def review_page(clip, tmp_path_factory) -> Path:
    """The review page of a 60 s clip with six events (thumbnails decoded), beside its video."""
    import os

    folder = tmp_path_factory.mktemp("page")
    os.link(clip("page.mp4", seconds=60, fps=FPS, **SMALL), folder / "page.mp4")
    events = [("substitution", 5.0, 0.41, None), ("card", 11.0, 0.52, None), ("goal", 17.0, 0.98, None),
              ("goal", 30.0, 0.6, None), ("card", 44.0, 0.7, None), ("substitution", 55.0, 0.5, None)]
    events_file = write_events_file(folder / "page.events.json", "page.mp4", 60.0, events)
    assert run("report", events_file, "-q").exit_code == 0
    return folder / "page.report.html"


def at_width(browser, page: Path, width: int) -> dict:
    from tests.chromium import file_url

    browser.send("Emulation.setDeviceMetricsOverride", width=width, height=WIDTHS[width], deviceScaleFactor=1,
                 mobile=width < 600)
    browser.load(file_url(page))
    browser.evaluate("document.head.insertAdjacentHTML('beforeend', '<style>*{transition:none!important}</style>')")
    return browser.evaluate(PAGE_GEOMETRY)


@pytest.mark.parametrize("width", list(WIDTHS))
def test_finding_2_review_page_at_common_widths(review_page, browser, width, tmp_path):
    try:
        shape = at_width(browser, review_page, width)
        browser.screenshot(tmp_path / f"top-{width}.png")
        assert shape["page"] <= width  # no horizontal scroll
        video, list_box = shape["video"], shape["list"]
        if width >= 1024:  # every column of a row lies inside the list, on screen
            assert all(cell["width"] > 0 and list_box["left"] <= cell["left"] and cell["right"] <= list_box["right"]
                       for cell in shape["cells"]), shape["cells"]
        beside = video["left"] >= list_box["right"]
        above = video["bottom"] <= list_box["top"] + 1
        assert beside or above, (video, list_box)
        assert beside == (width == 1280)
        # the last event, played from the bottom of the page, plays in sight
        browser.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
        browser.evaluate("document.querySelector('#ev-6 td.num').click()", gesture=True)
        shape = browser.evaluate(PAGE_GEOMETRY)
        browser.screenshot(tmp_path / f"played-{width}.png")
        assert 0 <= shape["video"]["top"] and shape["video"]["bottom"] <= shape["height"], shape["video"]
        # a thumbnail enlarges on click (and back on a second click)
        small = browser.evaluate("document.querySelector('#ev-6 figure img').getBoundingClientRect().width")
        browser.evaluate("document.querySelector('#ev-6 figure').click()")
        large = browser.evaluate("document.querySelector('#ev-6 figure img').getBoundingClientRect().width")
        assert large >= 3 * small >= 150
        assert browser.evaluate("document.querySelector('#ev-6').classList.contains('active')")  # it plays on
        browser.evaluate("document.querySelector('#ev-6 figure').click()")
        assert browser.evaluate("document.querySelector('#ev-6 figure img').getBoundingClientRect().width") == small
    finally:
        browser.send("Emulation.setDeviceMetricsOverride", width=1400, height=1000, deviceScaleFactor=1, mobile=False)


# --- 3. charts say what they show ----------------------------------------------------------------------------

def tag_result(halves=(None,)):
    """A TagResult of a 22 s video (or game with these ``halves``) with the crowd's loudness and curves whose raw
    card peak (0.92) stands above its event's confidence."""
    import numpy as np

    from highlighter.outputs.scores import ScoreCurves
    from highlighter.outputs.events import Event
    from highlighter.outputs.result import TagResult

    classes = ["background", "goal", "card", "substitution"]
    times = np.arange(22.0)
    probabilities = np.full((22, 4), 0.05)
    probabilities[11, 2], probabilities[17, 1] = 0.92, 0.97
    probabilities[:, 0] = 1 - probabilities[:, 1:].sum(axis=1)
    curves = ScoreCurves(classes, times, probabilities, np.linspace(-30, -10, 22))
    events = [Event(label, t, t - 2, t + 3, c, half) for half in halves
              for label, t, c in (("card", 11.0, 0.52), ("goal", 17.0, 0.98))]
    return TagResult("broadcast.mp4", 22.0, 1.0, {"name": "highlighter-tiny"}, classes, events,
                     [(half, curves) for half in halves])


def test_finding_3_plot_reads_in_mm_ss_with_the_legend_clear_of_the_labels():
    from highlighter.outputs.plot import score_figure

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    figure = score_figure(tag_result())
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    renderer = canvas.get_renderer()
    axis = figure.axes[0]
    low, high = axis.get_xlim()
    shown = [label for at, label in zip(axis.get_xticks(), axis.get_xticklabels()) if low <= at <= high]
    assert [label.get_text() for label in shown] == ["00:00", "00:05", "00:10", "00:15", "00:20"]
    legend = axis.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["goal", "card", "substitution", "loudness (dB, right axis)"]
    legend_box = legend.get_window_extent(renderer)
    labels = [t for t in axis.texts if t.get_text() in ("card", "goal")]
    assert len(labels) == 2
    for text in labels + shown:
        assert not legend_box.overlaps(text.get_window_extent(renderer)), text.get_text()
    assert not legend_box.overlaps(axis.get_window_extent(renderer))  # beside the curves, not over them


def test_finding_3_review_chart_says_what_the_dots_are(tmp_path):
    import re

    from highlighter.config.settings import shipped_settings
    from highlighter.review.build import ReviewSettings, report_for_result

    settings = ReviewSettings.from_settings(shipped_settings().report, shipped_settings().video)
    page = report_for_result(tag_result(), tmp_path / "b.events.json", settings).path.read_text()
    legend = re.search(r'<span class="dots"[^>]*>([^<]*)</span>', page).group(1)
    assert "raw" in legend and "smoothed" in legend and "confidence" in legend
    assert "loudness" in page.split('class="legend"', 1)[1].split("</div>", 1)[0]
    assert "dot at its confidence 0.52 (the smoothed score&#x27;s peak); the raw curve reads 0.92 there" in page


# --- 4. a page built from a CSV events file ------------------------------------------------------------------

def test_finding_4_page_from_a_csv_says_what_it_knows(clip, tmp_path):
    import re

    video = clip("csv.mp4", seconds=22, fps=FPS, **SMALL)
    (tmp_path / "b.events.csv").write_text("label,time_s,timecode,start_s,end_s,confidence,half\n"
                                           "card,11.0,00:00:11.0,9.0,14.0,0.52,\ngoal,17.0,00:00:17.0,15.0,20.5,0.98,\n")
    for extra, last_tick in (([], "00:20"), (["--video", video], "00:20")):
        page = tmp_path / "b.html"
        result = run("report", tmp_path / "b.events.csv", "-o", page, "--thumbnails", "0", "-q", *extra)
        assert result.exit_code == 0, result.output
        html = page.read_text()
        assert "zero-shot" not in html and "not recorded in this events file" in html
        ticks = re.findall(r'<text class="axis" x="[\d.]+" y="164" text-anchor="\w+">([\d:]+)</text>', html)
        assert ticks[-1] == last_tick and "01:00" not in ticks, ticks
    assert "<dt>duration</dt><dd>00:22</dd>" in html  # the video's own duration, with --video


# --- 5. provenance ------------------------------------------------------------------------------------------

def test_finding_5_checkpoint_records_its_synthetic_training_data(trained, synth_root, test_game, tmp_path):
    import json
    import shutil

    from highlighter.model.classifier import load_checkpoint
    from highlighter.provenance import game_is_synthetic, video_is_synthetic
    from highlighter.model.checkpoint import CheckpointError, read_spec

    _, result = trained
    meta = json.loads((result.checkpoint / "highlighter.json").read_text())
    assert meta["trained_on"] == {"data": "synthetic", "train_games": 4, "val_games": 1, "test_games": 1,
                                  "synthetic_games": 6, "classes": ["background", "goal", "card", "substitution"]}
    assert game_is_synthetic(test_game) and video_is_synthetic(next(test_game.glob("1_*.mkv")))
    # a checkpoint written before the field existed still loads; a malformed one is one error naming the key
    old = tmp_path / "old"
    shutil.copytree(result.checkpoint, old)
    del meta["trained_on"]
    (old / "highlighter.json").write_text(json.dumps(meta))
    assert read_spec(old).trained_on is None and load_checkpoint(old) is not None
    meta["trained_on"] = {"data": "drawings", "train_games": 4, "val_games": 1, "test_games": 1,
                          "synthetic_games": 6, "classes": ["goal"]}
    (old / "highlighter.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="trained_on.data"):
        read_spec(old)


def test_finding_5_synthetic_checkpoint_on_real_footage_is_flagged(trained, test_game, clip, tmp_path):
    import json

    from highlighter.provenance import video_is_synthetic

    _, result = trained
    real = clip("real.mp4", seconds=8, fps=FPS, **SMALL)  # not made by `highlight synth`
    assert not video_is_synthetic(real)
    outcome = run("tag", real, "--weights", result.checkpoint, "-o", tmp_path / "real.events.json", "--report")
    assert outcome.exit_code == 0, outcome.output
    assert "trained on synthetic games only" in flat(outcome.output)
    document = json.loads((tmp_path / "real.events.json").read_text())
    assert document["model"]["trained_on"]["data"] == "synthetic"
    assert "model trained on synthetic games (4 train, 1 val, 1 test)" in flat(outcome.output)
    page = (tmp_path / "real.report.html").read_text()
    assert "<dt>trained on</dt><dd>synthetic games (4 train, 1 val, 1 test): background, goal, card, substitution" \
        in page
    # on its own kind of video, no warning
    outcome = run("tag", next(test_game.glob("1_*.mkv")), "--weights", result.checkpoint, "-o",
                  tmp_path / "synth.events.json")
    assert outcome.exit_code == 0 and "synthetic games only" not in outcome.output


# --- 7. the small things ------------------------------------------------------------------------------------

def test_finding_7_cut_suggests_a_class_and_counts_in_plain_english(short_match, tmp_path):
    outcome = run("cut", short_match, "-o", tmp_path / "x.srt", "--classes", "goals")
    assert outcome.exit_code == 1 and outcome.output.startswith("Error: ")
    assert "did you mean 'goal'?" in outcome.output and not (tmp_path / "x.srt").exists()
    outcome = run("cut", short_match, "-o", tmp_path / "x.srt", "--classes", "goal")
    assert outcome.exit_code == 0 and "1 event in 1 window," in outcome.output, outcome.output


def test_finding_7_no_blank_line_before_an_error(tmp_path):
    outcome = run("tag", tmp_path / "missing.mp4", *ZERO_SHOT)
    assert outcome.exit_code == 1 and outcome.output.startswith("Error: "), repr(outcome.output)


def test_finding_7_finished_bars_show_time_and_rate_and_log_in_order():
    import io
    import re
    import time

    from rich.console import Console

    from highlighter.progress import Tracker, make_progress

    log = io.StringIO()
    console = Console(file=log, width=120)  # not a terminal: as when piped to a log
    with make_progress("frames", console=console) as progress:
        for step in (1, 2):
            console.print(f"step {step}")
            tracker = Tracker(progress, f"work {step}", None)
            time.sleep(0.2)
            tracker.finish(count=10)  # one update: rich alone would show no rate and 0:00:00
    lines = [line.strip() for line in log.getvalue().splitlines()]
    assert [line.split()[0] + " " + line.split()[1] for line in lines] == ["step 1", "work 1", "step 2", "work 2"]
    for line in lines[1::2]:
        rate, elapsed = re.search(r"([\d.]+) frames/s ([\d.]+) s", line).groups()
        assert float(elapsed) >= 0.2 and 10 / float(elapsed) * 0.8 <= float(rate) <= 10 / float(elapsed) * 1.2


def test_finding_7_constant_rate_despite_a_late_last_frame(clip):
    import json

    video = clip("lastgap.mp4", seconds=8, fps=FPS, drop=(7.85, 7.95), **SMALL)  # only the last step is long
    outcome = run("info", video, "--json")
    assert outcome.exit_code == 0 and json.loads(outcome.output)["variable_frame_rate"] is False
    hole = clip("midgap.mp4", seconds=8, fps=FPS, drop=(3.0, 4.0), **SMALL)  # a gap inside still counts
    assert json.loads(run("info", hole, "--json").output)["variable_frame_rate"] is True


def test_finding_7_half_is_empty_in_scores_as_in_events(tmp_path):
    import json

    from highlighter.outputs.scores import read_scores, write_scores

    result = tag_result()
    write_scores(result.curves, result.source, tmp_path / "s.csv")
    result.save(tmp_path / "e.json", "json")
    first_row = (tmp_path / "s.csv").read_text().splitlines()[1]
    assert first_row.startswith(",0.00000,") and json.loads((tmp_path / "e.json").read_text())["events"][0]["half"] is None
    assert [half for half, _ in read_scores(tmp_path / "s.csv").curves] == [None]
    game = tag_result(halves=(1, 2))
    write_scores(game.curves, game.source, tmp_path / "g.csv")
    assert [half for half, _ in read_scores(tmp_path / "g.csv").curves] == [1, 2]


def test_finding_7_classification_table_reads_at_80_columns():
    import io

    import numpy as np
    from rich.console import Console

    from highlighter.evaluation.metrics import classification_report
    from highlighter.cli.tables import classification_table

    targets = np.repeat(np.arange(4), 50)
    report = classification_report(targets, np.roll(targets, 7), ["background", "goal", "card", "substitution"])
    out = io.StringIO()
    Console(file=out, width=80).print(classification_table(report, "frame classification on the test game"))
    text = out.getvalue()
    assert "…" not in text
    for word in ("precision", "recall", "images", "substitution", "→backg", "→subst"):
        assert word in text
