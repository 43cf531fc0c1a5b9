"""Where the shipped configs/ folder is, and reading and layering YAML files (the schema that checks them
is highlighter.config.settings)."""

from __future__ import annotations

import importlib.metadata
import sys
from pathlib import Path
from typing import Any

import yaml

from highlighter.errors import ConfigError

DEFAULTS_NAME = "defaults.yaml"


def config_dir() -> Path:
    """The configs/ folder: the checkout's own (a source tree or an editable install), else the copy a
    wheel installed under ``<prefix>/share/highlighter/configs`` (found through the installed
    distribution's file list, so venvs, ``--user`` and ``--prefix`` installs all work)."""
    candidates = [Path(__file__).resolve().parents[2] / "configs"]
    try:
        files = importlib.metadata.distribution("highlighter").files or []
    except importlib.metadata.PackageNotFoundError:
        files = []
    candidates += [Path(file.locate()).resolve().parent for file in files
                   if file.as_posix().endswith(f"share/highlighter/configs/{DEFAULTS_NAME}")]
    candidates.append(Path(sys.prefix) / "share" / "highlighter" / "configs")
    for candidate in candidates:
        if (candidate / DEFAULTS_NAME).is_file():
            return candidate
    raise ConfigError(f"cannot find {DEFAULTS_NAME}: looked in {', '.join(map(str, candidates))}; "
                      "reinstall highlighter")


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping, with one-line errors for a missing file or bad syntax."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ConfigError(f"{path}: malformed YAML{where}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of command names to options")
    return data


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Recursively overlay ``override`` on ``base`` (neither is modified)."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged
