"""Every machine, every way of calling it (issue 19, findings 14-16): the Python API as users write it (a
script without a main guard, ``python -``, ``python -c``, the REPL, a Jupyter kernel), the precision choice on
any CPU, Ctrl-C to the process group, inputs checked before the model loads, no network, a full disk."""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

from highlighter.model import device
from highlighter.errors import HighlighterError
from tests.support import PLAIN, ROOT, child_processes


def python(*args: str, cwd: Path, stdin: str | None = None, env: dict | None = None,
           preexec_fn=None) -> subprocess.CompletedProcess:
    """This interpreter run as a user would run it, from ``cwd`` (highlighter is installed, not on the path)."""
    return subprocess.run([sys.executable, *args], cwd=cwd, input=stdin, capture_output=True, text=True,
                          timeout=900, env={**os.environ, **(env or {})}, preexec_fn=preexec_fn)


def highlight(*args: str, cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    """The `highlight` command in a process of its own."""
    return python("-c", "from cli import main; main()", *args, cwd=cwd, **kwargs)


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


# --- finding 14: the Python API however Python is started --------------------------------------------------------


def readme_api_example() -> str:
    """The first code block of the README's "Python API" section."""
    section = (ROOT / "README.md").read_text().split("\n## Python API\n", 1)[1]
    block = re.search(r"\n\n((?:    .*\n|\n)+)", section).group(1)
    return textwrap.dedent(block)


@pytest.fixture
def match_folder(trained, test_game, tmp_path) -> Path:
    """A folder holding what the README's example names: match.mkv (a half of the test game) and
    weights/highlighter (the trained checkpoint)."""
    _, result = trained
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / "highlighter").symlink_to(result.checkpoint)
    (tmp_path / "match.mkv").symlink_to(test_game / "1_180p.mkv")
    return tmp_path


def test_finding_14_the_readme_api_example_runs_as_a_plain_script_and_through_stdin(match_folder):
    example = readme_api_example()
    assert 'hl.tag("match.mkv"' in example and "__main__" not in example
    (match_folder / "example.py").write_text(example)
    for args, stdin in ((["example.py"], None), (["-"], example)):
        outcome = python(*args, cwd=match_folder, stdin=stdin)
        assert outcome.returncode == 0 and "Traceback" not in outcome.stderr, outcome.stderr[-3000:]
        assert "time_s" in outcome.stdout and "Event(label=" in outcome.stdout  # the events, as a frame and a list
        assert (match_folder / "match.events.json").is_file()
        (match_folder / "match.events.json").unlink()


FRAMES = 'import highlighter as hl\nprint(sum(len(b) for b in hl.frames("clip.mkv", fps=1, size=32)), "samples")\n'


def test_finding_14_decoding_runs_however_python_is_started(clip, tmp_path):
    """A script, ``python -``, ``python -c``, the REPL and a Jupyter kernel all decode: the decoders' fork server
    never runs the caller's main module again (multiprocessing's forkserver did, re-running an unguarded script
    and failing on one read from stdin)."""
    import nbformat
    from nbclient import NotebookClient

    (tmp_path / "clip.mkv").symlink_to(clip("plain.mkv", **PLAIN))
    (tmp_path / "frames.py").write_text(FRAMES)
    expected = f"{int(PLAIN['seconds'])} samples"
    ways = {"script": python("frames.py", cwd=tmp_path), "stdin": python("-", cwd=tmp_path, stdin=FRAMES),
            "-c": python("-c", FRAMES, cwd=tmp_path), "REPL": python("-i", cwd=tmp_path, stdin=FRAMES)}
    for way, outcome in ways.items():
        assert outcome.returncode == 0 and expected in outcome.stdout, f"{way}: {outcome.stderr[-3000:]}"
        assert "Traceback" not in outcome.stderr, f"{way}: {outcome.stderr[-3000:]}"
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(FRAMES)])
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    printed = "".join(output.get("text", "") for output in notebook.cells[0].outputs)
    assert expected in printed, notebook.cells[0].outputs


# --- finding 15: every CPU ---------------------------------------------------------------------------------------


def test_finding_15_the_environment_chooses_the_auto_precision_on_any_cpu(monkeypatch):
    """HIGHLIGHTER_CPU_BF16 takes either branch of ``auto`` whatever the CPU (tests need both on every machine)."""
    cpu = torch.device("cpu")
    for value, expected in (("1", torch.bfloat16), ("0", torch.float32)):
        monkeypatch.setenv(device.CPU_BF16_VARIABLE, value)
        assert device.inference_dtype("auto", cpu) == expected
        assert device.inference_dtype("fp32", cpu) == torch.float32  # a forced precision stays forced
    monkeypatch.setenv(device.CPU_BF16_VARIABLE, "yes")
    with pytest.raises(HighlighterError, match="HIGHLIGHTER_CPU_BF16 must be 0 or 1"):
        device.inference_dtype("auto", cpu)


# --- finding 16: Ctrl-C, inputs first, no network, a full disk ---------------------------------------------------


def process_tree(pid: int) -> list[int]:
    """``pid``'s descendants that run."""
    children = child_processes(pid)
    return children + [grandchild for child in children for grandchild in process_tree(child)]


