"""Rich tables for people and plain dicts for machines."""

from __future__ import annotations

from rich.table import Table

from highlighter.video import VideoInfo


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f} s"


def video_info_table(info: VideoInfo, fps: float) -> Table:
    """A two-column table describing one video (``highlight info``)."""
    table = Table(title=info.path, show_header=False, title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value")
    vfr = {None: "-", True: "yes (variable)", False: "no (constant)"}[info.variable_frame_rate]
    rows = [
        ("container", info.container),
        ("codec", info.codec),
        ("resolution", f"{info.width}x{info.height}"),
        ("frame rate (average)", f"{info.avg_fps:.3f} fps"),
        ("frame rate varies", vfr),
        ("duration (declared)", _seconds(info.duration_s)),
        ("duration (packets)", _seconds(info.scanned_duration_s)),
        ("container start time", _seconds(info.start_time_s)),
        ("frames (packets)", "-" if info.frame_count is None else str(info.frame_count)),
        ("key frames", "-" if info.keyframe_count is None else str(info.keyframe_count)),
        ("key-frame interval", _seconds(info.keyframe_interval_s)),
        ("audio", "yes" if info.has_audio else "no"),
        (f"samples at {fps:g} fps", str(info.samples_at(fps))),
    ]
    for field, value in rows:
        table.add_row(field, value)
    return table
