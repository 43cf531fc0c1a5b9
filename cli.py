"""The ``highlight`` command line. Commands only parse options, call the library and print."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.logging import RichHandler

from highlighter import __version__
from highlighter.cut.formats import CUT_FORMATS
from highlighter.errors import HighlighterError
from highlighter.labels import BUILT_IN_MAPS
from highlighter.progress import make_progress
from highlighter.schema import choices
from highlighter.settings import (
    CutSettings,
    EvalFramesSettings,
    EvalSettings,
    FramesSettings,
    TagSettings,
    TrainSettings,
    TuneSettings,
    VideoSettings,
    default_map,
    load_settings,
)

stdout = Console()
DECODER_HELP = (
    "auto (pyav): FFmpeg's own decoding, frame-exact wherever FFmpeg is; decord where asked for (it gives way "
    "to pyav, with a warning, on files where it is not exact)."
)
stderr = Console(stderr=True)


#: The exit code of a run stopped by Ctrl-C (128 + SIGINT, as shells report it).
INTERRUPTED = 130


class HighlightGroup(click.Group):
    """A click group that turns the library's user errors into one-line messages and exit code 1, and Ctrl-C
    into the line "interrupted" and exit code 130 (outputs are written atomically: none is left half-written)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            stderr.print("interrupted")
            sys.exit(INTERRUPTED)
        except HighlighterError as exc:
            raise click.ClickException(str(exc)) from None
        except OSError as exc:  # e.g. an output folder that cannot be written
            where = f"{exc.filename}: " if exc.filename else ""
            raise click.ClickException(f"{where}{exc.strerror or exc}") from None


def setup_logging(quiet: bool) -> None:
    """Library warnings go to stderr through rich; ``quiet`` keeps errors only."""
    level = logging.ERROR if quiet else logging.WARNING
    handler = RichHandler(console=stderr, show_time=False, show_path=False)
    handler.setLevel(level)  # also for records that other libraries' loggers pass up at their own level
    logging.basicConfig(level=level, format="%(message)s", handlers=[handler], force=True)


quiet_option = click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors (no progress bars).")
decoder_option = click.option("--decoder", type=click.Choice(choices(VideoSettings, "decoder")), help=DECODER_HELP)
PRECISION_HELP = "Model precision: auto = bf16 where the CPU or GPU computes it natively, else fp32 (CPU) or fp16 (GPU)."


def config_file() -> str | None:
    """The --config file given to the group (the API reads the same settings from it)."""
    return click.get_current_context().find_root().params.get("config")


def none_word(value: str | None) -> str | None:
    """The word 'none' (any case) on the command line means no value."""
    return None if value is None or str(value).lower() == "none" else value


