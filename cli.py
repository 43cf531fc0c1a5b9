"""The ``highlight`` command line. Commands only parse options, call the library and print."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import click
from rich.console import Console
from rich.logging import RichHandler

from highlighter import __version__
from highlighter.config import load_defaults
from highlighter.errors import HighlighterError
from highlighter.frames import IMAGE_FORMATS, export_frames
from highlighter.progress import make_progress
from highlighter.evaluate import evaluate_paths
from highlighter.labels import BUILT_IN_MAPS, load_label_map
from highlighter.report import evaluation_notes, evaluation_table, video_info_table
from highlighter.video import DECODERS, SAMPLING_MODES, FrameSampler, probe
from highlighter.video.testpattern import write_pattern_video

stdout = Console()
stderr = Console(stderr=True)


class HighlightGroup(click.Group):
    """A click group that turns the library's user errors into one-line messages and exit code 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except HighlighterError as exc:
            raise click.ClickException(str(exc)) from None


def setup_logging(quiet: bool) -> None:
    """Library warnings go to stderr through rich; ``quiet`` keeps errors only."""
    handler = RichHandler(console=stderr, show_time=False, show_path=False)
    logging.basicConfig(level=logging.ERROR if quiet else logging.WARNING, format="%(message)s",
                        handlers=[handler], force=True)


quiet_option = click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors (no progress bars).")


@click.group(cls=HighlightGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", type=click.Path(dir_okay=False), envvar="HIGHLIGHTER_CONFIG",
              help="YAML file whose values override configs/defaults.yaml (env: HIGHLIGHTER_CONFIG).")
@click.version_option(__version__, prog_name="highlight")
@click.pass_context
def highlight(ctx: click.Context, config: str | None) -> None:
    """Find the goals, cards and substitutions in full-length soccer match videos.

    Every option's default comes from configs/defaults.yaml; see `highlight COMMAND --help`.
    """
    ctx.default_map = load_defaults(config)


@highlight.command()
@click.argument("video", type=click.Path(path_type=Path))
@click.option("-o", "--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the images and frames.csv (created if missing).")
@click.option("--fps", type=float, help="Frames sampled per second of video.  [default: 1]")
@click.option("--size", type=int, help="Side of the square image: short-side resize, centre crop.  [default: 224]")
@click.option("--decoder", type=click.Choice(DECODERS), help="Decoding library.  [default: decord]")
@click.option("--sampling", type=click.Choice(SAMPLING_MODES),
              help="exact: the frame on screen at every tick; keyframes: key frames only (fast).  [default: exact]")
@click.option("--image-format", type=click.Choice(IMAGE_FORMATS), help="Image file format.  [default: jpg]")
@click.option("--batch-size", type=int, help="Frames decoded per batch.  [default: 64]")
@quiet_option
def frames(video: Path, out_dir: Path, fps: float, size: int, decoder: str, sampling: str,
           image_format: str, batch_size: int, quiet: bool) -> None:
    """Save the frames the model sees: one image per sampled frame plus OUT/frames.csv (index,time_s,path).

    Times are the frames' presentation timestamps relative to the first frame, read from the video.
    """
    setup_logging(quiet)
    sampler = FrameSampler(video, fps=fps, size=size, decoder=decoder, sampling=sampling, batch_size=batch_size)
    with make_progress("frames", quiet=quiet, console=stderr) as progress:
        table = export_frames(sampler, out_dir, image_format=image_format, progress=progress)
    if not quiet:
        stdout.print(f"wrote {len(table)} frames ({table.time_s.iloc[0]:.2f}–{table.time_s.iloc[-1]:.2f} s) "
                     f"to {out_dir}/ with index {out_dir / 'frames.csv'}")


@highlight.command()
@click.argument("video", type=click.Path(path_type=Path))
@click.option("--fps", type=float, help="Sampling rate for the sample count.  [default: 1]")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def info(video: Path, fps: float, as_json: bool) -> None:
    """Describe a video: codec, resolution, frame rate and whether it varies, duration, start time,
    key-frame interval (from a scan of the packets, no decoding) and how many frames sampling yields."""
    setup_logging(quiet=as_json)
    details = probe(video, scan_packets=True)
    if as_json:
        click.echo(json.dumps({**details.to_dict(), "fps": fps, "samples": details.samples_at(fps)}, indent=2))
    else:
        stdout.print(video_info_table(details, fps))


@highlight.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--seconds", type=float, help="Clip length.  [default: 30]")
@click.option("--fps", type=float, help="Frame rate, e.g. 25 or 29.97.  [default: 25]")
@click.option("--width", type=int, help="Frame width.  [default: 320]")
@click.option("--height", type=int, help="Frame height.  [default: 240]")
@click.option("--gop", type=int, help="Key-frame interval in frames.  [default: 50]")
@click.option("--start-offset", type=float, default=0.0, show_default=True,
              help="Container start time in seconds (timestamps begin here).")
@click.option("--drop", type=(float, float), default=None,
              help="Drop the frames shown between these two times, keeping the others' timestamps.")
@click.option("--audio", is_flag=True, help="Add a sine-tone audio stream.")
def testclip(out: Path, seconds: float, fps: float, width: int, height: int, gop: int,
             start_offset: float, drop: tuple[float, float] | None, audio: bool) -> None:
    """Write an H.264 test clip whose every frame shows its own frame number as a 4x4 block grid.

    Sample it with `highlight frames` to check decoding and timestamps on your machine.
    """
    write_pattern_video(out, seconds=seconds, fps=fps, width=width, height=height, gop=gop,
                        start_offset_s=start_offset, drop=drop, audio=audio)
    stdout.print(f"wrote {out} ({seconds:g} s at {fps:g} fps, {width}x{height})")


@highlight.command("eval")
@click.argument("predictions", type=click.Path(path_type=Path))
@click.argument("labels", type=click.Path(path_type=Path))
@click.option("--metric", type=click.Choice(["loose", "tight", "both"]),
              help="loose: tolerances 5-60 s; tight: 1-5 s.  [default: loose]")
@click.option("--classes", help=f"{' | '.join(BUILT_IN_MAPS)} | a YAML file of class: [SoccerNet-v2 labels].  "
                                "[default: highlight]")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def evaluate(predictions: Path, labels: Path, metric: str, classes: str, as_json: bool) -> None:
    """Score PREDICTIONS against LABELS by SoccerNet's average-mAP (as the official evaluator).

    PREDICTIONS is a results_spotting.json, a folder tree of them, or a zip of such a tree; LABELS is a
    Labels-v2.json or a tree of game folders. Games pair up by their path (league/season/game).
    """
    setup_logging(quiet=as_json)
    metrics = ("loose", "tight") if metric == "both" else (metric,)
    result = evaluate_paths(predictions, labels, load_label_map(classes), metrics)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
        return
    stdout.print(evaluation_table(result))
    for note in evaluation_notes(result):
        stderr.print(f"[yellow]note:[/] {note}")


def main() -> None:
    """Console-script entry point."""
    highlight(prog_name="highlight")


if __name__ == "__main__":
    main()
