"""Data-parallel training under ``torchrun`` (two CPU ranks, gloo) gives the weights of one process with the
same global batch, whatever the image count, also when it resumes a run that one process began."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from highlighter.model.classifier import load_checkpoint
from highlighter.training.trainer import Trainer
from tests.support import AUDIO, ROOT, SMOOTHER, TINY, VIDEO, config

pytestmark = pytest.mark.slow


EPOCHS = 2


def torchrun(synth_root: Path, out: Path, cache: Path, split_file: Path, batch_size: int, *extra: str) -> None:
    """`highlight train` on two CPU ranks with the tiny model and the settings of ``config``."""
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               str(ROOT / "cli.py"), "train", "--data", str(synth_root), "-o", str(out), "--model", TINY["model"],
               "--pretrained", "none", "--mode", TINY["mode"], "--lr", str(TINY["lr"]), "--frame-fps",
               str(TINY["frame_fps"]), "--wise-alpha", str(TINY["wise_alpha"]), "--balance", "none", "--epochs",
               str(EPOCHS), "--batch-size", str(batch_size), "--split-file", str(split_file), "--cache-dir",
               str(cache), "--device", "cpu", "--no-spotting-head", "-q", *extra]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    outcome = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=900)
    assert outcome.returncode == 0, outcome.stderr[-3000:]


def weights(folder: Path) -> dict[str, torch.Tensor]:
    """The checkpoint's weights, less the attention key biases: a key bias adds the same to every logit of a
    query, which softmax ignores, so its true gradient is zero and what it holds is rounding noise that Adam
    scales up to the learning rate at every step (two ranks and one process differ there by up to about 2e-4
    after four steps of lr 2e-3, where every other weight agrees within 1e-5)."""
    state = load_checkpoint(folder).state_dict()
    for name in [name for name in state if name.endswith("attn.in_proj_bias")]:  # query, key, value biases
        query, _, value = state[name].chunk(3)
        state[name] = torch.cat([query, value])
    return state


def assert_close(ours: dict[str, torch.Tensor], theirs: dict[str, torch.Tensor]) -> None:
    assert ours.keys() == theirs.keys()
    for name in ours:
        torch.testing.assert_close(ours[name], theirs[name], rtol=1e-4, atol=1e-4, msg=lambda text: f"{name}: {text}")


def test_two_ranks_train_the_weights_of_one_process_and_resume_its_run(synth_root, tmp_path):
    """Two ranks with batch B/2 each against one process with batch B: each optimizer step sees the same B
    images in both runs (the ranks share each global batch of the one seeded shuffle), and the ranks' summed
    losses over the step's image count give the gradient of the whole batch's mean. Where the image count N is
    odd, B is N - 1: the last global batch holds one image, so one rank's share of it is empty and that rank
    steps on a blank image counting for nothing (DistributedSampler would instead have padded the epoch with a
    repeated image). Augmentation (a random flip) is drawn per image from (seed, epoch, image), so both runs flip
    the same images. Only float summation order differs, hence a tolerance: the weights agree within 1e-5 (the
    attention key biases aside, see :func:`weights`).

    Then --resume under torchrun: one process stops after epoch 1 (its resume state on disk), two ranks
    train the last epoch, and the weights again equal the uninterrupted single process's."""
    games = sorted(str(p.parent.relative_to(synth_root)) for p in synth_root.rglob("Labels-v2.json"))
    split = {"train": games[:3], "val": [], "test": []}
    split_file = tmp_path / "split.json"
    split_file.write_text(json.dumps(split))
    cache = tmp_path / "cache"
    whole = config(synth_root, tmp_path / "whole", epochs=EPOCHS, balance="none", batch_size=100_000,
                   split_games=split, cache_dir=str(cache), device="cpu")
    trainer = Trainer(whole, VIDEO, AUDIO, SMOOTHER)
    straight = trainer.run()
    images = sum(trainer.data_summary["train"]["images"].values())
    assert images > 100
    losses = [row["train_loss"] for row in straight.history]
    assert losses[-1] < losses[0]

    batch = images // 2 * 2  # N, or N - 1 where N is odd
    single = replace(whole, out=str(tmp_path / "one"), batch_size=batch)
    reference = straight if batch == images else Trainer(single, VIDEO, AUDIO, SMOOTHER).run()
    torchrun(synth_root, tmp_path / "ddp", cache, split_file, batch // 2)
    assert_close(weights(tmp_path / "ddp"), weights(reference.checkpoint))

    class Interrupt(Exception):
        pass

    def stop_in_epoch_two(row, report):
        if row["epoch"] == 2:
            raise Interrupt

    resumed = tmp_path / "resumed"
    with pytest.raises(Interrupt):
        Trainer(replace(single, out=str(resumed)), VIDEO, AUDIO, SMOOTHER, on_epoch=stop_in_epoch_two).run()
    assert resumed.with_name("resumed.resume.pt").exists()
    torchrun(synth_root, resumed, cache, split_file, batch // 2, "--resume")
    assert not resumed.with_name("resumed.resume.pt").exists()
    assert [row["epoch"] for row in json.loads((resumed / "metrics.json").read_text())["history"]] == [1, 2]
    assert_close(weights(resumed), weights(reference.checkpoint))
