"""The review page's HTML: the template (``template.html``, package data) filled with the match, model,
timing, curves, player and one plain-HTML row per event. No network: images are data URIs, the video a
relative link."""

from __future__ import annotations

import base64
import html
import re
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources

from highlighter.version import __version__
from highlighter.labels import class_colour
from highlighter.inputs import MatchVideos
from highlighter.provenance import TrainedOn
from highlighter.outputs.clock import clock, duration_text, match_clock, precise_clock
from highlighter.outputs.events import Event, EventsDocument
from highlighter.outputs.scores import HalfCurves
from highlighter.review.curves import svg_panel
from highlighter.review.thumbnails import Thumbnail
from highlighter.wording import counted

TEMPLATE = "template.html"


@dataclass
class PageContent:
    """Everything the page shows."""

    document: EventsDocument
    videos: MatchVideos | None  # None: the video was not found (no thumbnails, no player)
    video_links: dict[int | None, str]  # per half, the video's URL relative to the page (reachable ones only)
    thumbnails: list[list[Thumbnail]]  # per event of document.events
    curves: HalfCurves  # score curves (half, curves), if known
    warnings: list[str] = field(default_factory=list)
    generated: str = ""
    play_lead_s: float = 3.0


def e(value: object) -> str:
    """HTML-escaped text."""
    return html.escape(str(value), quote=True)


def render_page(content: PageContent) -> str:
    """The whole HTML page."""
    document = content.document
    name = _match_name(content)
    values = {
        "version": e(__version__),
        "title": e(name),
        "subtitle": e(_subtitle(content)),
        "warnings": _warnings(content.warnings),
        "cards": _cards(content),
        "legend": _legend(content),
        "curves": _curves(content),
        "chips": _chips(document),
        "event_count": e(f"{len(document.events)} events"),
        "rows": "\n".join(_row(number, event, strip, content)
                          for number, (event, strip) in enumerate(zip(document.events, content.thumbnails), 1))
        or '<tr><td colspan="7" class="muted">No events were found in this match.</td></tr>',
        "player": _player(content),
        "footer": e(f"Made by highlighter {__version__}{' on ' + content.generated if content.generated else ''} "
                    f"from {document.where}. Self-contained: images are embedded, the video is linked."),
    }
    template = resources.files("highlighter.review").joinpath(TEMPLATE).read_text(encoding="utf-8")
    return re.sub(r"\{\{(\w+)\}\}", lambda m: values[m.group(1)], template)


def _match_name(content: PageContent) -> str:
    if content.videos is not None:
        return content.videos.source.name
    if content.document.video:
        return content.document.video.rstrip("/").rsplit("/", 1)[-1]
    return content.document.where.rsplit("/", 1)[-1]


def _subtitle(content: PageContent) -> str:
    document = content.document
    counts = Counter(e.label for e in document.events)
    parts = [counted(counts[c], c) for c in document.highlight_classes if counts[c]]
    what = ", ".join(parts) if parts else "no events"
    duration = content.videos.duration_s if content.videos else document.duration_s
    return f"{what} · match {duration_text(duration)}" + (" · 2 halves" if document.is_game else "")


def _warnings(warnings: list[str]) -> str:
    if not warnings:
        return ""
    return '<ul class="warnings">' + "".join(f"<li>{e(w)}</li>" for w in warnings) + "</ul>"


def _card(title: str, rows: list[tuple[str, str]], extra: str = "") -> str:
    items = "".join(f"<dt>{e(k)}</dt><dd>{v}</dd>" for k, v in rows)
    return f'<div class="card"><h2>{e(title)}</h2><dl>{items}</dl>{extra}</div>'


