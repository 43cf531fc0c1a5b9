"""The quality yardstick: how well events land, measured so that a 5-point change stands out from noise.

    python benchmarks/bench_quality.py [--quick] [--seeds 1,2,3] [--pool 12] [--size 398x224] [--json OUT]

Per seed, the demo's run (6 synthetic games of 2 x 1 min at ``--size`` and 25 fps, split by game as the demo
splits them, the tiny model trained from scratch with the demo's budget, the audio fusion and the spotting head
as `highlight train` fits them) is scored on a pool of held-out games synthesised once with another seed (the same
pool for every seed, so seeds compare like for like). Every spotting variant is scored on the whole pool: loose and
tight average-mAP overall and per class, with the image model's frame metrics on the pool's frames (balanced
accuracy, macro-F1); then the mean and spread over seeds, and how the spread falls with the number of held-out
games (and how many seeds it takes to tell a 5-point change from noise).

Variants: ``frames + smoother`` (`highlight tag --spotting smoother --audio off`), ``+ audio fusion`` (the
checkpoint's fusion, `--spotting smoother`), ``smoother thr 0.1`` (the threshold finding), ``head`` (the
checkpoint's spotting head, `highlight tag`'s default), ``head + audio`` (the same head recipe with the crowd cue
among its inputs, fitted here on the train games and tuned on the val games), and any ``--heads ARCH@FPS`` more.

Games, checkpoints and scores are cached under ``--cache`` (keyed by what makes them); ``--fresh`` trains again;
``--check-determinism`` trains the first seed a second time in its own folder and compares weights and figures.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DENSITY = 30.0  # the demo's
CLASSES = ["background", "goal", "card", "substitution"]
#: A change of this many average-mAP points must stand out from the spread over seeds.
DETECTABLE = 5.0


@dataclass
class SeedRun:
    """One seed's checkpoint and its games (keys: absolute game folders) by split; test is the pool."""

    seed: int
    checkpoint: Path
    split: dict[str, list[str]]
    frame_report: dict


def synthesize_cached(root: Path, games: int, minutes: float, seed: int, size: str) -> list[str]:
    """Game folders (relative to ``root``) of a synthetic set, synthesised once."""
    from highlighter.config.settings import SynthSettings
    from highlighter.soccernet.files import LABELS_FILE
    from highlighter.synth.game import synthesize

    if not (root / ".complete").exists():
        synthesize(root, SynthSettings(games=games, minutes=minutes, seed=seed, size=size, density=DENSITY))
        (root / ".complete").write_text("")
    return sorted(p.parent.relative_to(root).as_posix() for p in root.rglob(LABELS_FILE))


def train_seed(cache: Path, seed: int, size: str, pool_root: Path, pool: list[str], epochs: int, minutes: float,
               fresh: bool, tag: str = "") -> SeedRun:
    """The demo's training run for ``seed`` (its games and split, its budget), its test split the pool."""
    from highlighter.api import trainer
    from highlighter.data.dataset import split_games
    from highlighter.demo import DEMO_TRAINING
    from highlighter.model.checkpoint import read_spec

    demo_root = cache / "games" / size / f"demo-6x{minutes:g}min-seed{seed}"
    demo = synthesize_cached(demo_root, 6, minutes, seed, size)
    if set(demo) & set(pool):
        raise SystemExit(f"game names in both the demo games and the pool: {sorted(set(demo) & set(pool))}")
    demo_split = split_games(demo, (0.7, 0.15, 0.15), seed)  # as the demo splits (the train settings' split)
    split = {"train": demo_split["train"], "val": demo_split["val"], "test": pool}
    out = cache / "checkpoints" / f"{size}-seed{seed}-e{epochs}-{pool_root.name}{tag}"
    meta = out / "highlighter.json"
    if fresh or not meta.exists() or not json.loads(meta.read_text())["extra"].get("complete"):
        trainer([demo_root, pool_root], settings={
            **DEMO_TRAINING, "out": str(out), "epochs": epochs, "seed": seed, "split_games": split,
            "cache_dir": str(cache / "frames"), "fusion": True, "spotting_head": True}).run()
    roots = {**{g: demo_root for g in demo}, **{g: pool_root for g in pool}}
    absolute = {name: [(roots[g] / g).as_posix() for g in games] for name, games in split.items()}
    return SeedRun(seed, out, absolute, read_spec(out).extra["metrics"]["test"])


