"""Class vocabularies: the 17 SoccerNet-v2 labels and maps from them to the classes a model predicts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from highlighter.config.files import config_dir, read_yaml
from highlighter.errors import ConfigError

#: The SoccerNet-v2 action-spotting labels, in the official evaluator's order (EVENT_DICTIONARY_V2).
SOCCERNET_V2_LABELS = (
    "Penalty", "Kick-off", "Goal", "Substitution", "Offside", "Shots on target", "Shots off target",
    "Clearance", "Ball out of play", "Throw-in", "Foul", "Indirect free-kick", "Direct free-kick",
    "Corner", "Yellow card", "Red card", "Yellow->red card",
)

BUILT_IN_MAPS = ("highlight", "soccernet-v2")
#: the class of every frame that shows none of the mapped events
BACKGROUND = "background"

#: colours of the highlight classes (others take the palette in turn)
CLASS_COLOURS = {"goal": "#1f9d55", "card": "#e3a008", "substitution": "#2b6cb0"}
PALETTE = ("#9f7aea", "#e53e3e", "#319795", "#dd6b20", "#718096")


def class_colour(label: str, classes: list[str]) -> str:
    """The colour of ``label`` in plots and on the review page."""
    if label in CLASS_COLOURS:
        return CLASS_COLOURS[label]
    others = [c for c in classes if c not in CLASS_COLOURS]
    return PALETTE[(others.index(label) if label in others else len(others)) % len(PALETTE)]


@dataclass(frozen=True)
class LabelMap:
    """Event classes, each collecting one or more SoccerNet-v2 labels; other labels are background."""

    name: str
    classes: tuple[str, ...]
    sources: dict[str, str]  # SoccerNet-v2 label -> class

    def class_of(self, label: str) -> str | None:
        """The class of a SoccerNet-v2 label or of a class name; None for a known background label.

        Raises KeyError for a label that is neither.
        """
        if label in self.sources:
            return self.sources[label]
        by_name = {cls.lower(): cls for cls in self.classes}
        if label.lower() in by_name:  # class names, any case ("Card" as SoccerNet's 3-class files write it)
            return by_name[label.lower()]
        if label in SOCCERNET_V2_LABELS:
            return None
        raise KeyError(label)

    def half_events(self, spots: list, half: int, classes: list[str]) -> list[tuple[float, str]]:
        """(time_s, class) of the annotations (``Spot``s) of ``half`` whose class is one of ``classes``
        (labels this map does not know are left out)."""
        events = []
        for spot in spots:
            try:
                cls = self.class_of(spot.label)
            except KeyError:
                continue
            if spot.half == half and cls in classes:
                events.append((spot.position_ms / 1000, cls))
        return events


def load_label_map(name_or_path: str | Path) -> LabelMap:
    """A built-in map (``highlight``, ``soccernet-v2``) from configs/labels/, or a YAML file of
    ``class: [SoccerNet-v2 label, ...]``."""
    if str(name_or_path) in BUILT_IN_MAPS:
        path = config_dir() / "labels" / f"{name_or_path}.yaml"
    else:
        path = Path(name_or_path)
    mapping = read_yaml(path)
    sources: dict[str, str] = {}
    for class_name, labels in mapping.items():
        if not isinstance(labels, list) or not labels:
            raise ConfigError(f"{path}: class {class_name!r} needs a list of SoccerNet-v2 labels")
        for label in labels:
            if label not in SOCCERNET_V2_LABELS:
                raise ConfigError(f"{path}: {label!r} (class {class_name!r}) is not a SoccerNet-v2 label")
            if label in sources:
                raise ConfigError(f"{path}: {label!r} is mapped to both {sources[label]!r} and {class_name!r}")
            sources[label] = str(class_name)
    if not sources:
        raise ConfigError(f"{path}: no classes defined")
    return LabelMap(name=Path(path).stem, classes=tuple(str(c) for c in mapping), sources=sources)
