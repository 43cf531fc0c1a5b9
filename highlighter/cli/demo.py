"""`highlight demo`: the whole pipeline on built-in synthetic data."""

from __future__ import annotations

from pathlib import Path

import click

from highlighter.cli.group import config_file, highlight, quiet_option, settings_for, setup_logging, stderr, stdout
from highlighter.progress import make_progress
from highlighter.wording import counted


@highlight.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the games, the checkpoint and the predictions.")
@click.option("--games", type=int, help="Synthetic games (at least 3).")
@click.option("--minutes", type=float, help="Length of each half.")
@click.option("--epochs", type=int, help="Training epochs.")
@quiet_option
def demo(out: Path, games: int, minutes: float, epochs: int, quiet: bool) -> None:
    """Run the whole pipeline on built-in synthetic data: synthesise SoccerNet games, train a tiny model,
    tag every held-out game with the tag and smoother settings `highlight tag` uses, and score the tags with
    SoccerNet's average-mAP. About a minute on a laptop CPU."""
    from highlighter.cli.tables import classification_table, evaluation_table, events_table
    from highlighter.demo import run_demo

    setup_logging(quiet)
    if games < 3:
        raise click.BadParameter("the demo needs at least 3 games (train, val and test)")

    def step(message: str) -> None:
        if not quiet:
            stderr.print(f"[bold]{message}")

    sections = settings_for(("demo",))
    with make_progress("frames", quiet=quiet, console=stderr) as progress:
        result = run_demo(sections["demo"], config_file(), progress, step)
    if quiet:
        return
    if result.training.test is not None:
        stdout.print(classification_table(result.training.test, "frame classification on the test game"))
    for game, tagged in result.tagged.items():
        stdout.print(events_table(tagged))
        stdout.print(evaluation_table(result.evaluation[game]))
    held_out, scored = len(result.evaluation), len(result.game_scores("loose"))
    if scored == 0:
        stdout.print(f"[bold]demo score: none (no held-out game holds a goal, card or substitution: make longer "
                     f"halves with --minutes); files under {out}/")
    else:
        which = counted(held_out, "held-out game") if scored == held_out else (
            f"{scored} of {held_out} held-out games; "
            f"{'the other holds' if held_out - scored == 1 else 'the others hold'} no goal, card or substitution")
        stdout.print(f"[bold]demo score: loose average-mAP {result.mean_score('loose'):.1f}, tight "
                     f"{result.mean_score('tight'):.1f} (mean of {which}; files under {out}/)")
    stdout.print(f"checkpoint: {result.training.checkpoint}/ (trained on synthetic games: tag with it using "
                 f"`highlight tag VIDEO --weights {result.training.checkpoint}`)")
