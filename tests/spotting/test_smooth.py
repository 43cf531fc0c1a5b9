"""The smoother on constructed score curves."""

import numpy as np
import pytest

from highlighter.config.settings import SmootherSettings, shipped_settings
from highlighter.spotting.peaks import peaks
from highlighter.spotting.smoother import events_for_class, find_events, smooth

TIMES = np.arange(0, 600, 1.0)
PARAMS = SmootherSettings(window_s=0.0, threshold=0.5, low_threshold=0.3, nms_s={"default": 20.0})


def bump(center: float, height: float = 0.9, width: float = 4.0) -> np.ndarray:
    return height * np.exp(-0.5 * ((TIMES - center) / width) ** 2)


def test_one_peak_gives_one_event_with_its_extent():
    events = events_for_class(TIMES, bump(100), "goal", PARAMS)
    assert len(events) == 1
    event = events[0]
    assert event.time_s == 100 and event.confidence == pytest.approx(0.9)
    # the curve stays >= 0.3 while |t - 100| <= 4 * sqrt(2 ln 3) = 5.9 s
    assert (event.start_s, event.end_s) == (95, 105)


def test_two_peaks_closer_than_the_window_keep_the_stronger():
    curve = np.maximum(bump(100, 0.8), bump(108, 0.95))
    events = events_for_class(TIMES, curve, "goal", PARAMS)
    assert [(e.time_s, round(e.confidence, 2)) for e in events] == [(108, 0.95)]
    wide_apart = np.maximum(bump(100, 0.8), bump(140, 0.95))
    assert [e.time_s for e in events_for_class(TIMES, wide_apart, "goal", PARAMS)] == [100, 140]


def test_per_class_windows():
    curve = np.maximum(bump(100, 0.8), bump(120, 0.95))
    tight = SmootherSettings(0.0, 0.5, 0.3, {"default": 20.0, "goal": 50.0})
    assert len(events_for_class(TIMES, curve, "card", tight)) == 2
    assert len(events_for_class(TIMES, curve, "goal", tight)) == 1


def test_a_plateau_gives_one_event_at_its_middle():
    curve = np.zeros_like(TIMES)
    curve[200:231] = 0.8  # 30 s flat, longer than the NMS window
    events = events_for_class(TIMES, curve, "card", PARAMS)
    assert [(e.time_s, e.start_s, e.end_s) for e in events] == [(215, 200, 230)]
    assert list(peaks(np.array([0, 1, 1, 1, 0.0]))) == [2]


def test_noise_alone_gives_nothing():
    noise = np.random.default_rng(0).uniform(0, 0.35, len(TIMES))
    assert events_for_class(TIMES, noise, "goal", PARAMS) == []
    assert find_events(TIMES, np.stack([1 - noise, noise], 1), ["background", "goal"], shipped_settings().smoother) == []


def test_events_at_the_very_start_and_end():
    curve = bump(0, 0.9) + bump(599, 0.8)
    events = events_for_class(TIMES, curve, "substitution", PARAMS)
    assert [e.time_s for e in events] == [0, 599]
    assert events[0].start_s == 0 and events[-1].end_s == 599


def test_smoothing_averages_within_the_window_and_handles_holes():
    times = np.array([0, 1, 2, 3, 10, 11, 12.0])
    values = np.array([0, 0, 3, 0, 6, 0, 0.0])
    assert smooth(times, values, 3.0).tolist() == [0, 1, 1, 1.5, 3, 2, 0]  # t=3 averages t=2 and 3 only


def test_background_is_never_an_event_and_events_are_sorted():
    probabilities = np.stack([np.ones_like(TIMES), bump(300), bump(100)], 1)
    events = find_events(TIMES, probabilities, ["background", "goal", "card"], PARAMS, half=2)
    assert [(e.label, e.time_s, e.half) for e in events] == [("card", 100, 2), ("goal", 300, 2)]
