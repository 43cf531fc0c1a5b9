"""Run the official SoccerNet evaluator (the `SoccerNet` pip package) on the same games as ours."""

from __future__ import annotations

import json
from pathlib import Path

from highlighter.soccernet.files import Spot, predictions_json

REMAP = {"Goal": "Goal", "Card": "Card", "Yellow card": "Card", "Red card": "Card", "Yellow->red card": "Card",
         "Substitution": "Substitution"}


def official_score(tmp: Path, truth_root: Path, predictions: dict[str, list[Spot]], classes: str, metric: str):
    """The official evaluator's average-mAP on the same games; for 3 classes with remapped labels and
    EVENT_DICTIONARY {"Goal": 0, "Card": 1, "Substitution": 2}, as DESIGN.md explains."""
    from SoccerNet.Evaluation.utils import EVENT_DICTIONARY_V2

    labels_root, dictionary = truth_root, EVENT_DICTIONARY_V2
    if classes == "highlight":
        dictionary = {"Goal": 0, "Card": 1, "Substitution": 2}
        labels_root = tmp / "labels"
        for file in truth_root.rglob("Labels-v2.json"):
            data = json.loads(file.read_text())
            data["annotations"] = [dict(a, label=REMAP[a["label"]]) for a in data["annotations"] if a["label"] in REMAP]
            target = labels_root / file.relative_to(truth_root)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(data))
        predictions = {g: [Spot(s.half, s.position_ms, REMAP[s.label], s.confidence) for s in spots if s.label in REMAP]
                       for g, spots in predictions.items()}
    predictions_root = tmp / "predictions"
    for game, spots in predictions.items():
        (predictions_root / game).mkdir(parents=True, exist_ok=True)
        (predictions_root / game / "results_spotting.json").write_text(json.dumps(predictions_json(game, spots)))
    from SoccerNet.Evaluation import ActionSpotting

    result = ActionSpotting.evaluate(str(labels_root), str(predictions_root), split=None, version=2, framerate=2,
                               metric=metric, dataset=None, label_files="Labels-v2.json",
                               prediction_file="results_spotting.json", EVENT_DICTIONARY=dictionary)
    return result
