"""The head's inference without PyTorch: the convolutional head in NumPy, run over windows that overlap (memory
bounded by one window however long the half), and its per-sample event probabilities turned into events by peak
picking and per-class non-maximum suppression."""

from __future__ import annotations

import bisect
import math
from typing import Callable

import numpy as np

from highlighter.outputs.events import Event

#: The conv stack's dilations: a receptive field of 1 + 2 * (1 + 2 + 4 + 8) = 31 samples.
DILATIONS = (1, 2, 4, 8)

Forward = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


def peaks(curve: np.ndarray) -> np.ndarray:
    """Indices of local maxima; a flat top counts once, at its middle; the ends count as lower."""
    if len(curve) == 0:
        return np.empty(0, dtype=int)
    change = np.flatnonzero(np.diff(curve)) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [len(curve)]])
    values = curve[starts]
    higher_than_left = np.concatenate([[True], values[1:] > values[:-1]])
    higher_than_right = np.concatenate([values[:-1] > values[1:], [True]])
    top = higher_than_left & higher_than_right
    return (starts[top] + ends[top] - 1) // 2


def gelu(x: np.ndarray) -> np.ndarray:
    """GELU, tanh form (the PyTorch head uses it too, so NumPy needs no erf)."""
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def conv_forward(state: dict[str, np.ndarray], x: np.ndarray, classes: int) -> tuple[np.ndarray, np.ndarray]:
    """The conv head on one window, (N, F) standardised inputs -> (N, C) logits and (N, C) offsets (float32)."""
    h = gelu(x @ state["project.weight"].T + state["project.bias"])
    n = len(h)
    for layer, dilation in enumerate(DILATIONS):
        weight, bias = state[f"core.convs.{layer}.weight"], state[f"core.convs.{layer}.bias"]  # (H, H, 3), (H,)
        padded = np.pad(h, ((dilation, dilation), (0, 0)))
        conv = (padded[:n] @ weight[:, :, 0].T + padded[dilation:dilation + n] @ weight[:, :, 1].T
                + padded[2 * dilation:2 * dilation + n] @ weight[:, :, 2].T + bias)
        h = h + gelu(conv)
    y = h @ state["out.weight"].T + state["out.bias"]
    return y[:, :classes].astype(np.float32), y[:, classes:].astype(np.float32)


def windowed(forward: Forward, x: np.ndarray, window: int, overlap: int, classes: int) -> tuple[np.ndarray, np.ndarray]:
    """``forward`` over windows of ``window`` samples that reach ``overlap`` samples past their kept centre on
    each side; each sample's output comes from the window whose centre holds it, so with an overlap of at least
    half the receptive field the result is that of one pass over the whole sequence."""
    n = len(x)
    logits, offsets = np.zeros((n, classes), np.float32), np.zeros((n, classes), np.float32)
    step = max(window - 2 * overlap, 1)
    start = 0
    while start < n:
        low, high = max(start - overlap, 0), min(start + step + overlap, n)
        out_logits, out_offsets = forward(np.ascontiguousarray(x[low:high]))
        keep = min(start + step, n)
        logits[start:keep] = out_logits[start - low:keep - low]
        offsets[start:keep] = out_offsets[start - low:keep - low]
        start = keep
    return logits, offsets


def pick_events(times: np.ndarray, probabilities: np.ndarray, offsets: np.ndarray, classes: list[str],
                threshold: float, nms_s: dict[str, float], fps: float, half: int | None = None) -> list[Event]:
    """One event per surviving peak per class: local maxima at or above ``threshold``, the strongest first, each
    suppressing the others of its class within half its class's NMS window (``nms_s`` per class, else
    ``default``); time = the sample's time plus its predicted offset (at most one sample either way)."""
    events = []
    for column, cls in enumerate(classes):
        curve = probabilities[:, column]
        candidates = sorted((i for i in peaks(curve) if curve[i] >= threshold), key=lambda i: (-curve[i], times[i]))
        reach = nms_s.get(cls, nms_s["default"]) / 2
        kept: list[float] = []  # sorted: a candidate is checked against its neighbours only (n log n on any curve)
        for index in candidates:
            time_s = max(float(times[index] + np.clip(offsets[index, column], -1.0, 1.0) / fps), 0.0)
            at = bisect.bisect_left(kept, time_s)
            if all(abs(time_s - kept[i]) >= reach for i in (at - 1, at) if 0 <= i < len(kept)):
                kept.insert(at, time_s)
                confidence = float(np.clip(curve[index], 0.0, 1.0))
                events.append(Event(cls, time_s, max(time_s - 1.0, 0.0), time_s + 1.0, confidence, half))
    return sorted(events, key=lambda e: (e.time_s, e.label))
