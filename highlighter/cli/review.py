"""`highlight report`: the review page of an events file."""

from __future__ import annotations

from pathlib import Path

import click

from highlighter.cli.group import decoder_option, folder_or_file, highlight, quiet_option, settings_for, setup_logging, stderr
from highlighter.progress import make_progress


@highlight.command()
@click.argument("events", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--out", type=click.Path(), callback=folder_or_file,
              help="Page file (one input) or folder (several, or a path ending in /); default NAME.report.html "
                   "beside each events file.")
@click.option("--scores", type=click.Path(dir_okay=False, path_type=Path),
              help="Score curves from `highlight tag --scores` (.npz or .csv) to draw (one input).")
@click.option("--video", type=click.Path(path_type=Path),
              help="Video file or game folder to use instead of the one the events file names (one input).")
@click.option("--thumbnails", type=int, help="Thumbnails per event, centred on it (0: none).")
@click.option("--spacing", type=float, help="Seconds between an event's thumbnails.")
@decoder_option
@quiet_option
def report(events: tuple[Path, ...], out: Path | None, scores: Path | None, video: Path | None, thumbnails: int,
           spacing: float, decoder: str, quiet: bool) -> None:
    """Write a self-contained HTML review page for each events file of `highlight tag`.

    The page shows the match, the model and the timing, the score curves with the events marked
    (curves need --scores), and one row per event with thumbnails around it (decoded by the sampler,
    true times under each) and a player that jumps to it when the video is reachable from the page.
    Filtering and sorting use JavaScript; the rows are plain HTML. A missing video gives the page
    without thumbnails and a warning.
    """
    from highlighter.outputs.events import load_events_document
    from highlighter.review import ReviewSettings, report_path, write_report

    setup_logging(quiet)
    if len(events) > 1 and (scores is not None or video is not None):
        raise click.BadParameter("--scores and --video go with a single events file")
    sections = settings_for(("video", "report"))
    settings = ReviewSettings.from_settings(sections["report"], sections["video"])
    with make_progress("frames", quiet=quiet, console=stderr) as progress:
        for path in events:
            if out is None:
                page = report_path(path)
            elif len(events) > 1 or out.is_dir():
                page = out / report_path(path).name
            else:
                page = out
            result = write_report(load_events_document(path), page, video=video, scores=scores, settings=settings,
                                  progress=progress)
            for warning in result.warnings:
                progress.console.print(f"[yellow]warning:[/] {warning}", soft_wrap=True)
            if not quiet:
                progress.console.print(f"review page: {result.path} ({result.events} events, "
                                       f"{result.thumbnails} thumbnails)")
