"""Tagging many inputs: plan each input's outputs, skip those already complete, run the rest on an engine
(``local``: one process, input after input; ``ray``: decoding tasks and scoring actors on a Ray cluster), and
write every result with the same writers, recording each input in ``OUT/manifest.jsonl``."""

from highlighter.fleet.jobs import Job, collect_inputs, plan_jobs
from highlighter.fleet.manifest import MANIFEST_FILE, Manifest
from highlighter.fleet.run import FleetRun, tag_fleet

__all__ = ["Job", "collect_inputs", "plan_jobs", "Manifest", "MANIFEST_FILE", "FleetRun", "tag_fleet"]
