"""Score curves for the review page, drawn as inline SVG with the events marked (without curves, the events
alone). The curves come from a scores file (``highlighter.outputs.scores.read_scores``) or a tag run."""

from __future__ import annotations

import html

import numpy as np

from highlighter.outputs.clock import clock, match_clock
from highlighter.outputs.events import Event
from highlighter.labels import BACKGROUND, class_colour
from highlighter.outputs.scores import ScoreCurves

def _decimate(times: np.ndarray, values: np.ndarray, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``2 * columns`` points, keeping each bucket's minimum and maximum (peaks survive)."""
    if len(times) <= 2 * columns:
        return times, values
    buckets = np.array_split(np.arange(len(times)), columns)
    keep = sorted({int(b[np.argmin(values[b])]) for b in buckets if len(b)} |
                  {int(b[np.argmax(values[b])]) for b in buckets if len(b)})
    return times[keep], values[keep]


WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 1000, 170, 38, 12, 14, 24


def _loudness_line(panel: ScoreCurves, x, top: float, height: float) -> str:
    """The crowd's loudness as a grey line behind the curves, its quietest to loudest second spanning the
    chart's height, with its range in dB at the right."""
    finite = np.isfinite(panel.loudness)
    times, levels = panel.times[finite], panel.loudness[finite]
    low, high = float(levels.min()), float(levels.max())
    times, levels = _decimate(times, levels, int(WIDTH - LEFT - RIGHT))
    scale = (levels - low) / max(high - low, 1e-6)
    points = " ".join(f"{x(t):.1f},{top + height * (1 - v):.1f}" for t, v in zip(times, scale))
    return (f'<polyline class="loudness" points="{points}"><title>crowd loudness {low:.0f} to {high:.0f} dB'
            f'</title></polyline><text class="axis loudness-axis" x="{WIDTH - RIGHT}" y="{top - 3:.1f}" '
            f'text-anchor="end">loudness {low:.0f} to {high:.0f} dB</text>')


def _raw_note(panel: ScoreCurves | None, event: Event) -> str:
    """What the raw curve of the event's class reads at its time, set beside the dot's (smoothed) confidence."""
    if panel is None or not len(panel.times) or event.label not in panel.classes:
        return ""
    at = int(np.argmin(np.abs(panel.times - event.time_s)))
    raw = float(panel.probabilities[at, panel.classes.index(event.label)])
    return f" (the smoothed score's peak); the raw curve reads {raw:.2f} there"


def svg_panel(title: str, duration_s: float, events: list[tuple[int, Event]], classes: list[str],
              panel: ScoreCurves | None) -> str:
    """One inline SVG chart: probability (0-1) over the video's minutes, the crowd's loudness and the
    curves if known, events as markers at their confidence that link to their table rows (``#ev-N``)."""
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
    if panel is not None and panel.loudness is not None:
        parts.append(_loudness_line(panel, x, TOP, inner_h))
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
        tip = f"{event.label} {match_clock(event.time_s, event.half)}: dot at its confidence {event.confidence:.2f}" + _raw_note(panel, event)
        parts.append(f'<a href="#ev-{number}" class="marker" data-class="{html.escape(event.label)}">'
                     f'<title>{html.escape(tip)}</title>'
                     f'<line x1="{x(event.time_s):.1f}" x2="{x(event.time_s):.1f}" y1="{y(event.confidence):.1f}" '
                     f'y2="{HEIGHT - BOTTOM}" stroke="{colour}"/>'
                     f'<circle cx="{x(event.time_s):.1f}" cy="{y(event.confidence):.1f}" r="5" fill="{colour}"/></a>')
    parts.append("</svg>")
    return "".join(parts)
