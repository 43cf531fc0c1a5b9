"""Atomic file output: a reader never sees a half-written file, an interrupted run leaves none."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import IO, Iterator


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", durable: bool = True, **open_kwargs) -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success rename it over ``path``, on error delete it.

    ``durable`` also flushes the data to disk before the rename (survives a power cut, costs an fsync).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    os.chmod(tmp_name, usual_mode())  # mkstemp makes 0600 files
    try:
        with os.fdopen(fd, mode, **open_kwargs) as handle:
            yield handle
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        name_output(exc, target)
        raise


def name_output(error: BaseException, path: str | os.PathLike) -> None:
    """Give an OSError that names no file ``path`` as its file: a write that fails for a full disk ("No space
    left on device") or a file-size limit then says which output it was."""
    if isinstance(error, OSError) and error.filename is None:
        error.filename = os.fspath(path)


def usual_mode(directory: bool = False) -> int:
    """The permissions a plain ``open`` or ``mkdir`` would give under the current umask."""
    mask = os.umask(0)
    os.umask(mask)
    return (0o777 if directory else 0o666) & ~mask