def test_finding_16_ctrl_c_to_the_process_group_prints_one_line_and_exits_130(trained, test_game, tmp_path):
    """What a terminal sends on Ctrl-C (SIGINT to the whole foreground process group) while decoders run: the
    command prints one line and exits 130, leaves no file, half-written or not, and no process."""
    _, result = trained
    out = tmp_path / "out"
    command = subprocess.Popen([sys.executable, "-c", "from cli import main; main()", "tag", str(test_game),
                                "--weights", str(result.checkpoint), "-o", str(out / "game.events.json"),
                                "--scores", str(out / "game.scores.npz")],
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)  # a process group of its own, as a terminal's job
    deadline = time.monotonic() + 300
    while len(process_tree(command.pid)) < 2 and command.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)  # until the fork server has a decoder running
    assert command.poll() is None, command.communicate()
    helpers = process_tree(command.pid)  # the fork server and its decoders
    os.killpg(command.pid, signal.SIGINT)
    stdout, stderr = command.communicate(timeout=120)
    assert command.returncode == 130, stderr
    assert lines(stderr) == ["interrupted"] and not lines(stdout)
    assert not out.exists() or list(out.iterdir()) == []
    deadline = time.monotonic() + 10
    while any(runs(pid) for pid in helpers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(runs(pid) for pid in helpers)


def runs(pid: int) -> bool:
    """Whether process ``pid`` runs (is neither gone nor a zombie)."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_finding_16_inputs_and_the_checkpoint_are_checked_before_pytorch_loads(trained, clip, tmp_path):
    """A missing input, one that is no video, a folder that is no game, and a missing checkpoint are each one
    line, given before PyTorch is imported; in a batch a bad input fails alone."""
    _, result = trained
    (tmp_path / "notes.mkv").write_text("not a video")
    (tmp_path / "folder").mkdir()
    probe = ("import sys\nfrom cli import main\ntry:\n    main()\n"
             "finally:\n    print('torch imported:', 'torch' in sys.modules, file=sys.stderr)\n")
    weights = ["--weights", str(result.checkpoint)]
    for args, message in ((["nosuch.mp4", *weights], "nosuch.mp4: no such file"),
                          (["notes.mkv", *weights], "notes.mkv: not a readable video"),
                          (["folder", *weights], "folder: a folder, but no SoccerNet half videos"),
                          ([str(clip("plain.mkv", **PLAIN)), "--weights", "nosuch"], "nosuch: no such checkpoint")):
        outcome = python("-c", probe, "tag", *args, cwd=tmp_path)
        error, imported = lines(outcome.stderr)
        assert outcome.returncode == 1 and error.startswith(f"Error: {message}"), outcome.stderr
        assert imported == "torch imported: False"
    out = tmp_path / "batch"
    outcome = highlight("tag", "nosuch.mp4", str(clip("plain.mkv", **PLAIN)), *weights, "-o", str(out), "-q",
                        cwd=tmp_path)
    assert outcome.returncode == 1 and "1 of 2 inputs failed: nosuch.mp4: no such file" in outcome.stderr
    assert len(list(out.glob("*.events.json"))) == 1


def test_finding_16_zero_shot_without_a_network_is_one_line_naming_pretrained_file(clip, tmp_path):
    """No network (here: a hub endpoint that refuses connections) and an empty cache: one line at once, no
    retries, naming the way out."""
    offline = {"HF_HOME": str(tmp_path / "hf"), "HF_ENDPOINT": "http://127.0.0.1:9"}
    outcome = highlight("tag", str(clip("plain.mkv", **PLAIN)), "--zero-shot", "-o", str(tmp_path / "e.json"),
                        cwd=tmp_path, env=offline)
    assert outcome.returncode == 1
    assert len(lines(outcome.stderr)) == 1 and "Retry" not in outcome.stderr, outcome.stderr
    assert "127.0.0.1:9 cannot be reached" in outcome.stderr and "--pretrained FILE" in outcome.stderr


def limit_file_size() -> None:
    """In the child: no file may grow past 16 kB (an events file fits, a plot does not), and a write past it
    fails as on a full disk, instead of the signal killing the process."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (16_384, 16_384))


def test_finding_16_an_output_that_cannot_be_written_is_named(trained, clip, tmp_path):
    _, result = trained
    out = tmp_path / "out"
    outcome = highlight("tag", str(clip("plain.mkv", **PLAIN)), "--weights", str(result.checkpoint),
                        "-o", str(out / "events.json"), "--plot", str(out / "plot.png"), "-q", cwd=tmp_path,
                        preexec_fn=limit_file_size)
    assert outcome.returncode == 1
    assert lines(outcome.stderr) == [f"Error: {out / 'plot.png'}: File too large"], outcome.stderr
    assert [path.name for path in out.iterdir()] == ["events.json"]  # whole; no half-written plot
    assert json.loads((out / "events.json").read_text())["timing"]["frames"] == int(PLAIN["seconds"])


def test_finding_16_a_checkpoint_that_cannot_be_written_is_named(tmp_path):
    save = ("from highlighter.errors import HighlighterError\n"
            "from highlighter.model.classifier import create_classifier, save_checkpoint\n"
            "classifier = create_classifier('highlighter-tiny', ['background', 'goal'])[0]\n"
            "try:\n    save_checkpoint('weights/tiny', classifier)\n"
            "except HighlighterError as exc:\n    print(exc)\n")
    outcome = python("-c", save, cwd=tmp_path, preexec_fn=limit_file_size)
    assert outcome.returncode == 0, outcome.stderr
    assert outcome.stdout.startswith("weights/tiny: cannot write the checkpoint (")
    assert "File too large" in outcome.stdout
    assert list((tmp_path / "weights").iterdir()) == []  # no staging folder left behind