@dataclass
class Half:
    """One half of one game as every variant sees it."""

    game: str  # absolute folder
    half: int
    times: np.ndarray
    probabilities: np.ndarray
    features: np.ndarray
    levels: np.ndarray | None  # the crowd cue's loudness per second, or None

    def sequence(self, label_map, classes: list[str], audio=None):
        """The half as the head reads it (with its events; the crowd features with ``audio`` settings)."""
        from highlighter.audio.features import AudioCue
        from highlighter.soccernet.files import LABELS_FILE, read_labels
        from highlighter.spotting.head import HeadSequence

        cue = AudioCue(self.levels).features_at(self.times, audio) if audio and self.levels is not None else None
        events = label_map.half_events(read_labels(Path(self.game) / LABELS_FILE), self.half, classes)
        return HeadSequence(self.times, self.features, self.probabilities, cue, events)


def score_halves(run: SeedRun, games: list[str], fps: float, cache: Path) -> list[Half]:
    """Every half of ``games`` scored at ``fps`` with the run's checkpoint, as `highlight tag` scores (cached)."""
    import torch

    from highlighter.audio.features import read_cue
    from highlighter.model.classifier import load_checkpoint
    from highlighter.model.inference import FrameScorer
    from highlighter.model.scoring_loop import score_videos
    from highlighter.config.settings import shipped_settings
    from highlighter.soccernet.games import half_videos
    from highlighter.video import FrameSampler

    settings = shipped_settings()
    video = dataclasses.replace(settings.video, fps=fps)
    digest = hashlib.sha1((run.checkpoint / "model.safetensors").read_bytes()).hexdigest()[:12]
    folder = cache / "scores" / digest
    folder.mkdir(parents=True, exist_ok=True)
    scorer, halves = None, []
    for game in games:
        for half, path in half_videos(Path(game)).items():
            stored = folder / f"{hashlib.sha1(f'{game}|{half}|{fps}'.encode()).hexdigest()[:16]}.npz"
            if not stored.exists():
                if scorer is None:
                    scorer = FrameScorer(load_checkpoint(run.checkpoint), torch.device("cpu"), "fp32", features=True)
                sampler = FrameSampler.from_settings(path, video, scorer.classifier.spec.image_size, 64)
                curves = score_videos({half: sampler}, scorer)[half]
                cue = read_cue(path, settings.audio)
                np.savez(stored, times=curves.times, probabilities=curves.probabilities, features=curves.features,
                         levels=cue.levels if cue is not None else np.zeros(0))
            with np.load(stored) as data:
                halves.append(Half(game, half, data["times"], data["probabilities"], data["features"],
                                   data["levels"] if len(data["levels"]) else None))
    return halves


def spotting(truth: dict, predicted: dict) -> dict[str, float]:
    """Loose and tight average-mAP, overall and per class, of ``predicted`` (SoccerNet spots by game)."""
    from highlighter.evaluation.spotting import average_map
    from highlighter.labels import load_label_map

    label_map = load_label_map("highlight")
    figures = {}
    for metric in ("loose", "tight"):
        score = average_map(truth, predicted, label_map, metric)
        figures[metric] = round(score.average_map, 2)
        figures.update({f"{metric} {cls}": round(ap, 2) for cls, ap in score.per_class.items()})
    return figures


def truth_of(games: list[str]) -> dict:
    """The annotations of ``games`` (absolute folders)."""
    from highlighter.soccernet.files import LABELS_FILE, read_labels

    return {game: read_labels(Path(game) / LABELS_FILE) for game in games}


def events_by_game(halves: list[Half], events_of) -> dict[str, list]:
    """SoccerNet spots by game of ``events_of(half)`` over ``halves``."""
    from highlighter.soccernet.files import soccernet_spots

    predicted: dict[str, list] = {}
    for h in halves:
        predicted.setdefault(h.game, []).extend(soccernet_spots(events_of(h)))
    return predicted


