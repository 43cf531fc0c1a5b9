"""`highlight tag` end to end: a tiny trained model on synthetic games, real files, the official scorer."""

from __future__ import annotations

import json
import shutil
import time

import pandas as pd
import pytest
from click.testing import CliRunner

from cli import highlight
from highlighter.evaluation.spotting import average_map
from highlighter.outputs.events import EVENT_COLUMNS, load_events_document
from highlighter.labels import load_label_map
from highlighter.soccernet.files import read_labels, read_predictions
from highlighter.evaluation.trees import load_predictions
from tests.support import SHARED_DATA, decoder_processes, needs_shared, open_sampler


def run(*args: str):
    return CliRunner().invoke(highlight, [*map(str, args)])


def test_game_folder_gives_both_halves_in_results_spotting(trained, test_game, tmp_path):
    _, result = trained
    out = tmp_path / "results_spotting.json"
    outcome = run("tag", test_game, "--weights", result.checkpoint, "--format", "soccernet", "-o", out, "-q")
    assert outcome.exit_code == 0, outcome.output
    document = json.loads(out.read_text())
    assert document["UrlLocal"] == test_game.name
    halves = {p["half"] for p in document["predictions"]}
    assert halves == {"1", "2"}
    for prediction in document["predictions"]:
        assert set(prediction) == {"gameTime", "label", "position", "half", "confidence"}
        assert all(isinstance(v, str) for v in prediction.values())
        assert 0 <= int(prediction["position"]) <= 60_000  # positions count from each half's start
        assert prediction["gameTime"].startswith(prediction["half"] + " - ")
        assert prediction["label"] in ("Goal", "Card", "Substitution")


def test_recovers_the_events_of_an_unseen_game(trained, test_game, tmp_path):
    """Loose average-mAP of the tiny model on its held-out game, and most events found within ±30 s (two thirds:
    one held-out game is a noisy yardstick, its loose figure spreads 16-20 points over seeds; see
    benchmarks/bench_quality.py for the figure to trust)."""
    _, result = trained
    out = tmp_path / "results_spotting.json"
    assert run("tag", test_game, "--weights", result.checkpoint, "--format", "soccernet", "-o", out, "-q").exit_code == 0
    label_map = load_label_map("highlight")
    truth = [s for s in read_labels(test_game / "Labels-v2.json") if label_map.class_of(s.label)]
    predicted = read_predictions(out)
    found = [any(label_map.class_of(p.label) == label_map.class_of(t.label) and p.half == t.half
                 and abs(p.position_ms - t.position_ms) <= 30_000 for p in predicted) for t in truth]
    assert len(truth) >= 4 and sum(found) / len(found) >= 2 / 3
    score = average_map({"g": read_labels(test_game / "Labels-v2.json")}, {"g": predicted}, label_map)
    assert score.average_map > 40


def test_official_evaluator_reads_and_scores_our_output(trained, test_game, tmp_path):
    pytest.importorskip("SoccerNet.Evaluation.ActionSpotting", reason="the SoccerNet package is not installed")
    from tests.official import official_score

    _, result = trained
    labels = tmp_path / "labels" / "league" / "season" / "game"
    labels.mkdir(parents=True)
    shutil.copy(test_game / "Labels-v2.json", labels)
    out = tmp_path / "predictions" / "league" / "season" / "game" / "results_spotting.json"
    assert run("tag", test_game, "--weights", result.checkpoint, "--format", "soccernet", "-o", out, "-q").exit_code == 0
    label_map = load_label_map("highlight")
    predictions = load_predictions(tmp_path / "predictions", label_map)
    theirs = official_score(tmp_path / "official", tmp_path / "labels", predictions, "highlight", "loose")
    ours = json.loads(run("eval", tmp_path / "predictions", tmp_path / "labels", "--json").output)["loose"]
    assert 100 * theirs["a_mAP"] == pytest.approx(ours["average_map"], abs=0.01)
    assert theirs["a_mAP"] > 0.4


