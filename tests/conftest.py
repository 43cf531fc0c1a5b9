"""Shared fixtures (pattern clips made with ffmpeg at test time, synthetic games, the tiny trained model and its
held-out test game) and the CI rule that a skip for something missing fails; helpers are in tests/support.py."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from highlighter.video.testpattern import write_pattern_video
from tests.chromium import Browser, chromium_binary
from tests.support import AUDIO, FORBIDDEN_IN_CI, IN_CI, SMOOTHER, SYNTH, VIDEO, config


def _fail_forbidden_skip(report) -> None:
    if IN_CI and report.skipped and isinstance(report.longrepr, tuple):
        reason = report.longrepr[2]
        if any(phrase in reason for phrase in FORBIDDEN_IN_CI):
            report.outcome = "failed"
            report.longrepr = f"skipped in CI, where nothing may be missing: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI, a skip for a missing package or missing shared data fails the test."""
    outcome = yield
    _fail_forbidden_skip(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    """The same for a whole module skipped at collection."""
    outcome = yield
    _fail_forbidden_skip(outcome.get_result())


MODEL_FIXTURES = frozenset({"trained", "test_game", "headed"})


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(items):
    """With pytest-xdist's ``--dist loadgroup`` (setup.cfg), the tests of the trained tiny models run on one
    worker, which trains each once; the rest spread over the workers test by test."""
    for item in items:
        if MODEL_FIXTURES.intersection(item.fixturenames):
            item.add_marker(pytest.mark.xdist_group("trained-models"))


@pytest.fixture(scope="session")
def clip(tmp_path_factory):
    """``clip(name, **kwargs)``: a pattern video written by ffmpeg once per session for each
    (name, kwargs); the extension of ``name`` picks the container."""
    folder = tmp_path_factory.mktemp("clips")
    made: dict[tuple, Path] = {}

    def make(name: str, **kwargs) -> Path:
        key = (name, tuple(sorted(kwargs.items())))
        if key not in made:
            stem, suffix = name.rsplit(".", 1)
            made[key] = write_pattern_video(folder / f"{stem}-{len(made)}.{suffix}", **kwargs)
        return made[key]

    return make


@pytest.fixture(scope="session")
def ffmpeg(tmp_path_factory):
    """Run ffmpeg with the given arguments inside a scratch folder; returns that folder."""
    folder = tmp_path_factory.mktemp("ffmpeg")

    def run(*args: str) -> Path:
        subprocess.run([shutil.which("ffmpeg"), "-v", "error", "-y", *args], cwd=folder, check=True)
        return folder

    return run


@pytest.fixture(scope="session")
def synth_root(tmp_path_factory) -> Path:
    """A tree of synthetic games written once per session by `highlight synth`'s code."""
    from highlighter.config.settings import SynthSettings
    from highlighter.synth.game import synthesize

    root = tmp_path_factory.mktemp("synth")
    synthesize(root, SynthSettings(**SYNTH))
    return root


@pytest.fixture(scope="session")
def trained(synth_root, tmp_path_factory):
    """(trainer, result) of one 10-epoch run on the synthetic games."""
    from highlighter.training.trainer import Trainer

    trainer = Trainer(config(synth_root, tmp_path_factory.mktemp("train")), VIDEO, AUDIO, SMOOTHER)
    return trainer, trainer.run()


@pytest.fixture(scope="session")
def headed(synth_root, tmp_path_factory):
    """(trainer, result) of the tiny model trained with the temporal spotting head (``trainer.spotting_head``:
    the head as fitted, before the checkpoint saved it)."""
    from highlighter.training.trainer import Trainer

    trainer = Trainer(config(synth_root, tmp_path_factory.mktemp("headed"), spotting_head=True), VIDEO, AUDIO, SMOOTHER)
    return trainer, trainer.run()


@pytest.fixture(scope="session")
def test_game(trained, synth_root) -> Path:
    """The held-out test game of the trained tiny model (never seen in training)."""
    trainer, _ = trained
    (game,) = trainer.data_summary["test"]["game_list"]
    return synth_root / game


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module (CI installs it: there a missing browser fails)."""
    try:
        import websocket  # noqa: F401
    except ImportError:
        if IN_CI:
            pytest.fail("websocket-client is not installed (the review tests drive Chromium with it)")
        pytest.skip("websocket-client is not installed")
    if chromium_binary() is None:
        if IN_CI:
            pytest.fail("chromium is not installed: scripts/install.sh --test installs it")
        pytest.skip("chromium is not installed")
    browser = Browser()
    yield browser
    browser.close()
