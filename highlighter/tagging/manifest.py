"""``OUT/manifest.jsonl``: one JSON line per input of a fleet run (status done, partial, skipped or failed, the
error or what was not decoded, frames, timings, the model and its digest), rewritten atomically after every input
so an interrupted run leaves a whole file that the next run resumes from."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Literal

from highlighter.atomic import atomic_write
from highlighter.outputs.result import TagResult

MANIFEST_FILE = "manifest.jsonl"
Status = Literal["done", "partial", "skipped", "failed"]


class Manifest:
    """The records of a folder's inputs, keyed by the input as given (its latest record wins)."""

    def __init__(self, folder: Path, engine: str) -> None:
        self.path = folder / MANIFEST_FILE
        self.engine = engine
        self.records: dict[str, dict] = {}
        if self.path.exists():
            for line in self.path.read_text().splitlines():
                if line.strip():
                    record = json.loads(line)
                    self.records[record["input"]] = record

    def done(self, source: Path, outputs: list[Path], result: TagResult) -> None:
        """Record an input tagged in this run: ``partial`` (with why) where a video of it was decoded only in
        part, else ``done``."""
        reasons = "; ".join(f"{span.partial} (decoded {span.decoded_s:.1f} s)" for span in result.partial)
        model = {key: result.model.get(key) for key in ("name", "checkpoint", "sha256")}
        self._put(source, "partial" if reasons else "done", outputs, reasons or None, result.frames,
                  {"wall_s": round(result.wall_s, 3)}, model)

    def was_partial(self, source: Path) -> bool:
        """Whether the latest record of ``source`` is a partial decode (its outputs exist, yet the next run tags
        it again: a file that was still being written may be whole now)."""
        return self.records.get(str(source), {}).get("status") == "partial"

    def skipped(self, source: Path, outputs: list[Path]) -> None:
        """Record an input whose outputs were complete; frames, timings and model stay those of the run that
        wrote them (where this manifest knows it)."""
        before = self.records.get(str(source), {})
        self._put(source, "skipped", outputs, None, before.get("frames"), before.get("timings"), before.get("model"))

    def failed(self, source: Path, outputs: list[Path], error: str) -> None:
        """Record an input that failed, with its one-line error."""
        self._put(source, "failed", outputs, error, None, None, None)

    def _put(self, source: Path, status: Status, outputs: list[Path], error: str | None, frames: int | None,
             timings: dict | None, model: dict | None) -> None:
        self.records[str(source)] = {
            "input": str(source), "status": status, "error": error, "frames": frames, "timings": timings,
            "model": model, "outputs": [str(p) for p in outputs], "engine": self.engine,
            "recorded_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
        with atomic_write(self.path, durable=False) as handle:
            for record in self.records.values():
                handle.write(json.dumps(record) + "\n")
