"""Windows of video (a stretch kept whole, with the events it holds), and how much of each video a growing set of
windows covers, asked once per candidate window: the length budget of a reel (`highlight cut --max-duration`) keeps a window only if the union still fits.

Asking by merging the kept windows again for every candidate costs O(n^2 log n) (100k overlapping events ran
past 300 s); this answers each question in O(log n).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from highlighter.outputs.events import Event

#: times this close to a frame boundary count as on it (float noise in seconds * fps)
FRAME_EPSILON = 1e-6


@dataclass(frozen=True)
class Window:
    """A stretch of one video (half None for a single video) kept whole, with the events it holds."""

    half: int | None
    start_s: float
    end_s: float
    events: tuple[Event, ...]

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return self.end_s - self.start_s

    def frames(self, fps: float) -> tuple[int, int]:
        """First and one-past-last frame numbers at ``fps``: from the frame on screen at the start to the
        frame on screen just before the end (so a cut never loses a partly covered frame)."""
        first = math.floor(self.start_s * fps + FRAME_EPSILON)
        return first, max(math.ceil(self.end_s * fps - FRAME_EPSILON), first + 1)


class Coverage:
    """The covered length of the videos as candidate windows are added one by one (``add``), and what one
    would add (``gain``), each in O(log n) time for n candidates, however they overlap.

    The candidates' ends cut each video into elementary spans (laid one video after the other, a zero-length
    span between two); a Fenwick tree holds each span's uncovered length, so a window's gain is a range sum,
    and a pointer from each span to the next uncovered one makes each span covered once.
    """

    def __init__(self, candidates: list[Window]) -> None:
        starts = np.array([w.start_s for w in candidates], dtype=float)
        ends = np.array([w.end_s for w in candidates], dtype=float)
        halves = [w.half for w in candidates]
        first, last = np.zeros(len(candidates), dtype=int), np.zeros(len(candidates), dtype=int)
        lengths: list[float] = []
        for half in set(halves):
            chosen = np.array([h == half for h in halves])
            edges = np.unique(np.concatenate([starts[chosen], ends[chosen]]))
            first[chosen] = len(lengths) + np.searchsorted(edges, starts[chosen])
            last[chosen] = len(lengths) + np.searchsorted(edges, ends[chosen])
            lengths += np.diff(edges).tolist() + [0.0]
        self.first, self.last, self.lengths = first.tolist(), last.tolist(), lengths
        self.tree = [0.0] + lengths  # Fenwick tree, 1-based: entry k + 1 sums spans up to k
        for index in range(1, len(self.tree)):  # built in linear time
            parent = index + (index & -index)
            if parent < len(self.tree):
                self.tree[parent] += self.tree[index]
        self.next_uncovered = list(range(len(lengths) + 1))
        self.covered_s = 0.0

    def gain(self, candidate: int) -> float:
        """Seconds candidate window number ``candidate`` would add to the covered length."""
        return self._prefix(self.last[candidate]) - self._prefix(self.first[candidate])

    def add(self, candidate: int) -> None:
        """Cover candidate window number ``candidate``."""
        span, last = self._find(self.first[candidate]), self.last[candidate]
        while span < last:
            self._update(span, -self.lengths[span])
            self.covered_s += self.lengths[span]
            self.next_uncovered[span] = span + 1
            span = self._find(span + 1)

    def _find(self, span: int) -> int:
        pointers = self.next_uncovered
        root = span
        while pointers[root] != root:
            root = pointers[root]
        while pointers[span] != root:  # path compression
            pointers[span], span = root, pointers[span]
        return root

    def _update(self, span: int, delta: float) -> None:
        tree, index = self.tree, span + 1
        while index < len(tree):
            tree[index] += delta
            index += index & -index

    def _prefix(self, spans: int) -> float:
        """Uncovered length of the first ``spans`` spans."""
        tree, total, index = self.tree, 0.0, spans
        while index > 0:
            total += tree[index]
            index -= index & -index
        return total
