"""Score curves to events: per-class smoothing, peak picking, per-class non-maximum suppression."""

from __future__ import annotations

import numpy as np

from highlighter.outputs.events import Event
from highlighter.labels import BACKGROUND
from highlighter.config.settings import SmootherSettings
from highlighter.spotting.peaks import peaks


def smooth(times: np.ndarray, values: np.ndarray, window_s: float) -> np.ndarray:
    """Centred moving average over time (samples within ±window/2 s), robust to holes in ``times``."""
    if window_s <= 0 or len(times) == 0:
        return values.astype(np.float64)
    sums = np.concatenate([np.zeros((1,) + values.shape[1:]), np.cumsum(values, axis=0)])
    low = np.searchsorted(times, times - window_s / 2, side="left")
    high = np.searchsorted(times, times + window_s / 2, side="right")
    counts = (high - low).reshape((-1,) + (1,) * (values.ndim - 1))
    return (sums[high] - sums[low]) / counts


def events_for_class(times: np.ndarray, curve: np.ndarray, cls: str, params: SmootherSettings) -> list[Event]:
    """One event per surviving peak of a smoothed curve, strongest first through NMS."""
    candidates = [i for i in peaks(curve) if curve[i] >= params.threshold]
    candidates.sort(key=lambda i: (-curve[i], times[i]))
    half_window = params.nms_for(cls) / 2
    kept: list[int] = []
    for index in candidates:
        if all(abs(times[index] - times[other]) >= half_window for other in kept):
            kept.append(index)
    events = []
    for index in sorted(kept):
        left = index
        while left > 0 and curve[left - 1] >= params.low:
            left -= 1
        right = index
        while right < len(curve) - 1 and curve[right + 1] >= params.low:
            right += 1
        events.append(Event(cls, float(times[index]), float(times[left]), float(times[right]),
                            float(np.clip(curve[index], 0.0, 1.0))))
    return events


def find_events(times: np.ndarray, probabilities: np.ndarray, classes: list[str], params: SmootherSettings,
                half: int | None = None) -> list[Event]:
    """Events of every non-background class, sorted by time."""
    smoothed = smooth(times, probabilities, params.window_s)
    events = []
    for column, cls in enumerate(classes):
        if cls != BACKGROUND:
            events += [Event(e.label, e.time_s, e.start_s, e.end_s, e.confidence, half)
                       for e in events_for_class(times, smoothed[:, column], cls, params)]
    return sorted(events, key=lambda e: (e.time_s, e.label))