def _cards(content: PageContent) -> str:
    document, videos = content.document, content.videos
    match = [("file", f"<code>{e(videos.source if videos else document.video or 'not recorded')}</code>")]
    if videos is not None:
        match.append(("duration", e(duration_text(videos.duration_s))))
        if document.is_game or len(videos.halves) > 1:
            for video in videos.halves:
                match.append((f"half {video.half}", f"{e(video.path.name)} · {e(duration_text(video.info.duration_s))}"))
        info = videos.halves[0].info
        match.append(("video", e(f"{info.width}x{info.height}, {info.avg_fps:.3g} fps, {info.codec}")))
    else:
        match.append(("duration", e(duration_text(document.duration_s))))
        match.append(("halves", "2" if document.is_game else "1 (a single video)"))
    model = document.model
    digest = model.get("sha256")
    recorded = bool(model.get("name"))  # a CSV or SoccerNet events file does not record the model
    checkpoint = model.get("checkpoint") or ("none (zero-shot)" if recorded else "not recorded in this events file")
    model_rows = [("name", e(model.get("name") or "not recorded in this events file")),
                  ("checkpoint", f"<code>{e(checkpoint)}</code>"),
                  ("sha256", f'<code title="{e(digest)}">{e(digest[:16])}…</code>' if digest else "–")]
    if model.get("pretrained"):
        model_rows.append(("pretrained", e(model["pretrained"])))
    if model.get("trained_on"):
        model_rows.append(("trained on", e(TrainedOn(**model["trained_on"]).describe())))
    timing = document.timing
    wall, frames = timing.get("wall_s"), timing.get("frames")
    rate = f"{frames / wall:.1f} frames/s" if wall and frames else "–"
    timing_rows = [("tagged in", e(f"{wall:.1f} s" if wall is not None else "–")),
                   ("frames scored", e(frames if frames is not None else "–")),
                   ("speed", e(rate)), ("sampling", e(f"{document.fps:g} fps" if document.fps else "–"))]
    counts = Counter(ev.label for ev in document.events)
    chips = "".join(f'<span class="badge" style="--c:{class_colour(c, document.classes)}">{e(counts[c])} {e(c)}</span>'
                    for c in document.highlight_classes)
    events_card = (f'<div class="card"><h2>Events</h2><div class="big">{len(document.events)}</div>'
                   f'<div class="counts">{chips}</div></div>')
    return _card("Match", match) + _card("Model", model_rows) + _card("Timing", timing_rows) + events_card


def _legend(content: PageContent) -> str:
    document = content.document
    loudness = any(c.loudness is not None for _, c in content.curves)
    return '<div class="legend">' + "".join(
        f'<span style="--c:{class_colour(c, document.classes)}">{e(c)}</span>' for c in document.highlight_classes
    ) + f'<span class="dots" style="--c:#94a3b8">{e(_dots_meaning(content))}</span>' + (
        '<span class="loud" style="--c:#b8c0cc">crowd loudness (scaled to the chart)</span>' if loudness else ""
    ) + "</div>"


def _dots_meaning(content: PageContent) -> str:
    """What an event's dot shows: with curves drawn, its height is not where the raw line peaks, so say why."""
    if content.curves:
        return ("lines: raw per-second scores; dots: each event at its confidence, the peak of its class's smoothed "
                "score (below a brief raw peak)")
    return "dots: each event at its confidence"


def _halves(content: PageContent) -> list[int | None]:
    """The chart panels: the videos' halves, else the halves the events and curves name."""
    if content.videos is not None:
        return [v.half for v in content.videos.halves]
    named = {ev.half for ev in content.document.events} | {half for half, _ in content.curves}
    return sorted(named, key=lambda h: h or 0) or [None]


def _curves(content: PageContent) -> str:
    document = content.document
    numbered = list(enumerate(document.events, 1))
    halves = _halves(content)
    single = len(halves) == 1
    parts = []
    for half in halves:
        panel = next((c for h, c in content.curves if h == half or single), None)
        events = [(n, ev) for n, ev in numbered if ev.half == half or single]
        if content.videos is not None:
            duration = content.videos.half(half).info.duration_s
        elif panel is not None and len(panel.times):
            duration = float(panel.times[-1])
        elif single and document.duration_s:
            duration = document.duration_s
        else:  # no video, no curves, no recorded duration: as long as the events reach
            duration = max([ev.end_s for _, ev in events] + [1.0])
        title = f"Half {half}" if half else "Whole video"
        parts.append(f"<h3>{e(title)}</h3>" + svg_panel(title, duration, events, document.classes, panel))
    if not content.curves:
        parts.append('<p class="nocurves">The events file holds no score curves: markers show each event at its '
                     "confidence. Pass <code>--scores FILE</code> (from <code>highlight tag --scores</code>) to draw them.</p>")
    return "".join(parts)


