"""`highlight frames`, `info` and `testclip`: what the decoder makes of a video."""

from __future__ import annotations

import json
from pathlib import Path

import click

from highlighter.cli.group import decoder_option, highlight, quiet_option, settings_for, setup_logging, stderr, stdout
from highlighter.config.schema import choices
from highlighter.config.settings import FramesSettings, VideoSettings
from highlighter.progress import make_progress


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
    from highlighter.outputs.frames import export_frames
    from highlighter.video import FrameSampler

    setup_logging(quiet)
    sections = settings_for(("video", "frames"))
    sampler = FrameSampler.from_settings(video, sections["video"], sections["frames"].size, sections["frames"].batch_size)
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
    from highlighter.cli.tables import video_info_table
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

    clip = settings_for(("testclip",))["testclip"]
    write_pattern_video(out, seconds=clip.seconds, fps=clip.fps, width=clip.width, height=clip.height, gop=clip.gop,
                        start_offset_s=start_offset, drop=drop, audio=audio)
    stdout.print(f"wrote {out} ({seconds:g} s at {fps:g} fps, {width}x{height})")
