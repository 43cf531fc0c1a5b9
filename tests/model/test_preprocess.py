"""One preprocessing path (issue 20): a frame that training learns from and the same frame that tagging scores
reach the model as the same tensor, on the synthetic games and on the real broadcast clip."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import torch

from highlighter.data.dataset import FrameDataset
from highlighter.data.soccernet_v2 import frame_settings, read_v2_game
from highlighter.labels import load_label_map
from highlighter.model.classifier import load_checkpoint
from highlighter.model.inference import FrameScorer
from highlighter.model.preprocess import Preprocess
from highlighter.soccernet.files import LABELS_FILE
from highlighter.video import FrameSampler
from tests.support import SHARED_DATA, VIDEO, needs_shared


def tagging_inputs(checkpoint: Path, video: Path) -> dict[float, torch.Tensor]:
    """What the classifier receives from `highlight tag`'s scorer for each sample time of ``video``."""
    classifier = load_checkpoint(checkpoint)
    captured: list[torch.Tensor] = []
    classifier.register_forward_pre_hook(lambda module, args: captured.append(args[0].clone()))
    scorer = FrameScorer(classifier, torch.device("cpu"), "fp32")
    sampler = FrameSampler.from_settings(video, VIDEO, classifier.spec.image_size, 16)
    times = np.concatenate([batch.times for batch in sampler])
    list(scorer.score((None, batch.images) for batch in sampler))
    return dict(zip(np.round(times, 3), torch.cat(captured)))


def training_inputs(checkpoint: Path, game: Path, cache: Path) -> dict[float, torch.Tensor]:
    """What training feeds the classifier for each frame it draws from ``game``'s first half (no flips: the
    val/test transform), through the frame cache and the training dataset."""
    spec = load_checkpoint(checkpoint).spec
    training = {**spec.extra["training"], "frame_fps": VIDEO.fps}
    settings = frame_settings(training, VIDEO, spec.image_size)
    label_map = load_label_map("highlight")
    records = [r for r in read_v2_game(game, game.name, label_map, settings, cache) if r.half == 1]
    dataset = FrameDataset(records, label_map, list(spec.classes), Preprocess.of(spec).transform(train=False))
    return {round(record.time_s, 3): dataset[number][0] for number, record in enumerate(records)}


def assert_same_inputs(training: dict, tagging: dict) -> None:
    shared = sorted(set(training) & set(tagging))
    assert len(shared) >= 5, (sorted(training)[:10], sorted(tagging)[:10])
    for time_s in shared:
        assert training[time_s].shape == tagging[time_s].shape
        torch.testing.assert_close(training[time_s], tagging[time_s], rtol=0, atol=1e-6, msg=f"frame at {time_s} s")


def test_training_and_tagging_give_the_model_the_same_tensor_on_a_synthetic_game(trained, test_game, tmp_path):
    _, result = trained
    training = training_inputs(result.checkpoint, test_game, tmp_path / "cache")
    assert_same_inputs(training, tagging_inputs(result.checkpoint, sorted(test_game.glob("1_*.mkv"))[0]))


@needs_shared("broadcast-clip-360p.mp4")
def test_training_and_tagging_give_the_model_the_same_tensor_on_the_broadcast_clip(trained, tmp_path):
    _, result = trained
    game = tmp_path / "league" / "season" / "broadcast"
    game.mkdir(parents=True)
    os.symlink(SHARED_DATA / "broadcast-clip-360p.mp4", game / "1_360p.mp4")
    (game / LABELS_FILE).write_text(json.dumps({"annotations": [
        {"gameTime": "1 - 00:10", "label": "Goal", "position": "10000", "team": "home", "visibility": "visible"}]}))
    training = training_inputs(result.checkpoint, game, tmp_path / "cache")
    assert_same_inputs(training, tagging_inputs(result.checkpoint, game / "1_360p.mp4"))


def test_an_image_off_the_model_size_is_framed_as_the_decoder_frames_a_picture(trained):
    """A training image that is not at the model's size (a SoccerNet-v3 frame) is scaled by swscale and
    centre-cropped, as the decoder frames a picture: a 16:9 image's centre square survives, its sides go."""
    _, result = trained
    preprocess = Preprocess.of(load_checkpoint(result.checkpoint).spec)
    image = np.zeros((224, 398, 3), np.uint8)
    image[:, 199 - 112:199 + 112] = 200  # the centre square bright, the sides dark
    framed = preprocess.image(image)
    assert framed.shape == (preprocess.size, preprocess.size, 3)
    assert framed[:, 2:-2].min() >= 190  # nothing of the dark sides inside the crop (bicubic ringing aside)
