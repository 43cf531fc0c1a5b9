"""Average-mAP: hand-made cases, bad input, and agreement with the official SoccerNet evaluator."""

from __future__ import annotations

import json
import random
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import highlight
from highlighter.evaluation.spotting import average_map, evaluate_paths
from highlighter.labels import load_label_map
from highlighter.soccernet.files import SoccerNetFormatError, Spot, predictions_json
from highlighter.evaluation.trees import load_truth
from tests.support import SHARED_DATA, needs_shared
from tests.official import official_score

VALID = SHARED_DATA / "soccernet-labels" / "valid"
HIGHLIGHT = load_label_map("highlight")
SOCCERNET_V2 = load_label_map("soccernet-v2")


def labels_json(spots: list[Spot]) -> dict:
    return {"UrlLocal": "game", "annotations": [
        {"gameTime": f"{s.half} - {s.position_ms // 60000:02d}:{s.position_ms // 1000 % 60:02d}", "label": s.label,
         "position": str(s.position_ms), "team": "home", "visibility": "visible" if s.visible else "not shown"}
        for s in spots]}


TRUTH = [Spot(1, 600_000, "Goal"), Spot(1, 1_200_000, "Yellow card"), Spot(2, 300_000, "Substitution"),
         Spot(2, 2_000_000, "Red card", visible=False), Spot(1, 100_000, "Foul")]


def test_perfect_predictions_score_100():
    predictions = [Spot(s.half, s.position_ms, s.label, confidence=0.9) for s in TRUTH]
    score = average_map({"g": TRUTH}, {"g": predictions}, HIGHLIGHT)
    assert score.average_map == pytest.approx(100.0)
    assert score.per_class == {"goal": pytest.approx(100), "card": pytest.approx(100), "substitution": pytest.approx(100)}


def test_class_names_are_accepted_as_prediction_labels():
    predictions = [Spot(1, 600_000, "goal"), Spot(1, 1_200_000, "card"), Spot(2, 2_000_000, "card"),
                   Spot(2, 300_000, "substitution")]
    assert average_map({"g": TRUTH}, {"g": predictions}, HIGHLIGHT).average_map == pytest.approx(100.0)


def test_a_late_prediction_matches_only_wide_tolerances():
    truth = [Spot(1, 600_000, "Goal")]
    late = [Spot(1, 604_000, "Goal")]  # 4 s late: inside ±δ/2 for δ >= 8 s
    one_class = load_label_map("highlight")
    loose = average_map({"g": truth}, {"g": late}, one_class, "loose")
    # loose δ = 5..60: matched from δ = 10 on; trapezoid over 12 points: (0.5 + 10) / 11 of the way
    assert loose.per_class["goal"] == pytest.approx(100 * 10.5 / 11)
    assert average_map({"g": truth}, {"g": late}, one_class, "tight").per_class["goal"] == 0.0


def test_missing_predictions_and_absent_classes():
    truth = [Spot(1, 600_000, "Goal")]
    score = average_map({"g": truth}, {}, HIGHLIGHT)
    assert score.average_map == 0.0
    assert score.absent_classes == ("card", "substitution")