def fit_variant(run: SeedRun, halves: list[Half], fps: float, arch: str, audio: bool):
    """A head of ``arch`` at ``fps`` (the crowd cue among its inputs with ``audio``) fitted on the run's train
    halves and tuned on its val halves, as `highlight train` fits the checkpoint's."""
    from highlighter.labels import load_label_map
    from highlighter.config.settings import shipped_settings
    from highlighter.spotting.fit import fit_head, tune_events
    from highlighter.training.spotting_head import spotting_score
    from highlighter.spotting.head import HeadConfig

    label_map = load_label_map("highlight")
    cue = shipped_settings().audio if audio else None
    foreground = CLASSES[1:]
    config = HeadConfig(arch=arch, seed=run.seed,
                        inputs=("features", "logits", "audio") if audio else ("features", "logits"))
    train = [h.sequence(label_map, foreground, cue) for h in halves if h.game in run.split["train"]]
    val = [(h.game, h.half, h.sequence(label_map, foreground, cue)) for h in halves if h.game in run.split["val"]]
    head = fit_head(train, foreground, fps, config)
    return tune_events(head, val, spotting_score(val, label_map)), cue


def evaluate_seed(run: SeedRun, cache: Path, extra_heads: list[tuple[str, float]]) -> dict[str, dict]:
    """Every variant's figures on the pool for one seed: {variant: {"all": figures, "predicted": spots by game}}."""
    from highlighter.audio.fusion import load_fusion
    from highlighter.labels import load_label_map
    from highlighter.config.settings import shipped_settings
    from highlighter.spotting.smoother import find_events
    from highlighter.spotting.head import read_spotting_head

    settings = shipped_settings()
    label_map = load_label_map("highlight")
    games = run.split["train"] + run.split["val"] + run.split["test"]
    pool = run.split["test"]
    by_fps = {fps: score_halves(run, games, fps, cache) for fps in sorted({1.0} | {f for _, f in extra_heads})}
    test = [h for h in by_fps[1.0] if h.game in pool]
    fusion = load_fusion(dataclasses.replace(settings.tag, weights=str(run.checkpoint), audio="auto"))
    smoother = settings.smoother
    low_threshold = dataclasses.replace(smoother, threshold=0.1)  # the threshold finding: recall against noise

    def fused(h: Half) -> np.ndarray:
        from highlighter.audio.features import AudioCue

        return h.probabilities if h.levels is None else fusion.apply(h.probabilities, h.times, AudioCue(h.levels))

    head = read_spotting_head(run.checkpoint)
    head_audio, cue = fit_variant(run, by_fps[1.0], 1.0, "conv", audio=True)
    predictions = {
        "frames + smoother": events_by_game(test, lambda h: find_events(h.times, h.probabilities, CLASSES, smoother,
                                                                        h.half)),
        "+ audio fusion": events_by_game(test, lambda h: find_events(h.times, fused(h), CLASSES, smoother, h.half)),
        "smoother thr 0.1": events_by_game(test, lambda h: find_events(h.times, h.probabilities, CLASSES,
                                                                       low_threshold, h.half)),
        "head": events_by_game(test, lambda h: head.events(h.sequence(label_map, head.classes), h.half)),
        "head + audio": events_by_game(test, lambda h: head_audio.events(h.sequence(label_map, head.classes, cue),
                                                                         h.half)),
    }
    for arch, fps in extra_heads:
        extra, _ = fit_variant(run, by_fps[fps], fps, arch, audio=False)
        chosen = [h for h in by_fps[fps] if h.game in pool]
        predictions[f"head {arch} {fps:g} fps"] = events_by_game(
            chosen, lambda h, extra=extra: extra.events(h.sequence(label_map, extra.classes), h.half))
    truth = truth_of(pool)
    return {name: {"all": spotting(truth, predicted),
                   "predicted": {g: [(s.half, s.position_ms, s.label, round(s.confidence, 4))
                                     for s in predicted.get(g, [])] for g in pool}}
            for name, predicted in predictions.items()}


