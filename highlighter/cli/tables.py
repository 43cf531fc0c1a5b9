"""Rich tables for people and plain dicts for machines."""

from __future__ import annotations

import math
from collections import Counter

from rich import box
from rich.markup import escape
from rich.table import Table

from highlighter.evaluation.spotting import Evaluation
from highlighter.outputs.result import TagResult
from highlighter.outputs.clock import seconds_text, timecode
from highlighter.labels import BACKGROUND
from highlighter.provenance import TrainedOn
from highlighter.evaluation.metrics import ClassificationReport
from highlighter.video import VideoInfo, choose_backend
from highlighter.video.backends import decord_unfit
from highlighter.video.colour import colour_summary
from highlighter.wording import counted


def video_info_table(info: VideoInfo, fps: float) -> Table:
    """A two-column table describing one video (``highlight info``)."""
    table = Table(title=escape(str(info.path)), show_header=False, title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value")
    vfr = {None: "-", True: "yes (variable)", False: "no (constant)"}[info.variable_frame_rate]
    display_width, display_height = info.display_size
    jumps = "-" if info.discontinuities is None else str(len(info.discontinuities))
    if info.discontinuities:
        jumps += ": at " + ", ".join(f"{d.position_s:.1f} s ({d.jump_s:+.1f} s)" for d in info.discontinuities[:5])
    decoder, _ = choose_backend("auto", info)
    gop = {None: "-", True: "open (frames shown before their key frame)", False: "closed"}[info.open_gop]
    rows = [
        ("container", info.container),
        ("video stream", f"#{info.stream_index}" + (f" (of {info.video_streams} video streams, the longest that is "
                                                    "not a picture)" if info.video_streams > 1 else "")),
        ("codec", f"{info.codec} ({info.pixel_format}, {'interlaced' if info.interlaced else 'progressive'})"),
        ("colour", colour_summary(info.color_primaries, info.color_transfer)),
        ("resolution", f"{info.width}x{info.height}"),
        ("sample / display aspect", f"{info.sample_aspect} / {info.display_aspect}"),
        ("rotation", f"{info.rotation} degrees counter-clockwise" if info.rotation else "none"),
        ("displayed size", f"{display_width}x{display_height}"),
        ("frame rate (average)", f"{info.avg_fps:.3f} fps"),
        ("frame rate varies", vfr),
        ("duration (declared)", seconds_text(info.duration_s)),
        ("duration (packets)", seconds_text(info.scanned_duration_s)),
        ("container start time", seconds_text(info.start_time_s)),
        ("frames (packets)", "-" if info.frame_count is None else str(info.frame_count)),
        ("key frames", "-" if info.keyframe_count is None else str(info.keyframe_count)),
        ("key-frame interval", seconds_text(info.keyframe_interval_s)),
        ("GOPs", gop),
        ("timestamp jumps", jumps),
        ("audio", "yes" if info.has_audio else "no"),
        ("decoder (auto)", decoder),
        ("--decoder decord", f"refused: {unfit}" if (unfit := decord_unfit(info)) else "frame-exact on such files"),
        (f"samples at {fps:g} fps", str(info.samples_at(fps))),
    ]
    for field, value in rows:
        table.add_row(field, escape(value))  # codec, colour and stream names come from the file
    return table


def evaluation_table(evaluation: Evaluation) -> Table:
    """Per-class AP and the average-mAPs for each tolerance family (``highlight eval``)."""
    scores = evaluation.scores
    table = Table(title=escape(f"SoccerNet average-mAP, {evaluation.games} games, classes: {evaluation.label_map}"),
                  title_justify="left")
    table.add_column("class")
    table.add_column("events", justify="right")
    for score in scores:
        table.add_column(f"{score.metric} AP", justify="right")
    for cls, count in scores[0].ground_truth_counts.items():
        table.add_row(escape(cls), str(count), *[_ap(score.per_class.get(cls, math.nan)) for score in scores])
    table.add_section()
    table.add_row("[bold]average-mAP", "", *[f"[bold]{_ap(score.average_map)}" for score in scores])
    table.add_row("visible", "", *[_ap(score.average_map_visible) for score in scores])
    table.add_row("unshown", "", *[_ap(score.average_map_unshown) for score in scores])
    return table


def _ap(value: float) -> str:
    """An AP cell: two decimals, or "n/a" where the games hold no event to score (NaN)."""
    return "n/a" if math.isnan(value) else f"{value:.2f}"


def evaluation_notes(evaluation: Evaluation) -> list[str]:
    """What a reader must know beside the table: unpaired games and classes left out of the mean."""
    notes = []
    if evaluation.games_without_predictions:
        names = ", ".join(evaluation.games_without_predictions[:3])
        notes.append(f"{len(evaluation.games_without_predictions)} games have labels but no predictions "
                     f"(scored as predicting nothing): {names}{' ...' if len(evaluation.games_without_predictions) > 3 else ''}")
    if evaluation.predictions_without_labels:
        names = ", ".join(evaluation.predictions_without_labels[:3])
        notes.append(f"{len(evaluation.predictions_without_labels)} prediction files match no labelled game "
                     f"(ignored): {names}{' ...' if len(evaluation.predictions_without_labels) > 3 else ''}")
    absent = evaluation.scores[0].absent_classes
    if absent:
        notes.append(f"no ground truth for {', '.join(absent)} in these games: left out of the mean "
                     "(the official evaluator would count AP 0 for them)")
    return notes


def classification_table(report: ClassificationReport, title: str) -> Table:
    """Per-class precision / recall / F1 / support and the averages, with the confusion matrix (columns: the
    predicted class), narrow enough for an 80-column terminal with the four highlight classes."""
    table = Table(title=escape(title), title_justify="left", caption_justify="left", box=box.SIMPLE_HEAD,
                  pad_edge=False, collapse_padding=True)
    table.add_column("class", no_wrap=True)
    for name in ("precision", "recall", "F1", "images"):
        table.add_column(name, justify="right", no_wrap=True)
    for cls in report.classes:
        table.add_column(escape(f"→{cls[:5]}"), justify="right", style="dim", no_wrap=True)
    for row, cls in enumerate(report.classes):
        table.add_row(escape(cls), f"{report.precision[cls]:.3f}", f"{report.recall[cls]:.3f}", f"{report.f1[cls]:.3f}",
                      str(report.support[cls]), *map(str, report.confusion[row]))
    loss = "" if report.loss is None else f", loss {report.loss:.4f}"
    table.caption = (f"accuracy {report.accuracy:.3f}, balanced accuracy {report.balanced_accuracy:.3f}, "
                     f"macro-F1 {report.macro_f1:.3f}{loss}; →class: images predicted as that class")
    return table


def events_table(result: TagResult) -> Table:
    """The reviewer's table: one row per event, sorted by time, then counts and speed in the caption."""
    table = Table(title=escape(str(result.source)), title_justify="left", caption_justify="left")
    for name, justify in (("time", "right"), ("label", "left"), ("confidence", "right"), ("start–end", "right")):
        table.add_column(name, justify=justify)
    colours = {"goal": "green", "card": "yellow", "substitution": "cyan"}
    for event in sorted(result.events, key=lambda e: (e.half or 0, e.time_s)):
        half = f"{event.half}H " if event.half else ""
        colour = colours.get(event.label, "white")
        table.add_row(f"{half}{timecode(event.time_s)}", f"[{colour}]{escape(event.label)}", f"{event.confidence:.2f}",
                      f"{timecode(event.start_s)}–{timecode(event.end_s)}")
    counts = Counter(e.label for e in result.events)
    per_class = escape(", ".join(counted(counts[c], c) for c in result.classes if c != BACKGROUND))
    rate = result.frames / result.wall_s if result.wall_s else 0.0
    table.caption = (f"{per_class}; match {timecode(result.duration_s)}, tagged in {result.wall_s:.1f} s "
                     f"({result.frames} frames, {rate:.1f} frames/s)")
    trained = result.model.get("trained_on")
    if trained:
        table.caption += escape(f"\nmodel trained on {TrainedOn(**trained).describe()}")
    return table
