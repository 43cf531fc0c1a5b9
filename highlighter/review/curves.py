"""Score curves for the review page: read from `highlight tag --scores` files or taken from a tag run in
memory, and drawn as inline SVG with the events marked (without curves, the events alone)."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from highlighter.errors import HighlighterError
from highlighter.events import clock, match_clock
from highlighter.events import Event
from highlighter.labels import BACKGROUND, class_colour

@dataclass
class CurvePanel:
    """The class probabilities of one video (half None for a single video, else 1 or 2)."""

    half: int | None
    times: np.ndarray
    probabilities: np.ndarray  # (N, C)
    classes: list[str]


def read_scores(path: str | Path) -> list[CurvePanel]:
    """The curves of `highlight tag --scores`: ``.npz`` (times, probabilities, half, classes) or CSV
    (half, time_s, one column per class, and loudness_db where the audio was measured)."""
    path = Path(path)
    if not path.is_file():
        raise HighlighterError(f"{path}: no such scores file")
    try:
        if path.suffix == ".npz":
            with np.load(path) as data:
                times, probabilities = data["times"], data["probabilities"]
                halves, classes = data["half"], [str(c) for c in data["classes"]]
        else:
            import pandas as pd

            table = pd.read_csv(path)
            classes = [c for c in table.columns if c not in ("half", "time_s", "loudness_db")]
            times, probabilities = table["time_s"].to_numpy(float), table[classes].to_numpy(float)
            halves = table["half"].to_numpy(int)
    except (KeyError, ValueError, OSError) as exc:
        raise HighlighterError(f"{path}: not a scores file of `highlight tag --scores` ({exc})") from None
    return [CurvePanel(int(h) or None, times[halves == h], probabilities[halves == h], classes)
            for h in np.unique(halves)]


def panels_from_tag(curves: list) -> list[CurvePanel]:
    """Panels from a tag run's in-memory ``(half, ScoreCurves)`` pairs."""
    return [CurvePanel(half, c.times, c.probabilities, list(c.classes)) for half, c in curves]


def _decimate(times: np.ndarray, values: np.ndarray, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``2 * columns`` points, keeping each bucket's minimum and maximum (peaks survive)."""
    if len(times) <= 2 * columns:
        return times, values
    buckets = np.array_split(np.arange(len(times)), columns)
    keep = sorted({int(b[np.argmin(values[b])]) for b in buckets if len(b)} |
                  {int(b[np.argmax(values[b])]) for b in buckets if len(b)})
    return times[keep], values[keep]


WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 1000, 170, 38, 12, 14, 24


def svg_panel(title: str, duration_s: float, events: list[tuple[int, Event]], classes: list[str],
              panel: CurvePanel | None) -> str:
    """One inline SVG chart: probability (0-1) over the video's minutes, curves if known, events as
    markers at their confidence that link to their table rows (``#ev-N``)."""
    span = max(duration_s, 1.0)
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(t: float) -> float:
        return LEFT + inner_w * min(max(t, 0.0), span) / span

    def y(p: float) -> float:
        return TOP + inner_h * (1 - min(max(p, 0.0), 1.0))

    parts = [f'<svg class="curves" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{html.escape(title)}" '
             f'xmlns="http://www.w3.org/2000/svg">', f'<title>{html.escape(title)}</title>']
    for level in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(level):.1f}" y2="{y(level):.1f}"/>'
                     f'<text class="axis" x="{LEFT - 6}" y="{y(level) + 3.5:.1f}" text-anchor="end">{level:g}</text>')
    step = next((s for s in (5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600) if span / s <= 12), 7200)
    for tick in np.arange(0, span + 1e-6, step):
        anchor = "start" if tick == 0 else "end" if x(tick) > WIDTH - RIGHT - 20 else "middle"
        parts.append(f'<line class="tick" x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{TOP}" y2="{HEIGHT - BOTTOM + 4}"/>'
                     f'<text class="axis" x="{x(tick):.1f}" y="{HEIGHT - 6}" text-anchor="{anchor}">{clock(tick)}</text>')
    if panel is not None and len(panel.times):
        for column, cls in enumerate(panel.classes):
            if cls == BACKGROUND:
                continue
            times, values = _decimate(panel.times, panel.probabilities[:, column], inner_w)
            points = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in zip(times, values))
            parts.append(f'<polyline class="curve" data-class="{html.escape(cls)}" stroke="{class_colour(cls, classes)}" '
                         f'points="{points}"/>')
    for number, event in events:
        colour = class_colour(event.label, classes)
        tip = f"{event.label} {match_clock(event)}, confidence {event.confidence:.2f}"
        parts.append(f'<a href="#ev-{number}" class="marker" data-class="{html.escape(event.label)}">'
                     f'<title>{html.escape(tip)}</title>'
                     f'<line x1="{x(event.time_s):.1f}" x2="{x(event.time_s):.1f}" y1="{y(event.confidence):.1f}" '
                     f'y2="{HEIGHT - BOTTOM}" stroke="{colour}"/>'
                     f'<circle cx="{x(event.time_s):.1f}" cy="{y(event.confidence):.1f}" r="5" fill="{colour}"/></a>')
    parts.append("</svg>")
    return "".join(parts)
