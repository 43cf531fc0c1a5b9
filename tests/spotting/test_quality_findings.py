"""Side findings of the quality work (issue 21), each a behaviour that was wrong before."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from click.testing import CliRunner

from cli import highlight


def test_finding_1_background_frames_do_not_depend_on_the_file_size(synth_root, tmp_path):
    """Re-muxing a half (the same packets, a title added: another file size) draws the same background frames."""
    from highlighter.data.soccernet_v2 import VideoFrameSettings, _cached_half
    from highlighter.soccernet.files import LABELS_FILE, read_labels

    game = next(p.parent for p in sorted(synth_root.rglob(LABELS_FILE)))
    copy = tmp_path / game.name
    copy.mkdir()
    video = copy / "1_180p.mkv"
    shutil.copy(game / video.name, video)
    events = sorted((s.position_ms / 1000, s.label) for s in read_labels(game / LABELS_FILE) if s.half == 1)
    settings = VideoFrameSettings(fps=2.0, size=32, window=(-2.0, 6.0), background_gap_s=5.0,
                                  background_per_event=0.5, decoder="pyav", sampling="exact", stall_timeout_s=60.0,
                                  seed=0)

    def backgrounds(cache: Path) -> list[float]:
        meta = json.loads(_cached_half(video, events, settings, cache, None).with_suffix(".json").read_text())
        return [t for t, label in zip(meta["times"], meta["labels"]) if label == "background"]

    before = backgrounds(tmp_path / "cache1")
    remuxed = copy / "remuxed.mkv"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(video), "-map", "0", "-c", "copy", "-metadata",
                    "title=remuxed", str(remuxed)], check=True)
    size = video.stat().st_size
    remuxed.replace(video)
    assert video.stat().st_size != size
    assert backgrounds(tmp_path / "cache2") == before and before


def test_finding_2_eval_frames_reads_a_checkpoint_from_before_background_per_event(trained, synth_root, tmp_path):
    """A first-round checkpoint (its training block without ``background_per_event``) is evaluated with the
    default it had, and a warning says so; it was a KeyError."""
    _, result = trained
    old = tmp_path / "first-round"
    shutil.copytree(result.checkpoint, old)
    meta = json.loads((old / "highlighter.json").read_text())
    del meta["extra"]["training"]["background_per_event"]
    (old / "highlighter.json").write_text(json.dumps(meta))
    outcome = CliRunner().invoke(highlight, ["eval-frames", str(old), str(synth_root), "--split", "test",
                                             "--cache-dir", str(tmp_path / "cache")])
    assert outcome.exit_code == 0, outcome.output
    assert "predates background_per_event" in outcome.output and "1 games" in outcome.output
