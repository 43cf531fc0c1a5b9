"""`highlight eval` and `tune-smoother`: SoccerNet's average-mAP of events, and the smoother that maximises it."""

from __future__ import annotations

import json
from pathlib import Path

import click

from highlighter.cli.group import highlight, settings_for, setup_logging, stderr, stdout
from highlighter.config.schema import choices
from highlighter.config.settings import EvalSettings, TuneSettings
from highlighter.labels import BUILT_IN_MAPS


@highlight.command("eval")
@click.argument("predictions", type=click.Path(path_type=Path))
@click.argument("labels", type=click.Path(path_type=Path))
@click.option("--metric", type=click.Choice(choices(EvalSettings, "metric")),
              help="loose: tolerances 5-60 s; tight: 1-5 s.")
@click.option("--classes", help=f"{' | '.join(BUILT_IN_MAPS)} | a YAML file of class: [SoccerNet-v2 labels].")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def evaluate(predictions: Path, labels: Path, metric: str, classes: str, as_json: bool) -> None:
    """Score PREDICTIONS against LABELS by SoccerNet's average-mAP (as the official evaluator).

    PREDICTIONS is a results_spotting.json, a folder tree of them, or a zip of such a tree; LABELS is a
    Labels-v2.json or a tree of game folders. Games pair up by their path (league/season/game).
    """
    from highlighter.cli.tables import evaluation_notes, evaluation_table
    from highlighter.evaluation.spotting import evaluate_paths
    from highlighter.labels import load_label_map

    setup_logging(quiet=as_json)
    settings = settings_for(("eval",))["eval"]
    metrics = ("loose", "tight") if settings.metric == "both" else (settings.metric,)
    result = evaluate_paths(predictions, labels, load_label_map(settings.classes), metrics)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
        return
    stdout.print(evaluation_table(result))
    for note in evaluation_notes(result):
        stderr.print(f"[yellow]note:[/] {note}")


@highlight.command("tune-smoother")
@click.argument("scores", type=click.Path(file_okay=False, path_type=Path))
@click.argument("labels", type=click.Path(path_type=Path))
@click.option("--metric", type=click.Choice(choices(TuneSettings, "metric")), help="The average-mAP to maximise.")
@click.option("--classes", help="Class map of the labels.")
@click.option("--write", "write_to", type=click.Path(dir_okay=False, path_type=Path),
              help="Save the best settings as a config file (its smoother block) for `highlight --config FILE tag`.")
def tune_smoother_command(scores: Path, labels: Path, metric: str, classes: str, write_to: Path | None) -> None:
    """Pick the smoothing window, threshold and NMS window that maximise average-mAP on validation games
    (the grid is tune_smoother in the settings).

    SCORES holds the NAME.scores.npz files of `highlight tag GAME... --scores x.npz -o SCORES`; LABELS
    holds the games' folders with Labels-v2.json (paired by the game folder's name). Where a spotting head
    tagged them, its peak threshold and NMS window are tuned too (--write saves them in the tag block).
    """
    from rich.table import Table

    from highlighter.evaluation.tuning import tune_head, tune_smoother, write_tuned_config
    from highlighter.labels import load_label_map

    setup_logging(quiet=False)
    sections = settings_for(("tune_smoother", "smoother"))
    grid = sections["tune_smoother"]
    ranked = tune_smoother(scores, labels, load_label_map(grid.classes), grid)
    table = Table(title=f"smoother settings by {grid.metric} average-mAP (best 5 of {len(ranked)})",
                  title_justify="left")
    for column in ("window s", "threshold", "NMS s", "average-mAP"):
        table.add_column(column, justify="right")
    for params, score in ranked[:5]:
        table.add_row(f"{params.window_s:g}", f"{params.threshold:g}", f"{params.nms_for('default'):g}", f"{score:.2f}")
    stdout.print(table)
    heads = tune_head(scores, labels, load_label_map(grid.classes), grid)
    if heads:
        table = Table(title=f"spotting head peak picking by {grid.metric} average-mAP (best 5 of {len(heads)})",
                      title_justify="left")
        for column in ("threshold", "NMS s", "average-mAP"):
            table.add_column(column, justify="right")
        for threshold, nms, score in heads[:5]:
            table.add_row(f"{threshold:g}", f"{nms:g}", f"{score:.2f}")
        stdout.print(table)
    if write_to is not None:
        write_tuned_config(ranked[0][0], sections["smoother"], write_to, heads[0][:2] if heads else None)
        stdout.print(f"best settings written to {write_to}: use `highlight --config {write_to} tag ...`")