def write_game(folder: Path, truth: list[Spot], predictions: list[Spot] | None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Labels-v2.json").write_text(json.dumps(labels_json(truth)))
    if predictions is not None:
        (folder / "results_spotting.json").write_text(json.dumps(predictions_json(str(folder), predictions)))


def test_trees_zips_and_unpaired_games(tmp_path):
    perfect = [Spot(s.half, s.position_ms, s.label, confidence=1.0) for s in TRUTH]
    write_game(tmp_path / "labels/league/2020/a", TRUTH, None)
    write_game(tmp_path / "labels/league/2020/b", TRUTH, None)
    write_game(tmp_path / "preds/league/2020/a", [], perfect)
    write_game(tmp_path / "preds/league/2020/z", [], perfect)
    evaluation = evaluate_paths(tmp_path / "preds", tmp_path / "labels", HIGHLIGHT)
    assert evaluation.games_without_predictions == ["league/2020/b"]
    assert evaluation.predictions_without_labels == ["league/2020/z"]
    archive = tmp_path / "preds.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for file in (tmp_path / "preds").rglob("results_spotting.json"):
            zipped.write(file, file.relative_to(tmp_path / "preds").as_posix())
    from_zip = evaluate_paths(archive, tmp_path / "labels", HIGHLIGHT)
    assert from_zip.scores[0].average_map == evaluation.scores[0].average_map < 100


@pytest.mark.parametrize("entry, message", [
    ({"label": "Goal", "half": "3", "position": "1000", "confidence": "0.5"}, "half '3' is not 1 or 2"),
    ({"label": "Goal", "half": "1", "position": "-5", "confidence": "0.5"}, "negative"),
    ({"label": "Goal", "half": "1", "position": "soon", "confidence": "0.5"}, "not a number of milliseconds"),
    ({"label": "Goal", "half": "1", "position": "1000", "confidence": "1.5"}, "outside [0, 1]"),
    ({"label": "Goal", "half": "1", "position": "1000", "confidence": "high"}, "not a number"),
    ({"label": "Bicycle kick", "half": "1", "position": "1000", "confidence": "0.5"}, "unknown label 'Bicycle kick'"),
])
def test_bad_prediction_entries_name_file_and_entry(tmp_path, entry, message):
    write_game(tmp_path / "labels", TRUTH, None)
    good = {"label": "Goal", "half": "1", "position": "1000", "confidence": "0.5"}
    path = tmp_path / "results_spotting.json"
    path.write_text(json.dumps({"UrlLocal": "g", "predictions": [good, entry]}))
    with pytest.raises(SoccerNetFormatError) as error:
        evaluate_paths(path, tmp_path / "labels" / "Labels-v2.json", HIGHLIGHT)
    assert str(error.value).startswith(f"{path}: predictions[1]: ") and message in str(error.value)
    result = CliRunner().invoke(highlight, ["eval", str(path), str(tmp_path / "labels" / "Labels-v2.json")])
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output


def test_malformed_json_is_one_line(tmp_path):
    write_game(tmp_path / "labels", TRUTH, None)
    path = tmp_path / "results_spotting.json"
    path.write_text('{"predictions": [')
    result = CliRunner().invoke(highlight, ["eval", str(path), str(tmp_path / "labels")])
    assert result.exit_code == 1
    assert "malformed JSON (line 1" in result.output and result.output.strip().count("\n") == 0


def test_cli_json_output(tmp_path):
    write_game(tmp_path / "g", TRUTH, [Spot(s.half, s.position_ms, s.label, confidence=0.8) for s in TRUTH])
    result = CliRunner().invoke(highlight, ["eval", str(tmp_path / "g" / "results_spotting.json"),
                                            str(tmp_path / "g" / "Labels-v2.json"), "--metric", "both", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["loose"]["average_map"] == pytest.approx(100) and report["tight"]["average_map"] == pytest.approx(100)


# --- agreement with the official SoccerNet package, on the real valid-split games -------------------------


def scenario(name: str, truth: dict[str, list[Spot]]) -> dict[str, list[Spot]]:
    rng = random.Random(name)
    made = {}
    for game, spots in truth.items():
        if name == "perfect":
            made[game] = [Spot(s.half, s.position_ms, s.label, confidence=1.0) for s in spots]
        elif name.startswith("shift"):
            shift = int(name[5:]) * 1000
            made[game] = [Spot(s.half, s.position_ms + shift, s.label, confidence=rng.random()) for s in spots]
        elif name == "jitter":
            made[game] = [Spot(s.half, max(0, s.position_ms + int(rng.gauss(0, 4000))), s.label,
                               confidence=rng.random()) for s in spots]
        elif name == "random":
            made[game] = [Spot(rng.choice((1, 2)), rng.randrange(0, 2_800_000), s.label, confidence=rng.random())
                          for s in spots]
        elif name == "missed":
            made[game] = [Spot(s.half, s.position_ms, s.label, confidence=rng.random())
                          for number, s in enumerate(spots) if number % 7]
    return made


def every_fourth_game(tmp: Path) -> Path:
    """A quarter of the valid split's games (every fourth, in path order), copied under ``tmp``: the official
    evaluator takes about 30 s per scenario on all 100 games for 17 classes."""
    root = tmp / "valid-quarter"
    for file in sorted(VALID.rglob("Labels-v2.json"))[::4]:
        target = root / file.relative_to(VALID)
        target.parent.mkdir(parents=True)
        target.write_bytes(file.read_bytes())
    return root


@needs_shared("soccernet-labels/valid")
@pytest.mark.parametrize("classes", ["soccernet-v2", "highlight"])
@pytest.mark.parametrize("name, metric", [(name, "loose") for name in
                                          ("perfect", "shift1", "shift3", "shift10", "jitter", "random", "missed")]
                         + [("jitter", "tight"), ("shift1", "tight")])
def test_agrees_with_the_official_evaluator(tmp_path, name, metric, classes):
    """Loose jitter (the scenario that moves every spot differently) on all 100 games, the rest on a quarter."""
    pytest.importorskip("SoccerNet.Evaluation.ActionSpotting", reason="the SoccerNet package is not installed")
    label_map = load_label_map(classes)
    games = VALID if (name, metric) == ("jitter", "loose") else every_fourth_game(tmp_path)
    truth = load_truth(games, label_map)
    predictions = scenario(name, truth)
    ours = average_map(truth, predictions, label_map, metric)
    theirs = official_score(tmp_path, games, predictions, classes, metric)
    assert not ours.absent_classes
    assert ours.average_map == pytest.approx(100 * theirs["a_mAP"], abs=0.01)
    assert ours.average_map_visible == pytest.approx(100 * theirs["a_mAP_visible"], abs=0.01)
    assert ours.average_map_unshown == pytest.approx(100 * theirs["a_mAP_unshown"], abs=0.01)
    for cls, value in zip(label_map.classes, theirs["a_mAP_per_class"]):
        assert ours.per_class[cls] == pytest.approx(100 * value, abs=0.01), cls


def events_json(spots: list[Spot]) -> dict:
    """The events document `highlight tag` writes, for a SoccerNet game folder."""
    return {"video": "game", "duration_s": 5400.0, "fps": 1.0, "model": {}, "classes": [],
            "events": [{"label": s.label, "time_s": s.position_ms / 1000, "timecode": "", "start_s": 0, "end_s": 0,
                        "confidence": s.confidence, "half": s.half} for s in spots]}


def test_events_json_of_highlight_tag_is_accepted(tmp_path):
    write_game(tmp_path / "labels/league/2020/a", TRUTH, None)
    write_game(tmp_path / "labels/league/2020/b", TRUTH, None)
    predicted = [Spot(1, 600_000, "goal", confidence=0.9), Spot(1, 1_200_000, "card", confidence=0.8),
                 Spot(2, 300_000, "substitution", confidence=0.7), Spot(2, 2_000_000, "card", confidence=0.6)]
    (tmp_path / "events").mkdir()
    (tmp_path / "events" / "a.events.json").write_text(json.dumps(events_json(predicted)))
    evaluation = evaluate_paths(tmp_path / "events", tmp_path / "labels", HIGHLIGHT)
    assert evaluation.games_without_predictions == ["league/2020/b"] and not evaluation.predictions_without_labels
    single = evaluate_paths(tmp_path / "events" / "a.events.json", tmp_path / "labels/league/2020/a/Labels-v2.json",
                            HIGHLIGHT)
    assert single.scores[0].average_map == pytest.approx(100.0)
    broken = events_json(predicted)
    broken["events"][1]["time_s"] = -3
    (tmp_path / "broken.events.json").write_text(json.dumps(broken))
    with pytest.raises(SoccerNetFormatError, match=r"broken.events.json: events\[1\]\.time_s must be between 0 and \d+, got -3$"):
        evaluate_paths(tmp_path / "broken.events.json", tmp_path / "labels/league/2020/a/Labels-v2.json", HIGHLIGHT)
