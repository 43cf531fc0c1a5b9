"""Inference precision and the scorer (issue 12): bf16 gives the events fp32 gives, `auto` follows the
hardware, checkpoints stay fp32 on disk, and decoding a game's halves together changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from safetensors import safe_open
from torch import nn

import highlighter
from cli import highlight
from highlighter.model import device
from highlighter.soccernet.games import half_videos
from highlighter.model.classifier import WEIGHTS_FILE, load_checkpoint
from highlighter.model.inference import FrameScorer, is_convolutional
from highlighter.model.scoring_loop import score_videos
from highlighter.config.settings import shipped_settings
from highlighter.spotting.smoother import smooth
from tests.support import open_sampler


def tag_with(checkpoint: Path, game: Path, precision: str):
    return highlighter.tag(game, weights=checkpoint, device="cpu", precision=precision)


def smoothed_curves(result) -> dict[tuple[int | None, str], tuple[np.ndarray, np.ndarray]]:
    """Each half's smoothed probability curve of each class, as the smoother saw it: (half, class) -> (times,
    curve)."""
    window_s = shipped_settings().smoother.window_s
    return {(half, label): (curves.times, smooth(curves.times, curves.probabilities[:, column], window_s))
            for half, curves in result.curves for column, label in enumerate(result.classes)}


def by_class(events) -> dict[tuple[int | None, str], list]:
    grouped: dict[tuple[int | None, str], list] = {}
    for event in events:
        grouped.setdefault((event.half, event.label), []).append(event)
    return grouped


def test_bf16_gives_the_events_of_fp32_and_the_checkpoint_stays_fp32(trained, test_game):
    """bf16 gives fp32's events: the same classes in the same halves, confidences within 0.02, and each event
    where the other precision's curve is as high as at its own event, within the two curves' difference (an event
    whose peak lies within that difference of the threshold may be found by one precision alone). Equal
    times would ask too much: on a flat top (a saturated curve) the last digits of each precision place the peak
    anywhere along it; a bf16 model emulated on a CPU without AVX-512 put one at 27 s where fp32 put it at 31 s,
    on a top that stays within 0.001 of 0.9875 from 27 to 31 s."""
    _, result = trained
    fp32, bf16 = (tag_with(result.checkpoint, test_game, precision) for precision in ("fp32", "bf16"))
    assert fp32.events
    curves = {"fp32": smoothed_curves(fp32), "bf16": smoothed_curves(bf16)}
    ours_by_class, theirs_by_class = by_class(bf16.events), by_class(fp32.events)
    threshold = shipped_settings().smoother.threshold
    for key in sorted(ours_by_class.keys() | theirs_by_class.keys()):
        times, ours_curve = curves["bf16"][key]
        theirs_curve = curves["fp32"][key][1]
        gap = np.abs(ours_curve - theirs_curve).max()
        assert gap <= 0.02, key  # the curves agree ...

        def clear(events: list) -> list:  # a peak within the curves' difference of the threshold may be either's
            return [event for event in events if event.confidence > threshold + gap + 0.005]

        events, theirs_events = clear(ours_by_class.get(key, [])), clear(theirs_by_class.get(key, []))
        assert len(events) == len(theirs_events), key
        for ours, theirs in zip(events, theirs_events):  # ... and so do the events on them
            assert ours.confidence == pytest.approx(theirs.confidence, abs=0.02)
            for curve in (theirs_curve, ours_curve):  # each event where the other's curve is (nearly) as high
                assert abs(np.interp(ours.time_s, times, curve) - np.interp(theirs.time_s, times, curve)) <= 2 * gap
    with safe_open(str(Path(result.checkpoint) / WEIGHTS_FILE), framework="pt") as weights:
        assert {weights.get_slice(name).get_dtype() for name in weights.keys()} == {"F32"}


def test_auto_precision_follows_the_hardware(monkeypatch):
    monkeypatch.delenv(device.CPU_BF16_VARIABLE, raising=False)  # the hardware, not the override, decides here
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    for capabilities, expected in (({"amx_bf16": True}, torch.bfloat16), ({"avx512_bf16": True}, torch.bfloat16),
                                   ({"avx2": True}, torch.float32)):
        monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: capabilities)
        assert device.inference_dtype("auto", cpu) == expected
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: including_emulation)
    assert device.inference_dtype("auto", cuda) == torch.float16  # a T4 or V100 only emulates bf16
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: True)
    assert device.inference_dtype("auto", cuda) == torch.bfloat16
    assert [device.inference_dtype(p, cpu) for p in ("fp32", "bf16", "fp16")] == [torch.float32, torch.bfloat16,
                                                                                 torch.float16]


def test_a_checkpoint_loads_straight_into_the_asked_precision(trained):
    _, result = trained
    fp32, bf16 = load_checkpoint(result.checkpoint), load_checkpoint(result.checkpoint, dtype=torch.bfloat16)
    assert {p.dtype for p in fp32.parameters()} == {torch.float32}
    assert {p.dtype for p in bf16.parameters()} == {torch.bfloat16}
    for (name, ours), (_, theirs) in zip(bf16.state_dict().items(), fp32.state_dict().items()):
        assert torch.equal(ours, theirs.to(torch.bfloat16)), name


def test_scorer_normalises_like_the_models_preprocessing(trained):
    _, result = trained
    classifier = load_checkpoint(result.checkpoint)
    spec = classifier.spec
    frames = np.random.default_rng(0).integers(0, 256, (5, spec.image_size, spec.image_size, 3), dtype=np.uint8)
    pixels = torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255
    inputs = (pixels - torch.tensor(spec.mean).view(1, 3, 1, 1)) / torch.tensor(spec.std).view(1, 3, 1, 1)
    with torch.no_grad():
        expected = torch.softmax(classifier(inputs), dim=1).numpy()
    scorer = FrameScorer(classifier, torch.device("cpu"), "fp32")
    assert scorer(frames).dtype == np.float32
    np.testing.assert_allclose(scorer(frames), expected, atol=1e-5)
    np.testing.assert_allclose(scorer(frames[:2]), expected[:2], atol=1e-5)  # a smaller batch reuses the buffers


def test_channels_last_only_for_convolutional_towers(trained):
    _, result = trained
    assert not is_convolutional(load_checkpoint(result.checkpoint).visual)  # a ViT: one patch-embedding conv
    assert is_convolutional(nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Conv2d(8, 8, 3)))


def test_halves_decoded_together_score_as_halves_decoded_in_turn(trained, test_game):
    _, result = trained
    scorer = FrameScorer(load_checkpoint(result.checkpoint), torch.device("cpu"), "fp32")
    samplers = {half: open_sampler(video, size=scorer.classifier.spec.image_size, batch_size=16)
                for half, video in half_videos(test_game).items()}
    together, in_turn = (score_videos(samplers, scorer, concurrent=flag) for flag in (True, False))
    assert list(together) == list(in_turn) == [1, 2]
    for half in together:
        np.testing.assert_array_equal(together[half].times, in_turn[half].times)
        np.testing.assert_array_equal(together[half].probabilities, in_turn[half].probabilities)


def test_precision_option_of_tag_and_eval_frames(trained, test_game, synth_root, tmp_path):
    trainer, result = trained
    out = tmp_path / "events.json"
    outcome = CliRunner().invoke(highlight, ["tag", str(test_game / "1_180p.mkv"), "--weights", str(result.checkpoint),
                                             "--precision", "bf16", "-o", str(out), "-q"])
    assert outcome.exit_code == 0, outcome.output
    assert json.loads(out.read_text())["events"]
    reports = {}
    for precision in ("fp32", "bf16"):
        outcome = CliRunner().invoke(highlight, ["eval-frames", str(result.checkpoint), str(synth_root), "--split",
                                                 "test", "--cache-dir", trainer.config.cache_dir, "--precision",
                                                 precision, "--json"])
        assert outcome.exit_code == 0, outcome.output
        reports[precision] = json.loads(outcome.output)
    assert reports["fp32"]["accuracy"] == pytest.approx(result.test.accuracy)  # training evaluates in fp32 on CPU
    assert reports["bf16"]["accuracy"] == pytest.approx(reports["fp32"]["accuracy"], abs=0.02)
    bad = CliRunner().invoke(highlight, ["tag", str(test_game), "--precision", "int4"])
    assert bad.exit_code == 2 and "int4" in bad.output
