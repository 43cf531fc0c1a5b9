"""Which weights a run ships: the best epoch (by val macro-F1, or by train loss where there is no val
game), then WiSE-FT, the interpolation between the zero-shot and the fine-tuned weights."""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass
from typing import Callable

import torch

from highlighter.evaluation.metrics import ClassificationReport

log = logging.getLogger(__name__)

#: The WiSE-FT weights of the fine-tuned model tried on val when none is given.
WISE_SWEEP = (0.0, 0.25, 0.5, 0.75, 1.0)


def wise_interpolate(zero_shot: dict[str, torch.Tensor], fine_tuned: dict[str, torch.Tensor],
                     alpha: float) -> dict[str, torch.Tensor]:
    """WiSE-FT: (1 - alpha) x zero-shot + alpha x fine-tuned, for every floating-point tensor."""
    return {k: torch.lerp(zero_shot[k], v, alpha) if v.is_floating_point() else v for k, v in fine_tuned.items()}


@dataclass
class BestEpoch:
    """The best epoch so far and its score: val macro-F1, or minus the train loss without val games
    (any first epoch beats the start, whatever its loss)."""

    score: float = -math.inf
    epoch: int = -1

    def offer(self, epoch: int, report: ClassificationReport | None, train_loss: float) -> bool:
        """Record ``epoch`` if it beats the best so far; True if it did."""
        score = report.macro_f1 if report is not None else -train_loss
        if score > self.score:
            self.score, self.epoch = score, epoch
            return True
        return False

    def to_dict(self) -> dict:
        """For the resume state."""
        return asdict(self)


def choose_wise_alpha(requested: float | None, has_val: bool,
                      score_on_val: Callable[[float], float]) -> tuple[float, dict[str, float]]:
    """The WiSE-FT alpha to ship and the sweep's val scores: ``requested`` if given; else the best of
    :data:`WISE_SWEEP` on val (ties go to the larger alpha). Without val games nothing can be chosen:
    the fine-tuned weights (alpha 1, or ``requested``) ship, with a warning, never the zero-shot ones."""
    if not has_val:
        alpha = 1.0 if requested is None else requested
        log.warning("no validation games: nothing was validated; kept the epoch with the lowest train loss and "
                    "WiSE-FT alpha %g (no sweep). Add games (or val games to --split-file) to select on held-out "
                    "data", alpha)
        return alpha, {}
    if requested is not None:
        return requested, {}
    sweep = {str(alpha): score_on_val(alpha) for alpha in WISE_SWEEP}
    best = max(sweep.values())
    return max(float(alpha) for alpha, score in sweep.items() if score == best), sweep
