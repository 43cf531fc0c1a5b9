"""Where a checkpoint comes from: a local folder, or a name on the Hugging Face Hub.

``hf-hub:ORG/NAME`` (optionally ``@REVISION``) downloads the checkpoint folder's files once into the
Hugging Face cache (``HF_HOME`` / ``HF_HUB_CACHE``) and loads them from there afterwards, also offline
(``HF_HUB_OFFLINE=1``), the same convention open_clip uses for its ``hf-hub:`` model names.
"""

from __future__ import annotations

import json
from pathlib import Path

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


def checkpoint_image_size(folder: Path) -> int | None:
    """The input size a checkpoint folder's model expects, read from its metadata without loading PyTorch (so
    decoding can start while the model loads); None where the metadata cannot say (loading it then reports
    why)."""
    try:
        size = json.loads((Path(folder) / META_FILE).read_text())["image_size"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return size if isinstance(size, int) and size > 0 else None
