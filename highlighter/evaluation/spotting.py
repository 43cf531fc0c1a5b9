"""SoccerNet action-spotting average-mAP, computed as SoccerNet.Evaluation.ActionSpotting does.

The official definitions, reproduced step by step (and checked against the official package in the
tests): events are placed in 0.5 s bins (``int(2 * position_ms / 1000)``, capped at 120 minutes per
half); where several events of one class fall in one bin, the last one read wins. For a tolerance δ a
prediction matches a ground-truth event of its class when their bins differ by at most δ seconds' worth
of half-bins, i.e. within ±δ/2; ground-truth events are taken in time order and each takes the
highest-scoring unmatched prediction in reach. Precision and recall are read at 200 confidence
thresholds in [0, 1]; AP is the 11-point interpolated average; mAP the mean over classes; and the
average-mAP the trapezoidal mean of mAP over δ = 5, 10, ..., 60 s (loose) or 1, ..., 5 s (tight). A
prediction counts towards the "visible" or "unshown" figures by the visibility of the nearest
ground-truth event of its class in that half.

One deliberate difference: the official mean runs over every class of its dictionary, so a class with
no ground truth in the evaluated games scores AP 0 and pulls the mean down. Here such classes are
listed in ``SpottingScore.absent_classes`` and left out of the means (on a complete split every class
is present, and the two agree).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from highlighter.labels import LabelMap
from highlighter.soccernet.files import Spot
from highlighter.evaluation.trees import load_predictions, load_truth, pair_games

BINS_PER_SECOND = 2
BINS_PER_HALF = 120 * 60 * BINS_PER_SECOND
THRESHOLDS = np.linspace(0, 1, 200)
RECALL_POINTS = np.arange(11) / 10
TOLERANCES_S = {"loose": tuple(range(5, 65, 5)), "tight": (1, 2, 3, 4, 5)}

#: The official evaluator scales the "unshown" average by 17/13 (13 of the 17 v2 classes have unshown events).
UNSHOWN_SCALE = 17 / 13


@dataclass
class SpottingScore:
    """Average-mAP (0-100) for one tolerance family, overall and per class."""

    metric: str
    tolerances_s: tuple[int, ...]
    classes: tuple[str, ...]
    average_map: float
    per_class: dict[str, float]
    average_map_visible: float
    average_map_unshown: float
    ground_truth_counts: dict[str, int]
    absent_classes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict:
        """A JSON-ready dict."""
        return dict(self.__dict__)


@dataclass
class _ClassDetections:
    """For one class and one tolerance: every prediction's score, whether it matched, and its visibility."""

    scores: list[np.ndarray] = field(default_factory=list)
    matched: list[np.ndarray] = field(default_factory=list)
    nearest: list[np.ndarray] = field(default_factory=list)  # +1 visible, -1 unshown, 0 none
    visible: int = 0
    unshown: int = 0


def _bin(position_ms: int) -> int:
    return min(int(BINS_PER_SECOND * (position_ms / 1000)), BINS_PER_HALF - 1)


def _binned(spots: list[Spot], label_map: LabelMap, value) -> dict[tuple[int, str], dict[int, float]]:
    """(half, class) -> {bin: value}; later spots overwrite earlier ones in the same bin."""
    binned: dict[tuple[int, str], dict[int, float]] = defaultdict(dict)
    for spot in spots:
        cls = label_map.class_of(spot.label)
        if cls is not None:
            binned[(spot.half, cls)][_bin(spot.position_ms)] = value(spot)
    return binned


