"""int8 scoring (issue 23): the checkpoint's int8 model gives fp32's events, is built once per checkpoint and
cached (rebuilt when the weights change or the cached file is damaged), runs without PyTorch, and ``auto`` takes
it only on CPUs without bf16 for large towers."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import highlighter
from highlighter.errors import HighlighterError
from highlighter.model.int8 import cache, choice
from highlighter.config.settings import shipped_settings
from highlighter.model.checkpoint import WEIGHTS_FILE, checkpoint_info, read_spec
from tests.support import ROOT

FPS = shipped_settings().video.fps


@pytest.fixture(scope="session")
def int8_cache(tmp_path_factory) -> Path:
    """One cache folder for the session's int8 models (each is built once: about half a minute on 2 cores)."""
    pytest.importorskip("onnxruntime")  # the int8 extra (installed by scripts/install.sh --test)
    return tmp_path_factory.mktemp("int8-cache")


@pytest.fixture
def cached(int8_cache, monkeypatch) -> Path:
    monkeypatch.setenv(cache.CACHE_VARIABLE, str(int8_cache))
    return int8_cache / "int8"


def assert_same_events(ours, theirs, fps: float) -> None:
    """The same labels in the same halves, each time within one sample, each confidence within 0.03."""
    assert theirs.events and [(e.half, e.label) for e in ours.events] == [(e.half, e.label) for e in theirs.events]
    for mine, reference in zip(ours.events, theirs.events):
        assert abs(mine.time_s - reference.time_s) <= 1 / fps + 1e-6, (mine, reference)
        assert mine.confidence == pytest.approx(reference.confidence, abs=0.03), (mine, reference)


def test_finding_1_int8_gives_the_events_of_fp32(trained, test_game, cached):
    _, result = trained
    fp32, int8 = (highlighter.tag(test_game, weights=result.checkpoint, device="cpu", precision=precision)
                  for precision in ("fp32", "int8"))
    assert_same_events(int8, fp32, FPS)
    assert len(list(cached.glob("*.onnx"))) == 1


