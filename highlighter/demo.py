"""`highlight demo`: the whole pipeline on synthetic games, on a CPU, in a few minutes.

Synthesise SoccerNet games, train the tiny model on some of them, tag a held-out game, and score the
tags against its labels, each step through the same library code the real commands use.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from rich.progress import Progress

from highlighter.evaluate import Evaluation, evaluate_paths
from highlighter.export import TagResult
from highlighter.labels import load_label_map
from highlighter.model import load_checkpoint
from highlighter.synth.game import SynthSettings, synthesize
from highlighter.tag import Tagger, TagSettings, tag_inputs
from highlighter.train import TrainConfig, Trainer, TrainResult


@dataclass(frozen=True)
class DemoSettings:
    """Sizes of the demo (the defaults finish in about a minute on two cores)."""

    games: int = 6
    minutes: float = 1.0
    epochs: int = 10
    seed: int = 7


@dataclass
class DemoResult:
    """What each step produced."""

    games: list[Path]
    training: TrainResult
    tagged: TagResult
    evaluation: Evaluation


def run_demo(out: str | Path, settings: DemoSettings, progress: Progress | None = None,
             step: Callable[[str], None] = lambda message: None) -> DemoResult:
    """Run the four steps under ``out`` (games/, weights/, predictions/, cache/)."""
    out = Path(out)
    step(f"1/4 synthesising {settings.games} games of 2 x {settings.minutes:g} min")
    games = synthesize(out / "games", SynthSettings(games=settings.games, minutes=settings.minutes, seed=settings.seed,
                                                    width=320, height=180, density=30.0), progress)
    step("2/4 training the tiny open_clip model on the train games (CPU)")
    config = TrainConfig(data=[str(out / "games")], out=str(out / "weights" / "highlighter-demo"),
                         model="highlighter-tiny", pretrained=None, mode="finetune", epochs=settings.epochs, lr=2e-3,
                         batch_size=32, frame_fps=2.0, wise_alpha=1.0, seed=settings.seed,
                         cache_dir=str(out / "cache"), device="cpu")
    trainer = Trainer(config, progress)
    training = trainer.run()
    game = trainer.data_summary["test"]["game_list"][0]
    step(f"3/4 tagging the held-out game {game}")
    tagged: list[TagResult] = []
    classifier = load_checkpoint(training.checkpoint)
    tagger = Tagger(classifier, {"name": classifier.spec.model, "checkpoint": str(training.checkpoint)},
                    TagSettings(device="cpu"), progress)
    predictions = out / "predictions" / game / "results_spotting.json"
    tag_inputs(tagger, [out / "games" / game], predictions, "soccernet",
               on_result=lambda result, path: tagged.append(result))
    step("4/4 scoring the tags against the game's Labels-v2.json")
    evaluation = evaluate_paths(predictions, out / "games" / game / "Labels-v2.json", load_label_map("highlight"),
                                ("loose", "tight"))
    return DemoResult(games, training, tagged[0], evaluation)
