"""`highlight synth`: synthetic SoccerNet games."""

from __future__ import annotations

from pathlib import Path

import click

from highlighter.cli.group import highlight, quiet_option, settings_for, setup_logging, stderr, stdout
from highlighter.progress import make_progress


def parse_size(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Check ``WxH`` (both at least 64)."""
    if value is None:
        return None
    try:
        width, height = (int(part) for part in value.lower().split("x"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not WIDTHxHEIGHT, e.g. 398x224") from None
    if width < 64 or height < 64:
        raise click.BadParameter("frames must be at least 64x64")
    return value


@highlight.command()
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--games", type=int, help="Number of games.")
@click.option("--minutes", type=float, help="Length of each half in minutes.")
@click.option("--seed", type=int, help="Random seed: the same seed writes the same games.")
@click.option("--size", callback=parse_size, help="Frame size WxH (SoccerNet 224p is 398x224).")
@click.option("--density", type=float,
              help="Multiplier on the real rates of goals, cards and substitutions.")
@quiet_option
def synth(out: Path, games: int, minutes: float, seed: int, size: str, density: float, quiet: bool) -> None:
    """Write synthetic SoccerNet games: OUT/<league>/<season>/<game>/ with 1_224p.mkv, 2_224p.mkv and
    Labels-v2.json, plus Frames-v3.zip and Labels-v3.json (action and replay frames).

    Event timelines follow the rates in configs/event_stats.yaml (from the real SoccerNet-v2 labels).
    """
    from highlighter.synth.game import synthesize

    setup_logging(quiet)
    if games < 1 or minutes <= 0 or density <= 0:
        raise click.BadParameter("--games, --minutes and --density must be positive")
    settings = settings_for(("synth",))["synth"]
    with make_progress("frames", quiet=quiet, console=stderr) as progress:
        folders = synthesize(out, settings, progress)
    if not quiet:
        stdout.print(f"wrote {len(folders)} games under {out}/")
