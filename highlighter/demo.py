"""`highlight demo`: the whole pipeline on synthetic games, on a CPU, in a few minutes.

Synthesise SoccerNet games, train the tiny model on some of them, tag every held-out (test) game, and score
the tags against their labels (each game, and the mean: one game is a noisy yardstick), each step through the same library code the real commands use. Tagging uses
exactly the ``video``, ``smoother`` and ``tag`` settings `highlight tag` would (only the weights differ:
the demo's own checkpoint), so the demo's score measures the shipped settings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from rich.progress import Progress

from highlighter.api import tagger, trainer
from highlighter.evaluation.spotting import Evaluation, evaluate_paths
from highlighter.outputs.result import TagResult
from highlighter.labels import load_label_map
from highlighter.config.settings import DemoSettings, SynthSettings
from highlighter.soccernet.files import LABELS_FILE, PREDICTIONS_FILE
from highlighter.synth.game import synthesize
from highlighter.inputs import expand_inputs
from highlighter.tagging.tagger import Tagger
from highlighter.training.trainer import TrainResult

#: what the demo trains: the tiny model from scratch, briefly, on CPU (the rest of `train` as configured)
DEMO_TRAINING = dict(model="highlighter-tiny", pretrained="none", mode="finetune", lr=2e-3, batch_size=32, frame_fps=2.0,
                     wise_alpha=1.0, device="cpu")
#: the demo's games: small frames, many highlights per minute
DEMO_GAMES = dict(size="320x180", density=30.0)


@dataclass
class DemoResult:
    """What each step produced, and the tagger that tagged (its settings are `highlight tag`'s)."""

    games: list[Path]
    training: TrainResult
    tagger: Tagger
    tagged: dict[str, TagResult]  # by held-out game
    evaluation: dict[str, Evaluation]

    def game_scores(self, metric: str) -> list[float]:
        """The average-mAP by ``metric`` of each held-out game that holds a goal, card or substitution (a game
        without any has no score: average-mAP is undefined there)."""
        scores = (next(s.average_map for s in e.scores if s.metric == metric) for e in self.evaluation.values())
        return [score for score in scores if not math.isnan(score)]

    def mean_score(self, metric: str) -> float:
        """The mean of :meth:`game_scores` (NaN where no held-out game has a score)."""
        scores = self.game_scores(metric)
        return sum(scores) / len(scores) if scores else math.nan


def run_demo(settings: DemoSettings, config: str | Path | None = None, progress: Progress | None = None,
             step: Callable[[str], None] = lambda message: None) -> DemoResult:
    """Run the four steps under ``settings.out`` (games/, weights/, predictions/, cache/)."""
    out = Path(settings.out)
    step(f"1/4 synthesising {settings.games} games of 2 x {settings.minutes:g} min")
    games = synthesize(out / "games", SynthSettings(games=settings.games, minutes=settings.minutes, seed=settings.seed,
                                                    **DEMO_GAMES), progress)
    step("2/4 training the tiny open_clip model on the train games (CPU)")
    run = trainer([out / "games"], config, progress, settings={
        **DEMO_TRAINING, "out": str(out / "weights" / "highlighter-demo"), "epochs": settings.epochs,
        "seed": settings.seed, "cache_dir": str(out / "cache")})
    training = run.run()
    held_out = run.data_summary["test"]["game_list"]
    step(f"3/4 tagging the {len(held_out)} held-out games")
    demo_tagger = tagger(config, progress, {"weights": str(training.checkpoint)})
    tagged, evaluation = {}, {}
    for game in held_out:
        tagged[game] = demo_tagger.tag(*expand_inputs([out / "games" / game])[0])
        tagged[game].save(out / "predictions" / game / PREDICTIONS_FILE, "soccernet")
    step(f"4/4 scoring the tags against the games' {LABELS_FILE}")
    for game in held_out:
        evaluation[game] = evaluate_paths(out / "predictions" / game / PREDICTIONS_FILE,
                                          out / "games" / game / LABELS_FILE, load_label_map("highlight"),
                                          ("loose", "tight"))
    return DemoResult(games, training, demo_tagger, tagged, evaluation)
