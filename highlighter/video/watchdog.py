"""Decoding in a child process with a watchdog: a decoder that stops delivering ends in :class:`Stalled`
within the set time, never in a hang.

A thread stuck in a C library (decord spinning on an interlaced transport stream, or its GIL deadlock)
cannot be stopped, so the decoder runs in a child process that can be killed: it sends the samples and,
while it works between them, a sign of life at least every ``HEARTBEAT_S``. When nothing arrives for the
stall timeout the child is killed (no process or thread is left behind) and the caller decides what
follows. Children come from a fork server (a clean single-threaded process that has imported the
decoders once), so starting one costs milliseconds and never forks the threads of the caller.
"""

from __future__ import annotations

import multiprocessing
import time
from multiprocessing.connection import Connection
from typing import Iterator

import numpy as np

from highlighter.errors import VideoError
from highlighter.video.backends import Backend

#: The child reports progress at most this often while it decodes between samples.
HEARTBEAT_S = 0.5
#: What the fork server imports once, so that each child starts with the decoders loaded.
PRELOAD = ["__main__", "highlighter.video.backends", "decord"]


class Stalled(Exception):
    """The decoder delivered nothing, not even a sign of progress, for the stall timeout."""


class Died(Exception):
    """The decoding process ended without a word (a crash in C code, or killed from outside)."""


def _context() -> multiprocessing.context.BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
        return context
    return multiprocessing.get_context("spawn")


def can_isolate() -> bool:
    """Whether this process may start children (a daemonic process, e.g. a worker of a pool, may not)."""
    return not multiprocessing.current_process().daemon


def decode_isolated(backend: Backend, rate: float, keyframes_only: bool,
                    stall_timeout_s: float) -> Iterator[tuple[float, np.ndarray]]:
    """``backend.frames(rate, keyframes_only)`` run in a child process; ``backend.outcome`` is copied back
    when it ends. Raises :class:`Stalled` after ``stall_timeout_s`` without a sample or a sign of life,
    :class:`Died` where the child ends without a word, and re-raises what the child raised."""
    context = _context()
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_decode_in_child, args=(backend, rate, keyframes_only, sender), daemon=True,
                            name=f"highlighter-{backend.name}")
    child.start()
    sender.close()
    reached = 0.0
    try:
        while True:
            if not receiver.poll(stall_timeout_s):
                raise Stalled(f"decoding stalled: {backend.name} delivered no frame for {stall_timeout_s:g} s "
                              f"after {reached:.1f} s")
            try:
                kind, payload = receiver.recv()
            except EOFError:
                child.join()
                raise Died(f"the {backend.name} decoder died (exit code {child.exitcode})") from None
            if kind == "sample":
                reached = payload[0]
                yield payload
            elif kind == "done":
                backend.outcome = payload
                return
            elif kind == "error":
                raise payload
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receiver.close()


def _decode_in_child(backend: Backend, rate: float, keyframes_only: bool, sender: Connection) -> None:
    """The child's side: send ("sample", (time, image)), ("alive", None), then ("done", outcome) or
    ("error", exception)."""
    last_sent = time.monotonic()

    def alive() -> None:
        nonlocal last_sent
        if time.monotonic() - last_sent > HEARTBEAT_S:
            sender.send(("alive", None))
            last_sent = time.monotonic()

    backend.progress = alive
    try:
        for sample in backend.frames(rate, keyframes_only):
            sender.send(("sample", sample))
            last_sent = time.monotonic()
        sender.send(("done", backend.outcome))
    except Exception as exc:  # handed to the parent, which re-raises it
        try:
            sender.send(("error", exc))
        except Exception:  # an exception that does not pickle: its message does
            sender.send(("error", VideoError(f"{backend.path}: {type(exc).__name__}: {exc}")))
    finally:
        sender.close()
