"""Issue 9: what a fresh machine and a normal `pip install` meet: declared dependencies, a complete wheel,
shipped settings found after installing, and documentation that matches the official evaluator."""

from __future__ import annotations

import ast
import configparser
import importlib.metadata
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from highlighter.soccernet.files import Spot
from highlighter.evaluation.trees import load_truth
from highlighter.labels import load_label_map
from tests.support import ROOT, SHARED_DATA, needs_shared

pytestmark = pytest.mark.slow


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared_requirements() -> set[str]:
    """What a user's install can bring: install_requires and the optional extras (``ray`` for the Ray
    engine), not the test extra."""
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg")
    lines = parser["options"]["install_requires"].strip().splitlines()
    lines += [line for extra, value in parser["options.extras_require"].items() if extra != "test"
              for line in value.strip().splitlines()]
    return {normalise(re.split(r"[<>=!~;\[ ]", line.strip(), maxsplit=1)[0]) for line in lines if line.strip()}


def imported_modules() -> dict[str, Path]:
    """Top-level modules the package and the CLI import (any depth, lazy imports included)."""
    found: dict[str, Path] = {}
    for path in [ROOT / "cli.py", *sorted((ROOT / "highlighter").rglob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], path)
    return found


def test_finding_1_every_imported_package_is_declared():
    """matplotlib (for --plot) was imported but declared nowhere; a fresh venv lacked it."""
    distributions = importlib.metadata.packages_distributions()
    declared = declared_requirements()
    missing = []
    for module, where in imported_modules().items():
        if module in sys.stdlib_module_names or module in ("highlighter", "cli", "__future__"):
            continue
        owners = {normalise(d) for d in distributions.get(module, [])}
        if not owners & declared:
            missing.append(f"{module} ({where.relative_to(ROOT)}; from {sorted(owners) or 'nothing installed'})")
    assert not missing, "imported but not in setup.cfg install_requires: " + ", ".join(missing)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The project's wheel, built as `pip wheel .` builds it."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "-w", str(out), str(ROOT)], check=True, capture_output=True)
    (built,) = out.glob("highlighter-*.whl")
    return built


def test_finding_2_the_wheel_holds_every_sub_package_and_config(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    packages = sorted({p.parent.relative_to(ROOT).as_posix() for p in (ROOT / "highlighter").rglob("*.py")
                       if "__pycache__" not in p.parts})
    assert [p for p in packages if f"{p}/__init__.py" not in names] == []
    sources = {p.relative_to(ROOT).as_posix() for p in (ROOT / "highlighter").rglob("*.py")}
    assert sources <= names
    data = {name.split(".data/data/share/highlighter/")[1] for name in names if ".data/data/share/highlighter/" in name}
    assert data == {p.relative_to(ROOT).as_posix() for p in (ROOT / "configs").rglob("*") if p.is_file()}


def test_finding_2_an_installed_wheel_finds_its_settings_from_any_folder(wheel, tmp_path):
    """Installed with a prefix other than the interpreter's (as --user or a system pip does), run from
    an unrelated folder: every shipped config is found and the synthetic-data package imports."""
    prefix = tmp_path / "prefix"
    # --ignore-installed: leave the environment's own (editable) install of highlighter alone
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--ignore-installed",
                    "--prefix", str(prefix), str(wheel)], check=True, capture_output=True)
    (site,) = prefix.glob("lib/python*/site-packages")
    probe = ("import highlighter, highlighter.synth.game, open_clip;"
             "from highlighter.config.files import config_dir; from highlighter.config.settings import load_settings;"
             "from highlighter.labels import load_label_map;"
             "from highlighter.model.classifier import class_prompts;"
             "from highlighter.synth.timeline import load_event_stats;"
             "print(highlighter.__file__); print(config_dir());"
             "assert load_settings().tag and load_label_map('soccernet-v2').classes and load_event_stats();"
             "assert class_prompts(['background', 'goal']) and 'highlighter-tiny' in open_clip.list_models()")
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    package, configs = done.stdout.split()
    assert Path(package).is_relative_to(site) and Path(configs).is_relative_to(prefix.resolve())


@needs_shared("soccernet-labels/valid")
def test_finding_10_official_evaluator_needs_the_card_labels_remapped(tmp_path):
    """The README's recipe for the official evaluator: the dictionary alone finds no card ground truth in
    real label files; remapping the labels (tests/official.py) does."""
    pytest.importorskip("SoccerNet.Evaluation.ActionSpotting", reason="the SoccerNet package is not installed")
    from SoccerNet.Evaluation import ActionSpotting

    from tests.official import official_score

    games = sorted(p.parent for p in (SHARED_DATA / "soccernet-labels" / "valid").rglob("Labels-v2.json"))[:10]
    labels = tmp_path / "labels"
    for game in games:
        target = labels / game.relative_to(SHARED_DATA / "soccernet-labels" / "valid")
        target.mkdir(parents=True)
        (target / "Labels-v2.json").write_bytes((game / "Labels-v2.json").read_bytes())
    truth = load_truth(labels, load_label_map("highlight"))
    perfect = {g: [Spot(s.half, s.position_ms, s.label, confidence=1.0) for s in spots] for g, spots in truth.items()}
    remapped = official_score(tmp_path / "remapped", labels, perfect, "highlight", "loose")
    assert remapped["a_mAP_per_class"][1] == pytest.approx(1.0)  # cards found once the labels say "Card"
    predictions = tmp_path / "remapped" / "predictions"  # written by official_score with labels Goal/Card/...
    as_is = ActionSpotting.evaluate(str(labels), str(predictions), split=None, version=2, framerate=2,
                                    metric="loose", dataset=None, label_files="Labels-v2.json",
                                    prediction_file="results_spotting.json",
                                    EVENT_DICTIONARY={"Goal": 0, "Card": 1, "Substitution": 2})
    assert as_is["a_mAP_per_class"][1] == 0  # no card ground truth without the remap
    readme = (ROOT / "README.md").read_text()
    assert "Yellow->red card" in readme and "tests/official.py" in readme
