"""`highlight train` and `eval-frames`: fine-tune the classifier, and score it frame by frame."""

from __future__ import annotations

import json
from pathlib import Path

import click

from highlighter.cli.group import (
    PRECISION_HELP,
    decoder_option,
    highlight,
    quiet_option,
    settings_for,
    setup_logging,
    stderr,
    stdout,
)
from highlighter.config.schema import choices
from highlighter.config.settings import EvalFramesSettings, TrainSettings
from highlighter.progress import make_progress


def parse_wise_alpha(value: str | float | None) -> float | None:
    """``sweep`` (or nothing) -> None: sweep on val; else a float in [0, 1]."""
    if value is None or str(value) == "sweep":
        return None
    try:
        alpha = float(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is neither 'sweep' nor a number") from None
    if not 0 <= alpha <= 1:
        raise click.BadParameter("alpha must lie in [0, 1]")
    return alpha


def read_split_file(ctx: click.Context, param: click.Parameter, value: Path | None) -> dict | None:
    """A JSON file {"train": [games], "val": [...], "test": [...]}."""
    if value is None:
        return None
    from highlighter.jsonfile import read_json

    split = read_json(value)
    if not isinstance(split, dict) or set(split) != {"train", "val", "test"}:
        raise click.BadParameter(f"{value}: expected an object with the lists 'train', 'val' and 'test'")
    return split


@highlight.command()
@click.option("--data", "data", multiple=True, required=True, type=click.Path(path_type=Path),
              help="A folder of SoccerNet games (v3 frames and/or v2 videos with labels); repeat to mix.")
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path), help="Checkpoint folder.")
@click.option("--model", help="open_clip model name.")
@click.option("--pretrained", help="open_clip pretrained tag or a local weights file; 'none' for random weights.")
@click.option("--classes", help="highlight | soccernet-v2 | a YAML class map.")
@click.option("--prompts", type=click.Path(dir_okay=False), help="Prompt YAML for the zero-shot head.")
@click.option("--mode", type=click.Choice(choices(TrainSettings, "mode")),
              help="Linear probe, full fine-tune, or probe then fine-tune.")
@click.option("--loss", type=click.Choice(choices(TrainSettings, "loss")), help="Cross-entropy, or FLYP-style contrastive.")
@click.option("--epochs", type=int, help="Fine-tuning epochs (probe epochs in --mode probe).")
@click.option("--probe-epochs", type=int, help="Probe epochs before fine-tuning in lp-ft.")
@click.option("--lr", type=float, help="Fine-tuning learning rate.")
@click.option("--probe-lr", type=float, help="Linear-probe learning rate.")
@click.option("--batch-size", type=int, help="Images per step (per rank under torchrun).")
@click.option("--grad-accum", type=int, help="Steps per optimizer update.")
@click.option("--balance", type=click.Choice(choices(TrainSettings, "balance")), help="Class balancing for rare classes.")
@click.option("--wise-alpha", callback=lambda ctx, param, value: parse_wise_alpha(value),
              help="WiSE-FT weight of the fine-tuned model in [0, 1], or 'sweep' to pick it on val.  [default: sweep]")
@click.option("--split", type=(float, float, float), help="Train/val/test ratios of games.")
@click.option("--split-file", type=click.Path(dir_okay=False, path_type=Path), callback=read_split_file,
              help="JSON with explicit game lists for train, val and test.")
@click.option("--seed", type=int, help="Seed for splits, sampling and initialisation.")
@click.option("--device", help="auto | cpu | cuda.")
@click.option("--workers", type=int, help="DataLoader worker processes (default: about one per core on a GPU, none on a CPU).")
@click.option("--frame-fps", type=float, help="Frames per second drawn from v2 videos (default: the video fps setting).")
@decoder_option
@click.option("--cache-dir", type=click.Path(file_okay=False), help="Cache of frames sampled from videos.")
@click.option("--resume", is_flag=True, help="Continue an interrupted run from its last completed epoch.")
@click.option("--fusion/--no-fusion", help="Then fit the audio fusion on the games' audio (v2 videos with audio).")
@click.option("--spotting-head/--no-spotting-head",
              help="Then fit the temporal spotting head on the v2 games' per-second embeddings.")
