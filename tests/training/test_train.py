"""Training the classifier on synthetic SoccerNet games with a tiny open_clip model (CPU, offline)."""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import replace
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from cli import highlight
from highlighter.data.dataset import FrameDataset, class_of_record, collect_records, split_games
from highlighter.data.soccernet_v2 import VideoFrameSettings, read_v2_game
from highlighter.soccernet.v3 import read_v3_game
from highlighter.errors import HighlighterError
from highlighter.labels import load_label_map
from highlighter.model.classifier import CheckpointError, load_checkpoint
from highlighter.soccernet.files import read_labels
from highlighter.model.classifier import create_classifier
from highlighter.training.trainer import Trainer, seed_everything
from highlighter.training.wise import wise_interpolate
from tests.support import AUDIO, SMOOTHER, VIDEO, config

#: frame-drawing settings for the reader tests (what training uses at 2 frames per second)
FRAMES = VideoFrameSettings(fps=2.0, size=64, window=(-2.0, 6.0), background_gap_s=15.0, background_per_event=2.0,
                            decoder="auto", sampling="exact", stall_timeout_s=60.0, seed=0)


def held_out(trainer: Trainer) -> FrameDataset:
    """The images of the val and test games together (more classes than either game alone)."""
    datasets = trainer.data.splits
    records = datasets["val"].records + datasets["test"].records
    return FrameDataset(records, trainer.label_map, trainer.classes, datasets["val"].transform)


def test_loss_falls_and_held_out_games_beat_chance(trained):
    trainer, result = trained
    losses = [row["train_loss"] for row in result.history]
    assert losses[-1] < losses[0] / 3
    report = trainer.evaluate(held_out(trainer))
    # background is about two thirds of the images: accuracy alone passes an all-background model, whose
    # balanced accuracy is 0.25 and macro-F1 about 0.2
    assert report.balanced_accuracy > 0.6 and report.macro_f1 > 0.5
    assert sum(report.support.values()) > 100


def test_checkpoint_reloads_with_identical_logits(trained):
    trainer, result = trained
    images = torch.rand(6, 3, 64, 64)
    reloaded = load_checkpoint(result.checkpoint)
    trainer.classifier.eval()
    with torch.no_grad():
        assert torch.equal(reloaded(images), trainer.classifier(images))
    meta = json.loads((result.checkpoint / "highlighter.json").read_text())
    assert meta["classes"] == ["background", "goal", "card", "substitution"]
    assert meta["extra"]["complete"] and meta["extra"]["data"]["train"]["images"]["card"] > 0
    assert set(meta["prompts"]) == set(meta["classes"]) and meta["model_config"]["embed_dim"] == 32
    metrics = json.loads((result.checkpoint / "metrics.json").read_text())
    assert len(metrics["history"]) == 10 and "confusion" in metrics["test"]


def test_no_game_in_two_splits(trained):
    trainer, _ = trained
    splits = [set(trainer.data_summary[name]["game_list"]) for name in ("train", "val", "test")]
    assert not (splits[0] & splits[1] or splits[0] & splits[2] or splits[1] & splits[2])
    assert sum(map(len, splits)) == 6
    games = [f"g{k}" for k in range(20)]
    split = split_games(games, (0.7, 0.15, 0.15), seed=3)
    assert sorted(sum(split.values(), [])) == sorted(games) and split == split_games(games, (0.7, 0.15, 0.15), 3)


