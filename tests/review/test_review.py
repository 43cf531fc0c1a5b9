"""`highlight report` and `highlight tag --report`: the review page, checked in headless Chromium."""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from cli import highlight
from highlighter.outputs.events import load_events_document
from highlighter.review import report_path
from highlighter.outputs.clock import precise_clock
from highlighter.video.testpattern import read_pattern_number
from tests.chromium import file_url
from tests.support import write_events_file, SHARED_DATA

FPS = 25.0
#: the thumbnail pass samples at 2 fps: the frame shown is at most a quarter second (plus a frame) away
THUMB_SLACK_S = 0.25 + 1 / FPS
EVENTS = [("goal", 12.0, 0.93), ("card", 30.5, 0.61), ("substitution", 57.0, 0.47), ("goal", 44.0, 0.35)]


def run(*args):
    return CliRunner().invoke(highlight, [*map(str, args)])


def write_events(path: Path, video: Path | str, duration: float, events=EVENTS) -> Path:
    return write_events_file(path, video, duration, [(label, t, c, None) for label, t, c in events])


@pytest.fixture(scope="module")
def match(clip, tmp_path_factory) -> Path:
    """Events of a 60 s pattern clip with audio, beside it (the page links the video relatively)."""
    folder = tmp_path_factory.mktemp("match")
    video = folder / "match.mp4"
    os.link(clip("review.mp4", seconds=60, fps=FPS, audio=True, width=160, height=120), video)
    return write_events(folder / "match.events.json", "match.mp4", 60.0)


ROWS_JS = """Array.from(document.querySelectorAll('#events tbody tr[id]')).map(function (row) {
  return {id: row.id, label: row.dataset.class, time: parseFloat(row.dataset.time), half: row.dataset.half,
          hidden: row.hidden, visible: row.offsetParent !== null,
          figures: Array.from(row.querySelectorAll('figure')).map(function (f) {
            return {time: parseFloat(f.dataset.time), caption: f.querySelector('figcaption').textContent,
                    central: f.classList.contains('at'), src: f.querySelector('img').getAttribute('src')};
          })};
})"""


