"""`highlight tag`: videos and game folders in, events files (and scores, plots, review pages) out."""

from __future__ import annotations

from pathlib import Path

import click

from highlighter.cli.group import (
    PRECISION_HELP,
    decoder_option,
    folder_or_file,
    highlight,
    quiet_option,
    settings_for,
    setup_logging,
    stderr,
    stdout,
)
from highlighter.config.schema import choices
from highlighter.config.settings import TagSettings, VideoSettings
from highlighter.errors import HighlighterError
from highlighter.progress import make_progress


@highlight.command()
@click.argument("videos", nargs=-1)
@click.option("-o", "--out", type=click.Path(), callback=folder_or_file,
              help="Output file (one input) or folder (several inputs, or a path ending in /).")
@click.option("--inputs", "inputs_file", type=click.Path(dir_okay=False, path_type=Path),
              help="A text file of inputs, one path a line (with or instead of VIDEOS).")
@click.option("--engine", type=click.Choice(choices(TagSettings, "engine")),
              help="local: this process, one input after another; ray: decoding tasks and scoring actors on Ray.")
@click.option("--address", help="Ray cluster to join (auto or HOST:PORT); without it, Ray starts on this machine.")
@click.option("--overwrite", is_flag=True,
              help="Tag again inputs whose outputs already exist in the output folder (else they are skipped).")
@click.option("--workers", type=int, help="Ray scoring actors (default: one per GPU, else one).")
@click.option("--worker-cpus", type=float, help="CPUs each Ray scoring actor reserves where there is no GPU.")
@click.option("--decode-cpus", type=float,
              help="CPUs each Ray decoding task reserves (below 1 lets more videos decode at once on few cores).")
@click.option("--weights", help="Checkpoint folder from `highlight train`, or hf-hub:ORG/NAME (downloaded once, then cached).")
@click.option("--format", type=click.Choice(choices(TagSettings, "format")), help="Events file format.")
@click.option("--fps", type=float, help="Frames scored per second of video.")
@click.option("--sampling", type=click.Choice(choices(VideoSettings, "sampling")), help="exact or keyframes (fast).")
@decoder_option
@click.option("--batch-size", type=int, help="Frames per model call.")
@click.option("--device", help="auto | cpu | cuda.")
@click.option("--precision", type=click.Choice(choices(TagSettings, "precision")), help=PRECISION_HELP + " "
              "int8: ONNX Runtime on the CPU (the int8 extra); auto takes it on CPUs without bf16 for large models.")
@click.option("--compile/--no-compile", help="torch.compile the model (pays on long GPU runs).")
@click.option("--zero-shot", is_flag=True, help="No checkpoint: a pretrained open_clip model with the prompts.")
@click.option("--model", help="open_clip model for --zero-shot.")
@click.option("--pretrained", help="Pretrained tag or weights file for --zero-shot; 'none' for random weights.")
@click.option("--classes", help="Class map for --zero-shot.")
@click.option("--audio", type=click.Choice(choices(TagSettings, "audio")),
              help="Fuse the crowd's loudness with the frame scores: auto (where the checkpoint has a fusion and "
                   "the video audio), on (required), off.")
@click.option("--spotting", type=click.Choice(choices(TagSettings, "spotting")),
              help="Events from the checkpoint's temporal spotting head or the smoother: auto (the head where the "
                   "checkpoint has one), head (required), smoother.")
@click.option("--head-min-peak", type=float, help="The spotting head's peak threshold (default: the checkpoint's).")
@click.option("--head-nms", "head_nms_s", type=float, help="The spotting head's NMS window in seconds (default: the "
                                                          "checkpoint's).")
@click.option("--window", "window_s", type=float, help="Smoothing window in seconds.")
@click.option("--threshold", type=float,
              help="Smoothed probability a peak must reach. Events start and end at low_threshold, which is half "
                   "of this unless a config file sets it.")
@click.option("--nms", type=float, help="Non-maximum suppression window in seconds for every class (else per class "
                                        "from the smoother settings: 20 s, goals 30 s).")
@click.option("--scores", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write per-second probabilities (.npz or .csv).")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a plot of the score curves (.png, .jpg, .svg or .pdf).")
@click.option("--report", is_flag=True,
              help="Also write NAME.report.html beside the events file: the review page (`highlight report`).")
@quiet_option
def tag(videos: tuple[str, ...], out: Path | None, inputs_file: Path | None, engine: str, address: str | None,
        overwrite: bool, workers: int | None, worker_cpus: float, decode_cpus: float, weights: str, format: str,
        fps: float, sampling: str, decoder: str, batch_size: int, device: str, precision: str, compile: bool, zero_shot: bool, model: str,
        pretrained: str, classes: str, audio: str, spotting: str, head_min_peak: float | None,
        head_nms_s: float | None, window_s: float, threshold: float, nms: float | None, scores: Path | None,
        plot: Path | None, report: bool, quiet: bool) -> None:
    """Find the goals, cards and substitutions in match videos.

    Each VIDEO is a video file, a SoccerNet game folder (1_*.mkv and 2_*.mkv, tagged half by half) or a
    quoted glob pattern ('archive/**/*.mkv'). Frames are scored in large batches while the next ones decode;
    score curves are smoothed and their peaks become events with a time, a start and end, and a confidence.
    With an output folder the run is resumable: inputs whose outputs exist are skipped (--overwrite redoes
    them) and OUT/manifest.jsonl records each input (done, partial, skipped or failed). An input decoded only
    in part (a truncated file, or one still being written) gets its events and a warning, is tagged again on
    the next run, and makes the exit code non-zero.
    """
    from highlighter.cli.tables import events_table
    from highlighter.inputs import collect_inputs
    from highlighter.review import ReviewSettings
    from highlighter.tagging.batch import tag_fleet
    from highlighter.tagging.finisher import FleetSettings

    setup_logging(quiet)
    sections = settings_for(("video", "smoother", "tag", "report"), nms_s=None if nms is None else {"default": nms})
    paths = collect_inputs(list(videos), inputs_file)
    review = ReviewSettings.from_settings(sections["report"], sections["video"]) if report else None
    with make_progress("frames", quiet=quiet, console=stderr) as progress:
        settings = FleetSettings(sections["video"], sections["smoother"], sections["tag"], progress)

        def show(result, job) -> None:
            if not quiet:
                progress.console.print(events_table(result))
                for kind, path in job.named_outputs():
                    progress.console.print(f"{kind}: {path}")

        run = tag_fleet(paths, out, settings, scores, plot, review, on_result=show)
    if run.skipped and not quiet:
        stdout.print(f"skipped {len(run.skipped)} of {len(paths)} inputs whose outputs exist (--overwrite redoes them)")
    problems = [f"{len(run.failed)} of {len(paths)} inputs failed: " + "; ".join(run.failed)] if run.failed else []
    if run.partial:  # their events are written, but cover only what was decoded
        problems.append(f"{len(run.partial)} of {len(paths)} inputs were decoded only in part (their events cover "
                        "what was decoded): " + "; ".join(run.partial))
    if problems:
        raise HighlighterError("; ".join(problems))