@click.group(cls=HighlightGroup, context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
@click.option("--config", type=click.Path(dir_okay=False), envvar="HIGHLIGHTER_CONFIG",
              help="YAML file whose values override configs/defaults.yaml (env: HIGHLIGHTER_CONFIG).")
@click.version_option(__version__, prog_name="highlight")
@click.pass_context
def highlight(ctx: click.Context, config: str | None) -> None:
    """Find the goals, cards and substitutions in full-length soccer match videos.

    Every option's default comes from configs/defaults.yaml (or --config over it); see
    `highlight COMMAND --help`.
    """
    ctx.default_map = default_map(load_settings(config))


@highlight.command()
@click.argument("video", type=click.Path(path_type=Path))
@click.option("-o", "--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the images and frames.csv (created if missing).")
@click.option("--fps", type=float, help="Frames sampled per second of video.")
@click.option("--size", type=int, help="Side of the square image: short-side resize, centre crop.")
@decoder_option
@click.option("--sampling", type=click.Choice(choices(VideoSettings, "sampling")),
              help="exact: the frame on screen at every tick; keyframes: key frames only (fast).")
@click.option("--image-format", type=click.Choice(choices(FramesSettings, "image_format")), help="Image file format.")
@click.option("--batch-size", type=int, help="Frames decoded per batch.")
@quiet_option
def frames(video: Path, out_dir: Path, fps: float, size: int, decoder: str, sampling: str,
           image_format: str, batch_size: int, quiet: bool) -> None:
    """Save the frames the model sees: one image per sampled frame plus OUT/frames.csv (index,time_s,path).

    Times are the frames' presentation timestamps relative to the first frame, read from the video.
    """
    import highlighter
    from highlighter.frame_export import export_frames

    setup_logging(quiet)
    sampler = highlighter.frames(video, config=config_file(), fps=fps, size=size, decoder=decoder, sampling=sampling,
                                 batch_size=batch_size)
    with make_progress("frames", quiet=quiet, console=stderr) as progress:
        table = export_frames(sampler, out_dir, image_format, progress)
    if not quiet:
        stdout.print(f"wrote {len(table)} frames ({table.time_s.iloc[0]:.2f}–{table.time_s.iloc[-1]:.2f} s) "
                     f"to {out_dir}/ with index {out_dir / 'frames.csv'}")


@highlight.command()
@click.argument("video", type=click.Path(path_type=Path))
@click.option("--fps", type=float, help="Sampling rate for the sample count.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def info(video: Path, fps: float, as_json: bool) -> None:
    """Describe a video: which video stream is the match, codec, resolution, colour, sample and display
    aspect, rotation, frame rate and whether it varies, duration, start time, key-frame interval, open GOPs
    and timestamp jumps (from a scan of the packets, no decoding), how many frames sampling yields, the
    decoder `--decoder auto` picks and why `--decoder decord` would be refused."""
    from highlighter.report import video_info_table
    from highlighter.video import choose_backend, probe
    from highlighter.video.backends import decord_unfit

    setup_logging(quiet=as_json)
    details = probe(video, scan_packets=True)
    if as_json:
        auto, _ = choose_backend("auto", details)
        click.echo(json.dumps({**details.to_dict(), "fps": fps, "samples": details.samples_at(fps),
                               "auto_decoder": auto, "decord_unfit": decord_unfit(details)}, indent=2))
    else:
        stdout.print(video_info_table(details, fps))


@highlight.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--seconds", type=float, help="Clip length.")
@click.option("--fps", type=float, help="Frame rate, e.g. 25 or 29.97.")
@click.option("--width", type=int, help="Frame width.")
@click.option("--height", type=int, help="Frame height.")
@click.option("--gop", type=int, help="Key-frame interval in frames.")
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
    from highlighter.video.testpattern import write_pattern_video

    write_pattern_video(out, seconds=seconds, fps=fps, width=width, height=height, gop=gop,
                        start_offset_s=start_offset, drop=drop, audio=audio)
    stdout.print(f"wrote {out} ({seconds:g} s at {fps:g} fps, {width}x{height})")


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
    from highlighter.api import configured
    from highlighter.synth.game import synthesize

    setup_logging(quiet)
    if games < 1 or minutes <= 0 or density <= 0:
        raise click.BadParameter("--games, --minutes and --density must be positive")
    settings = configured(("synth",), config_file(), dict(games=games, minutes=minutes, seed=seed, size=size,
                                                          density=density))["synth"]
    with make_progress("frames", quiet=quiet, console=stderr) as progress:
        folders = synthesize(out, settings, progress)
    if not quiet:
        stdout.print(f"wrote {len(folders)} games under {out}/")


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
    from highlighter.soccernet.files import read_json

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
    from highlighter.api import trainer
    from highlighter.report import classification_table

    setup_logging(quiet)

    def show_epoch(row: dict, report) -> None:
        if report is not None and not quiet:
            stderr.print(classification_table(report, f"epoch {row['epoch']} ({row['stage']}), "
                                                      f"train loss {row['train_loss']:.4f}: val"))

    with make_progress("img", quiet=quiet, console=stderr) as progress:
        options = dict(out=str(out), model=model, pretrained=none_word(pretrained), classes=classes, prompts=prompts,
                       mode=mode, loss=loss, epochs=epochs, probe_epochs=probe_epochs, lr=lr, probe_lr=probe_lr,
                       batch_size=batch_size, grad_accum=grad_accum, balance=balance, wise_alpha=wise_alpha,
                       split=split, split_games=split_file, seed=seed, device=device, workers=workers,
                       frame_fps=frame_fps, decoder=decoder, cache_dir=cache_dir, resume=resume, fusion=fusion,
                       spotting_head=spotting_head)
        run = trainer(list(data), config_file(), progress, show_epoch, options, none_means_unset=False)
        result = run.run()
    if not quiet and run.rank.leads:
        if result.test is not None:
            stdout.print(classification_table(result.test, f"test games, WiSE-FT alpha {result.wise_alpha}"))
        stdout.print(f"checkpoint: {result.checkpoint}/")


@highlight.command()
@click.argument("videos", nargs=-1)
@click.option("-o", "--out", type=click.Path(path_type=Path),
              help="Output file (one input) or folder (several inputs).")
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
@click.option("--precision", type=click.Choice(choices(TagSettings, "precision")), help=PRECISION_HELP)
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
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), help="Also write a PNG of the score curves.")
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
    from highlighter.api import configured
    from highlighter.fleet import collect_inputs, tag_fleet
    from highlighter.fleet.run import FleetSettings
    from highlighter.report import events_table
    from highlighter.review import ReviewSettings, report_path

    setup_logging(quiet)
    options = dict(weights=weights, format=format, fps=fps, sampling=sampling, decoder=decoder, batch_size=batch_size,
                   device=device, precision=precision, compile=compile, zero_shot=zero_shot, model=model,
                   pretrained=none_word(pretrained), classes=classes, audio=audio, spotting=spotting,
                   head_min_peak=head_min_peak, head_nms_s=head_nms_s, window_s=window_s,
                   threshold=threshold, engine=engine, address=none_word(address), overwrite=overwrite, workers=workers,
                   worker_cpus=worker_cpus, decode_cpus=decode_cpus)
    if nms is not None:
        options["nms_s"] = {"default": nms}
    paths = collect_inputs(list(videos), inputs_file)
    sections = configured(("video", "smoother", "tag", "report"), config_file(), options, none_means_unset=False)
    review = ReviewSettings.from_settings(sections["report"], sections["video"]) if report else None
    with make_progress("frames", quiet=quiet, console=stderr) as progress:
        settings = FleetSettings(sections["video"], sections["smoother"], sections["tag"], progress)

        def show(result, events_path: Path) -> None:
            if not quiet:
                progress.console.print(events_table(result))
                progress.console.print(f"events: {events_path}")
                if report:
                    progress.console.print(f"review page: {report_path(events_path)}")

        run = tag_fleet(paths, out, settings, scores, plot, review, on_result=show)
    if run.skipped and not quiet:
        stdout.print(f"skipped {len(run.skipped)} of {len(paths)} inputs whose outputs exist (--overwrite redoes them)")
    problems = [f"{len(run.failed)} of {len(paths)} inputs failed: " + "; ".join(run.failed)] if run.failed else []
    if run.partial:  # their events are written, but cover only what was decoded
        problems.append(f"{len(run.partial)} of {len(paths)} inputs were decoded only in part (their events cover "
                        "what was decoded): " + "; ".join(run.partial))
    if problems:
        raise HighlighterError("; ".join(problems))


