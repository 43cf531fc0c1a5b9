"""Synthetic SoccerNet games: real formats, consistent links, decodable videos, deterministic output."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from highlighter.soccernet.v3 import read_v3_game
from highlighter.labels import SOCCERNET_V2_LABELS
from highlighter.soccernet.files import read_labels
from highlighter.config.settings import SynthSettings
from highlighter.synth.game import synthesize
from highlighter.synth.timeline import draw_half, load_event_stats
from highlighter.video import probe
from tests.support import ROOT, SHARED_DATA, SYNTH, needs_shared, open_sampler


def games(root: Path) -> list[Path]:
    return sorted(p.parent for p in root.rglob("Labels-v2.json"))


def test_tree_layout_and_v2_labels(synth_root):
    folders = games(synth_root)
    assert len(folders) == SYNTH["games"]
    for folder in folders:
        assert len(folder.relative_to(synth_root).parts) == 3  # league/season/game
        assert {p.name for p in folder.iterdir()} == {"1_180p.mkv", "2_180p.mkv", "Labels-v2.json",
                                                      "Labels-v3.json", "Frames-v3.zip"}
        labels = json.loads((folder / "Labels-v2.json").read_text())
        assert {"UrlLocal", "UrlYoutube", "gameHomeTeam", "gameAwayTeam", "gameDate", "gameScore"} <= set(labels)
        for annotation in labels["annotations"]:
            assert set(annotation) == {"gameTime", "label", "position", "team", "visibility"}
            assert isinstance(annotation["position"], str) and annotation["label"] in SOCCERNET_V2_LABELS
            assert annotation["visibility"] in ("visible", "not shown")
            half, clock = annotation["gameTime"].split(" - ")
            minutes, seconds = map(int, clock.split(":"))
            assert int(annotation["position"]) // 1000 == minutes * 60 + seconds and half in ("1", "2")
        assert len(read_labels(folder / "Labels-v2.json")) == len(labels["annotations"])


def test_v3_frames_and_links(synth_root):
    labels_seen = set()
    for folder in games(synth_root):
        document = json.loads((folder / "Labels-v3.json").read_text())
        with zipfile.ZipFile(folder / "Frames-v3.zip") as archive:
            members = set(archive.namelist())
            first = archive.read(next(iter(sorted(members))))
        assert first[:8] == b"\x89PNG\r\n\x1a\n"
        actions, replays = document["actions"], document["replays"]
        assert set(document["GameMetadata"]["list_actions"]) == set(actions)
        assert set(document["GameMetadata"]["list_replays"]) == set(replays)
        assert members == set(actions) | set(replays)
        for name, action in actions.items():
            meta = action["imageMetadata"]
            assert {"label", "gameTime", "half", "position", "imageType", "width", "height", "visibility"} <= set(meta)
            assert meta["imageType"] == "action" and meta["label"] in SOCCERNET_V2_LABELS
            assert f"{meta['width']}x{meta['height']}" == SYNTH["size"]
            labels_seen.add(meta["label"])
            for replay_name in action["linked_replays"]:
                assert replays[replay_name]["linked_action"] == name
                assert replays[replay_name]["imageMetadata"]["label"] == meta["label"]
        for name, replay in replays.items():
            assert name in actions[replay["linked_action"]]["linked_replays"]
        records = read_v3_game(folder, "game")
        assert len(records) == len(members)
        for record in records:
            if record.source == "v3-replay":
                action = actions[replays[record.key]["linked_action"]]
                assert record.label == action["imageMetadata"]["label"]
    assert {"Goal", "Substitution"} <= labels_seen and labels_seen & {"Yellow card", "Red card", "Yellow->red card"}


def test_videos_decode_with_the_expected_duration(synth_root):
    video = games(synth_root)[0] / "1_180p.mkv"
    info = probe(video, scan_packets=True)
    assert info.avg_fps == pytest.approx(25) and (info.width, info.height) == (320, 180)
    assert info.scanned_duration_s == pytest.approx(SYNTH["minutes"] * 60, abs=0.05)
    times = np.concatenate([batch.times for batch in open_sampler(video, size=64)])
    np.testing.assert_allclose(times, np.arange(60.0), atol=1e-3)


def test_same_seed_same_games(tmp_path):
    settings = SynthSettings(games=1, minutes=0.4, seed=3, size="192x108", density=60)
    first, second = synthesize(tmp_path / "a", settings)[0], synthesize(tmp_path / "b", settings)[0]
    for name in ("Labels-v2.json", "Labels-v3.json"):
        assert (first / name).read_bytes() == (second / name).read_bytes()
    with zipfile.ZipFile(first / "Frames-v3.zip") as a, zipfile.ZipFile(second / "Frames-v3.zip") as b:
        assert a.namelist() == b.namelist()
        assert all(a.read(name) == b.read(name) for name in a.namelist())
    frames = [np.concatenate([batch.images for batch in open_sampler(g / "2_108p.mkv", size=64)]) for g in (first, second)]
    assert np.array_equal(*frames)
    other = synthesize(tmp_path / "c", SynthSettings(**{**settings.__dict__, "seed": 4}))[0]
    assert (other / "Labels-v2.json").read_bytes() != (first / "Labels-v2.json").read_bytes()


@needs_shared("soccernet-labels")
def test_event_table_matches_the_real_labels():
    """configs/event_stats.yaml is what scripts/label_stats.py makes from the real labels."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("label_stats", ROOT / "scripts/label_stats.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.summarise(SHARED_DATA / "soccernet-labels") == {k: v for k, v in load_event_stats().items()}


def test_full_length_halves_follow_the_real_rates():
    stats = load_event_stats()
    rng = np.random.default_rng(0)
    halves = [draw_half(rng, stats, 45 * 60, density=1.0) for _ in range(200)]
    goals = np.mean([sum(e.label == "Goal" for e in half) for half in halves])
    throw_ins = np.mean([sum(e.label == "Throw-in" for e in half) for half in halves])
    assert goals == pytest.approx(stats["labels"]["Goal"]["per_half"], rel=0.2)
    assert throw_ins == pytest.approx(stats["labels"]["Throw-in"]["per_half"], rel=0.1)
