"""The Python API (issue 11): the pipeline as functions, giving what the command line gives."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

import highlighter as hl
from cli import highlight
from highlighter.outputs.events import EVENT_COLUMNS, event_rows, load_events_document


def test_tag_gives_the_events_of_highlight_tag(trained, test_game, tmp_path):
    _, result = trained
    video = test_game / "1_180p.mkv"
    tagged = hl.tag(video, weights=result.checkpoint)
    out = tmp_path / "cli.json"
    assert CliRunner().invoke(highlight, ["tag", str(video), "--weights", str(result.checkpoint), "-o", str(out),
                                          "-q"]).exit_code == 0
    assert tagged.events and event_rows(tagged.events) == event_rows(load_events_document(out).events)
    frame = tagged.to_frame()
    assert list(frame.columns) == EVENT_COLUMNS and len(frame) == len(tagged.events)
    scores = tagged.scores
    assert list(scores.columns) == ["half", "time_s", *tagged.classes] and len(scores) == tagged.frames == 60
    assert np.allclose(scores[tagged.classes].sum(axis=1), 1, atol=1e-3)
    for fmt, name in (("json", "api.events.json"), ("csv", "api.events.csv")):
        saved = tagged.save(tmp_path / name, format=fmt)
        assert event_rows(load_events_document(saved).events) == event_rows(tagged.events)
    soccernet = json.loads(tagged.save(tmp_path / "results_spotting.json", format="soccernet").read_text())
    assert len(soccernet["predictions"]) == len(tagged.events)


def test_tag_takes_settings_as_keywords(trained, test_game):
    _, result = trained
    strict = hl.tag(test_game, weights=result.checkpoint, threshold=0.9)
    loose = hl.tag(test_game, weights=result.checkpoint, threshold=0.2, fps=2)
    assert {e.half for e in loose.events} == {1, 2}  # a game folder: both halves
    assert len(strict.events) < len(loose.events) and loose.fps == 2 and loose.frames == 2 * strict.frames


def test_frames_load_model_and_evaluate(trained, test_game):
    _, result = trained
    batches = list(hl.frames(test_game / "2_180p.mkv", fps=2, size=48, batch_size=50))
    times = np.concatenate([b.times for b in batches])
    on_screen = np.floor(np.arange(120) / 2 * 25 + 1e-9) / 25  # 25 fps: the frame on screen at each tick
    assert [len(b) for b in batches] == [50, 50, 20] and np.allclose(times, on_screen)
    assert batches[0].images.shape == (50, 48, 48, 3)
    model = hl.load_model(result.checkpoint, precision="fp32")
    assert model.spec.classes == ["background", "goal", "card", "substitution"]
    tagged = hl.tag(test_game, weights=result.checkpoint)
    predictions = tagged.save(test_game.parent / "api-predictions" / "results_spotting.json", format="soccernet")
    scores = hl.evaluate(predictions, test_game / "Labels-v2.json", metric="both")
    assert set(scores) >= {"loose", "tight"} and scores["loose"]["average_map"] > 40


def test_train_returns_the_checkpoint(synth_root, tmp_path):
    checkpoint = hl.train([synth_root], model="highlighter-tiny", pretrained="none", mode="probe", epochs=1,
                          batch_size=64, frame_fps=2.0, wise_alpha=1.0, out=str(tmp_path / "api"),
                          cache_dir=str(tmp_path.parent / "cache"))
    assert checkpoint == tmp_path / "api" and (checkpoint / "model.safetensors").exists()
    assert isinstance(hl.load_model(checkpoint).spec.extra["training"]["data"], list)


def test_unknown_keyword_is_an_error_naming_the_closest():
    with pytest.raises(hl.api.ConfigError, match="did you mean 'threshold'"):
        hl.tag("x.mkv", treshold=0.3)


def test_import_is_light():
    import subprocess
    import sys

    code = "import sys, highlighter; print('torch' in sys.modules, 'open_clip' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.split() == ["False",
                                                                                                          "False"]


@pytest.mark.parametrize("module", ["highlighter.tagging.engines.ray_engine", "highlighter.tagging.engines.local", "highlighter.tagging.assemble"])
def test_engines_start_without_pytorch(module):
    """The Ray driver never loads PyTorch (the actors do), and the local engine starts the first input's
    decoding before it loads: neither module, nor the shared end of tagging, imports torch or open_clip."""
    import subprocess
    import sys

    code = f"import sys, {module}; print('torch' in sys.modules, 'open_clip' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.split() == ["False", "False"], result.stderr[-500:]