def check_page(browser, page: Path, shots: Path, events: int, pattern_fps: float | None = None) -> list[dict]:
    """Load ``page``: no console errors, only local requests, one row per event, a non-blank screenshot,
    thumbnails whose shown times are their frames' times (and, on pattern clips, their frame numbers)."""
    browser.load(file_url(page))
    assert browser.console_errors() == []
    assert all(url.startswith(("file:", "data:")) for url in browser.requested_urls()), browser.requested_urls()
    rows = browser.evaluate(ROWS_JS)
    assert len(rows) == events
    shot = shots / f"{page.stem}.png"
    pixels = cv2.imdecode(np.frombuffer(browser.screenshot(shot, full_page=True), np.uint8), cv2.IMREAD_COLOR)
    assert pixels.shape[1] == 1400 and pixels.std() > 20 and len(np.unique(pixels.reshape(-1, 3), axis=0)) > 200
    for row in rows:
        if not row["figures"]:
            continue
        assert 3 <= len(row["figures"]) <= 5
        central = [f for f in row["figures"] if f["central"]]
        assert len(central) == 1 and abs(central[0]["time"] - row["time"]) <= THUMB_SLACK_S
        times = [f["time"] for f in row["figures"]]
        assert times == sorted(times)
        for figure in row["figures"]:
            assert figure["caption"] == precise_clock(figure["time"])
            if pattern_fps:
                jpeg = base64.b64decode(figure["src"].split(",", 1)[1])
                image = cv2.cvtColor(cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
                assert read_pattern_number(image) == round(figure["time"] * pattern_fps)
    return rows


def test_review_page_in_chromium(match, browser, tmp_path):
    outcome = run("report", match, "-o", match.with_name("match.report.html"), "-q")
    assert outcome.exit_code == 0, outcome.output
    page = match.with_name("match.report.html")
    rows = check_page(browser, page, tmp_path, len(EVENTS), pattern_fps=FPS)
    assert [r["time"] for r in rows] == sorted(t for _, t, _ in EVENTS)  # plain rows, in match order
    assert all(len(r["figures"]) == 5 for r in rows)
    # clicking an event plays the linked video from 3 s before it
    browser.evaluate("document.querySelector('#ev-2 td.num').click()", gesture=True)
    state = browser.poll("(function () { var p = document.getElementById('player');"
                         " return p.readyState >= 1 && Math.abs(p.currentTime - 27.5) < 0.3 &&"
                         " [p.currentTime, p.error, p.getAttribute('src')]; })()")
    assert state and state[1] is None and state[2] == "match.mp4"
    assert browser.evaluate("document.querySelector('#ev-2').classList.contains('active')")
    # filter by class and confidence, sort by confidence
    browser.evaluate("document.querySelector('.chip input[value=card]').click()")
    assert [r["label"] for r in browser.evaluate(ROWS_JS) if r["visible"]] == ["goal", "goal", "substitution"]
    browser.evaluate("var m = document.getElementById('minconf'); m.value = '0.4';"
                     " m.dispatchEvent(new Event('input'))")
    assert [r["time"] for r in browser.evaluate(ROWS_JS) if r["visible"]] == [12.0, 57.0]
    assert browser.evaluate("document.getElementById('shown').textContent") == "2 of 4 events"
    browser.evaluate("var s = document.getElementById('sort'); s.value = 'confidence';"
                     " s.dispatchEvent(new Event('change'))")
    assert [r["time"] for r in browser.evaluate(ROWS_JS)] == [12.0, 30.5, 57.0, 44.0]
    assert browser.console_errors() == []
    # without JavaScript every row is still there, and the filters are hidden
    browser.send("Emulation.setScriptExecutionDisabled", value=True)
    try:
        browser.load(file_url(page))
        assert len(browser.evaluate(ROWS_JS)) == len(EVENTS)  # (evaluate runs even when page scripts do not)
        assert browser.evaluate("getComputedStyle(document.getElementById('minconf').parentNode).display") == "none"
        browser.screenshot(tmp_path / "no-js.png")
    finally:
        browser.send("Emulation.setScriptExecutionDisabled", value=False)
    html = page.read_text()
    assert "<script src" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")


def test_missing_video_gives_the_page_with_a_warning(match, browser, tmp_path):
    events = write_events(tmp_path / "lost.events.json", tmp_path / "lost.mp4", 60.0)
    outcome = run("report", events)
    assert outcome.exit_code == 0, outcome.output
    warnings = [line for line in outcome.output.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "video not found" in warnings[0]
    page = tmp_path / "lost.report.html"
    rows = check_page(browser, page, tmp_path, len(EVENTS))
    assert all(not r["figures"] for r in rows)
    text = browser.evaluate("document.body.innerText")
    assert "It was at" in text and str(tmp_path / "lost.mp4") in text and "video not found" in text
    assert browser.evaluate("document.getElementById('player')") is None


def test_scores_file_draws_the_curves_and_a_different_video_is_refused_for_thumbnails(match, clip, tmp_path):
    times = np.arange(60.0)
    probabilities = np.full((60, 4), 0.1)
    probabilities[:, 0] = 0.7
    np.savez(tmp_path / "scores.npz", times=times, probabilities=probabilities, half=np.zeros(60, int),
             classes=np.array(["background", "goal", "card", "substitution"]), source=np.array("match.mp4"))
    page = tmp_path / "page.html"
    assert run("report", match, "-o", page, "--scores", tmp_path / "scores.npz", "--thumbnails", "3", "-q").exit_code == 0
    html = page.read_text()
    assert html.count('<polyline class="curve"') == 3 and html.count("<figure") == 3 * len(EVENTS)
    other = clip("short.mp4", seconds=20, fps=FPS, width=160, height=120)
    outcome = run("report", match, "-o", tmp_path / "other.html", "--video", other)
    assert outcome.exit_code == 0 and "not the same video" in outcome.output
    assert "<figure" not in (tmp_path / "other.html").read_text()


def test_the_crowd_loudness_is_drawn_under_the_curves(match, browser, tmp_path):
    """A scores file with the match audio's loudness: a grey line behind the curves, quiet to loud over
    the chart's height, its dB range named; the screenshot shows it."""
    times = np.arange(60.0)
    probabilities = np.full((60, 4), 0.1)
    loudness = np.full(60, -40.0)
    loudness[30:36] = -22.0  # a roar
    np.savez(tmp_path / "scores.npz", times=times, probabilities=probabilities, half=np.zeros(60, int),
             classes=np.array(["background", "goal", "card", "substitution"]), source=np.array("match.mp4"),
             loudness_db=loudness)
    page = tmp_path / "loud.html"
    assert run("report", match, "-o", page, "--scores", tmp_path / "scores.npz", "-q").exit_code == 0
    check_page(browser, page, tmp_path, len(EVENTS))
    line = browser.evaluate("""(function () { var l = document.querySelector('svg polyline.loudness');
      var b = l.getBoundingClientRect(), c = l.closest('svg').getBoundingClientRect();
      return {w: b.width / c.width, h: b.height / c.height, stroke: getComputedStyle(l).stroke,
              label: document.querySelector('svg .loudness-axis').textContent,
              legend: document.querySelector('.legend').innerText}; })()""")
    assert line["w"] > 0.9 and line["h"] > 0.5 and line["stroke"] == "rgb(184, 192, 204)"
    assert line["label"] == "loudness -40 to -22 dB" and "crowd loudness" in line["legend"]
    shot = cv2.imread(str(tmp_path / "loud.png"))
    grey = np.all(np.abs(shot.astype(int) - (204, 192, 184)) <= 6, axis=2)  # BGR of the line's colour
    assert grey.sum() > 300  # the line is on screen
    html = page.read_text()
    assert html.count('<polyline class="loudness"') == 1 and html.count('<polyline class="curve"') == 3
    no_audio = tmp_path / "quiet.npz"
    np.savez(no_audio, times=times, probabilities=probabilities, half=np.zeros(60, int), loudness_db=np.full(60, np.nan),
             classes=np.array(["background", "goal", "card", "substitution"]), source=np.array("match.mp4"))
    assert run("report", match, "-o", tmp_path / "q.html", "--scores", no_audio, "-q").exit_code == 0
    quiet = (tmp_path / "q.html").read_text()
    assert '<polyline class="loudness"' not in quiet and "crowd loudness" not in quiet


def test_events_documents_of_every_tag_format(match, tmp_path):
    csv = tmp_path / "match.events.csv"
    csv.write_text("label,time_s,timecode,start_s,end_s,confidence,half\ngoal,12.0,00:00:12.0,10,15,0.9,\n")
    document = load_events_document(csv)
    assert document.video is None and document.events[0].half is None and document.events[0].end_s == 15
    soccernet = tmp_path / "results_spotting.json"
    soccernet.write_text(json.dumps({"UrlLocal": "g", "predictions": [
        {"gameTime": "2 - 01:05", "label": "Goal", "position": "65000", "half": "2", "confidence": "0.8"}]}))
    document = load_events_document(soccernet)
    assert document.is_game and (document.events[0].label, document.events[0].time_s) == ("goal", 65.0)
    bad = tmp_path / "bad.events.json"
    bad.write_text(json.dumps({"video": "x", "events": [{"label": "goal", "time_s": -1, "confidence": 0.5}]}))
    outcome = run("report", bad)
    assert outcome.exit_code == 1 and "events[0].time_s must be between 0 and 864000, got -1" in outcome.output and "Traceback" not in outcome.output
    assert report_path(Path("out/match.events.json")) == Path("out/match.report.html")
    assert report_path(Path("g/results_spotting.json")) == Path("g/results_spotting.report.html")
    outcome = run("report", csv, "-o", tmp_path / "csv.html", "--video", match.with_name("match.mp4"), "-q")
    assert outcome.exit_code == 0 and (tmp_path / "csv.html").exists()


@pytest.fixture(scope="module")
def tagged_game(trained, synth_root, tmp_path_factory) -> Path:
    """`highlight tag GAME --report` on the held-out synthetic game: its events file."""
    trainer, result = trained
    (game,) = trainer.data_summary["test"]["game_list"]
    out = tmp_path_factory.mktemp("tagged") / "game.events.json"
    outcome = run("tag", synth_root / game, "--weights", result.checkpoint, "-o", out, "--report", "-q")
    assert outcome.exit_code == 0, outcome.output
    return out


def test_tag_report_of_a_demo_game(tagged_game, browser, tmp_path):
    page = report_path(tagged_game)
    assert page == tagged_game.with_name("game.report.html") and page.exists()
    document = load_events_document(tagged_game)
    assert document.is_game and document.events
    rows = check_page(browser, page, tmp_path, len(document.events))
    assert {r["half"] for r in rows} == {str(e.half) for e in document.events}
    assert all(3 <= len(r["figures"]) <= 5 for r in rows)
    html = page.read_text()
    assert html.count('<polyline class="curve"') == 6  # 3 classes x 2 halves, from the run's own curves
    assert "Half 1" in html and "Half 2" in html
    assert re.search(r'href="[^"]*1_180p\.mkv#t=', html) and re.search(r'href="[^"]*2_180p\.mkv#t=', html)


@pytest.mark.skipif(not (SHARED_DATA / "broadcast-clip-360p.mp4").exists(), reason="../shared/data is absent")
def test_report_of_the_real_broadcast_clip(trained, browser, tmp_path):
    _, result = trained
    out = tmp_path / "clip.events.json"
    outcome = run("tag", SHARED_DATA / "broadcast-clip-360p.mp4", "--weights", result.checkpoint, "-o", out,
                  "--threshold", "0", "--report", "-q")
    assert outcome.exit_code == 0, outcome.output
    document = load_events_document(out)
    assert document.events  # threshold 0: every peak of the tiny model's curves is an event
    rows = check_page(browser, report_path(out), tmp_path, len(document.events))
    assert all(len(r["figures"]) >= 3 for r in rows)
    browser.evaluate("document.querySelector('#ev-1 td.num').click()", gesture=True)
    assert browser.poll("document.getElementById('player').readyState >= 1")
    assert browser.evaluate("document.getElementById('player').error") is None