def test_wise_ft_endpoints(trained):
    _, result = trained
    from safetensors.torch import load_file

    saved = load_file(str(result.checkpoint / "model.safetensors"))
    fine = {k: v for k, v in saved.items() if not k.startswith("zero_shot.")}
    zero = {k[len("zero_shot."):]: v for k, v in saved.items() if k.startswith("zero_shot.")}
    model = load_checkpoint(result.checkpoint)
    images = torch.rand(4, 3, 64, 64)
    with torch.no_grad():
        model.load_state_dict(zero)
        zero_logits = model(images)
        model.load_state_dict(wise_interpolate(zero, fine, 0.0))
        assert torch.equal(model(images), zero_logits)
        model.load_state_dict(fine)
        fine_logits = model(images)
        model.load_state_dict(wise_interpolate(zero, fine, 1.0))
        assert torch.equal(model(images), fine_logits)
        model.load_state_dict(wise_interpolate(zero, fine, 0.5))
        assert not torch.equal(model(images), fine_logits)


def test_resume_continues_from_the_saved_epoch(synth_root, tmp_path):
    class Interrupt(Exception):
        pass

    def stop_after_two(row, report):
        if row["epoch"] == 2:
            raise Interrupt

    cfg = config(synth_root, tmp_path, epochs=3)
    with pytest.raises(Interrupt):
        Trainer(cfg, VIDEO, AUDIO, SMOOTHER, on_epoch=stop_after_two).run()
    state = torch.load(Path(cfg.out).with_name("tiny.resume.pt"), weights_only=False)
    assert state["epoch"] == 0 and state["optimizer"]["state"]  # epoch 1 done, Adam moments saved
    seen = []
    resumed = Trainer(replace(cfg, resume=True), VIDEO, AUDIO, SMOOTHER, on_epoch=lambda row, r: seen.append(row["epoch"])).run()
    assert seen == [2, 3] and [row["epoch"] for row in resumed.history] == [1, 2, 3]
    assert not Path(cfg.out).with_name("tiny.resume.pt").exists()
    straight = Trainer(replace(cfg, out=str(tmp_path / "straight")), VIDEO, AUDIO, SMOOTHER).run()
    a, b = load_checkpoint(resumed.checkpoint), load_checkpoint(straight.checkpoint)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_contrastive_loss_trains_the_text_side(synth_root, tmp_path):
    trainer = Trainer(config(synth_root, tmp_path, epochs=2, loss="contrastive", lr=1e-3), VIDEO, AUDIO, SMOOTHER)
    result = trainer.run()
    assert np.isfinite([row["train_loss"] for row in result.history]).all()
    assert result.history[1]["train_loss"] < result.history[0]["train_loss"]
    assert load_checkpoint(result.checkpoint).head.weight.shape == (4, 32)
    seed_everything(trainer.config.seed)  # the same draws as the run's start: its initial text tower
    _, initial, _ = create_classifier("highlighter-tiny", trainer.classes)
    text = [name for name, _ in initial.named_parameters() if not name.startswith("visual.")]
    trained_text = dict(trainer.clip.named_parameters())
    changed = [name for name in text if not torch.equal(dict(initial.named_parameters())[name].cpu(),
                                                        trained_text[name].detach().cpu())]
    assert any(name.startswith("transformer.") for name in changed) and "text_projection" in changed


def test_replays_carry_their_actions_label(tmp_path):
    game = tmp_path / "league" / "2020" / "game"
    game.mkdir(parents=True)
    with zipfile.ZipFile(game / "Frames-v3.zip", "w") as archive:
        for name in ("0.png", "0_0.png", "0_1.png", "1.png"):
            archive.writestr(name, b"")
    actions = {"0.png": {"imageMetadata": {"label": "Goal", "position": 1000}, "linked_replays": ["0_0.png", "0_1.png"]},
               "1.png": {"imageMetadata": {"label": "Foul"}, "linked_replays": []}}
    replays = {"0_0.png": {"imageMetadata": {"label": "Foul"}, "linked_action": "0.png"},
               "0_1.png": {"imageMetadata": {}, "linked_action": "0.png"}}
    (game / "Labels-v3.json").write_text(json.dumps({"GameMetadata": {}, "actions": actions, "replays": replays}))
    records = read_v3_game(game, "league/2020/game")
    assert [(r.key, r.label, r.source) for r in records] == [
        ("0.png", "Goal", "v3-action"), ("0_0.png", "Goal", "v3-replay"), ("0_1.png", "Goal", "v3-replay"),
        ("1.png", "Foul", "v3-action")]
    highlight_map = load_label_map("highlight")
    assert [class_of_record(r, highlight_map) for r in records] == ["goal", "goal", "goal", "background"]


