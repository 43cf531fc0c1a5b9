"""Which parts of the match a reel or a timeline keeps: events chosen by class and confidence, padded per
class, overlapping windows merged, trimmed to a length budget by confidence, then put in match order."""

from __future__ import annotations

from dataclasses import dataclass

from highlighter.cut.windows import Coverage, Window
from highlighter.errors import HighlighterError
from highlighter.config.settings import CutSettings
from highlighter.outputs.events import Event


class NothingSelectedError(HighlighterError):
    """No event passes the selection: nothing to cut."""


@dataclass(frozen=True)
class SelectionSettings:
    """Which events, and how much of the match around each (from the ``cut`` settings)."""

    classes: tuple[str, ...] | None  # None: every class
    min_confidence: float
    before_s: dict[str, float]  # per class, else "default"
    after_s: dict[str, float]
    max_duration_s: float | None

    def padding(self, label: str) -> tuple[float, float]:
        """Seconds kept before and after an event of class ``label``."""
        return (float(self.before_s.get(label, self.before_s["default"])),
                float(self.after_s.get(label, self.after_s["default"])))

    @classmethod
    def from_settings(cls, cut: CutSettings, classes: str | None = None, min_confidence: float | None = None,
                      before: float | None = None, after: float | None = None,
                      max_duration: float | None = None) -> "SelectionSettings":
        """From the ``cut`` settings; an option given (not None) replaces its setting (``--before`` sets
        every class)."""
        names = cut.classes if classes is None else classes
        chosen = None if names in ("", "all") else tuple(c.strip() for c in str(names).split(",") if c.strip())
        before_s = dict(cut.before_s) if before is None else {"default": before}
        after_s = dict(cut.after_s) if after is None else {"default": after}
        for name, value in (*before_s.items(), *after_s.items()):
            if float(value) < 0:
                raise HighlighterError(f"padding must not be negative (got {value} for {name})")
        limit = cut.max_duration if max_duration is None else max_duration
        if limit is not None and float(limit) <= 0:
            raise HighlighterError(f"--max-duration must be positive, got {limit}")
        confidence = float(cut.min_confidence if min_confidence is None else min_confidence)
        return cls(chosen, confidence, before_s, after_s, None if limit is None else float(limit))


def _half_order(half: int | None) -> int:
    return half or 0


def padded_window(event: Event, settings: SelectionSettings, half_duration_s: float) -> Window:
    """The event's own window: its padding, inside its video."""
    before, after = settings.padding(event.label)
    start = max(event.time_s - before, 0.0)
    end = min(event.time_s + after, half_duration_s)
    return Window(event.half, start, max(end, start), (event,))


def merge_windows(windows: list[Window]) -> list[Window]:
    """Windows in match order, those that overlap or touch (same video) joined into one: one sort, then one
    pass (each joined window's events sorted once, not again at every join)."""
    groups: list[tuple[int | None, float, float, list[Event]]] = []
    for window in sorted(windows, key=lambda w: (_half_order(w.half), w.start_s, w.end_s)):
        if groups and groups[-1][0] == window.half and window.start_s <= groups[-1][2]:
            half, start, end, events = groups[-1]
            events.extend(window.events)
            groups[-1] = (half, start, max(end, window.end_s), events)
        else:
            groups.append((window.half, window.start_s, window.end_s, list(window.events)))
    return [Window(half, start, end, tuple(sorted(events, key=lambda e: e.time_s)))
            for half, start, end, events in groups]


def check_classes(settings: SelectionSettings, known: list[str]) -> None:
    """A one-line error for a class asked for that the events file does not know, with the closest one."""
    from highlighter.wording import did_you_mean

    for name in settings.classes or ():
        if name not in known:
            raise HighlighterError(f"unknown class {name!r} in --classes{did_you_mean(name, known)}; this events "
                                   f"file's classes are {', '.join(known)}")


def select_windows(events: list[Event], half_durations: dict[int | None, float],
                   settings: SelectionSettings) -> list[Window]:
    """The merged windows to keep, in match order (half 1 before half 2).

    With ``max_duration_s``, events are taken most confident first and one is kept only if the merged
    windows still fit; the kept ones are then put back in match order.
    """
    chosen = [e for e in events if (settings.classes is None or e.label in settings.classes)
              and e.confidence >= settings.min_confidence]
    if not chosen:
        raise NothingSelectedError(_nothing_message(events, settings))
    windows = [padded_window(e, settings, _duration_of(half_durations, e.half)) for e in chosen]
    windows = [w for w in windows if w.duration_s > 0]
    if settings.max_duration_s is not None:
        coverage, kept = Coverage(windows), []
        best_first = sorted(range(len(windows)), key=lambda i: (-windows[i].events[0].confidence,
                                                                _half_order(windows[i].half), windows[i].start_s))
        for number in best_first:
            if coverage.covered_s + coverage.gain(number) <= settings.max_duration_s + 1e-6:
                coverage.add(number)
                kept.append(windows[number])
        if not kept:
            shortest = min(w.duration_s for w in windows)
            raise NothingSelectedError(f"no selected event fits in --max-duration {settings.max_duration_s:g} s "
                                       f"(the shortest padded event lasts {shortest:g} s)")
        windows = kept
    return merge_windows(windows)


def selected_events(windows: list[Window]) -> list[Event]:
    """The events the windows hold, in match order."""
    return [e for w in windows for e in w.events]


def _duration_of(half_durations: dict[int | None, float], half: int | None) -> float:
    if half in half_durations:
        return half_durations[half]
    if len(half_durations) == 1:
        return next(iter(half_durations.values()))
    raise HighlighterError(f"no video for half {half}")


def _nothing_message(events: list[Event], settings: SelectionSettings) -> str:
    if not events:
        return "no events selected: the events file holds no events"
    classes = ", ".join(settings.classes) if settings.classes else "all classes"
    found = ", ".join(sorted({e.label for e in events}))
    return (f"no events selected: none of the {len(events)} events ({found}) is of {classes} "
            f"with confidence >= {settings.min_confidence:g}")
