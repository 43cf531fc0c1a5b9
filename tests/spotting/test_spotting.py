"""The temporal spotting head on its own: narrow targets, peaks on the events, NumPy inference equal to PyTorch's,
windows with overlap equal to one pass, the checkpoint block (and a damaged one), determinism for a seed."""

from __future__ import annotations

import json

import numpy as np
import pytest

from highlighter.errors import HighlighterError
from highlighter.spotting.fit import build_targets, fit_head
from highlighter.spotting.head import HeadConfig, HeadSequence, SpottingHead, read_spotting_head
from highlighter.spotting.peaks import conv_forward, pick_events, windowed

CLASSES = ["goal", "card"]


def scene_half(rng: np.random.Generator, seconds: int = 240, dim: int = 8) -> HeadSequence:
    """A half at 1 fps whose embeddings show a class's scene from 2 s before each event to 4 s after it (as the
    synthetic broadcasts do), on noise; events 20-40 s apart, at sub-second times."""
    times = np.arange(seconds, dtype=np.float64)
    features = rng.normal(0, 0.3, (seconds, dim)).astype(np.float32)
    events = []
    t = float(rng.uniform(10, 20))
    while t < seconds - 10:
        cls = CLASSES[int(rng.integers(len(CLASSES)))]
        events.append((round(t, 3), cls))
        features[(times >= t - 2) & (times < t + 4), CLASSES.index(cls)] += 1.5
        t += float(rng.uniform(20, 40))
    return HeadSequence(times, features, np.full((seconds, 3), 1 / 3, np.float32), None, events)


@pytest.fixture(scope="module")
def fitted() -> tuple[SpottingHead, list[HeadSequence]]:
    rng = np.random.default_rng(0)
    halves = [scene_half(rng) for _ in range(6)]
    config = HeadConfig(hidden=16, epochs=300, inputs=("features",), noise=0.05, train_window=96, window=64,
                        overlap=16)
    return fit_head(halves, CLASSES, 1.0, config), [scene_half(rng) for _ in range(2)]


def test_targets_are_narrow_with_offsets():
    times = np.arange(10.0)
    labels, offsets = build_targets(times, [(4.3, "goal")], CLASSES, radius_s=0.0)
    assert labels[:, 0].tolist() == [0, 0, 0, 0, 1, 0, 0, 0, 0, 0] and labels[:, 1].sum() == 0
    assert offsets[4, 0] == pytest.approx(0.3) and np.isnan(offsets[3, 0])
    labels, offsets = build_targets(times, [(4.3, "goal")], CLASSES, radius_s=1.0)
    assert labels[:, 0].tolist() == [0, 0, 0, 0, 1, 1, 0, 0, 0, 0]
    assert offsets[5, 0] == pytest.approx(-0.7)


def test_head_peaks_within_one_step_of_each_event_and_nowhere_else(fitted):
    head, held_out = fitted
    for sequence in held_out:
        events = head.events(sequence)
        for time_s, cls in sequence.events:
            nearest = min((abs(e.time_s - time_s) for e in events if e.label == cls), default=np.inf)
            assert nearest <= 1.0, (time_s, cls, events)
        for event in (e for e in events if e.confidence >= 0.5):
            assert min(abs(event.time_s - t) for t, cls in sequence.events if cls == event.label) <= 1.0, event


def test_numpy_inference_equals_the_pytorch_module(fitted):
    import torch

    from highlighter.spotting.head import head_inputs, make_head

    head, held_out = fitted
    module = make_head(head.config, len(head.mean), len(CLASSES)).eval()
    module.load_state_dict({k: torch.from_numpy(v) for k, v in head.state.items()})
    x = (head_inputs(held_out[0], head.config.inputs) - head.mean) / head.std
    with torch.inference_mode():
        expected = [t[0].numpy() for t in module(torch.from_numpy(x)[None])]
    for ours, theirs in zip(conv_forward(head.state, x, len(CLASSES)), expected):
        np.testing.assert_allclose(ours, theirs, atol=1e-4)


def test_windows_with_overlap_give_the_output_of_one_pass(fitted):
    """With an overlap of at least half the receptive field (15 samples) the windowed output is exact."""
    head, _ = fitted
    x = np.random.default_rng(1).normal(size=(500, len(head.mean))).astype(np.float32)
    whole = conv_forward(head.state, x, len(CLASSES))
    for window, overlap in ((64, 16), (100, 30), (1000, 16)):
        parts = windowed(lambda w: conv_forward(head.state, w, len(CLASSES)), x, window, overlap, len(CLASSES))
        for a, b in zip(whole, parts):
            np.testing.assert_allclose(a, b, atol=1e-5)


def save_block(folder, tensors: dict, extra: dict) -> None:
    from safetensors.numpy import save_file

    from highlighter.model.checkpoint import META_FILE, WEIGHTS_FILE

    folder.mkdir()
    save_file(tensors, str(folder / WEIGHTS_FILE))
    (folder / META_FILE).write_text(json.dumps({"extra": extra}))


def test_a_checkpoint_block_reads_back_without_pytorch_and_a_damaged_one_is_one_line(fitted, tmp_path, monkeypatch):
    import highlighter.model.checkpoint as weights

    head, held_out = fitted
    monkeypatch.setattr(weights, "read_spec", lambda folder: type("Spec", (), {
        "extra": json.loads((folder / weights.META_FILE).read_text())["extra"]})())
    tensors, entry = head.to_checkpoint()
    save_block(tmp_path / "with", tensors, {"spotting_head": entry})
    assert read_spotting_head(tmp_path / "with").events(held_out[1]) == head.events(held_out[1])
    save_block(tmp_path / "without", {"head.weight": np.zeros((2, 2), np.float32)}, {})
    assert read_spotting_head(tmp_path / "without") is None
    planted = {**entry, "config": {**entry["config"], "window": 10 ** 9}}
    save_block(tmp_path / "planted", tensors, {"spotting_head": planted})
    with pytest.raises(HighlighterError, match="unreadable spotting head block .*window"):
        read_spotting_head(tmp_path / "planted")
    save_block(tmp_path / "short", {k: v for k, v in tensors.items() if "out.weight" not in k},
               {"spotting_head": entry})
    with pytest.raises(HighlighterError, match="out.weight"):
        read_spotting_head(tmp_path / "short")


def test_fit_is_deterministic_for_a_seed():
    rng = np.random.default_rng(3)
    halves = [scene_half(rng, 120) for _ in range(2)]
    config = HeadConfig(hidden=8, epochs=5, inputs=("features",))
    first, second = fit_head(halves, CLASSES, 1.0, config), fit_head(halves, CLASSES, 1.0, config)
    assert all(np.array_equal(first.state[k], second.state[k]) for k in first.state)


def test_nms_keeps_the_strongest_peak_and_applies_the_offset():
    times = np.arange(20.0)
    probabilities = np.zeros((20, 2), np.float32)
    probabilities[[5, 8, 15], 0] = [0.9, 0.5, 0.7]
    offsets = np.zeros((20, 2), np.float32)
    offsets[5, 0] = 0.4
    events = pick_events(times, probabilities, offsets, CLASSES, 0.1, {"default": 8.0}, 1.0)
    assert [(e.label, round(e.time_s, 2), e.confidence) for e in events] == [("goal", 5.4, pytest.approx(0.9)),
                                                                             ("goal", 15.0, pytest.approx(0.7))]
