"""Rich progress bars with rate and ETA, shared by every long-running command."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class RateColumn(ProgressColumn):
    """Items per second, e.g. ``31.2 frames/s``."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        if speed is None:
            return Text(f"-- {self.unit}/s", style="progress.data.speed")
        return Text(f"{speed:,.1f} {self.unit}/s", style="progress.data.speed")


def make_progress(unit: str = "frames", quiet: bool = False, console: Console | None = None) -> Progress:
    """A progress display with count, rate, elapsed time and ETA; disabled when ``quiet``."""
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(unit),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console or Console(stderr=True),
        disable=quiet,
    )


class Tracker:
    """One task on a progress display that may be absent (``progress`` None: every call does nothing), so
    long work reports progress without a branch per call."""

    def __init__(self, progress: Progress | None, description: str, total: float | None) -> None:
        self.progress = progress
        self.task = progress.add_task(description, total=total) if progress is not None else None

    def advance(self, amount: float = 1) -> None:
        """``amount`` more done."""
        if self.task is not None:
            self.progress.advance(self.task, amount)

    def update(self, **fields) -> None:
        """Set the task's fields (``completed``, ``total``, ``description``)."""
        if self.task is not None:
            self.progress.update(self.task, **fields)

    def finish(self, count: float | None = None, remove: bool = False) -> None:
        """Mark the task done (at ``count`` when the total was not known exactly), or take it off."""
        if self.task is None:
            return
        if remove:
            self.progress.remove_task(self.task)
        elif count is not None:
            self.progress.update(self.task, total=count, completed=count)
