"""The crowd cue, measured: what the audio pass costs, what the synthetic crowd adds to `highlight synth`,
and what the fusion brings to the average-mAP of held-out synthetic games (the ablation).

    python benchmarks/bench_audio.py [--games 12] [--minutes 2] [--epochs 8] [--clip-minutes 10]
                                     [--parts cost,synth,ablation] [--json OUT]

1. Cost: the loudness pass (PyAV decode of the AAC track, 16 kHz mono, RMS per second) on a 720p clip
   with audio, as a ratio to the ffmpeg decode floor of its video (best of 3 each).
2. Synth: one game synthesised whole, and the crowd track's own part (drawing the samples, the WAV, and
   encoding it to AAC as the mux does).
3. Ablation: synthetic games (with crowd tracks) split into train / val / test; the tiny model trained
   from scratch with the fusion (train games fit it, val games choose it); the test games tagged with
   ``--audio off`` and ``--audio auto``; loose and tight average-mAP of each, from one run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

from common import CACHE, decode_floor, machine, make_video


def best_of(runs: int, work) -> float:
    """The shortest wall time of ``runs`` calls of ``work``."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def audio_cost(minutes: float) -> dict:
    """Seconds of the loudness pass and of the video decode floor on a 720p clip with an AAC track."""
    from highlighter.audio.features import read_cue
    from highlighter.config.settings import shipped_settings

    video = make_video(minutes)
    clip = CACHE / f"{video.stem}-aac.mp4"
    if not clip.exists():
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(video), "-f", "lavfi", "-i",
                        f"anoisesrc=d={minutes * 60:g}:c=pink:a=0.1:r=48000", "-map", "0:v", "-map", "1:a",
                        "-c:v", "copy", "-c:a", "aac", "-b:a", "128k", "-ac", "2", str(clip)], check=True)
    floor = best_of(3, lambda: decode_floor(video))
    audio = best_of(3, lambda: read_cue(clip, shipped_settings().audio))
    return {"clip": clip.name, "video_floor_s": round(floor, 2), "audio_pass_s": round(audio, 2),
            "ratio": round(audio / floor, 3)}


def synth_cost(minutes: float) -> dict:
    """Seconds of one synthetic game, and of its crowd tracks' part of that."""
    import numpy as np

    from highlighter.config.settings import SynthSettings, shipped_settings
    from highlighter.synth.audio import crowd_track, load_crowd_stats, write_wav
    from highlighter.synth.game import synthesize
    from highlighter.synth.timeline import draw_half, load_event_stats

    settings = SynthSettings(**{**shipped_settings().synth.__dict__, "games": 1, "minutes": minutes})
    with tempfile.TemporaryDirectory() as scratch:
        whole = best_of(1, lambda: synthesize(Path(scratch) / "games", settings))
        stats, events_stats, rng = load_crowd_stats(), load_event_stats(), np.random.default_rng(0)
        wav, m4a = Path(scratch) / "crowd.wav", Path(scratch) / "crowd.m4a"

        def crowd() -> None:
            for _ in (1, 2):
                events = draw_half(rng, events_stats, minutes * 60, settings.density)
                write_wav(wav, crowd_track(rng, events, minutes * 60, settings.density, stats, -30.0),
                          stats["sample_rate"])
                subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(wav), "-c:a", "aac", "-b:a", "48k", str(m4a)],
                               check=True)

        audio = best_of(1, crowd)
    return {"game_s": round(whole, 2), "crowd_s": round(audio, 2), "share": round(audio / whole, 3),
            "size": settings.size, "minutes_per_half": minutes}


def ablation(games: int, minutes: float, epochs: int, seed: int) -> dict:
    """Loose and tight average-mAP of the held-out games tagged with and without the crowd cue."""
    from highlighter.api import tagger, trainer
    from highlighter.evaluation.spotting import average_map
    from highlighter.labels import load_label_map
    from highlighter.model.classifier import read_spec
    from highlighter.config.settings import SynthSettings
    from highlighter.soccernet.files import LABELS_FILE, read_labels, soccernet_spots
    from highlighter.synth.game import synthesize
    from highlighter.inputs import expand_inputs

    root = CACHE / f"audio-games-{games}x{minutes:g}min-seed{seed}"
    if not root.exists():
        synthesize(root, SynthSettings(games=games, minutes=minutes, seed=seed, size="398x224", density=30.0))
    names = sorted(p.parent.relative_to(root).as_posix() for p in root.rglob(LABELS_FILE))
    test_count = val_count = max(games // 4, 1)  # a val set as large as the test set: it decides each class's fusion
    split = {"test": names[:test_count], "val": names[test_count:test_count + val_count],
             "train": names[test_count + val_count:]}
    out = CACHE / "audio-checkpoint"
    trainer([root], settings=dict(out=str(out), model="highlighter-tiny", pretrained="none", mode="finetune",
                                  lr=2e-3, batch_size=32, frame_fps=2.0, wise_alpha=1.0, epochs=epochs,
                                  split_games=split, seed=seed, fusion=True, cache_dir=str(CACHE / "frames"))).run()
    fusion = read_spec(out).extra.get("fusion")
    label_map = load_label_map("highlight")
    truth = {game: read_labels(root / game / LABELS_FILE) for game in split["test"]}
    scores = {}
    for mode in ("off", "auto"):
        run = tagger(settings={"weights": str(out), "audio": mode, "device": "cpu", "precision": "fp32"})
        predicted = {}
        for game in split["test"]:
            source, halves = expand_inputs([root / game])[0]
            predicted[game] = soccernet_spots(run.tag(source, halves).events)
        scored = {metric: average_map(truth, predicted, label_map, metric) for metric in ("loose", "tight")}
        scores["frames + audio" if mode == "auto" else "frames only"] = {
            **{metric: round(score.average_map, 2) for metric, score in scored.items()},
            "per_class": {metric: {cls: round(ap, 2) for cls, ap in score.per_class.items()}
                          for metric, score in scored.items()}}
    return {"games": {k: len(v) for k, v in split.items()}, "minutes_per_half": minutes, "epochs": epochs,
            "fusion_l2": fusion and fusion["l2"], "val_average_map": fusion and fusion["val_average_map"],
            "test_average_map": scores}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=12)
    parser.add_argument("--minutes", type=float, default=2.0, help="per half")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--clip-minutes", type=float, default=10.0)
    parser.add_argument("--parts", default="cost,synth,ablation", help="comma-separated: cost, synth, ablation")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    report = {"machine": machine()}
    if "cost" in parts:
        report["audio_cost"] = audio_cost(args.clip_minutes)
        print("audio pass:", report["audio_cost"], flush=True)
    if "synth" in parts:
        report["synth_cost"] = synth_cost(args.minutes)
        print("synth:", report["synth_cost"], flush=True)
    if "ablation" in parts:
        report["ablation"] = ablation(args.games, args.minutes, args.epochs, args.seed)
        print("ablation:", json.dumps(report["ablation"], indent=1), flush=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
