"""The crowd cue: loudness of ffmpeg-made tones, per-half normalisation, clean fallbacks for videos without
usable audio, the real broadcast clip, and the synthetic crowd track."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import av
import numpy as np
import pytest

from highlighter.audio.features import AudioCue, context_features, normalise, read_cue
from highlighter.audio.loudness import loudness_per_second
from highlighter.config.settings import shipped_settings
from highlighter.synth.audio import crowd_track, load_crowd_stats
from tests.support import SHARED_DATA, needs_shared

AUDIO = shipped_settings().audio
VIDEO_IN = ["-f", "lavfi", "-i", "testsrc=size=160x120:rate=25:duration=6"]
CLIP = "broadcast-clip-360p.mp4"


def with_audio(ffmpeg, name: str, expression: str, codec: str = "aac") -> Path:
    """A 6 s test-pattern video whose stereo audio is ``expression`` of t (both channels)."""
    folder = ffmpeg(*VIDEO_IN, "-f", "lavfi", "-i", f"aevalsrc={expression}|{expression}:s=44100:d=6",
                    "-c:v", "libx264", "-preset", "ultrafast", "-c:a", codec, "-b:a", "192k", name)
    return folder / name


@pytest.mark.parametrize("level_db,codec,name", [(-12.0, "aac", "tone12.mkv"), (-35.0, "aac", "tone35.mp4"),
                                                 (-20.0, "pcm_s16le", "tone20.mkv")])
def test_tone_loudness_within_half_a_db(ffmpeg, level_db, codec, name):
    amplitude = np.sqrt(2) * 10 ** (level_db / 20)  # a sine's RMS is its amplitude over sqrt(2)
    cue = read_cue(with_audio(ffmpeg, name, f"{amplitude}*sin(2*PI*440*t)", codec), AUDIO)
    assert cue is not None and len(cue.levels) >= 6
    assert np.abs(cue.levels[:6] - level_db).max() < 0.5


def test_normalisation_per_half_makes_loud_and_quiet_stadiums_alike():
    rng = np.random.default_rng(0)
    crowd = rng.normal(0, 1.5, 300)
    crowd[100:110] += 15  # a roar
    quiet, loud = AudioCue(crowd - 45), AudioCue(crowd - 15)
    times = np.arange(300) + 0.5
    np.testing.assert_allclose(quiet.features_at(times, AUDIO), loud.features_at(times, AUDIO), atol=1e-4)
    z = normalise(crowd - 45)
    assert abs(np.median(z)) < 1e-9 and z[100:110].min() > 5


def test_context_features_rise_and_peak_after():
    levels = np.zeros(40)
    levels[20:23] = 6.0
    features = context_features(levels, np.array([10.0, 15.5, 20.2, 39.0]), rise_s=5, peak_after_s=10)
    np.testing.assert_allclose(features[:, 0], [0, 0, 6, 0])  # the level of the second holding the time
    np.testing.assert_allclose(features[:, 1], [0, 0, 6, 0])  # rise over the 5 s before
    np.testing.assert_allclose(features[:, 2], [6, 6, 6, 0])  # loudest second in [t, t + 10]


def test_no_audio_silent_and_corrupt_tracks_fall_back_with_a_note(ffmpeg, clip, caplog):
    silent = with_audio(ffmpeg, "silent.mkv", "0")
    noisy = with_audio(ffmpeg, "noisy.mkv", "0.2*sin(2*PI*300*t)")
    corrupt = noisy.with_name("corrupt.mkv")
    with av.open(str(noisy)) as container:
        packets = [bytes(p) for p in container.demux(container.streams.audio[0]) if p.size > 8]
    data, rng = bytearray(noisy.read_bytes()), np.random.default_rng(0)
    for payload in packets:  # every audio packet's bytes replaced by noise; the video untouched
        at = data.find(payload)
        data[at:at + len(payload)] = rng.integers(0, 256, len(payload), dtype=np.uint8).tobytes()
    corrupt.write_bytes(bytes(data))
    assert read_cue(noisy, AUDIO) is not None
    for video, note in [(clip("mute.mp4", seconds=3, **{"width": 160, "height": 120}), "no audio stream"),
                        (silent, "silent"), (corrupt, "does not decode")]:
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            assert read_cue(video, AUDIO) is None
        assert [r.getMessage().count("\n") for r in caplog.records] == [0]
        assert note in caplog.text and "frame scores only" in caplog.text


@needs_shared(CLIP)
def test_the_real_broadcast_clip_gives_features():
    cue = read_cue(SHARED_DATA / CLIP, AUDIO)
    assert cue is not None and len(cue.levels) == 23  # 22.0 s of AAC: 22 whole seconds and a part
    assert -60 < np.median(cue.levels) < -5
    features = cue.features_at(np.arange(22.0), AUDIO)
    assert features.shape == (22, 3) and np.isfinite(features).all()


def test_synthetic_crowd_roars_after_goals(synth_root):
    """The seconds after a goal of the synthetic games are louder than the usual second."""
    at_goals, everywhere = [], []
    for labels in sorted(synth_root.rglob("Labels-v2.json")):
        annotations = json.loads(labels.read_text())["annotations"]
        for half in (1, 2):
            cue = read_cue(next(labels.parent.glob(f"{half}_*.mkv")), AUDIO)
            times = np.array([int(a["position"]) / 1000 for a in annotations
                              if a["label"] == "Goal" and a["gameTime"].startswith(str(half))])
            at_goals += list(cue.features_at(times, AUDIO)[:, 2])
            everywhere += list(cue.features_at(np.arange(len(cue.levels) - 1.0), AUDIO)[:, 2])
    assert np.mean(at_goals) > np.mean(everywhere) + 0.25


def test_synthetic_crowd_roars_without_any_event():
    """Near misses and chants: a half with no labelled event still has roars."""
    stats = load_crowd_stats()
    rate = stats["sample_rate"]
    track = crowd_track(np.random.default_rng(1), [], 600.0, 10.0, stats, stadium_db=-30.0)
    levels = loudness_per_second([(0.0, track)], rate)
    assert abs(np.median(levels) - (-30.0)) < 3
    assert ((levels[1:] > -30 + 6) & (levels[:-1] <= -30 + 6)).sum() >= 3


def test_each_class_keeps_the_penalty_its_val_score_chooses():
    """The val score picks a penalty per class: goal the smallest (its fitted row is kept), card the frame
    model (its row stays zero), substitution without val ground truth the frame model too."""
    from highlighter.audio.fusion import FusionHalf, fit_fusion

    rng = np.random.default_rng(3)
    classes = ["background", "goal", "card", "substitution"]
    halves = []
    for half in (1, 2):
        times = np.arange(300.0)
        levels = rng.normal(-30, 1, 300)
        targets = np.zeros((300, 4), np.float32)
        for start in (60, 200):
            levels[start:start + 8] += 12  # a roar where the goal is
            targets[start - 2:start + 6, 1] = 1
        targets[120:128, 2] = 1
        targets[250:258, 3] = 1
        probabilities = rng.dirichlet(np.ones(4), 300)
        halves.append(FusionHalf(times, probabilities, AudioCue(levels), targets, "game", half))

    def score(candidate) -> dict[str, float]:  # goal likes big weights, card likes none
        size = float(np.abs(candidate.weight[1]).sum())
        return {"goal": size, "card": -float(np.abs(candidate.weight[2]).sum())}

    fusion = fit_fusion(classes, halves, AUDIO, score)
    assert fusion.info["l2"] == {"goal": min(AUDIO.l2), "card": None, "substitution": None}
    assert np.abs(fusion.weight[1]).sum() > 0 and not fusion.weight[2].any() and not fusion.weight[3].any()
    fused = fusion.apply(halves[0].probabilities, halves[0].times, halves[0].cue)
    assert np.allclose(fused[:, 2:], halves[0].probabilities[:, 2:], atol=1e-5)  # frame scores kept
    assert fused[60:68, 1].mean() > halves[0].probabilities[60:68, 1].mean()  # the roar raises the goal


@pytest.fixture(scope="module")
def fused(synth_root, tmp_path_factory):
    """(trainer, result) of a short run of the tiny model that also fits the audio fusion."""
    from highlighter.training.trainer import Trainer
    from tests.support import AUDIO, SMOOTHER, VIDEO, config

    trainer = Trainer(config(synth_root, tmp_path_factory.mktemp("fused"), epochs=4, fusion=True), VIDEO, AUDIO, SMOOTHER)
    return trainer, trainer.run()


def test_a_checkpoint_trained_with_audio_reloads_and_tags_identically(fused, synth_root, tmp_path, clip, caplog):
    import shutil

    import highlighter as hl
    from highlighter.api import configured
    from highlighter.audio.fusion import FORMAT, load_fusion
    from highlighter.errors import HighlighterError
    from highlighter.outputs.plot import write_plot
    from highlighter.outputs.scores import read_scores, write_scores
    from highlighter.model.classifier import read_spec

    trainer, result = fused
    block = read_spec(result.checkpoint).extra["fusion"]
    assert block["format"] == FORMAT and block["train_halves"] > 0
    assert set(block["l2"]) == {"goal", "card", "substitution"} and set(block["l2"].values()) <= {*AUDIO.l2, None}
    assert set(block["val_average_map"]) == {"inf", *map(str, AUDIO.l2)}  # the frame model is a candidate
    copy = shutil.copytree(result.checkpoint, tmp_path / "copy")
    game = synth_root / trainer.data_summary["test"]["game_list"][0]
    first = hl.tag(game, result.checkpoint, precision="fp32", device="cpu")
    again = hl.tag(game, copy, precision="fp32", device="cpu")
    assert first.document()["audio"] == {"used": True}
    for (_, a), (_, b) in zip(first.curves, again.curves):
        np.testing.assert_array_equal(a.probabilities, b.probabilities)
        assert a.fused and a.loudness is not None and np.isfinite(a.loudness).all()
    assert first.document()["events"] == again.document()["events"]
    frames_only = hl.tag(game, copy, precision="fp32", device="cpu", audio="off")
    assert frames_only.document()["audio"] == {"used": False}
    fusion = load_fusion(configured(("tag",), None, {"weights": str(copy)})["tag"])
    for (half, frames), (_, fused) in zip(frames_only.curves, first.curves):  # the fusion applied to the frame scores
        cue = read_cue(next(game.glob(f"{half}_*.mkv")), fusion.audio)
        np.testing.assert_allclose(fusion.apply(frames.probabilities, frames.times, cue), fused.probabilities, atol=1e-6)
    saved = np.load(write_scores(first.curves, first.source, tmp_path / "s.npz"))
    assert len(saved["loudness_db"]) == len(saved["times"])
    assert "loudness_db" in first.scores and write_plot(first, tmp_path / "p.png").stat().st_size > 0
    assert read_scores(write_scores(first.curves, first.source, tmp_path / "s.csv")).curves[0][1].classes == first.classes  # loudness: no class

    mute = clip("mute.mp4", seconds=3, width=160, height=120)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        fallback = hl.tag(mute, copy, precision="fp32", device="cpu")
    assert fallback.document()["audio"] == {"used": False} and "no audio stream" in caplog.text
    with pytest.raises(HighlighterError, match="no usable audio"):
        hl.tag(mute, copy, precision="fp32", device="cpu", audio="on")
