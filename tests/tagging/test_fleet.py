"""Fleet tagging: the local and Ray engines on synthetic halves with the tiny trained model (Ray in local mode
on 2 CPUs), resumable runs with OUT/manifest.jsonl, inputs from globs and list files, and the error without Ray."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli import highlight
from tests.support import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def halves(trained, synth_root) -> list[Path]:
    """Four one-minute halves: the val and test games of the tiny model."""
    trainer, _ = trained
    games = [synth_root / g for split in ("val", "test") for g in trainer.data_summary[split]["game_list"]]
    return [game / f"{half}_180p.mkv" for game in games for half in (1, 2)]


@pytest.fixture(scope="module")
def ray_local():
    """Ray on this machine with 2 CPUs for the module (the engine joins an initialised Ray)."""
    ray = pytest.importorskip("ray", reason="ray is not installed")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def tag(*args) -> tuple[int, str]:
    outcome = CliRunner().invoke(highlight, ["tag", *map(str, args)])
    return outcome.exit_code, outcome.output


def manifest(folder: Path) -> dict[str, dict]:
    records = [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines()]
    return {r["input"]: r for r in records}


def without_timing(path: Path) -> dict:
    document = json.loads(path.read_text())
    assert document.pop("timing")["frames"] == 60
    return document


def test_ray_engine_writes_what_the_local_engine_writes_and_skips_on_a_second_run(trained, halves, ray_local,
                                                                                  tmp_path):
    """The same events files (apart from timing) and the same score curves bit for bit; a second Ray run
    finds every output in place and records four skips."""
    _, result = trained
    common = ["--weights", result.checkpoint, "--scores", "x.npz", "-q"]
    local, remote = tmp_path / "local", tmp_path / "ray"
    assert tag(*halves, "-o", local, "--engine", "local", *common) == (0, "")
    code, output = tag(*halves, "-o", remote, "--engine", "ray", *common)
    assert code == 0, output
    events = sorted(p.name for p in local.glob("*.events.json"))
    assert len(events) == 4 and events == sorted(p.name for p in remote.glob("*.events.json"))
    assert any(without_timing(local / name)["events"] for name in events)
    for name in events:
        assert without_timing(local / name) == without_timing(remote / name)
        ours, theirs = (np.load(folder / name.replace(".events.json", ".scores.npz")) for folder in (local, remote))
        assert all(np.array_equal(ours[key], theirs[key]) for key in ours.files)
    for folder, engine in ((local, "local"), (remote, "ray")):
        records = manifest(folder).values()
        assert [r["status"] for r in records] == ["done"] * 4 and {r["engine"] for r in records} == {engine}
        assert {r["frames"] for r in records} == {60} and {r["model"]["sha256"] for r in records} == {
            json.loads((local / events[0]).read_text())["model"]["sha256"]}
    stamps = {p: p.stat().st_mtime_ns for p in remote.iterdir() if p.name != "manifest.jsonl"}
    code, output = tag(*halves, "-o", remote, "--engine", "ray", "--weights", result.checkpoint, "--scores", "x.npz")
    assert code == 0 and "skipped 4 of 4 inputs" in output
    records = manifest(remote).values()
    assert [r["status"] for r in records] == ["skipped"] * 4 and {r["frames"] for r in records} == {60}
    assert stamps == {p: p.stat().st_mtime_ns for p in remote.iterdir() if p.name != "manifest.jsonl"}


def test_ray_engine_places_events_with_the_spotting_head_as_the_local_engine_does(headed, synth_root, ray_local,
                                                                                  tmp_path):
    """A checkpoint with a spotting head: the scoring actors return the embeddings with the probabilities and the
    driver runs the head (in NumPy), so both engines write the same events."""
    _, result = headed
    game = next(p.parent for p in sorted(synth_root.rglob("Labels-v2.json")))
    for engine in ("local", "ray"):
        code, output = tag(game, "-o", tmp_path / f"{engine}.events.json", "--engine", engine, "--weights",
                           result.checkpoint, "--spotting", "head", "-q")
        assert code == 0, output
    local, remote = (json.loads((tmp_path / f"{e}.events.json").read_text()) for e in ("local", "ray"))
    for document in (local, remote):
        document.pop("timing")
    assert remote == local and local["events"]


def test_a_corrupt_input_fails_alone_on_ray(trained, halves, ray_local, tmp_path):
    _, result = trained
    corrupt = tmp_path / "corrupt.mkv"
    corrupt.write_bytes(b"\x1aE\xdf\xa3" + b"garbage" * 200)
    out = tmp_path / "out"
    code, output = tag(*halves[:3], corrupt, "-o", out, "--engine", "ray", "--weights", result.checkpoint, "-q")
    assert code == 1 and "1 of 4 inputs failed" in output and "corrupt.mkv" in output
    records = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert sorted(r["status"] for r in records) == ["done", "done", "done", "failed"]
    (failure,) = [r for r in records if r["status"] == "failed"]
    assert failure["input"] == str(corrupt) and "corrupt.mkv" in failure["error"]
    assert len(list(out.glob("*.events.json"))) == 3 and not list(out.glob("corrupt*"))


def test_ray_workers_get_paths_the_driver_gave_relative_to_its_folder(trained, halves, ray_local, tmp_path,
                                                                     monkeypatch):
    """The checkpoint and a video named relative to the driver's working folder, which Ray's workers (started
    elsewhere) do not share: the run succeeds, and the events file records the checkpoint as it was given."""
    import os

    _, result = trained
    os.symlink(result.checkpoint, tmp_path / "model")
    os.link(halves[0], tmp_path / "half.mkv")
    (tmp_path / "out").mkdir()
    monkeypatch.chdir(tmp_path)
    code, output = tag("half.mkv", "-o", "out", "--engine", "ray", "--weights", "model", "-q")
    assert code == 0, output
    assert json.loads((tmp_path / "out" / "half.events.json").read_text())["model"]["checkpoint"] == "model"


def test_local_runs_resume_and_overwrite_and_read_globs_and_list_files(trained, halves, tmp_path):
    """A glob pattern and a list file give the inputs; a rerun skips the complete ones, and redoes one whose
    outputs are incomplete (here: a plot asked for now); --overwrite redoes all."""
    _, result = trained
    listed = tmp_path / "inputs.txt"
    listed.write_text(f"# the second game\n{halves[2]}\n\n{halves[3]}\n")
    pattern = str(halves[0].parent / "*_180p.mkv")
    out = tmp_path / "out"
    common = ["--weights", result.checkpoint, "-o", out]
    assert tag(pattern, "--inputs", listed, *common, "-q") == (0, "")
    assert sorted(r["status"] for r in manifest(out).values()) == ["done"] * 4
    (out / sorted(out.glob("*.events.json"))[0].name).unlink()
    code, output = tag(pattern, "--inputs", listed, *common)
    assert code == 0 and "skipped 3 of 4 inputs" in output
    assert sorted(r["status"] for r in manifest(out).values()) == ["done", "skipped", "skipped", "skipped"]
    assert tag(pattern, "--inputs", listed, *common, "--overwrite", "-q") == (0, "")
    assert sorted(r["status"] for r in manifest(out).values()) == ["done"] * 4
    assert tag(str(tmp_path / "nothing-*.mkv"), *common)[1].count("no file or folder matches") == 1


def test_ray_engine_without_ray_is_one_line_saying_how_to_install_it(trained, halves, tmp_path):
    """A Python in which ``import ray`` fails (a ``None`` in ``sys.modules`` hides the installed package)."""
    _, result = trained
    script = ("import sys; sys.modules['ray'] = None; from cli import highlight; "
              "highlight(sys.argv[1:], prog_name='highlight')")
    outcome = subprocess.run([sys.executable, "-c", script, "tag", str(halves[0]), "-o", str(tmp_path / "out"),
                              "--engine", "ray", "--weights", str(result.checkpoint), "-q"],
                             capture_output=True, text=True, cwd=ROOT)
    assert outcome.returncode == 1
    assert outcome.stderr.strip().splitlines() == [
        "Error: --engine ray needs Ray: pip install 'highlighter[ray]' (or pip install 'ray[data]>=2.40')"]


def test_ray_engine_fuses_the_crowd_audio_as_the_local_engine_does(synth_root, ray_local, tmp_path):
    """A checkpoint with the audio fusion: the Ray engine's driver fuses each input's cue as Tagger.tag
    does, so both engines write the same events and say the audio was used."""
    from highlighter.training.trainer import Trainer
    from tests.support import AUDIO, SMOOTHER, VIDEO, config

    result = Trainer(config(synth_root, tmp_path, epochs=2, fusion=True), VIDEO, AUDIO, SMOOTHER).run()
    game = next(p.parent for p in sorted(synth_root.rglob("Labels-v2.json")))
    common = ("--weights", result.checkpoint, "--audio", "on", "-q")
    for engine in ("local", "ray"):
        code, output = tag(game, "-o", tmp_path / f"{engine}.events.json", "--engine", engine, *common)
        assert code == 0, output
    local, remote = (json.loads((tmp_path / f"{e}.events.json").read_text()) for e in ("local", "ray"))
    for document in (local, remote):
        document.pop("timing")
    assert remote == local and local["audio"] == {"used": True}


class WorkerKiller:
    """Kills, once each, the first Ray worker process seen running a task whose title names each of
    ``targets`` (Ray titles a busy worker ``ray::<task>``), after it has run ``after_s`` seconds."""

    def __init__(self, targets: tuple[str, ...], after_s: float = 0.2) -> None:
        import threading

        self.targets, self.after_s, self.killed = targets, after_s, {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        import time

        import psutil

        seen: dict[int, float] = {}
        while not self.stop.is_set() and len(self.killed) < len(self.targets):
            for process in psutil.process_iter(["pid", "cmdline"]):
                title = " ".join(process.info["cmdline"] or [])
                target = next((t for t in self.targets if t in title and t not in self.killed), None)
                if target is None or not title.startswith("ray::"):
                    continue
                first = seen.setdefault(process.pid, time.monotonic())
                if time.monotonic() - first >= self.after_s:
                    process.kill()
                    self.killed[target] = title
            time.sleep(0.01)

    def __enter__(self) -> "WorkerKiller":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()


def test_ray_workers_killed_mid_input_are_retried_and_the_run_completes(trained, halves, ray_local, tmp_path):
    """SIGKILL a decoding task's worker and a scoring actor's while they work: Ray runs the task again and
    restarts the actor, the driver keeps each frame once, and every input ends done with the events the
    local engine writes."""
    _, result = trained
    common = ["--weights", result.checkpoint, "-q"]
    local, remote = tmp_path / "local", tmp_path / "ray"
    assert tag(*halves, "-o", local, "--engine", "local", *common) == (0, "")
    with WorkerKiller(("decode_video", "ScoreBatches")) as killer:
        code, output = tag(*halves, "-o", remote, "--engine", "ray", "--workers", "1", *common)
    assert set(killer.killed) == {"decode_video", "ScoreBatches"}, killer.killed
    assert code == 0, output
    assert [r["status"] for r in manifest(remote).values()] == ["done"] * 4
    for path in sorted(local.glob("*.events.json")):
        assert without_timing(path) == without_timing(remote / path.name)


def test_ray_reservations_that_fit_two_cores_give_the_same_events(trained, halves, ray_local, tmp_path):
    """A half-CPU actor beside decoding tasks of 0.75 CPU (two videos decode at once on 2 cores, the
    benchmark's fastest setting here) writes the local engine's events; reservations that leave no room for
    one decoding task are a one-line error naming the options."""
    _, result = trained
    local, remote = tmp_path / "local", tmp_path / "ray"
    assert tag(*halves[:2], "-o", local, "--weights", result.checkpoint, "-q") == (0, "")
    code, output = tag(*halves[:2], "-o", remote, "--engine", "ray", "--weights", result.checkpoint, "-q",
                       "--workers", "1", "--worker-cpus", "0.5", "--decode-cpus", "0.75")
    assert code == 0, output
    for events in local.glob("*.events.json"):
        assert without_timing(events) == without_timing(remote / events.name)
    code, output = tag(*halves[:1], "-o", tmp_path / "none", "--engine", "ray", "--weights", result.checkpoint,
                       "-q", "--workers", "1", "--worker-cpus", "1.5", "--decode-cpus", "1")
    assert code == 1 and "--decode-cpus" in output and len(output.strip().splitlines()) == 1
