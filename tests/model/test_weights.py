"""Checkpoints by name: ``--weights hf-hub:ORG/NAME`` loads from the Hugging Face cache, offline."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from highlighter.errors import HighlighterError
from highlighter.model.checkpoint import resolve_checkpoint
from tests.support import ROOT

REVISION = "0123456789abcdef0123456789abcdef01234567"


def hub_cache(root: Path, repo: str, checkpoint: Path) -> Path:
    """A Hugging Face hub cache holding ``checkpoint`` as ``repo`` at ``main``, laid out as
    huggingface_hub writes it after a download (blobs, refs/main, snapshots/<revision>/)."""
    repo_folder = root / f"models--{repo.replace('/', '--')}"
    snapshot = repo_folder / "snapshots" / REVISION
    snapshot.mkdir(parents=True)
    for file in checkpoint.iterdir():
        shutil.copy(file, snapshot / file.name)
    (repo_folder / "refs").mkdir()
    (repo_folder / "refs" / "main").write_text(REVISION)
    return root


def test_hub_name_tags_like_the_local_folder(trained, synth_root, tmp_path):
    _, result = trained
    cache = hub_cache(tmp_path / "hub", "highlighter/tiny-demo", result.checkpoint)
    video = next(synth_root.rglob("1_*.mkv"))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(cache)}
    outputs = {}
    for name, weights in (("hub", "hf-hub:highlighter/tiny-demo"), ("local", str(result.checkpoint))):
        out = tmp_path / f"{name}.json"
        done = subprocess.run([sys.executable, "-m", "cli", "tag", str(video), "--weights", weights, "-o", str(out),
                               "-q"], env=env, capture_output=True, text=True, cwd=ROOT)
        assert done.returncode == 0, done.stderr
        outputs[name] = json.loads(out.read_text())
    assert outputs["hub"]["events"] == outputs["local"]["events"] and outputs["hub"]["events"]
    assert outputs["hub"]["model"]["checkpoint"] == "hf-hub:highlighter/tiny-demo"
    assert outputs["hub"]["model"]["sha256"] == outputs["local"]["model"]["sha256"]
    missing = subprocess.run([sys.executable, "-m", "cli", "tag", str(video), "--weights", "hf-hub:nobody/nothing",
                              "-q"], env=env, capture_output=True, text=True, cwd=ROOT)
    assert missing.returncode == 1 and missing.stderr.startswith("Error: hf-hub:nobody/nothing: cannot fetch")
    assert len(missing.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("name", ["hf-hub:", "hf-hub:just-a-name", "hf-hub:a/b/c"])
def test_malformed_hub_names_are_one_line(name):
    with pytest.raises(HighlighterError, match="hf-hub:ORG/NAME"):
        resolve_checkpoint(name)


def test_local_paths_pass_through(tmp_path):
    assert resolve_checkpoint(tmp_path) == tmp_path
