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
        if speed is None and task.finished_time:  # finished in one step: the mean rate over its time
            speed = task.completed / task.finished_time
        if speed is None:
            return Text(f"-- {self.unit}/s", style="progress.data.speed")
        return Text(f"{speed:,.1f} {self.unit}/s", style="progress.data.speed")


class ElapsedColumn(ProgressColumn):
    """Time spent: ``4.2 s`` under a minute (a short task does not read ``0:00:00``), else ``H:MM:SS``."""

    def render(self, task: Task) -> Text:
        elapsed = task.finished_time if task.finished else task.elapsed
        if elapsed is not None and elapsed < 60:
            return Text(f"{elapsed:.1f} s", style="progress.elapsed")
        return TimeElapsedColumn().render(task)


class LoggedProgress(Progress):
    """A progress display that also reads right in a log: where its console is not a terminal (output piped or
    redirected), each task's final line is printed when it finishes, so the log has every step's heading
    beside its own work; a display with nothing left to show prints no empty line when it stops."""

    def update(self, task_id, **fields) -> None:
        super().update(task_id, **fields)
        self._log_if_finished(task_id)

    def advance(self, task_id, advance: float = 1) -> None:
        super().advance(task_id, advance)
        self._log_if_finished(task_id)

    def _log_if_finished(self, task_id) -> None:
        if self.console.is_terminal or self.disable:
            return
        task = self._tasks.get(task_id)
        if task is not None and task.finished and task.visible:
            self.console.print(self.make_tasks_table([task]))
            super().update(task_id, visible=False)

    def stop(self) -> None:
        """Stop the display; unlike rich's own, without an empty line after it in a log."""
        if self.disable:
            return
        if not any(task.visible for task in self.tasks):
            self.live.transient = True  # nothing to show: not even an empty table
        self.live.stop()


def make_progress(unit: str = "frames", quiet: bool = False, console: Console | None = None) -> Progress:
    """A progress display with count, rate, elapsed time and ETA; disabled when ``quiet``."""
    return LoggedProgress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(unit),
        ElapsedColumn(),
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
