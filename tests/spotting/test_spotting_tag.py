"""The temporal spotting head end to end: `highlight train` fits it after the tiny image model on the synthetic
games, the checkpoint keeps it, and `highlight tag` (and the API) place events with it; a checkpoint without one,
or ``--spotting smoother``, smooths exactly as before."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from cli import highlight
from tests.support import AUDIO, SMOOTHER, VIDEO


def tag_events(*args) -> list[dict]:
    outcome = CliRunner().invoke(highlight, ["tag", *map(str, args), "-q"])
    assert outcome.exit_code == 0, outcome.output
    return outcome.output


def scored(checkpoint: Path, game: Path) -> dict:
    """Each half of ``game`` scored with the checkpoint's classifier: probabilities and embeddings."""
    import torch

    from highlighter.model.classifier import load_checkpoint
    from highlighter.model.inference import FrameScorer
    from highlighter.model.scoring_loop import score_videos
    from highlighter.soccernet.games import half_videos
    from highlighter.video import FrameSampler

    scorer = FrameScorer(load_checkpoint(checkpoint), torch.device("cpu"), "fp32", features=True)
    size = scorer.classifier.spec.image_size
    return score_videos({half: FrameSampler.from_settings(video, VIDEO, size, 64)
                         for half, video in half_videos(game).items()}, scorer)


def events_of(path: Path) -> list[tuple]:
    return [(e["label"], e["time_s"], e["confidence"], e["half"]) for e in json.loads(path.read_text())["events"]]


def test_train_fits_a_head_that_the_checkpoint_keeps_and_tag_uses_identically(headed, test_game, tmp_path):
    """The events `highlight tag` writes from the reloaded checkpoint are those of the head as it was fitted."""
    from highlighter.spotting.head import HeadSequence, read_spotting_head

    trainer, result = headed
    fitted = trainer.spotting_head
    assert fitted is not None and read_spotting_head(result.checkpoint).to_checkpoint()[1] == fitted.to_checkpoint()[1]
    out = tmp_path / "game.events.json"
    tag_events(test_game, "-o", out, "--weights", result.checkpoint)
    expected = [(e.label, round(e.time_s, 3), round(e.confidence, 4), e.half)
                for half, c in scored(result.checkpoint, test_game).items()
                for e in fitted.events(HeadSequence(c.times, c.features, c.probabilities), half)]
    ours = [(label, round(t, 3), round(c, 4), half) for label, t, c, half in events_of(out)]
    assert sorted(ours, key=lambda e: (e[3], e[1])) == sorted(expected, key=lambda e: (e[3], e[1])) and ours


def test_the_head_places_the_events_of_a_held_out_synthetic_game(headed, test_game):
    """On the held-out game, the head's strongest peak near each annotated event lies within one sample (1 s)."""
    from highlighter.labels import load_label_map
    from highlighter.soccernet.files import LABELS_FILE, read_labels
    from highlighter.spotting.head import HeadSequence

    trainer, result = headed
    spots = read_labels(test_game / LABELS_FILE)
    label_map = load_label_map("highlight")
    errors = []
    for half, c in scored(result.checkpoint, test_game).items():
        events = trainer.spotting_head.events(HeadSequence(c.times, c.features, c.probabilities), half)
        for time_s, cls in label_map.half_events(spots, half, trainer.spotting_head.classes):
            near = [e for e in events if e.label == cls and abs(e.time_s - time_s) <= 10]
            errors.append(abs(max(near, key=lambda e: e.confidence).time_s - time_s) if near else np.inf)
    assert np.median(errors) <= 1.0, errors


def test_a_checkpoint_without_a_head_and_spotting_smoother_smooth_as_before(trained, headed, test_game, tmp_path):
    from highlighter.config.settings import shipped_settings
    from highlighter.spotting.smoother import find_events

    smoother = shipped_settings().smoother
    for (_, result), options in ((trained, ()), (headed, ("--spotting", "smoother"))):
        out = tmp_path / f"{len(options)}.events.json"
        tag_events(test_game, "-o", out, "--weights", result.checkpoint, *options)
        expected = [(e.label, round(e.time_s, 3), round(e.confidence, 4), e.half)
                    for half, c in scored(result.checkpoint, test_game).items()
                    for e in find_events(c.times, c.probabilities, c.classes, smoother, half)]
        ours = [(label, round(t, 3), round(c, 4), half) for label, t, c, half in events_of(out)]
        assert sorted(ours, key=lambda e: (e[3], e[1])) == sorted(expected, key=lambda e: (e[3], e[1]))


def test_spotting_head_without_a_head_or_at_another_rate_is_one_line(trained, headed, test_game, tmp_path):
    cases = ((trained, ("--spotting", "head"), "has no spotting head"),
             (headed, ("--spotting", "head", "--fps", "2"), "reads 1 frames per second, not 2"),
             (headed, ("--audio", "on"), "add --spotting smoother"))
    for (_, result), options, message in cases:
        outcome = CliRunner().invoke(highlight, ["tag", str(test_game), "-o", str(tmp_path / "x.json"), "--weights",
                                                 str(result.checkpoint), *options, "-q"])
        assert outcome.exit_code != 0 and message in outcome.output and "Traceback" not in outcome.output, \
            outcome.output


def test_tune_smoother_tunes_the_heads_threshold_and_nms_and_tag_uses_them(headed, synth_root, tmp_path):
    """Score files of a head's tagging carry its output; tune-smoother ranks its peak threshold and NMS window on
    them and writes the best into the config's tag block, which tag then picks peaks with."""
    import yaml

    trainer, result = headed
    games = [synth_root / g for g in trainer.data_summary["val"]["game_list"]]
    scores = tmp_path / "scores"
    scores.mkdir()
    tag_events(*games, "-o", scores, "--weights", result.checkpoint, "--scores", "x.npz")
    outcome = CliRunner().invoke(highlight, ["tune-smoother", str(scores), str(synth_root), "--write",
                                             str(tmp_path / "tuned.yaml")])
    assert outcome.exit_code == 0 and "spotting head peak picking" in outcome.output, outcome.output
    tuned = yaml.safe_load((tmp_path / "tuned.yaml").read_text())["tag"]
    assert tuned["head_min_peak"] in (0.02, 0.05, 0.1, 0.2, 0.3) and tuned["head_nms_s"] in (4.0, 6.0, 10.0, 20.0)
    strict = tmp_path / "strict.events.json"
    tag_events(games[0], "-o", strict, "--weights", result.checkpoint, "--head-min-peak", "0.99")
    assert all(c >= 0.99 for _, _, c, _ in events_of(strict))


def test_training_with_the_head_is_deterministic_for_a_seed(synth_root, tmp_path):
    """Two runs with one seed on the CPU write the same weights, the head's block included, byte for byte."""
    from highlighter.training.trainer import Trainer
    from tests.support import config

    runs = [Trainer(config(synth_root, tmp_path / name, epochs=1, spotting_head=True), VIDEO, AUDIO, SMOOTHER).run()
            for name in ("first", "second")]
    first, second = ((r.checkpoint / "model.safetensors").read_bytes() for r in runs)
    assert first == second
    meta = [json.loads((r.checkpoint / "highlighter.json").read_text())["extra"]["spotting_head"] for r in runs]
    assert meta[0] == meta[1]
