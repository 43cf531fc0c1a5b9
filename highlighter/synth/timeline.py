"""Event timelines for synthetic halves, drawn from the real label statistics in configs/event_stats.yaml."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from highlighter.config.files import config_dir, read_yaml

REAL_HALF_S = 45 * 60
HIGHLIGHT_LABELS = ("Goal", "Yellow card", "Red card", "Yellow->red card", "Substitution")


@dataclass(frozen=True)
class SynthEvent:
    """One annotated event of a synthetic half."""

    time_s: float
    label: str
    visible: bool
    team: str


def load_event_stats() -> dict:
    """The summary table of real SoccerNet-v2 labels (made by scripts/label_stats.py)."""
    return read_yaml(config_dir() / "event_stats.yaml")


def draw_half(rng: np.random.Generator, stats: dict, half_s: float, density: float,
              margin_s: float = 8.0) -> list[SynthEvent]:
    """Events of one half of ``half_s`` seconds: Poisson counts at the real per-half rates scaled to
    the half's length (highlight labels also times ``density``, so short halves still hold goals, cards
    and substitutions), uniform times, real "not shown" shares for background labels; highlight
    events keep the real minimum spacing between them (and ``margin_s`` from the ends, a quarter of a
    half shorter than four margins)."""
    margin_s = min(margin_s, half_s / 4)
    scale = half_s / REAL_HALF_S
    gap = float(stats["highlight_min_gap_s"])
    labels = []
    for label, row in stats["labels"].items():
        rate = row["per_half"] * scale * (density if label in HIGHLIGHT_LABELS else 1.0)
        labels += [label] * int(rng.poisson(rate))
    order = rng.permutation(len(labels))  # no label gets first pick of the free time
    events: list[SynthEvent] = []
    taken: list[float] = []
    for label in (labels[i] for i in order):
        for _attempt in range(50):
            time_s = float(rng.uniform(margin_s, half_s - margin_s))
            if label not in HIGHLIGHT_LABELS or all(abs(time_s - t) >= gap for t in taken):
                break
        else:
            continue  # no room left for another highlight in this half
        if label in HIGHLIGHT_LABELS:
            taken.append(time_s)
        row = stats["labels"][label]
        visible = label in HIGHLIGHT_LABELS or rng.random() >= row["not_shown"]
        events.append(SynthEvent(round(time_s, 3), label, bool(visible), str(rng.choice(["home", "away"]))))
    return sorted(events, key=lambda event: event.time_s)