def test_json_and_csv_outputs_round_trip(trained, test_game, tmp_path):
    _, result = trained
    video = test_game / "1_180p.mkv"
    json_out, csv_out = tmp_path / "events.json", tmp_path / "events.csv"
    scores, plot = tmp_path / "scores.csv", tmp_path / "curves.png"
    assert run("tag", video, "--weights", result.checkpoint, "-o", json_out, "--scores", scores, "--plot", plot,
               "-q").exit_code == 0
    assert run("tag", video, "--weights", result.checkpoint, "--format", "csv", "-o", csv_out, "-q").exit_code == 0
    document = json.loads(json_out.read_text())
    assert set(document) == {"video", "video_streams", "duration_s", "declared_duration_s", "fps", "model", "classes",
                             "events", "audio", "timing"}
    assert document["video_streams"] == [{"half": None, "index": 0}]
    assert document["declared_duration_s"] == pytest.approx(60, abs=0.1)
    assert document["timing"]["frames"] == 60 and document["timing"]["wall_s"] > 0
    assert document["model"]["name"] == "highlighter-tiny" and len(document["model"]["sha256"]) == 64
    assert document["duration_s"] == pytest.approx(60, abs=0.1) and document["events"]
    for event in document["events"]:
        assert set(event) == set(EVENT_COLUMNS)
        assert event["start_s"] <= event["time_s"] <= event["end_s"] and 0 <= event["confidence"] <= 1
        minutes, seconds = event["timecode"].split(":")[1:]
        assert int(minutes) * 60 + float(seconds) == pytest.approx(event["time_s"], abs=0.05)
    table = pd.read_csv(csv_out)
    assert list(table.columns) == EVENT_COLUMNS
    assert load_events_document(csv_out).events == load_events_document(json_out).events
    curves = pd.read_csv(scores)
    assert list(curves.columns) == ["half", "time_s", *document["classes"]] and len(curves) == 60
    assert curves[document["classes"]].sum(axis=1).round(3).eq(1).all()
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_corrupt_second_video_does_not_lose_the_first(trained, test_game, tmp_path):
    _, result = trained
    good = test_game / "2_180p.mkv"
    corrupt = tmp_path / "corrupt.mkv"
    corrupt.write_bytes(b"\x1aE\xdf\xa3" + b"garbage" * 200)
    out = tmp_path / "out"
    outcome = CliRunner().invoke(highlight, ["tag", str(good), str(corrupt), "--weights", str(result.checkpoint),
                                             "-o", str(out), "-q"])
    assert outcome.exit_code == 1
    assert "1 of 2 inputs failed" in outcome.output and "corrupt.mkv" in outcome.output
    assert json.loads((out / "2_180p.events.json").read_text())["events"]
    assert not list(out.glob("corrupt*")) and not list(out.glob(".*part"))


def test_missing_weights_and_video_are_one_line(tmp_path):
    outcome = run("tag", tmp_path / "match.mkv", "--weights", tmp_path / "none")
    assert outcome.exit_code == 1 and "no such checkpoint folder" in outcome.output
    assert "Traceback" not in outcome.output


def test_zero_shot_without_a_checkpoint(test_game, tmp_path):
    out = tmp_path / "zero.json"
    outcome = run("tag", test_game / "1_180p.mkv", "--zero-shot", "--model", "highlighter-tiny", "--pretrained", "none",
                  "-o", out, "-q")
    assert outcome.exit_code == 0, outcome.output
    document = json.loads(out.read_text())
    assert document["model"] == {"name": "highlighter-tiny", "pretrained": None, "checkpoint": None, "sha256": None}
    assert document["classes"] == ["background", "goal", "card", "substitution"]


@needs_shared("broadcast-clip-360p.mp4")
def test_real_broadcast_clip_is_tagged(trained, tmp_path):
    _, result = trained
    out = tmp_path / "clip.json"
    outcome = run("tag", SHARED_DATA / "broadcast-clip-360p.mp4", "--weights", result.checkpoint, "-o", out, "-q")
    assert outcome.exit_code == 0, outcome.output
    assert json.loads(out.read_text())["duration_s"] == pytest.approx(22.13, abs=0.05)


def test_finding_5_tune_smoother_finds_settings_and_writes_a_config_that_reproduces_them(trained, synth_root, tmp_path):
    trainer, result = trained
    games = [synth_root / g for split in ("val", "test") for g in trainer.data_summary[split]["game_list"]]
    scores = tmp_path / "scores"
    outcome = run("tag", *games, "--weights", result.checkpoint, "--format", "soccernet", "-o", scores,
                  "--scores", "x.npz", "-q")
    assert outcome.exit_code == 0, outcome.output
    assert len(list(scores.glob("*.scores.npz"))) == 2
    from highlighter.config.settings import shipped_settings
    from highlighter.evaluation.tuning import predictions_for, read_score_files, tune_smoother

    label_map = load_label_map("highlight")
    ranked = tune_smoother(scores, synth_root, label_map, shipped_settings().tune_smoother)
    assert len(ranked) == 64 and ranked[0][1] == max(score for _, score in ranked)
    truth = {g.name: read_labels(g / "Labels-v2.json") for g in games}
    default = average_map(truth, predictions_for(read_score_files(scores), shipped_settings().smoother), label_map).average_map
    assert ranked[0][1] >= default
    best = tmp_path / "best.yaml"
    outcome = run("tune-smoother", scores, synth_root, "--write", best)
    assert outcome.exit_code == 0 and "average-mAP" in outcome.output
    assert_tuned_config_reproduces_the_tuned_score(result.checkpoint, games, best, ranked[0], tmp_path)


