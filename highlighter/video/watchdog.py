"""Decoding in a child process with a watchdog: a decoder that stops delivering ends in :class:`Stalled`
within the set time, never in a hang.

A thread stuck in a C library (decord spinning on an interlaced transport stream, or its GIL deadlock)
cannot be stopped, so the decoder runs in a child process that can be killed: it sends the samples and,
while it works between them, a sign of life at least every ``HEARTBEAT_S``. When nothing arrives for the
stall timeout the child is killed (no process or thread is left behind) and the caller decides what
follows. Children come from the decoders' fork server (:mod:`highlighter.video.forkserver`), so starting one
costs milliseconds, never forks the threads of the caller and never runs the caller's ``__main__`` again.

The child writes to a pipe: per message a fixed header (kind, time, three sizes), then for a sample the
image's bytes, which the parent reads straight into a new array; the outcome at the end, or the exception
that stopped the decoder, goes pickled.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
import pickle
import select
import struct
import time
from typing import Iterator

import numpy as np

from highlighter.errors import VideoError
from highlighter.video.backends import Backend
from highlighter.video.forkserver import fork_server, supported

#: The child reports progress at most this often while it decodes between samples.
HEARTBEAT_S = 0.5
#: A pipe this large holds a few 720p samples, so the child rarely waits for the parent to read.
PIPE_BYTES = 1 << 20

SAMPLE, ALIVE, DONE, ERROR = range(4)
#: kind, time (s), then a sample's height, width and channels, or a pickled message's length and 1, 1
_HEADER = struct.Struct("<Bd3I")
_CHILD = f"{__name__}:decode_in_child"


class Stalled(Exception):
    """The decoder delivered nothing, not even a sign of progress, for the stall timeout."""


class Died(Exception):
    """The decoding process ended without a word (a crash in C code, or killed from outside)."""


def can_isolate() -> bool:
    """Whether decoding can run in a child process here (the fork server needs a platform that forks)."""
    return supported()


def decode_isolated(backend: Backend, rate: float, keyframes_only: bool,
                    stall_timeout_s: float) -> Iterator[tuple[float, np.ndarray]]:
    """``backend.frames(rate, keyframes_only)`` run in a child process; ``backend.outcome`` is copied back
    when it ends. Raises :class:`Stalled` after ``stall_timeout_s`` without a sample or a sign of life,
    :class:`Died` where the child ends without a word, and re-raises what the child raised."""
    reader, writer = os.pipe()
    try:
        if hasattr(fcntl, "F_SETPIPE_SZ"):  # Linux; elsewhere the pipe keeps its size
            try:
                fcntl.fcntl(writer, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
            except OSError:  # above the system's limit for pipes
                pass
        lease = fork_server().start(_CHILD, pickle.dumps((backend, rate, keyframes_only)), [writer])
    except BaseException:
        os.close(reader)
        raise
    finally:
        os.close(writer)
    incoming = _Receiver(reader)
    reached = 0.0
    try:
        while True:
            if not incoming.wait(stall_timeout_s):
                raise Stalled(f"decoding stalled: {backend.name} delivered no frame for {stall_timeout_s:g} s "
                              f"after {reached:.1f} s")
            message = incoming.receive()
            if message is None:
                raise Died(f"the {backend.name} decoder died (exit code {lease.end()})")
            kind, payload = message
            if kind == SAMPLE:
                reached = payload[0]
                yield payload
            elif kind == DONE:
                backend.outcome = payload
                return
            elif kind == ERROR:
                raise payload
    finally:
        lease.end()
        incoming.close()


class _Receiver:
    """The parent's end of the pipe: waits for a message, then reads it whole."""

    def __init__(self, fd: int) -> None:
        self._pipe = io.FileIO(fd, "r")  # unbuffered: what poll sees is all there is
        self._poll = select.poll()
        self._poll.register(fd, select.POLLIN)

    def wait(self, timeout_s: float) -> bool:
        """Whether a message (or the end of the pipe) arrived within ``timeout_s``."""
        return bool(self._poll.poll(timeout_s * 1000))

    def receive(self) -> tuple[int, object] | None:
        """The next message: (SAMPLE, (time, image)), (ALIVE, None), (DONE, outcome) or (ERROR, exception);
        None where the pipe ends (the child is gone)."""
        header = bytearray(_HEADER.size)
        if not self._fill(memoryview(header)):
            return None
        kind, time_s, *sizes = _HEADER.unpack(header)
        if kind == SAMPLE:
            image = np.empty(sizes, dtype=np.uint8)
            return (kind, (time_s, image)) if self._fill(memoryview(image).cast("B")) else None
        if kind == ALIVE:
            return kind, None
        data = bytearray(sizes[0])
        return (kind, pickle.loads(data)) if self._fill(memoryview(data)) else None

    def _fill(self, view: memoryview) -> bool:
        while len(view):
            count = self._pipe.readinto(view)
            if not count:
                return False
            view = view[count:]
        return True

    def close(self) -> None:
        self._pipe.close()


class _Sender:
    """The child's end of the pipe."""

    def __init__(self, fd: int) -> None:
        self._pipe = io.FileIO(fd, "w")
        self._last = time.monotonic()

    def sample(self, time_s: float, image: np.ndarray) -> None:
        image = np.ascontiguousarray(image, dtype=np.uint8)
        self._write(_HEADER.pack(SAMPLE, time_s, *image.shape), memoryview(image).cast("B"))

    def alive(self) -> None:
        """A sign of life, sent at most every ``HEARTBEAT_S``."""
        if time.monotonic() - self._last > HEARTBEAT_S:
            self._write(_HEADER.pack(ALIVE, 0.0, 0, 0, 0))

    def message(self, kind: int, content: object) -> None:
        data = pickle.dumps(content)
        self._write(_HEADER.pack(kind, 0.0, len(data), 1, 1), memoryview(data))

    def _write(self, header: bytes, body: memoryview = memoryview(b"")) -> None:
        for view in (memoryview(header), body):
            while len(view):
                view = view[self._pipe.write(view):]
        self._last = time.monotonic()


def decode_in_child(fd: int, job: bytes) -> None:
    """The child's side (run by the fork server): decode the pickled (backend, rate, keyframes_only) and send
    each sample, signs of life between them, then the outcome or the exception that stopped the decoder."""
    backend, rate, keyframes_only = pickle.loads(job)
    out = _Sender(fd)
    backend.progress = out.alive
    with contextlib.suppress(BrokenPipeError):  # the parent stopped reading: nothing left to do
        try:
            for time_s, image in backend.frames(rate, keyframes_only):
                out.sample(time_s, image)
            out.message(DONE, backend.outcome)
        except BrokenPipeError:
            raise
        except Exception as exc:  # handed to the parent, which re-raises it
            try:
                out.message(ERROR, exc)
            except BrokenPipeError:
                raise
            except Exception:  # an exception that does not pickle: its message does
                out.message(ERROR, VideoError(f"{backend.path}: {type(exc).__name__}: {exc}"))
