"""A fork server for decoding processes that knows nothing of the caller's ``__main__``.

Decoding runs in child processes that can be killed (see :mod:`highlighter.video.watchdog`). They are forked
from a server: a plain ``python -c`` process, started on first use, that imports the decoders once and then
forks a child per job. Starting a child costs a fork (milliseconds), never forks the caller's own threads, and
works however the caller was started: a script without an ``if __name__ == "__main__":`` guard, ``python -``,
``python -c``, the REPL, a Jupyter kernel. (multiprocessing's forkserver and spawn start methods re-import the
caller's main module in every child, which runs an unguarded script again and fails on ``python -``.)

Each job has a lease, a socket pair between the caller and the server: the server writes the child's process id
on it when the child starts and the child's exit code once it has ended and been reaped; the caller shutting
its side down asks the server to kill the child if it still runs. The server and its children run in a
session of their own, so a terminal's Ctrl-C reaches the caller alone, which decides what it means; when the
caller goes away (its end of the control socket closes) the server kills its children and exits.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import json
import os
import pickle
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import traceback

#: What the server imports once, so that each child starts with the decoders loaded.
PRELOAD = ("highlighter.video.backends", "decord")
#: How long ending a job waits for the server to say that the child is gone.
REAP_TIMEOUT_S = 10.0

_PID = struct.Struct("<q")
_EXIT_CODE = struct.Struct("<i")
_LENGTH = struct.Struct("<Q")
_MAX_FDS = 8
_BOOT = ("import json, sys; sys.path[:] = json.loads(sys.argv[1]); "
         "from highlighter.video.forkserver import serve; serve(int(sys.argv[2]))")


def supported() -> bool:
    """Whether the server can run here: it forks, and hands file descriptors over Unix sockets."""
    return hasattr(os, "fork") and hasattr(socket, "send_fds") and bool(sys.executable)


class Lease:
    """One job's child process: its process id, and the way to end it."""

    def __init__(self, channel: socket.socket, pid: int) -> None:
        self.pid = pid
        self._channel = channel
        self._exit_code: int | None = None
        self._ended = False

    def end(self) -> int | None:
        """Kill the child if it still runs and wait until it is gone; its exit code (negative: the signal that
        ended it), or None where the server did not say. Ending twice returns the first answer."""
        if not self._ended:
            self._ended = True
            try:
                self._channel.shutdown(socket.SHUT_WR)
                self._channel.settimeout(REAP_TIMEOUT_S)
                data = _receive_exactly(self._channel, _EXIT_CODE.size)
                self._exit_code = _EXIT_CODE.unpack(data)[0] if data is not None else None
            except OSError:
                pass
            finally:
                self._channel.close()
        return self._exit_code


