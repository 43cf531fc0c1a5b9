"""The int8 model of a checkpoint, built on first use and cached in the user's cache folder.

An entry is ``<key>.onnx`` and ``<key>.sha256`` (the model file's digest), where the key is the digest of the
recipe, the quantiser's version, the checkpoint's metadata (its classes and normalisation are in the graph) and
its weights' SHA-256 (the one the events file records): a retrained checkpoint gets a new entry. Both files are
written atomically, the model first; an entry whose model does not match its digest (a damaged or interrupted
cache) is rebuilt, never loaded. The user cache rather than the checkpoint folder: hub checkpoints live in the
Hugging Face cache and installed ones may be read-only.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from highlighter.atomic import atomic_write, usual_mode
from highlighter.errors import HighlighterError
from highlighter.model.int8.quantise import RECIPE
from highlighter.model.checkpoint import META_FILE

log = logging.getLogger(__name__)

#: Overrides where cached int8 models go (default ``$XDG_CACHE_HOME/highlighter``, else ``~/.cache/highlighter``).
CACHE_VARIABLE = "HIGHLIGHTER_CACHE"
#: Files are hashed this many bytes at a time.
CHUNK_BYTES = 1 << 24


def cache_dir() -> Path:
    """The folder of cached int8 models."""
    root = os.environ.get(CACHE_VARIABLE) or Path(os.environ.get("XDG_CACHE_HOME") or "~/.cache") / "highlighter"
    return Path(root).expanduser() / "int8"


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in pieces."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def cache_key(folder: Path, weights_sha256: str) -> str:
    """The entry's name: what the int8 model of checkpoint ``folder`` depends on, hashed."""
    try:
        quantiser = version("onnxruntime")
    except PackageNotFoundError:
        quantiser = "none"
    digest = hashlib.sha256(f"{RECIPE}\nonnxruntime {quantiser}\n{weights_sha256}\n".encode())
    digest.update((folder / META_FILE).read_bytes())
    return digest.hexdigest()


def int8_model(folder: Path, weights_sha256: str) -> Path:
    """The int8 ONNX model of checkpoint ``folder`` (whose weights have the digest ``weights_sha256``): the cached
    one where it is intact, else built now (which loads PyTorch and takes a while, once)."""
    key = cache_key(folder, weights_sha256)
    path, digest_path = cache_dir() / f"{key}.onnx", cache_dir() / f"{key}.sha256"
    if path.is_file() and digest_path.is_file():
        if _recorded(digest_path) == file_sha256(path):
            return path
        log.warning("%s: the cached int8 model is damaged; building it again", path)
    else:
        log.warning("%s: building its int8 model once (cached in %s)", folder, cache_dir())
    build(folder, path)
    with atomic_write(digest_path) as handle:
        handle.write(file_sha256(path) + "\n")
    return path


def _recorded(digest_path: Path) -> str:
    """The digest a ``.sha256`` file records (its first line; a damaged file gives something that matches nothing)."""
    with open(digest_path, "rb") as handle:
        return handle.read(65).decode("ascii", "replace").strip()


def build(folder: Path, path: Path) -> Path:
    """Export the checkpoint's scoring graph and quantise it into ``path``, atomically: built in a scratch folder
    beside ``path`` and renamed into place, so a reader (or a concurrent build) never sees half a file."""
    from highlighter.model.int8.export import export_checkpoint
    from highlighter.model.int8.quantise import quantise

    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.stem}."))
    try:
        try:
            int8 = quantise(export_checkpoint(folder, scratch / "fp32.onnx"), scratch / "int8.onnx")
        except (HighlighterError, OSError):  # one-line errors already (a full disk names its file)
            raise
        except Exception as exc:  # the exporter and the quantiser raise what they like (an unsupported tower)
            reason = (str(exc).strip().splitlines() or [""])[0][:200]
            raise HighlighterError(f"{folder}: cannot build its int8 model ({type(exc).__name__}: {reason}); "
                                   "score it with --precision fp32") from None
        os.chmod(int8, usual_mode())
        os.replace(int8, path)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return path