def test_v2_frames_sit_at_the_annotated_times(synth_root, tmp_path):
    game = sorted(p.parent for p in synth_root.rglob("Labels-v2.json"))[0]
    label_map = load_label_map("highlight")
    settings = FRAMES
    records = read_v2_game(game, "g", label_map, settings, tmp_path, None)
    events = [s for s in read_labels(game / "Labels-v2.json") if label_map.class_of(s.label)]
    assert {r.source for r in records} == {"v2-event", "v2-background"}
    for record in records:
        offsets = [record.time_s - s.position_ms / 1000 for s in events if s.half == record.half]
        if record.source == "v2-event":
            matching = [d for d, s in zip(offsets, [s for s in events if s.half == record.half])
                        if -2.0 <= d <= 6.0 and s.label == record.label]
            assert matching, record
        else:
            assert all(abs(d) >= 15.0 for d in offsets)
    event_times = {round(r.time_s * 2) / 2 for r in records if r.source == "v2-event"}
    for spot in events:
        assert round(spot.position_ms / 1000 * 2) / 2 in event_times or any(
            abs(t - spot.position_ms / 1000) <= 0.5 for t in event_times)
    cached = list(tmp_path.glob("*.npy"))
    assert len(cached) == 2 and read_v2_game(game, "g", label_map, settings, tmp_path, None) == records