def assert_tuned_config_reproduces_the_tuned_score(checkpoint, games, config_file, best, tmp_path):
    """Tagging with the written config gives exactly the tuned average-mAP (the shipped per-class NMS
    windows used to survive the overlay)."""
    from highlighter.config.settings import load_settings

    params, score = best
    overlaid = load_settings(config_file).smoother
    assert all(overlaid.nms_for(cls) == params.nms_for(cls) for cls in ("goal", "card", "substitution"))
    out = tmp_path / "tuned"
    tuned = run("--config", config_file, "tag", *games, "--weights", checkpoint, "--format", "soccernet", "-o", out,
                "-q")
    assert tuned.exit_code == 0, tuned.output
    truth = {g.name: read_labels(g / "Labels-v2.json") for g in games}
    predicted = {g.name: read_predictions(out / g.name / "results_spotting.json") for g in games}
    assert average_map(truth, predicted, load_label_map("highlight")).average_map == pytest.approx(score, abs=1e-9)


def test_finding_8_same_names_and_unwritable_outputs_do_not_end_a_batch(trained, test_game, tmp_path):
    _, result = trained
    first, second = tmp_path / "a" / "match.mkv", tmp_path / "b" / "match.mkv"
    for link, half in ((first, "1_180p.mkv"), (second, "2_180p.mkv")):
        link.parent.mkdir()
        link.symlink_to(test_game / half)
    out = tmp_path / "out"
    assert run("tag", first, second, "--weights", result.checkpoint, "-o", out, "-q").exit_code == 0
    videos = {json.loads(p.read_text())["video"] for p in out.glob("*.events.json")}
    assert videos == {str(first), str(second)}  # two files: neither overwrote the other
    (out / "a__match.plot.png").mkdir()  # writing the first input's plot now fails with an OSError
    outcome = run("tag", first, second, "--weights", result.checkpoint, "-o", out, "--plot", "p.png", "-q")
    assert outcome.exit_code == 1 and "1 of 2 inputs failed" in outcome.output and "a__match.plot.png" in outcome.output
    assert (out / "b__match.plot.png").read_bytes()[:4] == b"\x89PNG" and "Traceback" not in outcome.output


def test_the_first_input_decodes_while_the_model_loads(trained, test_game, tmp_path):
    """The local engine starts the first input's decoding from the checkpoint's metadata, before PyTorch and
    the model load; those batches give the events of a sampler made after loading, and an input that cannot
    start early (a zero-shot model, a broken file) is left to tagging, which reports it as usual."""
    import dataclasses

    import highlighter as hl
    from highlighter.api import configured
    from highlighter.tagging.engines.local import start_decoding
    from highlighter.tagging.tagger import Tagger
    from highlighter.video import decode_together

    _, result = trained
    sections = configured(("video", "smoother", "tag"), None, {"weights": str(result.checkpoint)})
    video, tag = sections["video"], sections["tag"]
    ahead = start_decoding(test_game, video, tag)
    first, second = ahead.values()
    assert first.started_at is not None  # and the second half only where halves decode together
    assert (second.started_at is not None) == decode_together(2)
    deadline = time.monotonic() + 10
    while not decoder_processes() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert decoder_processes(), "no decoder process runs before the model loads"
    tagger = Tagger.from_settings(video, sections["smoother"], tag)
    loaded = time.perf_counter()
    early = tagger.tag(test_game, {half: s.path for half, s in ahead.items()}, samplers=ahead)
    assert early.events == hl.tag(test_game, result.checkpoint).events
    assert early.wall_s >= loaded - first.started_at  # decode+score counts from the start of decoding

    corrupt = tmp_path / "corrupt.mkv"
    corrupt.write_bytes(b"\x1aE\xdf\xa3" + b"garbage" * 200)
    assert start_decoding(corrupt, video, tag) is None
    assert start_decoding(test_game, video, dataclasses.replace(tag, zero_shot=True)) is None


def test_a_sampler_started_and_never_read_stops_its_decoder(test_game):
    """close() ends a pass begun with start() (the model failed to load, say): no decoder process is left."""

    sampler = open_sampler(test_game / "1_180p.mkv", size=32, batch_size=4).start()
    sampler.close()
    assert not decoder_processes()
    assert sum(len(batch) for batch in sampler) == sampler.expected_samples  # a new pass reads it all