def _nearest_truth(truth_bins: np.ndarray, truth_values: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """Visibility (+1/-1) of the ground-truth event nearest each bin (official split at midpoints);
    -1 where the class has no ground truth in the half."""
    if len(truth_bins) == 0:
        return np.full(len(bins), -1.0)
    starts = np.concatenate([[0], (truth_bins[:-1] + truth_bins[1:]) // 2])
    return truth_values[np.searchsorted(starts, bins, side="right") - 1]


def _match(truth_bins: np.ndarray, pred_bins: np.ndarray, pred_scores: np.ndarray, reach: float) -> np.ndarray:
    """Greedy official matching: each ground-truth event, in time order, takes the highest-scoring
    unmatched prediction within ``reach`` bins (first one on ties)."""
    matched = np.zeros(len(pred_bins), dtype=bool)
    for truth in truth_bins:
        low = np.searchsorted(pred_bins, truth - reach, side="left")
        high = np.searchsorted(pred_bins, truth + reach, side="right")
        best, best_score = -1, -1.0
        for index in range(low, high):
            if not matched[index] and pred_scores[index] > best_score:
                best, best_score = index, pred_scores[index]
        if best >= 0:
            matched[best] = True
    return matched


def _precision_recall(scores: np.ndarray, matched: np.ndarray, positives: int) -> tuple[np.ndarray, np.ndarray]:
    """Precision and recall at each of the 200 thresholds (0 where undefined, as the official nan_to_num)."""
    order = np.argsort(scores, kind="stable")
    sorted_scores = scores[order]
    true_from = np.concatenate([np.cumsum(matched[order][::-1])[::-1], [0]])  # TPs among scores[i:]
    first = np.searchsorted(sorted_scores, THRESHOLDS, side="left")
    predicted = len(scores) - first
    true_positives = true_from[first].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.nan_to_num(true_positives / predicted)
        recall = np.nan_to_num(true_positives / positives) if positives else np.zeros_like(true_positives)
    return precision, recall


def _eleven_point_ap(precision: np.ndarray, recall: np.ndarray) -> float:
    return float(np.mean([precision[recall >= point].max(initial=0.0) for point in RECALL_POINTS]))


def _trapezoid_mean(values: list[float]) -> float:
    if len(values) == 1:
        return values[0]
    return float(np.mean([(a + b) / 2 for a, b in zip(values[:-1], values[1:])]))


def average_map(
    truth: dict[str, list[Spot]],
    predictions: dict[str, list[Spot]],
    label_map: LabelMap,
    metric: str = "loose",
) -> SpottingScore:
    """Average-mAP of ``predictions`` against ``truth`` (both keyed by game), in percent.

    Games in ``truth`` without predictions count as games with no predictions; predictions for games
    without ground truth are the caller's to report (they are ignored here).
    """
    tolerances = TOLERANCES_S[metric]
    classes = label_map.classes
    halves = []  # per game half: {class: (truth_bins, truth_values, pred_bins, pred_scores)}
    for game, truth_spots in truth.items():
        truth_binned = _binned(truth_spots, label_map, lambda s: 1.0 if s.visible else -1.0)
        pred_binned = _binned(predictions.get(game, []), label_map, lambda s: s.confidence)
        for half in (1, 2):
            per_class = {}
            for cls in classes:
                t = truth_binned.get((half, cls), {})
                p = pred_binned.get((half, cls), {})
                t_bins = np.array(sorted(t), dtype=np.int64)
                p_bins = np.array(sorted(p), dtype=np.int64)
                per_class[cls] = (t_bins, np.array([t[b] for b in t_bins]), p_bins, np.array([p[b] for b in p_bins]))
            halves.append(per_class)

    counts = {cls: sum(int(len(h[cls][0])) for h in halves) for cls in classes}
    present = [cls for cls in classes if counts[cls] > 0]
    maps, maps_visible, maps_unshown = [], [], []
    per_class_curves: dict[str, list[float]] = {cls: [] for cls in present}
    for tolerance in tolerances:
        reach = tolerance * BINS_PER_SECOND / 2
        aps, aps_visible, aps_unshown = [], [], []
        for cls in present:
            detections = _ClassDetections()
            for half in halves:
                t_bins, t_values, p_bins, p_scores = half[cls]
                detections.scores.append(p_scores)
                detections.matched.append(_match(t_bins, p_bins, p_scores, reach))
                detections.nearest.append(_nearest_truth(t_bins, t_values, p_bins))
                detections.visible += int(np.sum(t_values > 0))
                detections.unshown += int(np.sum(t_values < 0))
            scores = np.concatenate(detections.scores) if detections.scores else np.empty(0)
            matched = np.concatenate(detections.matched) if detections.matched else np.empty(0, bool)
            nearest = np.concatenate(detections.nearest) if detections.nearest else np.empty(0)
            ap = _eleven_point_ap(*_precision_recall(scores, matched, detections.visible + detections.unshown))
            visible, unshown = nearest > 0.5, nearest < -0.5
            aps.append(ap)
            aps_visible.append(_eleven_point_ap(*_precision_recall(scores[visible], matched[visible], detections.visible)))
            aps_unshown.append(_eleven_point_ap(*_precision_recall(scores[unshown], matched[unshown], detections.unshown)))
            per_class_curves[cls].append(ap)
        maps.append(float(np.mean(aps)) if aps else math.nan)
        maps_visible.append(float(np.mean(aps_visible)) if aps_visible else math.nan)
        maps_unshown.append(float(np.mean(aps_unshown)) if aps_unshown else math.nan)

    return SpottingScore(
        metric=metric,
        tolerances_s=tolerances,
        classes=tuple(present),
        average_map=100 * _trapezoid_mean(maps),
        per_class={cls: 100 * _trapezoid_mean(curve) for cls, curve in per_class_curves.items()},
        average_map_visible=100 * _trapezoid_mean(maps_visible),
        average_map_unshown=100 * _trapezoid_mean(maps_unshown) * UNSHOWN_SCALE,
        ground_truth_counts=counts,
        absent_classes=tuple(cls for cls in classes if counts[cls] == 0),
    )


@dataclass
class Evaluation:
    """The scores of one evaluation run and what did not pair up."""

    scores: list[SpottingScore]
    games: int
    games_without_predictions: list[str]
    predictions_without_labels: list[str]
    label_map: str

    def to_dict(self) -> dict:
        """A JSON-ready dict."""
        return {
            "classes": self.label_map,
            "games": self.games,
            "games_without_predictions": self.games_without_predictions,
            "predictions_without_labels": self.predictions_without_labels,
            **{score.metric: score.to_dict() for score in self.scores},
        }


def evaluate_paths(predictions_path, labels_path, label_map: LabelMap, metrics: tuple[str, ...] = ("loose",)) -> Evaluation:
    """Evaluate predictions (file, tree or zip) against labels (file or tree) by average-mAP."""
    truth = load_truth(labels_path, label_map)
    predictions, missing, extra = pair_games(truth, load_predictions(predictions_path, label_map))
    scores = [average_map(truth, predictions, label_map, metric) for metric in metrics]
    return Evaluation(scores, len(truth), missing, extra, label_map.name)