def _chips(document: EventsDocument) -> str:
    counts = Counter(ev.label for ev in document.events)
    labels = document.highlight_classes + sorted(set(counts) - set(document.highlight_classes))
    return "".join(f'<label class="chip" style="--c:{class_colour(c, document.classes)}"><input type="checkbox" '
                   f'value="{e(c)}" checked><span class="dot"></span>{e(c)} <span class="muted">{counts[c]}</span></label>'
                   for c in labels)


def _row(number: int, event: Event, strip: list[Thumbnail], content: PageContent) -> str:
    colour = class_colour(event.label, content.document.classes)
    central = min(range(len(strip)), key=lambda k: abs(strip[k].time_s - event.time_s)) if strip else -1
    figures = "".join(
        f'<figure class="{"at" if k == central else ""}" data-time="{t.time_s:.3f}" tabindex="0">'
        f'<img src="data:image/jpeg;base64,{base64.b64encode(t.jpeg).decode()}" alt="frame at {e(precise_clock(t.time_s))}" '
        f'width="64" height="64" loading="lazy"><figcaption>{e(precise_clock(t.time_s))}</figcaption></figure>'
        for k, t in enumerate(strip))
    if not figures:
        figures = '<span class="nothumbs">no thumbnails (video not available)</span>'
    link = content.video_links.get(event.half if event.half in content.video_links else None)
    title = f"{event.label} at {match_clock(event.time_s, event.half)}"
    start = max(event.time_s - content.play_lead_s, 0.0)
    play = (f'<a class="play" href="{e(link)}#t={start:.1f}" data-src="{e(link)}" data-t="{start:.2f}" '
            f'data-title="{e(title)}">▶ Play</a>' if link else '<span class="muted">no video</span>')
    when = (f"<strong>{e(match_clock(event.time_s, event.half))}</strong><small>{e(precise_clock(event.time_s))}</small>"
            if event.half else f"<strong>{e(precise_clock(event.time_s))}</strong>")
    return (f'<tr id="ev-{number}" data-class="{e(event.label)}" data-confidence="{event.confidence:.4f}" '
            f'data-order="{number}" data-time="{event.time_s:.3f}" data-half="{event.half or ""}" style="--c:{colour}">'
            f'<td class="num">{number}</td><td><span class="badge">{e(event.label)}</span></td>'
            f'<td class="time">{when}</td>'
            f'<td class="conf"><div class="bar"><span style="width:{100 * event.confidence:.0f}%"></span></div>'
            f'{event.confidence:.2f}</td>'
            f'<td class="window">{e(clock(event.start_s))}–{e(clock(event.end_s))}'
            f'<small>{event.end_s - event.start_s:.0f} s</small></td>'
            f'<td class="strip-cell"><div class="strip">{figures}</div></td><td>{play}</td></tr>')


def _player(content: PageContent) -> str:
    document, videos = content.document, content.videos
    if content.video_links:
        first = next(iter(content.video_links.values()))
        sources = "".join(f"<li>{'half ' + str(h) + ': ' if h else ''}<code>{e(urllib.parse.unquote(link))}</code></li>"
                          for h, link in content.video_links.items())
        return (f'<h2>Video</h2><video id="player" controls preload="metadata" src="{e(first)}"></video>'
                f'<p class="now" id="now">Click an event to play it from just before it.</p>'
                f'<div class="links"><p class="muted">Linked from this page (move them together):</p>'
                f'<ul class="muted">{sources}</ul></div>')
    where = videos.source if videos is not None else (document.video or "not recorded in the events file")
    return (f'<h2>Video</h2><div class="novideo">The video cannot be played from this page. '
            f'It was at <code>{e(where)}</code>.</div>')
