"""Summarise real SoccerNet-v2 labels into the event-statistics table the synthetic generator reads.

    python scripts/label_stats.py ../shared/data/soccernet-labels -o configs/event_stats.yaml

For each label kept: events per 45-minute half (mean), the share annotated "not shown", and the median
gap in seconds between consecutive events of that label in a half. Also the smallest gap seen between
two highlight events (goal, card, substitution) of one half, 5th percentile.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import yaml

KEPT = ("Goal", "Yellow card", "Red card", "Yellow->red card", "Substitution", "Ball out of play", "Throw-in",
        "Foul", "Indirect free-kick", "Clearance", "Shots on target", "Shots off target", "Corner", "Kick-off",
        "Direct free-kick", "Offside", "Penalty")
HIGHLIGHT = {"Goal", "Yellow card", "Red card", "Yellow->red card", "Substitution"}


def summarise(root: Path) -> dict:
    files = sorted(root.rglob("Labels-v2.json"))
    counts = defaultdict(int)
    unshown = defaultdict(int)
    gaps = defaultdict(list)
    highlight_gaps = []
    for file in files:
        per_half = defaultdict(list)
        for annotation in json.loads(file.read_text())["annotations"]:
            half = int(annotation["gameTime"][0])
            seconds = int(annotation["position"]) / 1000
            per_half[(half, annotation["label"])].append(seconds)
            per_half[(half, "*highlight")].append(seconds) if annotation["label"] in HIGHLIGHT else None
            counts[annotation["label"]] += 1
            unshown[annotation["label"]] += annotation.get("visibility") == "not shown"
        for (half, label), times in per_half.items():
            steps = np.diff(sorted(times)).tolist()
            (highlight_gaps if label == "*highlight" else gaps[label]).extend(steps)
    halves = 2 * len(files)
    return {
        "source": f"{len(files)} SoccerNet-v2 Labels-v2.json files ({root.name})",
        "highlight_min_gap_s": round(float(np.percentile(highlight_gaps, 5)), 1),
        "labels": {
            label: {
                "per_half": round(counts[label] / halves, 4),
                "not_shown": round(unshown[label] / counts[label], 3),
                "median_gap_s": round(float(np.median(gaps[label])), 1) if gaps[label] else None,
            }
            for label in KEPT if counts[label]
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("root", type=Path)
    parser.add_argument("-o", "--out", type=Path, default=Path("configs/event_stats.yaml"))
    args = parser.parse_args()
    table = summarise(args.root)
    header = "# Made by scripts/label_stats.py from real SoccerNet-v2 labels; read by `highlight synth`.\n"
    args.out.write_text(header + yaml.safe_dump(table, sort_keys=False))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