def spread_by_pool_size(per_seed: list[dict], variant: str, pool: list[str], sizes: list[int],
                        draws: int = 30) -> dict[int, dict[str, float]]:
    """How the spread over seeds of ``variant``'s figures falls with the number of held-out games: for each size
    k, random k-game subsets of the pool (the same games for every seed), the RMS over subsets of the SD across
    seeds."""
    from highlighter.soccernet.files import Spot

    truth = truth_of(pool)
    rng = np.random.default_rng(0)
    out = {}
    for k in sizes:
        subsets = [pool] if k >= len(pool) else [list(rng.choice(pool, k, replace=False)) for _ in range(draws)]
        sds: dict[str, list[float]] = {"loose": [], "tight": []}
        for games in subsets:
            figures = [spotting({g: truth[g] for g in games},
                                {g: [Spot(h, p, label, confidence=c) for h, p, label, c in result[variant]["predicted"][g]]
                                 for g in games}) for result in per_seed]
            for metric in sds:
                sds[metric].append(float(np.std([f[metric] for f in figures], ddof=1)))
        out[k] = {metric: round(float(np.sqrt(np.mean(np.square(v)))), 2) for metric, v in sds.items()}
    return out


def seeds_needed(sd: float) -> int:
    """Seeds whose means tell a :data:`DETECTABLE`-point change between two variants from noise (two standard
    errors of the difference of two means: 2 * sd * sqrt(2 / n) <= DETECTABLE)."""
    return max(1, math.ceil(8 * sd ** 2 / DETECTABLE ** 2))


def mean_sd(values: list[float]) -> dict:
    """Mean, sample SD and the values."""
    return {"mean": round(float(np.mean(values)), 2),
            "sd": round(float(np.std(values, ddof=1)), 2) if len(values) > 1 else 0.0, "seeds": values}


def summarise(per_seed: dict[int, dict], frame_reports: dict[int, dict]) -> dict:
    """Mean and SD over seeds of every figure of every variant, and of the frame metrics."""
    variants = list(next(iter(per_seed.values())))
    table = {v: {key: mean_sd([per_seed[s][v]["all"][key] for s in per_seed]) for key in per_seed[
        next(iter(per_seed))][v]["all"]} for v in variants}
    frames = {key: mean_sd([round(r[key], 4) for r in frame_reports.values()])
              for key in ("balanced_accuracy", "macro_f1")}
    return {"spotting": table, "frames": frames}


