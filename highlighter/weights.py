"""Where a checkpoint comes from: a local folder, or a name on the Hugging Face Hub.

``hf-hub:ORG/NAME`` (optionally ``@REVISION``) downloads the checkpoint folder's files once into the
Hugging Face cache (``HF_HOME`` / ``HF_HUB_CACHE``) and loads them from there afterwards, also offline
(``HF_HUB_OFFLINE=1``), the same convention open_clip uses for its ``hf-hub:`` model names.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from highlighter import __version__
from highlighter.errors import HighlighterError

HUB_PREFIX = "hf-hub:"
WEIGHTS_FILE = "model.safetensors"
META_FILE = "highlighter.json"
#: The files of a checkpoint folder (see highlighter.model.save_checkpoint).
CHECKPOINT_FILES = (WEIGHTS_FILE, META_FILE, "metrics.json")


def is_hub_name(reference: str | Path) -> bool:
    """True for ``hf-hub:ORG/NAME``."""
    return str(reference).startswith(HUB_PREFIX)


def resolve_checkpoint(reference: str | Path) -> Path:
    """The local checkpoint folder for a folder path or an ``hf-hub:ORG/NAME[@REVISION]`` name."""
    if not is_hub_name(reference):
        return Path(reference)
    repo, _, revision = str(reference)[len(HUB_PREFIX):].partition("@")
    if repo.count("/") != 1 or not all(repo.split("/")):
        raise HighlighterError(f"{reference}: a hub checkpoint is named hf-hub:ORG/NAME (optionally @REVISION)")
    try:
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError
    except ImportError:
        raise HighlighterError("hf-hub: checkpoints need huggingface_hub (pip install huggingface_hub)") from None
    try:
        folder = snapshot_download(repo, revision=revision or None, allow_patterns=list(CHECKPOINT_FILES),
                                   library_name="highlighter", library_version=__version__)
    except (HfHubHTTPError, LocalEntryNotFoundError, OSError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise HighlighterError(f"{reference}: cannot fetch the checkpoint from the Hugging Face Hub, nor find it "
                               f"in the local cache ({reason})") from None
    return Path(folder)


class CheckpointError(HighlighterError):
    """A checkpoint folder is missing, incomplete or does not fit the model it names."""


def read_checkpoint_meta(folder: str | Path) -> dict[str, Any]:
    """The metadata (``highlighter.json``) of a checkpoint folder, with one-line errors for anything missing;
    read without PyTorch (``highlighter.model.read_spec`` makes a ``ClassifierSpec`` of it)."""
    folder = Path(folder)
    meta_path = folder / META_FILE
    if not folder.is_dir():
        raise CheckpointError(f"{folder}: no such checkpoint folder (train one with `highlight train`)")
    if not meta_path.is_file() or not (folder / WEIGHTS_FILE).is_file():
        raise CheckpointError(f"{folder}: not a highlighter checkpoint (needs {META_FILE} and {WEIGHTS_FILE})")
    try:
        meta = json.loads(meta_path.read_text())
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{meta_path}: malformed checkpoint metadata ({exc})") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"{meta_path}: malformed checkpoint metadata (not a JSON object)")
    return meta


def checkpoint_image_size(folder: str | Path) -> int | None:
    """The input size a checkpoint folder's model expects, read without PyTorch (so decoding can start while
    the model loads); None where the metadata cannot say (loading the model then reports why)."""
    try:
        size = read_checkpoint_meta(folder).get("image_size")
    except HighlighterError:
        return None
    return size if isinstance(size, int) and size > 0 else None


def checkpoint_info(reference: str | Path, folder: Path) -> dict[str, Any]:
    """The ``model`` block of the events JSON for a checkpoint: its model name, the ``reference`` as given (a
    folder or hf-hub name) and the SHA-256 of the weights in ``folder`` (the reference resolved). Read
    without PyTorch."""
    name = read_checkpoint_meta(folder).get("model")
    digest = hashlib.sha256()
    with open(folder / WEIGHTS_FILE, "rb") as weights:  # in pieces: the file can be larger than the model in bf16
        while chunk := weights.read(1 << 24):
            digest.update(chunk)
    return {"name": name, "checkpoint": str(reference), "sha256": digest.hexdigest()}