class ForkServer:
    """The caller's handle on a running server."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", _BOOT, json.dumps([str(p) for p in sys.path]), str(theirs.fileno())],
                pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, start_new_session=True)
        finally:
            theirs.close()
        self._control = ours
        self._lock = threading.Lock()

    def alive(self) -> bool:
        """Whether the server process still runs."""
        return self.process.poll() is None

    def start(self, target: str, payload: bytes, fds: list[int]) -> Lease:
        """Run ``target`` (``"module:function"``) as ``function(*fds, payload)`` in a new child, in this
        process's current folder. The child gets its own copies of ``fds``: close them here."""
        job = pickle.dumps((os.getcwd(), target, payload))
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            with self._lock:
                socket.send_fds(self._control, [_LENGTH.pack(len(job))], [theirs.fileno(), *fds])
                self._control.sendall(job)
        except OSError:
            ours.close()
            raise
        finally:
            theirs.close()
        data = _receive_exactly(ours, _PID.size)
        if data is None:
            ours.close()
            raise OSError("the decoders' fork server ended")
        return Lease(ours, _PID.unpack(data)[0])

    def close(self) -> None:
        """Stop the server (it kills the children it still has) and wait for it."""
        self._control.close()
        try:
            self.process.wait(REAP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def forget(self) -> None:
        """In a forked copy of the caller: drop this copy's end of the control socket, leaving the server to
        the process that started it."""
        self._control.close()


_server: ForkServer | None = None
_server_lock = threading.Lock()


def fork_server() -> ForkServer:
    """This process's server, started on first use (and again if it died)."""
    global _server
    with _server_lock:
        if _server is None or not _server.alive():
            _server = ForkServer()
        return _server


def _shut_down() -> None:
    global _server
    if _server is not None:
        _server.close()
        _server = None


def _after_fork_in_child() -> None:
    global _server, _server_lock
    _server_lock = threading.Lock()  # another thread may have held it at the fork
    if _server is not None:
        _server.forget()
        _server = None


atexit.register(_shut_down)
os.register_at_fork(after_in_child=_after_fork_in_child)


# --- the server's side ----------------------------------------------------------------------------------------


def serve(control_fd: int) -> None:
    """The server's loop: fork a child per job received on ``control_fd``, report each child's end on its
    lease, kill a child whose lease the caller shuts down; at the caller's end, kill the children and return."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # an interrupt is the caller's to handle
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:  # the child that needs it reports the failure
            pass
    control = socket.socket(fileno=control_fd)
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_read, False)
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write, warn_on_full_buffer=False)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # a Python handler, so that SIGCHLD wakes the loop up
    leases: dict[int, socket.socket] = {}  # pid -> lease, until the child is reaped
    cancelled: set[int] = set()
    try:
        while True:
            watched = {lease.fileno(): pid for pid, lease in leases.items() if pid not in cancelled}
            ready, _, _ = select.select([control, wake_read, *watched], [], [])
            if wake_read in ready:
                while _drain(wake_read):
                    pass
            _reap(leases, cancelled)
            for fd in ready:
                if watched.get(fd) in leases:  # the caller shut its side down: the job is over
                    os.kill(watched[fd], signal.SIGKILL)  # not reaped yet, so the pid is still this child's
                    cancelled.add(watched[fd])
            if control in ready:
                job = _receive_job(control)
                if job is None:
                    return
                _fork(job, [control.fileno(), wake_read, wake_write], leases)
    finally:
        for pid in leases:
            os.kill(pid, signal.SIGKILL)
        for pid in leases:
            os.waitpid(pid, 0)


def _drain(fd: int) -> bool:
    try:
        return bool(os.read(fd, 512))
    except BlockingIOError:
        return False


def _reap(leases: dict[int, socket.socket], cancelled: set[int]) -> None:
    """Collect the children that ended and send each one's exit code on its lease."""
    for pid in list(leases):
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            lease = leases.pop(pid)
            cancelled.discard(pid)
            try:
                lease.sendall(_EXIT_CODE.pack(os.waitstatus_to_exitcode(status)))
            except OSError:  # the caller is gone
                pass
            lease.close()


def _receive_job(control: socket.socket) -> tuple[socket.socket, list[int], bytes] | None:
    """The next job: its lease, the descriptors for the child, and the pickled (folder, target, payload);
    None once the caller has gone."""
    start, fds, _, _ = socket.recv_fds(control, _LENGTH.size, _MAX_FDS)  # the descriptors come with the first byte
    rest = _receive_exactly(control, _LENGTH.size - len(start)) if start else None
    body = _receive_exactly(control, _LENGTH.unpack(start + rest)[0]) if rest is not None else None
    if body is None or not fds:
        for fd in fds:
            os.close(fd)
        return None
    return socket.socket(fileno=fds[0]), fds[1:], body


def _fork(job: tuple[socket.socket, list[int], bytes], server_fds: list[int], leases: dict[int, socket.socket]) -> None:
    lease, fds, body = job
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 1
        try:
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)  # an interrupt ends it at once, without a traceback
            for fd in server_fds:
                os.close(fd)
            for other in [lease, *leases.values()]:
                other.close()
            folder, target, payload = pickle.loads(body)
            with contextlib.suppress(OSError):  # a folder since removed: relative paths then fail in the job
                os.chdir(folder)
            module, _, function = target.partition(":")
            getattr(importlib.import_module(module), function)(*fds, payload)
            code = 0
        except Exception:  # a bug: the job's own errors go to its caller through its descriptors
            traceback.print_exc()
        finally:
            os._exit(code)
    for fd in fds:
        os.close(fd)
    try:
        lease.sendall(_PID.pack(pid))
    except OSError:  # the caller is gone; the child is killed when the lease is found shut
        pass
    leases[pid] = lease


def _receive_exactly(channel: socket.socket, size: int) -> bytes | None:
    """``size`` bytes from ``channel``, or None where it ends first."""
    data = bytearray()
    while len(data) < size:
        chunk = channel.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)