def print_report(summary: dict, spreads: dict, seeds: list[int], pool: int) -> None:
    """The tables: per variant loose and tight (mean ± SD over seeds, per seed), per class, then the spreads."""
    print(f"\nheld-out pool: {pool} games; seeds {seeds}; figures: mean ± SD over seeds [per seed]")
    print("frame metrics of the image model on the pool's frames: " + ", ".join(
        f"{k} {v['mean']:.3f} ± {v['sd']:.3f} {v['seeds']}" for k, v in summary["frames"].items()))
    table = summary["spotting"]
    width = max(map(len, table)) + 2
    print(f"\n{'variant':<{width}}{'loose':>16}{'tight':>16}   per seed loose / tight")
    for variant, f in table.items():
        print(f"{variant:<{width}}{f['loose']['mean']:>9.1f} ± {f['loose']['sd']:<4.1f}"
              f"{f['tight']['mean']:>9.1f} ± {f['tight']['sd']:<4.1f}  {f['loose']['seeds']} / {f['tight']['seeds']}")
    for metric in ("loose", "tight"):
        print(f"\n{metric} per class (mean ± SD over seeds)")
        print(f"{'variant':<{width}}" + "".join(f"{c:>16}" for c in CLASSES[1:]))
        for variant, f in table.items():
            print(f"{variant:<{width}}" + "".join(f"{f[f'{metric} {c}']['mean']:>9.1f} ± {f[f'{metric} {c}']['sd']:<4.1f}"
                                                  for c in CLASSES[1:]))
    if spreads:
        print(f"\nSD over seeds by held-out games (RMS over random subsets), and seeds to tell a {DETECTABLE:g}-point "
              "change from noise")
        for variant, by_size in spreads.items():
            print(f"  {variant}: " + "; ".join(
                f"{k} games: loose {v['loose']:.1f} ({seeds_needed(v['loose'])} seeds), tight {v['tight']:.1f} "
                f"({seeds_needed(v['tight'])} seeds)" for k, v in by_size.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 seeds and 4 held-out games")
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--pool", type=int, default=12, help="held-out games")
    parser.add_argument("--pool-seed", type=int, default=3000)
    parser.add_argument("--size", default="398x224", help="frame size of the synthetic games (the demo's: 320x180)")
    parser.add_argument("--minutes", type=float, default=1.0, help="per half (the demo's)")
    parser.add_argument("--epochs", type=int, default=10, help="the demo's")
    parser.add_argument("--heads", default="", help="more head variants, ARCH@FPS,... (e.g. gru@1,conv@2)")
    parser.add_argument("--cache", type=Path, default=ROOT / "benchmarks" / ".cache" / "quality")
    parser.add_argument("--fresh", action="store_true", help="train the checkpoints again")
    parser.add_argument("--check-determinism", action="store_true",
                        help="train the first seed a second time in its own folder and compare weights and figures")
    parser.add_argument("--json", type=Path, help="also write every figure here")
    args = parser.parse_args()
    seeds = [int(s) for s in ("1,2" if args.quick else args.seeds).split(",")]
    pool_size = 4 if args.quick else args.pool
    extra_heads = [(spec.split("@")[0], float(spec.split("@")[1])) for spec in args.heads.split(",") if spec]
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    started = time.perf_counter()
    pool_root = args.cache / "games" / args.size / f"pool-{pool_size}x{args.minutes:g}min-seed{args.pool_seed}"
    pool_names = synthesize_cached(pool_root, pool_size, args.minutes, args.pool_seed, args.size)
    per_seed, frame_reports, runs = {}, {}, {}
    for seed in seeds:
        runs[seed] = run = train_seed(args.cache, seed, args.size, pool_root, pool_names, args.epochs, args.minutes,
                                      args.fresh)
        frame_reports[seed] = run.frame_report
        per_seed[seed] = evaluate_seed(run, args.cache, extra_heads)
        print(f"seed {seed}: " + "; ".join(f"{v} {r['all']['loose']:.1f}/{r['all']['tight']:.1f}"
                                           for v, r in per_seed[seed].items()), flush=True)
    summary = summarise(per_seed, frame_reports)
    pool = runs[seeds[0]].split["test"]
    sizes = sorted({1, 2, 4, 8, len(pool)} & set(range(1, len(pool) + 1)))
    spreads = {v: spread_by_pool_size(list(per_seed.values()), v, pool, sizes)
               for v in ("frames + smoother", "+ audio fusion", "head")} if len(seeds) > 1 else {}
    print_report(summary, spreads, seeds, len(pool))
    determinism = None
    if args.check_determinism:
        again = train_seed(args.cache, seeds[0], args.size, pool_root, pool_names, args.epochs, args.minutes, True,
                           "-again")
        repeat = evaluate_seed(again, args.cache, extra_heads)
        digest = [hashlib.sha1((r.checkpoint / "model.safetensors").read_bytes()).hexdigest()
                  for r in (runs[seeds[0]], again)]
        determinism = {"same_weights": digest[0] == digest[1],
                       "same_figures": all(repeat[v]["all"] == per_seed[seeds[0]][v]["all"] for v in repeat),
                       "same_frame_metrics": again.frame_report == runs[seeds[0]].frame_report}
        print(f"\ndeterminism (seed {seeds[0]} trained twice): {determinism}")
    print(f"\nwall time {time.perf_counter() - started:.0f} s")
    if args.json:
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "summary": summary,
                                         "spreads": spreads, "per_seed": per_seed, "determinism": determinism},
                                        indent=1))


if __name__ == "__main__":
    main()
