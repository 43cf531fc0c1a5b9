"""Where a checkpoint comes from (a local folder, or a name on the Hugging Face Hub), its metadata, checked
as untrusted input (a hub name can be anyone's upload), and its digest.

``hf-hub:ORG/NAME`` (optionally ``@REVISION``) downloads the checkpoint folder's files once into the
Hugging Face cache (``HF_HOME`` / ``HF_HUB_CACHE``) and loads them from there afterwards, also offline
(``HF_HUB_OFFLINE=1``), the same convention open_clip uses for its ``hf-hub:`` model names.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any

from highlighter.version import __version__
from highlighter.errors import ConfigError, HighlighterError
from highlighter.jsonfile import read_json
from highlighter.limits import (
    MAX_CHECKPOINT_META_BYTES,
    MAX_CLASSES,
    MAX_IMAGE_SIZE,
    MAX_LAYERS,
    MAX_WEIGHTS_HEADER_BYTES,
    MAX_WIDTH,
    MIN_IMAGE_SIZE,
)
from highlighter.config.schema import Between, FileRecord, Matches, OneLine, Size, build
from highlighter.provenance import TrainedOn

HUB_PREFIX = "hf-hub:"
WEIGHTS_FILE = "model.safetensors"
META_FILE = "highlighter.json"
#: The files of a checkpoint folder (see highlighter.model.classifier.save_checkpoint).
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
    """A checkpoint folder is missing, incomplete, malformed or does not fit the model it names."""


#: a model name is a label here (the architecture comes from model_config), kept to the characters of open_clip
#: and hub names so it can never be a path or a line break where it is shown
ModelName = Annotated[str, Matches(r"[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}",
                                   "an open_clip model name (letters, digits and . _ - : / @ +)")]
ClassName = Annotated[str, Matches(r"[^\x00-\x1f\x7f]{1,100}", "one line of 1 to 100 characters")]
Side = Annotated[int, Between(MIN_IMAGE_SIZE, MAX_IMAGE_SIZE)]
Width = Annotated[int, Between(1, MAX_WIDTH)]
Depth = Annotated[int, Between(1, MAX_LAYERS)]


@dataclass
class ClassifierSpec(FileRecord):
    """Everything needed to rebuild a classifier and its preprocessing: the checkpoint's ``highlighter.json``,
    and the schema it is checked against when read (with ``ImageTower`` for the architecture)."""

    model: ModelName
    pretrained: OneLine | None
    classes: Annotated[list[ClassName], Size(1, MAX_CLASSES)]
    prompts: dict[str, list[str]]
    model_config: dict[str, Any]  # open_clip's config of the architecture
    image_size: Side
    mean: Annotated[list[Annotated[float, Between(-1e3, 1e3)]], Size(3, 3)]
    std: Annotated[list[Annotated[float, Between(1e-6, 1e3)]], Size(3, 3)]
    extra: dict[str, Any] = field(default_factory=dict)  # label map, training config, metrics, data summary
    trained_on: TrainedOn | None = None  # what it was trained on (None: written before this was recorded)


@dataclass(frozen=True)
class ImageTowerConfig(FileRecord):
    """The sizes in open_clip's ``vision_cfg`` that set what building the image tower costs (open_clip checks
    its other keys as it builds)."""

    image_size: Side | Annotated[list[Side], Size(2, 2)] = 224
    layers: Depth | Annotated[list[Depth], Size(1, 8)] | None = None
    width: Width | None = None
    head_width: Width | None = None
    patch_size: Side | None = None
    mlp_ratio: Annotated[float, Between(0, 64)] | None = None
    attn_pooler_queries: Width | None = None
    attn_pooler_heads: Width | None = None
    timm_model_name: OneLine | None = None


@dataclass(frozen=True)
class ImageTower(FileRecord):
    """The checked part of a checkpoint's ``model_config``: what ``highlighter.model.classifier`` builds the tower from."""

    embed_dim: Width
    vision_cfg: ImageTowerConfig
    quick_gelu: bool = False


def read_spec(folder: str | Path) -> ClassifierSpec:
    """The metadata (``highlighter.json``) of a checkpoint folder, checked field by field against
    ``ClassifierSpec`` (types, bounds, and an architecture that fits its image size), with one-line errors
    for anything missing or malformed; read without PyTorch."""
    folder = Path(folder)
    meta_path = folder / META_FILE
    if not folder.is_dir():
        raise CheckpointError(f"{folder}: no such checkpoint folder (pass one with --weights DIR|hf-hub:ORG/NAME, "
                              "train one with `highlight train`, or tag with --zero-shot and pretrained weights)")
    if not meta_path.is_file() or not (folder / WEIGHTS_FILE).is_file():
        raise CheckpointError(f"{folder}: not a highlighter checkpoint (needs {META_FILE} and {WEIGHTS_FILE})")
    meta = read_json(meta_path, CheckpointError, MAX_CHECKPOINT_META_BYTES)
    try:
        spec = build(ClassifierSpec, meta, str(meta_path))
        tower = build(ImageTower, spec.model_config, str(meta_path), "model_config.")
    except ConfigError as exc:
        raise CheckpointError(str(exc)) from None
    if len(set(spec.classes)) != len(spec.classes):
        raise CheckpointError(f"{meta_path}: classes name a class twice")
    size = tower.vision_cfg.image_size
    if size not in (spec.image_size, [spec.image_size] * 2):
        raise CheckpointError(f"{meta_path}: image_size is {spec.image_size} but model_config.vision_cfg.image_size "
                              f"is {size}")
    return spec


def checkpoint_image_size(folder: str | Path) -> int | None:
    """The input size a checkpoint folder's model expects, read without PyTorch (so decoding can start while
    the model loads); None where the metadata cannot say (loading the model then reports why)."""
    try:
        return read_spec(folder).image_size
    except HighlighterError:
        return None


def weights_file(folder: Path) -> Path:
    """The checkpoint's safetensors file, its header's stated length checked against the file and a bound
    (the safetensors reader would otherwise take a planted length of up to 100 MB as a header to parse)."""
    path = folder / WEIGHTS_FILE
    try:
        with open(path, "rb") as handle:
            stated = int.from_bytes(handle.read(8), "little")
            size = os.fstat(handle.fileno()).st_size
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if not 2 <= stated <= min(MAX_WEIGHTS_HEADER_BYTES, size - 8):
        raise CheckpointError(f"{path}: not a safetensors file (its header would be {stated} bytes of a "
                              f"{size}-byte file)")
    return path


def checkpoint_info(reference: str | Path, folder: Path) -> dict[str, Any]:
    """The ``model`` block of the events JSON for a checkpoint: its model name, the ``reference`` as given (a
    folder or hf-hub name) and the SHA-256 of the weights in ``folder`` (the reference resolved). Read
    without PyTorch."""
    spec = read_spec(folder)
    digest = hashlib.sha256()
    with open(weights_file(folder), "rb") as weights:  # in pieces: the file can be larger than the model in bf16
        while chunk := weights.read(1 << 24):
            digest.update(chunk)
    trained = {"trained_on": asdict(spec.trained_on)} if spec.trained_on is not None else {}
    return {"name": spec.model, "checkpoint": str(reference), "sha256": digest.hexdigest(), **trained}