def test_finding_1_int8_gives_the_events_of_fp32_on_avx2_kernels(trained, test_game, int8_cache):
    """Both precisions in a process whose PyTorch runs its AVX2 kernels (ONNX Runtime dispatches on its own)."""
    _, result = trained
    script = ("import json, sys, highlighter\n"
              "for precision in ('fp32', 'int8'):\n"
              "    tagged = highlighter.tag(sys.argv[1], weights=sys.argv[2], device='cpu', precision=precision)\n"
              "    print(json.dumps([[e.half, e.label, e.time_s, e.confidence] for e in tagged.events]))\n")
    env = {**os.environ, "ATEN_CPU_CAPABILITY": "avx2", cache.CACHE_VARIABLE: str(int8_cache)}
    run = subprocess.run([sys.executable, "-c", script, str(test_game), str(result.checkpoint)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr
    fp32, int8 = (json.loads(line) for line in run.stdout.splitlines()[-2:])
    assert fp32 and [e[:2] for e in int8] == [e[:2] for e in fp32]
    for (_, _, time_s, confidence), (_, _, reference_s, reference) in zip(int8, fp32):
        assert abs(time_s - reference_s) <= 1 / FPS + 1e-6
        assert confidence == pytest.approx(reference, abs=0.03)


def test_finding_1_int8_model_is_cached_and_rebuilt_when_the_weights_change(trained, cached, tmp_path, caplog):
    _, result = trained
    folder = Path(result.checkpoint)
    sha = checkpoint_info(folder, folder)["sha256"]
    first = cache.int8_model(folder, sha)
    built = first.stat().st_mtime_ns
    caplog.clear()
    assert cache.int8_model(folder, sha) == first and first.stat().st_mtime_ns == built  # reused, not rebuilt
    assert "building" not in caplog.text
    retrained = shutil.copytree(folder, tmp_path / "retrained")
    _change_one_weight(retrained / WEIGHTS_FILE)
    second = cache.int8_model(retrained, checkpoint_info(retrained, retrained)["sha256"])
    assert second != first and second.is_file() and first.is_file()
    assert not [p for p in cached.iterdir() if p.name.startswith(".")]  # no scratch left behind


def test_finding_1_a_damaged_cached_model_is_rebuilt_not_loaded(trained, cached, caplog):
    caplog.set_level(logging.WARNING)  # whatever level an earlier command's --quiet left the root logger at
    _, result = trained
    folder = Path(result.checkpoint)
    sha = checkpoint_info(folder, folder)["sha256"]
    path = cache.int8_model(folder, sha)
    good = cache.file_sha256(path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped bit-pattern in the weights: still a loadable ONNX file
    path.write_bytes(bytes(data))
    caplog.clear()
    assert cache.int8_model(folder, sha) == path
    assert "damaged" in caplog.text
    assert cache.file_sha256(path) == good
    path.write_bytes(b"")  # an empty (interrupted) file
    assert cache.file_sha256(cache.int8_model(folder, sha)) == good


def _change_one_weight(path: Path) -> None:
    from safetensors.numpy import load_file, save_file

    tensors = load_file(str(path))
    name = sorted(tensors)[0]
    tensors[name] = tensors[name] + np.float32(1e-3)
    save_file(tensors, str(path))


def test_finding_2_int8_tagging_loads_neither_pytorch_nor_open_clip(trained, test_game, int8_cache, tmp_path):
    """`highlight tag --precision int8` with the model cached: PyTorch and open_clip never load."""
    _, result = trained
    highlighter.tag(test_game, weights=result.checkpoint, device="cpu", precision="int8")  # cached (if not yet)
    out = tmp_path / "events.json"
    script = ("import sys\nfrom cli import highlight\n"
              "try:\n    highlight.main(sys.argv[1:], standalone_mode=False)\n"
              "finally:\n    print('loaded:', sorted({'torch', 'open_clip', 'torchvision'} & set(sys.modules)))\n")
    env = {**os.environ, cache.CACHE_VARIABLE: str(int8_cache)}
    run = subprocess.run([sys.executable, "-c", script, "tag", str(test_game), "--weights", str(result.checkpoint),
                          "--precision", "int8", "-o", str(out), "-q"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "loaded: []"
    assert json.loads(out.read_text())["events"]


def _spec(trained, layers: int, width: int):
    _, result = trained
    spec = read_spec(result.checkpoint)
    spec.model_config = {**spec.model_config, "vision_cfg": {**spec.model_config["vision_cfg"], "layers": layers,
                                                             "width": width}}
    return spec


def test_finding_1_auto_takes_int8_on_cpus_without_bf16_for_large_towers(trained, monkeypatch):
    small, large = _spec(trained, 2, 64), _spec(trained, 12, 768)  # the tiny test model, ViT-B-32
    assert choice.tower_weights(large) == 12 * 12 * 768 * 768 and not choice.int8_pays(small)
    monkeypatch.setenv("HIGHLIGHTER_CPU_BF16", "0")
    assert choice.scoring_precision("auto", "cpu", large) == "int8"
    assert choice.scoring_precision("auto", "cpu", small) == "auto"  # PyTorch resolves it (fp32 here)
    assert choice.scoring_precision("auto", "cpu", None) == "auto"  # zero-shot: no checkpoint to quantise
    assert choice.scoring_precision("fp32", "cpu", large) == "fp32"  # a forced precision stays forced
    monkeypatch.setenv("HIGHLIGHTER_CPU_BF16", "1")
    assert choice.scoring_precision("auto", "cpu", large) == "auto"  # bf16 where the CPU has it
    assert choice.scoring_precision("int8", "cpu", small) == "int8"  # asked for: on any CPU, any size
    assert choice.scoring_precision("int8", "auto", small) == "int8"
    for precision, device, spec, words in (("int8", "cuda", large, "runs on the CPU"),
                                           ("int8", "cpu", None, "zero-shot")):
        with pytest.raises(HighlighterError, match=words):
            choice.scoring_precision(precision, device, spec)
    real_find_spec = choice.importlib.util.find_spec
    monkeypatch.setattr(choice.importlib.util, "find_spec",
                        lambda name, *a: None if name == "onnxruntime" else real_find_spec(name, *a))
    monkeypatch.setenv("HIGHLIGHTER_CPU_BF16", "0")
    assert choice.scoring_precision("auto", "cpu", large) == "auto"  # without the extra: PyTorch, no error
    with pytest.raises(HighlighterError, match=r"highlighter\[int8\]"):
        choice.scoring_precision("int8", "cpu", large)