@highlight.command()
@click.argument("events", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--out", type=click.Path(path_type=Path),
              help="Page file (one input) or folder (several); default NAME.report.html beside each events file.")
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
    from highlighter.api import configured
    from highlighter.events import load_events_document
    from highlighter.review import ReviewSettings, report_path, write_report

    setup_logging(quiet)
    if len(events) > 1 and (scores is not None or video is not None):
        raise click.BadParameter("--scores and --video go with a single events file")
    sections = configured(("video", "report"), config_file(), dict(thumbnails=thumbnails, spacing=spacing,
                                                                   decoder=decoder))
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


@highlight.command()
@click.argument("events", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
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
    from highlighter.api import configured
    from highlighter.cut.reel import ReelSettings
    from highlighter.cut.run import plan_cut, write_cut
    from highlighter.cut.selection import SelectionSettings

    setup_logging(quiet)
    settings = configured(("cut",), config_file(), dict(crf=crf, preset=preset, caption_renderer=caption_renderer,
                                                         timeline=timeline))["cut"]
    selection = SelectionSettings.from_settings(settings, classes, min_confidence, before, after, max_duration)
    reel = ReelSettings(fast=fast, labels=labels, crf=settings.crf, preset=settings.preset,
                        caption_renderer=settings.caption_renderer)
    plan = plan_cut(events, out, selection, fmt, settings.timeline, video, chapters_into)
    with make_progress("s", quiet=quiet, console=stderr) as progress:
        result = write_cut(plan, reel, progress)
    for warning in result.warnings:
        stderr.print(f"[yellow]warning:[/] {warning}", soft_wrap=True)
    if not quiet:
        stdout.print(f"wrote {result.path} ({result.format}): {result.events} events in {len(result.windows)} "
                     f"windows, {result.duration_s:.1f} s")
        if result.chapters_video is not None:
            stdout.print(f"wrote {result.chapters_video} with {result.events} chapters")


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
    from highlighter.api import configured
    from highlighter.demo import run_demo
    from highlighter.report import classification_table, evaluation_table, events_table

    setup_logging(quiet)
    if games < 3:
        raise click.BadParameter("the demo needs at least 3 games (train, val and test)")

    def step(message: str) -> None:
        if not quiet:
            stderr.print(f"[bold]{message}")

    sections = configured(("demo",), config_file(), dict(out=str(out), games=games, minutes=minutes, epochs=epochs))
    with make_progress("frames", quiet=quiet, console=stderr) as progress:
        result = run_demo(sections["demo"], config_file(), progress, step)
    if quiet:
        return
    if result.training.test is not None:
        stdout.print(classification_table(result.training.test, "frame classification on the test game"))
    for game, tagged in result.tagged.items():
        stdout.print(events_table(tagged))
        stdout.print(evaluation_table(result.evaluation[game]))
    stdout.print(f"[bold]demo score: loose average-mAP {result.mean_score('loose'):.1f}, tight "
                 f"{result.mean_score('tight'):.1f} (mean of {len(result.evaluation)} held-out games; files under "
                 f"{out}/)")
    stdout.print(f"checkpoint: {result.training.checkpoint}/ (tag with `highlight tag --weights "
                 f"{result.training.checkpoint} VIDEO`)")


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
    from highlighter.evaluation.spotting import evaluate_paths
    from highlighter.labels import load_label_map
    from highlighter.report import evaluation_notes, evaluation_table

    setup_logging(quiet=as_json)
    metrics = ("loose", "tight") if metric == "both" else (metric,)
    result = evaluate_paths(predictions, labels, load_label_map(classes), metrics)
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

    from highlighter.api import configured
    from highlighter.labels import load_label_map
    from highlighter.tune import tune_head, tune_smoother, write_tuned_config

    setup_logging(quiet=False)
    grid = configured(("tune_smoother",), config_file(), dict(metric=metric, classes=classes))["tune_smoother"]
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
        write_tuned_config(ranked[0][0], write_to, heads[0][:2] if heads else None)
        stdout.print(f"best settings written to {write_to}: use `highlight --config {write_to} tag ...`")


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
    from highlighter.api import configured
    from highlighter.evaluation.frames import evaluate_frames
    from highlighter.report import classification_table

    setup_logging(quiet or as_json)
    sections = configured(("video", "eval_frames"), config_file(), dict(
        split=split, device=device, precision=precision, batch_size=batch_size, cache_dir=cache_dir))
    with make_progress("img", quiet=quiet or as_json, console=stderr) as progress:
        report, games = evaluate_frames(checkpoint, list(data), sections["eval_frames"], sections["video"], progress)
    if as_json:
        click.echo(json.dumps({"games": games, **report.to_dict()}, indent=2))
    else:
        stdout.print(classification_table(report, f"{checkpoint}: {sum(report.support.values())} images, {games} games"))


def main() -> None:
    """Console-script entry point."""
    highlight(prog_name="highlight")


if __name__ == "__main__":
    main()
