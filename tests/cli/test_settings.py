"""One schema of settings (issue 11): configs/defaults.yaml fills it, a config file overlays it, and a
misspelt key or a wrong type is one line naming the file, the key and the closest valid key."""

from __future__ import annotations

import dataclasses
import re

import pytest
from click.testing import CliRunner

import highlighter.config.settings as schema
from cli import highlight
from highlighter.api import configured
from highlighter.errors import ConfigError
from highlighter.config.settings import load_settings
from tests.support import flat


def run(*args) -> object:
    return CliRunner().invoke(highlight, [str(a) for a in args])


def test_a_misspelt_key_names_the_file_and_the_closest_setting(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("tag: {treshold: 0.3}\n")
    outcome = run("--config", bad, "tag", tmp_path / "match.mkv")
    assert outcome.exit_code == 1
    (line,) = outcome.output.strip().splitlines()
    assert str(bad) in line and "treshold" in line and "'smoother.threshold'" in line


@pytest.mark.parametrize("text, message", [
    ("smoother: {treshold: 0.3}", "unknown setting smoother.treshold (did you mean 'threshold'?)"),
    ("smoother: {threshold: high}", "smoother.threshold must be a number, got 'high'"),
    ("video: {decoder: ffmpeg}", "video.decoder is 'ffmpeg'; choose one of auto, decord, pyav"),
    ("train: {split: [0.5, 0.5]}", "train.split must be a list of 3 values"),
    ("tag: 3", "tag must be a mapping of settings"),
    ("vidoe: {fps: 2}", "unknown setting vidoe (did you mean 'video'?)"),
])
def test_wrong_settings_are_one_line_errors(tmp_path, text, message):
    bad = tmp_path / "bad.yaml"
    bad.write_text(text + "\n")
    with pytest.raises(ConfigError) as error:
        load_settings(bad)
    assert str(error.value).startswith(f"{bad}: ") and message in str(error.value)
    assert "\n" not in str(error.value)


def test_every_default_is_written_once_in_the_yaml():
    """The schema's dataclasses hold no defaults: every value comes from configs/defaults.yaml."""
    for cls in (getattr(schema, name) for name in dir(schema)):
        if dataclasses.is_dataclass(cls) and cls.__module__ == schema.__name__:
            with_defaults = [f.name for f in dataclasses.fields(cls)
                             if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING]
            assert with_defaults == [], f"{cls.__name__} has code defaults: {with_defaults}"


def test_help_shows_the_configured_defaults(tmp_path):
    shipped = load_settings()
    assert f"[default: {shipped.smoother.threshold}]" in flat(run("tag", "--help").output)
    config = tmp_path / "my.yaml"
    config.write_text("smoother: {threshold: 0.25}\nvideo: {fps: 2.0}\n")
    helped = flat(run("--config", config, "tag", "--help").output)  # as wrapped for 80 columns
    assert "[default: 0.25]" in helped and "[default: 2.0]" in helped


def test_low_threshold_follows_the_threshold_unless_a_config_sets_it(tmp_path):
    """The one rule: low_threshold unset means half the threshold, from the command line or a file."""
    assert configured(("smoother",), None, {"threshold": 0.1})["smoother"].low == pytest.approx(0.05)
    assert load_settings().smoother.low == pytest.approx(load_settings().smoother.threshold / 2)
    config = tmp_path / "low.yaml"
    config.write_text("smoother: {low_threshold: 0.3}\n")
    assert configured(("smoother",), config, {"threshold": 0.1})["smoother"].low == pytest.approx(0.3)


def test_nms_of_a_config_file_overlays_per_class(tmp_path):
    config = tmp_path / "nms.yaml"
    config.write_text("smoother: {nms_s: {card: 45}}\n")
    smoother = load_settings(config).smoother
    assert (smoother.nms_for("card"), smoother.nms_for("goal"), smoother.nms_for("substitution")) == (45, 30, 20)


def test_api_keywords_are_checked_like_config_keys():
    with pytest.raises(ConfigError, match=re.escape("unknown setting 'treshold' (did you mean 'threshold'?)")):
        configured(("video", "smoother", "tag"), None, {"treshold": 0.2})
    with pytest.raises(ConfigError, match="fps must be a number"):
        configured(("video",), None, {"fps": "fast"})
