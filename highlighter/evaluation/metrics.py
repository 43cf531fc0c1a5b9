"""Frame-classification metrics: accuracy, balanced accuracy, macro-F1, per-class precision/recall."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class ClassificationReport:
    """Scores of predictions against targets over ``classes`` (fractions in [0, 1])."""

    classes: list[str]
    confusion: list[list[int]]  # rows: true class, columns: predicted class
    accuracy: float
    balanced_accuracy: float
    macro_f1: float
    precision: dict[str, float]
    recall: dict[str, float]
    f1: dict[str, float]
    support: dict[str, int]
    loss: float | None = None

    def to_dict(self) -> dict:
        """A JSON-ready dict."""
        return dict(self.__dict__)


def classification_report(targets: np.ndarray, predictions: np.ndarray, classes: list[str],
                          loss: float | None = None) -> ClassificationReport:
    """Per-class and averaged scores; classes absent from ``targets`` are left out of the macro means."""
    n = len(classes)
    confusion = np.bincount(np.asarray(targets) * n + np.asarray(predictions), minlength=n * n).reshape(n, n)
    true_positive = np.diag(confusion).astype(float)
    support = confusion.sum(axis=1)
    predicted = confusion.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, true_positive / predicted, 0.0)
        recall = np.where(support > 0, true_positive / support, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    present = support > 0
    return ClassificationReport(
        classes=list(classes),
        confusion=confusion.tolist(),
        accuracy=float(true_positive.sum() / max(confusion.sum(), 1)),
        balanced_accuracy=float(recall[present].mean()) if present.any() else 0.0,
        macro_f1=float(f1[present].mean()) if present.any() else 0.0,
        precision=dict(zip(classes, precision.round(6).tolist())),
        recall=dict(zip(classes, recall.round(6).tolist())),
        f1=dict(zip(classes, f1.round(6).tolist())),
        support=dict(zip(classes, support.tolist())),
        loss=loss,
    )