@quiet_option
def train(data: tuple[Path, ...], out: Path, model: str, pretrained: str, classes: str, prompts: str | None,
          mode: str, loss: str, epochs: int, probe_epochs: int, lr: float, probe_lr: float, batch_size: int,
          grad_accum: int, balance: str, wise_alpha: float | None, split: tuple[float, float, float],
          split_file: dict | None, seed: int, device: str, workers: int | None, frame_fps: float | None,
          decoder: str | None, cache_dir: str, resume: bool, fusion: bool, spotting_head: bool,
          quiet: bool) -> None:
    """Fine-tune an open_clip CLIP model into the goal / card / substitution / background classifier.

    Reads SoccerNet-v3 action and replay frames (straight from Frames-v3.zip) and frames around the
    events of SoccerNet-v2 half videos; splits by game; keeps the epoch with the best val macro-F1;
    writes OUT/model.safetensors, OUT/highlighter.json and OUT/metrics.json. Under `torchrun` the
    ranks train data-parallel (DistributedDataParallel) and rank 0 writes.
    """
    from highlighter.cli.tables import classification_table
    from highlighter.training.trainer import Trainer

    setup_logging(quiet)

    def show_epoch(row: dict, report) -> None:
        if report is not None and not quiet:
            stderr.print(classification_table(report, f"epoch {row['epoch']} ({row['stage']}), "
                                                      f"train loss {row['train_loss']:.4f}: val"))

    with make_progress("img", quiet=quiet, console=stderr) as progress:
        sections = settings_for(("video", "train", "audio", "smoother"), data=[str(d) for d in data],
                                split_games=split_file)
        run = Trainer(sections["train"], sections["video"], sections["audio"], sections["smoother"], progress,
                      show_epoch)
        result = run.run()
    if not quiet and run.rank.leads:
        if result.test is not None:
            stdout.print(classification_table(result.test, f"test games, WiSE-FT alpha {result.wise_alpha}"))
        stdout.print(f"checkpoint: {result.checkpoint}/")


@highlight.command("eval-frames")
@click.argument("checkpoint", type=click.Path(path_type=Path))
@click.argument("data", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--split", type=click.Choice(choices(EvalFramesSettings, "split")),
              help="Only the games the checkpoint used for this split.")
@click.option("--device", help="auto | cpu | cuda.")
@click.option("--precision", type=click.Choice(choices(EvalFramesSettings, "precision")), help=PRECISION_HELP)
@click.option("--batch-size", type=int, help="Images per model call.")
@click.option("--cache-dir", help="Cache of frames sampled from videos.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@quiet_option
def eval_frames(checkpoint: Path, data: tuple[Path, ...], split: str, device: str, precision: str, batch_size: int,
                cache_dir: str, as_json: bool, quiet: bool) -> None:
    """Frame classification scores of CHECKPOINT on SoccerNet-style DATA (v3 frames, v2 videos):
    accuracy, balanced accuracy, macro-F1, per-class precision/recall and the confusion matrix, one
    prediction per image against its own label."""
    from highlighter.cli.tables import classification_table
    from highlighter.evaluation.frames import evaluate_frames

    setup_logging(quiet or as_json)
    sections = settings_for(("video", "train", "eval_frames"))
    with make_progress("img", quiet=quiet or as_json, console=stderr) as progress:
        report, games = evaluate_frames(checkpoint, list(data), sections["eval_frames"], sections["video"],
                                        sections["train"], progress)
    if as_json:
        click.echo(json.dumps({"games": games, **report.to_dict()}, indent=2))
    else:
        stdout.print(classification_table(report, f"{checkpoint}: {sum(report.support.values())} images, {games} games"))