def write_v3(folder: Path, document, frames=("0.png",), zip_bytes: bytes | None = None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Labels-v3.json").write_text(json.dumps(document))
    if zip_bytes is not None:
        (folder / "Frames-v3.zip").write_bytes(zip_bytes)
        return
    with zipfile.ZipFile(folder / "Frames-v3.zip", "w") as archive:
        for name in frames:
            archive.writestr(name, b"")


GOOD_ACTION = {"actions": {"0.png": {"imageMetadata": {"label": "Goal"}, "linked_replays": []}}, "replays": {}}


@pytest.mark.parametrize("document, zip_bytes, message", [
    (GOOD_ACTION, b"not a zip", "unreadable zip"),
    ({"actions": {"0.png": {"bboxes": []}}}, None, "has no imageMetadata.label"),
    ({"replays": {}}, None, "expected an object with 'actions'"),
])
def test_bad_v3_data_is_one_line(tmp_path, document, zip_bytes, message):
    write_v3(tmp_path / "l" / "s" / "g", document, zip_bytes=zip_bytes)
    with pytest.raises(HighlighterError, match=message) as error:
        collect_records([tmp_path], load_label_map("highlight"), FRAMES, tmp_path / "cache")
    assert "\n" not in str(error.value)


def test_unknown_labels_are_skipped_with_one_warning(tmp_path, caplog):
    document = {"actions": {"0.png": {"imageMetadata": {"label": "Goal"}, "linked_replays": []},
                            "1.png": {"imageMetadata": {"label": "Celebration"}, "linked_replays": []},
                            "2.png": {"imageMetadata": {"label": "Celebration"}, "linked_replays": []}}, "replays": {}}
    write_v3(tmp_path / "l" / "s" / "g", document, frames=("0.png", "1.png", "2.png"))
    with caplog.at_level(logging.WARNING):
        records = collect_records([tmp_path], load_label_map("highlight"), FRAMES, tmp_path / "cache")
    assert [r.label for r in records] == ["Goal"]
    assert [r.message for r in caplog.records if "Celebration" in r.message] == [
        "skipped images with labels that are not SoccerNet-v2 labels: 'Celebration' x2"]


def test_a_class_without_training_images_is_an_error(synth_root, tmp_path):
    classes = tmp_path / "classes.yaml"
    classes.write_text("goal: [Goal]\npenalty: [Penalty]\n")
    with pytest.raises(HighlighterError, match="no training images for class 'penalty'"):
        Trainer(config(synth_root, tmp_path, classes=str(classes), epochs=1), VIDEO, AUDIO, SMOOTHER).run()


def test_unwritable_output_is_an_error(synth_root, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(HighlighterError, match="cannot write the checkpoint"):
        Trainer(replace(config(synth_root, tmp_path), out=str(blocker / "tiny")), VIDEO, AUDIO, SMOOTHER)


def test_wrong_checkpoint_is_one_line(tmp_path):
    with pytest.raises(CheckpointError, match="no such checkpoint folder"):
        load_checkpoint(tmp_path / "missing")
    (tmp_path / "bad").mkdir()
    with pytest.raises(CheckpointError, match="not a highlighter checkpoint"):
        load_checkpoint(tmp_path / "bad")


def test_cli_train_writes_a_checkpoint(synth_root, tmp_path):
    out = tmp_path / "cli"
    result = CliRunner().invoke(highlight, [
        "train", "--data", str(synth_root), "-o", str(out), "--model", "highlighter-tiny", "--pretrained", "none",
        "--mode", "lp-ft", "--probe-epochs", "1", "--epochs", "1", "--lr", "1e-3", "--frame-fps", "2",
        "--cache-dir", str(tmp_path.parent / "cache"), "--wise-alpha", "sweep", "-q"])
    assert result.exit_code == 0, result.output
    meta = json.loads((out / "highlighter.json").read_text())
    assert meta["extra"]["training"]["mode"] == "lp-ft"
    assert set(meta["extra"]["metrics"]["wise_ft"]["sweep"]) == {"0.0", "0.25", "0.5", "0.75", "1.0"}


def test_eval_frames_reports_the_checkpoints_test_scores(trained, synth_root, tmp_path):
    trainer, result = trained
    outcome = CliRunner().invoke(highlight, ["eval-frames", str(result.checkpoint), str(synth_root), "--split", "test",
                                             "--cache-dir", trainer.config.cache_dir, "--json"])
    assert outcome.exit_code == 0, outcome.output
    report = json.loads(outcome.output)
    assert report["games"] == 1
    assert report["accuracy"] == pytest.approx(result.test.accuracy)
    assert report["confusion"] == result.test.confusion
    assert sum(report["support"].values()) == sum(result.test.support.values())
    table = CliRunner().invoke(highlight, ["eval-frames", str(result.checkpoint), str(synth_root), "--cache-dir",
                                           trainer.config.cache_dir, "-q"])
    assert table.exit_code == 0 and "macro-F1" in table.output


# --- issue 9: training never crashes and never silently ships the zero-shot model -----------------------


def games_covering_every_class(root: Path, count: int) -> list[Path]:
    """``count`` game folders of ``root`` whose labels together hold a goal, a card and a substitution."""
    import itertools

    label_map = load_label_map("highlight")
    games = sorted(p.parent for p in root.rglob("Labels-v2.json"))
    classes = {g: {label_map.class_of(s.label) for s in read_labels(g / "Labels-v2.json")} - {None} for g in games}
    for chosen in itertools.combinations(games, count):
        if set().union(*(classes[g] for g in chosen)) == {"goal", "card", "substitution"}:
            return list(chosen)
    pytest.fail(f"no {count} synthetic games hold every class")


def head_differs_from_zero_shot(checkpoint: Path) -> bool:
    from safetensors.torch import load_file

    saved = load_file(str(checkpoint / "model.safetensors"))
    return not torch.equal(saved["head.weight"], saved["zero_shot.head.weight"])


def test_finding_3_two_games_train_without_a_crash(synth_root, tmp_path):
    """Two games leave no val game, and one epoch at a low rate keeps the train loss above 1: the best
    epoch used to stay unset and WiSE-FT crashed on None."""
    data = tmp_path / "two"
    for game in games_covering_every_class(synth_root, 2):
        shutil.copytree(game, data / game.relative_to(synth_root))
    out = tmp_path / "w" / "two"
    result = CliRunner().invoke(highlight, [
        "train", "--data", str(data), "-o", str(out), "--model", "highlighter-tiny", "--pretrained", "none",
        "--mode", "finetune", "--epochs", "1", "--lr", "1e-5", "--frame-fps", "2",
        "--cache-dir", str(tmp_path.parent / "cache"), "-q"])
    assert result.exit_code == 0, result.output
    meta = json.loads((out / "highlighter.json").read_text())
    assert meta["extra"]["metrics"]["history"][0]["train_loss"] >= 1
    assert meta["extra"]["metrics"]["wise_ft"] == {"alpha": 1.0, "sweep": {}}
    assert head_differs_from_zero_shot(out)


def test_finding_4_empty_val_split_never_ships_the_zero_shot_model(synth_root, tmp_path, caplog):
    games = sorted(p.parent.relative_to(synth_root).as_posix() for p in synth_root.rglob("Labels-v2.json"))
    split = {"train": games[:5], "val": [], "test": games[5:]}
    with caplog.at_level(logging.WARNING):
        result = Trainer(config(synth_root, tmp_path, epochs=2, wise_alpha=None, split_games=split), VIDEO, AUDIO, SMOOTHER).run()
    assert result.wise_alpha == 1.0 and result.wise_sweep == {}
    assert head_differs_from_zero_shot(result.checkpoint)
    assert any("nothing was validated" in record.message for record in caplog.records)


def test_finding_6_resume_never_runs_code_from_the_state_file(synth_root, tmp_path):
    marker = tmp_path / "pwned"

    class Planted:
        def __reduce__(self):
            return (Path.touch, (marker,))

    cfg = config(synth_root, tmp_path, epochs=1, resume=True)
    state_file = Path(cfg.out).with_name("tiny.resume.pt")
    state_file.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"epoch": 0, "history": [], "planted": Planted()}, state_file)
    with pytest.raises(HighlighterError, match="not a resume state") as error:
        Trainer(cfg, VIDEO, AUDIO, SMOOTHER).run()
    assert not marker.exists() and "\n" not in str(error.value)


