"""The on-screen rule on plain timestamp lists."""

import pytest

from highlighter.video.timeline import Clock, Discontinuity, on_screen
from tests.support import on_screen_reference


def pick(times, rate=1.0):
    return [times[i] for i in on_screen(range(len(times)), rate, lambda i: times[i])]


def test_regular_25fps_picks_the_frame_at_each_second():
    times = [n / 25 for n in range(250)]
    assert pick(times) == [float(k) for k in range(10)]


def test_ticks_stop_at_the_last_frame():
    times = [n / 25 for n in range(251)]  # last frame starts at exactly 10 s
    assert pick(times)[-1] == 10.0
    assert pick(times[:-1])[-1] == 9.0


def test_29_97_fps_picks_the_frame_still_on_screen_at_the_tick():
    fps = 30000 / 1001
    times = [n / fps for n in range(300)]
    picked = [round(t * fps) for t in pick(times)]
    assert picked == [0, 29, 59, 89, 119, 149, 179, 209, 239, 269]


def test_a_hole_yields_the_frame_before_it_once_then_resumes_on_time():
    kept = list(range(250)) + list(range(500, 750))
    times = [n / 25 for n in kept]
    assert [round(t * 25) for t in pick(times)] == on_screen_reference(kept, 25, 1.0)
    assert pick(times)[9:12] == [9.0, 9.96, 20.0]


def test_rate_above_the_frame_rate_returns_every_frame_once():
    times = [n / 25 for n in range(50)]
    assert pick(times, rate=100.0) == times


def test_sub_second_rates_and_a_late_first_frame():
    times = [0.3, 1.5, 1.6, 4.0]
    assert pick(times, rate=2.0) == [0.3, 1.5, 1.6, 4.0]  # ticks 0.5, 1.5, 2.0, 4.0


def test_rejects_a_non_positive_rate():
    with pytest.raises(ValueError):
        pick([0.0], rate=0)


def test_clock_continues_after_a_jump_back_one_frame_later():
    clock = Clock(frame_s=0.04)
    raw = [1.4 + n * 0.04 for n in range(5)] * 2  # two recordings one after the other
    assert [round(clock(t), 2) for t in raw] == [round(1.4 + n * 0.04, 2) for n in range(10)]
    assert clock.discontinuities == [Discontinuity(pytest.approx(1.6), pytest.approx(-0.16))]


def test_clock_keeps_forward_holes_unless_the_format_allows_jumps():
    raw = [0.0, 0.04, 30.0, 30.04]
    assert [Clock(0.04)(t) for t in raw] == raw  # a hole of dropped frames stays a hole
    splice = Clock(0.04, forward_limit_s=10.0)
    assert [round(splice(t), 2) for t in raw] == [0.0, 0.04, 0.08, 0.12]
    assert len(splice.discontinuities) == 1 and splice.discontinuities[0].jump_s == pytest.approx(29.96)
    short_hole = Clock(0.04, forward_limit_s=10.0)
    assert [short_hole(t) for t in [0.0, 5.0]] == [0.0, 5.0] and not short_hole.discontinuities


def test_clock_allows_reordering_within_its_slack():
    clock = Clock(0.04, backward_slack_s=1.0)  # packets in decode order: B-frames come after later frames
    assert [clock(t) for t in [0.0, 0.12, 0.04, 0.08, 0.24]] == [0.0, 0.12, 0.04, 0.08, 0.24]
    assert not clock.discontinuities


def test_clock_seeing_key_frames_only_takes_the_jump_from_the_packet_scan():
    scanned = [Discontinuity(12.0, -11.96)]
    clock = Clock(0.04, known=scanned)
    assert [clock(t) for t in [0.0, 10.0, 0.0, 2.0]] == [0.0, 10.0, 12.0, 14.0]
    assert clock.discontinuities == scanned
