"""Per input of a batch run, the files it writes: their names (distinct, inside the output folder), whether
they exist, and writing them."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from rich.progress import Progress

from highlighter.errors import HighlighterError
from highlighter.outputs.events import EVENTS_SUFFIXES
from highlighter.outputs.plot import write_plot
from highlighter.outputs.result import TagResult
from highlighter.outputs.scores import write_scores
from highlighter.outputs.targets import check_scores_suffix, plot_format
from highlighter.review.build import ReviewSettings, report_for_result, report_path
from highlighter.soccernet.files import PREDICTIONS_FILE

OUTPUT_SUFFIX = {**EVENTS_SUFFIXES, "soccernet": f"/{PREDICTIONS_FILE}"}


def plain_name(part: str) -> str:
    """``part`` of a path as a plain file name: an empty one (the root folder's) or one of dots only (the stem
    of ``...mkv``) gets a leading ``_``, so no output name is ``""``, ``.`` or ``..``."""
    return part if part.strip(".") else f"_{part}"


def is_plain_name(name: str) -> bool:
    """True when ``name`` names a file inside a folder: not empty, ``.`` or ``..``, without a separator."""
    return bool(name.strip(".")) and not any(sep and sep in name for sep in (os.sep, os.altsep, "\x00"))


def output_names(sources: list[Path]) -> dict[Path, str]:
    """A distinct file name stem per input: its own name, or, where two inputs share it (``a/match.mkv``,
    ``b/match.mkv``), as many parent folder names as it takes, joined by ``__`` (``a__match``). Names come
    from each input's absolute path with ``.`` and ``..`` resolved (``game/sub/..`` is ``game``; a symbolic
    link keeps its own name), and each part is a plain name (:func:`plain_name`)."""
    absolute = {path: Path(os.path.abspath(path)) for path in sources}
    split = {path: ([plain_name(part) for part in full.parent.parts[1:]],
                    plain_name(full.name if path.is_dir() else full.stem)) for path, full in absolute.items()}

    def stem(path: Path, depth: int) -> str:
        parents, leaf = split[path]
        return "__".join([*parents[len(parents) - depth:], leaf])

    distinct = list({full: path for path, full in absolute.items()}.values())  # the same input twice is one input
    names: dict[Path, str] = {}
    depth = 0
    while any(source not in names for source in sources):  # one count of stems per depth: linear, not quadratic
        counts = Counter(stem(path, depth) for path in distinct)
        for source in sources:
            if source not in names and (counts[stem(source, depth)] == 1 or depth >= len(source.parts)):
                names[source] = stem(source, depth)
        depth += 1
    return names


def output_paths(name: str, out: Path | None, single: bool, fmt: str, scores: Path | None, plot: Path | None,
                 report: bool = False) -> tuple[Path, Path | None, Path | None, Path | None]:
    """Where one input's events, scores, plot and review page go: the given files for a single input (unless
    ``out`` is a folder), else ``OUT/<name>.events.json`` (``OUT/<name>/results_spotting.json`` for SoccerNet)
    with ``OUT/<name>.scores.npz``, ``OUT/<name>.plot.png`` and ``OUT/<name>.report.html`` beside it.

    Every file named after an input is checked to be inside OUT (the working folder without ``-o``), its
    symbolic links resolved: no input name can place an output elsewhere."""
    if single and out is not None and not out.is_dir():
        return _formats_known(out, scores, plot, report_path(out) if report else None)
    folder = out or Path(".")
    if not is_plain_name(name):
        raise HighlighterError(f"{name!r}: not a plain file name, so outputs named after it could land "
                               f"outside {folder}")
    events = Path(f"{folder / name}{OUTPUT_SUFFIX[fmt]}")
    planned = (events, scores and folder / f"{name}.scores{scores.suffix or '.npz'}",
               plot and folder / f"{name}.plot{plot.suffix or '.png'}", report_path(events) if report else None)
    inside = folder.resolve()
    for path in planned:
        if path is not None and not (path.parent.resolve() / path.name).is_relative_to(inside):
            raise HighlighterError(f"{path}: would be written outside {folder} ({path.parent} leads elsewhere)")
    return _formats_known(*planned)


def _formats_known(events: Path, scores: Path | None, plot: Path | None, report: Path | None) -> tuple:
    """The planned paths, once the scores and plot suffixes are known to name a format they are written in."""
    if scores is not None:
        check_scores_suffix(scores)
    if plot is not None:
        plot_format(plot)
    return events, scores, plot, report


def write_outputs(result: TagResult, events: Path, fmt: str, scores: Path | None = None, plot: Path | None = None,
                  report: ReviewSettings | None = None, progress: Progress | None = None) -> None:
    """Write one input's events file (in ``fmt``) and, where given, its scores, plot and review page
    (``report``: ``highlighter.review.ReviewSettings``; ``NAME.report.html`` beside the events file)."""
    result.save(events, fmt)
    if scores:
        write_scores(result.curves, result.source, scores, result.fps)
    if plot:
        write_plot(result, plot)
    if report is not None:
        report_for_result(result, events, report, progress)


@dataclass(frozen=True)
class Job:
    """One input (a video or a SoccerNet game folder) and the files its tagging writes."""

    path: Path
    events: Path
    scores: Path | None
    plot: Path | None
    report: Path | None  # the review page

    @property
    def outputs(self) -> list[Path]:
        """Every file this input writes."""
        return [p for p in (self.events, self.scores, self.plot, self.report) if p is not None]

    def named_outputs(self) -> list[tuple[str, Path]]:
        """Every file this input writes, each with what it is (``events``, ``scores``, ``plot``, ``review page``)."""
        named = (("events", self.events), ("scores", self.scores), ("plot", self.plot), ("review page", self.report))
        return [(kind, path) for kind, path in named if path is not None]

    def complete(self) -> bool:
        """True when every output exists (each is written atomically, so one that exists is whole); False
        where one cannot even be looked up (a name too long, a folder not searchable): tagging the input then
        fails it alone, with the OS's reason, and the batch goes on."""
        try:
            return all(path.is_file() for path in self.outputs)
        except OSError:
            return False

    def write(self, result: TagResult, fmt: str, report=None, progress=None) -> None:
        """Write the outputs of ``result`` (``report``: the review page settings, when a page is wanted)."""
        write_outputs(result, self.events, fmt, self.scores, self.plot, report, progress)


def plan_jobs(paths: list[Path], out: Path | None, fmt: str, scores: Path | None = None, plot: Path | None = None,
              report: bool = False) -> list[Job]:
    """A job per input with its output files (see :func:`output_paths`): the given files for
    a single input unless ``out`` is a folder, else distinct ``OUT/NAME.*`` files per input, all inside OUT."""
    names = output_names(paths)
    single = len(paths) == 1
    return [Job(path, *output_paths(names[path], out, single, fmt, scores, plot, report)) for path in paths]
