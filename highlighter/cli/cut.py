"""`highlight cut`: a highlight reel or an editor timeline from an events file."""

from __future__ import annotations

from pathlib import Path

import click

from highlighter.cli.group import file_only, highlight, quiet_option, settings_for, setup_logging, stderr, stdout
from highlighter.config.schema import choices
from highlighter.config.settings import CutSettings
from highlighter.cut.formats import CUT_FORMATS
from highlighter.progress import make_progress


@highlight.command()
@click.argument("events", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--out", required=True, type=click.Path(dir_okay=False), callback=file_only,
              help="Output: .mp4/.mkv reel, .edl, .srt, .txt (YouTube chapters) or .ffmeta (FFmpeg chapters).")
@click.option("--format", "fmt", type=click.Choice(CUT_FORMATS), default=None, show_default=False,
              help="Output format when OUT's suffix does not say it.")
@click.option("--classes", help="Classes to keep, comma-separated (goal,card), or all.")
@click.option("--min-confidence", type=float, help="Keep events at least this confident.")
@click.option("--before", type=float, help="Seconds kept before every event (else per class from the config: goals 10).")
@click.option("--after", type=float, help="Seconds kept after every event (else per class from the config: goals 20).")
@click.option("--max-duration", type=float,
              help="Longest selection in seconds: the most confident events that fit, in match order.")
@click.option("--fast", is_flag=True,
              help="Reel by stream copy, no re-encoding: each cut snaps to the key frame at or before it, so "
                   "segments start early and the reel runs longer than the selection.")
@click.option("--labels", is_flag=True, help="Burn a caption (class, match clock) into each reel segment.")
@click.option("--timeline", type=click.Choice(choices(CutSettings, "timeline")),
              help="Time subtitles and chapters on the source video (a game's halves joined) or on the reel.")
@click.option("--chapters-into", type=click.Path(dir_okay=False, path_type=Path),
              help="Also copy the source video (halves joined) to this file with the events as chapters.")
@click.option("--video", type=click.Path(path_type=Path),
              help="Video file or game folder to use instead of the one the events file names.")
@click.option("--crf", type=int, help="libx264 quality of the re-encoded reel (lower is better).")
@click.option("--preset", help="libx264 speed preset of the re-encoded reel.")
@click.option("--caption-renderer", type=click.Choice(choices(CutSettings, "caption_renderer")),
              help="--labels through FFmpeg's drawtext (needs a font), OpenCV, or auto.")
@quiet_option
def cut(events: Path, out: Path, fmt: str | None, classes: str | None, min_confidence: float | None,
        before: float | None, after: float | None, max_duration: float | None, fast: bool, labels: bool,
        timeline: str, chapters_into: Path | None, video: Path | None, crf: int, preset: str, caption_renderer: str,
        quiet: bool) -> None:
    """Cut the events of an events file into a highlight reel or an editor timeline.

    The format follows OUT's suffix: .mp4/.mkv a reel (frame-accurate cuts, re-encoded with libx264,
    audio kept in sync; --fast copies streams and snaps cuts to key frames); .edl a CMX 3600 edit list
    against the source video; .srt one subtitle per event; .txt YouTube chapters; .ffmeta FFmpeg
    chapters. Each event keeps its class's padding; overlapping windows merge; a game folder's reel
    runs through both halves in order.
    """
    from highlighter.cut.reel import ReelSettings
    from highlighter.cut.run import plan_cut, write_cut
    from highlighter.cut.selection import SelectionSettings
    from highlighter.wording import counted

    setup_logging(quiet)
    settings = settings_for(("cut",), before_s=None if before is None else {"default": before},
                            after_s=None if after is None else {"default": after})["cut"]
    selection = SelectionSettings.from_settings(settings)
    reel = ReelSettings(fast=fast, labels=labels, crf=settings.crf, preset=settings.preset,
                        caption_renderer=settings.caption_renderer)
    plan = plan_cut(events, out, selection, fmt, settings.timeline, video, chapters_into)
    with make_progress("s", quiet=quiet, console=stderr) as progress:
        result = write_cut(plan, reel, progress)
    for warning in result.warnings:
        stderr.print(f"[yellow]warning:[/] {warning}", soft_wrap=True)
    if not quiet:
        stdout.print(f"wrote {result.path} ({result.format}): {counted(result.events, 'event')} in "
                     f"{counted(len(result.windows), 'window')}, {result.duration_s:.1f} s")
        if result.chapters_video is not None:
            stdout.print(f"wrote {result.chapters_video} with {result.events} chapters")