def test_finding_7_gpus_that_only_emulate_bf16_use_fp16(monkeypatch):
    from highlighter.model import device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: including_emulation)
    assert not device.cuda_has_native_bf16() and device.cuda_autocast_dtype() == torch.float16  # a T4 or V100
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: True)
    assert device.cuda_has_native_bf16() and device.cuda_autocast_dtype() == torch.bfloat16  # an A100 or H100


def test_finding_9_wise_ft_sweep_keeps_the_best_alpha_on_val(synth_root, tmp_path):
    out = tmp_path / "sweep"
    cache = str(tmp_path.parent / "cache")
    result = CliRunner().invoke(highlight, [
        "train", "--data", str(synth_root), "-o", str(out), "--model", "highlighter-tiny", "--pretrained", "none",
        "--mode", "finetune", "--epochs", "2", "--lr", "2e-3", "--frame-fps", "2", "--cache-dir", cache, "-q"])
    assert result.exit_code == 0, result.output
    wise = json.loads((out / "metrics.json").read_text())["wise_ft"]
    best = max(wise["sweep"].values())
    assert wise["alpha"] == max(float(a) for a, score in wise["sweep"].items() if score == best)  # ties: the later
    val = CliRunner().invoke(highlight, ["eval-frames", str(out), str(synth_root), "--split", "val", "--precision", "fp32",
                                         "--cache-dir", cache, "--json", "-q"])
    assert json.loads(val.output)["macro_f1"] == pytest.approx(best, abs=1e-6)  # what was saved is what was chosen
